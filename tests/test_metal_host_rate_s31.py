"""benchmarks/metal_host_rate.py (docs/methodology.md 5e-metal31): the two-term fit recovers what made the times, the
halves tell a level from a fixed time, and what the session-31 M2 Max rows say (a flat bandwidth level, no rise with
size) against the M2 Pro of 2026-09 and the fit's placement of their largest file."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import metal_host_rate  # noqa: E402

B3 = ROOT / "benchmarks" / "published" / "unseen_s31_b3_metal.yaml"
WEAK = ROOT / "benchmarks" / "published" / "llamabench_weak.yaml"


def _row(host, streamed, layers, k, layer_s):
    return {"host": host, "model": f"m{streamed}", "streamed_s": streamed, "measured_s": k * streamed + layer_s * layers,
            "layers": layers, "model_layer_s": 136e-6, "error_pct": 0.0}


def test_fit_recovers_the_two_terms():
    pts = [(s, 2.2 * s + 40e-6 * n, n) for s, n in ((0.002, 16), (0.012, 32), (0.05, 64), (0.023, 48))]
    k, c = metal_host_rate.fit(pts)
    assert k == pytest.approx(2.2, rel=1e-9)
    assert c == pytest.approx(40e-6, rel=1e-6)


def test_fit_refuses_rows_that_cannot_separate_the_terms():
    with pytest.raises(ValueError):
        metal_host_rate.fit([(0.01, 0.02, 10), (0.02, 0.04, 20)])  # streamed and layers proportional


def test_halves_tell_a_level_from_a_fixed_time():
    sizes = ((0.002, 16), (0.004, 28), (0.012, 32), (0.025, 48), (0.05, 64), (0.06, 64))
    level = [_row("flat", s, n, 2.0, 0.0) for s, n in sizes]
    fixed = [_row("fixed", s, n, 1.0, 150e-6) for s, n in sizes]
    out = {h["host"]: h for h in metal_host_rate.by_host(level + fixed, 0.9)}
    assert out["flat"]["ratio_small"] == pytest.approx(out["flat"]["ratio_large"])
    assert out["flat"]["implied_share"] == pytest.approx(0.45)
    assert out["fixed"]["ratio_small"] > 1.5 * out["fixed"]["ratio_large"]
    assert out["fixed"]["implied_layer_us"] == pytest.approx(150.0)


@pytest.fixture(scope="module")
def hosts():
    from selfhost_advisor.estimate.speed_factors import _fitted

    share = _fitted("metal").bandwidth
    return {h["host"]: h for h in metal_host_rate.by_host(metal_host_rate.rows([B3, WEAK]), share)}


def test_m2_max_rows_read_a_flat_low_level_not_a_rise_with_size(hosts):
    m2max = hosts["m2 max 30c 32gb (2026)"]
    assert m2max["n"] >= 30
    # memory pressure would make the large half slower per byte; the rows read the same or faster
    assert m2max["ratio_large"] <= 1.02 * m2max["ratio_small"]
    # a level under half the nominal bandwidth where the model streams at the family's share
    assert m2max["implied_share"] < 0.5
    # the M2 Pro of 2026-09 (llmfit, same chip generation, same K-quant files) reads near the family's share
    assert hosts["m2-pro-16c-32gb (2026)"]["implied_share"] > 0.75


def test_the_largest_m2_max_file_fits_on_its_gpu(capsys):
    """qwen3:32b Q4_K_M (the rows' 18.4 GiB file, peak RSS 18.56 GB, -ngl 99) fits the 32 GB M2 Max's macOS 26 working
    set in the fit's output, as the rows ran it: fully offloaded, at the same bytes a second as the 4-8 GB files."""
    from selfhost_advisor.cli import main

    assert main(["fit", "qwen3:32b", "-H", "m2-max-30c-32gb", "--context", "4096", "--json"]) == 0
    opts = {o["quant"]: o for o in json.loads(capsys.readouterr().out)["options"]}
    assert opts["Q4_K_M"]["placement"]["fit"] == "gpu"
