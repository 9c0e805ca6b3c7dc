"""The priced hybrid: N owned boxes for the base load, the API for what overflows them, N chosen to minimise cost.

Owned part: N base boxes plus the same spares as an all-owned fleet (like for like: the hybrid does not win by
dropping redundancy), priced by tco.buy_monthly for the tokens they serve. Overflow: cost/traffic.overflow_tokens
under the load-duration model, priced at the API's average $/token for this workload (cache and batch shares
included). N = 0 is the all-API bill (no boxes, no operations); N = the all-owned count has no overflow and costs
exactly the all-owned option. The total is convex in N for N >= 1 (fixed cost per box is constant; the overflow
saved by each extra box shrinks as the load-duration curve falls), so the optimum is found by bisecting on the
marginal cost.

Materiality: a split counts as a hybrid only when the API serves load in at least `hybrid_min_overflow_hours`
(data/cost.yaml: 1 h) of the month. The traffic inputs are hourly (the busiest hour carries r times the average); N
boxes that fall short only inside the busiest hour are N owned boxes whose busiest minutes queue or go to an API for
cents, the same plan as owning them (Hybrid.is_tail): the verdict calls it self-hosting with N boxes, at the split's
total, rather than a hybrid won over all-owned by a few thousand tokens.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import ServingCapacity
from . import tco
from .capacity import mix_tokens_per_s
from .traffic import overflow_hours, overflow_tokens
from .types import Box, CloudOption, CostParams, Hybrid, Workload


@lru_cache(maxsize=1)
def min_overflow_hours() -> float:
    """Hours of the month the API must serve in for a split to count as a hybrid (data/cost.yaml, a decision rule)."""
    return float(load("cost")["recommendation"]["hybrid_min_overflow_hours"])


def _pricer(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, api: CloudOption):
    """hybrid_at for one box, workload and API, with what does not depend on N worked out once; the same split's
    total alone (no Hybrid built, for the bisection: the same expressions, so the same float); and the all-owned
    count. (best_hybrid prices a dozen N for every comparison, and the sensitivity re-runs compare hundreds of times.)"""
    per_box_h = mix_tokens_per_s(cap, w) * 3600.0
    full = tco.units_needed(cap, w)
    t = w.monthly_tokens
    usd_per_token = api.monthly_usd / t if t else 0.0

    def parts(n: int) -> tuple[float, float]:
        over = 0.0 if n >= full else overflow_tokens(t, w.active_hours_per_month, w.peak_to_average, n * per_box_h)
        spare = p.spare_units if n > 0 else 0
        owned = tco.buy_monthly(box, n + spare, (t - over) / per_box_h, p).total if n > 0 else 0.0
        return over, owned

    def total(base_units: int) -> float:
        over, owned = parts(max(0, min(base_units, full)))
        return owned + over * usd_per_token

    def at(base_units: int) -> Hybrid:
        n = max(0, min(base_units, full))
        over, owned = parts(n)
        hours = 0.0 if n >= full else overflow_hours(t, w.active_hours_per_month, w.peak_to_average, n * per_box_h)
        spare = p.spare_units if n > 0 else 0
        return Hybrid(box=box, base_units=n, spare_units=spare, overflow_tokens=int(round(over)), self_host_usd=owned,
                      api_overflow_usd=over * usd_per_token, api=api.price.id, all_owned_units=full,
                      overflow_hours=hours, material=hours >= min_overflow_hours() - 1e-9)

    return at, total, full


def hybrid_at(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, api: CloudOption, base_units: int,
              ) -> Hybrid:
    """The hybrid with `base_units` owned boxes (plus spares when there is any box)."""
    return _pricer(box, cap, w, p, api)[0](base_units)


def best_hybrid(box: Box, cap: ServingCapacity, w: Workload, p: CostParams, api: CloudOption) -> Hybrid:
    """The cheapest split; ties go to the pure options (all API, then all owned)."""
    at, total, full = _pricer(box, cap, w, p, api)
    priced: dict[int, float] = {}

    def cost(n: int) -> float:  # total_usd of at(n), without building the Hybrid
        if n not in priced:
            priced[n] = total(n)
        return priced[n]

    lo, hi = 1, full  # smallest n in [1, full] whose next box no longer saves money
    while lo < hi:
        mid = (lo + hi) // 2
        if cost(mid + 1) >= cost(mid):
            hi = mid
        else:
            lo = mid + 1
    # the choice on the totals (cost(n) is at(n).total_usd to the last bit), then the one Hybrid it picked is built
    candidates = sorted({0, lo, full})
    best = candidates[0]
    for n in candidates[1:]:
        if cost(n) < cost(best) - 1e-6:
            best = n
    last = candidates[-1]
    if 0 < best < full and cost(last) <= cost(best) + 1e-6:  # at(best).is_split
        best = last
    return at(best)


def least_owned_usd(box: Box, p: CostParams) -> float | None:
    """A floor under every hybrid of this box with at least one owned box: 1 + spare boxes that never serve a token
    (amortization, idle power, operations; each grows with the boxes and the busy hours, and the overflow costs >= 0).
    None when the box's active draw is below its idle draw (then busy hours could lower the power bill)."""
    if box.capex_usd is None or box.active_watts() < box.idle_watts(p.gpu_idle_share_of_tdp):
        return None
    return tco.buy_monthly(box, 1 + p.spare_units, 0.0, p).total


@lru_cache(maxsize=512)
def _least_owned_usd(box: Box, p: CostParams) -> float | None:
    """least_owned_usd, remembered: the sensitivity re-runs ask it again for the same box and parameters."""
    return least_owned_usd(box, p)


def cheapest_hybrid(owned: list, w: Workload, p: CostParams, api: CloudOption) -> Hybrid | None:
    """min(best_hybrid(o) for o in owned) by total, the first of equals kept, as the plain min gives it; a box is
    skipped when neither its all-API split nor any split with a box can cost less than the best found so far
    (least_owned_usd; the all-API total is the same for every box). The sensitivity re-runs price hundreds of
    comparisons, most of them with the verdict far from any box."""
    best: Hybrid | None = None
    all_api: float | None = None  # the all-API split's total: no box in it, the same for every box
    for o in owned:
        if best is not None:
            floor = _least_owned_usd(o.box, p)
            if floor is not None and floor >= best.total_usd:
                if all_api is None:
                    all_api = _pricer(o.box, o.capacity, w, p, api)[1](0)
                if all_api >= best.total_usd:
                    continue
        h = best_hybrid(o.box, o.capacity, w, p, api)
        if best is None or h.total_usd < best.total_usd:
            best = h
    return best
