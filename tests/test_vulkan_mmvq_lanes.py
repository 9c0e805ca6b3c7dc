"""Vulkan decode on AMD: the integer-dot mat-vec (mul_mat_vecq.comp) spends fewer VALU issue slots per weight than the
float one, by the two shaders' Q4_0 counts (estimate/vulkan_amd.py mmvq_lane_saving, through vulkan_path.mmvq_lane_saving; docs/methodology.md 5b-vkamd11;
data/speed.yaml vulkan_amd.mmvq_lanes)."""
from __future__ import annotations

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import efficiency, estimate_speed
from selfhost_advisor.estimate.vulkan_path import mmvq_lane_saving
from selfhost_advisor.record import replace


def _vk(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="vulkan")


def _decode(name: str, model: str, quant: str) -> float:
    m = machine_from_profile(hw_names.resolve(name), 1)
    m = replace(m, devices=tuple(replace(d, backend="vulkan") for d in m.devices))
    mod = get_model(model)
    return estimate_speed(mod, get_quant(quant), Placement("gpu", mod.n_layers + 1, mod.n_layers + 1, 0, 0),
                          m).decode_tokens_per_s


def test_saving_is_the_two_shaders_valu_counts_per_weight_over_the_workgroups_rows():
    """Per 8 weights a row: float 39 + 8 per column over its 4 rows on GCN (2 x rm_stdq), integer dot 16 + 12 over
    rm_stdq_int = 4: (41 - 19) / 8 = 2.75 lane-cycles; RDNA (2 and 1 rows): (43 - 28) / 8 = 1.875. Fewer rows to
    share the column's work make the integer-dot shader's saving smaller."""
    assert abs(mmvq_lane_saving(_vk("radeon pro vii"), "Q4_0") - 2.75) < 1e-12
    assert abs(mmvq_lane_saving(_vk("rx 6800 xt"), "Q4_0") - 1.875) < 1e-12
    assert 0 < mmvq_lane_saving(_vk("rx 6800 xt"), "Q4_0") < mmvq_lane_saving(_vk("radeon pro vii"), "Q4_0")
    assert mmvq_lane_saving(_vk("radeon pro vii"), "Q4_0") < efficiency("vulkan").matvec_lane_factor


def test_which_types_and_builds_take_the_integer_dot_mat_vec_on_amd():
    """ggml_vk_should_use_mmvq on AMD: legacy types from llama/14903 (2025-09-01; Q8_0 on GCN only), Q2_K / Q4_K /
    Q5_K from llama/16900 (2025-11-29), Q3_K from llama/23056 (2026-06-01), never Q6_K; not on NVIDIA (the count is
    GCN / RDNA VALU issue), not where the device has no integer dot (Polaris), not on float weights."""
    vii, rdna2 = _vk("radeon pro vii"), _vk("rx 6800 xt")
    assert mmvq_lane_saving(vii, "Q8_0") > 0 and mmvq_lane_saving(rdna2, "Q8_0") == 0
    assert mmvq_lane_saving(vii, "Q6_K") == 0 and mmvq_lane_saving(vii, "F16") == 0
    assert mmvq_lane_saving(_vk("rtx 3090"), "Q4_0") == 0
    assert mmvq_lane_saving(_vk("rx 580"), "Q4_0") == 0
    with vp.as_of_build("2025-08-31"):
        assert mmvq_lane_saving(vii, "Q4_0") == 0
    with vp.as_of_build("2025-10-15"):
        assert mmvq_lane_saving(vii, "Q4_0") > 0 and mmvq_lane_saving(vii, "Q4_K") == 0
    with vp.as_of_build("2026-01-15"):
        assert mmvq_lane_saving(vii, "Q4_K") > 0 and mmvq_lane_saving(vii, "Q3_K") == 0
    assert mmvq_lane_saving(vii, "Q3_K") > 0
    with vp.as_of_build("2026-01-15", "shader"):  # a row run with integer dot off
        assert mmvq_lane_saving(vii, "Q4_0") == 0


def test_gcn_decode_is_faster_on_a_build_with_the_integer_dot_mat_vec_and_rdna3_does_not_move():
    """The Radeon Pro VII read 64.35 tokens/s on Llama-3.1-8B Q4_0 at a May 2025 build and 102.76 in June 2026 (PR
    #22933 table): the lane-bound estimate rises across llama/14903; an RX 7900 XTX, whose mat-vecs do not outlast
    their memory stream, is not changed by it."""
    with vp.as_of_build("2025-05-09"):
        before = _decode("radeon pro vii", "llama3.1:8b", "Q4_0")
        xtx_before = _decode("rx 7900 xtx", "llama3.1:8b", "Q4_0")
    with vp.as_of_build("2026-06-19"):
        after = _decode("radeon pro vii", "llama3.1:8b", "Q4_0")
        xtx_after = _decode("rx 7900 xtx", "llama3.1:8b", "Q4_0")
    assert after > 1.15 * before
    assert abs(xtx_after - xtx_before) < 1e-9 * xtx_before


def test_the_float_mat_vec_lane_cost_is_the_kernel_timings_not_a_one_row_fit():
    """data/speed.yaml vulkan_matvec (docs/methodology.md 5b-vkamd11): test-backend-ops MUL_MAT m=4096 n=1 k=14336 at
    lanes x boost clock, Radeon Pro VII q4_0 95.15 us (PR #14903) and Radeon 780M iq2_xs 296.84 us (PR #18031); the
    fit holds it (families.vulkan.matvec_lane_factor) and solves only the bandwidth share and per-layer cycles."""
    from selfhost_advisor.catalog.data import load

    weights = 4096 * 14336
    pro_vii = 3840 * 1.7e9 * 95.15e-6 / weights
    r780m = 768 * 2.7e9 * 296.84e-6 / weights
    held = load("speed")["vulkan_matvec"]["lane_cycles_per_weight"]
    assert abs(held - (pro_vii + r780m) / 2) < 0.01
    assert load("speed")["families"]["vulkan"]["matvec_lane_factor"] == held


def test_search_lane_k_with_a_given_k_solves_only_the_other_two():
    """search_lane_k(fixed_k=...) returns that k; a row set whose time is all bandwidth gives a = 1, c = 0."""
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import fit_speed

    x, lay = np.array([1.0, 1.0, 1.0]), np.array([0.1, 0.2, 0.3])
    kern = [[(0.1, 1.0)], [(0.2, 1.0)], [(0.05, 1.0)]]  # lanes never outlast the stream at k = 2
    a, c, k = fit_speed.search_lane_k(x, lay, kern, fixed_k=2.0)
    assert k == 2.0 and abs(a - 1.0) < 1e-9 and abs(c) < 1e-9
