"""What one box sustains for a request mix, in the record the cost model prices (domain.ServingCapacity)."""
from __future__ import annotations

from functools import lru_cache

from ...domain import Machine, Model, Quant, ServingCapacity
from .serve import serve
from .types import ServeWorkload


@lru_cache(maxsize=512)  # pure; `cost` asks ~47 per run, the same ones for every volume (a sweep, the suite)
def capacity_for_mix(model: Model, machine: Machine, *, prompt_tokens: int, output_tokens: int,
                     quant: Quant | str | None = None, engine: str = "vllm", max_ttft_s: float | None = None,
                     min_stream_tokens_per_s: float | None = None, cached_prompt_tokens: int = 0) -> ServingCapacity:
    """Sustained serving of requests of `prompt_tokens` in, `output_tokens` out, at the highest-throughput concurrency
    that meets the latency targets (serve.py). quant None: the format/quantization with the highest such throughput.
    fits is False when nothing fits, or when no concurrency meets the targets (reason says which).
    cached_prompt_tokens: the start of each prompt shared with earlier requests (serving/prefix.py)."""
    w = ServeWorkload(prompt_tokens, output_tokens, max_ttft_s, min_stream_tokens_per_s, cached_prompt_tokens)
    rep = serve(model, machine, w, engine=engine, quant=quant)
    ctx = prompt_tokens + output_tokens
    if not rep.fits or rep.peak is None:
        return ServingCapacity(False, rep.reason, engine, rep.quant, ctx, 0, 0, 0.0, 0.0, 0.0,
                               short_of=rep.short_of or "memory")
    pt = rep.recommended
    reason = ""
    if pt is None:
        pt = rep.single or rep.peak
        reason = _unmet(pt, w)
    prefill = float(rep.assumptions.get("prefill_tokens_per_s_alone") or 0.0)
    return ServingCapacity(
        fits=pt is rep.recommended, reason=reason, engine=engine, quant=rep.quant, context=ctx,
        max_concurrency=rep.max_concurrency, concurrency=pt.concurrency,
        aggregate_decode_tokens_per_s=pt.output_tokens_per_s, per_stream_decode_tokens_per_s=pt.stream_tokens_per_s,
        prefill_tokens_per_s=prefill, confidence=rep.confidence, low_factor=rep.band[0], high_factor=rep.band[1],
        total_tokens_per_s=pt.total_tokens_per_s, output_tokens_per_s=pt.output_tokens_per_s,
        short_of="" if pt is rep.recommended else "targets",
        caveat=_caveat(rep, machine),
    )


def _caveat(rep, machine: Machine) -> str:
    """The compute-share caveat of a report from the batched step (an engine with a paged KV pool: vLLM;
    borrowed.compute_caveat), '' for the slot engines, whose prompt rates are llama.cpp's own model."""
    from ...engines import get_engine

    if not rep.engine or not get_engine(rep.engine).kv_pool:
        return ""
    from .borrowed import compute_caveat

    return compute_caveat(machine)


def _unmet(pt, w: ServeWorkload) -> str:
    from .curve import unmet_text

    return "no concurrency meets the targets, even one request: " + unmet_text(pt, w)
