"""The `advisor cost --json` object (docs/schema/cost.schema.json), built from a CostComparison in one place."""
from __future__ import annotations

from typing import Any

from .. import SCHEMA_VERSION
from ..cost.types import CloudOption, CostComparison, Hybrid, SelfHostOption, served_engine
from .jsonout import round_finite as _r


def _parts(**parts: float) -> dict[str, float]:
    """Cents per part and a total that is their sum, so the JSON adds up to the cent as printed (a finance reader
    re-adds it); the unrounded total differs from it by under a cent per part."""
    out = {k: round(float(v), 2) for k, v in parts.items()}
    out["total"] = round(sum(out.values()), 2)
    return out


def _serving(o: SelfHostOption) -> dict[str, Any]:
    c = o.capacity
    return {
        "total_tokens_per_s": _r(getattr(c, "total_tokens_per_s", 0.0) or None),
        "engine": c.engine, "quant": c.quant, "context": c.context, "concurrency": c.concurrency,
        "max_concurrency": c.max_concurrency,
        "aggregate_decode_tokens_per_s": _r(c.aggregate_decode_tokens_per_s),
        "per_stream_decode_tokens_per_s": _r(c.per_stream_decode_tokens_per_s),
        "prefill_tokens_per_s": _r(c.prefill_tokens_per_s), "confidence": c.confidence,
        "low_factor": _r(c.low_factor, 3), "high_factor": _r(c.high_factor, 3),
    }


def _per_mtok(total: float, tokens: int) -> float | None:
    """$/Mtok from the total as printed (cents), so total / volume reproduces it."""
    return _r(round(total, 2) / (tokens / 1e6), 4) if tokens > 0 else None


def _format(o: SelfHostOption, c: CostComparison | None) -> dict[str, Any]:
    """The weight format a box serves and its measured loss (null: unmeasured, or measured figures without --quant)."""
    fmt = o.capacity.quant
    fq = c.format_quality if c is not None else {}
    planned = next((r.original for r in (c.replanned if c is not None else ()) if r.planned == o.box.label), None)
    return {"weight_format": fmt, "quality": fq.get(fmt) if fmt else None, "replanned_from": planned}


def _ops_hours(o: SelfHostOption, c: CostComparison | None) -> float | None:
    """Engineer-hours a month the option's operations bill pays for (cost/types.py CostParams.operations_hours_for);
    null without the comparison's parameters."""
    return _r(c.params.operations_hours_for(o.units)) if c is not None else None


def self_host_dict(o: SelfHostOption, amortize_months: float = 36.0, tokens: int = 0,
                   c: CostComparison | None = None) -> dict[str, Any]:
    m = o.monthly_usd
    usd = _parts(amortization=m.amortization, power=m.power, operations=m.operations,
                 **({"space": m.space} if m.space else {}))
    return {
        "hardware": o.box.label, "mode": "buy", "units": o.units, "gpus_per_unit": o.box.gpus,
        "capex_usd": _r(o.capex_usd), "unit_price_usd": _r(o.box.capex_usd), "price_kind": o.box.price_kind or None,
        "price_quotes": len(o.box.purchase_quotes),
        # 1.29 (price33): how many of those quotes are undated pages (dated only by the day read), whether
        # gpu_price_as_of is such a read day rather than the figure's date, and the host price's date likewise
        "price_quotes_undated": o.box.purchase_quotes_undated, "gpu_price_undated": o.box.price_undated,
        "host_price_as_of": o.box.host_price_as_of or None, "host_price_undated": o.box.host_price_undated,
        # the capex's parts (1.28): capex_usd = units x unit_price_usd = units x (gpus_per_unit x gpu_price_usd +
        # host_price_usd), each price with where it comes from and the date behind it
        "gpu_price_usd": _r(o.box.gpu_price_usd), "host_price_usd": _r(o.box.host_price_usd),
        "gpu_price_source": o.box.price_source or None, "gpu_price_as_of": o.box.price_as_of or None,
        "host_price_source": o.box.host_source or None,
        "gpu_watts": _r(o.box.gpu_tdp_watts),
        "gpu_watts_source": o.box.power_source or "catalog", "consumer_gpu": o.box.consumer_gpu,
        # the wall draw of one box (GPUs + host) busy and idle, before PUE: with units, busy_hours_per_month and
        # assumptions hours_per_month / pue / electricity_usd_per_kwh they re-derive energy_kwh and the power bill
        "box_active_watts": _r(o.box.active_watts()),
        "box_idle_watts": _r(o.box.idle_watts(c.params.gpu_idle_share_of_tdp)) if c is not None else None,
        "capacity_tokens_per_month": o.capacity_tokens_per_month,
        "monthly_usd": usd,
        "usd_per_million_tokens": _per_mtok(usd["total"], tokens) if tokens else _r(o.usd_per_million_tokens, 4), "payback_months": _r(o.payback_months),
        "pays_back_within_amortization": o.payback_months is not None and o.payback_months <= amortize_months,
        "break_even_monthly_tokens": o.break_even_monthly_tokens, "spare_units": o.spare_units,
        "busy_hours_per_month": _r(o.busy_hours_per_month), "utilisation": _r(o.utilisation, 4),
        # 1.30 (price34): the engineer-hours behind monthly_usd.operations (x assumptions.ops_usd_per_hour)
        "operations_hours_per_month": _ops_hours(o, c),
        "energy_kwh": _r(o.energy_kwh), "serving": _serving(o), **_format(o, c),
        "residual_value_usd": _r(o.capex_usd * c.params.residual_value_share) if c is not None else None,
        "npv_vs_reference_usd": _r(o.npv_vs_reference_usd),
    }


def rental_dict(o: SelfHostOption, tokens: int = 0, c: CostComparison | None = None) -> dict[str, Any]:
    m = o.monthly_usd
    usd = _parts(rental=m.rental, operations=m.operations)
    return {
        "hardware": o.box.label, "mode": "rent", "units": o.units, "gpus_per_unit": o.box.gpus,
        "usd_per_gpu_hour": _r(o.box.rental_usd_per_gpu_hour, 3),
        "usd_per_gpu_hour_low": _r(o.box.rental_low_usd_per_gpu_hour, 3),
        "usd_per_gpu_hour_high": _r(o.box.rental_high_usd_per_gpu_hour, 3),
        "rate_quotes": o.box.rental_quotes, "rate_quotes_oldest": o.box.rental_oldest_quote or None,
        "hours_per_month": _r(o.rental_hours_per_month),
        "operations_hours_per_month": _ops_hours(o, c),  # 1.30 (price34), as a bought row's
        "capacity_tokens_per_month": o.capacity_tokens_per_month,
        "monthly_usd": usd,
        "usd_per_million_tokens": _per_mtok(usd["total"], tokens) if tokens else _r(o.usd_per_million_tokens, 4), "utilisation": _r(o.utilisation, 4),
        "serving": _serving(o), **_format(o, c),
    }


def _effective(p, c: CostComparison | None) -> dict[str, Any]:
    """The input and output $/Mtok this workload pays on average (cache reads and writes, batch, each listed price's
    fallbacks and caps applied: cost/cloud.py effective_usd_per_mtok), so monthly_usd = input_tokens x input + output_tokens
    x output / 1e6 can be checked from the JSON; null without the workload."""
    if c is None:
        return {"effective_input_usd_per_mtok": None, "effective_output_usd_per_mtok": None}
    from ..cost.cloud import effective_usd_per_mtok

    p_in, p_out = effective_usd_per_mtok(p, c.workload)
    return {"effective_input_usd_per_mtok": _r(p_in, 6), "effective_output_usd_per_mtok": _r(p_out, 6)}


def cloud_dict(o: CloudOption, tokens: int = 0, c: CostComparison | None = None) -> dict[str, Any]:
    p = o.price
    fq = c.format_quality if c is not None else {}
    return {
        "id": p.id, "provider": p.provider, "model": p.model, "name": p.name, "tier": p.tier,
        "open_weight_of": p.open_weight_of,
        "input_usd_per_mtok": _r(p.input_usd_per_mtok, 4), "output_usd_per_mtok": _r(p.output_usd_per_mtok, 4),
        "cached_input_usd_per_mtok": _r(p.cached_input_usd_per_mtok, 4),
        "cache_write_usd_per_mtok": _r(p.cache_write_usd_per_mtok, 4),
        "batch_input_usd_per_mtok": _r(p.batch_input_usd_per_mtok, 4),
        "batch_output_usd_per_mtok": _r(p.batch_output_usd_per_mtok, 4),
        "batch_cached_input_usd_per_mtok": _r(p.batch_cached_input_usd_per_mtok, 4),
        "batch_cache_write_usd_per_mtok": _r(p.batch_cache_write_usd_per_mtok, 4),
        **_effective(p, c),
        "cache_price_source": p.cache_source or None, "batch_price_source": p.batch_source or None,
        "monthly_usd": _r(o.monthly_usd),
        "usd_per_million_tokens": _per_mtok(o.monthly_usd, tokens) if tokens else _r(o.usd_per_million_tokens, 4),
        "prices_as_of": p.prices_as_of, "via": p.via, "source": p.source or None, "excluded": o.excluded_reason,
        "weight_format": p.weight_format, "weight_format_source": p.weight_format_source or None,
        "weight_format_note": p.weight_format_note or None,
        "quality": fq.get(p.weight_format) if p.weight_format else None,
    }


def hybrid_dict(h: Hybrid | None, monthly_tokens: int, c: CostComparison | None = None) -> dict[str, Any] | None:
    if h is None:
        return None
    owned = next((o for o in (c.self_host if c is not None else ()) if o.box.label == h.box.label), None)
    api = next((o.price for o in (c.cloud if c is not None else ()) if o.price.id == h.api), None)
    fmt = owned.capacity.quant if owned is not None else None
    api_fmt = api.weight_format if api is not None else None
    fq = c.format_quality if c is not None else {}
    return {
        "weight_format": fmt, "quality": fq.get(fmt) if fmt else None,
        "api_weight_format": api_fmt, "api_quality": fq.get(api_fmt) if api_fmt else None,
        "hardware": h.box.label, "base_units": h.base_units, "spare_units": h.spare_units,
        "all_owned_units": h.all_owned_units, "is_mix": h.is_mix, "api": h.api,
        "overflow_hours": _r(h.overflow_hours, 4), "busiest_hour_tail": h.is_tail,
        "overflow_tokens": h.overflow_tokens,
        "overflow_share": _r(h.overflow_tokens / monthly_tokens if monthly_tokens else 0.0, 4),
        "monthly_usd": _parts(self_host=h.self_host_usd, api_overflow=h.api_overflow_usd),
        "payback_months": _hybrid_payback_months(h, owned, c),
    }


def _hybrid_payback_months(h: Hybrid, owned, c: CostComparison | None) -> float | None:
    """Months until the hybrid's own boxes pay back against the reference API alone; None: never, or not a priced mix."""
    from ..cost.breakeven import hybrid_payback

    pb = hybrid_payback(h, owned, c.reference_cloud if c is not None else None,
                        c.params.monthly_rate if c is not None else 0.0)
    return _r(pb[1], 2) if pb is not None and pb[1] is not None else None


def sensitivity_dict(s) -> dict[str, Any]:
    def num(x: float | None) -> float | None:
        if x is None:
            return None
        return int(round(x)) if s.parameter == "monthly_tokens" else _r(x, 4)

    return {"parameter": s.parameter, "unit": s.unit, "value": num(s.value), "verdict": s.verdict,
            "flips_below": num(s.flips_below), "verdict_below": s.verdict_below,
            "flips_above": num(s.flips_above), "verdict_above": s.verdict_above,
            "searched": [num(s.searched_low), num(s.searched_high)]}


def price_to_win_dict(t) -> dict[str, Any]:
    """cost/sensitivity.PriceToWin: the price a GPU (and a GPU-hour) below which an unpriced box would win."""
    return {"hardware": t.box, "gpus": t.gpus, "buy_gpu_usd": _r(t.buy_gpu_usd) if t.buy_gpu_usd is not None else None,
            "buy_verdict": t.buy_verdict, "free_gpus_monthly_usd": _r(t.free_gpus_monthly_usd)
            if t.free_gpus_monthly_usd is not None else None,
            "rent_usd_per_gpu_hour": _r(t.rent_gpu_hour_usd, 4) if t.rent_gpu_hour_usd is not None else None,
            "rent_verdict": t.rent_verdict, "api_monthly_usd": _r(t.api_monthly_usd)}


def floor_dict(c: CostComparison) -> dict[str, Any] | None:
    """The quality floor (cost/floor.py), the boxes re-planned or excluded for it, and the verdict at other floors."""
    f = c.quality_floor
    if f is None:
        return None
    return {
        "format": f.format, "bits": _r(f.bits, 4) if f.format else None, "basis": f.basis, "reason": f.reason,
        "source": f.source or None, "applied": f.applied,
        "replanned": [{"from": r.original, "to": r.planned, "below_format": r.below_format, "reason": r.reason}
                      for r in c.replanned],
        "verdict_by_floor": [{"floor": v.format, "verdict": v.verdict, "monthly_usd": _r(v.monthly_usd),
                              "option": v.option, "current": v.current,
                              "served": v.served}  # 1.30 (price34): false when no option serves at that floor
                             for v in c.floor_verdicts],
    }


def floor_sensitivity(c: CostComparison) -> list[dict[str, Any]]:
    """The quality floor as one more sensitivity entry, in weight bits (16 BF16, 8 FP8, 0 no floor): the nearest floor
    below and above the current one at which the re-run gives another verdict (from quality_floor.verdict_by_floor)."""
    f = c.quality_floor
    cur = next((v for v in c.floor_verdicts if v.current), None)
    if f is None or cur is None:
        return []
    from ..cost.floor import weight_bits

    bits = lambda v: float(weight_bits(v.format) or 0.0) if v.format else 0.0  # noqa: E731
    now = float(f.bits) if f.format else 0.0
    # a floor at which nothing serves is no other verdict to flip to (price34)
    below = sorted((v for v in c.floor_verdicts if bits(v) < now and v.served), key=bits, reverse=True)
    above = sorted((v for v in c.floor_verdicts if bits(v) > now and v.served), key=bits)
    flip_b = next((v for v in below if v.verdict != cur.verdict), None)
    flip_a = next((v for v in above if v.verdict != cur.verdict), None)
    tried = [bits(v) for v in c.floor_verdicts] + [now]
    return [{"parameter": "quality_floor_bits", "unit": "weight bits (0: no floor)", "value": now,
             "verdict": cur.verdict, "flips_below": bits(flip_b) if flip_b else None,
             "verdict_below": flip_b.verdict if flip_b else None, "flips_above": bits(flip_a) if flip_a else None,
             "verdict_above": flip_a.verdict if flip_a else None, "searched": [min(tried), max(tried)]}]


def _spend(d: dict[str, Any]) -> float | None:
    """What the verdict costs a month, read off the totals printed beside it (cost.compare.recommended_monthly_usd
    on the same records, rounded the same way)."""
    choice = d["recommendation"]["choice"]
    if choice == "self-host":
        tail = [d["hybrid"]["monthly_usd"]["total"]] if d["hybrid"] and d["hybrid"].get("busiest_hour_tail") else []
        return min([o["monthly_usd"]["total"] for o in d["self_host"] + d["rental"]] + tail, default=None)
    if choice == "hybrid":
        return d["hybrid"]["monthly_usd"]["total"] if d["hybrid"] else None
    return next((o["monthly_usd"] for o in d["cloud"] if o["id"] == d["reference_cloud"]), None)


def cost_dict(c: CostComparison) -> dict[str, Any]:
    d = _cost_dict(c)
    d["recommendation"]["monthly_usd"] = _spend(d)
    return d


def _cost_dict(c: CostComparison) -> dict[str, Any]:
    w, rec = c.workload, c.recommendation
    return {
        "schema_version": SCHEMA_VERSION,
        "model": {"id": c.model_id, "name": c.model_name},
        "engine": served_engine(c),
        "monthly_tokens": w.monthly_tokens,
        "input_tokens": w.input_tokens,
        "output_tokens": w.output_tokens,
        "self_host": [self_host_dict(o, c.params.amortize_months, w.monthly_tokens, c) for o in c.self_host],
        "rental": [rental_dict(o, w.monthly_tokens, c) for o in c.rental],
        "cloud": [cloud_dict(o, w.monthly_tokens, c) for o in c.cloud],
        "reference_cloud": c.reference_cloud.price.id if c.reference_cloud else None,
        "excluded": [{"hardware": e.hardware, "reason": e.reason, "kind": e.kind} for e in c.excluded],
        "break_even_monthly_tokens": c.break_even_monthly_tokens,
        "hybrid": hybrid_dict(c.hybrid, w.monthly_tokens, c),
        "sensitivity": [sensitivity_dict(s) for s in c.sensitivity] + floor_sensitivity(c),
        "price_to_win": [price_to_win_dict(t) for t in c.price_to_win],
        "quality_floor": floor_dict(c),
        "workload": {"prompt_tokens": w.prompt_tokens, "output_tokens": w.request_output_tokens,
                     "peak_to_average": w.peak_to_average, "active_hours_per_month": w.active_hours_per_month,
                     "cached_input_share": w.cached_input_share, "cache_write_share": w.cache_write_share,
                     "batch_share": w.batch_share, "cached_prompt_tokens": w.cached_prompt_tokens,
                     "max_ttft_s": w.max_ttft_s, "min_stream_tokens_per_s": w.min_stream_tokens_per_s},
        "recommendation": {
            "choice": rec.choice,
            "reasons": [r.text for r in rec.reasons],
            "reasons_detail": [{"text": r.text, "favours": r.favours, "weight": r.weight} for r in rec.reasons],
            "what_would_change": list(rec.what_would_change),
            "best_self_host": rec.best_self_host,
            "best_cloud": rec.best_cloud,
            "monthly_usd": None,  # filled below from the printed totals
        },
        "constraints": {"regulated": c.constraints.regulated, "air_gapped": c.constraints.air_gapped,
                        "no_ops_team": c.constraints.no_ops_team, "need_frontier": c.constraints.need_frontier},
        "assumptions": dict(sorted(c.assumptions.items())),
        "warnings": list(c.warnings),
    }
