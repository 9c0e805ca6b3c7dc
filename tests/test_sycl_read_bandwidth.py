"""ggml-sycl streams at the die's measured read rate where it is below the spec sheet's (estimate/sycl_path.
stream_bandwidth; data/speed.yaml sycl_paths.read_bandwidth; docs/methodology.md 5b-sycl13)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import sycl_path
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace


def _machine(name: str, backend: str = "sycl"):
    m = machine_from_profile(hw_names.resolve(name), 1)
    return replace(m, devices=(replace(m.devices[0], backend=backend),))


@pytest.mark.parametrize("name,spec,read", [
    ("arc a770 16gb", 560e9, 406.8e9),  # ACM-G10 at 17.5 Gbps: the die's clpeak figure
    ("arc a750", 512e9, 406.8e9),  # the same die at 16 Gbps: the same figure
    ("data center gpu flex 170", 512e9, 406.8e9),
    ("data center gpu max 1100", 1230e9, 737.51e9),  # OpenCL-Benchmark's coalesced read
    ("arc b580", 456e9, 456e9),  # Xe2: memory compression inflates the tests, no figure taken
    ("arc pro b70", 608e9, 608e9),
])
def test_each_intel_gpu_streams_at_its_measured_read_rate_or_its_spec(name, spec, read):
    d = _machine(name).devices[0]
    assert d.bandwidth_bytes_per_s == pytest.approx(spec, rel=0.01)
    assert sycl_path.stream_bandwidth(d) == pytest.approx(read, rel=1e-6)


def test_only_sycl_devices_are_capped_and_the_spec_figure_stays_on_the_device():
    vk = _machine("arc a770 16gb", "vulkan")
    assert sycl_path.stream_machine(vk) is vk  # the Vulkan family's Intel factors were fitted at the spec figure
    sy = _machine("arc a770 16gb")
    capped = sycl_path.stream_machine(sy)
    assert capped.devices[0].bandwidth_bytes_per_s == pytest.approx(406.8e9)
    assert sy.devices[0].bandwidth_bytes_per_s == pytest.approx(560e9)  # the caller's machine is not changed
    b580 = _machine("arc b580")
    assert sycl_path.stream_machine(b580) is b580


def test_the_a770s_faster_memory_buys_no_decode_speed_under_sycl():
    """The A770 16GB (17.5 Gbps, 560 GB/s) and 8GB (16 Gbps, 512 GB/s) are one die at one clock: under SYCL both read
    406.8 GB/s, so a model that fits both decodes at one speed; at the spec figures the 16GB would be 9% faster."""
    mod, q = get_model("llama3.1:8b"), get_quant("Q4_K_M")
    placement = Placement("gpu", mod.n_layers + 1, mod.n_layers + 1, 0, 0)
    big = estimate_speed(mod, q, placement, _machine("arc a770 16gb")).decode_tokens_per_s
    small = estimate_speed(mod, q, placement, _machine("arc a770 8gb")).decode_tokens_per_s
    assert big == pytest.approx(small, rel=1e-6)
