"""The one-line answer of `advisor probe`: which common model sizes this machine runs, at which quantization.

It is `fit` (estimate/fit.py) run for three catalog models that stand for the usual sizes, with the default
request (llama.cpp, 8k context, f16 KV cache), over the quantizations people usually download.
"""
from __future__ import annotations

from ..domain import FitRequest, Machine
from ..record import record

SIZES = (("8B", "llama3.1:8b"), ("32B", "qwen2.5:32b"), ("70B", "llama3.1:70b"))
QUANTS = ("F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")


@record
class SizeVerdict:
    label: str  # "8B"
    model_id: str
    quant: str | None  # best quantization that runs, None when nothing does
    tier: str  # gpu | partial | cpu | no
    gpu_layers: int = 0
    total_layers: int = 0


def verdict(machine: Machine, context: int = 8192) -> tuple[SizeVerdict, ...]:
    from ..catalog.models import resolve
    from ..catalog.quants import get_quant
    from .fit import fit

    quants = tuple(sorted((get_quant(q) for q in QUANTS), key=lambda q: q.rank))
    request = FitRequest(context=context)
    out = []
    for label, model_id in SIZES:
        result = fit(resolve(model_id).model, machine, request, quants, host_ram_known=True)
        tier = result.assumptions["recommended_tier"]
        opt = next((o for o in result.options if o.quant.name == result.recommended), None)
        out.append(SizeVerdict(label, model_id, result.recommended, tier,
                               opt.placement.gpu_layers if opt else 0, opt.placement.total_layers if opt else 0))
    return tuple(out)


def verdict_line(machine: Machine, sizes: tuple[SizeVerdict, ...]) -> str:
    """'24 GB VRAM on 1 GPU + 64 GB RAM: runs 8B at F16, 32B at Q4_K_M; 70B needs partial offload (...)'."""
    gpus = machine.devices
    if gpus and all(d.unified for d in gpus):
        usable = sum(d.usable_memory_bytes or d.memory_bytes for d in gpus)
        head = f"{machine.ram_bytes / 1e9:.0f} GB unified memory ({usable / 1e9:.0f} GB usable by the GPU)"
    elif gpus:
        vram = sum(d.usable_memory_bytes if d.usable_memory_bytes is not None else d.memory_bytes for d in gpus)
        head = f"{vram / 1e9:.0f} GB VRAM on {len(gpus)} GPU{'s' if len(gpus) > 1 else ''} + {machine.ram_bytes / 1e9:.0f} GB RAM"
    else:
        head = f"no GPU, {machine.ram_bytes / 1e9:.0f} GB RAM"
    runs = [f"{s.label} at {s.quant}" for s in sizes if s.tier == "gpu"]
    on_cpu = [f"{s.label} at {s.quant}" for s in sizes if s.tier == "cpu"]
    parts = [("runs " + ", ".join(runs)) if runs else ""]
    if on_cpu:
        parts.append(("only on CPU: " if gpus else "runs on CPU: ") + ", ".join(on_cpu))
    for s in sizes:
        if s.tier == "partial":
            parts.append(f"{s.label} needs partial offload ({s.quant}, {s.gpu_layers}/{s.total_layers} layers on GPU)")
        elif s.tier == "no":
            parts.append(f"{s.label} does not fit")
    return f"{head}: " + "; ".join(p for p in parts if p)
