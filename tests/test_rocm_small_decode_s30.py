"""Why small dense models' ROCm decode is not fixed by a larger fixed time per layer (docs/methodology.md 5f-rocm32,
session 30 rocmfix30): the published rows the over-prediction shows on, read through the shipped model's own byte
count (fit_speed's unit-bandwidth feature: the seconds a row's bytes take at the card's spec bandwidth).

Two rows of one card, build and backend whose models have the SAME number of layers pay the same fixed per-layer
time under any per-layer law, so their time difference over their byte-time difference is the bandwidth share the
pair implies; above 1 no per-layer (or per-token) constant can reconcile them. The rows are held out (in no fit)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PUB = ROOT / "benchmarks" / "published"


def _fit_speed():
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    return fit_speed


def _rows(name: str, hardware: str) -> dict:
    """{model id: row} of a published file's decode rows of one card."""
    fs = _fit_speed()
    return {r.model_id: r for r in fs.published_rows(PUB / name) if r.hardware == hardware and r.kind == fs.DECODE}


def _pair_share(small, big) -> float:
    """Bandwidth share implied by two rows: byte-time difference at spec bandwidth over measured time difference."""
    fs = _fit_speed()
    db = fs._unit_seconds(big, "bandwidth") - fs._unit_seconds(small, "bandwidth")
    dt = 1.0 / big.measured - 1.0 / small.measured
    return db / dt


def _layers(row) -> int:
    from selfhost_advisor.catalog.models import get

    return get(row.model_id).n_layers


def test_issue_26663_hip_pairs_of_equal_layers_read_above_spec_bandwidth():
    """llama.cpp issue #26663 (a Vulkan bug report; the HIP rows are its Windows 11 comparison, b10298): Qwen3 0.6B /
    1.7B (28 layers each) and 4B / 8B (36 each) on one RX 9070 XT. Under HIP each equal-layer pair implies more than
    the card's spec bandwidth (the smaller model carries time that grows neither with bytes nor with layers); the
    same card's Vulkan rows read 0.8-0.9, a normal share."""
    hip = _rows("unseen_s27_b2_rocm.yaml", "rx 9070 xt")
    vk = _rows("unseen_s27_b2_vulkan.yaml", "rx 9070 xt")
    for small, big in (("qwen3:0.6b", "qwen3:1.7b"), ("qwen3:4b", "qwen3:8b")):
        assert _layers(hip[small]) == _layers(hip[big])
        assert _pair_share(hip[small], hip[big]) > 1.0, (small, big)
        assert 0.7 < _pair_share(vk[small], vk[big]) < 1.0, (small, big)


def test_rx9070_windows_hip_4b_8b_pair_reads_the_same():
    """The RX 9070 (non-XT) rows of PR #24386 (Windows 11, HIP SDK 7.2): the same Qwen3 4B / 8B pair, the same
    above-spec share, so the #26663 pair is not one bad run."""
    hip = _rows("llamabench_weak.yaml", "AMD Radeon RX 9070")
    assert _pair_share(hip["qwen3:4b"], hip["qwen3:8b"]) > 1.0


def test_rx6900xt_q4k_carries_time_the_q8_row_of_the_same_model_does_not():
    """g0t4's RX 6900 XT (Linux, early-2025 build, -fa 0): Qwen2.5-Coder 7B Q4_K_M and Q8_0, the same 28 layers. The
    pair implies above-spec bandwidth, so the Q4_K_M row's excess is the type's (its mat-vec on one-wave RDNA 2
    rows), not a time per layer."""
    rows = {(r.model_id, r.quant): r for r in _fit_speed().published_rows(PUB / "unseen_s30_b5_rocm.yaml")
            if r.kind == _fit_speed().DECODE}
    q4, q8 = rows[("qwen2.5-coder:7b", "Q4_K_M")], rows[("qwen2.5-coder:7b", "Q8_0")]
    assert _pair_share(q4, q8) > 1.0


def test_rocm_fixed_time_per_dense_layer_does_not_depend_on_model_width(monkeypatch):
    """The shipped model charges one fixed decode time per dense layer on a card and build, whatever the model's
    width: on the #26663 card the 0.6B and the 8B pay the same per layer (the structure a per-layer fix would
    scale, and why it cannot follow the pairs above)."""
    fs = _fit_speed()
    from selfhost_advisor.estimate import speed_decode

    hip = _rows("unseen_s27_b2_rocm.yaml", "rx 9070 xt")
    per_layer = []
    for mid in ("qwen3:0.6b", "qwen3:8b"):
        row = hip[mid]
        with_fixed = 1.0 / fs.predict(row)
        with monkeypatch.context() as m:
            m.setattr(speed_decode, "layer_seconds", lambda *a, **k: 0.0)
            without = 1.0 / fs.predict(row)
        per_layer.append((with_fixed - without) / _layers(row))
    assert per_layer[0] > 20e-6
    assert per_layer[0] == pytest.approx(per_layer[1], rel=1e-6)
