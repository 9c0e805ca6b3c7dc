"""Session 20 (eng5): the GPUs of benchmarks/published/*.yaml by the names a user types (issue 16: at most 2 unresolvable).

test_name_audit checks each published row's name as written (driver strings, profile ids); these are the shorter forms
people write for the same parts, each of which was 'unknown hardware' on main before this session.
"""
from __future__ import annotations

import re

import pytest

from selfhost_advisor.catalog import gpu_table, hw_names
from selfhost_advisor.catalog.apu_names import apu_profiles
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.catalog.profiles import profiles
from selfhost_advisor.errors import UnknownHardwareError


@pytest.mark.parametrize("typed, want", [
    # Strix Halo by its GPU or code name plus a size: 'radeon 8060s' is refused with its three sizes and told to name
    # one; the name with the size was then unknown (llamabench_weak.yaml hosts: "Radeon 8060S", "Strix Halo 128GB")
    # ("strix halo 64gb" was here: since session 32 the codename names the Max 390 and 385 too, and is refused with
    # the three chips, tests/test_typed_names_s32.py)
    ("radeon 8060s 128gb", "ryzen-ai-max-395-128gb"),
    ("AMD Radeon 8060S Graphics 32GB", "ryzen-ai-max-395-32gb"), ("8060s 128gb", "ryzen-ai-max-395-128gb"),
    # Intel's Arc Pro cards without 'Pro' (llamabench_weak.yaml arc pro b50/b60/b70): no consumer Arc has those codes
    ("arc b60", "arc-pro-b60"), ("Intel Arc B70", "arc-pro-b70"), ("arc b50", "arc-pro-b50"),
    # NVIDIA SUPER cards shortened as forums and shops write them; AMD's mobile RX 6800S stays itself
    ("rtx 4080s", "rtx-4080-super"), ("4070S", "rtx-4070-super"), ("4070 ti s", "rtx-4070-ti-super"),
    ("rx 6800s", "rx-6800s"),
    # Intel's Data Center GPU Max with its first words left off (llamabench_weak.yaml data center gpu max 1100)
    ("gpu max 1100", "data-center-gpu-max-1100"), ("intel gpu max 1100", "data-center-gpu-max-1100"),
    # laptop iGPUs by number and by the CPU that carries them (the MinisForum V3 row: Ryzen 7 8840U, Radeon 780M)
    ("780m ddr5-5600 16gb", "radeon-780m-ddr5-5600-16gb"), ("ryzen 7 8840u 16gb ddr5-5600", "radeon-780m-ddr5-5600-16gb"),
    ("890m lpddr5x-7500 32gb", "radeon-890m-lpddr5x-7500-32gb"),
])
def test_a_name_a_user_types_for_a_published_gpu_resolves(typed, want):
    assert hw_names.resolve(typed).id == want


@pytest.mark.parametrize("typed, choices", [
    ("radeon 8050s 64gb", ("ryzen-ai-max-385-64gb", "ryzen-ai-max-390-64gb")),  # one GPU, two chips (data/apu.yaml)
    ("890m 32gb", ("radeon-890m-ddr5-5600-32gb", "radeon-890m-lpddr5x-7500-32gb")),  # the memory type decides
    ("ryzen 7 8840u", ("radeon-780m-ddr5-5600-16gb", "radeon-780m-lpddr5x-7500-64gb")),
])
def test_a_typed_name_with_several_configurations_lists_them(typed, choices):
    with pytest.raises(AmbiguousHardwareError) as e:
        hw_names.resolve(typed)
    assert all(c in str(e.value) for c in choices), str(e.value)


def test_a_size_the_strix_halo_was_not_sold_with_is_refused_with_the_sizes():
    with pytest.raises(UnknownHardwareError) as e:
        hw_names.resolve("radeon 8060s 48gb")
    assert not isinstance(e.value, AmbiguousHardwareError)
    assert "32 GB, 64 GB, 96 GB, 128 GB" in e.value.hint  # the Max+ 395 (96 GB: Bosgame M5, apu31)


def test_every_name_refused_for_its_memory_sizes_resolves_once_one_of_them_is_added():
    """The refusal says 'name one of them, e.g. with its memory size': for every curated name and alias, table row and
    APU name that is refused that way, '<name> <size>gb' for each size listed resolves or narrows (is refused with the
    configurations of that size), never 'unknown hardware'."""
    names = set()
    for p in profiles():
        names |= {p.name, *(p.raw.get("aliases") or ())}
    names |= {re.sub(r"\s*\d+\s*GB$", "", r["name"]) for r in gpu_table.rows()}
    names |= {p.name.split(" (")[0].rsplit(" ", 1)[0] for p in apu_profiles()}
    refused, unknown = 0, []
    for name in sorted(names):
        try:
            hw_names.resolve(name)
            continue
        except AmbiguousHardwareError as e:
            if "memory sizes" not in str(e):
                continue
            sizes = sorted({float(s) for s in re.findall(r"\((\d+(?:\.\d+)?) GiB\)", str(e))})
        except UnknownHardwareError:
            continue
        refused += 1
        for size in sizes:
            try:
                hw_names.resolve(f"{name} {size:g}gb")
            except AmbiguousHardwareError:
                pass
            except UnknownHardwareError:
                unknown.append(f"{name} {size:g}gb")
    assert refused > 50
    assert unknown == []
