"""Vulkan integer-dot MMQ on AMD: the share of the vector lanes' issue slots mul_mmq.comp gives v_dot4_i32_i8, per
register tile (estimate/vulkan_path.py mmq_issue_share; docs/methodology.md 5b-vkamd10; data/speed.yaml
vulkan_prefill_path.mmq_issue)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path, vulkan_intel
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.record import replace


def _vk(name: str, driver: str = ""):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver or None)


def test_gcn_runs_the_4x4_register_tile_since_pr_13016_except_on_the_proprietary_driver():
    """m_warptile_mmq_int on GCN since 5f7d009a (llama/13016, 2025-04-24) is {256, 64, 64, 32, 16, 16, 2, 2, 2, 1, 16}:
    WMITER x TM = 2 x 2 weight blocks and WNITER x TN = (16 x 16 / (16 x 2 x 2 x 2)) x 2 = 4 token blocks a thread;
    `device->driver_id != eAmdProprietary` keeps AMD's Windows driver on the generic {128, 64, 64, 32, 64, 32, 2, 2, 2}
    tile, WNITER = 64 x 32 / (64 x 8) = 4: 4 x 8, as RDNA's at subgroup 32 (32 x 32 / (32 x 8) = 4)."""
    rules = vp.path_rules()
    vii = _vk("radeon pro vii")
    assert vp.mmq_register_tile(vii, rules) == (4, 4)
    with vulkan_intel.with_driver("amdvlk"):  # AMDVLK is eAmdOpenSource: it gets the GCN tune
        assert vp.mmq_register_tile(vii, rules) == (4, 4)
    assert vp.mmq_register_tile(_vk("radeon pro vii", "windows"), rules) == (4, 8)
    with vp.as_of_build("2025-04-23"):
        assert vp.mmq_register_tile(vii, rules) == (4, 8)
    assert vp.mmq_register_tile(_vk("rx 6800 xt"), rules) == (4, 8)


def test_issue_share_counts_the_q4_0_epilogue_unpack_and_scales_per_output():
    """Per output and 32-deep block: 8 dot4 + 3 others, + 13 per weight block over the token columns + 3 per activation
    block over the weight rows: GCN 4 x 4 -> 8 / (8 + 3 + 13/4 + 3/4) = 8/15; RDNA 2 4 x 8 -> 8 / (8 + 3 + 13/8 + 3/4).
    A wider register tile amortizes more, so the share grows with it and stays below 1."""
    rules = vp.path_rules()
    assert vp.mmq_issue_share(_vk("radeon pro vii"), rules) == pytest.approx(8 / 15)
    assert vp.mmq_issue_share(_vk("rx 6800 xt"), rules) == pytest.approx(8 / (8 + 3 + 13 / 8 + 3 / 4))
    assert vp.mmq_issue_share(_vk("radeon pro vii"), rules) < vp.mmq_issue_share(_vk("rx 6800 xt"), rules) < 1


def test_nvidia_and_intel_keep_their_mmq_peak():
    """The dp4a of Ampere and later runs on the INT32 half of the lanes (4 ops per lane per clock) while one instruction
    a clock dispatches, so the ~4.2 other instructions per output of the 128-output large tile fit beside the 8 dp4as'
    16 pipe cycles: no share, the basis of the family's fitted `mmq` efficiency (RTX 3090). Intel keeps its measured
    vector_path_share."""
    rules = vp.path_rules()
    for name in ("rtx 3090", "arc a770 16gb"):
        assert vp.mmq_issue_share(_vk(name), rules) == 1.0, name
    d = _vk("rtx 3090")
    lane_hz = kernel_path.vector_lanes(d) * kernel_path.gpu_clock_hz(d)
    assert vp.peak(d, "mmq", rules, None) == pytest.approx(lane_hz * 4)



def test_mxfp4_takes_the_mmq_path_from_pr_16536_on_int_dot_gpus_without_coopmat():
    """llama/16536 (558148d7, 2025-10-29) created the MXFP4 q8_1 pipelines beside the K-quant ones (CREATE_MMQ(
    GGML_TYPE_MXFP4, ..., warptile_mmq_int) and its MUL_MAT_ID twin), so gpt-oss's MXFP4 experts multiply on the
    integer-dot MMQ path of a GCN 5.1 / RDNA 2 GPU from that build; before it, on the FP16 shader. A KHR-coopmat GPU
    (RDNA 3+) still has no MMQ pipeline at all."""
    rules = vp.path_rules()
    for name in ("radeon pro vii", "rx 6800 xt"):
        d = _vk(name)
        assert vp.matmul_path(d, "MXFP4", rules) == "mmq", name
        with vp.as_of_build("2025-10-28"):
            assert vp.matmul_path(d, "MXFP4", rules) == "shader", name
    assert vp.matmul_path(_vk("rx 7900 xtx"), "MXFP4", rules) == "coopmat_dequant"


def test_vulkan_mmq_efficiency_rests_on_more_than_one_row():
    """The guide forbids a constant fitted on one case: since session 23 (docs/methodology.md 5b-vkamd11) the `mmq`
    efficiency is fitted on four RTX 3090 integer-dot rows (PR #14903's llama 7B, PR #12767's 8B Q4_0 / Q8_0, PR
    #14903's 8B Q4_0), two builds of the post-#12722 shader; fitted_on-style counts come from scripts/fit_speed.py."""
    from selfhost_advisor.catalog.data import load

    vk = load("speed")["families"]["vulkan"]
    assert vk["vulkan_path_rows"]["mmq"] >= 4
    # the three 8B rows read 3-5% slow under the one-row level (0.3619), so the four-row level sits above it, and
    # below what the 8B rows alone would give (about 0.38): least squares over the four, not a copy of either
    assert 0.3619 < vk["vulkan_path_efficiency"]["mmq"] < 0.38
