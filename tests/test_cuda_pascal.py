"""Pascal decode's fixed time per layer (data/speed.yaml cuda_pascal, docs/methodology.md 5c-s21): measured on a P40,
held out on the GTX 1080 / GTX 1060 / P40 MoE rows, and applied per graph node to MoE and hybrid layers there."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path
from unittest import mock

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate import cuda_path, layer_nodes
from selfhost_advisor.estimate.kernel_path import at_build, gpu_clock_hz
from selfhost_advisor.estimate.speed_factors import efficiency
from selfhost_advisor.estimate.speed_gpu import layer_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))


def _device(name: str):
    return machine_from_profile(hw_names.resolve(name), 1).devices[0]


@pytest.mark.parametrize("name, pascal", [
    ("tesla p40", True), ("gtx 1080", True), ("gtx 1060 6gb", True), ("tesla p100 pcie 16gb", True),
    ("tesla m40 24gb", False), ("tesla v100 pcie 32gb", False), ("quadro rtx 6000", False), ("rtx 3090", False),
    ("rtx 5090", False),
])
def test_the_measured_layer_time_applies_to_pascal_only(name, pascal):
    d = _device(name)
    eff = efficiency("cuda")
    cycles = load("speed")["cuda_pascal"]["layer_cycles"] if pascal else eff.layer_cycles
    want = cycles / gpu_clock_hz(d) + cuda_path.graph_launch_seconds(d)
    assert layer_seconds(eff, d) == pytest.approx(want, rel=1e-9)
    assert cuda_path.per_node_layers(d) is pascal


def test_a_pascal_moe_layer_pays_its_nodes_and_a_dense_layer_does_not():
    """Qwen3-30B-A3B's layer is 36 decode nodes (15 attention + 14 MoE FFN + 7 expert ADDs): 36 / 22 of the dense
    layer's time on Pascal, the fitted time (ratio 1) on an RTX 3090; a dense Llama keeps ratio 1 everywhere."""
    moe, dense = get_model("qwen3:30b-a3b"), get_model("llama2:7b")
    p40, r3090 = _device("tesla p40"), _device("rtx 3090")
    assert layer_nodes.node_ratio(moe, 0, 1, p40) == pytest.approx(36 / 22)
    assert layer_nodes.node_ratio(moe, 0, 1, r3090) == 1.0
    assert layer_nodes.node_ratio(dense, 0, dense.n_layers, p40) == dense.n_layers


def test_the_constant_is_the_median_of_its_seven_p40_rows():
    """Recompute data/speed.yaml cuda_pascal.layer_cycles from the rows it names: per row, (1/measured - 1/the model
    without any fixed layer time) / layers, less the graphs-off launch term, in cycles at the P40's 1531 MHz boost."""
    import moe_accuracy
    import selfhost_advisor.estimate.speed_decode as sd

    launch = load("speed")["cuda_graphs"]["layer_s"]
    cuda = [r for r in moe_accuracy.published_rows(ROOT / "benchmarks/published/llamabench_cuda.yaml")
            if "P40" in r["hardware"] and r["test"].startswith("tg") and r["quant"] not in ("Q2_K", "Q3_K_S")]
    gemma = [r for r in moe_accuracy.published_rows() if r["hardware"] == "tesla p40" and r.get("dense")]
    cycles = []
    for r, date in [(r, r.get("build_date")) for r in cuda] + [(r, r.get("date")) for r in gemma]:
        with at_build(date), mock.patch.object(sd, "layer_seconds", lambda *a, **k: 0.0):
            bare = moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"])
        n = get_model(r["model"]).n_layers
        cycles.append(((1 / r["tokens_per_s"] - 1 / bare) / n - launch) * gpu_clock_hz(r["machine"].devices[0]))
    assert len(cycles) == 7
    assert statistics.median(cycles) == pytest.approx(load("speed")["cuda_pascal"]["layer_cycles"], rel=0.01)


def test_the_held_out_gtx_1080_moe_rows_read_within_a_quarter():
    """PR #27721's GTX 1080 (Windows; never fitted): graphs off (merged builds) and the PR's graphs-on column, 16 MoE
    rows that read +42..+172% before the Pascal time (session 20's blind 101.2% / 77.4% medians)."""
    import moe_accuracy

    rows = [r for r in moe_accuracy.rows() if r["hardware"] == "gtx 1080"]
    assert len(rows) == 16
    assert max(abs(r["error_pct"]) for r in rows) < 25
    assert statistics.median(abs(r["error_pct"]) for r in rows) < 10


def test_fit_qualifies_a_small_model_on_pascal_and_not_on_ampere():
    """speed._decode_caveats: where the fixed time per layer is a quarter of the token or more, a Pascal figure says
    what it was measured on (one Linux P40) and what a Windows host read (the GTX 1080 rows)."""
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate.speed import estimate_speed

    model = get_model("granite3.1-moe:3b")
    n = model.n_layers
    place = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))

    def caveats(name):
        return estimate_speed(model, get_quant("Q4_K_M"), place, machine_from_profile(hw_names.resolve(name), 1)).caveats

    assert any("Pascal" in c and "P40" in c for c in caveats("gtx 1080"))
    assert not any("Pascal" in c for c in caveats("rtx 3090"))
