"""llama-bench's flash-attention default turned auto with PR #23714 (build b9437, 2026-05-30), not with PR #15434
(2025-08-30, llama-server's / llama-cli's): kernel_path.fa_on_at reads the date of the tool being predicted, a row's
stated -fa overrides either, and fit_speed.row_fa reads that flag from a published row's key or text
(docs/methodology.md 5c-fa32)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate import vulkan_intel as vi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

_DATES = (load("speed").get("vulkan_intel") or {}).get("igpu_dispatch") or {}


def test_the_two_defaults_are_dated_apart():
    """The data holds both dates, llama-server's first: a build between them is the case that changed."""
    assert str(_DATES["flash_attn_since"]) < str(_DATES["bench_flash_attn_since"])


def test_llama_bench_ran_fa_0_between_the_two_dates_and_llama_server_did_not():
    between = "2026-01-15"
    assert str(_DATES["flash_attn_since"]) < between < str(_DATES["bench_flash_attn_since"])
    assert kernel_path.fa_on_at(between) is False  # llama-bench, by default
    with kernel_path.served():
        assert kernel_path.fa_on_at(between) is True
    assert kernel_path.fa_on_at("2025-06-01") is False
    assert kernel_path.fa_on_at(str(_DATES["bench_flash_attn_since"])) is True
    assert kernel_path.fa_on_at("") is True  # today's build


def test_a_stated_flag_overrides_either_default():
    with kernel_path.fa_stated(True):
        assert kernel_path.fa_stated_or_default("2025-01-01") is True
    with kernel_path.fa_stated(False):
        assert kernel_path.fa_stated_or_default("") is False
    with kernel_path.fa_stated(None):
        assert kernel_path.fa_stated_or_default("2026-01-15") is False
    with kernel_path.at_build("2026-01-15"):
        assert kernel_path.flash_attn_on() is False
        with kernel_path.fa_stated(True):
            assert kernel_path.flash_attn_on() is True


def test_vulkan_decode_dispatches_follow_the_tool_and_the_stated_flag():
    """An fa 0 decode step records KQ, SOFT_MAX, KQV and the CONT where flash attention records one FLASH_ATTN_EXT:
    three dispatches more a layer for Llama (no soft-cap)."""
    llama = get_model("llama3.1:8b")
    between = "2026-01-15"
    off = vi.dispatches_per_layer(llama, between)
    with kernel_path.served():
        assert vi.dispatches_per_layer(llama, between) == off - 3
    with kernel_path.fa_stated(True):
        assert vi.dispatches_per_layer(llama, between) == off - 3
    assert vi.dispatches_per_layer(llama, "") == off - 3  # no fusion landed after 2026-01-15 for Llama


@pytest.mark.parametrize("row, fa", [
    ({"build": "b7423, ROCm 7.1.1, fa 1"}, True),
    ({"build": "llama-bench -ngl 99 -fa 1 -p 512"}, True),
    ({"build": "GGML_SYCL_F16=ON, -ngl 99, fa on, f16 KV"}, True),
    ({"build": "RADV VEGA20, fa=0"}, False),
    ({"build": "oneAPI 2025.3, -fa off"}, False),
    ({"build": "rocm-7.2.4, GGML_HIP_ROCWMMA_FATTN=ON"}, None),  # a build option, not the run's flag
    ({"build": "llama-bench -ngl 99 -r 5 (fa auto)"}, None),  # the tool's default: dated, not stated
    ({"build": "master 557515be", "note": "table, llama 8B Q4_1, fa 1"}, True),  # the note when the build is silent
    ({"fa": 0, "build": "-fa 1"}, False),  # the key first
    ({"build": "b8038, RADV, 85W TDP"}, None),
])
def test_row_fa_reads_the_key_then_the_build_then_the_note(row, fa):
    from fit_speed import row_fa

    assert row_fa(row) is fa


def _device(name: str, backend: str):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.record import replace

    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend=backend)


def test_an_fa_0_prompt_moves_its_score_matrix_through_memory():
    """Without flash attention a prompt token's scores cost 20 bytes each on HIP (F32 KQ written, read and written by
    soft_max, converted to F16 for V's GEMM and read) and 16 on Vulkan (no conversion): bytes per score x
    query heads x cells of the KV view (depth + half the micro-batch, padded to 256), over the bandwidth given; nothing
    with flash attention; CUDA the same 20 where a layer's score tensor outgrows every NVIDIA L2 (depth33)."""
    from selfhost_advisor.estimate.speed_prefill import _scores_without_fa_seconds

    llama = get_model("llama3.1:8b")  # 32 layers of 32 query heads, no sliding window
    cells = 8192 + 256  # depth 8192 + half of a 512-token micro-batch: 33 x 256 already
    bw = 1e12
    with kernel_path.fa_stated(False):
        rocm = _scores_without_fa_seconds(llama, 0, 32, _device("rx 7900 xtx", "rocm"), 8192, 512, bw)
        vk = _scores_without_fa_seconds(llama, 0, 32, _device("rx 7900 xtx", "vulkan"), 8192, 512, bw)
        cuda = _scores_without_fa_seconds(llama, 0, 32, _device("rtx 4090", "cuda"), 8192, 512, bw)
        half = _scores_without_fa_seconds(llama, 0, 16, _device("rx 7900 xtx", "rocm"), 8192, 512, bw)
        padded = _scores_without_fa_seconds(llama, 0, 32, _device("rx 7900 xtx", "rocm"), 8000, 512, bw)
    assert rocm == pytest.approx(20 * 32 * 32 * cells / bw)
    assert vk == pytest.approx(16 * 32 * 32 * cells / bw)
    assert cuda == pytest.approx(rocm)  # 554 MB a layer: beyond any NVIDIA L2, charged since depth33 (5c-depth33)
    assert half == pytest.approx(rocm / 2)
    assert padded == pytest.approx(rocm)  # 8000 + 256 rounds up to the same 8448 cells
    with kernel_path.fa_stated(True):
        assert _scores_without_fa_seconds(llama, 0, 32, _device("rx 7900 xtx", "rocm"), 8192, 512, bw) == 0.0


def test_a_sliding_window_layer_multiplies_only_its_own_cache():
    """A sliding-window layer's scores span its own cache, GGML_PAD(n_swa + n_ubatch, 256) cells, not the depth."""
    from selfhost_advisor.estimate.memory_kv import uses_window
    from selfhost_advisor.estimate.speed_prefill import _scores_without_fa_seconds

    model = get_model("gemma3:12b")
    sliding = [i for i in range(model.n_layers) if uses_window(model, i)]
    assert sliding and model.sliding_window
    i = sliding[0]
    d = _device("rx 7900 xtx", "rocm")
    with kernel_path.fa_stated(False):
        deep = _scores_without_fa_seconds(model, i, 1, d, 32768, 512, 1.0)
        shallow = _scores_without_fa_seconds(model, i, 1, d, 0, 512, 1.0)
    window = -(-(model.sliding_window + 512) // 256) * 256
    assert deep == pytest.approx(20 * model.layer_n_heads(i) * window)
    assert shallow == pytest.approx(20 * model.layer_n_heads(i) * 256)  # 0 + 256 cells: under the window


def test_small_on_big_scores_a_row_at_its_stated_flag():
    """small_on_big.py predicts each llama-bench row at its stated -fa (moe_accuracy.published_rows' `fa`), as
    fit_speed.predict does: PR #19806's MI300X "MFMA FA" column (2026-02-28, `fa: 1`) runs the FA kernels, not the
    tool's -fa 0 default of that date (session 33, fa33: the four rows had read +58..+112% -> +77..+112%)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import moe_accuracy
    import small_on_big

    got = {(r["hardware"], r["test"]): r["predicted"] for r in small_on_big.rows()}
    (src,) = [r for r in moe_accuracy.published_rows(small_on_big.FILES[1])
              if r["hardware"] == "instinct mi300x" and r["model"] == "qwen2.5:1.5b" and r["test"] == "pp4096"]
    assert src["fa"] is True and src["build_date"] < str(_DATES["bench_flash_attn_since"])

    def at(fa):
        with kernel_path.at_build(src["build_date"]), kernel_path.fa_stated(fa):
            return moe_accuracy.predict(src["model"], src["quant"], src["test"], src["machine"], 512)

    assert got[("instinct mi300x", "pp4096")] == pytest.approx(at(True), rel=1e-12)
    assert at(None) != pytest.approx(at(True), rel=1e-3)  # unstated, the date's default (fa 0) prices it otherwise
