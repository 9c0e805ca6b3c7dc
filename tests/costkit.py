"""Workloads and cloud prices for the cost tests, built one way (test_cost, test_cost_laws, test_cost_cache_chart,
test_cost_sensitivity each had its own copy of these two builders, with other defaults and argument orders)."""
from __future__ import annotations

from selfhost_advisor.cost.types import CloudPrice, Workload


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
