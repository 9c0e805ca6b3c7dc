"""ARM's repacked prompt GEMMs by issue slots on Apple P-cores (session 23, cpu8; docs/methodology.md 4e-cpu11).

The counts are data (data/cpu_kernel_paths.yaml prompt_gemm arm); these tests check the rule that prices them: the
GEMM runs at the anchor dot kernel's share of its issue bound, the i8mm or dotprod layout by the host's flags, an SMMLA
taking two vector slots, and only on the cores the entry names (other ARM cores and older builds keep their rates)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from selfhost_advisor.catalog.data import load
from selfhost_advisor.domain import CpuInfo, Machine
from selfhost_advisor.estimate import cpu_kernels as ck

ROOT = Path(__file__).resolve().parents[1]


def _host(name: str, flags=("neon", "dotprod", "i8mm"), date: str | None = None) -> Machine:
    return Machine(name=name, devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(400e9),
                   cpu=CpuInfo(name=name, flags=flags), source="probe", cpu_clock_hz=4.0e9, cpu_threads=8,
                   cpu_kernel_date=date)


def _cycles(layout: dict) -> float:
    """Cycles per multiply-add of a counted GEMM layout on arm_pipes, an SMMLA taking smmla_slots vector slots."""
    spec = load("cpu_kernel_paths")["prompt_gemm"]["arm"]
    pipes = load("cpu_kernel_paths")["arm_pipes"]
    vector = layout["vector"] + spec["smmla_slots"] * layout["smmla"]
    return max(vector / pipes["vector"], layout["load"] / pipes["load"]) / layout["macs"]


def test_an_apple_core_prices_the_gemm_by_its_count_against_the_dot_kernel():
    apple = _host("Apple M4 Max")
    spec = load("cpu_kernel_paths")["prompt_gemm"]["arm"]["types"]
    dots = load("cpu_kernel_paths")["decode_dot"]["arm"]["types"]
    dot_rates, _ = ck.decode_rates("neon")
    for ty in ("Q4_K", "Q6_K", "Q4_0", "IQ4_NL"):
        dot_cycles = ck.arm_cycles_per_weight(dots[ty]["slots"])
        # per multiply-add the GEMM and the type's own dot kernel stand in the ratio of their counted cycles
        assert ck.arm_gemm_rate(ty, apple) == pytest.approx(2 * dot_rates[ty] * dot_cycles / _cycles(spec[ty]["i8mm"]))
        # the count puts the repacked GEMM well ahead of running the dot kernel per token (2x and more)
        assert ck.arm_gemm_rate(ty, apple) > 2 * (2 * dot_rates[ty])


def test_the_layout_follows_the_hosts_i8mm_flag():
    spec = load("cpu_kernel_paths")["prompt_gemm"]["arm"]["types"]["Q4_K"]
    i8mm = ck.arm_gemm_rate("Q4_K", _host("Apple M4 Max"))
    dotprod = ck.arm_gemm_rate("Q4_K", _host("Apple M4 Max", flags=("neon", "dotprod")))
    assert i8mm / dotprod == pytest.approx(_cycles(spec["dotprod"]) / _cycles(spec["i8mm"]))
    assert i8mm != dotprod


def test_other_arm_cores_older_builds_and_x86_keep_their_rates():
    rates, _, _ = ck.prefill_rates("neon")
    graviton = _host("AWS Graviton4 (Neoverse V2)")
    assert ck.arm_gemm_rate("Q4_K", graviton) is None
    assert ck.prefill_type_rates(graviton)("Q4_K") == pytest.approx(rates["Q4_K"])
    assert ck.arm_gemm_rate("Q4_K", _host("Apple M4 Max", flags=("avx2", "fma", "avx_vnni"))) is None
    assert ck.arm_gemm_rate("Q5_K", _host("Apple M4 Max")) is None  # not counted: cpu_prefill's rate stays
    # a build before the Q4_K repack (llama.cpp #16739, 2025-10-23) runs the dot kernel per token
    old = _host("Apple M4 Max", date="2025-06-01")
    dot_rates, _ = ck.decode_rates("neon")
    assert ck.prefill_type_rates(old)("Q4_K") == pytest.approx(2 * dot_rates["Q4_K"])
    assert ck.prefill_type_rates(_host("Apple M4 Max", date="2026-02-01"))("Q4_K") == pytest.approx(
        ck.arm_gemm_rate("Q4_K", _host("Apple M4 Max")))


def test_the_m4_max_repacked_q4_k_rows_land_near_their_measurement():
    """llama.cpp #16739 (i8mm) and #17494 (dotprod-only build): Llama-3.1-8B Q4_K_M pp256 on an M4 Max, 8 threads,
    98.37 and 96.09 t/s with the repacked Q4_K GEMM; at cpu_prefill's x86-shaped rates they read 0.58 / 0.60."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cpu_published

    rows = yaml.load((ROOT / "benchmarks" / "published" / "llamabench_cpu.yaml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
    picked = [r for r in rows if str(r["cpu"]).startswith("Apple M4 Max") and r["model"] == "llama3.1:8b"
              and r["quant"] == "Q4_K_M" and r["test"] == "pp256" and r["tokens_per_s"] in (98.37, 96.09)]
    assert len(picked) == 2
    for r in picked:
        assert cpu_published.predict(r, r["clock_ghz"] * 1e9) == pytest.approx(r["tokens_per_s"], rel=0.15)


def _x86(flags) -> Machine:
    return Machine(name="x86 box", devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(100e9),
                   cpu=CpuInfo(name="x86 box", flags=flags), source="probe", cpu_clock_hz=4.0e9, cpu_threads=8,
                   cpu_kernel_date="2024-09-01")


def test_tinyblas_prices_each_types_unpack_against_the_q8_0_it_was_timed_on():
    """x86 tinyBLAS_Q0 runs Q4_0 / Q5_0 through Q8_0's template plus an unpack of each weight block, shared by the
    tile's token columns (data/cpu_kernel_paths.yaml tinyblas_x86): slower than Q8_0, Q5_0 (5-bit) slowest, and less
    so with AVX-512's 4 x 4 tile, whose unpack is shared by twice the columns."""
    avx2 = _x86(("avx2", "fma"))
    avx512 = _x86(("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"))
    assert ck.tinyblas_unpack_factor("Q8_0", avx2) == 1.0
    assert 1.0 > ck.tinyblas_unpack_factor("Q4_0", avx2) > ck.tinyblas_unpack_factor("Q5_0", avx2)
    for ty in ("Q4_0", "Q5_0"):
        assert ck.tinyblas_unpack_factor(ty, avx512) > ck.tinyblas_unpack_factor(ty, avx2)
    t = load("cpu_kernel_paths")["tinyblas_x86"]
    k = t["per_step"] + 2 * t["per_column"] + 4 * 2 * t["per_pair"]["avx2"]  # the AVX2 4 x 2 tile's step for Q8_0
    assert ck.tinyblas_unpack_factor("Q4_0", avx2) == pytest.approx(k / (k + 4 * t["unpack"]["Q4_0"]))
    # the rate the prompt uses on a build whose Q4_0 ran tinyBLAS (before llama.cpp #10446, 2024-12-07)
    rates, median, _ = ck.prefill_rates("avx2")
    assert ck.prefill_type_rates(avx2)("Q4_0") == pytest.approx(rates["Q8_0"] * ck.tinyblas_unpack_factor("Q4_0", avx2))
    assert ck.tinyblas_unpack_factor("Q4_0", _host("Apple M4 Max")) == 1.0  # tinyBLAS_Q0_ARM is another kernel
