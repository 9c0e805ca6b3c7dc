"""`advisor cost`: parse options, call cost.compare, render text or JSON. No arithmetic here."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import cli_complete as complete
from .cli_opts import emit_json, quiet, quiet_option, timestamp, timestamp_option
from .errors import BadOptionError, CheckFailed


def cost(
    monthly_tokens: str = typer.Option(..., "--monthly-tokens", "-t", help="Tokens a month, input + output: 2e9, 500M, 1.5B."),
    model: str = typer.Option("llama3.1:70b", "--model", "-m", help="The open-weight model you would self-host.",
                              autocompletion=complete.models),
    hardware: Optional[List[str]] = typer.Option(
        None, "--hardware", "-H", help="Boxes to price (repeat or comma-separate): rtx4090, '2x rtx4090', a100-80gb, a spec "
        "sheet with its price ('custom:vram=24GB, bandwidth=1TB/s, fp16=80TFLOPS, price=1500'). "
        "Default: a spread from consumer to data-centre GPUs.", autocompletion=complete.hardware),
    cloud: Optional[List[str]] = typer.Option(
        None, "--cloud", help="APIs to compare (comma-separated): gpt-4o-mini, claude-haiku, openai:gpt-5.4 ... "
        "Default: a frontier model, a mid-tier model and hosted endpoints of the same open model.",
        autocompletion=complete.cloud),
    prompt_tokens: Optional[float] = typer.Option(None, "--prompt-tokens", help="Prompt tokens of a typical request (default 1500)."),
    output_tokens: Optional[float] = typer.Option(None, "--output-tokens", help="Output tokens of a typical request (default 500; the monthly split follows)."),
    output_share: Optional[float] = typer.Option(None, "--output-share", help="Old way to give the split: share of tokens that are output (sets --output-tokens from --prompt-tokens)."),
    peak_to_average: Optional[float] = typer.Option(None, "--peak-to-average", help="Busiest hour / average active hour (default 2)."),
    active_hours: Optional[float] = typer.Option(None, "--active-hours", help="Hours a month traffic arrives (default 176 = 8 h x 22 days; 730 = always)."),
    context: Optional[str] = typer.Option(None, "--context", "-c", help="Longest sequence the server admits (default 8192; capacity uses the request mix)."),
    min_stream_speed: Optional[float] = typer.Option(None, "--min-stream-speed", "--min-stream-tps", help="Decode tokens/s each user must get (default 10): caps the batch (--min-stream-tps: serve's name for it)."),
    max_ttft: Optional[float] = typer.Option(None, "--max-ttft", help="Time to first token target, seconds: caps the batch."),
    request_tokens: Optional[float] = typer.Option(None, "--request-tokens", help="Old name of --prompt-tokens."),
    cached_input_share: Optional[float] = typer.Option(None, "--cached-input-share", help="Share of API input tokens billed at the cached-input price (0-1, default 0)."),
    cache_write_share: Optional[float] = typer.Option(None, "--cache-write-share", help="Share of API input tokens written to the prompt cache, billed at the provider's write price (0-1, default 0; Anthropic charges 1.25x input)."),
    cached_prompt_tokens: Optional[int] = typer.Option(None, "--cached-prompt-tokens", help="Tokens at the start of each prompt shared with earlier requests (system prompt, few-shot examples, a document), served from the self-hosted engine's prefix cache: less prefill per request, and with vLLM more requests fit the KV pool (0 to --prompt-tokens, default 0; as serve). The APIs' cached input is --cached-input-share."),
    batch_share: Optional[float] = typer.Option(None, "--batch-share", help="Share of API requests sent through a batch API (0-1, default 0)."),
    electricity: Optional[float] = typer.Option(None, "--electricity", help="USD per kWh (default 0.13, US commercial)."),
    pue: Optional[float] = typer.Option(None, "--pue", help="Power usage effectiveness (default 1.56; 1.0 for an office box)."),
    amortize_months: Optional[float] = typer.Option(None, "--amortization-months", "--amortize-months", help="Months to write the hardware off over (default 36; --amortize-months is the old spelling)."),
    residual_value: Optional[float] = typer.Option(None, "--residual-value", help="Share of the hardware price recovered by resale at the end of the amortization (0-1, default 0: written off to zero)."),
    cost_of_capital: Optional[float] = typer.Option(None, "--cost-of-capital", help="Annual rate the money spent on hardware costs: a loan's rate or your cost of capital (default 0: straight-line, no financing charge)."),
    space_per_box: Optional[float] = typer.Option(None, "--space-per-box", help="USD a month per owned box for rack space or colocation (default 0: space you already have)."),
    ops_hours: Optional[float] = typer.Option(None, "--ops-hours", help="Engineer-hours a month for the deployment, whatever its size (default 8)."),
    ops_hours_per_box: Optional[float] = typer.Option(None, "--ops-hours-per-box", help="Engineer-hours a month per box, on top of --ops-hours (default 1.7)."),
    spare: Optional[int] = typer.Option(None, "--spare", help="Owned boxes kept beyond the peak (default 0; 1 = N+1)."),
    gpu_price: Optional[float] = typer.Option(None, "--gpu-price", help="USD per GPU you would pay (with one --hardware)."),
    host_price: Optional[float] = typer.Option(None, "--host-price", help="USD for the rest of one box (with one --hardware)."),
    rent_price: Optional[float] = typer.Option(None, "--rent-price", help="USD per GPU-hour to rent (with one --hardware; default: market median)."),
    gpu_memory: Optional[str] = typer.Option(None, "--gpu-memory", help="Usable GPU memory of a unified-memory part (with one --hardware), as fit: "
                                             "Apple with a raised iogpu.wired_limit_mb, an APU's carved VRAM + GTT."),
    price_date: Optional[str] = typer.Option(None, "--price-date", help="Price the APIs on this date, YYYY-MM-DD (default today)."),
    ops_rate: Optional[float] = typer.Option(None, "--ops-rate", help="USD per engineer-hour, loaded (default 90)."),
    no_ops_team: bool = typer.Option(False, "--no-ops-team", help="No ML operations staff: weighs toward the API."),
    regulated: Optional[str] = typer.Option(None, "--regulated", help="Regulated data: hipaa, gdpr, finance or legal (public APIs excluded)."),
    air_gapped: bool = typer.Option(False, "--air-gapped", help="No network to the outside: APIs and rented GPUs excluded."),
    need_frontier: bool = typer.Option(False, "--need-frontier", help="The task needs frontier quality the open model lacks."),
    price_in: Optional[float] = typer.Option(None, "--price-in", help="Your contract's input price, USD per million tokens."),
    price_out: Optional[float] = typer.Option(None, "--price-out", help="Your contract's output price, USD per million tokens."),
    engine: Optional[str] = typer.Option(None, "--engine", help="Serving engine for capacity: vllm, llamacpp or ollama. "
                                         "Default: vllm, or llamacpp when no box has a discrete CUDA, ROCm or Intel "
                                         "GPU (Apple, AMD APUs), as serve.",
                               autocompletion=complete.engines),
    quant: Optional[str] = typer.Option(None, "--quant", "-q", help="Weight format served (vLLM: BF16, FP8, AWQ-INT4, GPTQ-INT4, MXFP4 for gpt-oss; llamacpp / ollama: a GGUF type such as Q4_K_M; default: best quality that fits)."),
    min_quant: Optional[str] = typer.Option(None, "--min-quant", help="Quality floor: the lowest weight format a self-hosted box may serve (BF16, FP8, AWQ-INT4, a GGUF type; default api = what the compared API serves; any = none). A box that needs a lossier format is re-planned with more GPUs or excluded."),
    decode_tps: Optional[float] = typer.Option(None, "--decode-tps", help="Measured aggregate decode tokens/s of one box (with one --hardware)."),
    prefill_tps: Optional[float] = typer.Option(None, "--prefill-tps", help="Measured prefill tokens/s of one box (with --decode-tps)."),
    max_monthly_usd: Optional[float] = typer.Option(None, "--max-monthly-usd", help="Exit 1 if the recommended option costs more a month."),
    require: Optional[str] = typer.Option(None, "--require", help="Exit 1 unless the verdict is this: self-host, hybrid or cloud."),
    chart: Optional[str] = typer.Option(None, "--chart", help="Also write the cost-vs-volume chart to FILE.svg."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (schema docs/schema/cost.schema.json)."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """Self-host vs cloud API: monthly cost, break-even volume, payback, and a recommendation with reasons."""
    from .cost.run import build_comparison

    quiet(quiet_flag)
    timestamp(timestamp_flag)
    from .termsafe import folded

    require = folded(require) if require else require
    if require and require not in ("self-host", "hybrid", "cloud"):
        raise BadOptionError(f"--require {require!r} is not self-host, hybrid or cloud", "e.g. --require self-host")
    if chart and not chart.lower().endswith(".svg"):
        raise BadOptionError(f"--chart {chart!r}: only SVG is supported", "give a file name ending in .svg")
    if chart:
        from .safefile import check_writable

        check_writable(chart, "--chart")  # a FIFO, directory or device: refused before any output
    if max_monthly_usd is not None and not max_monthly_usd >= 0:
        raise BadOptionError(f"--max-monthly-usd {max_monthly_usd!r} must be a non-negative amount", "e.g. 5000")
    result = build_comparison(
        monthly_tokens, model=model, hardware=hardware, cloud=cloud, prompt_tokens=prompt_tokens,
        output_tokens=output_tokens, output_share=output_share, peak_to_average=peak_to_average,
        active_hours=active_hours, context=context, min_stream_speed=min_stream_speed, max_ttft=max_ttft,
        request_tokens=request_tokens, cached_input_share=cached_input_share, batch_share=batch_share,
        cache_write_share=cache_write_share, cached_prompt_tokens=cached_prompt_tokens,
        electricity=electricity, pue=pue, amortize_months=amortize_months, ops_hours=ops_hours,
        ops_hours_per_box=ops_hours_per_box, spare=spare, gpu_price=gpu_price, host_price=host_price,
        rent_price=rent_price, price_date=price_date, ops_rate=ops_rate, no_ops_team=no_ops_team,
        regulated=regulated, air_gapped=air_gapped, need_frontier=need_frontier, price_in=price_in,
        price_out=price_out, engine=engine, quant=quant, decode_tps=decode_tps, prefill_tps=prefill_tps,
        min_quant=min_quant, residual_value=residual_value, cost_of_capital=cost_of_capital,
        space_per_box=space_per_box, gpu_memory=gpu_memory)
    if as_json:
        from .render.cost_json import cost_dict

        emit_json(cost_dict(result))
    elif not quiet():
        from .render.text_cost import render_cost

        render_cost(result)
    if chart:
        from .render.text_cost import write_chart_svg

        write_chart_svg(result, chart)
    rec = result.recommendation
    if require and rec.choice != require:
        raise CheckFailed(f"check failed: --require {require}, the verdict is {rec.choice}")
    if max_monthly_usd is not None:
        from .cost.compare import recommended_monthly_usd

        spend = recommended_monthly_usd(result)
        if spend is not None and spend > max_monthly_usd:
            raise CheckFailed(f"check failed: --max-monthly-usd {max_monthly_usd:g}, the recommended option costs "
                              f"${spend:,.0f}/month")
    return 0
