"""Metal decode attention at depth: ggml-metal's vec flash attention gives each query head its own threadgroups
(nhptg = 1), so the KV rows pass through the caches once per query head (estimate/metal_path.py fa_decode_excess,
data/speed.yaml metal_fa_decode; docs/methodology.md 5c-s20)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate.metal_path import fa_decode_excess

ROOT = Path(__file__).resolve().parents[1]


def _device(name: str):
    return machine_from_profile(hw_names.resolve(name), 1).devices[0]


def test_the_cache_reads_bind_only_beyond_streaming_and_only_on_metal():
    """max(0, FLOPs / (share x FP16 peak) - KV seconds): 0 where streaming the cache is slower (an MHA model's few
    FLOPs per byte), 0 off Metal and without attention."""
    m2u = _device("m2-ultra-192gb")
    rate = 0.105 * 27.2e12  # data/speed.yaml metal_fa_decode.flops_share x the M2 Ultra's listed FP16 peak
    assert fa_decode_excess(m2u, 71e9, 2.4e-3) == pytest.approx(71e9 / rate - 2.4e-3)
    assert fa_decode_excess(m2u, 1e9, 2.4e-3) == 0.0
    assert fa_decode_excess(m2u, 0.0, 0.0) == 0.0
    assert fa_decode_excess(_device("rtx 4090"), 71e9, 0.0) == 0.0


def test_held_out_depth_rows_move_toward_their_measurements():
    """Not fitted (the share comes from the depth-16384 / 32768 rows of ggml-org's M2 Ultra file): that file's
    GLM-4.7-Flash tg32 at depth 4096 / 8192 (blind +43.9 / +66.4%) read within 25%, and its gpt-oss / Qwen3-Coder rows
    at depth 8192 within 5%."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import moe_accuracy

    rows = {(r["model"], r["test"]): r for r in moe_accuracy.rows() if r["hardware"] == "m2-ultra-192gb"}
    for test in ("tg32@d4096", "tg32@d8192"):
        assert abs(rows[("glm-4.7-flash:30b", test)]["error_pct"]) < 25
    for model in ("gpt-oss:20b", "gpt-oss:120b", "qwen3-coder:30b"):
        assert abs(rows[(model, "tg32@d8192")]["error_pct"]) < 5
