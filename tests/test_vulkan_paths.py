"""Vulkan prefill by the matmul path ggml-vulkan takes per device, GGML type and build (estimate/vulkan_path.py;
docs/methodology.md 5b-vulkan). The rules are read in ggml/src/ggml-vulkan/ggml-vulkan.cpp; each test names the
place."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import _device_flops, _speed_data, efficiency, estimate_speed, token_work
from selfhost_advisor.record import replace

RULES = _speed_data()["vulkan_prefill_path"]


def _vk(name: str):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan")


def _path(name: str, ty: str, date: str = "", override: str = "") -> str:
    with vp.as_of_build(date, override):
        return vp.matmul_path(_vk(name), ty, RULES)


def test_nvidia_coopmat2_decodes_every_quantized_type_on_the_tensor_cores():
    """ggml_vk_load_shaders creates no q8_1 (MMQ) pipelines in its NV_coopmat2 branch, so ggml_vk_mul_mat_q_f16 falls
    back to the dequantizing coopmat2 matmul for every type, whatever the build."""
    for ty in ("Q4_0", "Q8_0", "Q4_K", "Q6_K", "IQ4_XS", "F16"):
        assert _path("rtx 3090", ty) == "coopmat2"
        assert _path("rtx 4070", ty, "2025-05-01") == "coopmat2"


def test_amd_rdna3_never_runs_integer_dot_mmq():
    """Session 16 (5b-vkamd4): the KHR-coopmat branch of ggml_vk_load_shaders creates no MMQ pipeline at any commit
    (session 11 read "legacy quants since PR #12135, K-quants since PR #16536" there: wrong), so every quantized type
    is dequantized to shared memory for coopmat, before and after those PRs."""
    assert _path("rx 7900 xtx", "Q4_0", "2025-03-30") == "coopmat_dequant"
    assert _path("rx 7900 xtx", "Q4_0", "2025-03-31") == "coopmat_dequant"
    assert _path("ryzen ai max+ 395 128gb", "Q4_K", "2025-07-31") == "coopmat_dequant"
    assert _path("ryzen ai max+ 395 128gb", "Q4_K", "2025-11-01") == "coopmat_dequant"
    assert _path("rx 9070 xt", "IQ4_XS") == "coopmat_dequant"
    assert _path("rx 7900 xtx", "F16") == "coopmat"


def test_gpus_without_matrix_units_or_int_dot_run_the_shader():
    """RDNA 1 (gfx1010: "int dot: 0" in the RX 5700 XT log) has neither; RDNA 2 and GCN 5.1 have the packed dot
    product but no coopmat; Intel Xe-HPG has no coopmat (ggml_vk_khr_cooperative_matrix_support: Xe2 only)."""
    assert _path("rx 5700 xt", "Q4_0") == "shader"
    assert _path("rx 6800 xt", "Q4_0", "2025-03-30") == "shader"
    assert _path("rx 6800 xt", "Q4_0") == "mmq"
    assert _path("radeon pro vii", "Q4_K") == "mmq"
    assert _path("arc a770 16gb", "Q4_K", "2025-06-05") == "shader"
    assert _path("arc b580", "Q6_K", "2025-06-05") == "coopmat_dequant"
    assert _path("arc b580", "Q6_K", "2025-06-04") == "shader"


def test_a_rows_stated_configuration_overrides_the_default():
    """A column run with coopmat disabled ("int dot") or with both disabled ("fp16") takes that path."""
    assert _path("rtx 3090", "Q4_0", "2025-03-31", "int_dot") == "mmq"
    assert _path("rtx 3090", "Q4_0", "2025-03-31", "shader") == "shader"
    assert _path("rtx 3090", "F16", "", "int_dot") == "shader"


def test_path_peaks_count_lanes_times_clock_times_ops():
    """MMQ: 4x8-bit dot = 8 ops per lane per clock (AMD); NVIDIA Ampere 4 per CUDA core (one INT32 lane per two); the
    scalar shader: a packed half2 FMA, 4 per lane (AMD), the FP32 FMA rate on NVIDIA; coopmat: the listed rate."""
    xt = _vk("rx 6800 xt")
    # x the dot4's share of the VALU issue slots on RDNA 2's 4 x 8 register tile (5b-vkamd10)
    assert vp.peak(xt, "mmq", RULES, 1.0) == pytest.approx(4608 * 2.25e9 * 8 * 8 / (8 + 3 + 13 / 8 + 3 / 4))
    assert vp.peak(xt, "shader", RULES, 1.0) == pytest.approx(4608 * 2.25e9 * 4)
    g = _vk("rtx 3090")
    assert vp.peak(g, "mmq", RULES, 1.0) == pytest.approx(10496 * 1.695e9 * 4)
    assert vp.peak(g, "shader", RULES, 1.0) == pytest.approx(10496 * 1.695e9 * 2)
    assert vp.peak(g, "coopmat2", RULES, _device_flops(g)) == g.fp16_acc16_flops
    assert vp.peak(_vk("rtx 2070"), "mmq", RULES, 1.0) == pytest.approx(2304 * 1.62e9 * 8)


def test_tiles_follow_the_vendor_and_build():
    """ggml_vk_guess_matmul_pipeline at m = thousands of rows, n = 512: the large 128x128 tile where mul_mat_l is set
    (AMD with coopmat since PR #18749, 2026-01-11; NVIDIA always), else the medium 64x64; coopmat2 128x256."""
    with vp.as_of_build("2025-07-31"):
        assert vp.tile(_vk("ryzen ai max+ 395 128gb"), "mmq", RULES) == (64, 64)
    with vp.as_of_build("2026-01-11"):
        assert vp.tile(_vk("ryzen ai max+ 395 128gb"), "mmq", RULES) == (128, 128)
        assert vp.tile(_vk("rx 6800 xt"), "mmq", RULES) == (64, 64)
    assert vp.tile(_vk("rtx 3090"), "coopmat2", RULES) == (128, 256)


def test_strix_halo_prefill_is_the_coopmat1_matmul_and_a_k_quant_is_slower():
    """Strix Halo in mid-2025 runs both Q4_0 and Q4_K_M through the dequantizing coopmat1 matmul at 64x64 tiles
    (session 16, 5b-vkamd4): compute-bound (the activation tile comes from the L2 on AMD, so the weights alone set the
    floor), the K-quant's super-block tiles slower than Q4_0's (measured 788 against 1230 tokens/s)."""
    m = machine_from_profile(hw_names.resolve("ryzen ai max+ 395 128gb"), 1)
    m = replace(m, devices=(replace(m.devices[0], backend="vulkan"),))
    model = get_model("llama2:7b")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with vp.as_of_build("2025-07-31"):
        q40 = estimate_speed(model, get_quant("Q4_0"), pl, m).prefill_tokens_per_s
        qk = estimate_speed(model, get_quant("Q4_K_M"), pl, m).prefill_tokens_per_s
        traffic = vp.traffic_seconds(m.devices[0], token_work(model, get_quant("Q4_0")).layer_matrices)
    assert 1.0 / q40 > 3 * traffic  # compute-bound
    assert 1000 < q40 < 1500 and 650 < qk < 0.8 * q40


def test_each_path_has_one_fitted_efficiency_for_every_gpu():
    eff = dict(efficiency("vulkan").vulkan_paths)
    assert {"coopmat2", "mmq", "shader", "tile_legacy", "tile_superblock"} <= set(eff)
    assert eff.pop("coopmat_mma") == 1.0  # fixed at the listed matrix rate, not fitted (5b-vkamd4)
    assert all(0.1 < v < 1.0 for v in eff.values())


def test_switched_off_the_vulkan_prefill_is_the_listed_peak_again():
    m = machine_from_profile(hw_names.resolve("rx 6800 xt"), 1)
    m = replace(m, devices=(replace(m.devices[0], backend="vulkan"),))
    model = get_model("llama3.1:8b")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with vp.listed_peak_only():
        assert vp.path_seconds(m.devices[0], token_work(model, get_quant("Q4_0")).layer_matrices, 1.0) is None
        off = estimate_speed(model, get_quant("Q4_0"), pl, m).prefill_tokens_per_s
    on = estimate_speed(model, get_quant("Q4_0"), pl, m).prefill_tokens_per_s
    # int-dot MMQ issues 8 x 0.598 ops per lane-clock (its dot4s' share of the VALU slots, 5b-vkamd10) against the
    # listed figure's packed-FP16 4: still faster than the listed peak
    assert on > off
