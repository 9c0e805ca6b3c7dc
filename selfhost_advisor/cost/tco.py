"""Self-host monthly cost of serving a workload on identical boxes, from their serving capacity.

Formulas (docs/methodology.md, "Cost"); R = one box's prompt + output tokens/s for the request mix:
  box-hours of work a month     = T / R / 3600
  capacity per unit per month   = H x 3600 x R / P             (H active hours, P peak-to-average)
  units                         = ceil(T / capacity per unit) + spare          (spare: owned only)
  energy (kWh)                  = [units x idle W x 730 h + (active W - idle W) x busy h] / 1000 x PUE
  operations                    = (fixed hours + hours per box x units) x $/h
  monthly = capital recovery + energy x $/kWh + operations + space x units   (buy)
            capital recovery = (capex - resale x (1+i)^-n) x i / (1 - (1+i)^-n), = (capex - resale) / n at i = 0
          = units x GPUs x $/GPU-h x H + operations                         (rent: billed for the active hours)
"""
from __future__ import annotations

import math

from ..domain import ServingCapacity
from .capacity import mix_tokens_per_s
from .types import Box, CostParams, MonthlyUsd, SelfHostOption, Workload


def seconds_per_token(cap: ServingCapacity, w: Workload) -> float:
    """Box-seconds one token of the workload's mix costs: 1 / (prompt + output tokens/s of one box)."""
    return 1.0 / mix_tokens_per_s(cap, w)


def busy_hours(cap: ServingCapacity, w: Workload) -> float:
    """Box-hours of work a month, all boxes together."""
    return w.monthly_tokens * seconds_per_token(cap, w) / 3600.0


def capacity_tokens_per_month(cap: ServingCapacity, w: Workload) -> int:
    """Tokens one unit serves a month when it must absorb the peak hour (load shape of `w`)."""
    active_seconds = w.active_hours_per_month * 3600.0
    return int(active_seconds / w.peak_to_average / seconds_per_token(cap, w))


def units_needed(cap: ServingCapacity, w: Workload) -> int:
    """ceil(peak load / capacity per unit); at least one box even for a trickle of tokens (spares not included)."""
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
        amortization=p.capital_usd_per_month(capex * units),
        power=energy_kwh(box, units, busy_h, p) * p.electricity_usd_per_kwh,
        operations=p.operations_usd_for(units),
        space=p.space_usd_per_box * units,
    )


def rental_hours(w: Workload, p: CostParams) -> float:
    """Rented boxes run while traffic arrives: the active hours (all month for 24/7 traffic)."""
    return min(w.active_hours_per_month, p.hours_per_month)


def rent_monthly(box: Box, units: int, w: Workload, p: CostParams) -> MonthlyUsd:
    rate = box.rental_usd_per_hour
    if rate is None:
        raise ValueError(f"{box.label} has no rental price")
    return MonthlyUsd(amortization=0.0, power=0.0, operations=p.operations_usd_for(units),
                      rental=units * rate * rental_hours(w, p))


def per_million(total_usd: float, tokens: int) -> float:
    return total_usd / (tokens / 1e6) if tokens > 0 else math.inf


def price_box(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, mode: str = "buy") -> SelfHostOption:
    """Size and price one box type for the workload (mode 'buy' or 'rent').

    Spares are owned boxes only: a rented box that fails is replaced by renting another within minutes.
    Utilisation is work over the hours paid for: 730 a month for an owned box, the billed hours for a rented one.
    """
    spare = p.spare_units if mode == "buy" else 0
    units = units_needed(cap, w) + spare
    busy = busy_hours(cap, w)
    if mode == "buy":
        monthly = buy_monthly(box, units, busy, p)
        kwh = energy_kwh(box, units, busy, p)
        hours, paid = 0.0, p.hours_per_month
    else:
        monthly = rent_monthly(box, units, w, p)
        kwh = 0.0
        hours = paid = rental_hours(w, p)
    return SelfHostOption(
        mode=mode, box=box, capacity=cap, units=units,
        capacity_tokens_per_month=capacity_tokens_per_month(cap, w),
        busy_hours_per_month=busy,
        utilisation=busy / (units * paid),
        energy_kwh=kwh, monthly_usd=monthly,
        usd_per_million_tokens=per_million(monthly.total, w.monthly_tokens),
        rental_hours_per_month=hours, spare_units=spare,
    )


def monthly_total(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, mode: str = "buy") -> float:
    """Total monthly USD of serving `w` on `box` (the function the break-even and the chart evaluate)."""
    return price_box(box, cap, w, p, mode).monthly_usd.total
