"""Workloads and cloud prices for the cost tests, built one way (test_cost, test_cost_laws, test_cost_cache_chart,
test_cost_sensitivity each had its own copy of these two builders, with other defaults and argument orders)."""
from __future__ import annotations

import json
from pathlib import Path

import schemakit

from selfhost_advisor.cli import main
from selfhost_advisor.cost.types import CloudPrice, Workload

COST_SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs" / "schema" / "cost.schema.json").read_text())
PRICE_DAY = ("--price-date", "2026-12-05")


def work(tokens: int = 2_000_000_000, share: float = 0.25, *, peak: float = 2.0, hours: float = 176.0,
         cached: float = 0.0, writes: float = 0.0, batch: float = 0.0) -> Workload:
    """A month of traffic: `tokens` in all, `share` of them output, the default traffic profile unless given."""
    return Workload(monthly_tokens=tokens, output_share=share, peak_to_average=peak, active_hours_per_month=hours,
                    cached_input_share=cached, cache_write_share=writes, batch_share=batch)


def priced(i: float, o: float, *, c: float | None = None, cw: float | None = None, bi: float | None = None,
           bo: float | None = None, bc: float | None = None) -> CloudPrice:
    """A test API price: input and output $/Mtok, and optionally cached-read, cache-write and batch prices."""
    return CloudPrice("p", "p", "x", "m", "mid", i, o, "test", "test", cached_input_usd_per_mtok=c,
                      cache_write_usd_per_mtok=cw, batch_input_usd_per_mtok=bi, batch_output_usd_per_mtok=bo,
                      batch_cached_input_usd_per_mtok=bc)


def cost_json(capsys, *argv: str) -> dict:
    """`advisor cost ARGV --json` at the tests' price date: exit 0, the output valid against docs/schema/cost.schema.json
    (test_cost_scenarios, test_cost_hybrid_tail and test_cost_fin32 each had a copy)."""
    assert main(["cost", *argv, *PRICE_DAY, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    schemakit.validate(d, COST_SCHEMA)
    return d
