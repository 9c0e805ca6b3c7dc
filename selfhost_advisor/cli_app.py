"""The `advisor` app: its root options and every command, registered in the order --help lists them.

fit and models are defined here; the other commands live in their own modules (cli_probe, cli_cost, cli_plan,
cli_serve). cli.py imports this module inside its Ctrl-C guard and runs the app (main); nothing here runs a command.
"""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from . import cli_complete as complete
from .cli_opts import QUIET_HELP, TIMESTAMP_HELP, Command, emit_json, exit_codes, needs, quiet, quiet_option, timestamp, timestamp_option
from .cli_opts import ubatch_option
from .cli_opts import state as _state
from .errors import BadOptionError, CheckFailed

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    help="Will this open-weight LLM fit on this hardware, at which quantization, and where (GPU, partial offload, CPU)? "
    "How fast will it run, and is self-hosting cheaper than a cloud API?\n\n"
    "\b\nStart with:\n"
    "  advisor probe                             what this machine has\n"
    "  advisor fit llama3.1:8b                   does it run here, how fast\n"
    "  advisor fit llama3.1:70b -H '2x rtx4090'  the same on hardware you name\n"
    "  advisor hardware --for qwen3:30b-a3b      what hardware runs a model\n"
    "  advisor cost -t 2e9                       self-host vs API, 2B tokens/month\n\n"
    "Exit codes: 0 ok; 1 a requested check failed (fit --require-fit/--min-tps, cost --require/--max-monthly-usd, "
    "serve --max-ttft/--min-stream-tps, "
    "hardware --for with --min-tps/--max-price, models --fits with --min-tps); 2 bad input or environment (unknown model, "
    "malformed value, unreadable file, no network for an uncached Hub id); 3 internal error (a bug: please report it; "
    "--debug shows the traceback). Details: docs/cli.md.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from . import SCHEMA_VERSION, __version__

        sys.stdout.write(f"advisor {__version__} (JSON schema {SCHEMA_VERSION})\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and the JSON schema version, then exit.",
                                 callback=_version, is_eager=True),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (an internal error, exit 3, is a bug: "
                               "report it with this output)."),
    quiet_all: bool = typer.Option(False, "--quiet", help=QUIET_HELP),
    timestamp_all: bool = typer.Option(False, "--timestamp", help=TIMESTAMP_HELP),
) -> None:
    _state["debug"] = debug
    _state["quiet"] = quiet_all
    _state["timestamp"] = timestamp_all


@app.command(cls=Command, epilog=exit_codes("--require-fit or --min-tps not met"),
             short_help="Will a model run: memory per quantization, placement, tokens/s.")
def fit(
    model: str = typer.Argument(..., help="Model: an Ollama tag (llama3.1:70b), a Hub id, a .gguf file, or an alias.",
                                autocompletion=complete.models),
    hardware: Optional[str] = typer.Option(
        None, "--hardware", "-H", help="Profile ('rtx4090', '2x rtx4090', 'a100-80gb'), a probe JSON file, or a GPU "
        "from its spec sheet ('custom:vram=16GB, bandwidth=448GB/s, fp16=60TFLOPS'). Default: this machine.",
        autocompletion=complete.hardware,
    ),
    vram: Optional[str] = typer.Option(None, "--vram", help="Memory per GPU, e.g. 24GB (10^9) or 24GiB (2^30)."),
    ram: Optional[str] = typer.Option(None, "--ram", help="Host RAM for CPU/partial offload, e.g. 64GB."),
    gpus: Optional[int] = typer.Option(None, "--gpus", help="Number of GPUs (with --vram, or to multiply a profile)."),
    quant: Optional[List[str]] = typer.Option(
        None, "--quant", "-q", help="Only these quantizations (repeat or comma-separate): Q4_K_M, Q8_0, F16 ...",
        autocompletion=complete.quants,
    ),
    context: Optional[str] = typer.Option(None, "--context", "-c", help="Context length in tokens: 8192, 32k, 1M or max. "
                                          "Default 8192; --engine ollama: that release's num_ctx."),
    kv_cache: str = typer.Option("f16", "--kv-cache", help="KV cache type: f16, q8_0, q4_0 (llama.cpp/Ollama); auto, fp8 (vLLM); q8 .. q2 (MLX --kv-bits)."),
    engine: str = typer.Option("llamacpp", "--engine", help="Inference engine: llamacpp, ollama, vllm, mlx (Apple Silicon).",
                               autocompletion=complete.engines),
    engine_version: Optional[str] = typer.Option(
        None, "--engine-version", help="Ollama: the release whose memory rule and defaults apply, e.g. 0.6.5 "
        "(default: the newest we have read)."),
    images: bool = typer.Option(False, "--images", help="Images are sent: count a vision model's projector "
                                "(weights and one image's graph; llama-server --mmproj). Ollama and vLLM load it anyway."),
    image_tokens: Optional[int] = typer.Option(
        None, "--image-tokens", help="Tokens one image takes in the context (implies --images). Dynamic-resolution "
        "towers (Qwen-VL, Pixtral) size one image's graph by it and llama-server gets --image-max-tokens. "
        "Default: the model's own (LLaVA 1.5 576, 1.6 up to 2880, Gemma 3 256, Qwen-VL up to 4096)."),
    parallel: int = typer.Option(1, "--parallel", help="Concurrent sequences (Ollama multiplies the context by it)."),
    flash_attention: Optional[bool] = typer.Option(
        None, "--flash-attention/--no-flash-attention", help="Override the engine's flash-attention default."
    ),
    n_cpu_moe: Optional[int] = typer.Option(
        None, "--n-cpu-moe", help="MoE models, llama.cpp: keep the routed experts of the first N layers in RAM, the "
        "rest on GPU (0: plain layer offload). Default: offered when it beats layer offload."
    ),
    gpu_util: Optional[float] = typer.Option(
        None, "--gpu-memory-utilization", help="vLLM: share of each GPU it may use, in (0, 1] (default 0.92)."),
    kv_cache_memory_bytes: Optional[str] = typer.Option(
        None, "--kv-cache-memory-bytes", help="vLLM: a fixed KV pool per GPU (e.g. 20GiB); --gpu-memory-utilization is "
        "then ignored, as in vLLM."),
    max_num_seqs: Optional[int] = typer.Option(None, "--max-num-seqs", help="vLLM: sequences per step (default by GPU)."),
    max_num_batched_tokens: Optional[int] = typer.Option(
        None, "--max-num-batched-tokens", help="vLLM: tokens per step, sizes the profiled activations (default by GPU)."),
    ubatch: Optional[int] = ubatch_option(),
    enforce_eager: bool = typer.Option(False, "--enforce-eager", help="vLLM: no CUDA graphs (frees their memory)."),
    tp: Optional[int] = typer.Option(None, "--tp", help="vLLM: tensor parallel size (default: most GPUs dividing the heads)."),
    nodes: Optional[int] = typer.Option(
        None, "--nodes", help="vLLM: this many boxes like --hardware, one pipeline-parallel stage each (multi-node)."),
    require_fit: Optional[str] = typer.Option(
        None, "--require-fit", help="Exit 1 unless an option fits: gpu (fully on GPU), partial (GPU or partial offload) or any."
    ),
    min_tps: Optional[float] = typer.Option(
        None, "--min-tps", help="Exit 1 unless an option that meets --require-fit decodes at least this many tokens/s "
        "(the output says which; the same rule as hardware --for)."
    ),
    memory: Optional[str] = typer.Option(None, "--memory", help="GPU memory that decides the fit: total (default) or "
                                         "free (what other processes leave; this machine or a saved probe)."),
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Usable GPU memory of a unified-memory part: "
                                             "Apple with a raised iogpu.wired_limit_mb, an APU's carved VRAM + GTT."),
    min_quant: Optional[str] = typer.Option(
        None, "--min-quant", help="Quality floor: never recommend a quantization that loses more (measured KL "
        "divergence vs 16-bit) than this one. Default IQ3_M; 'any' for none."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema docs/schema/fit.schema.json)."),
    offline: bool = typer.Option(False, "--offline", help="Hub models: use only cached answers, no network."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """Memory per quantization, where it fits, and the recommended quantization.

    MODEL: a catalog name or Ollama tag (llama3.1:70b-instruct-q3_K_M), a Hub id (Qwen/Qwen3-30B-A3B,
    hf:bartowski/Llama-3.3-70B-Instruct-GGUF --quant Q4_K_M), a local GGUF (./model.gguf) or ollama:NAME.
    """
    from .api import fit as api_fit

    quiet(quiet_flag)
    timestamp(timestamp_flag)
    result = api_fit(model, hardware, vram=vram, ram=ram, gpus=gpus, quant=quant, context=context, kv_cache=kv_cache,
                     engine=engine, parallel=parallel, flash_attention=flash_attention, n_cpu_moe=n_cpu_moe,
                     gpu_memory_utilization=gpu_util, max_num_seqs=max_num_seqs,
                     max_num_batched_tokens=max_num_batched_tokens, enforce_eager=enforce_eager, tensor_parallel=tp,
                     nodes=nodes, memory=memory, gpu_memory=gpu_memory,
                     require_fit=require_fit, min_tps=min_tps, offline=offline, min_quant=min_quant,
                     images=images, engine_version=engine_version, image_tokens=image_tokens,
                     kv_cache_memory_bytes=kv_cache_memory_bytes, ubatch=ubatch)
    gate = result.gate
    if as_json:
        from .render.jsonout import fit_dict

        emit_json(fit_dict(result))
    elif not quiet():
        from .render.text import render_fit

        render_fit(result)
    if gate is not None and not gate.passed:
        raise CheckFailed(gate.failure())
    return 0


@app.command(cls=Command, epilog=exit_codes("--fits with --min-tps: no model meets it"),
             short_help="The model catalog: search, filter, what runs on hardware.")
def models(
    query: Optional[str] = typer.Argument(None, help="Search text, as --search."),
    search: Optional[str] = typer.Option(None, "--search", "-s", help="Find models by id, name, alias, family or Hub id, "
                                         "best match first (exact, prefix, substring, then close spellings)."),
    family: Optional[List[str]] = typer.Option(None, "--family", help="Only these families (the id before ':', e.g. "
                                               "qwen2.5-coder); repeat or comma-separate for any of several.",
                                               autocompletion=complete.families),
    license_: Optional[List[str]] = typer.Option(None, "--license", help="Only these Hub licence tags (apache-2.0, mit, "
                                                 "llama3.1, gemma, qwen ...); repeat or comma-separate for any of several.",
                                                 autocompletion=complete.licenses),
    min_context: Optional[str] = typer.Option(None, "--min-context", help="Only models whose maximum context is at least "
                                              "this (32k, 131072)."),
    use_case: Optional[List[str]] = typer.Option(None, "--use-case", help="Only models for every one of these: chat, "
                                                 "code, reasoning, vision, embedding.", autocompletion=complete.use_cases),
    fits: Optional[str] = typer.Option(None, "--fits", help="Hardware (profile, '2x rtx4090', probe file, 'custom:...' spec sheet): best "
                                       "option per model.",
                                       autocompletion=complete.hardware),
    min_tps: Optional[float] = typer.Option(None, "--min-tps", help="With --fits: only options decoding this fast; exit 1 if no model does."),
    min_quant: Optional[str] = typer.Option(None, "--min-quant", help="With --fits: quality floor (default IQ3_M, 'any' for none), as fit."),
    context: str = typer.Option("8192", "--context", "-c", help="With --fits or --installed: context length (capped at each model's maximum with --fits)."),
    engine: str = typer.Option("llamacpp", "--engine", help="With --fits: llamacpp, ollama or vllm.",
                               autocompletion=complete.engines),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    installed: bool = typer.Option(False, "--installed", help="Ollama's installed models (OLLAMA_MODELS), each with its fit."),
    hardware: Optional[str] = typer.Option(None, "--hardware", "-H", help="With --installed: profile or probe JSON file (--fits names it otherwise).",
                                           autocompletion=complete.hardware),
    vram: Optional[str] = typer.Option(None, "--vram", help="Without --fits: what runs on a custom GPU of this memory "
                                       "(as --fits); with --installed: memory per GPU, e.g. 24GB."),
    ram: Optional[str] = typer.Option(None, "--ram", help="With --fits, --vram or --installed: host RAM, e.g. 64GB."),
    gpus: Optional[int] = typer.Option(None, "--gpus", help="With --fits, --vram or --installed: number of GPUs."),
    ubatch: Optional[int] = ubatch_option("With --fits or --vram: "),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """List the model catalog, searched and filtered (advisor models --search coder --use-case code), what runs on
    hardware (--fits, with the same filters), or what the local Ollama holds (--installed), each with its fit.
    Nothing matching is an empty list (exit 0), not a failed check."""
    quiet(quiet_flag)
    timestamp(timestamp_flag)
    if query is not None and search is not None:
        raise BadOptionError(f"search text given twice ({query!r} and --search {search!r})", "use one of them")
    search = search if search is not None else query
    if fits is not None and hardware is not None:
        raise BadOptionError(f"--fits {fits!r} and --hardware {hardware!r} both name the hardware", "use one of them")
    if fits is not None and vram is not None:
        raise BadOptionError(f"--vram and --fits {fits!r} both given", "--fits names hardware with its own memory: drop "
                             "--vram, or give --vram (and --gpus) without --fits for a custom GPU")
    if not installed and fits is None and vram is None:
        needs("--fits, --vram or --installed", hardware=hardware, ram=ram, gpus=gpus, min_tps=min_tps,
              min_quant=min_quant, ubatch=ubatch)
    filters = dict(family=family or None, license=license_ or None, min_context=min_context, use_case=use_case or None)
    if installed:
        from .cli_models import run_installed

        needs("--fits", min_tps=min_tps, min_quant=min_quant, ubatch=ubatch)
        return run_installed(hardware if hardware is not None else fits, vram, ram, gpus, context, as_json,
                             search=search, **filters)
    if fits is not None or vram is not None:  # --vram alone: a custom GPU, as `fit --vram`
        from .cli_plan import models_fits

        return models_fits(fits, min_tps, context, engine, as_json, search, vram=vram, ram=ram, gpus=gpus,
                           min_quant=min_quant, ubatch=ubatch, **filters)
    from .cli_models import run_list

    return run_list(search, as_json, **filters)


from .cli_probe import probe as _probe_command  # noqa: E402

app.command("probe", cls=Command, epilog=exit_codes(),
            short_help="What this machine has: GPUs, memory, bandwidth, CPU, RAM.")(_probe_command)

from .cli_cost import cost as _cost  # noqa: E402  (the command lives in its own module)
from .cli_plan import hardware as _hardware  # noqa: E402

app.command(name="cost", cls=Command, epilog=exit_codes("--require or --max-monthly-usd not met"),
            short_help="Self-host vs cloud API: monthly cost, break-even, a verdict.")(_cost)
app.command(name="hardware", cls=Command, epilog=exit_codes("--for with --min-tps or --max-price: no configuration meets them"),
            short_help="Hardware profiles: list, show one, rank them for a model.")(
    _hardware)

from .cli_serve import serve as _serve  # noqa: E402

app.command(name="serve", cls=Command, epilog=exit_codes("--max-ttft or --min-stream-tps not met (at each --concurrency level listed), or no fit"),
            short_help="Users one box serves: throughput, time to first token.")(_serve)
