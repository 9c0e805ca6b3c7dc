"""Intel device names as Mesa's Vulkan driver prints them (llama.cpp's device line): the platform in parentheses
decides ('Intel(R) Graphics (LNL)' is Lunar Lake), from the PCI-id rows of data/probe.yaml and Mesa's
include/pci_ids/iris_pci_ids.h (catalog/hw_names.py _mesa_platform); Panther Lake's CPUs and its 0xB080 id in the probe.
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError, resolve
from selfhost_advisor.catalog.data import load
from selfhost_advisor.errors import UnknownHardwareError


def _choices(name: str) -> set[str]:
    with pytest.raises(AmbiguousHardwareError) as e:
        resolve(name)
    return {w.split(" (")[0] for w in e.value.args[0].split(": ", 1)[1].split(", ")}


def test_mesas_lunar_lake_name_is_refused_with_the_lunar_lake_gpus_only():
    # PR #14001's Linux device line: "Intel(R) Graphics (LNL) (Intel open-source Mesa driver)"
    for name in ("Intel(R) Graphics (LNL)", "Intel(R) Graphics (LNL) (Intel open-source Mesa driver)"):
        got = _choices(name)
        assert got == {"arc-140v-lpddr5x-8533-16gb", "arc-140v-lpddr5x-8533-32gb", "arc-130v-lpddr5x-8533-16gb",
                       "arc-130v-lpddr5x-8533-32gb"}, got


def test_an_arc_name_with_lnl_is_lunar_lake_not_meteor_lake():
    # 'Arc Graphics' alone is Meteor Lake's alias; the platform decides
    got = _choices("Intel(R) Arc(tm) Graphics (LNL)")
    assert got and all(c.startswith(("arc-140v", "arc-130v")) for c in got)
    assert all(c.startswith("arc-meteor-lake") for c in _choices("Intel(R) Arc(tm) Graphics (MTL)"))


@pytest.mark.parametrize("name, chip", [(("Intel(R) Graphics (ARL)"), ("arc-140t", "arc-130t")),
                                        ("Intel(R) Graphics (PTL)", ("arc-b390", "arc-b370")),
                                        ("Intel(R) Graphics (MTL)", ("arc-meteor-lake",))])
def test_arrow_panther_and_meteor_lake_platform_names_list_their_gpus(name, chip):
    assert all(c.startswith(chip) for c in _choices(name))


def test_a_stated_memory_size_narrows_the_platform_choices():
    assert _choices("Intel(R) Graphics (LNL) 32GB") == {"arc-140v-lpddr5x-8533-32gb", "arc-130v-lpddr5x-8533-32gb"}


def test_battlemage_g21_lists_its_cards_and_a_named_card_still_resolves_by_its_product():
    assert _choices("Intel(R) Graphics (BMG G21)") == {"arc-b580", "arc-b570", "arc-pro-b50", "arc-pro-b60"}
    assert resolve("Intel(R) Arc(tm) A310 Graphics (DG2)").id == "arc-a310"  # the product, not the platform
    assert resolve("Intel(R) Arc(tm) B580 Graphics (BMG G21)").id == "arc-b580"


def test_meteor_lakes_non_arc_name_says_it_has_no_profile():
    with pytest.raises(AmbiguousHardwareError) as e:
        resolve("Intel(R) Graphics (MTL)")
    assert "no profile" in e.value.hint and "custom:" in e.value.hint


def test_an_unknown_platform_is_not_guessed():
    with pytest.raises(UnknownHardwareError) as e:
        resolve("Intel(R) Iris(R) Xe Graphics (TGL GT2)")
    assert not isinstance(e.value, AmbiguousHardwareError)


@pytest.mark.parametrize("cpu", ["core ultra x7 358h", "Intel Core Ultra X7 368H", "core ultra x9 388h"])
def test_panther_lakes_arc_b390_cpus_name_it(cpu):
    # X7 358H: tubatoolsPlugin user reports ("Intel Core Ultra X7 358H / Intel(R) Arc(TM) B390 GPU"); X7 368H:
    # llama.cpp PR #17374 ("Arc B390 (UX7-368H ...)"); X9 388H: data/apu.yaml's first source
    assert all(c.startswith("arc-b390") for c in _choices(cpu))
    assert resolve(f"{cpu} 32gb lpddr5x-9600").id == "arc-b390-lpddr5x-9600-32gb"


def test_every_mesa_platform_row_names_a_known_chip_or_card():
    rows = load("probe")["intel_gpus"]["devices"]
    assert all(r.get("mesa") for r in rows)
    assert {r["mesa"] for r in rows} >= {"LNL", "MTL", "ARL", "PTL", "BMG G21", "DG2"}


def test_the_probe_names_panther_lakes_0xb080_as_the_arc_b390_from_the_cpu(tmp_path):
    """PCI 0xB080: ggml-vulkan's "PTL Xe3 LPG 2x6 (12 subslices)" (ggml_vk_intel_shader_core_count), Mesa's PTL; with
    a Core Ultra X7 358H the chip is the Arc B390, whose two LPDDR5X speeds differ in bandwidth: named, not picked."""
    from test_probe_intel import GiB, intel_card, run

    intel_card(tmp_path, "0xb080", "xe", bdf="0000:00:02.0")
    r = run(tmp_path, {"brand_raw": "Intel(R) Core(TM) Ultra X7 358H", "flags": ["avx2"]}, 32 * GiB)
    assert r.machine.devices == ()
    [w] = [w for w in r.warnings if "memory type" in w]
    assert "Arc B390 LPDDR5X-9600 32GB" in w and "Arc B390 LPDDR5X-8533 32GB" in w


def test_the_probe_knows_arrow_lake_hs_second_id(tmp_path):
    from test_probe_intel import GiB, intel_card, run

    intel_card(tmp_path, "0x7dd1", "xe", bdf="0000:00:02.0")  # Mesa iris_pci_ids.h: arl_h, "ARL"
    r = run(tmp_path, {"brand_raw": "Intel(R) Core(TM) Ultra 7 255H", "flags": ["avx2"]}, 32 * GiB)
    [w] = [w for w in r.warnings if "memory type" in w]
    assert "Arc 140T LPDDR5X-8400 32GB" in w and "Arc 140T DDR5-6400 32GB" in w


def test_panther_lakes_xe3_is_ggml_vulkans_intel_xe2_class_coopmat_and_decode_law():
    """Xe3 runs SIMD16 as Xe2 (minimum subgroup 16 -> INTEL_XE2), which ggml_vk_khr_cooperative_matrix_support allows
    ("Only allowing Xe2/Xe3 GPU"): Panther Lake's B390 takes KHR coopmat from PR #14001's date and, like Xe2 in a 2026
    build, decodes at the family's law; Arrow Lake H's Xe-LPG+ (INTEL_XE1) does neither on ANV."""
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.estimate import vulkan_intel as vi
    from selfhost_advisor.estimate import vulkan_path as vp
    from selfhost_advisor.estimate.speed import _speed_data
    from selfhost_advisor.record import replace

    rules = _speed_data()["vulkan_prefill_path"]
    d = replace(machine_from_profile(resolve("arc-b390-lpddr5x-9600-32gb"), 1).devices[0], backend="vulkan")
    assert vp.architecture(d) == "Xe3-LPG"
    with vp.as_of_build("2025-06-04"):
        assert vp.features(d, rules)[0] == "none"
    with vp.as_of_build("2026-08-21"):
        assert vp.features(d, rules)[0] == "coopmat"
    assert vi.decode_at_law("Xe3-LPG", "2026-08-21") and not vi.decode_at_law("Xe3-LPG", "2025-06-04")
    assert not vi.decode_at_law("Xe-LPG+", "2026-08-21")


@pytest.mark.parametrize("name", ["Intel(R) Graphics (LNL)", "Intel(R) Graphics (MTL)", "Intel(R) Arc(tm) Graphics (ARL)",
                                  "Intel(R) Graphics (PTL)"])
def test_a_platform_refusals_example_cpu_names_that_platform(name):
    # the hint offered 'core ultra 7 258v 32gb' (Lunar Lake) for every platform: typed after a PTL refusal, it named
    # an Arc 140V; the example must resolve to one of the refused platform's configurations
    with pytest.raises(AmbiguousHardwareError) as e:
        resolve(name)
    example = e.value.hint.split("(e.g. '", 1)[1].split("')", 1)[0]
    assert resolve(example).id in _choices(name)
