"""Vulkan prompt processing on AMD at depth: flash attention at a vector-lane rate, and session 17's held-out rows
(estimate/vulkan_path.py amd_fa_prefill_rate; data/speed.yaml vulkan_amd.fa_prefill_flops_per_lane_cycle;
docs/methodology.md 5b-vkamd5)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import kernel_path, vulkan_path as vp
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_factors import efficiency
from selfhost_advisor.estimate.speed_work import attention_flops_by_layer
from selfhost_advisor.record import replace

PER_LANE = vp._amd_rules()["fa_prefill_flops_per_lane_cycle"]


def _vk(name: str):
    m = machine_from_profile(hw_names.resolve(name), 1)
    return replace(m, devices=(replace(m.devices[0], backend="vulkan"),))


def test_amd_flash_attention_runs_at_the_lanes_rate_from_the_fa_auto_default():
    """AMD has no coopmat2 FA: its coopmat1 / scalar paths run at lanes x boost clock x the fitted FLOPs per lane-cycle
    (0.55, fitted on 11 pp512 / pp512 @ dN pairs of 3 GPUs); NVIDIA and Intel keep the family's rate (None), and so do
    builds before llama-bench's FA-auto default (PR #23714, 2026-05-30) whose rows state no -fa: they ran fa 0;
    llama-server's default turned auto on 2025-08-30 (kernel_path.served)."""
    amd = _vk("radeon pro vii").devices[0]
    assert PER_LANE == pytest.approx(0.55)
    # Vega 20: 3840 stream processors x 1.7 GHz boost (data/gpu_specs.yaml)
    assert vp.amd_fa_prefill_rate(amd) == pytest.approx(3840 * 1.7e9 * 0.55, rel=0.02)
    rate = vp.amd_fa_prefill_rate(amd)
    for date in ("2025-08-29", "2026-05-29"):
        with vp.as_of_build(date):
            assert vp.amd_fa_prefill_rate(amd) is None
    with vp.as_of_build("2026-05-30"):
        assert vp.amd_fa_prefill_rate(amd) == rate
    with vp.as_of_build("2025-09-15"), kernel_path.fa_stated(True):
        assert vp.amd_fa_prefill_rate(amd) == rate
    with kernel_path.served():
        with vp.as_of_build("2025-08-29"):
            assert vp.amd_fa_prefill_rate(amd) is None
        with vp.as_of_build("2025-08-30"):
            assert vp.amd_fa_prefill_rate(amd) == rate
    assert vp.amd_fa_prefill_rate(_vk("rtx 3090").devices[0]) is None
    assert vp.amd_fa_prefill_rate(_vk("arc b580").devices[0]) is None


def test_rdna3_coopmat1_flash_attention_takes_the_lanes_only_before_its_refactor():
    """RDNA 3+ runs FA_COOPMAT1; before llama/19075 (2026-01-28) only Q x K^T used coopmats (the lane rate: Strix
    Halo's January 2026 pairs), from it P x V too, and the family's matrix-rate efficiency applies again (the RX 9070
    XT's June 2026 pp512 / pp2048 pairs read 53-57 TFLOPS of attention, 8x the lane rate). GCN keeps the lane rate."""
    strix, rdna4, vega = (_vk(n).devices[0] for n in ("ryzen ai max+ 395 128gb", "rx 9070 xt", "radeon pro vii"))
    for date, lanes in (("2026-01-11", True), ("2026-01-28", False), ("", False)):
        with vp.as_of_build(date), kernel_path.fa_stated(True):  # the FA shader by build, for a run stating -fa 1
            assert (vp.amd_fa_prefill_rate(strix) is not None) is lanes
            assert (vp.amd_fa_prefill_rate(rdna4) is not None) is lanes
            assert vp.amd_fa_prefill_rate(vega) is not None  # scalar FA at every date since the FA-auto default
    with vp.as_of_build("", "shader"):  # a build without coopmat: the scalar path on RDNA 4 too
        assert vp.amd_fa_prefill_rate(rdna4) is not None


def test_attention_at_depth_adds_its_flops_over_the_fa_rate():
    """A pp512 @ d8192 token costs the pp512 token plus the added attention FLOPs over amd_fa_prefill_rate: the
    quantity the constant was fitted on (PR #18749's Strix Halo pairs read 1.01-1.05 ms more per token at 8192 cached
    tokens for Llama-3.1-8B; the rule gives ~1.06 ms there, the family's rate gave 0.18 ms)."""
    m = _vk("ryzen ai max+ 395 128gb")
    model, q = get_model("llama3.1:8b"), get_quant("Q4_0")
    place = Placement(fit="gpu", gpu_layers=model.n_layers + 1, total_layers=model.n_layers + 1, gpu_bytes=0,
                      cpu_bytes=0, missing_bytes=0)
    with vp.as_of_build("2026-01-11"), kernel_path.fa_stated(True):
        near = estimate_speed(model, q, place, m, prefill_depth=256).prefill_tokens_per_s
        deep = estimate_speed(model, q, place, m, prefill_depth=8448).prefill_tokens_per_s
        rate = vp.amd_fa_prefill_rate(m.devices[0])
    added = sum(attention_flops_by_layer(model, 8448)) - sum(attention_flops_by_layer(model, 256))
    assert 0.9e-3 < added / rate < 1.2e-3
    # Since session 24 (5b-vkfa1) a layer's attention takes the slower of that rate and its K/V loads (FLOPs / 16
    # rows at the family's bandwidth share) where its K/V outgrows the 32 MiB Infinity Cache: at 8448 cells Llama 3.1
    # 8B's is 8 KV heads x 8448 x 256 x 2 bytes = 33 MiB, so the loads bind at depth (~1.27 ms, 20-25% above the
    # pairs' 1.01-1.05) and nothing is charged at 256 cells
    bw = efficiency("vulkan").bandwidth * m.devices[0].bandwidth_bytes_per_s
    deep_att, near_att = sum(attention_flops_by_layer(model, 8448)), sum(attention_flops_by_layer(model, 256))
    assert 1 / deep - 1 / near == pytest.approx(max(deep_att / rate, deep_att / 16 / bw) - near_att / rate, rel=1e-6)


def test_session_17_block_scores_at_the_documented_figure():
    """docs/methodology.md 5b-vkamd5: session 17's rows (vulkan_heldout.py --block vkamd5). Blind under main 08d20a2:
    its first 19 rows prefill 14 rows 104.6%, decode 5 rows 21.5%; PR #24362's 12 Pro VII rows 55.6%. With the six
    checks read later (two pp4096, four pp2048), 32 prompt rows: 55.6% on main 3afb5ea, 31.0% after the flash-attention
    rate; decode unchanged (23.0% since session 24's refit without the RX 7900 XTX's doubled row, 5b-vkamd12). The
    d8192 rows of Strix Halo (+108..+212% blind) stay within +65%."""
    from heldoutkit import abs_errors, assert_median_within, vulkan_block

    rows = vulkan_block("vkamd5")
    assert_median_within(abs_errors(rows, "prefill"), 32, 31.0)
    assert_median_within(abs_errors(rows, "decode"), 5, 23.0)
    deep = [r["error_pct"] for r in rows if r["test"] == "pp512@d8192" and r["hardware"].startswith("ryzen")]
    assert len(deep) == 6 and max(abs(e) for e in deep) < 65
