"""kernel_path._spec finds every curated GPU's spec-table row, also where the generated table spells its id otherwise
(rtx-3060-12gb is the table's rtx-3060-12-gb, h200 its h200-sxm-141-gb): the paths that read a GPU's architecture and
lanes (the Gated DeltaNet step of a hybrid's prompt, ggml-vulkan's matrix paths) must see the same card whichever name
the user typed (docs/methodology.md 5b-vk17, 4c-hw27)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import gpu_table, hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.profiles import find_profile, profiles
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed_gpu import recurrent_prefill_seconds


def _curated_gpus():
    return [p for p in profiles() if p.kind == "gpu" and p.memory_bytes]


def test_every_curated_gpu_named_by_the_table_has_its_row():
    """A curated GPU whose name (with its memory) names one table row gets that row's figures: its memory and vendor
    agree, and no curated GPU the table knows is left without a row."""
    missing = []
    for p in _curated_gpus():
        named = [r for r in gpu_table.lookup(p.name) if abs(r["memory_gib"] * 2**30 - p.memory_bytes) < 2**29]
        row = kernel_path._spec(p.id)
        if gpu_table.by_id(p.id) is None and len(named) != 1:
            continue  # no row, or several of its size: nothing to find by name
        if not row:
            missing.append(p.id)
            continue
        assert row["vendor"] == p.vendor, (p.id, row["id"])
        assert abs(row["memory_gib"] * 2**30 - p.memory_bytes) < 2**29, (p.id, row["id"])
    assert not missing


@pytest.mark.parametrize("pid, arch", [
    ("h100-pcie", "Hopper"), ("h100-sxm", "Hopper"), ("h200", "Hopper"), ("t4", "Turing"), ("a10", "Ampere"),
    ("rtx-3060-12gb", "Ampere"), ("rtx-6000-ada", "Ada Lovelace"), ("a100-80gb", "Ampere"),
])
def test_architecture_of_curated_ids_the_table_spells_otherwise(pid, arch):
    device = machine_from_profile(find_profile(pid), 1).devices[0]
    assert kernel_path.architecture(device) == arch


def test_the_a100s_keep_their_own_size_and_form():
    assert kernel_path._spec("a100-80gb")["id"] == "a100-sxm4-80-gb"
    assert kernel_path._spec("a100-80gb-pcie")["id"] == "a100-pcie-80-gb"
    assert kernel_path._spec("a100-40gb-pcie")["id"] == "a100-pcie-40-gb"


def test_a_hybrids_serial_step_is_charged_on_an_h100_as_on_its_table_row():
    """The same card by its curated id and by the table's id pays the same Gated DeltaNet step (it was 0 by the
    curated id, 'h100 pcie' as typed, and charged by the table's)."""
    model = get_model("qwen3.5:9b")
    if getattr(model, "ssm", None) is None:
        pytest.skip("qwen3.5:9b has no delta-net layers in this catalog")
    curated = machine_from_profile(find_profile("h100-pcie"), 1).devices[0]
    table = machine_from_profile(hw_names.table_profile(gpu_table.by_id("h100-pcie-80-gb")), 1).devices[0]
    a = recurrent_prefill_seconds(curated, model, 0, model.n_layers)
    b = recurrent_prefill_seconds(table, model, 0, model.n_layers)
    assert a > 0 and a == pytest.approx(b, rel=1e-9)
