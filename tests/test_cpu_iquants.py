"""The grid i-quants' CPU kernels (session 15, cpu3, issue 16): timed on the development VM like every other type
(benchmarks/cpu_kernels.py; data/cpu_kernel_paths.yaml measured_rates), where the model had given them the median
type's rate, and checked on published Ryzen 9 7950X rows they were not timed on (docs/methodology.md 4e-cpu6)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.estimate import cpu_kernels

from cpukit import cpu_speed

# Ryzen 9 7950X as benchmarks/published/llamabench_cpu.yaml names it (block cpu3s15zen4): Zen 4, AVX-512 on 256-bit halves
R7950X = ("custom:cores={t},clock=5.7GHz,simd=avx512,ram=64GB,bandwidth=83.2GB/s,cpu_bandwidth=64GB/s,"
          "build_date={d},name=AMD Ryzen 9 7950X")
GRID = ("IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S")


def test_grid_iquant_dot_kernels_are_slower_than_the_median_type_and_the_median_does_not_move():
    rates, median = cpu_kernels.decode_rates("vnni")
    assert median == pytest.approx(0.205, abs=0.002)  # the six types of speed.yaml cpu_decode, as before
    for ty in GRID:
        assert 0.05 < rates[ty] < median  # the codebook lookups cost more per weight than a K-quant's unpack
    neon, neon_median = cpu_kernels.decode_rates("neon")
    assert neon["IQ3_S"] / rates["IQ3_S"] == pytest.approx(neon_median / median)  # scaled like every other type


def test_an_old_build_runs_the_iquant_prompt_through_the_dot_kernel_a_new_one_through_the_tiled_gemm():
    # llama.cpp #27851 (tiled mul_mat, x86) covers the i-quants; before it ggml_vec_dot_* ran per token and row
    zen5 = "custom:cores=16,clock=5.0GHz,simd=avx512,flops_per_cycle=64,ram=64GB,bandwidth=90GB/s,build_date={d}"
    old = cpu_kernels.prefill_type_rates(parse_custom_cpu(zen5.format(d="2025-06-01")))
    new = cpu_kernels.prefill_type_rates(parse_custom_cpu(zen5.format(d="2026-09-01")))
    dot, _ = cpu_kernels.decode_rates("vnni")
    assert old("IQ3_S") == pytest.approx(2 * dot["IQ3_S"])
    assert new("IQ3_S") > 5 * old("IQ3_S")


@pytest.mark.parametrize("quant, test, threads, measured", [
    ("IQ3_S", "pp", 16, 30.20), ("IQ3_S", "tg", 2, 3.71), ("IQ2_XS", "tg", 2, 5.87)])
def test_7950x_iquant_rows_of_ik_llama_164_within_30_percent(quant, test, threads, measured):
    # ik_llama.cpp discussion #164, mainline 14b699ec (2024-12-23), Llama-3.1-8B: held out (session 15 block); the model
    # with the median rate read 2.83 (IQ3_S pp512), 1.93 (IQ3_S tg128) and 1.32 (IQ2_XS tg128) of them
    s = cpu_speed(parse_custom_cpu(R7950X.format(t=threads, d="2024-12-23")), "llama3.1:8b", quant)
    ours = s.prefill_tokens_per_s if test == "pp" else s.decode_tokens_per_s
    assert ours == pytest.approx(measured, rel=0.30)
