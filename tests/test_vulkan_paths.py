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


def test_amd_rdna3_runs_integer_dot_mmq_from_the_build_that_created_it():
    """MMQ pipelines exist in the KHR-coopmat branch too: legacy quants since PR #12135 (2025-03-31), K-quants since
    PR #16536 (2025-10-29); before, and for the IQ types, the weights are dequantized to shared memory for coopmat."""
    assert _path("rx 7900 xtx", "Q4_0", "2025-03-30") == "coopmat_dequant"
    assert _path("rx 7900 xtx", "Q4_0", "2025-03-31") == "mmq"
    assert _path("ryzen ai max+ 395 128gb", "Q4_K", "2025-07-31") == "coopmat_dequant"
    assert _path("ryzen ai max+ 395 128gb", "Q4_K", "2025-11-01") == "mmq"
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
    assert vp.peak(xt, "mmq", RULES, 1.0) == pytest.approx(4608 * 2.25e9 * 8)
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


def test_strix_halo_prefill_waits_on_memory_and_a_k_quant_is_slower_before_k_quant_mmq():
    """Strix Halo (256 GB/s for 59 TFLOPS) in mid-2025 runs Q4_0 as MMQ at 64x64 tiles: the Q8_1 activations, read
    once per 64 weight rows, bind (llama2 7B: about 1500 tokens/s, measured 1230); a K-quant then went through the
    dequantizing coopmat path and comes out slower than Q4_0 (measured 788 against 1230)."""
    m = machine_from_profile(hw_names.resolve("ryzen ai max+ 395 128gb"), 1)
    m = replace(m, devices=(replace(m.devices[0], backend="vulkan"),))
    model = get_model("llama2:7b")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with vp.as_of_build("2025-07-31"):
        q40 = estimate_speed(model, get_quant("Q4_0"), pl, m).prefill_tokens_per_s
        qk = estimate_speed(model, get_quant("Q4_K_M"), pl, m).prefill_tokens_per_s
        traffic = vp.traffic_seconds(m.devices[0], token_work(model, get_quant("Q4_0")).layer_matrices)
    assert 1.0 / q40 == pytest.approx(traffic, rel=0.05)  # memory-bound
    assert 1200 < q40 < 1700 and qk < q40


def test_each_path_has_one_fitted_efficiency_for_every_gpu():
    eff = dict(efficiency("vulkan").vulkan_paths)
    assert {"coopmat2", "mmq", "shader"} <= set(eff)
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
    assert on > 1.2 * off  # int-dot MMQ runs at twice the packed-FP16 rate the listed figure is
