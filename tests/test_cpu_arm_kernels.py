"""ARM CPU kernels of session 14 (cpuarm2, issue 16): the repacked Q8_0 GEMM (llama.cpp #18096) and its rate, checked on
published rows it was not fitted on (data/cpu_kernel_paths.yaml path_rates; docs/methodology.md 4e-cpu5)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.estimate import cpu_kernels

from cpukit import cpu_speed

M4MAX = "custom:cores=8,clock=4.5GHz,simd=neon_i8mm,ram=64GB,bandwidth=546GB/s"
PI5 = "custom:cores=4,clock=2.4GHz,simd=neon,flops_per_cycle=16,ram=8GB,bandwidth=17GB/s"
# AWS Graviton3E (Neoverse V1): 2.6 GHz, 8 x DDR5-4800 (docs/methodology.md 4e-cpu4)
GRAVITON3E = "custom:cores={t},clock=2.6GHz,simd=neon_i8mm,ram=256GB,bandwidth=307.2GB/s,build_date=2026-04-14"


def test_arm_q8_0_runs_tinyblas_until_its_repack_then_the_repacked_gemm_on_dotprod_and_i8mm_cores():
    # #18096 (opened 2025-12-16) added ggml_gemm_q8_0_4x4_q8_0 (dotprod) and _4x8_ (i8mm) in one change (ggml 02331aac)
    for spec in (M4MAX, PI5):
        fam, _, _ = cpu_kernels.prefill_rates(cpu_kernels.prefill_isa(parse_custom_cpu(spec)))
        before = cpu_kernels.prefill_type_rates(parse_custom_cpu(spec + ",build_date=2025-12-15"))
        after = cpu_kernels.prefill_type_rates(parse_custom_cpu(spec + ",build_date=2025-12-16"))
        now = cpu_kernels.prefill_type_rates(parse_custom_cpu(spec))
        assert before("Q8_0") == pytest.approx(fam["Q8_0"])  # tinyBLAS_Q0_ARM
        assert after("Q8_0") == now("Q8_0") == pytest.approx(cpu_kernels.arm_repack_q8_0_rate())
        assert after("Q8_0") > 2 * before("Q8_0")


def test_x86_q8_0_keeps_tinyblas():
    avx2 = "custom:cores=32,clock=4.5GHz,simd=avx2,ram=64GB,bandwidth=204.8GB/s"
    fam, _, _ = cpu_kernels.prefill_rates(cpu_kernels.prefill_isa(parse_custom_cpu(avx2)))
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(avx2))("Q8_0") == pytest.approx(fam["Q8_0"])


@pytest.mark.parametrize("threads, measured", [(4, 39.50), (8, 79.59), (16, 157.0)])
def test_graviton3e_q8_0_prompt_of_pr_21916_within_20_percent(threads, measured):
    # llama.cpp #21916 (2026-04-14), "NEON (Original)" column, Llama-3.1-8B Q8_0, Graviton3E: rows the repack rate was
    # not fitted on (it was fitted on one M4 Max row of #18096); the shipped model before the rate read 0.46 of them.
    m = parse_custom_cpu(GRAVITON3E.format(t=threads))
    ours = cpu_speed(m, "llama3.1:8b", "Q8_0").prefill_tokens_per_s
    assert ours == pytest.approx(measured, rel=0.20)
