"""Apple's Metal working-set limit (recommendedMaxWorkingSetSize) against the values llama.cpp and Ollama logged on
real Macs (data/engines.yaml apple_working_set.points, each with its URL). The expected figure of every point is the
logged number converted to bytes, never the code's output; the held-out points were marked before the rule changed."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, working_set_bytes
from selfhost_advisor.catalog.data import load

GIB = 2**30
UNIT = {"MiB": 2**20, "MB": 10**6, "GiB": 2**30}  # older llama.cpp printed bytes/2^20 labelled "MB"
POINTS = load("engines")["apple_working_set"]["points"]


def _logged_bytes(p: dict) -> float:
    return float(p["logged"]) * UNIT[p["unit"]]


def _macos(p: dict) -> int:
    # points without a stated version are dated before macOS 26 shipped (September 2025), so they run macOS <= 15
    return int(p.get("macos_major") or 15)


def _error(p: dict) -> float:
    return working_set_bytes(int(p["ram_gib"]) * GIB, _macos(p)) / _logged_bytes(p) - 1


@pytest.mark.parametrize("p", POINTS, ids=lambda p: f"{p['chip']}-{p['ram_gib']}GiB-{p['date']}")
def test_rule_reproduces_each_logged_working_set(p):
    assert abs(_error(p)) < 0.001, p["source"]  # within rounding of the printed figure


def test_held_out_points_span_ram_sizes_and_a_third_of_the_data():
    held = [p for p in POINTS if p["holdout"]]
    assert len(held) * 3 >= len(POINTS) and len({p["ram_gib"] for p in held}) >= 3
    assert max(abs(_error(p)) for p in held) < 0.001


def test_every_point_names_its_source_and_date():
    assert len(POINTS) >= 6
    for p in POINTS:
        assert p["source"].startswith("https://github.com/") and p["unit"] in UNIT and str(p["date"])[:2] == "20"


def test_macos_26_raised_the_share_at_the_same_ram():
    # 32 GiB: 21845.34 MiB in 2023 (2/3), 26800.60 MB on an M4 in 2026 (0.78): the release, not the RAM, moved it
    old = [p for p in POINTS if p["ram_gib"] == 32 and _macos(p) < 26]
    new = [p for p in POINTS if p["ram_gib"] == 32 and _macos(p) >= 26]
    assert old and new and _logged_bytes(new[0]) > _logged_bytes(old[0]) * 1.15
    assert working_set_bytes(32 * GIB, 15) < working_set_bytes(32 * GIB, 26)


def test_a_named_profile_takes_the_current_macos_and_says_so():
    # m5-class 128 GiB on macOS 26.x logged 107.52 GiB (antirez/ds4 #893); a named 128 GB Mac gets the same
    d = machine_from_profile(get_profile("m4 max 128gb"), 1).devices[0]
    assert abs(d.usable_memory_bytes - 107.52 * GIB) < 0.01 * GIB
    assert "macOS 26 default" in d.details.usable_memory_source


def test_the_share_never_falls_as_ram_grows():
    for major in (15, 26):
        shares = [round(working_set_bytes(g * GIB, major) / (g * GIB), 4) for g in (8, 16, 24, 32, 36, 48, 64, 96, 128, 192, 512)]
        assert shares == sorted(shares) and all(0.6 < s < 0.9 for s in shares)
