"""Batched serving: what one box sustains for many concurrent requests of a given size, and how fast each one runs.

step.py (one engine step: roofline + fitted overheads; its terms in attention.py, rates.py, collectives.py,
moe_step.py, kernels.py), paged.py (vLLM's paged KV and chunked prefill under a closed loop of clients), slots.py
(llama.cpp / Ollama slots), curve.py (peak, recommended point), serve.py (the report), capacity.py (the cost model's
record).
"""
from __future__ import annotations

from .capacity import capacity_for_mix
from .serve import serve
from .step import prefill_tokens_per_s, step_seconds
from .types import ServePoint, ServeReport, ServeWorkload


def _prefill_tokens_per_s(model, quant, machine, tp, depth):  # estimate/fit.py's name for it
    return prefill_tokens_per_s(model, quant, machine, tp, depth)


__all__ = ["capacity_for_mix", "serve", "step_seconds", "ServePoint", "ServeReport",
           "ServeWorkload"]
