"""Traffic profile and the priced hybrid: how load spreads over the month, and what spills over N owned boxes.

Load-duration model (docs/methodology.md, "Traffic and hybrid"): traffic arrives only in the H active hours
(--active-hours). Sorted from busiest hour to quietest (a load-duration curve, the tool power-system planners use to
split base load from peaks: https://probsee.com/p/Load_duration_curve), the hourly load is taken to fall on a straight
line from the peak r.a, where a = T/H is the average and r = --peak-to-average:
    r <= 2: from r.a down to (2 - r).a over all H hours;
    r >  2: from r.a down to 0 over the first 2H/r hours, zero after.
Both have mean a and peak r.a, so T and the peak are exactly what the user said; the straight line is an ASSUMPTION
(no public load-duration data for LLM traffic). Owned boxes with capacity K tokens/h serve min(load, K); the rest,
the integral of max(0, load - K), overflows to the API. The owned/API split is the screening-curve choice between
plants with high fixed and low running cost and plants with no fixed and high running cost
(https://ienergysupportbase.pages.dev/docs/workshop/BESS/Conceptual/Cost): N is chosen to minimise the total.
"""
from __future__ import annotations

import math


def overflow_tokens(monthly_tokens: float, active_hours: float, peak_to_average: float, capacity_tokens_per_h: float) -> float:
    """Tokens a month above `capacity_tokens_per_h` under the linear load-duration curve (closed form, see module doc)."""
    t, h, r, k = float(monthly_tokens), float(active_hours), float(peak_to_average), max(0.0, capacity_tokens_per_h)
    if t <= 0:
        return 0.0
    a = t / h
    peak = r * a
    if k >= peak:
        return 0.0
    if r <= 1.0:  # flat: every active hour carries the average
        return (a - k) * h
    if r <= 2.0:
        slope, floor, span = 2.0 * (r - 1.0) * a / h, (2.0 - r) * a, h
    else:
        slope, floor, span = r * r * a / (2.0 * h), 0.0, 2.0 * h / r
    if k <= floor:  # even the quietest hour overflows
        return t - k * h
    t_k = (peak - k) / slope  # hours in which the load exceeds k
    return min(t, (peak - k) * min(t_k, span) / 2.0)


def load_at_hour(monthly_tokens: float, active_hours: float, peak_to_average: float, hour: float) -> float:
    """Tokens/h carried by the `hour`-th busiest hour of the sorted curve (hour 0 = the peak r.a); 0 past its end."""
    t, h, r = float(monthly_tokens), float(active_hours), float(peak_to_average)
    if t <= 0 or hour > h:
        return 0.0
    a = t / h
    if r <= 1.0:
        return a
    if r <= 2.0:
        return r * a - 2.0 * (r - 1.0) * a * hour / h
    return max(0.0, r * a * (1.0 - r * hour / (2.0 * h)))


def overflow_hours(monthly_tokens: float, active_hours: float, peak_to_average: float,
                   capacity_tokens_per_h: float) -> float:
    """Hours of the month in which the load exceeds `capacity_tokens_per_h` (the span the API serves in a hybrid)."""
    t, h, r, k = float(monthly_tokens), float(active_hours), float(peak_to_average), max(0.0, capacity_tokens_per_h)
    if t <= 0:
        return 0.0
    a = t / h
    if k >= r * a:
        return 0.0
    if r <= 1.0:
        return h
    if r <= 2.0:
        floor, slope, span = (2.0 - r) * a, 2.0 * (r - 1.0) * a / h, h
    else:
        floor, slope, span = 0.0, r * r * a / (2.0 * h), 2.0 * h / r
    if k < floor:
        return h
    return min(span, (r * a - k) / slope)
