"""Session 32 (names32): names users type for 2025-2026 hardware, and plain card names that were silently one of
several memory sizes. docs/methodology.md 4c, "Session 32 (names32)"."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.hardware import get_profile, parse_spec
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30


# TechPowerUp names the first card plain and the later one with its size: 'RTX PRO 5000 Blackwell' (48 GB) and 'RTX
# PRO 5000 72 GB Blackwell'; 'Radeon PRO W7800' (32 GB, 256-bit) and 'Radeon PRO W7800 48 GB' (384-bit); 'GeForce RTX
# 2060' (6 GB) and '... 12 GB'. The plain name found only the first: the 72 GB owner got the 48 GB card's fit.
@pytest.mark.parametrize("typed, sizes", [
    ("rtx pro 5000", {48, 72}), ("RTX PRO 5000 Blackwell", {48, 72}), ("NVIDIA RTX PRO 5000 Blackwell", {48, 72}),
    ("radeon pro w7800", {32, 48}), ("w7800", {32, 48}), ("rtx 2060", {6, 12}), ("rtx a2000", {6, 12}),
])
def test_plain_name_of_a_card_sold_in_two_sizes_is_refused_with_both(typed, sizes):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    assert {c.memory_bytes // GIB for c in err.value.candidates} == sizes, str(err.value)


@pytest.mark.parametrize("typed, gib", [
    ("rtx pro 5000 72gb", 72), ("rtx pro 5000 48gb", 48), ("RTX PRO 5000 Blackwell 72gb", 72),
    ("RTX PRO 5000 72 GB Blackwell", 72), ("radeon pro w7800 48gb", 48), ("radeon pro w7800 32gb", 32),
    ("rtx 2060 12gb", 12),
])
def test_the_same_name_with_a_size_is_that_card(typed, gib):
    assert get_profile(typed).memory_bytes == gib * GIB


def test_a_row_id_as_the_refusal_lists_it_still_names_that_row():
    for rid in ("rtx-pro-5000-blackwell", "rtx-pro-5000-72-gb-blackwell", "radeon-pro-w7800", "rtx-2060"):
        assert get_profile(rid).id == rid


def test_the_72gb_rtx_pro_5000_differs_from_the_48gb_only_in_memory():
    small, big = gpu_table.by_id("rtx-pro-5000-blackwell"), gpu_table.by_id("rtx-pro-5000-72-gb-blackwell")
    assert (small["memory_gib"], big["memory_gib"]) == (48, 72)
    assert small["bandwidth_gbps"] == big["bandwidth_gbps"]


def test_a_probed_72gb_rtx_pro_5000_matches_its_row():
    """NVML names both cards "NVIDIA RTX PRO 5000 Blackwell"; the probe confirms the row by memory. Before, the name's
    lookup held only the 48 GB row, so a 72 GB card matched nothing (no bandwidth, no FLOPS)."""
    from selfhost_advisor.probe.match import match_table

    big = match_table("nvidia", "NVIDIA RTX PRO 5000 Blackwell", 72 * GIB - 300 * 2**20)
    assert big.id == "rtx-pro-5000-72-gb-blackwell"
    assert match_table("nvidia", "NVIDIA RTX PRO 5000 Blackwell", 48 * GIB - 300 * 2**20).id == "rtx-pro-5000-blackwell"


# --- Strix Halo boxes whose source names the chip but no list of memory sizes (data/apu.yaml products, `chips`)
def _product(name):
    from selfhost_advisor.catalog.data import load

    return next(p for p in load("apu")["products"] if p["name"] == name)


CHIP_ONLY = ["Beelink GTR9 Pro", "Minisforum MS-S1 Max", "Corsair AI Workstation 300", "NIMO AI MiniPC", "Peladn YO1",
             "HP Z2 Mini G1a", "ASUS ROG Flow Z13 (2025)", "Sixunited AXB35", "FEVM FA-EX9"]


@pytest.mark.parametrize("name", CHIP_ONLY)
def test_a_box_named_alone_is_refused_with_every_size_of_its_chips(name):
    from selfhost_advisor.catalog.data import load

    p = _product(name)
    assert p["source"] and p["as_of"] and "builds" not in p
    sizes = {gb for c in load("apu")["chips"] if c["chip"] in p["chips"] for gb in c["memory_gb"]}
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(p["aliases"][0])
    assert {c.memory_bytes // GIB for c in err.value.candidates} == sizes
    assert {c.id.rsplit("-", 1)[0] for c in err.value.candidates} == set(p["chips"])


@pytest.mark.parametrize("typed", ["Beelink GTR9 Pro 128GB", "gtr9 pro 128gb", "Minisforum MS-S1 Max 128GB",
                                   "ms-s1 max 128gb", "MS-S1 MAX 128 GB", "Corsair AI Workstation 300 128GB",
                                   "nimo ai minipc 128gb", "peladn yo1 128gb"])
def test_a_one_chip_box_with_its_size_is_that_chip(typed):
    got = get_profile(typed)
    assert got.id == "ryzen-ai-max-395-128gb"  # the curated, priced profile of that build


@pytest.mark.parametrize("typed", ["hp z2 mini g1a 128gb", "rog flow z13 2025 64gb", "axb35 128gb"])
def test_a_box_whose_chip_was_not_read_asks_for_the_chip_even_with_a_size(typed):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    assert len({c.id.rsplit("-", 1)[0] for c in err.value.candidates}) == 3


def test_a_size_the_chip_was_not_sold_in_names_the_chips_sizes():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("beelink gtr9 pro 48gb")
    assert "was not read" in str(err.value) and "96 GB" in str(err.value)


def test_the_older_rog_flow_z13_is_not_read_as_strix_halo():
    # the Z13 of 2023-2024 has an Intel CPU and a GeForce laptop GPU: the plain name is no alias
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("rog flow z13")
    assert not isinstance(err.value, AmbiguousHardwareError)


# --- the partners' GB10 boxes (data/hardware.yaml dgx-spark aliases, sources.oem_boxes)
@pytest.mark.parametrize("typed", ["ASUS Ascent GX10", "ascent gx10", "Dell Pro Max GB10", "dell pro max with gb10",
                                   "Lenovo ThinkStation PGX", "thinkstation pgx 128gb"])
def test_gb10_boxes_are_the_dgx_spark(typed):
    assert get_profile(typed).id == "dgx-spark"


# --- dual-GPU boards and cloud instance types (data/multi_gpu_names.yaml)
@pytest.mark.parametrize("typed, gpu_id, count, link", [
    ("Maxsun Arc Pro B60 Dual", "arc-pro-b60", 2, "pcie"), ("arc pro b60 dual 48gb", "arc-pro-b60", 2, "pcie"),
    ("2x arc pro b60 dual", "arc-pro-b60", 4, "pcie"),
    ("g6e.xlarge", "l40s", 1, ""), ("AWS g6e.12xlarge", "l40s", 4, "pcie"), ("g5.xlarge", "a10g", 1, ""),
    ("g5.48xlarge", "a10g", 8, "pcie"), ("g6.12xlarge", "l4", 4, "pcie"),
    ("p4d.24xlarge", "a100-sxm4-40-gb", 8, "nvlink"), ("p4de.24xlarge", "a100-80gb", 8, "nvlink"),
    ("p5.48xlarge", "h100-sxm", 8, "nvlink"), ("p5en.48xlarge", "h200", 8, "nvlink"),
    ("a3-highgpu-8g", "h100-sxm", 8, "nvlink"), ("gcp a3-highgpu-1g", "h100-sxm", 1, ""),
    ("ND H100 v5", "h100-sxm", 8, "nvlink"), ("Standard_ND96isr_H100_v5", "h100-sxm", 8, "nvlink"),
    ("Standard_NC40ads_H100_v5", "h100-nvl-94-gb", 1, ""),
])
def test_multi_gpu_names_are_their_count_form(typed, gpu_id, count, link):
    profile, n, interconnect = parse_spec(typed)
    assert (profile.id, n, interconnect) == (gpu_id, count, link)


def test_every_multi_gpu_entry_is_sourced_and_its_gpu_resolves():
    from selfhost_advisor.catalog.data import load

    for entry in load("multi_gpu_names")["entries"]:
        assert entry["source"] and entry["as_of"] and entry["gpus"] >= 1
        get_profile(entry["gpu"])  # one profile, not refused with choices
        for name in entry["names"]:
            assert parse_spec(name)[1] == entry["gpus"], name


@pytest.mark.parametrize("typed", ["2x p5.48xlarge", "arc pro b60 dual 24gb", "100x arc pro b60 dual"])
def test_counted_instances_and_wrong_sizes_are_refused(typed):
    with pytest.raises(UnknownHardwareError):
        parse_spec(typed)


# --- codenames: a platform or die names every GPU of it, never one
@pytest.mark.parametrize("typed, chips", [
    ("strix halo", {"ryzen-ai-max-395", "ryzen-ai-max-390", "ryzen-ai-max-385"}),
    ("strix halo 128gb", {"ryzen-ai-max-395", "ryzen-ai-max-390", "ryzen-ai-max-385"}),
    ("AMD Radeon Graphics (RADV GFX1151)", {"ryzen-ai-max-395", "ryzen-ai-max-390", "ryzen-ai-max-385"}),
    ("strix point", {"radeon-890m", "radeon-880m"}), ("krackan point", {"radeon-860m"}),
    ("lunar lake", {"arc-140v", "arc-130v"}), ("panther lake 32gb", {"arc-b390", "arc-b370"}),
    ("meteor lake", {"arc-meteor-lake-8xe", "arc-meteor-lake-7xe"}),
])
def test_a_codename_is_refused_with_every_gpu_of_it(typed, chips):
    with pytest.raises(AmbiguousHardwareError) as err:
        parse_spec(typed)
    got = {c.id.rsplit("-", 1)[0] for c in err.value.candidates}
    got = {g if g.startswith("ryzen-ai-max") else g.split("-lpddr")[0].split("-ddr")[0] for g in got}
    assert got == chips, str(err.value)


def test_strix_halo_with_a_size_no_longer_gives_the_395():
    """Until session 32 'strix halo 32gb' was the Max+ 395 (40 CU) for a Max 385 owner (32 CU) too."""
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("strix halo 32gb")
    assert {c.fp16_flops for c in err.value.candidates} == {59.4e12, 45.9e12}


# --- Krackan Point's Radeon 860M (data/apu.yaml igpus)
def test_ryzen_ai_7_350_is_the_radeon_860m_on_its_memory():
    p = get_profile("ryzen ai 7 350 32gb lpddr5x-8000")
    assert p.id == "radeon-860m-lpddr5x-8000-32gb"
    assert p.bandwidth_bytes_per_s == 128 // 8 * 8000 * 10**6  # 128-bit LPDDR5X-8000
    assert p.fp16_flops == pytest.approx(8 * 512 * 3.0e9, rel=0.01)  # 8 CU x RDNA 3 WMMA rate x 3.0 GHz
    assert get_profile("ryzen ai 7 pro 350 32gb ddr5-5600").bandwidth_bytes_per_s == 128 // 8 * 5600 * 10**6
    with pytest.raises(AmbiguousHardwareError):
        get_profile("ryzen ai 7 350")


def test_the_860m_is_rdna35_to_the_vulkan_model():
    from selfhost_advisor.estimate import vulkan_path

    assert vulkan_path._ARCH_BY_PREFIX["radeon-860m"] == "RDNA 3.5"


# --- a curated card with a memory variant its aliases do not tell apart (data/hardware.yaml memory_variants)
@pytest.mark.parametrize("typed", ["rtx 3080", "rtx3080", "3080", "NVIDIA GeForce RTX 3080", "2x rtx3080"])
def test_rtx_3080_without_a_size_is_refused_with_both(typed):
    with pytest.raises(AmbiguousHardwareError) as err:
        parse_spec(typed)
    assert {c.memory_bytes // GIB for c in err.value.candidates} == {10, 12}


@pytest.mark.parametrize("typed, want", [("rtx 3080 10gb", "rtx-3080"), ("rtx-3080", "rtx-3080"),
                                         ("rtx 3080 12gb", "rtx-3080-12-gb"), ("NVIDIA RTX 3080 10GB", "rtx-3080")])
def test_rtx_3080_with_a_size_or_its_id_resolves(typed, want):
    assert get_profile(typed).id == want


def test_a_probed_rtx_3080_is_matched_by_its_memory():
    from selfhost_advisor.probe.match import match_gpu

    assert match_gpu("nvidia", "NVIDIA GeForce RTX 3080", 10 * GIB - 200 * 2**20).id == "rtx-3080"
    assert match_gpu("nvidia", "NVIDIA GeForce RTX 3080", 12 * GIB - 200 * 2**20).id == "rtx-3080-12-gb"


def test_unknown_box_names_are_offered_the_product_names_that_resolve():
    from selfhost_advisor.catalog.hw_names import suggestions

    assert suggestions("rog flow z13")[0] == "asus rog flow z13 2025"
    assert "beelink gtr9 pro" in suggestions("beelink gtr9")
    assert "g6.2xlarge" in suggestions("g6.xlarge")  # the same GPU (one L4); g6.xlarge's own count was not read


def test_r9600d_alone_is_the_radeon_ai_pro_9600d():
    assert get_profile("r9600d").id == "radeon-ai-pro-9600d"
