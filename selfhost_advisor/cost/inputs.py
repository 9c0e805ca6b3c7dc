"""Validate the cost command's options and turn them into Workload, CostParams and Constraints (defaults from data).

Every number is checked here: NaN, infinite, negative or zero where zero makes no sense, shares outside 0-1 all exit 2
with one line naming the flag.
"""
from __future__ import annotations

import math

from ..errors import BadNumberError, BadOptionError
from ..units import parse_context, parse_count
from .defaults import STREAM_FLOOR, data, default, source
from .types import Constraints, CostParams, Workload

REGULATIONS = ("hipaa", "gdpr", "finance", "legal")


def _number(name: str, value: float | None, fallback: str | None, lo: float, hi: float, *, lo_open: bool = False,
            hi_open: bool = False, example: str = "") -> float:
    v = float(default(fallback) if value is None else value)
    bad = (not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi))
    if bad:
        lo_s = f"above {lo:g}" if lo_open else f"at least {lo:g}"
        hi_s = f"below {hi:g}" if hi_open else f"at most {hi:g}"
        raise BadNumberError(f"{name} {value!r} is out of range", f"give a value {lo_s} and {hi_s}{example}")
    return v


def _tokens(name: str, value: float | None) -> int | None:
    if value is None:
        return None
    v = _number(name, value, None, 1, 10_000_000, example=", e.g. 1500")
    if v != int(v):
        raise BadNumberError(f"{name} {value!r} is not a whole number of tokens", "e.g. 1500")
    return int(v)


def request_mix(prompt_tokens: float | None, output_tokens: float | None, output_share: float | None,
                request_tokens: float | None) -> tuple[int, int]:
    """(prompt, output) tokens of the typical request.

    --request-tokens is the old spelling of --prompt-tokens (both: they must agree). --output-share S (the old way to
    give the split) still works on its own: output = prompt x S / (1 - S); with --output-tokens it is refused.
    """
    prompt = _tokens("--prompt-tokens", prompt_tokens)
    legacy = _tokens("--request-tokens", request_tokens)
    if prompt is not None and legacy is not None and prompt != legacy:
        raise BadOptionError(f"--request-tokens {legacy} and --prompt-tokens {prompt} disagree",
                             "--request-tokens is the old name of --prompt-tokens: give one")
    prompt = prompt if prompt is not None else legacy if legacy is not None else int(default("prompt_tokens"))
    out = _tokens("--output-tokens", output_tokens)
    if output_share is not None:
        if out is not None:
            raise BadOptionError("--output-share and --output-tokens both set the split",
                                 "give --prompt-tokens P --output-tokens O (the share follows); --output-share is the old way")
        share = _number("--output-share", output_share, None, 0.0, 1.0, lo_open=True, hi_open=True,
                        example=", e.g. 0.25 for 3:1 input:output")
        return prompt, max(1, int(round(prompt * share / (1.0 - share))))
    return prompt, out if out is not None else int(default("output_tokens"))


def build_workload(monthly_tokens: str, output_share: float | None, peak_to_average: float | None,
                   active_hours: float | None, context: str | None, min_stream_speed: float | None,
                   request_tokens: float | None, max_context: int | None = None, *, prompt_tokens: float | None = None,
                   output_tokens: float | None = None, cached_input_share: float | None = None,
                   batch_share: float | None = None, max_ttft: float | None = None,
                   cache_write_share: float | None = None, cached_prompt_tokens: int | None = None) -> Workload:
    tokens = parse_count(monthly_tokens, what="--monthly-tokens")
    prompt, out = request_mix(prompt_tokens, output_tokens, output_share, request_tokens)
    share = out / (prompt + out) if output_share is None else _number("--output-share", output_share, None, 0.0, 1.0,
                                                                        lo_open=True, hi_open=True)
    peak = _number("--peak-to-average", peak_to_average, "peak_to_average", 1.0, 1000.0, example=", e.g. 2")
    hours = _number("--active-hours", active_hours, "active_hours_per_month", 0.0, 730.0, lo_open=True,
                    example=" (730 = all month)")
    if peak > max(1.0, hours):
        # the busiest hour would carry peak / hours > 1 of the month's tokens: more than all of them (under one active
        # hour a month, the traffic has no busiest hour to be above its average: 1)
        most = max(1.0, hours)
        raise BadOptionError(f"--peak-to-average {peak:g} over {hours:g} active hours: the busiest hour would carry "
                             f"{peak / most:.3g}x the month's tokens",
                             f"the busiest hour carries at most all of them: peak-to-average <= active hours "
                             f"(at most {most:g} here; --peak-to-average {most:g} is all the traffic in one hour)")
    ctx = parse_context(context if context is not None else str(default("context")), max_context)
    if context is None and max_context:
        ctx = min(ctx, max_context)  # the default never passes the model's maximum (512 for a BERT embedder)
    floor = _number("--min-stream-speed", min_stream_speed, STREAM_FLOOR, 0.0, 10_000.0)
    cached = _number("--cached-input-share", cached_input_share, "cached_input_share", 0.0, 1.0, example=", e.g. 0.5")
    writes = _number("--cache-write-share", cache_write_share, "cache_write_share", 0.0, 1.0, example=", e.g. 0.05")
    if cached + writes > 1.0 + 1e-12:
        raise BadOptionError(f"--cached-input-share {cached:g} and --cache-write-share {writes:g} add up to more than 1",
                             "they are shares of the same input tokens: read + written <= 1")
    batch = _number("--batch-share", batch_share, "batch_share", 0.0, 1.0, example=", e.g. 0.2")
    from ..estimate.serving.prefix import check_cached_tokens

    shared = (int(default("cached_prompt_tokens")) if cached_prompt_tokens is None
              else check_cached_tokens(cached_prompt_tokens, prompt))
    ttft = None
    if max_ttft is not None:
        ttft = _number("--max-ttft", max_ttft, None, 0.0, 3600.0, lo_open=True, example=" seconds, e.g. 2")
    return Workload(
        monthly_tokens=tokens, output_share=share, peak_to_average=peak, active_hours_per_month=hours, context=ctx,
        min_stream_tokens_per_s=floor or None, request_input_tokens=prompt, cached_input_share=cached,
        batch_share=batch, max_ttft_s=ttft, cache_write_share=writes, cached_prompt_tokens=shared,
    )


def build_params(electricity: float | None, pue: float | None, amortize_months: float | None,
                 ops_hours: float | None, ops_rate: float | None, ops_hours_per_box: float | None = None,
                 spare: int | None = None, residual_value: float | None = None,
                 cost_of_capital: float | None = None, space_per_box: float | None = None) -> CostParams:
    spare_n = _number("--spare", spare, "spare_units", 0, 1000, example=" boxes, e.g. 1")
    if spare_n != int(spare_n):
        raise BadNumberError(f"--spare {spare!r} is not a whole number of boxes", "e.g. --spare 1")
    return CostParams(
        electricity_usd_per_kwh=_number("--electricity", electricity, "electricity_usd_per_kwh", 0.0, 10.0),
        pue=_number("--pue", pue, "pue", 1.0, 5.0),
        amortize_months=_number("--amortization-months", amortize_months, "amortize_months", 1.0, 240.0),
        ops_hours_per_month=_number("--ops-hours", ops_hours, "ops_hours_per_month", 0.0, 744.0),
        ops_usd_per_hour=_number("--ops-rate", ops_rate, "ops_usd_per_hour", 0.0, 10_000.0),
        gpu_idle_share_of_tdp=float(default("gpu_idle_share_of_tdp")),
        hours_per_month=float(default("hours_per_month")),
        ops_hours_per_box=_number("--ops-hours-per-box", ops_hours_per_box, "ops_hours_per_box", 0.0, 744.0),
        spare_units=int(spare_n),
        residual_value_share=_number("--residual-value", residual_value, "residual_value_share", 0.0, 1.0,
                                     hi_open=True, example=", a share of the purchase price, e.g. 0.2"),
        cost_of_capital=_number("--cost-of-capital", cost_of_capital, "cost_of_capital", 0.0, 1.0,
                                example=", an annual rate, e.g. 0.08 for 8%"),
        space_usd_per_box=_number("--space-per-box", space_per_box, "space_usd_per_box", 0.0, 1_000_000.0,
                                  example=" USD a month per box, e.g. 150"),
    )


def check_prices(gpu_price: float | None, host_price: float | None, rent_price: float | None, n_boxes: int) -> None:
    """--gpu-price / --host-price (USD) and --rent-price (USD per GPU-hour) describe one box type."""
    for name, v, hi in (("--gpu-price", gpu_price, 10_000_000.0), ("--host-price", host_price, 10_000_000.0),
                        ("--rent-price", rent_price, 10_000.0)):
        if v is None:
            continue
        lo_open = name != "--host-price"  # a GPU or an hour is never free; a host can be (you own it already)
        _number(name, v, None, 0.0, hi, lo_open=lo_open, example=" USD" + (" per GPU-hour" if name == "--rent-price" else ""))
        if n_boxes != 1:
            raise BadOptionError(f"{name} prices one box type", "give exactly one --hardware with it")


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


def assumptions(w: Workload, p: CostParams, prices_date: str | None = None) -> dict:
    """Every assumption with its value and source (the JSON 'assumptions' object)."""
    def item(name: str, value) -> dict:
        if value != default(name):
            flag = data()["defaults"][name].get("flag") or name
            return {"value": value, "source": f"given with {flag}", "default": default(name), **{
                "default_source": source(name)["source"]}}
        return {"value": value, **source(name)}

    out = {
        "prompt_tokens": item("prompt_tokens", w.prompt_tokens),
        "output_tokens": item("output_tokens", w.request_output_tokens),
        "output_share": {"value": round(w.output_share, 6),
                         "source": "output tokens / (prompt + output tokens) of the typical request"},
        "peak_to_average": item("peak_to_average", w.peak_to_average),
        "active_hours_per_month": item("active_hours_per_month", w.active_hours_per_month),
        "context": item("context", w.context),
        "min_stream_tokens_per_s": item(STREAM_FLOOR, w.min_stream_tokens_per_s),
        "max_ttft_s": {"value": w.max_ttft_s, "source": "given with --max-ttft" if w.max_ttft_s else "no target"},
        "cached_input_share": item("cached_input_share", w.cached_input_share),
        "cached_prompt_tokens": item("cached_prompt_tokens", w.cached_prompt_tokens),
        "cache_write_share": item("cache_write_share", w.cache_write_share),
        "batch_share": item("batch_share", w.batch_share),
        "electricity_usd_per_kwh": item("electricity_usd_per_kwh", p.electricity_usd_per_kwh),
        "pue": item("pue", p.pue),
        "amortize_months": item("amortize_months", p.amortize_months),
        "ops_hours_per_month": item("ops_hours_per_month", p.ops_hours_per_month),
        "ops_hours_per_box": item("ops_hours_per_box", p.ops_hours_per_box),
        "ops_usd_per_hour": item("ops_usd_per_hour", p.ops_usd_per_hour),
        "spare_units": item("spare_units", p.spare_units),
        "residual_value_share": item("residual_value_share", p.residual_value_share),
        "cost_of_capital": item("cost_of_capital", p.cost_of_capital),
        "space_usd_per_box": item("space_usd_per_box", p.space_usd_per_box),
        "gpu_idle_share_of_tdp": item("gpu_idle_share_of_tdp", p.gpu_idle_share_of_tdp),
        "hours_per_month": item("hours_per_month", p.hours_per_month),
        "load_duration": {"value": "linear", "source": "cost/traffic.py: hourly load sorted busiest first falls on a "
                          "straight line from peak x average (mean = average); ASSUMPTION, see docs/methodology.md"},
    }
    if prices_date:
        out["prices_date"] = {"value": prices_date, "source": "API prices looked up for a request on this date "
                              "(today unless --price-date)"}
    return out
