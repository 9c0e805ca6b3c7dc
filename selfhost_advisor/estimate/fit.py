"""`fit`: memory and placement of one model on one machine for each quantization, and the pick.

The recommended quantization is the highest-quality one that fits fully on GPU; failing that, the
highest-quality partial offload; failing that, the best CPU option (the result says which case it is).
"""
from __future__ import annotations

from ..catalog._data import load
from ..domain import FitOption, FitRequest, FitResult, Machine, Model, Quant
from ..engines import get_engine

_FIT_ORDER = ("gpu", "partial", "cpu")


def recommend(options: list[FitOption]) -> tuple[str | None, str]:
    """(quant name or None, which tier it came from) - options must be best quality first."""
    for tier in _FIT_ORDER:
        for opt in options:
            if opt.placement.fit == tier:
                return opt.quant.name, tier
    return None, "no"


def evaluate(model: Model, machine: Machine, request: FitRequest, q: Quant, *, host_ram_known: bool = True) -> FitOption:
    """Memory, placement and single-stream speed of one quantization, by the request's engine (engines/)."""
    return get_engine(request.engine).option(model, q, machine, request, host_ram_known=host_ram_known)


_TIER_SCORE = {"gpu": 3, "partial": 2, "cpu": 1, "no": 0}


def best_option(
    model: Model, machine: Machine, request: FitRequest, quants: tuple[Quant, ...], *,
    min_tps: float | None = None, host_ram_known: bool = True, tiers: tuple[str, ...] = ("gpu", "partial", "cpu"),
) -> FitOption | None:
    """The option `fit` would recommend (optionally also decoding >= min_tps), found by bisection.

    Why bisection: planning commands evaluate hundreds of (model, hardware) pairs. Quants come best quality
    first, so memory shrinks and placement and speed only improve down the list; the first option that reaches
    the best reachable tier (and speed) is the answer, in O(log n) evaluations instead of n.
    """
    memo: dict[int, FitOption] = {}

    def at(i: int) -> FitOption:
        if i not in memo:
            memo[i] = evaluate(model, machine, request, quants[i], host_ram_known=host_ram_known)
        return memo[i]

    def first(pred) -> int | None:
        lo, hi = 0, len(quants)
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(at(mid)):
                hi = mid
            else:
                lo = mid + 1
        return lo if lo < len(quants) else None

    def fast(o: FitOption) -> bool:
        return min_tps is None or bool(o.speed and o.speed.decode_tokens_per_s and o.speed.decode_tokens_per_s >= min_tps)

    for tier in tiers:
        i = first(lambda o, tier=tier: _TIER_SCORE[o.placement.fit] >= _TIER_SCORE[tier] and fast(o))
        if i is not None and at(i).placement.fit == tier:
            return at(i)
    return None


def fit(
    model: Model,
    machine: Machine,
    request: FitRequest,
    quants: tuple[Quant, ...],
    *,
    host_ram_known: bool = True,
) -> FitResult:
    runtime = load("engines")["runtime"]
    engine = get_engine(request.engine)  # validates the engine name
    backend = machine.devices[0].backend if machine.devices else "cpu"
    options = [evaluate(model, machine, request, q, host_ram_known=host_ram_known) for q in quants]
    pick, tier = recommend(options)
    warnings = []
    if request.context > model.max_context:
        warnings.append(
            f"context {request.context} exceeds {model.id}'s trained maximum {model.max_context}"
        )
    if pick and tier != "gpu" and machine.devices:
        warnings.append(f"no quantization fits fully on GPU; {pick} is the best {tier} option")
    assumptions = {
        "engine": request.engine,
        "flash_attention": request.flash_attention,
        "n_ubatch": request.n_ubatch,
        "n_parallel": request.n_parallel,
        "gpu_margin_bytes_per_device": int(runtime["gpu_margin_bytes"]),
        "gpu_context_bytes_per_device": int(runtime["cuda_context_bytes"]) if backend != "metal" else 0,
        "os_reserve_bytes": int(runtime["os_reserve_bytes"]),
        "host_ram_known": host_ram_known,
        "recommended_tier": tier,
        "weights": engine.weights_note,
        "decode_depth_tokens": request.context // 2,
        "speed": "roofline with efficiency fitted per backend family on llama-bench results (data/speed.yaml)",
    }
    return FitResult(
        model=model, machine=machine, request=request, options=tuple(options), recommended=pick,
        assumptions=assumptions, warnings=tuple(warnings),
    )
