"""The first serving model (sequences of the full context, no request mix): kept until cost moves to capacity_for_mix.

Why: the cost model needs tokens per month per box, and a server decodes many streams per weight read. One decode
step of B streams reads the (touched) weights once and every stream's KV cache, and does B tokens of matmuls:
    step = max(bytes / (eff x bandwidth), B x FLOPs / (eff x FLOPS)) + layers x dispatch + 2 x layers x all-reduce
per-stream speed = 1 / step, aggregate = B / step. B grows until the KV pool is full (max concurrency at the context),
vLLM's max_num_seqs, or a per-stream speed floor. MoE: B tokens touch 1 - (1 - active/experts)^B of the experts.
Prefill is compute-bound at serving batch sizes. Efficiency factors: the CUDA (or ROCm) family's llama-bench fit
(data/speed.yaml); vLLM itself is not in the calibration data, so results are labelled "extrapolated".
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import FitRequest, Machine, Model, Quant, ServingCapacity
from ..speed import efficiency
from ..tensors import build_tensors
from ..vllm import _formats, get_vllm_quant, plan, sequence_kv_bytes, tensor_bytes, vllm_quants


@lru_cache(maxsize=256)
def _step_parts(model: Model, quant: Quant, tp: int) -> tuple[int, int, int]:
    """(dense bytes per GPU, expert bytes per GPU, matmul FLOPs per token per GPU); the batch search asks often."""
    fmt = _formats()[quant.name]
    dense = experts = flops = 0
    share = model.moe.active / model.moe.experts if model.moe else 1.0
    for t in build_tensors(model):
        b = tensor_bytes(t, fmt)
        if t.name == "token_embd.weight":
            if model.tied_embeddings:
                dense += b
                flops += 2 * t.n_elements
            continue
        if "_exps" in t.name:
            experts += b
            flops += int(2 * t.n_elements * share)
        else:
            dense += b
            flops += 2 * t.n_elements if t.n_dims >= 2 else 0
    return dense // tp, experts // tp, flops // tp


def _allreduce_s(machine: Machine, tp: int) -> float:
    if tp <= 1:
        return 0.0
    lat = load("engines")["engines"]["vllm"]["allreduce_latency_us"]
    link = "nvlink" if "nvlink" in (machine.interconnect or "").lower() else "pcie"
    return float(lat[link]) * 1e-6


def step_seconds(model: Model, quant: Quant, machine: Machine, tp: int, batch: int, depth: int) -> float:
    dev = machine.devices[0]
    eff = efficiency(dev.backend)
    dense, experts, flops = _step_parts(model, quant, tp)
    touched = 1.0 - (1.0 - model.moe.active / model.moe.experts) ** batch if model.moe else 1.0
    kv = sequence_kv_bytes(model, tp, max(1, depth))
    mem_s = (dense + experts * touched + batch * kv) / (eff.bandwidth * dev.bandwidth_bytes_per_s)
    compute_s = batch * flops / (eff.compute_f16 * dev.fp16_flops)
    return max(mem_s, compute_s) + model.n_layers * (eff.layer_s + 2 * _allreduce_s(machine, tp))


def _prefill_tokens_per_s(model: Model, quant: Quant, machine: Machine, tp: int, depth: int) -> float:
    dev = machine.devices[0]
    eff = efficiency(dev.backend)
    _, _, flops = _step_parts(model, quant, tp)
    width = model.mla.kv_lora_rank + model.mla.qk_rope_head_dim if model.mla else model.head_dim
    attn = 4 * model.n_layers * model.n_heads * width * depth // tp
    # llama.cpp's 16-bit prefill rows reach this share of FLOPS all in (matmuls and everything else per token);
    # vLLM's prefill borrows it, having no measurements of its own here.
    return eff.prefill_f16_all_in * dev.fp16_flops / (flops + attn)


def serving_capacity(
    model: Model,
    machine: Machine,
    context: int,
    *,
    quant: Quant | None = None,
    engine: str = "vllm",
    min_stream_tokens_per_s: float | None = None,
) -> ServingCapacity:
    """Sustained serving throughput of `machine` for `model` with sequences of `context` tokens.

    quant None: of the vLLM weight formats whose KV pool holds at least one sequence, the one with the highest
    aggregate throughput (serving operators pick FP8/INT4 for capacity; BF16 leaves little room for KV). KV is
    sized and read at the full context per stream (vLLM's "maximum concurrency" convention; conservative for chats).
    """
    from ...engines import get_engine

    batching = get_engine(engine).kv_pool  # a paged KV pool shared by many streams (vLLM); else one stream
    if batching and quant is None:
        caps = [serving_capacity(model, machine, context, quant=q, engine=engine,
                                 min_stream_tokens_per_s=min_stream_tokens_per_s) for q in vllm_quants()]
        fitting = [c for c in caps if c.fits]
        if fitting:
            return max(fitting, key=lambda c: c.aggregate_decode_tokens_per_s)
        return caps[-1] if caps else _no(engine, None, context, "no vLLM weight format")
    if not batching:
        return _single_stream(model, machine, context, quant, engine)
    candidates = (get_vllm_quant(quant.name),) if quant is not None else vllm_quants()
    req = FitRequest(context=context, engine=engine)
    reason = ""
    for q in candidates:
        p = plan(model, q, machine, req)
        if p.placement.fit != "gpu":
            reason = p.placement.note or f"{q.name} does not fit"
            continue
        if not all(d.bandwidth_bytes_per_s and d.fp16_flops for d in machine.devices[: p.tp]):
            return _no(engine, q, context, "GPU bandwidth or FLOPS unknown: use a hardware profile")
        max_seqs = p.max_num_seqs
        limit = max(1, min(p.max_concurrency, max_seqs))
        batch = limit
        if min_stream_tokens_per_s:
            if 1.0 / step_seconds(model, q, machine, p.tp, 1, context) < min_stream_tokens_per_s:
                reason = f"{q.name}: one stream decodes below {min_stream_tokens_per_s:g} tokens/s"
                continue
            lo, hi = 1, limit  # largest batch whose per-stream speed meets the floor (speed falls with batch)
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if 1.0 / step_seconds(model, q, machine, p.tp, mid, context) >= min_stream_tokens_per_s:
                    lo = mid
                else:
                    hi = mid - 1
            batch = lo
        step = step_seconds(model, q, machine, p.tp, batch, context)
        eff = efficiency(machine.devices[0].backend)
        return ServingCapacity(
            fits=True, reason="", engine=engine, quant=q.name, context=context, max_concurrency=p.max_concurrency,
            concurrency=batch, aggregate_decode_tokens_per_s=batch / step, per_stream_decode_tokens_per_s=1.0 / step,
            prefill_tokens_per_s=_prefill_tokens_per_s(model, q, machine, p.tp, context // 2),
            confidence="extrapolated", low_factor=eff.decode_band[0], high_factor=eff.decode_band[1],
        )
    return _no(engine, None, context, reason or "no vLLM weight format fits")


def _no(engine: str, q: Quant | None, context: int, reason: str) -> ServingCapacity:
    return ServingCapacity(False, reason, engine, q.name if q else None, context, 0, 0, 0.0, 0.0, 0.0)


def _single_stream(model: Model, machine: Machine, context: int, quant: Quant | None, engine: str) -> ServingCapacity:
    """llama.cpp / Ollama serve one stream at a time here: capacity is the single-stream speed of the best fit."""
    from ...catalog.quants import listed_quants
    from ..fit import fit

    res = fit(model, machine, FitRequest(context=context, engine=engine), (quant,) if quant else listed_quants())
    opt = next((o for o in res.options if o.quant.name == res.recommended), None)
    if opt is None or opt.speed is None or not opt.speed.decode_tokens_per_s:
        return _no(engine, quant, context, "the model does not fit or its speed is unknown")
    s = opt.speed
    band = (s.decode_low / s.decode_tokens_per_s, s.decode_high / s.decode_tokens_per_s)
    return ServingCapacity(
        True, "", engine, opt.quant.name, context, 1, 1, s.decode_tokens_per_s, s.decode_tokens_per_s,
        s.prefill_tokens_per_s or 0.0, s.confidence, band[0], band[1],
    )
