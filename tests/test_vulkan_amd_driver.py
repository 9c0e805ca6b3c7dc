"""AMD GPUs under Vulkan: the driver as an input (catalog/backend_words.py) and what ggml-vulkan changes by it
(estimate/vulkan_amd.py; docs/methodology.md 5b-vkamd2)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.errors import UnknownHardwareError
from selfhost_advisor.estimate import vulkan_amd as va
from selfhost_advisor.estimate import vulkan_intel as vi
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.record import replace

RULES = vp.path_rules()


@pytest.mark.parametrize("name, profile, driver", [
    # ggml_vulkan's device line as it prints (deviceName, then driverName): these resolved to ROCm before
    ("AMD Radeon RX 7900 XTX (RADV NAVI31)", "rx-7900-xtx", "radv"),
    ("AMD Radeon RX 7900 XTX (RADV NAVI31) (radv)", "rx-7900-xtx", "radv"),
    ("AMD Radeon RX 7900 XTX (AMD open-source driver)", "rx-7900-xtx", "amdvlk"),
    ("AMD Radeon RX 9070 XT (AMD proprietary driver)", "rx-9070-xt", "windows"),
    ("ryzen ai max+ 395 128gb (AMD open-source driver)", "ryzen-ai-max-395-128gb", "amdvlk"),
    # the words after 'vulkan', and fit's own Hardware line read back
    ("rx 7900 xtx vulkan radv", "rx-7900-xtx", "radv"),
    ("rx 7900 xtx vulkan mesa", "rx-7900-xtx", "radv"),  # AMD's Mesa driver is RADV
    ("rx 7900 xtx vulkan amdvlk", "rx-7900-xtx", "amdvlk"),
    ("rx 7900 xtx vulkan windows", "rx-7900-xtx", "windows"),
    ("AMD Radeon RX 7900 XTX (Vulkan, AMDVLK)", "rx-7900-xtx", "amdvlk"),
    ("arc b580 vulkan mesa", "arc-b580", "mesa"),  # Intel's words unchanged
])
def test_an_amd_driver_selects_vulkan_and_rides_on_the_device(name, profile, driver):
    p, count, _ = parse_spec(name)
    assert (p.id, p.backend, p.raw.get("vulkan_driver"), count) == (profile, "vulkan", driver, 1)


def test_two_driver_notes_are_refused_not_dropped():
    with pytest.raises(UnknownHardwareError, match="two Vulkan drivers"):
        parse_spec("AMD Radeon RX 7900 XTX (RADV NAVI31) (AMD open-source driver)")


def test_without_a_driver_note_an_amd_gpu_keeps_rocm():
    assert parse_spec("AMD Radeon RX 7900 XTX")[0].backend == "rocm"


@pytest.mark.parametrize("name", ["arc b580 vulkan radv", "arc b580 vulkan amdvlk", "rtx 4090 vulkan amdvlk",
                                  "rtx 4090 vulkan mesa"])
def test_a_driver_of_another_vendor_is_refused(name):
    with pytest.raises(UnknownHardwareError, match="not a Vulkan driver of this GPU"):
        parse_spec(name)


def _vk(name: str, driver: str = ""):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver)


def test_the_proprietary_driver_never_gets_the_large_tile_radv_and_amdvlk_do_since_pr_18749():
    """ggml_vk_get_device: mul_mat_l = coopmat_support && driver_id != eAmdProprietary (PR #18749 2026-01-11, PR #18763
    the next day); before PR #18749 no AMD device had it."""
    for driver in ("", "radv", "amdvlk"):
        d = _vk("rx 7900 xtx", driver)
        assert vp.tile(d, "mmq", RULES) == tuple(RULES["tile_large"]), driver
        with vp.as_of_build("2026-01-10"):
            assert vp.tile(d, "mmq", RULES) == tuple(RULES["tile_medium"]), driver
    assert vp.tile(_vk("rx 7900 xtx", "windows"), "mmq", RULES) == tuple(RULES["tile_medium"])
    # RDNA 2 has no KHR coopmat under any driver: medium tiles whatever the driver
    assert vp.tile(_vk("rx 6800 xt", "radv"), "mmq", RULES) == tuple(RULES["tile_medium"])


def test_a_row_driver_reaches_the_tile_choice():
    d = _vk("rx 7900 xtx")
    with vi.with_driver("windows"):
        assert vp.tile(d, "mmq", RULES) == tuple(RULES["tile_medium"])
        assert vp.tile(replace(d, vulkan_driver="radv"), "mmq", RULES) == tuple(RULES["tile_large"])  # its own wins


def test_amdvlk_gets_a_note_other_drivers_and_vendors_none():
    note = va.driver_note([_vk("ryzen ai max+ 395 128gb", "amdvlk")])
    assert note and "AMDVLK" in note and "PR #18749" in note and "AMDVLK#279" in note
    assert va.driver_note([_vk("ryzen ai max+ 395 128gb", "radv")]) is None
    assert va.driver_note([_vk("ryzen ai max+ 395 128gb")]) is None
    assert va.driver_note([replace(_vk("rx 7900 xtx", "amdvlk"), backend="rocm")]) is None
    assert va.driver_note([_vk("arc b580", "mesa")]) is None


def test_bf16_runs_the_fp32_shader_where_amd_exposes_no_bf16_coopmat():
    """ggml_vk_load_shaders: on a coopmat device without coopmat_bf16_support pipeline_matmul_bf16 is the FP32 scalar
    shader (matmul_bf16_fp32); RDNA 3.5 logs read "bf16: 0", RDNA 4 "bf16: 1". FP16 keeps the matrix units."""
    from selfhost_advisor.estimate import kernel_path

    halo, navi48 = _vk("ryzen ai max+ 395 128gb"), _vk("rx 9070 xt")
    assert vp.matmul_path(halo, "BF16", RULES) == "shader"
    assert vp.matmul_path(halo, "F16", RULES) == "coopmat"
    assert vp.matmul_path(navi48, "BF16", RULES) == "coopmat"
    assert vp.matmul_path(_vk("rtx 3090"), "BF16", RULES) == "coopmat2"  # NVIDIA: not this rule's
    n = 1e9
    layers = ((("BF16", n, 2 * n),),)
    lane_hz = kernel_path.vector_lanes(halo) * kernel_path.gpu_clock_hz(halo)
    assert vp.path_seconds(halo, layers, halo.fp16_flops)["shader"] == pytest.approx(2 * n / (lane_hz * 2))
    # without coopmat too: "bf16 scalar path promotes to f32" (RDNA 2: 2 operations per lane per clock for BF16, the
    # packed-FP16 4 for F16)
    rdna2 = _vk("rx 6800 xt")
    lanes2 = kernel_path.vector_lanes(rdna2) * kernel_path.gpu_clock_hz(rdna2)
    assert vp.path_seconds(rdna2, layers, rdna2.fp16_flops)["shader"] == pytest.approx(2 * n / (lanes2 * 2))
    f16 = ((("F16", n, 2 * n),),)
    assert vp.path_seconds(rdna2, f16, rdna2.fp16_flops)["shader"] == pytest.approx(2 * n / (lanes2 * 4))


def test_a_probe_file_keeps_the_vulkan_driver_fit_writes_and_refuses_an_unknown_one():
    """fit --json writes hardware.devices[].vulkan_driver; a hardware file that carries it (edited from a probe, or
    saved) runs on that driver; anything else exits 2 (BadFileError)."""
    from selfhost_advisor.errors import BadFileError
    from selfhost_advisor.probe.files import machine_from_probe

    dev = {"vendor": "amd", "name": "AMD Radeon RX 7900 XTX", "memory_bytes": 24 * 2**30,
           "bandwidth_bytes_per_s": 960 * 10**9, "fp16_flops": 1.2e14, "backend": "vulkan",
           "matched_profile": "rx-7900-xtx", "vulkan_driver": "amdvlk"}
    doc = {"schema_version": "1.9.0", "devices": [dev], "cpu": {"name": "x", "flags": []}, "ram_bytes": 8 * 10**9,
           "warnings": []}
    d = machine_from_probe(doc).devices[0]
    assert (d.backend, d.vulkan_driver, va.driver(d)) == ("vulkan", "amdvlk", "amdvlk")
    assert va.driver_note([d]) is not None
    assert machine_from_probe({**doc, "devices": [{**dev, "vulkan_driver": None}]}).devices[0].vulkan_driver == ""
    with pytest.raises(BadFileError, match="vulkan_driver"):
        machine_from_probe({**doc, "devices": [{**dev, "vulkan_driver": "nouveau"}]})


def _speed(name: str, driver: str, model: str, quant: str):
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate.speed import estimate_speed

    m = machine_from_profile(hw_names.resolve(name), 1)
    m = replace(m, devices=tuple(replace(d, backend="vulkan", vulkan_driver=driver) for d in m.devices))
    mod = get_model(model)
    return estimate_speed(mod, get_quant(quant), Placement("gpu", mod.n_layers + 1, mod.n_layers + 1, 0, 0), m)


def test_amdvlk_with_the_large_tiles_runs_prefill_at_its_measured_share_of_radv():
    """PR #18749 (2026-01-11) gave AMD coopmat GPUs 256-thread 128 x 128 tiles off the proprietary driver only
    (PR #18763); on AMDVLK kyuz0's Strix Halo logs then read pp512 Llama-2-7B Q4_0 347.25 against RADV's 1337.70 on
    build 9187 (the pair data/speed.yaml vulkan_amd.amdvlk_large_tile_share was read on) and 349.95 / 1355.55 on build
    7938 (not used there). Decode equal on both drivers (55.7 / 55.7)."""
    shares = vp._amd_rules()["amdvlk_large_tile_share"]
    for date in ("2026-02-04", "2026-05-18", ""):  # builds with the large tiles, and today's
        with vp.as_of_build(date):
            vlk, radv = (_speed("ryzen ai max+ 395 128gb", d, "llama2:7b", "Q4_0") for d in ("amdvlk", "radv"))
        ratio = vlk.prefill_tokens_per_s / radv.prefill_tokens_per_s
        assert ratio == pytest.approx(349.95 / 1355.55, rel=0.10), date  # the pair not used for the share
        assert shares["coopmat"] * 0.95 < ratio <= shares["coopmat"] * 1.25  # attention is not scaled
        assert vlk.decode_tokens_per_s == pytest.approx(radv.decode_tokens_per_s)
    # BF16: the FP32 scalar shader, a lower share (gemma-3-27b 9.32 / 123.07 at 7938; Ministral-3-14B 19.70 / 222.01)
    with vp.as_of_build("2026-02-04"):
        vlk, radv = (_speed("ryzen ai max+ 395 128gb", d, "ministral-3:14b", "BF16") for d in ("amdvlk", "radv"))
    assert vlk.prefill_tokens_per_s / radv.prefill_tokens_per_s == pytest.approx(19.70 / 222.01, rel=0.20)


def test_the_amdvlk_share_needs_the_large_tiles_and_amdvlk():
    """Before PR #18749 (build 7423, December 2025) AMDVLK is estimated as RADV (it measured 1.3x RADV then, not
    modelled); the proprietary driver and RADV never take the share; RDNA 2 has no coopmat, so no large tiles."""
    layers = ((("Q4_0", 1e9, 5.6e8), ("BF16", 1e9, 2e9)),)
    for name, driver, date in [("ryzen ai max+ 395 128gb", "amdvlk", "2025-12-20"),
                               ("ryzen ai max+ 395 128gb", "radv", "2026-05-18"),
                               ("rx 6800 xt", "amdvlk", "2026-05-18")]:
        d = _vk(name, driver)
        with vp.as_of_build(date):
            base = vp.path_seconds(replace(d, vulkan_driver="radv"), layers, d.fp16_flops)
            assert vp.path_seconds(d, layers, d.fp16_flops) == pytest.approx(base), (name, driver, date)
    # the proprietary driver takes no share either, but keeps the 64-token medium tile (PR #18763): the coopmat1
    # matmul's per-tile work is twice RADV's 128-token large tile's (5b-vkamd4), the coopMatMulAdd the same
    d = _vk("ryzen ai max+ 395 128gb", "windows")
    with vp.as_of_build("2026-05-18"):
        got, base = (vp.path_seconds(x, layers, d.fp16_flops) for x in (d, replace(d, vulkan_driver="radv")))
    assert got["coopmat_mma"] == pytest.approx(base["coopmat_mma"])
    assert got["tile_legacy"] == pytest.approx(2 * base["tile_legacy"])
    d = _vk("ryzen ai max+ 395 128gb", "amdvlk")
    with vp.as_of_build("2026-05-18"):
        got, base = (vp.path_seconds(x, layers, d.fp16_flops) for x in (d, replace(d, vulkan_driver="radv")))
    shares = vp._amd_rules()["amdvlk_large_tile_share"]
    assert got["shader"] == pytest.approx(base["shader"] / shares["scalar"])  # BF16 on the FP32 lanes
    assert {p: got[p] for p in got if p != "shader"} == pytest.approx(
        {p: base[p] / shares["coopmat"] for p in base if p != "shader"})


def test_amdvlk_share_leaves_the_routed_experts_medium_tile_alone():
    """PR #18749 gave AMD coopmat GPUs off the proprietary driver 256-thread 128 x 128 tiles for dense matmuls only
    (ggml_vk_load_shaders: l_warptile / l_warptile_mmq*; the mmqid tiles unchanged) and ggml_vk_get_device sets
    mul_mat_id_l false on AMD, so an MoE's routed experts (MUL_MAT_ID) run the 64 x 64 medium tile on AMDVLK as on RADV:
    kyuz0's Strix Halo gpt-oss-20b pp512 reads 1376.47 on AMDVLK at build 9187 and 1397.71 on RADV at 7938
    (docs/methodology.md 5f-halo4). Only the dense part of each path takes the AMDVLK share."""
    dense = (("Q4_0", 1e9, 5.6e8), ("BF16", 1e9, 2e9))
    experts = (("Q4_0", 4e9, 2e9), ("BF16", 3e9, 6e9))
    d = _vk("ryzen ai max+ 395 128gb", "amdvlk")
    shares = vp._amd_rules()["amdvlk_large_tile_share"]
    with vp.as_of_build("2026-05-18"):
        radv = replace(d, vulkan_driver="radv")
        got, base = (vp.path_seconds(x, (dense + experts,), d.fp16_flops, (experts,)) for x in (d, radv))
        routed = vp.path_seconds(radv, (experts,), d.fp16_flops, (experts,))
    assert got["shader"] == pytest.approx((base["shader"] - routed["shader"]) / shares["scalar"] + routed["shader"])
    for p in ("coopmat_mma", "tile_legacy"):
        assert got[p] == pytest.approx((base[p] - routed[p]) / shares["coopmat"] + routed[p]), p
    # a model of routed experts alone prefills at RADV's rate on AMDVLK
    with vp.as_of_build("2026-05-18"):
        alone = (vp.path_seconds(x, (experts,), d.fp16_flops, (experts,)) for x in (d, radv))
        assert next(alone) == pytest.approx(next(alone))


def test_rdna4_bf16_takes_the_fp32_shader_under_amdvlk_which_exposes_no_bf16_coopmat():
    """kyuz0/amd-r9700-ai-toolboxes (build 7423): the R9700's AMDVLK device line reads "bf16: 0", RADV's on the same
    card "bf16: 1", so ggml_vk_load_shaders builds pipeline_matmul_bf16 from the FP32 shader under AMDVLK only (the
    logs' BF16 prompt there read about half RADV's; two-GPU runs, not scored: 5b-vkamd9). F16 keeps the matrix
    units on both drivers; RDNA 3.5 takes the FP32 shader on every driver."""
    for driver, path in (("radv", "coopmat"), ("windows", "coopmat"), ("", "coopmat"), ("amdvlk", "shader")):
        navi48 = _vk("rx 9070 xt", driver)
        with vp.as_of_build("2025-12-17"):
            assert vp.matmul_path(navi48, "BF16", RULES) == path, driver
            assert vp.matmul_path(navi48, "F16", RULES) == "coopmat", driver
    for driver in ("radv", "amdvlk"):
        assert vp.matmul_path(_vk("ryzen ai max+ 395 128gb", driver), "BF16", RULES) == "shader", driver
