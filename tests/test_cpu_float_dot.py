"""Float weights whose prompt runs the dot kernel once per token and row instead of tinyBLAS (issue 16, session 26
cpu11; data/cpu_kernel_paths.yaml float_dot; docs/methodology.md 4e-cpu15): BF16 on x86 before llamafile's tinyBLAS
had a BF16 case, and F16 / F32 on an ARM build for an i8mm core, which drops llamafile altogether."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.data import load
from selfhost_advisor.estimate import cpu_kernels

from cpukit import cpu_speed

# a Ryzen Embedded V3C48 (Zen 3, AVX2 only) as llama.cpp issue #7182 ran it: 6 threads, DDR5-4800 x 2
V3C48 = "custom:cores=6,clock=3.8GHz,simd=avx2,ram=64GB,bandwidth=76.8GB/s,name=AMD Ryzen Embedded V3C48"
ZEN4 = "custom:cores=16,clock=5.7GHz,simd=avx512,ram=64GB,bandwidth=83.2GB/s,name=AMD Ryzen 9 7950X"


def _bf16(spec: str, day: str) -> float:
    return cpu_kernels.prefill_type_rates(parse_custom_cpu(f"{spec},build_date={day}"))("BF16")


def test_bf16_before_tinyblas_runs_the_dot_kernel_counted_against_the_timed_iq4_xs():
    # ggml_vec_dot_bf16's __AVX2__ loop: 32 weights in 24 vector slots (4 x: two cvtepu16_epi32 + two slli, a mul, an
    # add) on three ports, 8 cycles; the x86 anchor IQ4_XS: 109 slots a 256-weight superblock, timed at 0.172
    # weights per vector FLOP on the development VM (speed.yaml cpu_decode vnni). Two ops a weight, and the avx2
    # prompt scale every dot kernel of a stated-clock AVX2 prompt takes (cpu_matvec's avx2 / vnni ratio).
    ratio = load("speed")["cpu_matvec"]
    scale = float(ratio["avx2"]["weights_per_flop"]) / float(ratio["vnni"]["weights_per_flop"])
    expected = 2 * 0.172 * (109 / 3 / 256) / (8 / 32) * scale
    assert _bf16(V3C48, "2024-05-09") == pytest.approx(expected, rel=1e-3)


def test_bf16_takes_tinyblas_from_the_day_its_case_was_merged():
    fam, _, _ = cpu_kernels.prefill_rates("avx2")
    assert _bf16(V3C48, "2024-12-24") == pytest.approx(fam["BF16"])
    assert _bf16(V3C48, "2024-12-23") < fam["BF16"] / 2  # the dot kernel: no register tile, a widen per weight
    # a probed host (no build date) and a spec without one run the present kernels
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(V3C48))("BF16") == pytest.approx(fam["BF16"])


def test_an_avx512_host_keeps_the_tinyblas_rate_its_unpriced_branch_may_have_run():
    # a build for a core with AVX512_BF16 runs the _mm512_dpbf16_ps branch, which the count does not price, and
    # neither a spec sheet nor the published rows say the flag
    fam, _, _ = cpu_kernels.prefill_rates(cpu_kernels.prefill_isa(parse_custom_cpu(ZEN4)))
    assert _bf16(ZEN4, "2024-12-23") == pytest.approx(fam["BF16"])


def test_the_issue_7182_host_reads_bf16_prompts_slower_than_f16_in_may_2024_and_not_after():
    # llama.cpp #7182 (2024-05-09): "BF16 prompt processing has half the performance compared to F16 and F32";
    # the same tables after BF16 reached tinyBLAS read them alike (#6840's run on the same V3C48: 23.25 vs 23.10)
    old = parse_custom_cpu(V3C48 + ",build_date=2024-05-09")
    new = parse_custom_cpu(V3C48 + ",build_date=2025-01-15")
    assert cpu_speed(old, "mistral:7b", "BF16").prefill_tokens_per_s < 0.5 * cpu_speed(old, "mistral:7b", "F16").prefill_tokens_per_s
    assert cpu_speed(new, "mistral:7b", "BF16").prefill_tokens_per_s == pytest.approx(
        cpu_speed(new, "mistral:7b", "F16").prefill_tokens_per_s, rel=0.1)
    # decode is not this path's: a BF16 mat-vec of either build keeps its rate
    assert cpu_speed(old, "mistral:7b", "BF16").decode_tokens_per_s == pytest.approx(
        cpu_speed(new, "mistral:7b", "BF16").decode_tokens_per_s)


# an Apple M2 Max as ik_llama.cpp discussion #164 ran mainline on it (a native build: i8mm, no SVE)
M2MAX = "custom:cores=8,clock=3.7GHz,simd=neon_i8mm,ram=64GB,bandwidth=409.6GB/s,name=Apple M2 Max"


def test_an_apple_i8mm_build_runs_f16_through_the_dot_kernel_at_its_fmla_chain():
    # ggml-cpu.c undefines GGML_USE_LLAMAFILE under __ARM_FEATURE_MATMUL_INT8, so F16 runs ggml_vec_dot_f16: per 32
    # weights 8 loads and 4 FMLAs into 4 accumulators, each waiting on the FMLA's 4-cycle latency: 4 cycles. The NEON
    # anchor Q5_0 (28 vector slots, 24 loads a 64-weight block: 8 cycles on 4 pipes / 3 loads) runs at vnni's median
    # decode rate x the neon isa_scale (speed.yaml cpu_decode); both take 1/8 cycle a weight, so F16 runs at the anchor's
    # rate, two ops a weight.
    speed = load("speed")["cpu_decode"]
    vnni = sorted(speed["families"]["vnni"]["weights_per_vector_flop"].values())
    median = (vnni[len(vnni) // 2 - 1] + vnni[len(vnni) // 2]) / 2
    anchor = median * float(speed["isa_scale"]["neon"])
    rate = cpu_kernels.prefill_type_rates(parse_custom_cpu(M2MAX))
    assert rate("F16") == pytest.approx(2 * anchor * (8 / 64) / (4 / 32), rel=1e-3)
    # F32: 16 weights a step on the same chain, half the F16 rate
    assert rate("F32") == pytest.approx(rate("F16") / 2)
    # the build date does not matter: the #undef is there from llama.cpp #6710 (2024-04-16) on
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(M2MAX + ",build_date=2024-12-23"))("F16") == rate("F16")


def test_cores_that_keep_llamafile_or_run_sve_loops_keep_the_float_rate():
    float_rate = cpu_kernels.prefill_rates("neon")[2]
    # an Apple build without i8mm (an apple-m1 target, as Homebrew's bottles are) keeps llamafile's NEON tinyBLAS
    m1 = M2MAX.replace("simd=neon_i8mm", "simd=neon")
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(m1))("F16") == pytest.approx(float_rate)
    # a Neoverse core's native build has SVE: ggml_vec_dot_f16's SVE loop, not the NEON one counted
    graviton = M2MAX.replace("name=Apple M2 Max", "name=AWS Graviton4 (Neoverse V2)")
    assert cpu_kernels.prefill_type_rates(parse_custom_cpu(graviton))("F16") == pytest.approx(float_rate)


def test_the_m2_max_f16_prompt_is_slower_than_its_q8_0_prompt_as_measured():
    # ik_llama.cpp #164 mainline column, M2 Max 8 threads, LLaMA-3.1-8B pp512: F16 28.96 t/s, Q8_0 54.54
    m2 = parse_custom_cpu(M2MAX + ",build_date=2024-12-23")
    f16 = cpu_speed(m2, "llama3.1:8b", "F16").prefill_tokens_per_s
    q8 = cpu_speed(m2, "llama3.1:8b", "Q8_0").prefill_tokens_per_s
    assert f16 < 0.7 * q8
