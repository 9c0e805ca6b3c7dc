"""Validate the cost command's options and turn them into Workload, CostParams and Constraints (defaults from data)."""
from __future__ import annotations

import math

from ..errors import BadNumberError, BadOptionError
from ..units import parse_context, parse_count
from .defaults import data, default, source
from .types import Constraints, CostParams, Workload

REGULATIONS = ("hipaa", "gdpr", "finance", "legal")


def _number(name: str, value: float | None, fallback: str, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False, example: str = "") -> float:
    v = float(default(fallback) if value is None else value)
    bad = (not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi))
    if bad:
        lo_s = f"above {lo:g}" if lo_open else f"at least {lo:g}"
        hi_s = f"below {hi:g}" if hi_open else f"at most {hi:g}"
        raise BadNumberError(f"{name} {value!r} is out of range", f"give a value {lo_s} and {hi_s}{example}")
    return v


def build_workload(monthly_tokens: str, output_share: float | None, peak_to_average: float | None,
                   active_hours: float | None, context: str | None, min_stream_speed: float | None,
                   request_tokens: int | None, max_context: int | None = None) -> Workload:
    tokens = parse_count(monthly_tokens, what="--monthly-tokens")
    share = _number("--output-share", output_share, "output_share", 0.0, 1.0, lo_open=True, hi_open=True,
                    example=", e.g. 0.25 for 3:1 input:output")
    peak = _number("--peak-to-average", peak_to_average, "peak_to_average", 1.0, 1000.0, example=", e.g. 2")
    hours = _number("--active-hours", active_hours, "active_hours_per_month", 0.0, 730.0, lo_open=True,
                    example=" (730 = all month)")
    ctx = parse_context(context if context is not None else str(default("context")), max_context)
    floor = _number("--min-stream-speed", min_stream_speed, "min_stream_tokens_per_s", 0.0, 10_000.0)
    req = int(_number("--request-tokens", request_tokens, "request_input_tokens", 1, 10_000_000))
    return Workload(
        monthly_tokens=tokens, output_share=share, peak_to_average=peak, active_hours_per_month=hours, context=ctx,
        min_stream_tokens_per_s=floor or None, request_input_tokens=req,
    )


def build_params(electricity: float | None, pue: float | None, amortize_months: float | None,
                 ops_hours: float | None, ops_rate: float | None) -> CostParams:
    return CostParams(
        electricity_usd_per_kwh=_number("--electricity", electricity, "electricity_usd_per_kwh", 0.0, 10.0),
        pue=_number("--pue", pue, "pue", 1.0, 5.0),
        amortize_months=_number("--amortize-months", amortize_months, "amortize_months", 1.0, 240.0),
        ops_hours_per_month=_number("--ops-hours", ops_hours, "ops_hours_per_month", 0.0, 744.0),
        ops_usd_per_hour=_number("--ops-rate", ops_rate, "ops_usd_per_hour", 0.0, 10_000.0),
        gpu_idle_share_of_tdp=float(default("gpu_idle_share_of_tdp")),
        hours_per_month=float(default("hours_per_month")),
    )


def build_constraints(regulated: str | None, air_gapped: bool, no_ops_team: bool, need_frontier: bool) -> Constraints:
    reg = regulated.strip().lower() if regulated else None
    if reg is not None and reg not in REGULATIONS:
        raise BadOptionError(f"--regulated {regulated!r} is not one of {', '.join(REGULATIONS)}", "e.g. --regulated hipaa")
    return Constraints(regulated=reg, air_gapped=air_gapped, no_ops_team=no_ops_team, need_frontier=need_frontier)


def check_contract(price_in: float | None, price_out: float | None) -> tuple[float, float] | None:
    if price_in is None and price_out is None:
        return None
    if price_in is None or price_out is None:
        raise BadOptionError("--price-in and --price-out go together", "give both, in USD per million tokens")
    for name, v in (("--price-in", price_in), ("--price-out", price_out)):
        if not math.isfinite(v) or v < 0 or v > 10_000:
            raise BadNumberError(f"{name} {v!r} is out of range", "give USD per million tokens, e.g. 2.5")
    return price_in, price_out


def assumptions(w: Workload, p: CostParams) -> dict:
    """Every assumption with its value and source (the JSON 'assumptions' object)."""
    def item(name: str, value) -> dict:
        if value != default(name):
            flag = data()["defaults"][name].get("flag") or name
            return {"value": value, "source": f"given with {flag}", "default": default(name), **{
                "default_source": source(name)["source"]}}
        return {"value": value, **source(name)}

    return {
        "output_share": item("output_share", w.output_share),
        "peak_to_average": item("peak_to_average", w.peak_to_average),
        "active_hours_per_month": item("active_hours_per_month", w.active_hours_per_month),
        "context": item("context", w.context),
        "min_stream_tokens_per_s": item("min_stream_tokens_per_s", w.min_stream_tokens_per_s),
        "request_input_tokens": item("request_input_tokens", w.request_input_tokens),
        "electricity_usd_per_kwh": item("electricity_usd_per_kwh", p.electricity_usd_per_kwh),
        "pue": item("pue", p.pue),
        "amortize_months": item("amortize_months", p.amortize_months),
        "ops_hours_per_month": item("ops_hours_per_month", p.ops_hours_per_month),
        "ops_usd_per_hour": item("ops_usd_per_hour", p.ops_usd_per_hour),
        "gpu_idle_share_of_tdp": item("gpu_idle_share_of_tdp", p.gpu_idle_share_of_tdp),
        "hours_per_month": item("hours_per_month", p.hours_per_month),
    }
