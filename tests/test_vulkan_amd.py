"""Vulkan on AMD: the per-architecture rules of estimate/vulkan_path.py's amd_* functions (docs/methodology.md
5b-vkamd; data/speed.yaml vulkan_amd)."""
from __future__ import annotations

import pytest
from heldoutkit import abs_errors, assert_median_within, vulkan_block

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.record import replace


def _vk(name: str):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan")


def test_gcn_multiplies_at_the_fp32_rate_rdna_at_packed_fp16():
    """ggml-vulkan builds the FP32 matmul shaders where device->fp16 is false (no VK_KHR_shader_float16_int8: GCN
    before 5, RADV's Polaris line "fp16: 0"), so the scalar path issues 2 operations per lane per clock there; Vega
    20 reads "fp16: 1" but its FP16 matmul kernels ran no faster than the FP32 one (PR #12015: f16 4.21, f32 4.96
    TFLOPS on a Pro VII; session 18), so 2 there too until llama/24123 (2026-06-09) called v_dot2_f32_f16: 4 from
    then, as today's build; RDNA keeps packed FP16 (4)."""
    rules = vp.path_rules()
    with vp.as_of_build("2025-09-07"):
        for name, arch, per in (("rx 480", "GCN 4.0", 2), ("rx 570", "GCN 4.0", 2),
                                ("radeon pro vii", "GCN 5.1", 2), ("rx 5700 xt", "RDNA 1.0", 4)):
            d = _vk(name)
            assert vp.architecture(d) == arch, name
            lane_hz = kernel_path.vector_lanes(d) * kernel_path.gpu_clock_hz(d)
            assert vp.peak(d, "shader", rules, None) == pytest.approx(lane_hz * per), name
    vega = _vk("radeon pro vii")
    for date in ("2026-06-09", ""):  # the dot2 build, and today's
        with vp.as_of_build(date):
            assert vp.peak(vega, "shader", rules, None) == pytest.approx(3840 * 1.7e9 * 4), date
    with vp.as_of_build("2026-06-08"):
        assert vp.peak(vega, "shader", rules, None) == pytest.approx(3840 * 1.7e9 * 2)
        assert vp.peak(_vk("rx 570"), "shader", rules, None) < vp.peak(_vk("rx 5700 xt"), "shader", rules, None)
    # NVIDIA keeps its own FP32 rate; integer-dot MMQ is not the FP16 rule's business
    assert vp.amd_shader_ops_per_lane(_vk("rtx 3090")) is None
    # the MMQ peak is the dot4 rate x the share of issue slots the dot4s get on GCN's 4 x 4 register tile (5b-vkamd10)
    assert vp.peak(_vk("radeon pro vii"), "mmq", rules, None) == pytest.approx(3840 * 1.7e9 * 8 * 8 / 15)


def test_polaris_mat_vecs_run_at_the_power_limited_clock_vega_at_boost():
    """llama.cpp PR #10665: an RX 470 and a W8100 drop from 1200 to 750 MHz in mul_mat_vec at their power limit; the
    rule holds for GCN before 5 only (the Radeon Pro VII keeps 3840 lanes x 1.7 GHz)."""
    amd = load("speed")["vulkan_amd"]
    assert amd["power_limited_matvec_clock_share"] == pytest.approx(750 / 1200)
    d = _vk("rx 570")
    full = kernel_path.vector_lanes(d) * kernel_path.gpu_clock_hz(d)
    assert vp.matvec_lane_hz(d) == pytest.approx(full * 750 / 1200)
    assert vp.matvec_lane_hz(_vk("radeon pro vii")) == 3840 * 1.7e9
    assert vp.amd_matvec_clock_share(_vk("rx 7900 xtx")) == 1.0
    # the per-layer kernel chain at that clock too: cycles / (0.625 x boost) - cycles / boost
    hz = kernel_path.gpu_clock_hz(d)
    assert vp.amd_layer_clock_excess(d, 1000.0) == pytest.approx(1000.0 / hz * (1200 / 750 - 1))
    assert vp.amd_layer_clock_excess(_vk("radeon pro vii"), 1000.0) == 0.0


def test_the_rules_name_architectures_the_spec_table_uses():
    """Every architecture the rules list is one data/gpu_specs.yaml gives some AMD GPU (a typo would switch a rule
    off silently)."""
    from selfhost_advisor.catalog.gpu_table import rows

    archs = {r.get("architecture") for r in rows()}
    amd = load("speed")["vulkan_amd"]
    for key in ("no_packed_fp16_architectures", "unpacked_fp16_architectures", "power_limited_matvec_architectures"):
        assert set(amd[key]) <= archs, key


def test_session_13_blind_rows_stay_within_the_documented_figures():
    """docs/methodology.md 5b-vkamd: the AMD rows added held out before this pass's rules, scored after them."""
    rows = vulkan_block("vkamd")
    assert_median_within(abs_errors(rows, "decode"), 7, 4.1)
    assert_median_within(abs_errors(rows, "prefill"), 4, 29.2)


def test_vega_scalar_matmul_is_priced_at_the_fp32_rate_its_kernels_measured():
    """session 18 (methodology 5b-vkamd6): the Pro VII's September 2025 Q4_K_S prompt row ran the dequantizing FP16
    shader (K-quant MMQ came 2025-10-29) at 292.78 t/s; priced on packed FP16 it read +118%, on the FP32 rate its
    kernels measured within 15%. The integer-dot MMQ of the same card keeps its dot4 rate (not this rule's)."""
    rows = [r for r in vulkan_block("vkgcn") if r["hardware"] == "radeon pro vii" and r["quant"] == "Q4_K_S"
            and r["test"] == "pp512"]
    assert len(rows) == 1 and abs(rows[0]["error_pct"]) < 15, rows
    d = _vk("radeon pro vii")
    with vp.as_of_build("2025-09-07"):
        assert vp.amd_shader_ops_per_lane(d) == 2.0
        assert vp.amd_shader_ops_per_lane(_vk("rx 7900 xtx")) is None
    assert vp.amd_shader_ops_per_lane(d) is None  # today's build: v_dot2_f32_f16, the packed rate


def test_amdvlk_runs_the_fp16_shader_at_the_fp32_rate_on_every_architecture():
    """GPUOpen-Drivers/AMDVLK#279: AMDVLK's compiler emits no packed 16-bit math (vkpeak on an RX 6700 XT: fp16-vec4
    = fp16-scalar = fp32), where RADV pairs independent FP16 FMAs (opt_vectorize_callback); so under AMDVLK the FP16
    scalar matmul issues 2 operations per lane per clock on RDNA too, at any build date (no VALVE dot2 extension
    there). The same GPU under RADV or AMD's Windows driver keeps the packed rate; the MMQ dot4 rate is not this
    rule's (session 20, docs/methodology.md 5b-vkamd8)."""
    from selfhost_advisor.estimate import vulkan_intel

    rules = vp.path_rules()
    d = _vk("rx 5700 xt")
    lane_hz = kernel_path.vector_lanes(d) * kernel_path.gpu_clock_hz(d)
    for date in ("2025-02-28", ""):
        with vp.as_of_build(date):
            with vulkan_intel.with_driver("amdvlk"):
                assert vp.amd_shader_ops_per_lane(d) == 2.0, date
                assert vp.peak(d, "shader", rules, None) == pytest.approx(lane_hz * 2), date
                assert vp.peak(d, "mmq", rules, None) == pytest.approx(lane_hz * 8 * vp.mmq_issue_share(d, rules)), date
            for drv in ("radv", "windows", ""):
                with vulkan_intel.with_driver(drv):
                    assert vp.amd_shader_ops_per_lane(d) is None, (date, drv)
                    assert vp.peak(d, "shader", rules, None) == pytest.approx(lane_hz * 4), (date, drv)
    with vulkan_intel.with_driver("amdvlk"):
        assert vp.amd_shader_ops_per_lane(_vk("rtx 3090")) is None  # an NVIDIA GPU has no AMDVLK


def test_radeon_890m_amdvlk_shader_rows_within_the_documented_figures():
    """The 890M's six early-2025 AMDVLK prompt rows (GPD Pocket 4; the FP16 shader path, its device line "matrix cores:
    none"): blind +99..+132% (main bfc0233) on packed FP16; on the FP32 rate of AMDVLK#279 -0.5..+15.9%."""
    rows = [r for r in vulkan_block("vkamd2") if r["hardware"].startswith("radeon-890m") and r["kind"] == "prefill"]
    assert len(rows) == 6 and all(-5 < r["error_pct"] < 20 for r in rows), [r["error_pct"] for r in rows]
