"""Break-even monthly tokens, payback months, and the electricity price at which self-host and cloud cost the same.

Self-host cost is piecewise linear in monthly tokens T: within the range whose peak needs n units,
    selfhost(T) = n x A + B + v x T
with A = per-unit fixed cost (amortization + idle power + operations per box), B = the fixed operations plus the spare
boxes' fixed cost, v = marginal power per token. Cloud is c x T.
On segment n they are equal at T = (n A + B) / (c - v); the break-even is the smallest such T inside its segment.
A, B and v are read off tco.buy_monthly itself, so the break-even cannot drift from the cost it compares.
"""
from __future__ import annotations

import math

from ..domain import ServingCapacity
from . import tco
from .cloud import blended_usd_per_token
from .types import Box, CloudPrice, CostParams, Workload

_PROBE_TOKENS = 1_000_000_000


def linear_coefficients(box: Box, cap: ServingCapacity, w: Workload, p: CostParams) -> tuple[float, float, float]:
    """(A per unit, B per deployment, v per token) of the buy cost; exact because buy_monthly is linear in units >= 1
    and in busy hours."""
    one = tco.buy_monthly(box, 1, 0.0, p).total
    per_unit = tco.buy_monthly(box, 2, 0.0, p).total - one
    base = one - per_unit + p.spare_units * per_unit
    probe = w.with_tokens(_PROBE_TOKENS)
    per_token = (tco.buy_monthly(box, 1, tco.busy_hours(cap, probe), p).total - one) / _PROBE_TOKENS
    return per_unit, base, per_token


def break_even_monthly_tokens(box: Box, cap: ServingCapacity, w: Workload, p: CostParams,
                              cloud: CloudPrice) -> int | None:
    """Smallest monthly token volume at which buying `box` costs no more than `cloud`; None if it never does.

    With K tokens per unit and D = c - v, segment n holds its crossing when n (K D - A) >= B (crossing before the
    segment ends) and n (K D - A) < B + K D (after it starts). So with g = K D - A > 0 the first crossing is on
    n* = max(1, ceil(B / g)) at T* = (n* A + B) / D. With g <= 0 a fully used unit costs more than the cloud would for
    its tokens, and adding tokens never closes the gap.
    """
    a, b, v = linear_coefficients(box, cap, w, p)
    d = blended_usd_per_token(cloud, w) - v
    k = tco.capacity_tokens_per_month(cap, w)
    if d <= 0 or k <= 0:
        return None
    g = k * d - a
    if g <= 0:
        return None
    n = max(1, math.ceil(b / g - 1e-12))
    return int(math.ceil((n * a + b) / d))


def payback_months(capex_usd: float, running_usd: float, cloud_monthly_usd: float,
                   monthly_rate: float = 0.0) -> float | None:
    """Months until the capex is repaid by the monthly saving s = cloud - running (Pan et al.'s t*): capex / s, or,
    at a cost of capital (monthly rate i > 0), the discounted payback: the t at which the saving's present value
    s (1 - (1 + i)^-t) / i reaches the capex, t = -ln(1 - capex i / s) / ln(1 + i); None when it never does. So
    payback <= the amortization months exactly when the capital recovery charge fits in the saving, i.e. when owning
    (with no resale) costs no more a month than the cloud, as the monthly totals say."""
    saving = cloud_monthly_usd - running_usd
    if saving <= 0:
        return None
    if not monthly_rate > 0:
        return capex_usd / saving
    x = capex_usd * monthly_rate / saving
    if x >= 1.0:  # the saving never covers even the interest on the capex
        return None
    return -math.log1p(-x) / math.log1p(monthly_rate)


def hybrid_payback(hybrid, owned, reference, monthly_rate: float = 0.0) -> tuple[float, float | None] | None:
    """(the hybrid's day-one outlay, its payback in months or None for never) against the reference API alone: its own
    base + spare boxes' price over what they save each month (the hybrid's total less those boxes' amortization is what
    it costs to run, overflow included). `owned`: the bought option of the same box (its amortization per box).
    monthly_rate: the cost of capital's, for a discounted payback as payback_months gives.
    None when not a priced mix of owned boxes and API, or nothing to price it with."""
    if hybrid is None or not hybrid.is_mix or reference is None or owned is None or owned.units <= 0:
        return None
    if owned.box.label != hybrid.box.label:
        return None
    boxes = hybrid.base_units + hybrid.spare_units
    capex = (hybrid.box.capex_usd or 0.0) * boxes
    if capex <= 0:
        return None
    amort = owned.monthly_usd.amortization / owned.units * boxes
    return capex, payback_months(capex, hybrid.total_usd - amort, reference.monthly_usd, monthly_rate)


def npv_vs_api_usd(own_monthly_usd: float, api_monthly_usd: float, p: CostParams) -> float:
    """Net present value of buying instead of paying the API over the amortization months, at the cost of capital:
    the monthly saving (API minus the full owned cost, whose hardware charge is the capital recovery payment) times
    the annuity factor (1 - (1 + i)^-n) / i (n at i = 0). Equal to -capex + discounted (API - running) + discounted
    resale, since the capital recovery payment is exactly the capex less the discounted resale spread over n months."""
    n = p.amortize_months
    i = p.monthly_rate
    if not i > 0:  # a rate so small (1e-17) that the monthly rate rounds to 0 (was a ZeroDivisionError, exit 3)
        return (api_monthly_usd - own_monthly_usd) * n
    return (api_monthly_usd - own_monthly_usd) * (1.0 - (1.0 + i) ** -n) / i


def parity_electricity_usd_per_kwh(other_usd: float, energy_kwh: float, cloud_monthly_usd: float) -> float | None:
    """$/kWh at which self-host (other + kWh x price) costs what the cloud does; None if no non-negative price does."""
    if energy_kwh <= 0:
        return None
    price = (cloud_monthly_usd - other_usd) / energy_kwh
    return price if price >= 0 else None
