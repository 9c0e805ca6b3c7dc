"""What the quality floor did to the comparison, said in the verdict: the floor and why, the boxes re-planned or
excluded for it, each format's measured loss, and the verdict at the other floors (BF16, FP8, none).

Why: a finance lead signs a comparison at equal quality, and wants to see what accepting a lossier format would buy.
The other floors are re-run through the same comparison (capacities per box and format are computed once, cost/fleet).
"""
from __future__ import annotations

from ..record import record, replace
from .floor import QualityFloor, format_quality, weight_bits
from .types import CostComparison, Reason


@record
class FloorVerdict:
    format: str | None  # the floor (None: no floor)
    verdict: str  # sensitivity.verdict_key: self-host (buy) | self-host (rent) | hybrid | cloud
    monthly_usd: float | None  # what the verdict at that floor costs a month
    option: str  # what that verdict recommends: a box label, "hybrid: ...", or the API's id
    current: bool = False

    @property
    def served(self) -> bool:
        """Whether any option of the re-run comparison serves the load at this floor (session 34, price34: with
        --air-gapped at a BF16 floor no box held Llama 3.1 70B, and the verdict read 'self-hosting ()' / 'self-hosting
        wins with a BF16 floor'); a verdict with nothing behind it has no monthly cost."""
        return self.monthly_usd is not None


_ALTERNATIVES = ("BF16", "FP8", None)  # 16-bit, 8-bit, no floor


def _alt_floor(name: str | None) -> QualityFloor:
    if name is None:
        return QualityFloor(None, 0.0, "none", "no floor")
    return QualityFloor(name, float(weight_bits(name) or 0.0), "flag", f"{name} or better")


def _summary(c: CostComparison) -> tuple[float | None, str]:
    from .compare import recommended_monthly_usd

    choice = c.recommendation.choice
    if choice == "hybrid" and c.hybrid is not None:
        h = c.hybrid
        label = f"{h.base_units + h.spare_units} boxes of {h.box.label} + {h.api}"
    elif choice == "self-host":
        opts = list(c.self_host[:1]) + list(c.rental[:1])
        best = min(opts, key=lambda o: o.monthly_usd.total) if opts else None
        label = f"{best.box.label} ({best.mode})" if best else ""
    else:
        label = c.reference_cloud.price.id if c.reference_cloud else ""
    return recommended_monthly_usd(c), label


def floor_verdicts(fleet, boxes, prices, floor: QualityFloor, base: CostComparison, rerun) -> tuple[FloorVerdict, ...]:
    """The verdict at 16-bit, 8-bit and no floor (the current floor's row marked current), each re-run in full."""
    from .sensitivity import verdict_key

    out = []
    for name in _ALTERNATIVES:
        alt = _alt_floor(name)
        if (alt.format is None and floor.format is None) or (alt.format is not None and floor.format is not None
                                                               and alt.bits == floor.bits):
            usd, label = _summary(base)
            out.append(FloorVerdict(floor.format, verdict_key(base), usd, label, current=True))
            continue
        planned, fn, _ = fleet.plan(boxes, alt)
        c = rerun(base.workload, base.params, planned, prices, capacity=fn)
        usd, label = _summary(c)
        out.append(FloorVerdict(alt.format, verdict_key(c), usd, label))
    if not any(v.current for v in out):  # a floor between the three (e.g. --min-quant Q6_K): listed first
        usd, label = _summary(base)
        out.insert(0, FloorVerdict(floor.format, verdict_key(base), usd, label, current=True))
    return tuple(out)


_WORDS = {"self-host (buy)": "buying", "self-host (rent)": "renting", "hybrid": "the hybrid", "cloud": "the API",
          "self-host": "self-hosting"}


def _loss(fmt: str | None, model_id: str) -> str:
    q = format_quality(fmt, model_id)
    if not fmt:
        return ""
    if q is None:
        return f"{fmt}: loss unmeasured"
    if q["measured_on"] == "reference" or (q["recovery_pct"] is None and q["loss_pct"] == 0.0):
        return f"{fmt}: the 16-bit reference"
    if q["recovery_pct"] is None:
        return f"{fmt}: +{q['loss_pct']:.2f}% perplexity on {q['measured_on']}"
    return f"{fmt}: {q['loss_pct']:.2f}% below 16-bit on {q['measured_on']}"


def annotate(c: CostComparison, floor: QualityFloor, replans, at_floors, fleet, quant) -> CostComparison:
    """The comparison with its floor, re-plans, per-format losses, a verdict reason and warnings."""
    served = {o.capacity.quant for o in (*c.self_host, *c.rental) if o.capacity.quant}
    served |= {o.price.weight_format for o in c.cloud if o.price.weight_format}
    fq = {f: format_quality(f, c.model_id) for f in sorted(served)}
    if floor.format:
        fq.setdefault(floor.format, format_quality(floor.format, c.model_id))
    warnings = list(c.warnings)
    reasons = list(c.recommendation.reasons)
    changes = list(c.recommendation.what_would_change)
    if fleet.measured is not None:
        pass  # said in the quality lines and the JSON (quality_floor.applied false): measured figures have no format
    elif quant is not None:
        bits = weight_bits(quant.name, quant.default_type)
        if floor.format and bits is not None and bits < floor.bits:
            warnings.append(f"--quant {quant.name} is below the quality floor ({floor.reason}): the boxes serve a "
                            "lossier model than the API they are compared with")
    else:
        parts = [f"equal quality: self-hosted options serve {floor.reason}" if floor.format
                 else f"quality floor {floor.reason}"]
        ref = c.reference_cloud.price if c.reference_cloud is not None else None
        ref_bits = weight_bits(ref.weight_format) if ref is not None and ref.weight_format else None
        if floor.format and ref_bits is not None and ref_bits < floor.bits:
            parts.append(f"{ref.id} serves {ref.weight_format}, below this floor: the boxes are held to a better "
                         "model than the API they are compared with")
        if not floor.format and ref_bits:
            lossier = sorted({f"{o.box.label} ({o.capacity.quant})" for o in (*c.self_host, *c.rental)
                              if o.capacity.quant and (weight_bits(o.capacity.quant) or 0.0) < ref_bits})
            if lossier:
                parts.append(f"not at equal quality: {', '.join(lossier)} serve{'s' if len(lossier) == 1 else ''} "
                             f"fewer weight bits than {ref.id} ({ref.weight_format})")
        losses = "; ".join(x for x in (_loss(f, c.model_id) for f in fq) if x)
        if losses:
            parts.append(f"measured loss ({losses})")
        for r in replans:
            parts.append(f"{r.original} re-planned as {r.planned} (as given it serves this load only at "
                         f"{r.below_format})" if r.planned else f"{r.original} excluded (it serves this load only "
                         f"at {r.below_format})")
        cur = next((v for v in at_floors if v.current), None)
        others = [v for v in at_floors if not v.current]
        if cur is not None and others:
            same = [v for v in others if v.verdict == cur.verdict]
            diff = [v for v in others if v.verdict != cur.verdict]
            for v in diff:
                at = f"at a {v.format} floor" if v.format else "with no floor (--min-quant any)"
                if not v.served:  # no box holds the model at that format, and the constraints leave no API
                    parts.append(f"{at} no option in the comparison serves this load")
                    continue
                cost = f" at ${v.monthly_usd:,.0f}/month" if v.monthly_usd is not None else ""
                parts.append(f"{at} the verdict would be {_WORDS.get(v.verdict, v.verdict)}{cost} ({v.option})")
                changes.append(f"{_WORDS.get(v.verdict, v.verdict)} wins with a "
                               f"{v.format + ' floor' if v.format else 'lossier format (--min-quant any)'}"
                               f"{cost}")
            if same and not diff:
                parts.append("the verdict is the same at a 16-bit floor, an 8-bit floor and with none")
        reasons.append(Reason("; ".join(parts), "neutral", 48))
    rec = replace(c.recommendation, reasons=tuple(sorted(reasons, key=lambda r: -r.weight)),
                  what_would_change=tuple(changes))
    return replace(c, quality_floor=replace(floor, applied=fleet.floor_applies), replanned=tuple(replans), floor_verdicts=tuple(at_floors),
                   format_quality=fq, warnings=tuple(warnings), recommendation=rec)
