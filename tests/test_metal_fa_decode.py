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


def test_builds_before_the_fa_default_pay_the_unfused_attention_share():
    """llama-bench ran without flash attention before llama.cpp PR #15434 (kernel_path.flash_attn_on): the same max()
    at metal_fa_decode.flops_share_without_fa (docs/methodology.md 5e-metal4-s21); today's build keeps the FA share."""
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.estimate.kernel_path import at_build

    rule = load("speed")["metal_fa_decode"]
    assert rule["flops_share_without_fa"] < rule["flops_share"] / 5
    m2u = _device("m2-ultra-192gb")
    with at_build("2024-05"):
        assert fa_decode_excess(m2u, 1e9, 1e-3) == pytest.approx(
            1e9 / (rule["flops_share_without_fa"] * 27.2e12) - 1e-3)
    with at_build("2025-12-01"):
        assert fa_decode_excess(m2u, 1e9, 1e-3) == 0.0  # the FA share: streaming the cache binds
    assert fa_decode_excess(m2u, 1e9, 1e-3) == 0.0


def test_the_unfused_share_reads_the_m2_ultra_and_holds_on_m1_max_and_m3_max():
    """Measured on XiongjieDai's May-2024 M2 Ultra rows (their tg512 -> tg8192 slope); the same table's M1 Max and M3
    Max depth rows (held out) read within 15% at tg4096 / tg8192, where the FA share left them +16..+94%."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import metal_heldout

    rs = metal_heldout.rows(lambda r: r.build_date == "2024-05" and r.test in ("tg4096", "tg8192"))
    held = [r for r in rs if not r["hardware"].startswith("m2-ultra") and not (
        r["hardware"].startswith("m1-max") and r["quant"] == "Q4_K_M")]  # M1 Max K-quant mat-vec: §5e-apple2
    assert len(held) == 8
    for r in held:
        assert abs(r["error_pct"]) < 15, r
    fitted = [r for r in rs if r["hardware"].startswith("m2-ultra")]
    assert len(fitted) == 8 and max(abs(r["error_pct"]) for r in fitted) < 10
