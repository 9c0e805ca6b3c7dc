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
    """llama-bench ran without flash attention before llama.cpp PR #23714 (2026-05-30; kernel_path.flash_attn_on)
    unless a row states -fa 1: the same max() at metal_fa_decode.flops_share_without_fa (docs/methodology.md
    5e-metal4-s21, 5c-fa32); today's build keeps the FA share."""
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.estimate.kernel_path import at_build, fa_stated

    rule = load("speed")["metal_fa_decode"]
    assert rule["flops_share_without_fa"] < rule["flops_share"] / 5
    m2u = _device("m2-ultra-192gb")
    with at_build("2024-05"):
        assert fa_decode_excess(m2u, 1e9, 1e-3) == pytest.approx(
            1e9 / (rule["flops_share_without_fa"] * 27.2e12) - 1e-3)
    with at_build("2025-12-01"):  # llama-bench's own -fa 0 default still
        assert fa_decode_excess(m2u, 1e9, 1e-3) == pytest.approx(
            1e9 / (rule["flops_share_without_fa"] * 27.2e12) - 1e-3)
        with fa_stated(True):
            assert fa_decode_excess(m2u, 1e9, 1e-3) == 0.0  # the FA share: streaming the cache binds
    with at_build("2026-06-01"):
        assert fa_decode_excess(m2u, 1e9, 1e-3) == 0.0
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


# --- Session 30 (metal30; docs/methodology.md 5e-metal30): a KV head's bytes take at least the byte floor

def _depth_seconds_per_kv_byte(model_id: str, quant: str, shallow: int, deep: int) -> float:
    """The decode seconds the model adds on the M2 Ultra from `shallow` to `deep` cached tokens, per K / V byte."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed import estimate_speed
    from selfhost_advisor.estimate.speed_work import kv_read_by_layer, token_work
    from selfhost_advisor.domain import Placement

    machine = machine_from_profile(hw_names.resolve("m2-ultra-192gb"), 1)
    model, q = get_model(model_id), get_quant(quant)
    placement = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)

    def seconds(depth):
        return 1.0 / estimate_speed(model, q, placement, machine, decode_depth=depth).decode_tokens_per_s

    work = token_work(model, q)
    added = sum(kv_read_by_layer(model, work, deep)) - sum(kv_read_by_layer(model, work, shallow))
    return (seconds(deep) - seconds(shallow)) / added


def test_a_gqa_2_model_pays_per_kv_byte_what_a_gqa_8_model_does():
    """On ggml-org's M2 Ultra file every GQA model with head size 64 / 128 reads its K / V bytes at 0.41-0.48 x the spec
    bandwidth whatever its query heads per KV head (benchmarks/metal_depth_rates.py; Qwen3-Coder-30B GQA 8 and the
    blind Qwen3 0.6B GQA 2 alike), so a GQA-2 model's depth costs per byte about what a GQA-8 model's does. Before the
    byte floor the per-query-head FLOP law left a GQA-2 model at the streaming share (0.93), half the time a byte."""
    gqa2 = _depth_seconds_per_kv_byte("qwen3:0.6b", "Q8_0", 16384, 32768)
    gqa8 = _depth_seconds_per_kv_byte("qwen3-coder:30b", "Q8_0", 16384, 32768)
    assert 0.85 < gqa2 / gqa8 < 1.15
    assert 1.0 / gqa2 < 0.55 * 800e9  # under 0.55 x the M2 Ultra's 800 GB/s, as the rows read


def test_head_size_256_loads_twice_a_pass_and_keeps_the_streaming_share():
    """kernel_flash_attn_ext_vec<..., 256, 256, NE = 1> has each lane load two half4s of a K (and V) row a pass of its
    cache loop, the 64 / 128 instantiations one (ggml-org/ggml d99724f2 ggml-metal.metal, the vec template list), so
    the byte floor halves there: Gemma 3 4B (GQA 2, head 256) adds less per K / V byte than Qwen3 0.6B (GQA 2, head
    128), as the M2 Ultra rows read (0.60-0.69 against 0.42-0.45 x bandwidth)."""
    from selfhost_advisor.estimate.metal_path import vec_loads

    assert vec_loads(128) == vec_loads(64) == 1
    assert vec_loads(256) == 2
    assert vec_loads(80) == 0  # no vec kernel for 80 (ne00 % 32 != 0): no floor
    assert (_depth_seconds_per_kv_byte("gemma3:4b", "Q4_0", 16384, 32768)
            < 0.75 * _depth_seconds_per_kv_byte("qwen3:0.6b", "Q8_0", 16384, 32768))


def test_the_byte_floor_binds_only_with_flash_attention_and_scales_with_the_peak():
    """The floor is the vec kernel's (flash-attention builds); before llama-bench's -fa default the unfused path keeps
    its FLOP law alone. Like flops_share it scales with the chip's FP16 peak (cores x clock): half the peak, twice the
    floor's seconds."""
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.record import replace

    m2u = _device("m2-ultra-192gb")
    kv_bytes = 3.0e9  # a GQA-2 cache: its FLOPs (2 x bytes) leave the FLOP law under streaming
    assert fa_decode_excess(m2u, 2 * kv_bytes, kv_bytes / 740e9) == 0.0  # without the bytes: the old law
    floor = fa_decode_excess(m2u, 2 * kv_bytes, kv_bytes / 740e9, kv_bytes, 128)
    assert floor > 0.5 * kv_bytes / 740e9
    half = replace(m2u, fp16_flops=m2u.fp16_flops / 2)
    assert fa_decode_excess(half, 2 * kv_bytes, 0.0, kv_bytes, 128) == pytest.approx(
        2 * fa_decode_excess(m2u, 2 * kv_bytes, 0.0, kv_bytes, 128))
    # head size 80 (Phi-2): ne00 % 32 != 0, ggml-metal runs its other kernel there: no floor, the FLOP law alone
    assert fa_decode_excess(m2u, 2 * kv_bytes, kv_bytes / 740e9, kv_bytes, 80) == 0.0
    with at_build("2024-05"):
        unfused = fa_decode_excess(m2u, 2 * kv_bytes, kv_bytes / 740e9)
        assert fa_decode_excess(m2u, 2 * kv_bytes, kv_bytes / 740e9, kv_bytes, 128) == unfused


def test_the_blind_qwen3_depth_rows_read_within_10_percent():
    """unseen_s27's M2 Ultra Qwen3 0.6B Q8_0 tg32 at depth 2048 .. 32768 (PR #26570's master column, blind at
    +11.4 .. +57.9 %): not used for the floor's rate (the four GQA 7-8 models' d16384 -> d32768 rows are)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    rows = [r for r in fit_speed.published_rows(ROOT / "benchmarks" / "published" / "unseen_s27_b1_metal.yaml")
            if "@d" in r.test]
    assert len(rows) == 5
    for r in rows:
        assert abs(fit_speed.predict(r) / r.measured - 1) < 0.10, r.test
