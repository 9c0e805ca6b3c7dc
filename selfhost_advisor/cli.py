"""The `advisor` command line: parse options, call one core function, render text or JSON.

No arithmetic here. Exit codes (errors.ExitCode): 0 ok, 1 a requested check failed, 2 bad input or environment,
3 internal error (a bug, caught by main's top-level guard);
each command's --help ends with the checks that can give 1 (docs/cli.md lists them all).
--quiet prints nothing on stdout in text mode and no line for a failed check: the exit code is the answer;
--json output and exit-2 error lines are still printed. Tests call `main(argv)`; only `run()` calls sys.exit.
"""
from __future__ import annotations

import copy
import os
import sys
import traceback
from typing import List, Optional

try:  # Ctrl-C while these load (the first ~0.2 s of every command) was a KeyboardInterrupt traceback
    import typer

    from . import cli_complete as complete
    from ._compat import ABORT_ERRORS, EXIT_ERRORS, NO_ARGS_ERRORS, USAGE_ERRORS
    from .cli_opts import QUIET_HELP, TIMESTAMP_HELP, Command, emit_json, exit_codes, harden, needs, quiet, quiet_option, timestamp, timestamp_option
    from .cli_opts import ubatch_option
    from .cli_opts import state as _state
    from .errors import AdvisorError, BadOptionError, CheckFailed, ExitCode
    from .termsafe import plain
except KeyboardInterrupt:  # 130 = 128 + SIGINT, as probe --measure exits when interrupted; nothing was done
    sys.stderr.write("advisor: interrupted\n")
    raise SystemExit(130) from None

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
    context: Optional[str] = typer.Option(None, "--context", "-c", help="Context length in tokens: 8192, 32k or max. "
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

app.command(name="serve", cls=Command, epilog=exit_codes("--max-ttft or --min-stream-tps not met, or no fit"),
            short_help="Users one box serves: throughput, time to first token.")(_serve)


_ROOT_FLAGS = ("--debug", "--quiet", "--timestamp")


def _command_name(info: typer.models.CommandInfo) -> str:
    return info.name or info.callback.__name__.lower().replace("_", "-")  # typer's own rule (get_command_name)


def app_for(args: list[str]) -> typer.Typer:
    """The app to run for argv: only the command it names, when it names one.

    Why: typer builds the click parameters of every registered command on each run (5 ms for our five, a tenth of
    `fit --json`'s own time; issue 8). A command's parsing, help and errors do not depend on its siblings, so
    `advisor [--debug] [--quiet] [--timestamp] <command> ...` gets an app holding that command alone; anything else (root help,
    completion, a misspelt command, which should list its neighbours) gets the full app.
    tests/test_cli_contract.py checks every command's parameters and help are the same either way.
    """
    i = 0
    while i < len(args) and args[i] in _ROOT_FLAGS:
        i += 1
    if i == len(args) or any(k.endswith("_COMPLETE") for k in os.environ):
        return app
    matches = [c for c in app.registered_commands if _command_name(c) == args[i]]
    if len(matches) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = matches
    return one


_BUILT: dict[tuple[int, ...], object] = {}


def click_command(chosen: typer.Typer):  # noqa: ANN201 - typer's click group
    """typer's click command for `chosen` (hardened: cli_opts.harden), built once per set of registered commands.

    Why: building it (typer reads every callback's signature and makes its click parameters) is the same work each
    time, and main() runs many times in one process where tests and the library call it: ~4% of the test suite's CPU
    time was typer rebuilding the same group. A process running `advisor` builds it once either way. The key is the
    identity of the registered CommandInfo records (kept by `app` for the life of the process), so app_for's
    one-command app and the full app each get their own, and a command registered later gets a fresh build."""
    key = tuple(id(c) for c in chosen.registered_commands) + tuple(id(g) for g in chosen.registered_groups)
    command = _BUILT.get(key)
    if command is None:
        command = _BUILT[key] = typer.main.get_command(chosen)
        harden(command)
    return command


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI; return the exit code instead of exiting (tests call this).

    The one top-level guard: an AdvisorError is its one line and exit code (2, or 1 for a failed check); a closed
    pipe is a quiet 0; stdout that cannot be written is exit 2; anything else is a bug, reported in one line with
    exit 3 (--debug adds the traceback), never 0 or 1, the codes scripts read as answers.
    """
    from .streams import GuardedStdout, OutputError, PipeClosed, silence_stdout, stdout_is_closed, write_err

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _state.update(debug=False, quiet=False, timestamp=False, wide=False)  # module state: reset for each call (tests call main repeatedly)
    if stdout_is_closed():
        write_err("advisor: cannot write the output: stdout is closed; run it with stdout open (or > /dev/null)\n")
        return int(ExitCode.BAD_INPUT)
    from .termsafe import drop_unreadable_terminal_sizes

    drop_unreadable_terminal_sizes(os.environ)  # COLUMNS=²: rich's int() would be exit 3 before any output
    if os.environ.get("_ADVISOR_COMPLETE"):
        problem = complete.request_problem(os.environ)
        if problem:
            write_err(f"advisor: {plain(problem)}\n")
            return int(ExitCode.BAD_INPUT)
    real_stdout = sys.stdout
    sys.stdout = GuardedStdout(real_stdout)
    try:
        command = click_command(app_for(args))
        rv = command.main(args=args, prog_name="advisor", standalone_mode=False)
        sys.stdout.flush()
        return int(rv or 0) if isinstance(rv, int) else 0
    except (PipeClosed, BrokenPipeError):  # `advisor ... | head -1`: the reader has what it wanted
        silence_stdout()
        return 0
    except AdvisorError as err:
        if isinstance(err, OutputError):
            silence_stdout()
        if debug and not isinstance(err, CheckFailed):
            write_err(traceback.format_exc())
        if not (isinstance(err, CheckFailed) and _state["quiet"]):
            write_err(f"advisor: {plain(clip_args(str(err), args))}\n")
        return int(err.exit_code)
    except NO_ARGS_ERRORS as err:  # bare `advisor`: the help as click formats it, not flattened into one line
        write_err(err.format_message().rstrip("\n") + "\n")
        return int(ExitCode.BAD_INPUT)
    except USAGE_ERRORS as err:
        # One line, like AdvisorError: click's own usage text is several lines.
        ctx = getattr(err, "ctx", None)
        where = ctx.command_path if ctx is not None and ctx.command_path else "advisor"
        named = [a for a in args if a not in _ROOT_FLAGS][:1]
        if where == "advisor" and named and any(_command_name(c) == named[0] for c in app.registered_commands):
            where = f"advisor {named[0]}"  # 'fit --context' with no value pointed at the root help
        msg = " ".join(plain(clip_args(err.format_message(), args)).split()).rstrip(".")
        write_err(f"advisor: {msg}{' ' if msg.endswith('?') else '; '}see '{where} --help'\n")
        return int(ExitCode.BAD_INPUT)
    except ABORT_ERRORS:
        write_err("advisor: aborted\n")
        return int(ExitCode.BAD_INPUT)
    except EXIT_ERRORS as exc:
        return int(exc.exit_code or 0)
    except Exception as exc:  # noqa: BLE001 - the top-level guard: a bug, never a traceback by default
        if debug:
            write_err(traceback.format_exc())
        write_err(f"advisor: internal error: {internal_summary(exc)}; this is a bug: please report it with the "
                  f"command line{'' if debug else ' and the output of the same command with --debug'}\n")
        return int(ExitCode.INTERNAL)
    finally:
        if isinstance(sys.stdout, GuardedStdout):
            sys.stdout = real_stdout


def clip_args(message: str, args: list[str]) -> str:
    """`message` with every long command-line value it quotes cut to 60 characters (termsafe.clipped): a 20,000-character
    --quant or model name came back whole in the one-line error of each of some 36 options. A value with a control
    character is quoted escaped (!r writes ESC as '\\x1b'), so its escaped forms are looked for too (session 20: a
    5,000-character model name with an escape sequence was quoted whole)."""
    from .termsafe import clipped, plain

    for arg in sorted({a for a in args if len(a) > 120}, key=len, reverse=True):
        for form in dict.fromkeys(f for text in (arg, arg.strip(), arg.lower(), arg.strip().lower())
                                  for f in (text, repr(text)[1:-1], plain(text))):
            if len(form) > 120 and form in message:
                message = message.replace(form, clipped(form))
    return message


def internal_summary(exc: BaseException) -> str:
    """'TypeError: ...' in one safe line of at most about 200 characters."""
    text = " ".join(plain(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__).split())
    return text if len(text) <= 200 else text[:197] + "..."


def run() -> None:
    """The `advisor` entry point: main() in a process that is about to end, so its garbage collector stays off.

    Why (issue 19, start-up): a command allocates many small objects and frees them by reference counting; the
    cycle collector's passes over them, and the interpreter's collections at shutdown over everything the command
    left, were ~12 ms of `fit --json`'s ~35 ms over `import typer` (the shutdown part ~8 ms). Collection is off while
    the command runs (a command makes no cycles worth collecting before exit) and what is left is frozen before
    exiting, so shutdown skips it; exiting is otherwise unchanged (flushes, atexit handlers). Tests and the library
    call main() and the API, which leave the collector alone."""
    import gc

    gc.disable()
    code = main()
    gc.freeze()
    sys.exit(code)
