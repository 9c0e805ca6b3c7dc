"""Intel laptop iGPUs added in session 15 (data/apu.yaml): Arrow Lake-H's Arc 140T and Panther Lake's Arc B390 resolve
by GPU and CPU name with their memory; their rates follow the sourced core counts and clocks (docs/methodology.md
5b-sycl5)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError
from selfhost_advisor.estimate import sycl_path
from selfhost_advisor.estimate.kernel_path import gpu_clock_hz

GIB = 2**30


@pytest.mark.parametrize("typed, pid", [
    ("arc 140t lpddr5x-8400 32gb", "arc-140t-lpddr5x-8400-32gb"),
    ("Intel Arc 140T DDR5-6400 96GB", "arc-140t-ddr5-6400-96gb"),
    ("core ultra 9 285h lpddr5x-8400 16gb", "arc-140t-lpddr5x-8400-16gb"),
    ("arc b390 lpddr5x-9600 32gb", "arc-b390-lpddr5x-9600-32gb"),
    ("core ultra x9 388h lpddr5x-8533 16gb", "arc-b390-lpddr5x-8533-16gb"),
])
def test_arc_140t_and_b390_resolve_by_gpu_and_cpu_name(typed, pid):
    assert get_profile(typed).id == pid


def test_their_bandwidth_is_a_128_bit_bus_and_fp16_the_xmx_rate():
    # notebookcheck: Arrow Lake-H "LPDDR5/x-8400 or DDR5-6400 (dual channel)"; 16 bytes a transfer
    assert get_profile("arc 140t lpddr5x-8400 32gb").bandwidth_bytes_per_s == 16 * 8400 * 10**6
    assert get_profile("arc 140t ddr5-6400 32gb").bandwidth_bytes_per_s == 16 * 6400 * 10**6
    assert get_profile("arc b390 lpddr5x-9600 32gb").bandwidth_bytes_per_s == 16 * 9600 * 10**6
    # 8 Xe cores x 2048 FP16 FLOP/clk x 2.35 GHz; INT8 twice that = Intel's "77 TOPS"
    p = get_profile("arc 140t lpddr5x-8400 32gb")
    assert p.fp16_flops == pytest.approx(8 * 2048 * 2.35e9, rel=0.01)
    assert 2 * p.fp16_flops / 1e12 == pytest.approx(77, rel=0.01)
    # 12 Xe3 cores x 2048 x 2.5 GHz
    assert get_profile("arc b390 lpddr5x-9600 32gb").fp16_flops == pytest.approx(12 * 2048 * 2.5e9, rel=0.01)


def test_their_vector_lanes_are_the_shader_counts_read():
    """1024 shaders (140T, TechPowerUp), 1536 (B390, Chips and Cheese): 128 lanes a core at the read boost clocks."""
    for name, lanes, clock in (("arc 140t lpddr5x-8400 32gb", 1024, 2.35e9), ("arc b390 lpddr5x-9600 32gb", 1536, 2.5e9)):
        d = machine_from_profile(get_profile(name), 1).devices[0]
        assert (sycl_path.vector_lanes(d), gpu_clock_hz(d)) == (lanes, clock)


def test_a_bare_name_is_refused_with_its_configurations_and_ddr5_is_not_a_b390_memory():
    with pytest.raises(AmbiguousHardwareError):
        get_profile("arc b390")
    with pytest.raises(AmbiguousHardwareError):
        get_profile("core ultra 7 255h")
    with pytest.raises(UnknownHardwareError):
        get_profile("arc b390 ddr5-6400 32gb")  # the Arc-branded Panther Lake H parts take no DDR5


@pytest.mark.parametrize("typed, pid", [
    ("arc 130t lpddr5x-8400 32gb", "arc-130t-lpddr5x-8400-32gb"),
    ("core ultra 5 225h ddr5-6400 64gb", "arc-130t-ddr5-6400-64gb"),
    ("arc b370 lpddr5x-8533 32gb", "arc-b370-lpddr5x-8533-32gb"),
    ("core ultra 5 338h lpddr5x-7467 16gb", "arc-b370-lpddr5x-7467-16gb"),
])
def test_arc_130t_and_b370_resolve_by_gpu_and_cpu_name(typed, pid):
    """Session 18: the Core Ultra 5 parts of Arrow Lake H (Arc 130T) and Panther Lake (Arc B370) had no profile."""
    assert get_profile(typed).id == pid


def test_130t_and_b370_rates_follow_their_cores_and_clocks_and_their_vulkan_class():
    """130T: 7 Xe-LPG+ cores (112 vector engines) at 2.2 GHz; B370: 10 Xe3 cores at 2.3 GHz; 2048 FP16 FLOP/clk per
    core on XMX; 128 lanes a core. To ggml-vulkan the 130T is INTEL_XE1 like the 140T, the B370 INTEL_XE2 like the
    B390; the Arc B370 name needs LPDDR5X-7467 or faster, so no DDR5."""
    from selfhost_advisor.estimate import vulkan_path as vp
    from selfhost_advisor.record import replace

    for name, cores, clock, arch in (("arc 130t lpddr5x-8400 32gb", 7, 2.2e9, "Xe-LPG+"),
                                     ("arc b370 lpddr5x-8533 32gb", 10, 2.3e9, "Xe3-LPG")):
        p = get_profile(name)
        assert p.fp16_flops == pytest.approx(cores * 2048 * clock, rel=0.01)
        d = replace(machine_from_profile(p, 1).devices[0], backend="vulkan")
        assert (sycl_path.vector_lanes(d), gpu_clock_hz(d)) == (cores * 128, clock)
        assert vp.architecture(d) == arch
    assert get_profile("arc b370 lpddr5x-7467 32gb").bandwidth_bytes_per_s == pytest.approx(16 * 7467e6, rel=0.001)
    with pytest.raises(UnknownHardwareError):
        get_profile("arc b370 ddr5-6400 32gb")
