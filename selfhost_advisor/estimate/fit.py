"""`fit`: memory and placement of one model on one machine for each quantization, and the pick.

The recommended quantization is estimate/select.py's rule, the one `hardware --for` and `models --fits` use too:
the best tier (gpu, partial, cpu), then the best measured quality, saturated (a faster option as good as the best
by measured loss wins) and usable (below reading speed, a faster option is preferred); result.pick says which.
"""
from __future__ import annotations

from ..catalog.data import load
from ..domain import FitOption, FitRequest, FitResult, Machine, Model, Quant
from ..engines import get_engine
from ..record import replace
from .quality import low_bits, quality
from .quantize import ud_q4_k_m_read, ud_q4_k_xl_read
from .select import choose, Gate, LazyOptions, Pick, select, tier_of, TIERS, usable_tps


def _loss(name: str) -> str:
    q = quality(name)
    return "unmeasured" if q is None else f"KLD {q['kld']:.3f}, perplexity +{q['ppl_delta_pct']:.1f}%"


def recommend(options: list[FitOption], min_quant: str | None = None) -> tuple[str | None, str]:
    """(quant name or None, which tier it came from); `min_quant` is the quality floor (estimate/quality.py)."""
    pick = select(options, Gate(min_quant=min_quant))
    return (pick.quant.name if pick else None), tier_of(pick)


def best_pick(
    model: Model, machine: Machine, request: FitRequest, quants: tuple[Quant, ...], *,
    min_tps: float | None = None, host_ram_known: bool = True, tiers: tuple[str, ...] = TIERS,
    max_rank: int | None = None, min_quant: str | None = None,
) -> Pick:
    """best_option with the reason: which step of the rule decided (estimate.select.Pick)."""
    if not machine.devices:
        # No GPU: every option is "cpu" or "no" (place(), Ollama's placement; expert offload, vLLM and MLX need a GPU,
        # tests/test_select.py checks each engine), so scanning the GPU tiers evaluated every option only to find none
        # there: `models --fits` on a CPU box sized all ~14 quantizations of every catalog model
        tiers = tuple(t for t in tiers if t == "cpu")
    g = Gate(tiers, min_tps, max_rank, min_quant)
    eligible = g.eligible(quants)
    if (g.tiers == ("gpu",) or not host_ram_known) and _never_on_gpu(model, machine, request):
        # no option can be "gpu", and without host RAM none can be anything else (see _never_on_gpu): what
        # choose() answers when every option is "no", without evaluating them
        return Pick(None, "none", g.min_tps if g.min_tps is not None else usable_tps(), g.min_tps is not None)
    return choose(LazyOptions(eligible, lambda q: evaluate(model, machine, request, q,
                                                          host_ram_known=host_ram_known)), g)


def evaluate(model: Model, machine: Machine, request: FitRequest, q: Quant, *, host_ram_known: bool = True) -> FitOption:
    """Memory, placement and single-stream speed of one quantization, by the request's engine (engines/), with the
    lines the engine's own log should then print (engines/startup_log.py)."""
    eng = get_engine(request.engine)
    opt = eng.option(model, q, machine, request, host_ram_known=host_ram_known)
    log = eng.startup_log(model, opt, request, machine)
    if not log:
        return opt

    return replace(opt, engine_log=log)


def best_option(
    model: Model, machine: Machine, request: FitRequest, quants: tuple[Quant, ...], *,
    min_tps: float | None = None, host_ram_known: bool = True, tiers: tuple[str, ...] = TIERS,
    max_rank: int | None = None, min_quant: str | None = None,
) -> FitOption | None:
    """The option select() picks under the gate (tiers, min_tps, quality floor), evaluating options lazily.

    Planning commands evaluate hundreds of (model, hardware) pairs; the scan stops at the first option that meets
    the gate in the best tier, so a model that fits on GPU at a usable speed costs its best option and the few
    within the same-quality tolerance (F16: Q8_0).
    """
    return best_pick(model, machine, request, quants, min_tps=min_tps, host_ram_known=host_ram_known, tiers=tiers,
                     max_rank=max_rank, min_quant=min_quant).option


def _never_on_gpu(model: Model, machine: Machine, request: FitRequest) -> bool:
    """True when no option of `model` can be "gpu" under the request's engine, known without evaluating one
    (Engine.never_on_gpu; llama.cpp knows it from a floor under the layers' weights). Then every option is "no" on a
    machine whose host RAM is unknown (place() has no "partial" or "cpu" without it, and expert offload is then "no"
    too: moe_offload.py), and none meets a gate that accepts only "gpu". Why: `models --fits` on a bare profile
    evaluated every quantization of each catalog model too large for the card (14 each, most of the command's
    time, growing with the catalog)."""
    return get_engine(request.engine).never_on_gpu(model, machine)


def host_speed(machine: Machine) -> dict:
    """The host RAM bandwidth and CPU FLOPS that CPU-resident layers are timed with, and where they come from."""
    from .speed import default_host

    d = default_host()
    bw, flops = machine.ram_bandwidth_bytes_per_s, machine.cpu_flops
    if machine.host_speed_source:
        source = machine.host_speed_source
    elif bw or flops:
        source = "profile" if machine.source != "probe" else f"CPU profile {machine.cpu.matched_profile if machine.cpu else ''}"
    else:
        source = f"assumed: {d['source']} (run 'advisor probe --measure' for this machine's own figures)"
    from .cpu_kernels import vector_flops

    vf = vector_flops(machine)
    out = {"ram_bandwidth_bytes_per_s": int(bw or d["ram_bandwidth_gbps"] * 1e9),
           "cpu_flops": float(vf or flops or d["cpu_tflops"] * 1e12), "source": source}
    if vf:  # a clocked host: CPU layers are timed by llama.cpp's kernel rates at threads x clock (cpu_kernels.py)
        out.update(cpu_clock_hz=float(machine.cpu_clock_hz), cpu_threads=int(machine.cpu_threads))
    return out


def refuse_unread_ud(model: Model, quants: tuple[Quant, ...]) -> None:
    """UD-Q4_K_XL is sized only where Unsloth's layout of it was read (quantize.ud_q4_k_xl_read: Qwen3.5 / 3.6 MoE);
    for any other model the file's size is unknown here (Unsloth picks each model's layout; its Gemma 4, Nemotron and
    dense Qwen files differ from Q4_K_M's rules by -7 ... +6 %, docs/methodology.md 5c-s29u), so it is refused, not
    guessed. A GGUF file or Hub repository read from its header is sized by its own tensor types and never named so."""
    if any(q.name == "UD-Q4_K_XL" for q in quants) and not ud_q4_k_xl_read(model):
        from ..errors import UnknownQuantError

        raise UnknownQuantError(f"UD-Q4_K_XL: Unsloth's layout is read only for Qwen3.5 / 3.6 MoE (qwen35moe) files, "
                                f"not {model.id}'s",
                                "give the GGUF file or hf:REPO --quant UD-Q4_K_XL (sized from its own header), or "
                                "--quant Q4_K_M")


def fit(
    model: Model,
    machine: Machine,
    request: FitRequest,
    quants: tuple[Quant, ...],
    *,
    host_ram_known: bool = True,
    min_quant: str | None = None,
    require_fit: str | None = None,
    min_tps: float | None = None,
) -> FitResult:
    """Every option of `model` on `machine`, and the one recommended.

    With `--require-fit` / `--min-tps` the recommendation is what the gate picks (the same option `hardware --for`
    and `models --fits` name, and the one `Command:` runs): a user who asks for 25 tokens/s is shown the best option
    that decodes that fast, not a slower one beside a passing check. When no option meets the gate, the recommendation
    is the ungated one and the check fails (exit 1) saying how far off the closest option is."""
    refuse_unread_ud(model, quants)
    runtime = load("engines")["runtime"]
    engine = get_engine(request.engine)  # validates the engine name
    backend = machine.devices[0].backend if machine.devices else "cpu"
    options = [evaluate(model, machine, request, q, host_ram_known=host_ram_known) for q in quants]
    chosen = choose(options, Gate(min_quant=min_quant))
    gate = None
    if require_fit is not None or min_tps is not None:
        from .select import check

        gate = check(options, require_fit, min_tps, min_quant=min_quant)
        if gate.passed:
            chosen = gate.pick
    if "embedding" in model.use_cases:  # as render/ hides the loss column for it

        chosen = replace(chosen, embedding=True)
    pick, tier = (chosen.option.quant.name if chosen.option else None), tier_of(chosen.option)
    warnings = []
    if pick and low_bits(pick):
        warnings.append(f"{pick} is a 3-bit-or-lower quantization: measured loss on Llama 3 8B "
                        f"{_loss(pick)} (Q4_K_M: {_loss('Q4_K_M')})")
    below = [o.quant.name for o in options if o.placement.fit == "gpu" and not Gate(min_quant=min_quant).allows(o.quant)]
    if min_quant and tier != "gpu" and below:
        one = len(below) == 1
        warnings.append(f"{', '.join(below)} {'fits' if one else 'fit'} fully on GPU but {'loses' if one else 'lose'} "
                        f"more than the quality floor {min_quant} ({below[0]}: {_loss(below[0])}; {min_quant}: "
                        f"{_loss(min_quant)}); --min-quant any allows {'it' if one else 'them'}")
    if any(q.name == "UD-Q4_K_M" for q in quants) and not ud_q4_k_m_read(model):
        warnings.append(f"UD-Q4_K_M: Unsloth's dynamic recipe is read only for Qwen3.5 / 3.6 MoE files; {model.id}'s UD "
                        "file is sized here as a plain Q4_K_M, and Unsloth raises other tensors per model (the Qwen3.6 "
                        "35B-A3B file is 4.6% larger than Q4_K_M): check the file's size before relying on the fit")
    per_image = None
    if request.images or request.image_tokens:
        from .projector import image_tokens as tokens_of

        per_image = tokens_of(model, request.image_tokens)
    if per_image and per_image > request.context:
        warnings.append(f"one image takes {per_image:,} tokens, more than the {request.context:,}-token context: "
                        f"raise --context (or --image-tokens for a dynamic-resolution model)")
    if request.images and not any(o.memory.projector_bytes for o in options):
        release = f" {request.engine_version}" if request.engine_version else ""
        warnings.append(f"--images: nothing added; no projector is counted for {model.id} under {request.engine}{release} "
                        "(data/engines.yaml vision_projectors lists the vision models we size and the Ollama release "
                        "that first ran each; llamacpp or ollama)")
    if pick and tier != "gpu" and machine.devices:
        warnings.append(f"no quantization fits fully on GPU; {pick} is the best {tier} option")
    if pick and tier in ("cpu", "partial") and machine.busy_load:
        warnings.append(f"this machine is busy now (1-minute load average {machine.busy_load:g} on "
                        f"{machine.cpu_threads or '?'} cores): llama.cpp's CPU threads wait for each other after every "
                        "step, so while other programs run, CPU speed can be several times below these figures, which "
                        "assume otherwise idle cores (docs/methodology.md 4e)")
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
        "min_quant": min_quant,
        "weights": engine.weights_note,
        "decode_depth_tokens": request.context // 2,
        "speed": engine.speed_note,
        "host_speed": host_speed(machine),
        "images": request.images,
        "projector": _projector_note(engine, model, options, request),
        "image_tokens": per_image,
        **engine.describe(model, request),
    }
    from .tensors import param_counts

    return FitResult(
        model=model, machine=machine, request=request, options=tuple(options), recommended=pick,
        assumptions=assumptions, warnings=tuple(warnings), pick=chosen, params=param_counts(model), gate=gate,
    )


def _projector_note(engine, model, options, request) -> str | None:
    """What the fit counts for a vision model's tower (None for a text-only model), in the engine's words."""
    from .projector import has_vision

    if not has_vision(model):
        return engine.unsized_tower_note(model, request) if "vision" in model.use_cases else None
    return engine.projector_note(request, max((o.memory.projector_bytes for o in options), default=0))


def with_free_memory(result: FitResult, free: FitResult) -> FitResult:
    """`result` (fit against total GPU memory) with the fit against the memory free now beside it: an assumption
    block and, when the answer differs, a warning (issue 16: other processes hold VRAM; llmfit #835)."""
    free_bytes = [d.usable_memory_bytes for d in free.machine.devices]
    tier = free.assumptions["recommended_tier"]
    side = {"free_memory_bytes": free_bytes, "recommended": free.recommended, "recommended_tier": tier}
    warnings = list(result.warnings)
    if (free.recommended, tier) != (result.recommended, result.assumptions["recommended_tier"]):
        gb = sum(free_bytes) / 1e9
        warnings.append(f"against the GPU memory free now ({gb:.1f} GB; other processes hold the rest) the best option "
                        f"is {free.recommended or 'none'} ({tier}); '--memory free' makes that the answer")
    return replace(result, assumptions={**result.assumptions, "fit_on_free_memory": side}, warnings=tuple(warnings))
