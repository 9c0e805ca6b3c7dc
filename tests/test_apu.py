"""AMD APUs (Strix Halo): every chip x memory size resolves; a bare chip name is refused with the sizes; the iGPU's
share of the memory is the stated OS limit, not Apple's Metal working set; DGX Spark's derived FP16 rates."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, working_set_bytes
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError, apu_profiles
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30


def test_every_apu_configuration_resolves_by_its_id_name_and_typed_name():
    for p in apu_profiles():
        gb = p.raw["memory_gb"]
        if p.raw["chip"].startswith("ryzen-ai-max"):
            chip = p.raw["chip"].rsplit("-", 1)[1]
            typed = (f"ryzen ai max {chip} {gb}gb", f"AI Max+ {chip} {gb}GB")
        else:  # laptop iGPU: named with its memory type and size
            typed = (f"{p.raw['chip'].replace('-', ' ')} {p.raw['ram']} {gb}gb",)
        for name in (p.id, p.name, *typed):
            got = get_profile(name)
            assert (got.id, got.memory_bytes, got.bandwidth_bytes_per_s) == (p.id, p.memory_bytes,
                                                                             p.bandwidth_bytes_per_s), name


def test_laptop_igpu_bandwidth_is_its_memory_bus_and_a_bare_name_is_refused():
    # 128-bit: DDR5-5600 = 2 x 64-bit x 5600 MT/s = 89.6 GB/s; LPDDR5X-7500 x 128-bit = 120 GB/s
    assert get_profile("radeon 780m ddr5-5600 32gb").bandwidth_bytes_per_s == 128 // 8 * 5600 * 10**6
    assert get_profile("radeon 780m lpddr5x-7500 32gb").bandwidth_bytes_per_s == 128 // 8 * 7500 * 10**6
    with pytest.raises(AmbiguousHardwareError):
        get_profile("AMD Radeon 780M")
    with pytest.raises(UnknownHardwareError, match="listed: ddr5-5600 16GB"):
        get_profile("radeon 890m lpddr5x-7500 96gb")  # 96 GB only as two DDR5 SO-DIMMs, not soldered LPDDR5X


@pytest.mark.parametrize("typed", ["ryzen ai max+ 395", "ai max+ 395", "strix-halo", "radeon 8060s", "ryzen ai max 385"])
def test_a_bare_chip_name_is_refused_with_its_memory_sizes(typed):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    assert "32 GiB" in str(err.value) and "128 GiB" in str(err.value)


def test_a_size_or_chip_not_sold_is_unknown_with_what_was():
    with pytest.raises(UnknownHardwareError, match="sizes: 32 GB, 64 GB, 96 GB, 128 GB"):
        get_profile("ryzen ai max+ 395 48gb")
    with pytest.raises(UnknownHardwareError, match="known: Ryzen AI Max"):
        get_profile("ryzen ai max 380")


def test_gpu_share_is_the_apu_rule_and_differs_from_apples_working_set():
    """96 GB of 128 (Windows VGM) is what fit assumes for an AMD APU; a 32 GB Mac gets Apple's 2/3 rule instead."""
    share = float(load("apu")["gpu_share"])
    assert share == 0.75 and float(load("apu")["gpu_share_linux_default"]) == 0.5
    for gb in (32, 64, 128):
        d = machine_from_profile(get_profile(f"ryzen ai max+ 395 {gb}gb"), 1).devices[0]
        assert d.usable_memory_bytes == int(gb * GIB * share) and d.unified
    assert working_set_bytes(32 * GIB) != int(32 * GIB * share)  # Apple's rule gives 2/3 below 36 GiB


def test_the_8050s_chips_have_fewer_compute_units_and_flops_than_the_8060s():
    big, small = get_profile("ai max+ 395 64gb"), get_profile("ai max 385 64gb")
    assert (big.raw["gpu_cores"], small.raw["gpu_cores"]) == (40, 32)
    # the RDNA 3 / 3.5 WMMA rate, on the basis of every other RDNA 3 row (RX 7900 XTX: 96 x 512 x 2.5 GHz = 122.8):
    # 40 CU x 512 FLOP/clk x 2.9 GHz; 32 CU x 512 x 2.8 GHz (clocks: TechPowerUp)
    assert big.fp16_flops == pytest.approx(40 * 512 * 2.9e9, rel=0.01)
    assert small.fp16_flops == pytest.approx(32 * 512 * 2.8e9, rel=0.01)
    xtx = get_profile("rx 7900 xtx")
    assert xtx.fp16_flops == pytest.approx(96 * 512 * 2.498e9, rel=0.01)


def test_dgx_spark_fp16_is_nvidias_fp4_claim_over_sparsity_and_precision():
    d = machine_from_profile(get_profile("dgx spark"), 1).devices[0]
    assert d.fp16_acc16_flops == pytest.approx(1e15 / 2 / 4)  # 1 PFLOP FP4 sparse -> dense -> FP16
    assert d.fp16_flops == pytest.approx(d.fp16_acc16_flops / 2)
    # within 6% of gpu_specs' Blackwell 2.0 rule: 48 SMs x 4 tensor cores x 2.418 GHz x 256 FLOP/clk
    assert d.fp16_acc16_flops == pytest.approx(48 * 4 * 2.418e9 * 256, rel=0.06)


def test_m5_configurations_decode_from_bandwidth_and_prefill_from_the_neural_accelerator_rate():
    """The 10-core M5's listed FP16 is its Neural Accelerators' peak: 1024 FLOP/clk per core (Zakharko's A19
    microbenchmarks; Apple's "over 4x" an M4 core's 256) x 1.74 GHz (hmc-tech) = 17.8 TFLOPS; its shader ALUs keep a
    quarter of it (data/speed.yaml metal_tensor). Prefill: the multiply-adds at the accelerators' peak, the rest of
    what M1-M4 lose at the shader rate (docs/methodology.md 5e), so an M5 prefills faster than an M4 at the same
    efficiency would on its ALUs alone, and slower than its accelerators' peak would allow."""
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.fit import fit

    p = get_profile("m5 32gb")
    assert (p.bandwidth_bytes_per_s, p.raw["gpu_cores"]) == (153 * 10**9, 10)
    assert p.fp16_flops / 10 / 1.74e9 == pytest.approx(1024, rel=0.01)
    assert get_profile("m5 max 128gb").fp16_flops == pytest.approx(4 * p.fp16_flops)
    req = FitRequest(context=4096)
    sp = fit(get("llama3.1:8b"), machine_from_profile(p, 1), req, (get_quant("Q4_K_M"),)).options[0].speed
    assert sp.prefill_tokens_per_s and 0 < sp.decode_tokens_per_s < 153e9 / 4.5e9
    m4 = fit(get("llama3.1:8b"), machine_from_profile(get_profile("m4-32gb"), 1), req,
             (get_quant("Q4_K_M"),)).options[0].speed
    # M4 10-core: 3.76 TFLOPS on its ALUs; an M5's ALUs alone (4.45) would give ~1.2x, its accelerators at the fitted
    # efficiency 4.7x; the split lands between
    ratio = sp.prefill_tokens_per_s / m4.prefill_tokens_per_s
    assert 1.5 < ratio < 4.7 * 0.75, ratio


@pytest.mark.parametrize("typed, err, text", [
    ("m5 pro", AmbiguousHardwareError, "name the memory size"),  # only its top size is sourced: never picked silently
    ("m5 max 96gb", UnknownHardwareError, "not among the sourced configurations"),
    ("m5 max 32-core 128gb", UnknownHardwareError, "32-core GPU 36GB"),  # the choices are listed
])
def test_partly_sourced_m5_chips_never_pick_or_deny_silently(typed, err, text):
    with pytest.raises(err, match=text):
        get_profile(typed)


@pytest.mark.parametrize("typed, pid, cores, gbps", [
    # cputronic.com's M5 Max pages: the 40-core GPU with 48 / 64 / 128 GB at 614 GB/s, the 32-core at ~460 GB/s (36 GB:
    # inference-atlas PR #194); 48 GB as ggerganov's M5 Max reports it (PR #16634: 40200.90 MB = 0.78 x 48 GiB)
    ("m5 max 36gb", "m5-max-32c-36gb", 32, 460),
    ("m5 max 48gb", "m5-max-40c-48gb", 40, 614),
    ("m5 max 64gb", "m5-max-40c-64gb", 40, 614),
    ("m5 max 128gb", "m5-max-40c-128gb", 40, 614),
])
def test_m5_max_bins_resolve_with_their_bandwidth(typed, pid, cores, gbps):
    p = get_profile(typed)
    assert (p.id, p.raw["gpu_cores"], p.bandwidth_bytes_per_s) == (pid, cores, gbps * 10**9)


@pytest.mark.parametrize("typed, want", [
    ("rog ally z1 extreme 16gb", "radeon-z1-extreme-lpddr5-6400-16gb"),  # ROG Ally: 16 GB LPDDR5-6400
    ("ryzen z1 extreme 16gb", "radeon-z1-extreme-lpddr5-6400-16gb"),
    ("rog ally x", "radeon-z1-extreme-lpddr5x-7500-24gb"),               # Ally X: 24 GB LPDDR5X-7500, fixed
    ("asus rog ally x 24gb", "radeon-z1-extreme-lpddr5x-7500-24gb"),
    ("rog ally z1 16gb", "radeon-z1-lpddr5-6400-16gb"),                  # the 4-CU Z1
])
def test_handheld_apus_resolve_by_device_or_chip_name(typed, want):
    """The ROG Ally's Ryzen Z1 Extreme was 'unknown CPU' (session 27's unseen rows could not name it): now its
    configurations, bandwidth = the 128-bit LPDDR5(X) bus, and the GPU as the 780M's Phoenix die (RDNA 3.0)."""
    from selfhost_advisor.estimate import vulkan_path

    p = get_profile(typed)
    assert p.id == want
    ram = p.raw["ram"]
    assert p.bandwidth_bytes_per_s == 128 // 8 * int(ram.rsplit("-", 1)[1]) * 10**6
    dev = machine_from_profile(p).devices[0]
    assert vulkan_path.architecture(dev) == "RDNA 3.0"


def test_a_rog_ally_without_its_chip_is_refused_with_both():
    with pytest.raises(AmbiguousHardwareError, match="radeon-z1-extreme-lpddr5-6400-16gb.*radeon-z1-lpddr5-6400-16gb"):
        get_profile("rog ally 16gb")
    with pytest.raises(UnknownHardwareError, match="24"):
        get_profile("rog ally x 16gb")  # the Ally X's memory is on the board: 24 GB
