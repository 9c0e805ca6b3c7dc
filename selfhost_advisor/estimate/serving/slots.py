"""llama.cpp (llama-server -np N) and Ollama (OLLAMA_NUM_PARALLEL): one slot per concurrent request.

Memory: every slot's KV is allocated up front. llama-server splits -c over the slots (-c = N x (P + O) so each slot
holds a request); Ollama passes -c NumCtx x N (data/engines.yaml parallel_multiplies_context). The largest N whose
memory still fits on the GPUs is the maximum concurrency (estimate/fit.py evaluate, the same rules as `fit`).
Speed: llama-server decodes every slot in one batch, so a step reads the weights once: the single-stream decode
time at the request's average depth (speed.py, fitted on llama-bench) plus each further slot's KV read, or the
batch's matmuls at the family's quantized compute share when those take longer. Prompts are processed at the
single-stream prefill rate and hold up the decode batch while they run: a share r x P / prefill_rate of the time.
Host sampling: after each llama_decode llama-server samples every decoding slot's token on the CPU, one slot after
another (tools/server update_slots: `for (auto & slot : slots) ... common_sampler_sample(slot.smpl, ctx, tok_idx)`),
so a step of b decoding slots adds b x the per-token sampling time (estimate/server_host.py; the served figure that
fit reports as speed.served_decode_tokens_per_s at b = 1). Engines whose sampler time is not measured (Ollama's
runner, engines/ollama.py host_sampling) add none: their figure stays llama-bench's.
"""
from __future__ import annotations

from ...domain import FitOption, FitRequest, Machine, Model, Quant
from ..fit import evaluate
from ..memory import engine_params
from ..speed import efficiency, token_work
from .curve import walk
from .paged import PagedServer
from .prefix import prefix_assumptions, prefix_warnings, slot_hit_tokens
from .types import ServePoint, ServeReport, ServeWorkload

_MAX_SLOTS = 256  # beyond this llama-server's per-slot bookkeeping dominates; we do not extrapolate further


def _request(engine: str, w: ServeWorkload, slots: int, asked: FitRequest | None = None) -> FitRequest:
    """The request `fit --parallel slots` would size. asked: serve's options (None: the engine's defaults): the KV
    cache type (-ctk/-ctv, OLLAMA_KV_CACHE_TYPE) and --ubatch (llama.cpp's -ub, Ollama's num_batch), capped at the
    context as llama.cpp does (n_ubatch = min(n_batch, n_ubatch), n_batch = min(n_ctx, n_batch): src/llama-context.cpp)."""
    eng = engine_params(engine)
    per = w.prompt_tokens + w.output_tokens
    ctx = per if eng["parallel_multiplies_context"] else per * slots
    total = ctx * (slots if eng["parallel_multiplies_context"] else 1)
    ubatch = asked.n_ubatch if asked is not None and asked.n_ubatch_given else None
    return FitRequest(context=ctx, engine=engine, n_parallel=slots,
                      kv_cache_type=asked.kv_cache_type if asked is not None else "f16",
                      n_ubatch=int(eng["n_ubatch"]) if ubatch is None else min(ubatch, total),
                      n_ubatch_given=ubatch is not None, flash_attention=bool(eng["flash_attention"]))


def _pick_quant(model: Model, machine: Machine, w: ServeWorkload, engine: str, quant: Quant | None,
                asked: FitRequest | None = None) -> FitOption | None:
    from ...engines import get_engine
    from ..fit import best_option

    req = _request(engine, w, 1, asked)
    if quant is not None:
        return evaluate(model, machine, req, quant)
    return best_option(model, machine, req, get_engine(engine).quants(), tiers=("gpu", "partial", "cpu"))


class SlotServer(PagedServer):
    """llama-server's loop: every slot's next token and the waiting prompts' tokens (up to -b, 2048 unless --ubatch
    raises it, a batch) in one batch; the prompt tokens cost their single-stream prefill time, at the -ub the option
    was sized with, on top of the decode step."""

    def __init__(self, model: Model, machine: Machine, w: ServeWorkload, engine: str, opt: FitOption, slots: int,
                 asked: FitRequest | None = None):
        from ...engines import get_engine

        req = _request(engine, w, slots, asked)
        budget = get_engine(engine).step_batch(req)
        hit = slot_hit_tokens(model, w.prompt_tokens, w.output_tokens, w.cached_prompt_tokens)
        super().__init__(model, opt.quant, machine, 1, w.prompt_tokens, w.output_tokens, budget, slots, cached=hit)
        self.engine, self.w, self.asked = engine, w, asked
        s = opt.speed
        self.t1 = 1.0 / s.decode_tokens_per_s
        self.prefill = s.prefill_tokens_per_s or 0.0
        work = token_work(model, opt.quant, req.kv_cache_type)  # each slot's KV is read at its cache type
        dev = machine.devices[0] if machine.devices and opt.placement.gpu_layers else None
        eff = efficiency(dev.backend if dev else "cpu")
        bw = (dev.bandwidth_bytes_per_s if dev else machine.ram_bandwidth_bytes_per_s) or 1e11
        per_token = sum(work.layer_kv_bytes) if work.layer_kv_bytes else work.kv_bytes_per_cell * model.n_layers
        self.kv_s = per_token * self.depth / (eff.bandwidth * bw)
        flops = sum(work.layer_flops) + 2 * work.output_matrix[1]
        f = (dev.fp16_flops if dev else machine.cpu_flops) or 0.0
        self.flop_s = flops / (eff.compute_quant * f) if f else 0.0
        self.sample_s = _sampling_seconds(model, engine)

    def _decode(self, b: float) -> float:
        """The GPU's batched step (llama-bench's decode at b = 1) plus each decoding slot's host sampling, in series."""
        if b <= 0:
            return 0.0
        return max(self.t1 + max(0.0, b - 1.0) * self.kv_s, b * self.flop_s) + b * self.sample_s

    def _step(self, b_dec: float, chunk_tokens: float) -> float:
        pre = chunk_tokens / self.prefill if self.prefill else 0.0
        return self._decode(b_dec) + pre

    def _compute_bound(self, b_dec: float) -> bool:
        return b_dec * self.flop_s > self.t1 + max(0.0, b_dec - 1.0) * self.kv_s

    def _kv_bytes(self, running: int) -> int:
        from ..memory import kv_cache_bytes

        kv_total, _ = kv_cache_bytes(self.model, _request(self.engine, self.w, running, self.asked))
        return kv_total // max(1, len(self.machine.devices))


def _sampling_seconds(model: Model, engine: str) -> float:
    """Host sampling seconds per decoded token of `engine`'s server (0 where the engine does not price it)."""
    from ...engines import get_engine
    from ..server_host import sampling_seconds

    return sampling_seconds(model) if getattr(get_engine(engine), "host_sampling", False) else 0.0


def _max_slots(model: Model, machine: Machine, w: ServeWorkload, engine: str, q: Quant, tier: str,
               asked: FitRequest | None = None) -> int:
    def ok(n: int) -> bool:
        return evaluate(model, machine, _request(engine, w, n, asked), q).placement.fit == tier

    lo = _last_true(ok)
    from ...engines import get_engine

    floor_batch = getattr(get_engine(engine), "automatic_batch_floor", None)
    if floor_batch is None or (asked is not None and asked.n_ubatch_given):
        return lo
    # Ollama (the engine with an automatic_batch_floor) picks -b/-ub from its own VRAM prediction of num_ctx x slots
    # (engines/ollama_launch.auto_batch): one more slot can drop the batch (1024 -> 512) and free more compute buffer
    # than the slot's KV takes, so fitting is not monotone in the slot count (llama3.1:8b Q4_K_M, 16 + 548 tokens, one
    # RTX 4090: 188 fit, 189-190 not, 191 does), and the bisection above can stop below the largest count. At the
    # smallest batch every count needs the least memory, so the counts that fit there (no worse than `tier`) bound the
    # answer; the few between are tried in turn.
    from ...record import replace
    from ..select import TIERS

    floor = replace(_request(engine, w, 1, asked), n_ubatch=floor_batch(), n_ubatch_given=True)
    rank = (*TIERS, "no")  # best first

    def at_floor(n: int) -> bool:
        fit = evaluate(model, machine, _request(engine, w, n, floor), q).placement.fit
        return rank.index(fit) <= rank.index(tier)

    return next((n for n in range(_last_true(at_floor), lo, -1) if ok(n)), lo)


def _last_true(ok) -> int:
    """The largest slot count in 1.._MAX_SLOTS for which ok holds, ok being true up to it and false after (1 if none)."""
    lo, hi = 1, _MAX_SLOTS
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def serve_slots(model: Model, machine: Machine, w: ServeWorkload, *, engine: str, quant: Quant | str | None,
                concurrency: tuple[int, ...], options: FitRequest | None = None) -> ServeReport:
    if isinstance(quant, str):
        from ...engines import get_engine

        quant = get_engine(engine).quant(quant)
    ub = options.n_ubatch if options is not None and options.n_ubatch_given else None  # --ubatch
    opt = _pick_quant(model, machine, w, engine, quant, options)
    if opt is None or opt.placement.fit == "no" or not (opt.speed and opt.speed.decode_tokens_per_s):
        why = (opt.placement.note if opt else "") or "the model does not fit, or its speed is unknown"
        short = ("memory" if opt is None or opt.placement.fit == "no" and not opt.placement.unsupported
                 else "unsupported" if opt.placement.fit == "no" else "speed")
        return ServeReport(model=model, machine=machine, engine=engine, quant=opt.quant.name if opt else None,
                           workload=w, fits=False, reason=why, short_of=short)
    slots = _max_slots(model, machine, w, engine, opt.quant, opt.placement.fit, options)
    from ...engines import get_engine

    cap = get_engine(engine).slot_limit(model)  # e.g. Ollama's one-slot architectures (server/sched.go)
    capped = cap is not None and cap < slots
    slots = min(slots, cap) if cap is not None else slots
    server, slots, limits, points, top, rec = walk(
        lambda n: SlotServer(model, machine, w, engine, opt, n, options), slots,
        "kv_pool" if slots < _MAX_SLOTS and not capped else "max_num_seqs", concurrency, w)
    s = opt.speed
    kv1 = server.point(1).kv_bytes_per_gpu
    return ServeReport(
        model=model, machine=machine, engine=engine, quant=opt.quant.name, workload=w, fits=True, reason="",
        max_concurrency=slots, limits=tuple(limits), points=tuple(points), peak=top, recommended=rec,
        single=server.point(1),
        kv_bytes_per_request=kv1, confidence=s.confidence,
        band=(s.decode_low / s.decode_tokens_per_s, s.decode_high / s.decode_tokens_per_s),
        assumptions={
            "slots": "one per concurrent request (llama-server -np, OLLAMA_NUM_PARALLEL), each holding prompt + "
                     "output tokens",
            "placement": opt.placement.fit,
            "batched_decode": "weights read once per step; each slot's KV read at its depth",
            # llama-server's CPU sampling of every decoding slot after each step (0: not priced for this engine)
            "host_sampling_ms_per_token": round(server.sample_s * 1e3, 3),
            "prefill_tokens_per_s_alone": round(s.prefill_tokens_per_s or 0.0, 1),
            "n_ubatch": ub,  # --ubatch as given (None: the engine's); each slot count's command caps it at its -c
            **prefix_assumptions(model, w, engine, server.cached, 0),
        },
        command=evaluate(model, machine, _request(engine, w, (rec or top).running, options), opt.quant).command or None,
        warnings=((f"the model runs {opt.placement.fit} (not fully on GPU): batching helps little",)
                  if opt.placement.fit != "gpu" else ()) + prefix_warnings(model, w, server.cached, False),
    )
