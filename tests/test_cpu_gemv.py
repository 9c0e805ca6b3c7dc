"""ARM decode of repacked Q4_0 / IQ4_NL through repack.cpp's GEMV (session 15, cpu3, issue 16): the GEMV's issue slots
against the type's dot kernel's (data/cpu_kernel_paths.yaml decode_gemv / decode_dot; docs/methodology.md 4e-cpu6,
4e-cpu7), checked on published Apple M4 Pro rows it was not derived from."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.estimate import cpu_kernels

from cpukit import cpu_speed

I8MM = "custom:cores=4,clock=4.5GHz,simd=neon_i8mm,ram=64GB,bandwidth=273GB/s"
DOTPROD = "custom:cores=4,clock=2.4GHz,simd=neon,flops_per_cycle=16,ram=8GB,bandwidth=17GB/s"
X86 = "custom:cores=8,clock=5.0GHz,simd=avx512,ram=64GB,bandwidth=83GB/s"


def test_the_gemv_each_arm_core_runs_by_the_repack_table():
    # repack.cpp ggml_repack_get_optimal_repack_type: Q4_0 -> 4x8 with i8mm, else 4x4 (dotprod); IQ4_NL -> 4x4.
    # Cycles = max(vector slots / 4, loads / 3): the Q4_0 dot kernel 24 / 10 per 64 weights = 12 per 128; the 4x8 GEMV
    # 24 / 10 per 128 = 6, the 4x4 22 / 8 = 5.5; the IQ4_NL dot 26 / 10 per 64 = 13 per 128, its 4x4 GEMV 30 / 8 = 7.5
    assert cpu_kernels.gemv_speedup("Q4_0", parse_custom_cpu(I8MM)) == pytest.approx(12 / 6)
    assert cpu_kernels.gemv_speedup("Q4_0", parse_custom_cpu(DOTPROD)) == pytest.approx(12 / 5.5)
    assert cpu_kernels.gemv_speedup("IQ4_NL", parse_custom_cpu(DOTPROD)) == pytest.approx(13 / 7.5)


def test_no_gemv_before_the_repack_on_x86_or_for_types_not_counted():
    # ARM repacked Q4_0 at load from llama.cpp #9921 (2024-11-08); before, the dot kernel decoded it
    assert cpu_kernels.gemv_speedup("Q4_0", parse_custom_cpu(I8MM + ",build_date=2024-11-01")) == 1.0
    assert cpu_kernels.gemv_speedup("Q4_0", parse_custom_cpu(I8MM + ",build_date=2024-11-08")) == pytest.approx(2.0)
    assert cpu_kernels.gemv_speedup("Q4_0", parse_custom_cpu(X86)) == 1.0  # x86 rates were timed with its repack
    for ty in ("Q4_K", "Q5_K", "Q6_K", "Q8_0", "Q5_0", "F16"):
        assert cpu_kernels.gemv_speedup(ty, parse_custom_cpu(I8MM)) == 1.0


def test_the_gemv_never_makes_decode_slower_and_leaves_other_types_alone():
    new = parse_custom_cpu(I8MM)
    old = parse_custom_cpu(I8MM + ",build_date=2024-11-01")
    assert cpu_speed(new, "llama3.1:8b", "Q4_0").decode_tokens_per_s > 1.3 * cpu_speed(old, "llama3.1:8b", "Q4_0").decode_tokens_per_s
    assert cpu_speed(new, "llama3.1:8b", "Q5_K_M").decode_tokens_per_s == pytest.approx(
        cpu_speed(old, "llama3.1:8b", "Q5_K_M").decode_tokens_per_s)


@pytest.mark.parametrize("threads, measured", [(1, 47.84), (2, 87.31), (4, 157.63)])
def test_m4_pro_q4_0_decode_of_pr_11390_within_25_percent(threads, measured):
    # llama.cpp #11390, max-krasnyansky's "llama.cpp-master" table (6eecde3c, 2025-02-05): Llama 3.2 1B Q4_0 tg64 on
    # the M4 Pro's P-cores (4.5 GHz and 273 GB/s assumed). Held out (session 14 block); the model before the GEMV count
    # read 0.50 / 0.55 / 0.60 of them.
    m = parse_custom_cpu(f"custom:cores={threads},clock=4.5GHz,simd=neon_i8mm,ram=48GB,bandwidth=273GB/s,"
                         "build_date=2025-02-05,name=Apple M4 Pro")
    assert cpu_speed(m, "llama3.2:1b", "Q4_0").decode_tokens_per_s == pytest.approx(measured, rel=0.25)
