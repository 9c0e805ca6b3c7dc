"""The public library API: what each `advisor` command computes, as plain function calls returning records.

    import selfhost_advisor as sa
    r = sa.fit("llama3.1:70b", "2x rtx4090")           # FitResult: options, recommended, assumptions, warnings
    r.recommended, [o.quant.name for o in r.options]
    sa.as_json(r)                                        # the dict `advisor fit --json` prints

Arguments are the command's options as Python values: strings as on the command line ("24GB", "32k") or numbers
(bytes, tokens). Bad input raises selfhost_advisor.errors.AdvisorError subclasses (the CLI's exit 2), with the
message and hint the CLI prints. The CLI (cli.py) is glue over these functions: it parses, calls one, renders.
Nothing heavy is imported until a function runs (docs/api.md).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .cost.types import CostComparison
    from .domain import FitResult, ProbeReport
    from .estimate.plan import HardwareForResult, ModelsFitResult
    from .catalog.search import ModelList
    from .estimate.serving.types import ServeReport


def _size(value: str | int | None) -> str | None:
    """A size as the CLI takes it: '24GB' stays; an int is bytes ('24000000000B')."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        from .errors import BadSizeError

        raise BadSizeError(f"size {value!r} is not a string or integer bytes", "e.g. '24GB' or 24_000_000_000")
    return f"{value}B"


def _kv_bytes(value: str | int | None) -> int | None:
    """vLLM's --kv-cache-memory-bytes as integer bytes (a size with its unit, or int bytes), or None."""
    if value is None:
        return None
    from .units import parse_size

    return parse_size(_size(value) or "", what="--kv-cache-memory-bytes")


def _names(quant: str | Sequence[str] | None) -> list[str]:
    """'Q4_K_M,Q8_0' or ['Q4_K_M', 'Q8_0'] -> ['Q4_K_M', 'Q8_0']."""
    items = [quant] if isinstance(quant, str) else list(quant or [])
    return [n.strip() for q in items for n in str(q).split(",") if n.strip()]


def _check_min_tps(min_tps: float | None, model: Any = None) -> None:
    from .errors import BadOptionError

    if min_tps is not None and not 0 < min_tps < float("inf"):  # nan and inf are refused too: no model meets inf
        raise BadOptionError(f"--min-tps {min_tps:g} must be a positive, finite speed", "e.g. --min-tps 20")
    if min_tps is not None and model is not None:
        from .estimate.encoder import embeds_only

        if embeds_only(model):  # it decodes no tokens, so no option could ever meet a decode target
            raise BadOptionError(f"--min-tps: {model.id} is an embedding model and decodes no tokens",
                                 "drop --min-tps (fit shows its embedding speed as prefill tokens/s)")


def _context(eng: Any, model: Any, given: str | int | None, default: int) -> tuple[int, str, list[str]]:
    """(context to size, how it was chosen, warnings). No --context: the engine's default, which never passes the
    model's maximum (a BERT embedder's 512, Llama 2's 4096). --context above the maximum: what the engine does with
    it (engines/*.py context_over_max: llama.cpp runs and warns, Ollama lowers it, vLLM refuses: exit 2)."""
    from .units import parse_context

    if given is None:
        return default, "default, the model's maximum" if default >= model.max_context else "default", []
    ctx = parse_context(str(given), model.max_context)
    if ctx <= model.max_context:
        return ctx, "--context", []
    ctx, warning = eng.context_over_max(model, ctx)
    return ctx, "--context, above the model's maximum", [warning]


def probe() -> ProbeReport:
    """This machine's GPUs, CPU, RAM and free memory (`advisor probe`); `.machine` is what fit() sizes for."""
    from .probe import probe as run_probe

    return run_probe()


def _image_tokens(n: int | None) -> int | None:
    """--image-tokens: a whole number of tokens per image, 1 to 1,048,576 (BadOptionError otherwise)."""
    from .errors import BadOptionError

    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 2**20:
        raise BadOptionError(f"--image-tokens {str(n)[:40]!r} is out of range", "give the tokens one image takes, "
                             "1 to 1048576 (e.g. 576 for LLaVA 1.5, 1024 for a Qwen-VL image of about 900 px)")
    return n


def _ubatch(eng: Any, given: int | None, n_ctx: int) -> tuple[int, str]:
    """(the micro-batch to size, a warning or "") for --ubatch: llama.cpp's -ub, Ollama's num_batch.

    llama.cpp takes n_batch = min(n_ctx, n_batch) and n_ubatch = min(n_batch, n_ubatch) (src/llama-context.cpp), so a
    value above the context runs as the context. vLLM and MLX have no such option: bad input naming their analogue.
    """
    from .errors import BadOptionError
    from .limits import MAX_UBATCH

    if given is None:
        return int(eng.params["n_ubatch"]), ""
    if eng.ubatch_refusal:
        raise BadOptionError(f"--ubatch is llama.cpp's -ub (Ollama's num_batch), not an option of --engine {eng.name}",
                             f"{eng.ubatch_refusal}; drop --ubatch")
    if not 1 <= given <= MAX_UBATCH:
        raise BadOptionError(f"--ubatch {given} is out of range", f"give 1 to {MAX_UBATCH:,} tokens, e.g. --ubatch 2048")
    if given > n_ctx:
        return n_ctx, (f"--ubatch {given:,} is above the {n_ctx:,}-token context: llama.cpp caps the micro-batch at the "
                       f"context (src/llama-context.cpp), so {n_ctx:,} is sized")
    return given, ""


def _check_before_machine(eng: Any, m: Any, version: str, *, context: str | int | None, kv_cache: str, parallel: int,
                          n_cpu_moe: int | None, ubatch: int | None, image_tokens: int | None, min_quant: str | None,
                          memory: str | None, gpu_memory: str | int | None, vllm: dict,
                          known_hint: Any = lambda: "") -> None:
    """fit's options that are bad input whatever the machine, refused before it is resolved: without --hardware that
    probes this machine (seconds, and host_rates.json written under ADVISOR_HOME), which `fit MODEL --context nan`
    cost before its exit 2. The checks are the ones fit runs later (they run again there, on the same values).
    known_hint: the hint of a vLLM option's refusal where the machine is known without a probe (_named_machine_hint)."""
    from .domain import FitRequest
    from .limits import MAX_UBATCH
    from .termsafe import folded
    from .units import parse_context, parse_size

    if version and hasattr(eng, "release"):
        eng.release(version)  # a malformed or too-old release
    eng.check_runs(m, version)
    if context is not None:
        parse_context(str(context), m.max_context)
    if n_cpu_moe is not None:
        from .estimate.moe_offload import check_n_cpu_moe

        check_n_cpu_moe(m, eng.name, n_cpu_moe)
    _ubatch(eng, ubatch, MAX_UBATCH)
    _image_tokens(image_tokens)
    if min_quant is not None:
        from .estimate.quality import min_quant as floor_of

        floor_of(min_quant)
    if memory is not None and memory.lower() not in ("total", "free"):
        from .errors import BadOptionError

        raise BadOptionError(f"--memory {memory!r} is not total or free", "e.g. --memory free")
    if gpu_memory is not None:
        parse_size(_size(gpu_memory) or "", what="--gpu-memory")
    _with_machine_hint(lambda: eng.check_request(m, FitRequest(context=1, engine=eng.name,
                                                                kv_cache_type=folded(kv_cache), n_parallel=parallel,
                                                                engine_version=version, **vllm), None), known_hint)


def _with_machine_hint(check: Any, hint: Any) -> None:
    """Run `check`; a vLLM option it refuses (VllmOptionError: 'add --engine vllm or drop it') gets hint() instead
    where that is not "": on a machine vLLM serves no GPU of, adding --engine vllm would size nothing."""
    from .errors import VllmOptionError

    try:
        check()
    except VllmOptionError as e:
        better = hint()
        if better:
            raise VllmOptionError(e.message, better) from None
        raise


def _vllm_option_hint(machine: Any) -> str:
    """'drop it: <why>' where vLLM serves no GPU of `machine` (estimate/vllm.no_serving_gpu: a Mac, an AMD APU, a
    CPU-only box), else "". A GPU named with a backend vLLM lacks ('rtx 4090 vulkan') keeps 'add --engine vllm':
    --engine vllm then says to drop the word (engines/vllm.py check_machine)."""
    from .engines import get_engine
    from .estimate.vllm import no_serving_gpu

    if machine is None or get_engine("vllm").refused_device(machine) is not None:
        return ""
    why = no_serving_gpu(machine)
    return f"drop it: {why} ({machine.name})" if why else ""


def _named_machine_hint(hardware: str | None, vram: str | None, ram: str | None, gpus: int | None) -> str:
    """_vllm_option_hint for the machine fit was asked about, where knowing it costs no probe: a profile, spec or file
    (--hardware), or --vram/--ram; without them on macOS this machine is a Mac. "" for another local machine, or
    hardware that does not resolve (its own error comes after the option's, as before)."""
    import sys

    from .errors import AdvisorError
    from .machine import resolve_machine

    if (hardware, vram, ram, gpus) == (None, None, None, None):
        return "drop it: vLLM does not run on Apple GPUs (this machine is a Mac)" if sys.platform == "darwin" else ""
    try:
        return _vllm_option_hint(resolve_machine(hardware, vram, ram, gpus)[0])
    except AdvisorError:
        return ""


def fit(
    model: str, hardware: str | None = None, *, vram: str | int | None = None, ram: str | int | None = None,
    gpus: int | None = None, quant: str | Sequence[str] | None = None, context: str | int | None = None,
    kv_cache: str = "f16", engine: str = "llamacpp", parallel: int = 1, flash_attention: bool | None = None,
    n_cpu_moe: int | None = None, gpu_memory_utilization: float | None = None, max_num_seqs: int | None = None,
    max_num_batched_tokens: int | None = None, enforce_eager: bool = False, tensor_parallel: int | None = None,
    nodes: int | None = None, memory: str | None = None, gpu_memory: str | int | None = None,
    require_fit: str | None = None, min_tps: float | None = None, offline: bool = False,
    min_quant: str | None = None, images: bool = False, engine_version: str | None = None,
    image_tokens: int | None = None, kv_cache_memory_bytes: str | int | None = None, ubatch: int | None = None,
) -> FitResult:
    """Memory, placement and speed of `model` per quantization on the hardware (`advisor fit`).

    hardware: a profile ('rtx4090', '2x rtx4090') or a probe JSON file; or vram/ram/gpus; none: this machine.
    memory: 'total' (default) or 'free' (fit against the GPU memory free now); gpu_memory: usable memory of a
    unified-memory part (raised Metal wired limit, APU VRAM + GTT).
    gpu_memory_utilization .. tensor_parallel: vLLM's options (--gpu-memory-utilization, --max-num-seqs, ...);
    kv_cache_memory_bytes: vLLM's --kv-cache-memory-bytes (a size such as '20GiB', or int bytes).
    ubatch: llama.cpp's physical batch -ub (Ollama: num_batch); None: the engine's default.
    require_fit ('gpu' | 'partial' | 'any') and min_tps set `result.gate` (estimate.select.GateResult): which
    option meets them, by the rule hardware_for() and models_that_fit() use. min_quant: the quality floor
    (None: the default, IQ3_M; 'any': none; not applied to a quantization named by quant or the tag unless given).
    """
    from .catalog.resolve import annotate, resolve
    from .domain import FitRequest
    from .engines import get_engine
    from .errors import BadOptionError
    from .estimate.fit import fit as run_fit
    from .machine import resolve_machine

    names = _names(quant)
    resolved = resolve(model, quants=tuple(names), offline=offline)
    m = resolved.model
    eng = get_engine(engine)
    from .limits import MAX_PARALLEL

    if not 1 <= parallel <= MAX_PARALLEL:
        raise BadOptionError(f"--parallel {parallel} is out of range", f"give 1 to {MAX_PARALLEL} (docs/cli.md, Limits)")
    from .termsafe import folded

    require_fit = folded(require_fit) if require_fit is not None else None
    if require_fit is not None and require_fit not in ("gpu", "partial", "any"):
        raise BadOptionError(f"--require-fit {require_fit!r} is not gpu, partial or any", "e.g. --require-fit gpu")
    eng.check_model(resolved, model)
    quants = eng.select_quants(resolved, names)
    _check_min_tps(min_tps, m)
    version = (engine_version or "").strip()
    _check_before_machine(eng, m, version, context=context, kv_cache=kv_cache, parallel=parallel, n_cpu_moe=n_cpu_moe,
                          ubatch=ubatch, image_tokens=image_tokens, min_quant=min_quant, memory=memory,
                          gpu_memory=gpu_memory, vllm=dict(gpu_memory_utilization=gpu_memory_utilization,
                                                           max_num_seqs=max_num_seqs,
                                                           max_num_batched_tokens=max_num_batched_tokens,
                                                           kv_cache_memory_bytes=_kv_bytes(kv_cache_memory_bytes),
                                                           enforce_eager=enforce_eager,
                                                           tensor_parallel=tensor_parallel, nodes=nodes),
                          known_hint=lambda: _named_machine_hint(hardware, _size(vram), _size(ram), gpus))
    machine, ram_known = resolve_machine(hardware, _size(vram), _size(ram), gpus)
    if memory is not None or gpu_memory is not None:
        from .machine import apply_memory_options

        machine = apply_memory_options(machine, memory, _size(gpu_memory))
    eng.check_machine(machine)
    if names:  # a format the user named that the engine does not run on these GPUs (vLLM: GPTQ on Intel): exit 2
        eng.check_quants(quants, machine)
    else:  # and no row for it when none is named
        quants = eng.runnable_quants(quants, machine)
    machine, machine_note = eng.engine_machine(machine, version)  # Ollama: an Intel GPU on Vulkan (or the CPU)
    ctx, context_source, context_warnings = _context(eng, m, context, eng.default_context(m, machine, version))
    context_warnings += [machine_note] if machine_note else []
    context_warnings += [n for n in (eng.version_note(version),) if n]
    ctx, floor_note = eng.context_floor(m, ctx, version)
    context_warnings += [floor_note] if floor_note else []
    from .estimate.driver_notes import device_notes
    from .estimate.sycl_path import engine_sycl_notes  # fit, serve and cost's fleet print the same SYCL build note

    context_warnings += device_notes(machine.devices) + engine_sycl_notes(eng, machine.devices)
    if not eng.mixed_gpus and len({(d.name, d.memory_bytes) for d in machine.devices}) > 1:
        raise BadOptionError(f"--engine {eng.name} runs tensor parallel over identical GPUs; {machine.name} mixes cards",
                             "use --engine llamacpp (layer split) or identical GPUs ('2x rtx4090')")
    if n_cpu_moe is not None:
        from .estimate.moe_offload import check_n_cpu_moe

        check_n_cpu_moe(m, eng.name, n_cpu_moe)
    n_ubatch, ubatch_note = _ubatch(eng, ubatch, ctx * (parallel if eng.params.get("parallel_multiplies_context") else 1))
    context_warnings += [ubatch_note] if ubatch_note else []
    request = FitRequest(
        context=ctx,
        engine=eng.name,
        kv_cache_type=folded(kv_cache),
        n_parallel=parallel,
        n_ubatch=n_ubatch, n_ubatch_given=ubatch is not None,
        flash_attention=eng.default_flash_attention(m, version) if flash_attention is None else flash_attention,
        n_cpu_moe=n_cpu_moe,
        gpu_memory_utilization=gpu_memory_utilization, max_num_seqs=max_num_seqs,
        kv_cache_memory_bytes=_kv_bytes(kv_cache_memory_bytes),
        max_num_batched_tokens=max_num_batched_tokens, enforce_eager=enforce_eager, tensor_parallel=tensor_parallel,
        nodes=nodes, model_ref=eng.model_ref(resolved), images=bool(images) or image_tokens is not None,
        engine_version=version, image_tokens=_image_tokens(image_tokens),
    )
    eng.check_request(m, request, machine)
    from .estimate.alternative import with_alternative
    from .estimate.quality import min_quant as floor_of

    # a quantization the user named (--quant, a tag's suffix, a GGUF file) is sized as asked unless min_quant says
    dq = resolved.default_quant
    applied = dq is not None and not names and [q.name for q in quants] == [dq.quant]
    floor = None if min_quant is None and (names or resolved.quant or applied) else floor_of(min_quant)
    result = annotate(run_fit(m, machine, request, quants, host_ram_known=ram_known, min_quant=floor,
                              require_fit=require_fit, min_tps=min_tps), resolved)
    if memory is None and machine.source in ("probe", "file"):
        from .estimate.fit import with_free_memory
        from .machine import free_machine

        free = free_machine(machine)
        if free is not None:
            result = with_free_memory(result, run_fit(m, free, request, quants, host_ram_known=ram_known,
                                                      min_quant=floor, require_fit=require_fit, min_tps=min_tps))
    if resolved.kind == "catalog":
        result = with_alternative(result, quants, host_ram_known=ram_known)
    from .record import replace

    note = eng.embedding_note(m, request)
    extra = {} if dq is None else {"ollama_default_quant": {"tag": f"{dq.family}:latest", "quant": dq.quant,
                                                             "applied": applied, "source": dq.source}}
    return replace(result, assumptions={**result.assumptions, "context_source": context_source,
                                        "max_context": m.max_context, **extra},
                   warnings=tuple(context_warnings) + result.warnings + ((note,) if note else ()))


def hardware_for(
    model: str, *, quant: str | Sequence[str] | None = None, min_tps: float | None = None,
    context: str | int | None = None, max_price: float | None = None, engine: str = "llamacpp",
    min_quant: str | None = None, ubatch: int | None = None,
) -> HardwareForResult:
    """Every hardware profile (discrete GPUs also 2x/4x/8x) ranked for `model`, meeting the target first, cheapest
    first (`advisor hardware --for`). Without `quant`, only Q4_K_M and better count (buying advice).
    ubatch: llama.cpp's physical batch -ub (Ollama: num_batch), as fit()'s."""
    from .catalog.resolve import resolve
    from .domain import FitRequest
    from .engines import get_engine
    from .errors import BadOptionError
    from .estimate.plan import HardwareForResult, hardware_for as plan

    resolved = resolve(model)
    m = resolved.model
    eng = get_engine(engine)
    eng.check_runs(m)
    _check_min_tps(min_tps, m)
    if max_price is not None and not max_price > 0:
        raise BadOptionError(f"--max-price {max_price:g} must be positive", "e.g. --max-price 10000")
    names = _names(quant) or ([resolved.quant] if resolved.quant else [])
    quants = eng.quants(names) if names else eng.model_quants(m)
    considered = ", ".join(q.name for q in quants) if names else None
    if not names:
        quants = eng.buying_quants(quants)  # buying advice at 2-3 bits per weight would mislead
    from .estimate.fit import refuse_unread_ud

    refuse_unread_ud(m, quants)  # as `fit`: a UD-Q4_K_XL whose layout was not read is refused, not guessed
    from .engines.interface import DEFAULT_CONTEXT

    ctx, _, _ = _context(eng, m, context, min(DEFAULT_CONTEXT, m.max_context))
    n_ubatch, _ = _ubatch(eng, ubatch, ctx)  # capped at the context: the JSON's n_ubatch says so
    request = FitRequest(context=ctx, engine=eng.name, n_ubatch=n_ubatch, n_ubatch_given=ubatch is not None)
    from .estimate.quality import min_quant as floor_of

    from .estimate.tensors import param_counts

    # as fit (docs/cli.md --min-quant): a quantization the user named (--quant, a tag's suffix) is ranked as asked unless
    # min_quant is given; a floor above every quantization considered is bad input, not an empty ranking (session 32:
    # `--quant IQ1_S`, under the default IQ3_M floor, and `--quant Q2_K --min-quant Q4_K_M` were IndexError, exit 3)
    floor = None if min_quant is None and names else floor_of(min_quant)
    from .estimate.select import Gate

    if not Gate(min_quant=floor).eligible(tuple(quants)):
        raise BadOptionError(f"every quantization considered ({', '.join(q.name for q in quants)}) loses more than the "
                             f"quality floor {floor} (--min-quant)",
                             "lower the floor (--min-quant any allows every one) or name a better one with --quant")
    rows = plan(m, quants, request, min_tps=min_tps, max_price=max_price, min_quant=floor)
    return HardwareForResult(m, request, min_tps, max_price, tuple(rows), considered, param_counts(m))


def models_that_fit(
    hardware: str | None, *, query: str | None = None, vram: str | int | None = None, ram: str | int | None = None,
    gpus: int | None = None, min_tps: float | None = None, context: str | int = 8192, engine: str = "llamacpp",
    min_quant: str | None = None, family: Any = None, license: Any = None, min_context: str | int | None = None,
    use_case: Any = None, ubatch: int | None = None,
) -> ModelsFitResult:
    """Every catalog model's best option on the hardware, those that run first, largest first
    (`advisor models --fits`). `query` and the other filters are list_models' (catalog/search.py); ubatch: fit()'s."""
    from .catalog.search import build
    from .domain import FitRequest
    from .engines import get_engine
    from .estimate.plan import ModelsFitResult, models_that_fit as plan
    from .machine import resolve_machine
    from .units import parse_context

    flt = build(search=query, family_=family, license_=license, min_context=min_context, use_case=use_case)
    eng = get_engine(engine)
    _check_min_tps(min_tps)
    machine, ram_known = resolve_machine(hardware, _size(vram), _size(ram), gpus)
    eng.check_machine(machine)  # --engine mlx off Apple: exit 2 as in fit (was '0 of 404 models run', 2-3 s of work)
    nothing = eng.runs_nothing_on(machine)  # --engine vllm on a Mac: was '0 of 415 models run', every row 'no', no why
    if nothing:
        from .errors import BadOptionError

        raise BadOptionError(f"--engine {eng.name} runs no model on {machine.name}: {nothing}",
                             "use --engine llamacpp or ollama")
    machine, _ = eng.engine_machine(machine)  # Ollama: an Intel GPU runs on its Vulkan backend, as in fit
    ctx = parse_context(str(context), 10**9)
    n_ubatch, _ = _ubatch(eng, ubatch, ctx)
    request = FitRequest(context=ctx, engine=eng.name, n_ubatch=n_ubatch, n_ubatch_given=ubatch is not None)
    from .estimate.quality import min_quant as floor_of

    rows = plan([m for m in _kept(flt) if eng.runs(m)], machine, eng.quants(), request, min_tps=min_tps,
                host_ram_known=ram_known, min_quant=floor_of(min_quant), quants_for=eng.model_quants)
    return ModelsFitResult(machine, request, min_tps, tuple(rows), flt)


def list_models(query: str | None = None, *, family: Any = None, license: Any = None,
                min_context: str | int | None = None, use_case: Any = None) -> ModelList:
    """The catalog, filtered and ranked (`advisor models`): `query` is --search (exact > prefix > substring >
    fuzzy), `family`/`license` any of (a name, a comma list or a list), `use_case` all of, `min_context` tokens."""
    from .catalog.models import all_models
    from .catalog.search import ModelList, apply, build

    flt = build(search=query, family_=family, license_=license, min_context=min_context, use_case=use_case)
    return ModelList(flt, tuple(apply(all_models(), flt)))


def _kept(flt: Any) -> list[Any]:
    from .catalog.models import all_models
    from .catalog.search import ranked

    return [m for _, m in ranked(all_models(), flt)]


def filter_models(models: Sequence[Any], query: str | None) -> list[Any]:
    """The catalog rows --search `query` finds, best match first (catalog/search.py)."""
    from .catalog.search import ModelFilter, ranked

    return [m for _, m in ranked(models, ModelFilter(search=" ".join(query.split()) if query else None))]


_MAX_SERVE_TOKENS = 10_000_000  # beyond any model's context: a typo, not a workload
_MAX_CONCURRENCY = 100_000


def _tokens(value: int, flag: str) -> int:
    from .errors import BadOptionError

    if value < 1 or value > _MAX_SERVE_TOKENS:
        raise BadOptionError(f"{flag} {value} must be between 1 and {_MAX_SERVE_TOKENS:,} tokens", f"e.g. {flag} 1000")
    return value


def _positive(value: float | None, flag: str, example: str) -> float | None:
    import math

    from .errors import BadOptionError

    if value is None:
        return None
    if not (math.isfinite(value) and value > 0):
        raise BadOptionError(f"{flag} {value!r} must be a positive number", f"e.g. {flag} {example}")
    return value


def _stream_floor(value: float | None) -> tuple[float | None, bool]:
    """--min-stream-tps as serve applies it: None = the default floor `cost` sizes boxes at (data/cost.yaml
    min_stream_tokens_per_s, cost/defaults.stream_floor), True for 'default'; 0 = no floor (the recommended point is then
    as many users as the box runs, whatever each gets); else a positive target. NaN, infinite or negative: exit 2."""
    import math

    from .errors import BadOptionError

    if value is None:
        from .cost.defaults import stream_floor

        return stream_floor(), True
    if not (math.isfinite(value) and value >= 0):
        raise BadOptionError(f"--min-stream-tps {value!r} must be a positive number, or 0 for no floor",
                             "e.g. --min-stream-tps 20")
    return (float(value) or None), False


def _floor_assumption(speed: float | None, default: bool) -> dict:
    """assumptions.min_stream_tokens_per_s: the per-user floor the recommended point keeps, and where it came from."""
    if default:
        from .cost.defaults import STREAM_FLOOR, source

        return {"value": speed, **source(STREAM_FLOOR), "default": "the floor `advisor cost` sizes boxes at "
                "(--min-stream-speed); --min-stream-tps N sets another, --min-stream-tps 0 none (as many users as the box runs)",
                "requested": False}
    if speed is None:
        return {"value": None, "source": "--min-stream-tps 0: no floor; the recommended point is as many users as "
                "the box runs, whatever each gets", "requested": False}
    return {"value": speed, "source": "given with --min-stream-tps", "requested": True}


def serve(
    model: str, hardware: str, *, engine: str | None = None, quant: str | None = None, prompt_tokens: int = 1000,
    output_tokens: int = 200, concurrency: Sequence[int] | None = None, max_ttft: float | None = None,
    min_stream_tps: float | None = None, gpu_memory_utilization: float | None = None,
    max_num_seqs: int | None = None, max_num_batched_tokens: int | None = None, kv_cache: str | None = None,
    kv_cache_memory_bytes: str | int | None = None, ubatch: int | None = None, enforce_eager: bool = False,
    gpu_memory: str | int | None = None, cached_prompt_tokens: int = 0,
) -> "ServeReport":
    """How many concurrent users one box serves for a request mix, and how fast (`advisor serve`).

    Returns estimate.serving.types.ServeReport: `points` (throughput, TTFT, TPOT per concurrency), `peak`,
    `recommended` (the best point meeting max_ttft / min_stream_tps, or None), `max_concurrency`, `limits`.
    concurrency: the levels to evaluate (default 1, 2, 4 ... up to the maximum); with a target set, each is checked.
    min_stream_tps: output tokens/s each user gets at least. None: the default floor `cost` sizes boxes at
    (data/cost.yaml min_stream_tokens_per_s, 10), which shapes `recommended` but is no requested check; 0: no floor.
    `check` (estimate.serving.types.ServeCheck, None without max_ttft / min_stream_tps): the targets set, at each
    `concurrency` level or, without levels, at some concurrency; `check.passed` False is the CLI's exit 1.
    ubatch: llama.cpp's -ub (Ollama's num_batch), as fit()'s: the physical batch every slot shares (exit 2 with vLLM).
    enforce_eager: vLLM's --enforce-eager (no CUDA graphs: more KV pool, each step's kernels launched from the host;
    exit 2 on the slot engines, as fit).
    gpu_memory: usable GPU memory of a unified-memory part, as fit()'s (a Linux APU's carved VRAM + GTT, a Mac's raised
    wired limit); the render's Usable line says what the box is sized on.
    engine: None picks vLLM where the box has a GPU vLLM serves from (CUDA / ROCm, GB10), else llama.cpp (Apple, AMD
    APUs, CPU-only boxes), rather than answering "does not serve" for an engine the user never named.
    cached_prompt_tokens: tokens at the start of each prompt shared with earlier requests (a system prompt, a document),
    0..prompt_tokens: served from the engine's prefix cache (estimate/serving/prefix.py: vLLM in whole 16-token blocks,
    held once in the KV pool; llama.cpp / Ollama per slot, no KV saving).
    """
    from .catalog.resolve import resolve
    from .domain import FitRequest
    from .engines import get_engine
    from .errors import BadOptionError
    from .estimate.serving import ServeWorkload, serve as run_serve
    from .machine import resolve_machine

    _tokens(prompt_tokens, "--prompt-tokens")
    _tokens(output_tokens, "--output-tokens")
    from .estimate.serving.prefix import check_cached_tokens

    cached_prompt_tokens = check_cached_tokens(cached_prompt_tokens, prompt_tokens)
    ttft = _positive(max_ttft, "--max-ttft", "2")
    speed, floor_default = _stream_floor(min_stream_tps)
    levels = tuple(sorted(set(int(n) for n in concurrency or ())))
    if any(not 1 <= n <= _MAX_CONCURRENCY for n in levels):
        raise BadOptionError(f"--concurrency must be between 1 and {_MAX_CONCURRENCY:,}", "e.g. --concurrency 1,8,32")
    from .limits import MAX_LIST_VALUES

    if len(levels) > MAX_LIST_VALUES:  # each level is a row and a serving estimate: time grew with the list
        raise BadOptionError(f"--concurrency lists {len(levels):,} levels, more than {MAX_LIST_VALUES}",
                             "give the levels to compare, e.g. --concurrency 1,8,32 (without it: 1, 2, 4 ... the maximum)")
    machine, _ = resolve_machine(hardware, None, None, None)
    if gpu_memory is not None:
        from .machine import apply_memory_options

        machine = apply_memory_options(machine, None, _size(gpu_memory))
    if engine is None:
        from .estimate.vllm import default_serving_engine

        engine = default_serving_engine([machine])
    eng = get_engine(engine)
    eng.check_serves("serve")
    eng.check_machine(machine)  # --engine vllm on a 'vulkan' GPU: exit 2, as fit
    nothing = eng.runs_nothing_on(machine)  # --engine vllm on a Mac or a CPU-only box: was exit 1 'does not serve'
    if nothing:  # (a check that failed) for an engine the box cannot run at all; bad input, as `models --fits` says
        raise BadOptionError(f"--engine {eng.name} does not run on {machine.name}: {nothing}",
                             "use --engine llamacpp or ollama")
    machine, machine_note = eng.engine_machine(machine)  # Ollama: an Intel GPU runs on its Vulkan backend, as in fit
    from .limits import MAX_UBATCH

    n_ubatch, _ = _ubatch(eng, ubatch, MAX_UBATCH)  # refused or validated; capped per slot count (serving/slots.py)
    resolved = resolve(model)
    from .estimate.encoder import refuse_embedder

    refuse_embedder(resolved.model, "serve")
    eng.check_model(resolved, model)
    eng.check_runs(resolved.model)
    q = eng.quant(quant) if quant else None
    if q is not None:
        eng.check_quants((q,), machine)  # vLLM: GPTQ named on an Intel GPU, exit 2 naming what runs there
        from .estimate.fit import refuse_unread_ud

        refuse_unread_ud(resolved.model, (q,))  # as `fit`: an unread UD-Q4_K_XL layout is refused, not guessed
    kv = kv_cache.lower() if kv_cache else ("auto" if eng.kv_pool else "f16")
    if eng.kv_cache_types and kv not in eng.kv_cache_types:
        raise BadOptionError(f"--kv-cache {kv_cache!r} is not one of {eng.name}'s KV cache types",
                             f"use one of: {', '.join(eng.kv_cache_types)}")
    from .limits import MAX_BATCHED_TOKENS, MAX_SEQS

    for flag, value, top in (("--max-num-seqs", max_num_seqs, MAX_SEQS),
                             ("--max-num-batched-tokens", max_num_batched_tokens, MAX_BATCHED_TOKENS)):
        if value is not None and not 1 <= value <= top:
            raise BadOptionError(f"{flag} {value} is out of range", f"give 1 to {top} (docs/cli.md, Limits)")
    if gpu_memory_utilization is not None and not 0 < gpu_memory_utilization <= 1:
        raise BadOptionError(f"--gpu-memory-utilization {gpu_memory_utilization!r} must be in (0, 1]",
                             "e.g. --gpu-memory-utilization 0.9")
    if prompt_tokens + output_tokens > resolved.model.max_context:
        # vLLM refuses a max_model_len above the model's maximum (exit 2); the others run and the report warns.
        # serve has no --context: the message names the options that size it (session 34)
        eng.context_over_max(resolved.model, prompt_tokens + output_tokens, asked=(
            "--prompt-tokens + --output-tokens",
            f"--prompt-tokens and --output-tokens that add up to {resolved.model.max_context} or less"))
    options = FitRequest(context=prompt_tokens + output_tokens, engine=eng.name, kv_cache_type=kv,
                         gpu_memory_utilization=gpu_memory_utilization, max_num_seqs=max_num_seqs,
                         max_num_batched_tokens=max_num_batched_tokens, enforce_eager=enforce_eager,
                         kv_cache_memory_bytes=_kv_bytes(kv_cache_memory_bytes),
                         **({"n_ubatch": n_ubatch, "n_ubatch_given": True} if ubatch is not None else {}))
    if not eng.kv_pool:  # fit's refusals: vLLM's pool options (--max-num-seqs ...) on a slot engine are bad input
        _with_machine_hint(lambda: eng.check_request(resolved.model, options, machine),
                           lambda: _vllm_option_hint(machine))
    from .estimate.tensors import param_counts
    from .record import replace

    report = run_serve(resolved.model, machine, ServeWorkload(prompt_tokens, output_tokens, ttft, speed,
                                                                cached_prompt_tokens, min_stream_default=floor_default),
                       engine=eng.name, quant=q, concurrency=levels, options=options)
    from .estimate.serving.curve import check

    floor = {"min_stream_tokens_per_s": _floor_assumption(speed, floor_default)}
    report = replace(report, check=check(report.points, report.single, report.workload, levels),
                     assumptions={**report.assumptions, **floor})
    # fit's notes are said here too: Ollama runs the Intel GPU on Vulkan (OLLAMA_IGPU_ENABLE=1 for an iGPU), and the
    # Vulkan driver the machine was sized for
    from .estimate.driver_notes import device_notes
    from .estimate.sycl_path import engine_sycl_notes

    lead = ([machine_note] if machine_note else []) + device_notes(machine.devices) \
        + engine_sycl_notes(eng, machine.devices)
    warnings = (*lead, *report.warnings) if lead else report.warnings
    return replace(report, params=param_counts(resolved.model), warnings=warnings)


def cost(monthly_tokens: str | int, **options: Any) -> CostComparison:
    """Self-host vs cloud API for a monthly token volume (`advisor cost`): `options` are the command's options
    by their Python names (model='llama3.1:8b', hardware=['2x rtx4090'], cloud=['gpt-4o'], ...).

    A thin wrapper over cost.run.build_comparison, the assembly the CLI runs, so it stays what the CLI does.
    """
    from .cost.run import build_comparison

    return build_comparison(str(monthly_tokens), **options)


def as_json(result: Any) -> dict[str, Any]:
    """The JSON object the CLI prints for a record returned by this module (schemas in docs/schema/)."""
    from .cost.types import CostComparison
    from .domain import FitResult, ProbeReport
    from .estimate.plan import HardwareForResult, ModelsFitResult

    if isinstance(result, FitResult):
        from .render.jsonout import fit_dict

        return fit_dict(result)
    if isinstance(result, HardwareForResult):
        from .render.planout import hardware_for_dict

        return hardware_for_dict(result.model, result.request, result.min_tps, result.max_price,
                                 list(result.candidates), result.considered, result.params)
    if isinstance(result, ModelsFitResult):
        from .render.planout import models_fits_dict

        return models_fits_dict(result.machine, result.request, result.min_tps, list(result.models), result.filter)
    from .catalog.search import ModelList

    if isinstance(result, ModelList):
        from .render.jsonout import models_dict

        return models_dict(result)
    if isinstance(result, ProbeReport):
        from .render.probe_json import probe_dict

        return probe_dict(result)
    if isinstance(result, CostComparison):
        from .render.cost_json import cost_dict

        return cost_dict(result)
    from .estimate.serving.types import ServeReport

    if isinstance(result, ServeReport):
        from .render.serve_json import serve_dict

        return serve_dict(result)
    raise TypeError(f"as_json takes a record from selfhost_advisor's API, not {type(result).__name__}")


__all__ = ["as_json", "cost", "filter_models", "fit", "hardware_for", "list_models", "models_that_fit", "probe", "serve"]

