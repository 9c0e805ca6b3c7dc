"""NV_coopmat2 MUL_MAT_ID tiles (estimate/moe_tiles.py coopmat2_padding, data/speed.yaml moe_tiles.vulkan.coopmat2,
docs/methodology.md 5c-s22v): the MMA at the width mul_mm_cm2.comp runs each tile at, plus the weight decode per tile."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import speed_terms
from selfhost_advisor.estimate.moe_backends import resolve
from selfhost_advisor.estimate.moe_tiles import coopmat2_padding, padding, shrunk_width_padding
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.estimate.vulkan_path import as_of_build
from selfhost_advisor.record import replace

CM2 = _speed_data()["moe_tiles"]["vulkan"]["coopmat2"]
FULL = {"widths": [32, 64, 128], "choose_against": "batch", "min_tokens": 9}


def _device(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="vulkan")


def test_a_tile_runs_its_mma_at_the_narrowest_of_bn4_bn2_bn_that_holds_its_rows():
    # gpt-oss-20b (32 experts, 4 used): 64 tokens an expert, about half the tiles at 64 wide and half at 128
    assert shrunk_width_padding(512, 32, 4, 128, (32, 64, 128)) == pytest.approx(1.47, abs=0.01)
    # Qwen3-30B-A3B (128, 8): 32 an expert, half at 32 wide, half at 64
    assert shrunk_width_padding(512, 128, 8, 128, (32, 64, 128)) == pytest.approx(1.45, abs=0.01)
    # Qwen3-Next (512, 10): 10 an expert, every tile 32 wide
    assert shrunk_width_padding(512, 512, 10, 128, (32, 64, 128)) == pytest.approx(3.2, abs=0.01)
    # never below the routed pairs; without shrinking it is the full-width padding
    assert shrunk_width_padding(512, 2, 1, 128, (32, 64, 128)) >= 1.0
    assert shrunk_width_padding(512, 128, 8, 128, (128,)) == pytest.approx(padding(512, 128, 8, FULL), rel=1e-6)


def test_the_decode_share_grows_as_an_experts_tile_holds_fewer_tokens():
    oss, qwen, nxt = (coopmat2_padding(512, e, k, CM2) for e, k in ((32, 4), (128, 8), (512, 10)))
    assert oss < qwen < nxt
    # the decode beyond a dense tile's share: 1 / 64 - 1 / 256 of a weight per pair for gpt-oss, 1 / 32 - 1 / 256 Qwen3
    units = float(CM2["decode_mma_units"])
    assert oss == pytest.approx(1.467 + units * (1 / 64 - 1 / 256), rel=0.01)
    assert qwen == pytest.approx(1.453 + units * (1 / 32 - 1 / 256), rel=0.01)


def test_only_nvidia_coopmat2_from_pr_15546_gets_the_shrinking_tiles():
    nvidia, amd = _device("rtx 5090"), _device("ryzen ai max+ 395 128gb")
    today = speed_terms._padding(512, 32, 4, "vulkan", nvidia)
    assert today == pytest.approx(coopmat2_padding(512, 32, 4, CM2))
    with as_of_build("2025-08-24"):  # PR #15546's own "before" runs: the full 128-wide MMA, the same decode per tile
        before = speed_terms._padding(512, 32, 4, "vulkan", nvidia)
    units = float(CM2["decode_mma_units"])
    assert before == pytest.approx(2.0 + units * (1 / 64 - 1 / 256), rel=0.01)
    amd_rule = resolve(_speed_data()["moe_tiles"]["vulkan"], amd)  # AMD: no large id shader, full 64-wide tiles
    assert speed_terms._padding(512, 32, 4, "vulkan", amd) == pytest.approx(padding(512, 32, 4, amd_rule))
    assert speed_terms._padding(8, 32, 4, "vulkan", nvidia) == 1.0  # mat-vec below 9 tokens
    rtx2080 = _device("rtx 2080 ti")  # Turing: KHR coopmat, not NV_coopmat2
    assert speed_terms._padding(512, 32, 4, "vulkan", rtx2080) == pytest.approx(2.0, abs=0.01)


def test_gpt_oss_expert_biases_cost_a_pass_over_the_routed_rows_above_the_mat_vec_batch():
    """ggml-vulkan fuses MUL_MAT_ID + ADD_ID for the mat-vec shader only (up to 8 tokens): a prompt's ADD_ID reads and
    writes every routed row in F32 (vulkan_path.expert_bias_seconds)."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed_work import token_work
    from selfhost_advisor.estimate.vulkan_path import expert_bias_seconds

    oss = token_work(get_model("gpt-oss:20b"), get_quant("MXFP4_MOE"), "f16").layer_expert_matrices
    qwen = token_work(get_model("qwen3:30b-a3b"), get_quant("Q4_K_M"), "f16").layer_expert_matrices
    bw = 1.0e12
    # gpt-oss-20b: 4 routed rows of 2880 (gate, up) and 2880 (down) a token and layer, F32, read and written
    assert expert_bias_seconds(oss, 512, bw) == pytest.approx(24 * 3 * 4 * 2880 * 4 * 2 / bw)
    assert expert_bias_seconds(oss, 8, bw) == 0.0  # the mat-vec shader fuses the bias
    assert expert_bias_seconds(qwen, 512, bw) == 0.0  # no expert biases


def _cm2_padding(date: str, n_expert: int, n_used: int, device=None) -> float:
    with as_of_build(date):
        return speed_terms._padding(512, n_expert, n_used, "vulkan", device or _device("rtx 5090"))


def test_before_pr_15546_every_tile_runs_its_mma_full_width_and_still_decodes_its_weights():
    """l_warptile_mmqid's enable_smaller_matrices was 0 until PR #15546 (ggml 26580b60, 2025-08-31): each tile's
    coopMatMulAdd ran all BN columns, while its weight decode (coopMatLoadTensorNV, every k step) is the same then and
    now. So an old build pays at least the full-width padding AND at least today's decode: more than either rule."""
    for n_expert, n_used in ((32, 4), (128, 8), (64, 6), (512, 10)):
        old = _cm2_padding("2025-08-24", n_expert, n_used)
        full_width = padding(512, n_expert, n_used, FULL | {"widths": [128]})
        today = _cm2_padding("", n_expert, n_used)
        assert old > full_width
        assert old > today
        # the whole difference from today's is the MMA width: the decode term is unchanged
        shrunk = shrunk_width_padding(512, n_expert, n_used, 128, (32, 64, 128))
        assert old - today == pytest.approx(full_width - shrunk, rel=1e-6)


def test_the_full_width_tile_follows_l_mmqid_wg_denoms_by_date():
    """BN 128 from the coopmat2 path's start (2024-12-05), 64 from PR #12258 (2025-03-17), 128 again from PR #14555
    (2025-07-12). A 64-wide tile pads less MMA (Qwen3-30B-A3B: 32 tokens an expert) but decodes its weights twice as
    often as a 128-wide one over the same tokens."""
    qwen_64, qwen_128 = _cm2_padding("2025-07-06", 128, 8), _cm2_padding("2025-07-12", 128, 8)
    assert qwen_64 != pytest.approx(qwen_128)
    assert _cm2_padding("2025-02-01", 128, 8) == pytest.approx(qwen_128)
    assert _cm2_padding("2025-05-01", 128, 8) == pytest.approx(qwen_64)
    # before NV_coopmat2 existed there is no cm2 tile to date: the old full-width rule
    assert _cm2_padding("2024-06-01", 32, 4) == pytest.approx(2.0, abs=0.01)


def test_the_old_tiles_are_nvidia_coopmat2_only():
    for name in ("ryzen ai max+ 395 128gb", "rtx 2080 ti"):  # AMD; Turing (KHR coopmat)
        d = _device(name)
        assert _cm2_padding("2025-08-24", 32, 4, d) == pytest.approx(_cm2_padding("", 32, 4, d))


def test_a_moe_prompt_on_an_nv_coopmat2_build_before_pr_15546_is_slower_than_after_it():
    """PR #15546's own description: mul_mat_id coopmat2 optimizations sped the MoE prompts of its day up; the estimate
    of the build before it must not be the faster one (with the old rule the two were within 2%)."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed import estimate_speed
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from fit_speed import Row, _placement

    machine = replace(machine_from_profile(hw_names.resolve("rtx 5090"), 1),
                      devices=(_device("rtx 5090"),))
    rates = {}
    for date in ("2025-08-24", "2025-09-01"):
        row = Row("", "", "qwen3:30b-a3b", "Q2_K", "pp512", 1.0, machine, 1, 0)
        with as_of_build(date):
            rates[date] = estimate_speed(get_model("qwen3:30b-a3b"), get_quant("Q2_K"), _placement(row), machine,
                                         prefill_depth=256, n_ubatch=512).prefill_tokens_per_s
    assert rates["2025-08-24"] < 0.9 * rates["2025-09-01"]
