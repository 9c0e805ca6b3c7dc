"""Session 31 reviewers' small user-facing issues (ux31): product names of Strix Halo boxes ('framework desktop')."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30


def _framework():
    return next(p for p in load("apu")["products"] if p["name"] == "Framework Desktop")


def test_every_product_entry_is_sourced_and_names_sold_chip_sizes():
    chips = {c["chip"]: c["memory_gb"] for c in load("apu")["chips"]}
    for product in load("apu")["products"]:
        assert product["source"] and product["as_of"], product["name"]
        for b in product["builds"]:
            assert b["memory_gb"] in chips[b["chip"]], (product["name"], b)


@pytest.mark.parametrize("name", ["framework desktop", "Framework Desktop", "framework-desktop",
                                  "framework desktop mainboard"])
def test_framework_desktop_alone_is_refused_with_every_build(name):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(name)
    msg = str(err.value)
    for b in _framework()["builds"]:
        assert f"{b['chip']}-{b['memory_gb']}gb" in msg, (b, msg)


def test_framework_desktop_with_a_size_is_that_build_chip_and_memory():
    for b in _framework()["builds"]:
        got = get_profile(f"Framework Desktop {b['memory_gb']}GB")
        assert got.memory_bytes == b["memory_gb"] * GIB
        chip = next(c for c in load("apu")["chips"] if c["chip"] == b["chip"])
        assert got.fp16_flops == pytest.approx(chip["fp16_tflops"] * 1e12)  # the 32 GB build is the Max 385's GPU
        assert got.bandwidth_bytes_per_s == chip["bandwidth_gbps"] * 1e9


def test_framework_desktop_size_not_sold_names_the_builds():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("framework desktop 96gb")
    assert "96 GB" in str(err.value) and "128 GB" in str(err.value) and "Max 385" in str(err.value)


def test_a_longer_word_is_not_the_product():
    with pytest.raises(UnknownHardwareError):
        get_profile("framework desktopx")
