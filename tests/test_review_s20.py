"""Session 20 review (rev20): README figures that the session's changes had left behind what the benchmarks and the
data print, and a typed APU name with a size its GPU was never sold with."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.catalog.data import load
from selfhost_advisor.errors import UnknownHardwareError

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_readme_states_the_serving_bands_that_cost_prints():
    """`advisor cost` prints the band as x{lo:.2f}-{hi:.2f} (cost/sensitivity.throughput_line): the README's serve
    section must give the same figures (it said x0.39-0.89 after the MoE band became 0.388-0.895, printed x0.39-0.90)."""
    vllm = load("serving")["vllm"]
    dense, moe = vllm["throughput_band"], vllm["moe_throughput_band"]
    text = _flat(README)
    assert (f"x{dense[0]:.2f}-{dense[1]:.2f} for dense models; for mixtures of experts x{moe[0]:.2f}-{moe[1]:.2f}"
            in text)


def test_readme_rocm_held_out_figures_are_what_rocm_heldout_prints():
    """The ROCm accuracy sentence gives benchmarks/rocm_heldout.py's blind figures: the row counts exactly and the
    medians within half a point (it said 17.6% on 103 prompt rows and 9.6% on 67 decode rows after session 20 added 38
    Strix Halo rows: 19.6% on 122, 7.6% on 86)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import rocm_heldout

    rs = rocm_heldout.rows()
    s = rocm_heldout.summary(rs)
    m = re.search(r"\((\d+(?:\.\d+)?)% on the (\d+) ROCm prefill rows held out of every fit; decode (\d+(?:\.\d+)?)% on "
                  r"(\d+), (\d+(?:\.\d+)?)% on the (\d+) of 2025-26 builds", _flat(README))
    assert m, "the README's ROCm held-out sentence"
    pre, dec, new = (s["prefill / all blind rows"], s["decode / all blind rows"], s["decode / builds of 2025-26"])
    assert (int(m.group(2)), int(m.group(4)), int(m.group(6))) == (pre["rows"], dec["rows"], new["rows"])
    assert float(m.group(1)) == pytest.approx(pre["median_abs_error_pct"], abs=0.5)
    assert float(m.group(3)) == pytest.approx(dec["median_abs_error_pct"], abs=0.5)
    assert float(m.group(5)) == pytest.approx(new["median_abs_error_pct"], abs=0.5)


@pytest.mark.parametrize("typed", ["radeon 8050s 48gb", "8050s 16gb", "AMD Radeon 8050S 999999GB"])
def test_a_strix_halo_gpu_with_a_size_never_sold_is_refused_with_the_sizes(typed):
    """'radeon 8050s 48gb' was 'unknown hardware' with suggestions of other parts (a W7800, an RX 6800S); the chip's
    name ('ryzen ai max 385 48gb') and the 8060S's were refused with the sizes sold."""
    with pytest.raises(UnknownHardwareError) as e:
        hw_names.resolve(typed)
    assert not isinstance(e.value, AmbiguousHardwareError)
    assert "Radeon 8050S" in str(e.value) and "unknown hardware" not in str(e.value)
    assert e.value.hint == "sizes: 32 GB, 64 GB, 128 GB"


@pytest.mark.parametrize("value", ["maybe", "2", "on?"])
def test_a_custom_spec_unified_value_that_is_not_yes_or_no_is_refused(value):
    """unified=maybe was read as false without a word: a Metal spec sheet was then fitted as a discrete GPU."""
    from selfhost_advisor.catalog.custom_hw import parse_custom
    from selfhost_advisor.errors import BadOptionError

    with pytest.raises(BadOptionError) as e:
        parse_custom(f"custom:vram=8GB,bandwidth=100GB/s,fp16=5TFLOPS,backend=metal,unified={value}")
    assert f"unified='{value}' is not true or false" in str(e.value)


@pytest.mark.parametrize("value, unified", [("true", True), ("YES", True), ("1", True), ("false", False), ("No", False),
                                            (True, True), (False, False), (None, False)])
def test_a_custom_spec_unified_value_reads_as_written(value, unified):
    from selfhost_advisor.catalog.custom_hw import custom_profile

    fields = {"vram": "8GB", "bandwidth": "100GB/s", "fp16": "5TFLOPS", "backend": "rocm", "unified": value}
    p, _ = custom_profile(fields, "test")
    assert p.unified is unified and p.kind == ("apu" if unified else "gpu")


@pytest.mark.parametrize("typed, want", [("gtx 1660s", "gtx-1660-super"), ("GeForce GTX 1650S", "gtx-1650-super"),
                                         ("1660s", "gtx-1660-super"), ("rtx 2070s", "rtx-2070-super"),
                                         ("rtx-4070s", "rtx-4070-super"), ("geforce-rtx-4070s", "rtx-4070-super"),
                                         ("gtx-1660s", "gtx-1660-super")])
def test_a_gtx_super_shortened_with_its_prefix_resolves_as_without_it(typed, want):
    """'1660s' resolved to the GTX 1660 SUPER but 'gtx 1660s' was unknown: the short form took 'rtx' only; written as
    an id ('rtx-4070s') it was unknown too."""
    assert hw_names.resolve(typed).id == want


def test_the_amdvlk_unpacked_fp16_rule_names_its_source_in_the_blocks_source_field():
    """vulkan_amd.unpacked_fp16_drivers (session 20) cited GPUOpen-Drivers/AMDVLK#279 in a comment only: the block's
    `source`, what a reader of the compiled data sees, did not name it."""
    rule = load("speed")["vulkan_amd"]
    assert rule["unpacked_fp16_drivers"] == ["amdvlk"]
    assert "github.com/GPUOpen-Drivers/AMDVLK/issues/279" in rule["source"]


@pytest.mark.parametrize("typed", ["radeon 780m ddr5-5600 16gb 32gb", "AMD Ryzen AI Max+ 395 (Strix Halo) 128GB 16gb"])
def test_an_apu_name_stating_two_memory_sizes_is_refused_not_read_at_the_first(typed):
    """A GPU or Mac name stating two sizes is refused (hw_names._memory_checked); an APU's was priced at the first
    size it stated (the 16 GB 780M laptop, the 128 GB Strix Halo)."""
    with pytest.raises(UnknownHardwareError):
        hw_names.resolve(typed)
    assert hw_names.resolve("radeon 780m ddr5-5600 16gb").id == "radeon-780m-ddr5-5600-16gb"
