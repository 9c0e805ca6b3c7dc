"""Session 21 (rocm8; docs/methodology.md 5f-rocm21): 2026 Strix Halo rows under three ROCm releases held out and
scored blind, and the K/V tile loads of HIP's prompt flash attention where a layer's K/V outgrows the last-level
cache."""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "benchmarks" / "published" / "llamabench_weak.yaml"
RULES = _speed_data()["rocm_prefill_path"]
MIB = 2**20


@lru_cache(maxsize=1)
def _session21() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built: the file is large
    rows = yaml.load(PUBLISHED.read_text(), Loader=loader)["rows"]  # noqa: S506 - a safe loader
    return [r for r in rows if r.get("session") == 21 and r["backend"] == "rocm"]


def _strix() -> list[dict]:
    return [r for r in _session21() if r["hardware"] == "ryzen ai max+ 395 128gb"]


def _device(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="rocm")


def test_session21_rows_are_held_out_and_pinned_to_a_commit():
    """48 Strix Halo rows, all out of the fit, each log read at a 40-hex commit of kyuz0/amd-strix-halo-toolboxes, each
    naming its ROCm release; the depth rows carry -ub 2048 (the Ryzen AI Halo curve -ub 256). The second batch's 12 RX
    7900 XTX rows name the PR table and column they were read from."""
    assert len(_session21()) == 60
    for r in _session21():
        assert r["in_fit"] is False and r["held_out"] is True
        if r["hardware"] == "rx 7900 xtx":
            assert re.fullmatch(r"https://github.com/ggml-org/llama.cpp/pull/(26284|18537)", r["url"]), r["url"]
            assert "column" in r["build"] + r["note"] or "PR #" in r["build"], r["build"]
    rows = _strix()
    assert len(rows) == 48
    for r in rows:
        assert r["in_fit"] is False and r["held_out"] is True
        assert hw_names.resolve(r["hardware"]).id == "ryzen-ai-max-395-128gb"
        assert re.search(r"amd-strix-halo-toolboxes/blob/[0-9a-f]{40}/", r["url"]), r["url"]
        assert re.search(r"ROCm \d\.\d|ROCm 7 nightly", r["build"]), r["build"]
        if r["test"].startswith("pp") and "@d" in r["test"]:
            assert r["n_ubatch"] == (256 if r["model"] == "qwen3.6:27b" else 2048)


def test_last_level_cache_is_the_longest_profile_prefix():
    """ROCm's GPU specification table: Strix Halo 32 MiB Infinity Cache, RX 7900 XTX 96 (not the 7900 XT's 80, whose
    id is a prefix of it), MI300X 256 MiB L3, MI100 8 MiB L2; a GPU the table lacks has no figure."""
    assert kernel_path.last_level_cache_bytes(_device("ryzen ai max+ 395 128gb"), RULES) == 32 * MIB
    assert kernel_path.last_level_cache_bytes(_device("rx 7900 xtx"), RULES) == 96 * MIB
    assert kernel_path.last_level_cache_bytes(_device("rx 7900 xt"), RULES) == 80 * MIB
    assert kernel_path.last_level_cache_bytes(_device("mi300x"), RULES) == 256 * MIB
    assert kernel_path.last_level_cache_bytes(_device("instinct mi100"), RULES) == 8 * MIB
    assert kernel_path.last_level_cache_bytes(_device("rtx 4090"), RULES) is None
    # the 48 GB W7800 has the W7900's 96 MiB, not the 32 GB board's 64; the RX 6700 80 against the 6700 XT's 96
    assert kernel_path.last_level_cache_bytes(_device("radeon pro w7800 48gb"), RULES) == 96 * MIB
    assert kernel_path.last_level_cache_bytes(_device("radeon pro w7800 32gb"), RULES) == 64 * MIB
    assert kernel_path.last_level_cache_bytes(_device("rx 6700"), RULES) == 80 * MIB
    assert kernel_path.last_level_cache_bytes(_device("instinct mi325x"), RULES) == 256 * MIB


def test_kv_loads_bind_only_past_the_cache_and_count_the_kernels_columns():
    """A byte per 64 FLOPs for the MMA kernel up to head 256 and the tile kernel up to head 128, per 32 above them;
    nothing while the layer's K/V fits the last-level cache, or where its size is unknown."""
    flops, bw, big, llc = 6.4e9, 2.0e11, 200 * MIB, 32 * MIB
    with kernel_path.at_build("2026-05-18"), kernel_path.fa_stated(True):  # a run that states -fa 1
        assert kernel_path.fa_kv_seconds(flops, 128, False, RULES, bw, big, llc) == pytest.approx(flops / 64 / bw)
        assert kernel_path.fa_kv_seconds(flops, 256, False, RULES, bw, big, llc) == pytest.approx(flops / 64 / bw)
        assert kernel_path.fa_kv_seconds(flops, 512, False, RULES, bw, big, llc) == pytest.approx(flops / 32 / bw)
        assert kernel_path.fa_kv_seconds(flops, 128, True, RULES, bw, big, llc) == pytest.approx(flops / 64 / bw)
        assert kernel_path.fa_kv_seconds(flops, 256, True, RULES, bw, big, llc) == pytest.approx(flops / 32 / bw)
        assert kernel_path.fa_kv_seconds(flops, 128, False, RULES, bw, 20 * MIB, llc) == 0.0
        assert kernel_path.fa_kv_seconds(flops, 128, False, RULES, bw, big, None) == 0.0
    # before llama-bench's flash-attention default (PR #23714, 2026-05-30) unless stated: KQ as matrices
    for build in ("2025-06-01", "2026-05-18"):
        with kernel_path.at_build(build):
            assert kernel_path.fa_kv_seconds(flops, 128, False, RULES, bw, big, llc) == 0.0


@lru_cache(maxsize=1)
def _scored() -> dict[tuple, float]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import rocm_heldout

    return {(r["model"], r["test"], round(r["measured"], 1)): r["error_pct"] for r in rocm_heldout.rows()}


def test_strix_halo_ministral_at_depth_is_bound_by_its_kv_loads():
    """Ministral-3 14B BF16 (8 KV heads of 128, MMA at builds 9193): at 33,792 cells a layer's K/V is 138 MB, past the
    32 MiB Infinity Cache, and the 64-column blocks' loads (346 MB a prompt token) bind at Strix Halo's 256 GB/s.
    Blind +29..+91% on the four ROCm 6.4.4 / 7.2.3 / nightly rows at 32768 / 65536 tokens; now within 21%."""
    s = _scored()
    for key in [("ministral-3:14b", "pp2048@d32768 ub2048", 318.3), ("ministral-3:14b", "pp2048@d65536 ub2048", 188.9),
                ("ministral-3:14b", "pp2048@d32768 ub2048", 349.5), ("ministral-3:14b", "pp2048@d32768 ub2048", 395.1)]:
        assert abs(s[key]) < 21, (key, s[key])


def test_rdna4_rows_whose_kv_fits_the_cache_do_not_move():
    """The R9700's and RX 9060 XT's fitted rows at 4096 tokens of depth (Llama 3.1 8B: 21 MB of K/V a layer, under
    their 64 / 32 MiB Infinity Cache) keep the attention at the MMA kernel's rate: their K/V loads count nothing."""
    for name in ("radeon ai pro r9700", "rx 9060 xt 16gb"):
        d = _device(name)
        llc = kernel_path.last_level_cache_bytes(d, RULES)
        layer_kv = 4 * 8 * 128 * (4096 + 1024)  # Llama 3.1 8B: 8 KV heads x 128, F16 K and V
        with kernel_path.at_build("2026-08-01"):
            assert kernel_path.fa_kv_seconds(2.7e9, 128, False, RULES, 5e11, layer_kv, llc) == 0.0


def test_mla_layer_kv_is_one_latent_row_and_takes_the_wide_kernels_columns():
    """An MLA model's cache holds one latent row (kv_lora_rank + rope = 576 for DeepSeek-style attention) per cell,
    which every query head reads: its layer K/V is the attention FLOPs over the head count, and the 576-wide K puts
    the MMA kernel at 32 columns (fattn.cu: DKQ > 256 on AMD), a byte per 32 FLOPs past the cache."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate.speed_work import attention_flops_by_layer

    m = next(get_model(mid) for mid in ("deepseek-v2:16b", "glm-4.7-flash:30b") if _known(mid))
    assert m.mla is not None
    width = m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
    layer = next(i for i in range(m.n_layers) if m.has_attention(i))
    att = attention_flops_by_layer(m, 32768)[layer]
    assert att / m.n_heads == 4 * width * 32768  # one latent row of `width` K and V per cell, F16
    with kernel_path.at_build("2026-08-01"):
        assert kernel_path.fa_kv_seconds(att, width, False, RULES, 2e11, att / m.n_heads, 32 * MIB) == pytest.approx(
            att / 32 / 2e11)


def _known(model_id: str) -> bool:
    from selfhost_advisor.catalog.models import get as get_model

    try:
        get_model(model_id)
    except Exception:  # noqa: BLE001 - an id this catalog does not hold
        return False
    return True
