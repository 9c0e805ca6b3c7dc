"""Self-host monthly cost of serving a workload on identical boxes, from their serving capacity.

Formulas (docs/methodology.md, "Cost"):
  seconds of box time per token   = (1 - s) / prefill_tps + s / decode_tps        (s = output share)
  box time needed per month (h)   = (input / prefill_tps + output / decode_tps) / 3600
  capacity per unit per month     = active hours x 3600 / peak_to_average / seconds per token
  units                           = ceil(monthly tokens / capacity per unit)
  energy (kWh)                    = [units x idle W x 730 h + (active W - idle W) x busy h] / 1000 x PUE
  monthly = capex / amortization months + energy x $/kWh + ops hours x $/h      (buy)
          = units x GPUs x $/GPU-h x active hours + ops hours x $/h            (rent)
"""
from __future__ import annotations

import math

from ..domain import ServingCapacity
from .types import Box, CostParams, MonthlyUsd, SelfHostOption, Workload


def seconds_per_token(cap: ServingCapacity, output_share: float) -> float:
    """Box-seconds one token of the workload's mix costs (prefill and decode share the GPUs in turn).

    Why serial: vLLM interleaves prefill chunks with decode steps on the same GPUs, so a box's time goes to one or the
    other; treating them as additive is the conservative bound (overlap only helps).
    """
    if cap.prefill_tokens_per_s <= 0 or cap.aggregate_decode_tokens_per_s <= 0:
        raise ValueError("serving capacity must have positive prefill and decode rates")
    return (1.0 - output_share) / cap.prefill_tokens_per_s + output_share / cap.aggregate_decode_tokens_per_s


def busy_hours(cap: ServingCapacity, w: Workload) -> float:
    """Box-hours of work a month: input / prefill tps + output / decode tps."""
    seconds = w.input_tokens / cap.prefill_tokens_per_s + w.output_tokens / cap.aggregate_decode_tokens_per_s
    return seconds / 3600.0


def capacity_tokens_per_month(cap: ServingCapacity, w: Workload) -> int:
    """Tokens one unit serves a month when it must absorb the peak hour (load shape of `w`)."""
    active_seconds = w.active_hours_per_month * 3600.0
    return int(active_seconds / w.peak_to_average / seconds_per_token(cap, w.output_share))


def units_needed(cap: ServingCapacity, w: Workload) -> int:
    """ceil(peak load / capacity per unit); at least one box even for a trickle of tokens."""
    per_unit = capacity_tokens_per_month(cap, w)
    if per_unit <= 0:
        raise ValueError("a unit with zero capacity cannot serve the workload")
    return max(1, math.ceil(w.monthly_tokens / per_unit))


def energy_kwh(box: Box, units: int, busy_h: float, p: CostParams) -> float:
    """Every unit idles all month; busy hours add (active - idle) watts; the facility adds PUE."""
    idle_w = box.idle_watts(p.gpu_idle_share_of_tdp)
    wh = units * idle_w * p.hours_per_month + (box.active_watts() - idle_w) * busy_h
    return wh / 1000.0 * p.pue


def buy_monthly(box: Box, units: int, busy_h: float, p: CostParams) -> MonthlyUsd:
    capex = box.capex_usd
    if capex is None:
        raise ValueError(f"{box.label} has no price")
    return MonthlyUsd(
        amortization=capex * units / p.amortize_months,
        power=energy_kwh(box, units, busy_h, p) * p.electricity_usd_per_kwh,
        operations=p.operations_usd,
    )


def rental_hours(w: Workload, p: CostParams) -> float:
    """Rented boxes run while traffic arrives: the active hours (all month for 24/7 traffic)."""
    return min(w.active_hours_per_month, p.hours_per_month)


def rent_monthly(box: Box, units: int, w: Workload, p: CostParams) -> MonthlyUsd:
    rate = box.rental_usd_per_hour
    if rate is None:
        raise ValueError(f"{box.label} has no rental price")
    return MonthlyUsd(amortization=0.0, power=0.0, operations=p.operations_usd,
                      rental=units * rate * rental_hours(w, p))


def per_million(total_usd: float, tokens: int) -> float:
    return total_usd / (tokens / 1e6) if tokens > 0 else math.inf


def price_box(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, mode: str = "buy") -> SelfHostOption:
    """Size and price one box type for the workload (mode 'buy' or 'rent')."""
    units = units_needed(cap, w)
    busy = busy_hours(cap, w)
    if mode == "buy":
        monthly = buy_monthly(box, units, busy, p)
        kwh = energy_kwh(box, units, busy, p)
        hours = 0.0
    else:
        monthly = rent_monthly(box, units, w, p)
        kwh = 0.0
        hours = rental_hours(w, p)
    return SelfHostOption(
        mode=mode, box=box, capacity=cap, units=units,
        capacity_tokens_per_month=capacity_tokens_per_month(cap, w),
        busy_hours_per_month=busy,
        utilisation=busy / (units * p.hours_per_month),
        energy_kwh=kwh, monthly_usd=monthly,
        usd_per_million_tokens=per_million(monthly.total, w.monthly_tokens),
        rental_hours_per_month=hours,
    )


def monthly_total(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, mode: str = "buy") -> float:
    """Total monthly USD of serving `w` on `box` (the function the break-even and the chart evaluate)."""
    return price_box(box, cap, w, p, mode).monthly_usd.total
