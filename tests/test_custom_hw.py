"""Hardware from a spec sheet (`custom:` and YAML/JSON files): what the speed model gets, and every refusal (issue 16)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_hw import parse_custom
from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.errors import AdvisorError
from selfhost_advisor.probe.files import load_hardware_file


def test_inline_spec_gives_the_speed_model_its_three_figures():
    p, count = parse_custom("custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS")
    assert (p.memory_bytes, p.bandwidth_bytes_per_s, p.fp16_flops, count) == (16 * 10**9, 448 * 10**9, 60e12, 1)
    assert p.backend == "cuda" and p.kind == "gpu"


def test_bare_numbers_take_the_named_units_and_optional_keys_apply():
    p, count = parse_custom("custom:vram=32GiB,bandwidth=1.8TB/s,fp16=0.4PFLOPS,count=2,backend=rocm,name=Next")
    assert (p.memory_bytes, p.bandwidth_bytes_per_s, p.fp16_flops) == (32 * 2**30, 1.8e12, 0.4e15)
    assert (count, p.vendor, p.name) == (2, "amd", "Next")
    p, _ = parse_custom("custom:vram=16GB,bandwidth=448,fp16=60")
    assert (p.bandwidth_bytes_per_s, p.fp16_flops) == (448e9, 60e12)


def test_cuda_cores_and_clock_feed_the_kernel_rate_term():
    from selfhost_advisor.estimate.speed import sm_cycles_per_s

    p, count = parse_custom("custom:vram=24GB,bandwidth=1008GB/s,fp16=165TFLOPS,cuda_cores=16384,boost_mhz=2520")
    d = machine_from_profile(p, count).devices[0]
    assert sm_cycles_per_s(d) == pytest.approx(16384 / 128 * 2520e6)


def test_metal_spec_is_unified_and_gets_the_working_set_limit():
    p, _ = parse_spec("custom:vram=64GB,bandwidth=546GB/s,fp16=17TFLOPS,backend=metal")[:2]
    d = machine_from_profile(p).devices[0]
    assert d.unified and d.usable_memory_bytes < d.memory_bytes


@pytest.mark.parametrize("spec, names", [
    ("custom:vram=16GB,bandwidth=448GB/s", "fp16 is missing"),
    ("custom:bandwidth=448GB/s,fp16=60", "vram is missing"),
    ("custom:vram=0GB,bandwidth=448,fp16=60", "vram must be positive"),
    ("custom:vram=16GB,bandwidth=0,fp16=60", "bandwidth must be positive"),
    ("custom:vram=16GB,bandwidth=-448GB/s,fp16=60", "bandwidth must be positive"),
    ("custom:vram=16GB,bandwidth=448,fp16=-1", "fp16 must be positive"),
    ("custom:vram=16GB,bandwidth=448,fp16=60,speed=9", "unknown key 'speed'"),
    ("custom:vram=16GB,bandwidth=fast,fp16=60", "bandwidth='fast'"),
    ("custom:vram=16GB,bandwidth=448,fp16=60,backend=opencl", "backend 'opencl'"),
    ("custom:vram=16GB,bandwidth=448,fp16=60,count=0", "count must be between"),
    ("custom:vram=16GB,bandwidth=448,fp16=inf", "fp16='inf'"), ("custom:vram=16GB,bandwidth=448,fp16=1e30", "out of range"),
])
def test_bad_spec_exits_2_naming_the_field(spec, names):
    with pytest.raises(AdvisorError) as err:
        parse_custom(spec)
    assert err.value.exit_code == 2 and names in str(err.value)


def test_the_same_keys_in_a_yaml_or_json_file(tmp_path):
    y = tmp_path / "card.yaml"
    y.write_text("vram: 16GB\nbandwidth: 448GB/s\nfp16: 60TFLOPS\nbackend: sycl\nram: 64GB\n")
    m = load_hardware_file(str(y))
    assert m.devices[0].bandwidth_bytes_per_s == 448e9 and m.devices[0].backend == "sycl" and m.ram_bytes == 64e9
    j = tmp_path / "card.json"
    j.write_text('{"vram": "16GB", "bandwidth": 448}')
    with pytest.raises(AdvisorError, match="fp16 is missing"):
        load_hardware_file(str(j))


def test_the_spec_an_unknown_name_suggests_is_one_that_works():
    # the unknown-hardware hint names a custom spec; a user who copies it must get a machine, not another error
    import re

    with pytest.raises(AdvisorError) as err:
        parse_spec("no-such-gpu-9000")
    spec = re.search(r'--hardware "(custom:[^"]+)"', str(err.value)).group(1)
    profile, count, _ = parse_spec(spec)
    assert count == 1 and machine_from_profile(profile, 1).devices[0].bandwidth_bytes_per_s == 448e9
