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

    assert match_table("nvidia", "NVIDIA RTX PRO 5000 Blackwell", 72 * GIB - 300 * 2**20).id == "rtx-pro-5000-72-gb-blackwell"
    assert match_table("nvidia", "NVIDIA RTX PRO 5000 Blackwell", 48 * GIB - 300 * 2**20).id == "rtx-pro-5000-blackwell"
