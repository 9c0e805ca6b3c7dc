"""When a smaller model at a better quantization is the better choice.

Why: a 70B squeezed to 2-3 bits onto a 24 GB card loses more (llama.cpp's Llama 3 8B scoreboard: IQ2_XXS mean KLD
0.81, Q3_K_S 0.23) than the same family's smaller model at Q4_K_M or better loses to its own 16-bit weights (0.03).
The measured losses are against each model's own 16-bit weights, so this is a rule of thumb from the published
figures, said as such: when this model's pick is not a full-GPU fit at Q4_K_M quality or better, the largest smaller
catalog model of the same family (same Ollama family name) that is, is named beside it.
"""
from __future__ import annotations

from ..domain import FitRequest, FitResult, Quant
from ..record import replace
from .fit import best_option
from .quality import at_least, quality

GOOD = "Q4_K_M"  # the "better quantization": Q4_K_M's measured loss or less


def smaller_alternative(result: FitResult, quants: tuple[Quant, ...], *, host_ram_known: bool = True) -> dict | None:
    """{"model", "quant", "fit", "decode_tokens_per_s", "quality"} of the largest same-family catalog model with fewer
    parameters that fits fully on GPU at Q4_K_M or better, when the result's own pick does not; else None."""
    from ..catalog.models import get, ids_and_params

    m, machine, request = result.model, result.machine, result.request
    pick = next((o for o in result.options if o.quant.name == result.recommended), None)
    if not machine.devices or ":" not in m.id or m.id.startswith(("hf:", "ollama:")):
        return None
    if pick is not None and pick.placement.fit == "gpu" and at_least(pick.quant.name, pick.quant.base, GOOD):
        return None
    family = m.id.split(":", 1)[0]
    # only the family's entries become Model records (building all ~90, soon 150+, cost fit ~3 ms of start-up)
    siblings = sorted((get(i) for i, params in ids_and_params() if i.split(":", 1)[0] == family and params < m.params),
                      key=lambda x: -x.params)
    for s in siblings:
        req: FitRequest = replace(request, context=min(request.context, s.max_context))
        opt = best_option(s, machine, req, quants, tiers=("gpu",), host_ram_known=host_ram_known, min_quant=GOOD)
        if opt is not None:
            sp = opt.speed.decode_tokens_per_s if opt.speed else None
            return {"model": s.id, "quant": opt.quant.name, "fit": opt.placement.fit,
                    "decode_tokens_per_s": round(sp, 1) if sp else None, "quality": quality(opt.quant.name)}
    return None


def with_alternative(result: FitResult, quants: tuple[Quant, ...], *, host_ram_known: bool = True) -> FitResult:
    alt = smaller_alternative(result, quants, host_ram_known=host_ram_known)
    if alt is None:
        return result
    q = alt["quality"]
    loss = f" (measured loss KLD {q['kld']:.3f})" if q else ""
    note = (f"a smaller model at a better quantization may serve better: {alt['model']} at {alt['quant']} fits fully "
            f"on GPU{loss}; {result.model.id} does not fit there at {GOOD} or better")
    return replace(result, alternative=alt, warnings=result.warnings + (note,))
