"""CUDA prefill's memory-traffic floor (estimate/speed.py mmq_traffic_seconds, docs/methodology.md 5d): MMQ reads each
weight once per 128-token tile and each token's Q8_1 activations once per 128-row tile; the slower of that and the
compute terms binds. Checked against DGX Spark llama-bench rows recorded held out before the floor was written."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate.speed import estimate_speed, mmq_traffic_off, mmq_traffic_seconds, token_work

ROOT = Path(__file__).resolve().parents[1]


def _machine(spec: str):
    p, n, link = parse_spec(spec)
    return machine_from_profile(p, n, 128 * 2**30, link)


def _prefill(model_id: str, quant: str, spec: str, n_ubatch: int = 2048) -> float:
    m = _machine(spec)
    model = get(model_id)
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0, per_device_layers=(model.n_layers,))
    return estimate_speed(model, get_quant(quant), pl, m, n_ubatch=n_ubatch).prefill_tokens_per_s


def test_traffic_is_weight_bytes_plus_a_byte_per_weight_over_the_tile_and_bandwidth():
    """Independent arithmetic from the per-tensor list: sum(bytes + weights) / 128 / bandwidth."""
    d = _machine("dgx spark").devices[0]
    mats = token_work(get("qwen2.5-coder:7b"), get_quant("Q8_0")).layer_matrices
    expected = sum(b + n for layer in mats for ty, n, b in layer) / 128 / d.bandwidth_bytes_per_s
    assert mmq_traffic_seconds(d, mats) == pytest.approx(expected, rel=1e-9)
    assert 1e-4 < expected < 1e-3  # a 7B Q8_0 at 273 GB/s: a few tenths of a millisecond per prompt token


def test_float_weights_and_other_backends_count_no_traffic():
    d = _machine("dgx spark").devices[0]
    f16 = token_work(get("qwen2.5-coder:7b"), get_quant("F16")).layer_matrices
    assert mmq_traffic_seconds(d, f16) == 0.0  # cuBLAS, not MMQ
    metal = _machine("m2-ultra-192gb").devices[0]
    q8 = token_work(get("qwen2.5-coder:7b"), get_quant("Q8_0")).layer_matrices
    assert mmq_traffic_seconds(metal, q8) == 0.0


def test_floor_binds_on_dgx_spark_q8_0_but_not_on_a_discrete_card():
    """GB10 has the highest FLOPS over bandwidth of the CUDA profiles: the floor lowers its Q8_0 prefill; an RTX 4090
    (1 TB/s) keeps the compute figure exactly."""
    with mmq_traffic_off():
        spark_compute = _prefill("qwen2.5-coder:7b", "Q8_0", "dgx spark")
        rtx_compute = _prefill("llama3.1:8b", "Q4_K_M", "rtx 4090", 512)
    assert _prefill("qwen2.5-coder:7b", "Q8_0", "dgx spark") < 0.8 * spark_compute
    assert _prefill("llama3.1:8b", "Q4_K_M", "rtx 4090", 512) == pytest.approx(rtx_compute, rel=1e-12)


def test_held_out_dgx_spark_dense_prefill_within_20_percent():
    """The `spark: true` dense rows (ggml-org's benches/dgx-spark.md at build 2f68ce7cf), recorded before the floor:
    median |error| was 45% (max 68%) without it."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import moe_accuracy

    errs = [abs(r["error_pct"]) for r in moe_accuracy.rows()
            if r["group"] == "dense held out (spark)" and r["kind"] == "prefill"]
    assert len(errs) == 6
    assert statistics.median(errs) < 10.0
    assert max(errs) < 20.0
