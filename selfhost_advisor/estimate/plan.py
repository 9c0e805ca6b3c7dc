"""Planning questions over the catalogs: which hardware runs this model at N tokens/s, what runs on this box.

Pure: both walk the catalog and call estimate.fit.best_option, which applies estimate/select.py's rule (the one
`fit` and its gates use); nothing here knows about the CLI.
"""
from __future__ import annotations

from ..catalog.hardware import Profile, find_profile, machine_from_profile, profiles
from ..domain import FitOption, FitRequest, Machine, Model, ParamCounts, Quant
from ..record import record
from .fit import best_option, best_pick

GPU_COUNTS = (1, 2, 4, 8)
HOST_PROFILE = "host-workstation"


@record
class HardwareCandidate:
    label: str  # "2x rtx-4090"
    profile: Profile
    count: int
    price_usd: float | None  # GPUs x count + host (discrete GPUs), or the whole system
    price_note: str
    option: FitOption | None  # best quantization meeting the target, None when nothing does
    reason: str  # why not, when option is None
    rule: str = ""  # estimate.select.Pick.rule: which step of the selection rule picked the option
    why: str = ""  # Pick.reason(): why that option


def _price(p: Profile, count: int) -> tuple[float | None, str]:
    if p.price_usd is None:
        return None, "no sourced price"
    if p.kind != "gpu":
        return p.price_usd, f"{p.raw.get('price_kind', 'list')} price of the system"
    host = find_profile(HOST_PROFILE)
    total = p.price_usd * count + (host.price_usd or 0.0)
    note = f"{count} x ${p.price_usd:,.0f} ({p.raw.get('price_kind', 'list')}) + ${host.price_usd:,.0f} host"
    if count > 4:
        note += " (host priced for 4 GPUs; 8-GPU servers cost more)"
    return total, note


def hardware_for(
    model: Model, quants: tuple[Quant, ...], request: FitRequest, *,
    min_tps: float | None = None, max_price: float | None = None, max_rank: int | None = None,
    min_quant: str | None = None,
) -> list[HardwareCandidate]:
    """Every profile (discrete GPUs also as 2x/4x/8x) with its best option; those meeting the target first,
    cheapest first; then the rest with the reason. `max_rank`: the quality floor (quantizations ranked below it
    are not considered)."""
    from .select import Gate

    quants = Gate(max_rank=max_rank, min_quant=min_quant).eligible(quants)
    out = []
    for p in profiles():
        if p.kind == "host":
            continue
        counts = GPU_COUNTS if p.kind == "gpu" else (1,)
        last = None
        for count in counts:
            machine = machine_from_profile(p, count)
            price, note = _price(p, count)
            # Discrete GPUs: the model must fit in VRAM (partial offload rarely meets a speed target);
            # Apple, APU and CPU profiles are whole machines with their RAM.
            tiers = ("gpu",) if p.kind == "gpu" else ("gpu", "partial", "cpu")
            pick = best_pick(model, machine, request, quants, min_tps=min_tps,
                             host_ram_known=p.kind != "gpu", tiers=tiers)
            opt = pick.option
            reason = ""
            if opt is None:
                reason = _why_not(model, machine, request, quants, min_tps, p.kind != "gpu")
            elif max_price is not None and (price is None or price > max_price):
                reason = "over --max-price" if price is not None else "no price to compare with --max-price"
            last = HardwareCandidate(machine.name, p, count, price, note, opt if not reason else None, reason,
                                     pick.rule if not reason else "", pick.reason() if not reason else "")
            if opt is not None:
                break  # more units of the same GPU only cost more
        out.append(last)  # the cheapest count that works, or the largest tried and why it fails
    return sorted(out, key=lambda c: (c.option is None, c.price_usd is None, c.price_usd or 0.0, c.label))


def _why_not(model: Model, machine: Machine, request: FitRequest, quants: tuple[Quant, ...],
             min_tps: float | None, ram_known: bool) -> str:
    smallest = best_option(model, machine, request, quants[-1:], host_ram_known=ram_known)
    if smallest is None or smallest.placement.fit == "no":
        return f"{quants[-1].name} does not fit"
    sp = smallest.speed.decode_tokens_per_s if smallest.speed else None
    if min_tps and sp is not None:
        return f"{sp:.1f} tokens/s at {quants[-1].name}, below {min_tps:g}"
    return "speed unknown"


@record
class ModelFit:
    model: Model
    option: FitOption | None
    rule: str = ""  # estimate.select.Pick.rule ("" when nothing runs)
    why: str = ""  # Pick.reason()


def models_that_fit(
    models: list[Model], machine: Machine, quants: tuple[Quant, ...], request: FitRequest, *,
    min_tps: float | None = None, host_ram_known: bool = True, max_rank: int | None = None,
    min_quant: str | None = None, quants_for=None,
) -> list[ModelFit]:
    """Each model's best option on `machine`; the ones that run first, largest (most capable) first. quants_for: the
    engine's formats for one model (vLLM adds a model's released one: gpt-oss's MXFP4), else `quants` for all."""
    from ..record import replace

    def one(m: Model) -> ModelFit:
        qs = quants_for(m) if quants_for is not None else quants
        pick = best_pick(m, machine, replace(request, context=min(request.context, m.max_context)), qs,
                         min_tps=min_tps, host_ram_known=host_ram_known, max_rank=max_rank, min_quant=min_quant)
        return ModelFit(m, pick.option, pick.rule if pick.option else "", pick.reason() if pick.option else "")

    rows = [one(m) for m in models]
    tier = {"gpu": 0, "partial": 1, "cpu": 2}
    return sorted(rows, key=lambda r: (r.option is None, tier.get(r.option.placement.fit, 3) if r.option else 3,
                                       -r.model.params, r.model.id))


@record
class HardwareForResult:
    """`hardware --for`: the model, the request, the targets and every configuration ranked (api.hardware_for)."""

    model: Model
    request: FitRequest
    min_tps: float | None
    max_price: float | None
    candidates: tuple[HardwareCandidate, ...]
    considered: str | None  # the --quant names given, None for the default set
    params: ParamCounts | None = None  # the model's counted parameters (api.hardware_for sets them, for render)


@record
class ModelsFitResult:
    """`models --fits`: each catalog model's best option on one machine (api.models_that_fit)."""

    machine: Machine
    request: FitRequest
    min_tps: float | None
    models: tuple[ModelFit, ...]
    filter: object = None  # catalog.search.ModelFilter: what --search/--family/... kept
