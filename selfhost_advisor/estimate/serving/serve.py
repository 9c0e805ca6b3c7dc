"""`advisor serve`: for one model, box and request mix, throughput and latency against concurrency, per engine.

vLLM: memory (KV pool per GPU, TP size) from estimate/vllm.py plan(), sized for max_model_len = P + O; the speed from
paged.py. llama.cpp / Ollama: slots.py. quant None: every format that fits, the one with the highest recommended
throughput (the peak when no target is set).
"""
from __future__ import annotations

from ...domain import FitRequest, Machine, Model, Quant
from ...record import replace
from ..speed import efficiency
from ..vllm import kv_dtype_bytes, plan, vllm_quants_for
from .curve import walk
from .paged import PagedServer, held_kv_bytes
from .prefix import prefix_assumptions, prefix_warnings, shared_kv_bytes, vllm_hit_tokens
from .step import EAGER_CAVEAT, prefill_tokens_per_s, serving_data
from .types import ServePoint, ServeReport, ServeWorkload


def serve(model: Model, machine: Machine, workload: ServeWorkload, *, engine: str = "vllm",
          quant: Quant | str | None = None, concurrency: tuple[int, ...] = (),
          options: FitRequest | None = None) -> ServeReport:
    """options: engine settings (vLLM: gpu_memory_utilization, max_num_seqs, max_num_batched_tokens, kv_cache_type,
    enforce_eager, tensor_parallel; None = the engine's defaults); its context is replaced by prompt + output."""
    from ...engines import get_engine

    eng = get_engine(engine)
    if not eng.kv_pool:  # one slot per request (llama.cpp, Ollama)
        from .slots import serve_slots

        return serve_slots(model, machine, workload, engine=eng.name, quant=quant, concurrency=concurrency,
                           options=options)
    if isinstance(quant, str):
        quant = eng.quant(quant)
    candidates = (quant,) if quant is not None else vllm_quants_for(model)
    req = replace(options or FitRequest(context=1), context=workload.prompt_tokens + workload.output_tokens,
                  engine=eng.name)
    reports = [_serve_vllm(model, machine, workload, q, concurrency, req) for q in candidates]
    fitting = [r for r in reports if r.fits]
    if not fitting:
        return reports[-1] if quant is None else reports[0]
    met = [r for r in fitting if r.recommended is not None]
    pool = met or fitting
    return max(pool, key=lambda r: (r.recommended or r.peak).output_tokens_per_s)


def _no(model, machine, w, engine, q, reason, **kw) -> ServeReport:
    return ServeReport(model=model, machine=machine, engine=engine, quant=q.name if q else None, workload=w,
                       fits=False, reason=reason, **kw)


def _serve_vllm(model: Model, machine: Machine, w: ServeWorkload, q: Quant, concurrency: tuple[int, ...],
                req: FitRequest) -> ServeReport:
    P, O = w.prompt_tokens, w.output_tokens
    p = plan(model, q, machine, req)
    if p.placement.fit != "gpu":
        return _no(model, machine, w, "vllm", q, p.placement.note or f"{q.name} does not fit", tp=p.tp,
                   short_of="unsupported" if p.placement.unsupported else "memory")
    if not all(d.bandwidth_bytes_per_s and d.fp16_flops for d in machine.devices[: p.tp]):
        return _no(model, machine, w, "vllm", q, "GPU bandwidth or FLOPS unknown: use a hardware profile", tp=p.tp,
                   short_of="speed")
    batched, max_seqs = p.max_num_batched_tokens, p.max_num_seqs
    kvb = kv_dtype_bytes(req.kv_cache_type)
    hit = vllm_hit_tokens(model, P, w.cached_prompt_tokens)
    shared = shared_kv_bytes(model, p.tp, hit, kvb)  # the shared prefix's blocks, once in the pool
    per_request = held_kv_bytes(model, p.tp, P, O, kvb) - shared
    kv_conc = max(1, (p.pool_bytes_per_gpu - shared) // per_request)
    max_conc = min(kv_conc, max_seqs)
    server, max_conc, limits, points, top, rec = walk(
        lambda n: PagedServer(model, q, machine, p.tp, P, O, batched, n, kvb, eager=req.enforce_eager,
                              release=req.engine_version, cached=hit, shared_kv_bytes=shared), max_conc,
        "kv_pool" if kv_conc <= max_seqs else "max_num_seqs", concurrency, w)
    eff = efficiency(machine.devices[0].backend)
    band = throughput_band(model) or tuple(eff.decode_band)
    return ServeReport(
        model=model, machine=machine, engine="vllm", quant=q.name, workload=w, fits=True, reason="", tp=p.tp,
        max_concurrency=max_conc, limits=tuple(limits), points=tuple(points), peak=top, recommended=rec,
        single=server.point(1),
        kv_pool_bytes=p.pool_bytes_per_gpu, kv_pool_tokens=p.pool_tokens,
        kv_bytes_per_request=per_request, confidence="extrapolated", band=(float(band[0]), float(band[1])),
        assumptions={**_assumptions(batched, max_seqs, p.tp, prefill_tokens_per_s(model, q, machine, p.tp, P // 2)),
                     **prefix_assumptions(model, w, req.engine, hit, shared)},
        warnings=_warnings(model, w, req, hit, True) + _compute_caveats(machine),
        command=_command(model, q, machine, req, p, rec or top),
    )


def throughput_band(model: Model) -> tuple[float, float] | None:
    """(low, high) factors on our throughput that measured vLLM runs fell within: data/serving.yaml throughput_band
    (published / ours over the dense calibration rows) for a dense model; moe_throughput_band (10th-90th percentile
    over the held-out MoE rows, median 0.70) for a mixture of experts, whose runs came in below this model's step."""
    c = serving_data()["vllm"]
    band = c.get("moe_throughput_band") if model.moe is not None else None
    band = band or c.get("throughput_band")
    return (float(band[0]), float(band[1])) if band else None


def _command(model, q, machine, req, p, pt) -> str | None:
    """`vllm serve` as the engines registry writes it, with --max-num-seqs at the recommended concurrency (the engine
    then queues further requests instead of slowing every stream below the targets)."""
    from ...engines import get_engine

    eng = get_engine(req.engine)
    builder = getattr(eng, "plan_command", None)
    if builder is None:
        return None
    return builder(model, q, replace(req, max_num_seqs=pt.running), replace(p, max_num_seqs=pt.running)) or None


def _assumptions(batched: int, max_seqs: int, tp: int, prefill: float) -> dict:
    c = serving_data()["vllm"]
    return {
        "max_model_len": "prompt + output tokens",
        "max_num_batched_tokens": batched,
        "max_num_seqs": max_seqs,
        "tensor_parallel_size": tp,
        "kv_block_tokens": 16,
        "kv_per_request": "average of the 16-token blocks held over the request's life",
        "clients": "closed loop: each client sends its next request when one finishes (vllm bench serve --max-concurrency)",
        "ttft": "the engine's: the rest of the step running when the request arrives (half a mean step while others "
                "run), queue and prefill steps from the request's arrival at the engine; the API server's own "
                "per-request time is not counted (in bursts of 1000 requests vLLM 0.11 took 11-15 s more before first "
                "tokens reached the client: docs/methodology.md 6c)",
        "prefill_tokens_per_s_alone": round(prefill, 1),
        "layer_overhead_us": float(c["layer_overhead_us"]),
        "per_sequence_us": float(c["per_sequence_us"]),
        "calibration": "data/serving.yaml (fitted by scripts/fit_serving.py on data/serving_benchmarks.yaml)",
    }


def _compute_caveats(machine: Machine) -> tuple[str, ...]:
    """The step's compute share where it is borrowed, not fitted (borrowed.compute_caveat: vLLM on an Intel GPU)."""
    from .borrowed import compute_caveat

    caveat = compute_caveat(machine)
    return (caveat,) if caveat else ()


def _warnings(model: Model, w: ServeWorkload, req: FitRequest | None = None, hit: int = 0,
              kv_pool: bool = True) -> tuple[str, ...]:
    """Warnings for the report: a request longer than the trained context; --enforce-eager (step.py EAGER_CAVEAT:
    the pool gains the graphs' memory and each step's kernel launches are priced at a host time fitted on two runs);
    shared prompt tokens the engine cannot serve from cache (prefix.py)."""
    out = list(prefix_warnings(model, w, hit, kv_pool))
    if w.prompt_tokens + w.output_tokens > model.max_context:
        out.append(f"prompt + output ({w.prompt_tokens + w.output_tokens}) exceeds {model.id}'s trained context "
                   f"{model.max_context}")
    if req is not None and req.enforce_eager:
        out.append(EAGER_CAVEAT)
    return tuple(out)


__all__ = ["serve", "ServeReport", "ServePoint", "ServeWorkload"]
