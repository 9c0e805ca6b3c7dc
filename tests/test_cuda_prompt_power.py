"""CUDA prompt estimates across architectures follow the spec sheet alone, and what that leaves (session 30, amp30;
docs/methodology.md 5c-s30a; benchmarks/cuda_prompt_power.py).

The shipped model prices a quantized CUDA prompt as tensor FLOPs at the card's spec int8 rate plus MMQ unpacking and
per-layer work in SM-cycles of its spec boost clock. Two cards whose SMs have the same tensor rate per cycle must then
be estimated in the ratio of SMs x boost clock, whatever their architecture; two cards of one die and SM count in the
ratio of their boost clocks, however their measured speeds differ. The spec figures below are typed from TechPowerUp's
pages (data/gpu_specs.yaml `source`), not read from the code under test.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

_ROW = {"backend": "cuda", "model": "llama2:7b", "quant": "Q4_0", "test": "pp512", "fa": 0, "tokens_per_s": 1000.0,
        "build": "test", "host": "test", "url": "test"}


def _paths() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))


def _predicted(tmp_path: Path, names: list[str], traffic: bool = True) -> list[float]:
    """llama2 7B Q4_0 pp512 (fa 0) predicted on each named card through the held-out scorer; `traffic` False: without
    the MMQ tile-traffic floor (speed_terms.mmq_traffic_off), i.e. the compute terms alone."""
    _paths()
    import cuda_heldout
    from selfhost_advisor.estimate.speed_terms import mmq_traffic_off
    from contextlib import nullcontext

    path = tmp_path / "cards_cuda.yaml"
    path.write_text(yaml.safe_dump({"as_of": "2026-12-07", "rows": [
        dict(_ROW, hardware=n, device_name=n) for n in names]}))
    with nullcontext() if traffic else mmq_traffic_off():
        return [r["predicted"] for r in cuda_heldout.rows(path)]


def test_two_architectures_with_one_tensor_rate_per_sm_cycle_scale_by_sms_times_clock(tmp_path):
    # RTX 3090 (GA102: 82 SMs, 1695 MHz, 284.7 int8 TOPS) and RTX 4090 (AD102: 128 SMs, 2520 MHz, 660.6): both 2048
    # int8 ops per SM-cycle, so every compute term of the estimate scales by SMs x boost clock. With the tile-traffic
    # floor on, the 4090's estimate is its memory's (1008 GB/s against 2.3x the 3090's compute), a smaller ratio.
    gpu_3090, gpu_4090 = 82 * 1695, 128 * 2520
    assert abs(284.7e12 / (gpu_3090 * 1e6) - 660.6e12 / (gpu_4090 * 1e6)) < 25  # the premise: one rate per SM-cycle
    names = ["NVIDIA GeForce RTX 3090", "NVIDIA GeForce RTX 4090"]
    p3090, p4090 = _predicted(tmp_path, names, traffic=False)
    assert abs(p4090 / p3090 - gpu_4090 / gpu_3090) / (gpu_4090 / gpu_3090) < 0.03
    f3090, f4090 = _predicted(tmp_path, names)
    assert f3090 == p3090 and f4090 < p4090


def test_one_die_two_boards_are_estimated_by_their_boost_clocks_not_their_power(tmp_path):
    # RTX 3090 Ti (450 W, 1860 MHz) and RTX A6000 (300 W, 1800 MHz): GA102 with 84 SMs each. The estimate follows the
    # clocks (ratio 1.033); discussion #15013's rows (benchmarks/published/llamabench_cuda.yaml: 6567.49 / 4913.90 t/s)
    # measure 1.34. No per-architecture rate separates them: that is 5c-s30a's finding, the power-limited clock.
    p_ti, p_a6000 = _predicted(tmp_path, ["NVIDIA GeForce RTX 3090 Ti", "NVIDIA RTX A6000"])
    assert abs(p_ti / p_a6000 - 1860 / 1800) < 0.03
    rows = yaml.safe_load((ROOT / "benchmarks" / "published" / "llamabench_cuda.yaml").read_text())["rows"]
    measured = {r["hardware"]: r["tokens_per_s"] for r in rows if r["test"] == "pp512" and r["quant"] == "Q4_0"}
    assert measured["NVIDIA GeForce RTX 3090 Ti"] / measured["NVIDIA RTX A6000"] > 1.25


def test_power_per_sm_ghz_and_die_family_from_a_spec_row():
    _paths()
    import cuda_prompt_power as cpp

    # RTX 3090: 350 W / (82 SMs x 1.695 GHz)
    assert abs(cpp.watts_per_sm_ghz({"tdp_watts": 350, "units": 82, "boost_clock_mhz": 1695.0}) - 2.518) < 0.001
    assert cpp.watts_per_sm_ghz({"tdp_watts": None, "units": 82, "boost_clock_mhz": 1695.0}) is None
    assert cpp.family({"architecture": "Ampere", "chip": "GA100"}) == "Ampere GA100"
    assert cpp.family({"architecture": "Ampere", "chip": "GA102"}) == "Ampere"


def test_spearman_ranks():
    _paths()
    import cuda_prompt_power as cpp

    assert cpp.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert cpp.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert abs(cpp.spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-9
    assert cpp.spearman([1, 2], [2, 1]) is None


def test_the_scorer_reads_only_int8_mmq_prompt_rows_of_turing_and_later():
    _paths()
    import cuda_prompt_power as cpp

    rs = cpp.rows()
    assert rs and all(r["family"] in ("Turing", "Ampere", "Ampere GA100", "Ada Lovelace", "Blackwell 2.0") for r in rs)
    assert not any("@d" in r["test"] or "MXFP4" in r["quant"] or "jetson" in r["hardware"].lower() for r in rs)
    assert not any(r["build_date"] and r["build_date"] < "2024-06" for r in rs)
    cs = cpp.cards(rs)
    assert len({c["profile"] for c in cs}) == len(cs) and sum(c["rows"] for c in cs) == len(rs)
