"""The KHR-coopmat (coopmat1) matmul of ggml-vulkan on AMD and NVIDIA: no MMQ pipeline exists there, the time is the
matrix rate plus per-tile work that halves with the tile's token width, and the activation tile comes from the L2 on
AMD (estimate/vulkan_path.py; data/speed.yaml vulkan_prefill_path; docs/methodology.md 5b-vkamd4)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

RULES = vp.path_rules()
LEGACY = ((("Q4_0", 1e9, 5.625e8),),)
KQUANT = ((("Q4_K", 1e9, 5.625e8),),)


def _vk(name: str, driver: str = "radv"):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver)


@pytest.mark.parametrize("name", ["rx 7900 xtx", "rx 9070 xt", "ryzen ai max+ 395 128gb"])
@pytest.mark.parametrize("ty", ["Q4_0", "Q8_0", "Q4_K", "Q6_K"])
def test_a_khr_coopmat_amd_gpu_never_runs_mmq(name, ty):
    """ggml_vk_load_shaders' coopmat branch has no CREATE_MMQ at any commit from 72f04e91 to d99724f: even after the
    K-quant MMQ (PR #16536, 2025-10-29) an RDNA 3 / 3.5 / 4 GPU dequantizes into the coopmat1 matmul."""
    with vp.as_of_build("2026-03-01"):
        assert vp.matmul_path(_vk(name), ty, RULES) == "coopmat_dequant"


def test_without_coopmat_the_integer_dot_mmq_stays():
    """RDNA 2 has no KHR coopmat on any driver, so the FP16 branch's MMQ pipelines run its legacy types from PR
    #12135 (2025-03-31) and its K-quants from PR #16536 (2025-10-29)."""
    d = _vk("rx 6800 xt")
    with vp.as_of_build("2025-05-01"):
        assert (vp.matmul_path(d, "Q4_0", RULES), vp.matmul_path(d, "Q4_K", RULES)) == ("mmq", "shader")
    with vp.as_of_build("2026-03-01"):
        assert vp.matmul_path(d, "Q4_K", RULES) == "mmq"


def test_the_coopmat1_time_is_the_matrix_rate_plus_tiles_halving_with_the_large_tile():
    """2 FLOPs per weight at the listed matrix rate, plus (64 / BN) per weight over it: the 64-token medium tile of
    2025 builds, the 128-token large tile RADV gets since PR #18749 (2026-01-11)."""
    d = _vk("rx 7900 xtx")
    with vp.as_of_build("2025-06-01"):
        medium = vp.path_seconds(d, LEGACY, d.fp16_flops)
    with vp.as_of_build("2026-03-01"):
        large = vp.path_seconds(d, LEGACY, d.fp16_flops)
    assert medium["coopmat_mma"] == pytest.approx(2e9 / d.fp16_flops) == pytest.approx(large["coopmat_mma"])
    assert medium["tile_legacy"] == pytest.approx(1e9 / d.fp16_flops)
    assert large["tile_legacy"] == pytest.approx(medium["tile_legacy"] / 2)
    with vp.as_of_build("2026-03-01"):
        assert set(vp.path_seconds(d, KQUANT, d.fp16_flops)) == {"coopmat_mma", "tile_superblock"}


def test_routed_experts_keep_the_medium_tile_on_amd():
    """ggml_vk_get_device sets mul_mat_id_l false for every AMD GPU: MUL_MAT_ID never gets the large tile."""
    d = _vk("ryzen ai max+ 395 128gb")
    with vp.as_of_build("2026-03-01"):
        dense = vp.path_seconds(d, LEGACY, d.fp16_flops)
        experts = vp.path_seconds(d, LEGACY, d.fp16_flops, expert_layers=LEGACY)
    assert experts["coopmat_mma"] == pytest.approx(dense["coopmat_mma"])
    assert experts["tile_legacy"] == pytest.approx(2 * dense["tile_legacy"])


def test_the_mma_part_is_not_fitted_the_tiles_are():
    """coopMatMulAdd at the listed rate (efficiency 1, data/speed.yaml fixed_path_efficiency); the two tile classes carry
    the fitted efficiencies (families.vulkan.vulkan_path_efficiency)."""
    from selfhost_advisor.estimate.speed_factors import efficiency

    assert vp.fixed_efficiency("coopmat_mma") == 1.0 and vp.fixed_efficiency("tile_legacy") is None
    paths = dict(efficiency("vulkan").vulkan_paths)
    assert paths["coopmat_mma"] == 1.0
    assert 0 < paths["tile_superblock"] < paths["tile_legacy"] < 1  # a super-block tile costs more than a legacy one


def test_an_rtx_3090_with_coopmat2_off_runs_the_coopmat1_dequant():
    """GGML_VK_DISABLE_COOPMAT2 (a row's vulkan_path 'coopmat1': PR #12135's coopmat1 column) leaves KHR coopmat: the
    quantized weights take the dequantizing coopmat1 matmul, not the coopmat2 decode nor an MMQ pipeline."""
    d = _vk("rtx 3090", "")
    with vp.as_of_build("2025-03-31"):
        assert vp.matmul_path(d, "Q4_0", RULES) == "coopmat2"
    with vp.as_of_build("2025-03-31", "coopmat1"):
        assert vp.matmul_path(d, "Q4_0", RULES) == "coopmat_dequant"
        assert vp.tile(d, "coopmat_dequant", RULES) == tuple(RULES["tile_large"])


def test_intel_joins_the_coopmat1_split_from_pr_18178_and_keeps_the_lanes_before():
    """The KHR-coopmat branch creates no q8_1 MMQ pipeline, so Intel's quantized prompt matmuls are the dequantizing
    coopmat1 shader, timed as AMD's and NVIDIA's from PR #18178 (Intel's warptile and large tile, 2026-01-07); before
    it (the generic medium warptile) session 15's lanes basis, on which PR #14001's measured rows rest (5b-vkintel7).
    The 16-bit coopmat matmul stays on the lanes at every build."""
    d = _vk("arc b580", "windows")
    with vp.as_of_build("2025-12-31"):
        assert not vp.coopmat_split(d, RULES)
        assert vp.matmul_path(d, "Q4_K", RULES) == "mmq"  # session 15's label (K-quant MMQ date), lanes basis
    for date in ("2026-01-07", "2026-03-01", ""):
        with vp.as_of_build(date):
            assert vp.coopmat_split(d, RULES)
            assert vp.matmul_path(d, "Q4_K", RULES) == vp.matmul_path(d, "Q4_0", RULES) == "coopmat_dequant"
            assert vp.tile(d, "coopmat_dequant", RULES) == tuple(RULES["tile_large"])
            assert vp.intel_lanes_basis(d, RULES) and vp.peak(d, "coopmat", RULES, 1e14) < 1e14 / 3
    # Meteor Lake has no cooperative matrix at any build: its quantized matmuls stay MMQ on the lanes
    mtl = _vk("arc-meteor-lake-8xe-lpddr5x-7467-16gb", "mesa")
    assert vp.matmul_path(mtl, "Q4_K", RULES) == "mmq"


def test_intel_split_pays_anvs_coopmat_share_before_the_2026_fixes():
    """Between PR #18178 and the April 2026 ANV fixes a Mesa row's split pays ANV's measured coopmat share, as the
    lanes basis did; Intel's Windows driver and later builds the listed matrix rate."""
    flops = 1e14
    share = _speed_data()["vulkan_intel"]["anv_coopmat_prefill_ratio"]
    with vp.as_of_build("2026-02-01"):
        assert vp.peak(_vk("arc b580", "mesa"), "coopmat_dequant", RULES, flops) == pytest.approx(flops * share)
        assert vp.peak(_vk("arc b580", "windows"), "coopmat_dequant", RULES, flops) == flops
    with vp.as_of_build("2026-05-01"):
        assert vp.peak(_vk("arc b580", "mesa"), "coopmat_dequant", RULES, flops) == flops


def test_on_amd_the_floor_counts_the_weights_alone():
    """mul_mm.comp numbers workgroups weight-row tile fastest, so on AMD the activation tile is read from the L2 and
    the traffic floor is each weight tile once per token tile; NVIDIA keeps the activation term it is fitted with."""
    layers = ((("Q4_0", 1e9, 5.625e8),),)
    amd = _vk("rx 7900 xtx")
    with vp.as_of_build("2026-03-01"):
        assert vp.traffic_seconds(amd, layers) == pytest.approx(5.625e8 / 128 / amd.bandwidth_bytes_per_s)
    nv = _vk("rtx 3090", "")
    with vp.as_of_build("2026-03-01"):
        rows, tokens = vp.tile(nv, "coopmat2", RULES)
        act = RULES["activation_bytes"]["coopmat2"]
        assert vp.traffic_seconds(nv, layers) == pytest.approx(
            (5.625e8 / tokens + 1e9 * act / rows) / nv.bandwidth_bytes_per_s)


def test_session_16_block_scores_at_the_documented_figure():
    """docs/methodology.md 5b-vkamd4: session 16's 7 prompt rows (vulkan_heldout.py --block vkamd4), 39.6% median
    |error| under main c52e5f7, 18.8% after (the RTX 3090 coopmat1 rows -40 -> +7..+22%, all four labelled mmq before);
    session 14's AMD block 48.7 -> 36.0%."""
    from heldoutkit import abs_errors, assert_median_within, vulkan_block

    assert_median_within(abs_errors(vulkan_block("vkamd4"), "prefill"), 7, 18.8)
    assert_median_within(abs_errors(vulkan_block("vkamd2"), "prefill"), 16, 36.0)
    coopmat1 = [r["error_pct"] for r in vulkan_block("vkamd4") if r["hardware"] == "rtx 3090"]
    assert len(coopmat1) == 4 and max(abs(e) for e in coopmat1) < 25


def test_turing_runs_khr_coopmat_not_coopmat2():
    """An RTX 2060 SUPER's device line reads "int dot: 0 | matrix cores: KHR_coopmat" (llama.cpp issue #15274), and PR
    #19290 turns off coopmat1 flash attention on NVIDIA_TURING, reachable only without coopmat2: a Turing card's
    quantized prompt matmuls are the coopmat1 dequant, Ampere's the coopmat2 decode."""
    turing, ampere = _vk("rtx 2080 ti", ""), _vk("rtx 3090", "")
    with vp.as_of_build("2025-12-18"):
        assert vp.features(turing, RULES) == ("coopmat", False)
        assert vp.matmul_path(turing, "Q4_K", RULES) == "coopmat_dequant"
        assert vp.matmul_path(ampere, "Q4_K", RULES) == "coopmat2"
