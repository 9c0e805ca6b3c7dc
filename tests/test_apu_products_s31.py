"""Session 31 (apu31): more Strix Halo boxes by product name (data/apu.yaml products), and fit --json's
assumptions.speed saying what the engine's footnote says."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30
NEW = ["GMKtec EVO-X2", "Bosgame M5"]


def _product(name):
    return next(p for p in load("apu")["products"] if p["name"] == name)


def _chip(chip):
    return next(c for c in load("apu")["chips"] if c["chip"] == chip)


@pytest.mark.parametrize("name", NEW)
def test_each_version_is_a_size_its_chip_was_sold_in_and_sourced(name):
    p = _product(name)
    assert p["source"] and p["as_of"]
    for b in p["builds"]:
        assert b["memory_gb"] in _chip(b["chip"])["memory_gb"], b


@pytest.mark.parametrize("name", NEW)
def test_name_alone_with_several_versions_is_refused_listing_them(name):
    builds = _product(name)["builds"]
    assert len(builds) > 1
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(name)
    for b in builds:
        assert f"{b['chip']}-{b['memory_gb']}gb" in str(err.value)


@pytest.mark.parametrize("name", NEW)
def test_with_a_size_resolves_to_that_version(name):
    for b in _product(name)["builds"]:
        got = get_profile(f"{name} {b['memory_gb']}GB")
        assert got.memory_bytes == b["memory_gb"] * GIB
        assert got.id == f"{b['chip']}-{b['memory_gb']}gb"  # the curated, priced 395 128 GB where it is that
        assert got.fp16_flops == pytest.approx(_chip(b["chip"])["fp16_tflops"] * 1e12)


@pytest.mark.parametrize("typed", ["gmktec evo-x2 128gb", "GMKtec EVO X2 128GB", "evo-x2 128gb", "gmktec evox2 128 gb"])
def test_evo_x2_spellings(typed):
    assert get_profile(typed).memory_bytes == 128 * GIB


def test_evo_x2_size_not_sold_is_refused_naming_the_versions():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("gmktec evo-x2 32gb")  # the Max+ 395 comes in 32 GB elsewhere, not in this box
    assert "64 GB" in str(err.value) and "128 GB" in str(err.value)


def test_vllm_json_speed_assumption_says_the_band_is_carried_over():
    from selfhost_advisor import api
    from selfhost_advisor.engines import get_engine

    speed = api.as_json(api.fit("llama3.1:8b", "rtx4090", engine="vllm", offline=True))["assumptions"]["speed"]
    assert get_engine("vllm").band_note in speed  # the footnote's words
    assert "fitted per backend family on llama-bench results" not in speed
    llama = api.as_json(api.fit("llama3.1:8b", "rtx4090", offline=True))["assumptions"]["speed"]
    assert "llama-bench results" in llama and "vLLM" not in llama


def test_bosgame_m5_96gb_is_the_max_plus_395_on_the_same_bus():
    got, big = get_profile("bosgame m5 96gb"), get_profile("ryzen ai max+ 395 64gb")
    assert got.memory_bytes == 96 * GIB
    assert (got.bandwidth_bytes_per_s, got.fp16_flops) == (big.bandwidth_bytes_per_s, big.fp16_flops)


def test_96gb_is_sold_on_the_395_only_the_8050s_chips_still_refuse_it():
    assert get_profile("ryzen ai max+ 395 96gb").memory_bytes == 96 * GIB
    for chip in ("ryzen ai max 390 96gb", "ryzen ai max 385 96gb"):
        with pytest.raises(UnknownHardwareError):
            get_profile(chip)
