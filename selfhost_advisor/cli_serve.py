"""`advisor serve`: parse options, call estimate.serving.serve, render text or JSON. No arithmetic here."""
from __future__ import annotations

from typing import List, Optional

import typer

from .cli_opts import emit_json, quiet, quiet_option, timestamp, timestamp_option, ubatch_option
from .errors import BadOptionError, CheckFailed

_MAX_CONCURRENCY = 100_000


def _levels(values: Optional[List[str]]) -> tuple[int, ...]:
    out: list[int] = []
    for item in values or []:
        for part in item.split(","):
            part = part.strip()
            try:  # ASCII only: int('٨') is 8, which the size and count parsers refuse; '1e12' is whole, only too big
                value = float(part) if part.isascii() and len(part) <= 400 else float("nan")
            except ValueError:
                value = float("nan")
            if not (value == value and abs(value) != float("inf") and value == int(value)):
                raise BadOptionError(f"--concurrency {part!r} is not a whole number", "e.g. --concurrency 1,8,32") from None
            if not 1 <= value <= _MAX_CONCURRENCY:
                raise BadOptionError(f"--concurrency {part} must be between 1 and {_MAX_CONCURRENCY:,}",
                                     "e.g. --concurrency 1,8,32")
            n = int(value)
            out.append(n)
    return tuple(sorted(set(out)))


def serve(
    model: str = typer.Argument(..., help="Model: catalog name, Ollama tag or Hub id (llama3.1:8b, Qwen/Qwen2.5-7B-Instruct)."),
    hardware: str = typer.Option(..., "--hardware", "-H", help="One box: a profile ('h100-sxm', '2x rtx4090'), a probe JSON file or a spec sheet "
                                  "('custom:vram=24GB, bandwidth=1TB/s, fp16=80TFLOPS')."),
    engine: Optional[str] = typer.Option(None, "--engine", help="Serving engine: vllm (paged KV, continuous batching), llamacpp (-np slots) or ollama. Default: vllm where the box has a discrete CUDA, ROCm or Intel GPU (or a GB10), else llamacpp (Apple, AMD APUs, CPU)."),
    quant: Optional[str] = typer.Option(None, "--quant", "-q", help="Weight format (vLLM: BF16, FP8, AWQ-INT4, GPTQ-INT4; llama.cpp: Q4_K_M ...). Default: the highest throughput that meets the targets."),
    prompt_tokens: int = typer.Option(1000, "--prompt-tokens", help="Prompt tokens of a typical request."),
    output_tokens: int = typer.Option(200, "--output-tokens", help="Output tokens of a typical request."),
    cached_prompt_tokens: int = typer.Option(0, "--cached-prompt-tokens", help="Tokens at the start of each prompt shared with earlier requests (system prompt, few-shot examples, a document), served from the engine's prefix cache: vLLM skips their prefill and holds their KV once; llama.cpp / Ollama reuse each slot's previous prompt (no KV saving). 0 to --prompt-tokens; default 0."),
    concurrency: Optional[List[str]] = typer.Option(None, "--concurrency", help="Concurrent requests to show (comma-separated, e.g. 1,8,32). Default: 1, 2, 4 ... up to the maximum. With --max-ttft or --min-stream-tps, a check: exit 1 if any level listed misses a target."),
    max_ttft: Optional[float] = typer.Option(None, "--max-ttft", help="Target: seconds to the first token at most; exit 1 if no concurrency meets it (with --concurrency: if a level listed misses it)."),
    min_stream_tps: Optional[float] = typer.Option(None, "--min-stream-tps", "--min-stream-speed", help="Target: output tokens/s each user gets at least; exit 1 if no concurrency meets it (with --concurrency: if a level listed misses it). Default: the floor cost sizes boxes at, 10, which shapes the recommended point but is no check; 0: no floor (as many users as the box runs). --min-stream-speed: cost's name for it."),
    gpu_memory_utilization: Optional[float] = typer.Option(None, "--gpu-memory-utilization", help="vLLM: share of each GPU's memory vLLM may use (default: the engine's, 0.92)."),
    kv_cache_memory_bytes: Optional[str] = typer.Option(None, "--kv-cache-memory-bytes", help="vLLM: a fixed KV pool per GPU (e.g. 20GiB); --gpu-memory-utilization is then ignored."),
    max_num_seqs: Optional[int] = typer.Option(None, "--max-num-seqs", help="vLLM: most sequences in one step (default: the engine's for this GPU)."),
    max_num_batched_tokens: Optional[int] = typer.Option(None, "--max-num-batched-tokens", help="vLLM: token budget of one step (default: the engine's for this GPU)."),
    kv_cache: Optional[str] = typer.Option(None, "--kv-cache", help="KV cache type: vLLM auto or fp8; llama.cpp f16, q8_0, q4_0."),
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Usable GPU memory of a unified-memory part, as fit: "
                                             "Apple with a raised iogpu.wired_limit_mb, an APU's carved VRAM + GTT."),
    enforce_eager: bool = typer.Option(False, "--enforce-eager", help="vLLM: no CUDA graphs (frees their memory; every step launches its kernels from the host)."),
    ubatch: Optional[int] = ubatch_option("Every slot shares one physical batch. "),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema docs/schema/serve.schema.json)."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """How many users one box serves for a request mix, and how fast: throughput, time to first token and per-user
    speed against concurrency, the peak, and the best point that meets --max-ttft / --min-stream-tps."""
    from .api import serve as api_serve

    quiet(quiet_flag)
    timestamp(timestamp_flag)
    report = api_serve(model, hardware, engine=engine, quant=quant, prompt_tokens=prompt_tokens,
                       output_tokens=output_tokens, concurrency=_levels(concurrency), max_ttft=max_ttft,
                       min_stream_tps=min_stream_tps, gpu_memory_utilization=gpu_memory_utilization,
                       max_num_seqs=max_num_seqs, max_num_batched_tokens=max_num_batched_tokens, kv_cache=kv_cache,
                       kv_cache_memory_bytes=kv_cache_memory_bytes, ubatch=ubatch, enforce_eager=enforce_eager,
                       gpu_memory=gpu_memory, cached_prompt_tokens=cached_prompt_tokens)
    if not report.fits and report.short_of == "speed":
        # no speed without the GPU's bandwidth and FLOPS (--vram, a hand-written probe file, a spec sheet without
        # them): missing input, exit 2; it was exit 1, 'check failed: the model does not fit, or its speed is
        # unknown', for a check nobody asked for (session 32)
        from .termsafe import clipped

        raise BadOptionError(f"serve needs the GPU's memory bandwidth and FP16 FLOPS, which hardware "
                             f"{clipped(report.machine.name)!r} does not give",
                             "name the GPU (--hardware 'rtx 4090'), give its spec sheet (--hardware "
                             "'custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS'), or add bandwidth_bytes_per_s and "
                             "fp16_flops to the probe file's device")
    if as_json:
        from .render.serve_json import serve_dict

        emit_json(serve_dict(report))
    elif not quiet():
        from .render.text_serve import render_serve

        render_serve(report)
    if not report.fits:
        raise CheckFailed(f"check failed: {report.reason}")
    if report.check is not None and not report.check.passed:
        from .render.text_serve import check_failed_line

        raise CheckFailed(check_failed_line(report))
    return 0
