"""Intel cards the GPU table's database does not hold (data/gpu_overrides.yaml `additions`, scripts/gen_gpu_specs.py
add_rows; docs/methodology.md 5b-sycl4): each resolves by its own name and id, carries the figures its source states,
and the generator refuses an addition that duplicates a row or lacks a field."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from selfhost_advisor.catalog import gpu_table, hw_names
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import machine_from_profile

ROOT = Path(__file__).resolve().parents[1]
ADDITIONS = load("gpu_overrides").get("additions") or []


def _generator():
    spec = importlib.util.spec_from_file_location("gen_gpu_specs", ROOT / "scripts" / "gen_gpu_specs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("add", ADDITIONS, ids=lambda a: a["id"])
def test_every_addition_is_in_the_table_and_resolves_by_its_name_and_id(add):
    rows = {r["id"]: r for r in gpu_table.rows()}
    assert rows[add["id"]]["added"] is True and rows[add["id"]]["source"] == add["source"]
    for typed in (add["id"], add["name"], add["name"].lower(), f'{add["vendor"]} {add["name"]}'):
        assert hw_names.resolve(typed).id == add["id"], typed


def test_arc_pro_b70_carries_the_figures_its_page_states():
    """zolotukhin.ai (2026-05-18): 32 GB GDDR6, 256-bit, 608 GB/s, 256 XMX engines, 367 INT8 TOPS, 230 W; the table's
    Xe2 XMX rule (2048 FP16 FLOP per Xe-core per clock, INT8 twice) at 32 cores x 2.8 GHz gives 183.5 / 367."""
    d = machine_from_profile(hw_names.resolve("arc pro b70"), 1).devices[0]
    assert d.memory_bytes == 32 * 2**30
    assert d.bandwidth_bytes_per_s == pytest.approx(608e9)
    row = {r["id"]: r for r in gpu_table.rows()}["arc-pro-b70"]
    assert row["units"] * 2048 * row["boost_clock_mhz"] * 1e6 / 1e12 == pytest.approx(row["fp16_tflops"], rel=0.01)
    assert row["int8_tops"] == 2 * row["fp16_tflops"] and row["backend"] == "sycl"


def test_add_rows_keeps_date_order_and_refuses_duplicates_and_missing_fields():
    gen = _generator()
    full = {k: None for k in gen.ADDED_FIELDS} | {"id": "z-2", "name": "Z 2", "vendor": "intel", "released": "2026-04"}
    base = [{"id": "a", "name": "A", "vendor": "intel", "released": "2025-01-01"},
            {"id": "c", "name": "C", "vendor": "intel", "released": "2026-09-01"}]
    out = gen.add_rows(base, [full])
    assert [r["id"] for r in out] == ["a", "z-2", "c"] and out[1]["added"] is True
    with pytest.raises(SystemExit, match="already has"):
        gen.add_rows(base, [full | {"id": "a"}])
    with pytest.raises(SystemExit, match="missing"):
        gen.add_rows(base, [{k: v for k, v in full.items() if k != "source"}])


def test_h20_takes_its_published_capped_tensor_rate_not_the_hopper_rule():
    """The H20's tensor rate is capped by the product (148 TFLOPS FP16 dense), not set by its clock: the Hopper rule
    (4 tensor cores per SM x 1024 FLOP x clock) at its 78 SMs would give about 4x that. A row that took the rule would
    price the H20's prefill like an H100's."""
    row = {r["id"]: r for r in gpu_table.rows()}["h20-96-gb"]
    rule = row["units"] * 4 * 1024 * row["boost_clock_mhz"] * 1e6 / 1e12
    assert row["fp16_tflops"] < rule / 4 and row["int8_tops"] == 2 * row["fp16_tflops"]
    d = machine_from_profile(hw_names.resolve("nvidia h20"), 1).devices[0]
    assert d.memory_bytes == 96 * 2**30 and d.bandwidth_bytes_per_s == pytest.approx(4000e9)


def test_h20_names_the_memory_it_prices_and_refuses_the_unlisted_141_gb():
    """A 141 GB H20 is reported with no bandwidth stated, so the table holds the 96 GB card only: 'h20' must say which
    card it priced, and a 141 GB H20 must be refused rather than priced as the 96 GB one."""
    from selfhost_advisor.errors import UnknownHardwareError
    assert "96 GB" in hw_names.resolve("h20").name
    with pytest.raises(UnknownHardwareError, match="96 GiB"):
        hw_names.resolve("h20 141gb")
