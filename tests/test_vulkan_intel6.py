"""Intel under Vulkan, session 18 (docs/methodology.md 5b-vkintel6): prompt attention runs ggml-vulkan's scalar flash
attention shader on the vector lanes (estimate/vulkan_path.py intel_fa_prefill_rate; data/speed.yaml
vulkan_intel.fa_prefill_flops_per_lane_cycle), and the Arc Pro B70 rows held out first (vulkan_heldout.py --block
vkintel6)."""
from __future__ import annotations

import pytest
from heldoutkit import abs_errors, assert_median_within, vulkan_block

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import kernel_path, vulkan_intel
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_work import attention_flops_by_layer
from selfhost_advisor.record import replace


def _vk(name: str, driver: str = "mesa"):
    m = machine_from_profile(hw_names.resolve(name), 1)
    return replace(m, devices=(replace(m.devices[0], backend="vulkan", vulkan_driver=driver),))


def test_intel_flash_attention_runs_on_the_lanes_from_the_fa_auto_default():
    """Every Intel GPU (coopmat or not: coopmat1 FA needs a 16x16x16 shape, Intel's XMX shapes have 8 rows) runs the
    scalar shader: 128 lanes per Xe core x boost clock x the measured 0.21 FLOPs per lane-clock; builds before
    llama-bench's FA-auto default (2025-08-30) ran fa 0 and keep the family's rate; AMD keeps its own rule and NVIDIA
    none."""
    per = vulkan_intel.fa_prefill_flops_per_lane_cycle()
    assert per == pytest.approx(0.21)
    b70 = _vk("arc pro b70").devices[0]
    assert vp.intel_fa_prefill_rate(b70) == pytest.approx(32 * 128 * 2.8e9 * per, rel=0.01)
    # an iGPU counts its Xe cores at 128 lanes each, not kernel_path's default 64 (Lunar Lake: 8 Xe2 cores, 1.95 GHz)
    v140 = _vk("arc-140v-lpddr5x-8533-32gb").devices[0]
    assert vp.intel_fa_prefill_rate(v140) == pytest.approx(8 * 128 * 1.95e9 * per, rel=0.01)
    a770 = _vk("arc a770 16gb", "windows").devices[0]  # Alchemist, no coopmat: the same shader
    assert vp.fa_prefill_rate(a770) == vp.intel_fa_prefill_rate(a770) is not None
    for date in ("2025-08-29", "2026-05-29"):  # llama-bench's own -fa 0 default until PR #23714 (2026-05-30)
        with vp.as_of_build(date):
            assert vp.fa_prefill_rate(b70) is None
    with vp.as_of_build("2026-05-30"):
        assert vp.fa_prefill_rate(b70) == vp.intel_fa_prefill_rate(b70) is not None
    with vp.as_of_build("2026-05-06"), kernel_path.fa_stated(True):
        assert vp.fa_prefill_rate(b70) == vp.intel_fa_prefill_rate(b70)
    assert vp.intel_fa_prefill_rate(_vk("rtx 3090", "").devices[0]) is None
    amd = _vk("radeon pro vii", "").devices[0]
    assert vp.intel_fa_prefill_rate(amd) is None and vp.fa_prefill_rate(amd) == vp.amd_fa_prefill_rate(amd)


def test_b70_attention_at_depth_costs_the_lanes_rate():
    """A pp2048 @ d16384 token costs the pp512 token plus the added attention FLOPs over the lanes' rate: Llama 2 7B
    Q4_0 on the B70 measured 2414 -> 242 t/s (0.21 FLOPs per lane-clock is the median of the six pairs); the listed
    XMX rate at the family's efficiency made the depth row 8x too fast."""
    m = _vk("arc pro b70")
    model, quant = get_model("llama2:7b"), get_quant("Q4_0")
    place = Placement(fit="gpu", gpu_layers=model.n_layers + 1, total_layers=model.n_layers + 1, gpu_bytes=0,
                      cpu_bytes=0, missing_bytes=0)
    with vp.as_of_build("2026-05-06"), kernel_path.fa_stated(True):  # kyuz0's b9039 logs ran -fa 1
        shallow = estimate_speed(model, quant, place, m, prefill_depth=256).prefill_tokens_per_s
        deep = estimate_speed(model, quant, place, m, prefill_depth=16384 + 1024).prefill_tokens_per_s
        rate = vp.intel_fa_prefill_rate(m.devices[0])
    added = sum(attention_flops_by_layer(model, 16384 + 1024)) - sum(attention_flops_by_layer(model, 256))
    assert 1 / deep - 1 / shallow == pytest.approx(added / rate, rel=1e-6)
    assert deep == pytest.approx(242.04, rel=0.10)


def test_session_18_block_scores_at_the_documented_figures():
    """5b-vkintel6: 24 Arc Pro B70 rows (Fedora 43 stock Mesa, b9039), blind under main b723c6f decode 41.3%, prefill
    147.4% (its six pp2048 @ d16384 rows +209..+4115%); with the FA rate (fitted on those pairs) prefill 37.2%, the
    depth rows -1.1..+43.8% but Gemma 4 31B's (+1039%)."""
    rows = vulkan_block("vkintel6")
    assert_median_within(abs_errors(rows, "prefill"), 12, 37.2)
    deep = {r["model"]: r["error_pct"] for r in rows if r["test"] == "pp2048@d16384"}
    assert all(abs(e) < 50 for m, e in deep.items() if m != "gemma4:31b")


def test_intel_decode_attention_beyond_the_kv_read_runs_at_the_one_row_lane_rate():
    """A decoded token's flash attention runs the scalar shader at one query row: 128 lanes per Xe core x clock x the
    measured 0.0222 FLOPs per lane-clock; the KV read is already in the streaming law, so only compute beyond it is
    added (max of the two); nothing before the FA-auto default, off Intel, or with no attention."""
    per = vulkan_intel.fa_decode_flops_per_lane_cycle()
    assert per == pytest.approx(0.0222)
    b70 = _vk("arc pro b70").devices[0]
    rate = 32 * 128 * 2.8e9 * per
    assert vp.intel_fa_decode_excess(b70, 1e10, 0.001) == pytest.approx(1e10 / rate - 0.001, rel=1e-3)
    assert vp.intel_fa_decode_excess(b70, 1e10, 1.0) == 0.0  # the read binds
    assert vp.intel_fa_decode_excess(b70, 0.0, 0.0) == 0.0
    for date in ("2025-08-29", "2026-05-29"):
        with vp.as_of_build(date):
            assert vp.intel_fa_decode_excess(b70, 1e10, 0.0) == 0.0
    assert vp.intel_fa_decode_excess(_vk("rtx 3090", "").devices[0], 1e10, 0.0) == 0.0


def test_b70_decode_at_depth_pays_the_attention_compute():
    """Llama 2 7B Q4_0 on the B70: tg128 87.4 t/s, tg32 @ d16384 24.3 (29.8 ms more a token, 8.6 GFLOP of attention:
    0.29 TFLOPS); the law read only the 8.6 GB of KV cache (17.5 ms) and predicted +58%."""
    rows = {(r["model"], r["test"]): r["error_pct"] for r in vulkan_block("vkintel6")}
    assert abs(rows[("llama2:7b", "tg32@d16384")]) < 25
    assert abs(rows[("ministral-3:8b", "tg32@d16384")]) < 25
    assert abs(rows[("ministral-3:8b", "tg128")]) < 10  # no depth to speak of: the BF16 mat-vecs at the law
