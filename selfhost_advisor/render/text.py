"""Terminal output with rich (imported here only, never on the --json path)."""
from __future__ import annotations

import os

from ..domain import FitOption, FitResult, Model, ParamCounts
from ..estimate.speed import KERNEL_BOUND
from ..units import gb, tok_rate
from ..termsafe import markup as esc
from .table import TABLE_STYLE, show

# fit's columns, least important first: hidden in this order when the table does not fit (render/table.py)
FIT_DROP = ("overhead", "bits/w", "prefill tok/s", "KV cache", "weights", "loss")
_FIT_STYLE = {"gpu": "bold green", "partial": "yellow", "cpu": "cyan", "no": "red"}


def console():
    """The console for text output: the terminal's width when known (COLUMNS, or stdout's, stdin's or stderr's
    terminal, as rich finds it), else 80; tables fit it through render/table.show, never cut."""
    # NO_COLOR (https://no-color.org: set and not empty): no escape codes at all. rich's own no_color drops colours
    # but still writes bold/reverse codes to a terminal; color_system=None writes plain text.
    # Off a terminal rich writes plain text unless FORCE_COLOR asks otherwise.
    no_color = bool(os.environ.get("NO_COLOR"))
    con = _console_class()(no_color=no_color, color_system=None if no_color else "auto", highlight=False,
                           soft_wrap=False, width=_columns_cap(), emoji=False)
    from ..limits import MIN_COLUMNS

    if con.width < MIN_COLUMNS:  # COLUMNS=1 drew one character a line (audit33b): the terminal wraps a floor's lines
        con.width = MIN_COLUMNS
    return con


def _columns_cap() -> int | None:
    """MAX_COLUMNS when COLUMNS asks for more (rich would overflow on COLUMNS=10^20), else None: rich decides."""
    from ..limits import MAX_COLUMNS

    cols = os.environ.get("COLUMNS", "")
    return MAX_COLUMNS if cols.isdecimal() and (len(cols) > 6 or int(cols) > MAX_COLUMNS) else None


_CONSOLE = None


def _console_class():
    """rich's Console, except that a closed pipe raises streams.PipeClosed (cli.main exits 0 quietly) where rich would
    exit 1, the code scripts read as a failed check."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        class PipeConsole(Console):
            def on_broken_pipe(self) -> None:
                from ..streams import PipeClosed

                raise PipeClosed()

        _CONSOLE = PipeConsole
    return _CONSOLE


def _params(n: int) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"


def _fit_cell(opt: FitOption) -> str:
    pl = opt.placement
    if pl.fit == "partial" and pl.cpu_moe_layers:
        text = f"experts {pl.cpu_moe_layers}/{pl.total_layers - 1} in RAM"
    elif pl.fit == "partial":
        text = f"partial {pl.gpu_layers}/{pl.total_layers}"
    elif pl.fit == "no" and pl.unsupported:  # the engine does not run it here (vLLM on a Mac, GPTQ on Intel's XPU):
        text = "not run"  # no memory figure is short of anything (session 33: it read 'no (-16.1 GB)' on a 128 GB Mac)
    elif pl.fit == "no":
        text = f"no (-{gb(pl.missing_bytes)})"
    else:
        text = pl.fit
    return f"[{_FIT_STYLE[pl.fit]}]{text}[/]"


def model_line(m: Model, counts: ParamCounts) -> str:
    bits = [f"{_params(counts.total)} params"]
    if m.moe:
        bits.append(f"{_params(counts.active)} active ({m.moe.active} of {m.moe.experts} experts)")
    bits.append(f"{m.n_layers} layers")
    if m.mla:
        bits.append(f"MLA kv_lora {m.mla.kv_lora_rank}")
    else:
        bits.append(f"{m.n_heads} heads / {m.n_kv_heads} KV heads x {m.head_dim}")
        if m.global_head_dim:  # Gemma 4: the full-attention layers' own KV heads and head size
            bits.append(f"full layers {m.global_kv_heads or m.n_kv_heads} KV heads x {m.global_head_dim}")
    if m.sliding_window:
        bits.append(f"sliding window {m.sliding_window}")
    return f"{esc(m.name)} ({esc(m.id)}): " + ", ".join(bits)


def usable_lines(hw) -> list[str]:
    """'48.0 GB of 64.0 GB: Metal working-set limit 75% ...' once per distinct GPU whose usable memory is not all of it
    (unified memory, --gpu-memory, --memory free): where the figure that decides the fit comes from."""
    out: list[str] = []
    for d in hw.devices:
        stated = d.stated_usable_memory
        if stated is None or stated[0] == d.memory_bytes:
            continue
        line = f"{gb(stated[0])} of {gb(d.memory_bytes)}: {esc(stated[1])}"
        if line not in out:
            out.append(line)
    return out


def _intel_vulkan(d) -> str:
    """' (Vulkan, Mesa ANV)' after an Intel GPU under Vulkan: its driver sets decode speed (estimate/vulkan_intel.py);
    ' (Vulkan)' after another vendor's ('rx 7900 xtx vulkan' printed as ROCm's did, at other speeds)."""
    if d.backend != "vulkan":
        if d.backend == "sycl" and d.sycl_build:  # 'arc b580 sycl fp32' or a file's sycl_build: its GGML_SYCL_F16
            return f" (SYCL, {d.sycl_build.upper()} build)"
        return {"sycl": " (SYCL)", "rocm": " (ROCm)"}.get(d.backend_word, "")
    if d.vendor == "amd":  # its driver picks matmul tiles (estimate/vulkan_amd.py); these read back as the same words
        return {"radv": " (Vulkan, RADV)", "amdvlk": " (Vulkan, AMDVLK)",
                "windows": " (Vulkan, Windows driver)"}.get(d.vulkan_driver, " (Vulkan)")
    if d.vendor != "intel":
        return " (Vulkan)"
    return {"mesa": " (Vulkan, Mesa ANV)", "windows": " (Vulkan, Windows driver)"}.get(d.vulkan_driver, " (Vulkan)")


def render_fit(r: FitResult, file=None) -> None:
    from rich.table import Table

    con = console() if file is None else _file_console(file)
    m, hw = r.model, r.machine
    counts: dict[str, int] = {}
    for d in hw.devices:  # in order; mixed GPUs ('rtx4090+rtx3090') list each model with its own count
        name = esc(d.name) + _intel_vulkan(d)
        counts[name] = counts.get(name, 0) + 1
    devices = " + ".join(f"{c}x {name}" if c > 1 else name for name, c in counts.items()) or "no GPU"
    from .table import label_line

    label_line(con, "Model", model_line(m, r.params), 9)
    bare = devices
    for d in hw.devices:  # a spec sheet's name is its card's: said once
        bare = bare.replace(esc(d.name) + _intel_vulkan(d), esc(d.name))
    hw_line = devices if esc(hw.name) in (devices, bare) else f"{esc(hw.name)}: {devices}"
    if hw.ram_source == "free" and hw.available_ram_bytes:
        hw_line += f", RAM {gb(hw.available_ram_bytes)} available now (--memory free)"
    elif hw.ram_bytes:
        hw_line += f", RAM {gb(hw.ram_bytes)}"
    label_line(con, "Hardware", hw_line, 9)
    for line in usable_lines(hw):
        label_line(con, "Usable", line, 9)
    capped = " (the model's maximum)" if r.assumptions.get("context_source") == "default, the model's maximum" else ""
    from ..engines import get_engine
    kv = get_engine(r.request.engine).kv_cache_label(r.request.kv_cache_type)
    label_line(
        con, "Run", f"{r.request.engine}, context {r.request.context:,} tokens{capped}, KV cache "
        f"{kv}, flash attention {'on' if r.request.flash_attention else 'off'}"
        + (f", micro-batch {r.request.n_ubatch:,} (--ubatch)" if r.request.n_ubatch_given else ""), 9)
    dq = r.assumptions.get("ollama_default_quant")
    if dq:  # a bare family name: the quantization `ollama pull` fetches (data/ollama_default_quants.yaml)
        how = ": the rows below (--quant for others)" if dq["applied"] else "; the rows below are what --quant or the engine asked"
        label_line(con, "Default", f"{esc(dq['tag'])} is {dq['quant']} in Ollama's library{how}; source in --json", 9)
    vision = r.assumptions.get("projector")
    if vision:  # a vision model: what its tower costs here, and one image's tokens
        tokens = r.assumptions.get("image_tokens")
        con.print(f"[bold]Vision[/]   {esc(vision)}" + (f"; one image: {tokens:,} tokens" if tokens else ""))
    has_speed = any(o.speed and o.speed.decode_tokens_per_s for o in r.options)
    table = Table(**TABLE_STYLE)
    from ..estimate.quality import label

    for col, justify in (("quant", "left"), ("bits/w", "right"), ("loss", "right"), ("weights", "right"),
                         ("KV cache", "right"), ("overhead", "right"), ("total", "right"), ("fit", "left")):
        table.add_column(col, justify=justify, no_wrap=True)
    streams = any(o.max_concurrency is not None for o in r.options)  # engines with a KV pool report streams
    if has_speed:
        table.add_column("decode tok/s (band)", justify="right", no_wrap=True)
        table.add_column("prefill tok/s", justify="right", no_wrap=True)
    if streams:
        table.add_column("streams", justify="right", no_wrap=True)
    embedding = "embedding" in m.use_cases  # a causal LM's perplexity says nothing about embedding quality

    def loss_cell(name: str) -> str:
        return "-" if embedding else label(name)

    for o in r.options:
        mem = o.memory
        name = o.quant.name
        if name == r.recommended:
            name = f"[reverse bold]{name} *[/]"
        row = [name, f"{mem.bits_per_weight:.2f}", loss_cell(o.quant.name), gb(mem.weights_bytes), gb(mem.kv_cache_bytes),
               gb(mem.overhead_bytes), gb(mem.total_bytes), _fit_cell(o)]
        if has_speed:
            sp = o.speed
            if sp and sp.decode_tokens_per_s:
                f = ".1f" if sp.decode_tokens_per_s < 10 else ".0f"
                row.append(f"{tok_rate(sp.decode_tokens_per_s)} ({tok_rate(sp.decode_low, f)}-{tok_rate(sp.decode_high, f)})")
                row.append(tok_rate(sp.prefill_tokens_per_s, ".0f") if sp.prefill_tokens_per_s else "-")
            else:
                row += ["-", "-"]
        if streams:
            row.append(str(o.max_concurrency or 0))
        table.add_row(*row)
    show(con, table, drop=FIT_DROP)
    tier = r.assumptions.get("recommended_tier")
    if r.recommended:
        why = r.pick.reason() if r.pick is not None else tier  # estimate/select.py: which step decided
        con.print(f"[bold]Recommended:[/] {r.recommended} ({why}). GB = 10^9 bytes.")
        cmd = next((o.command for o in r.options if o.quant.name == r.recommended and o.command), "")
        if cmd:
            from rich.markup import escape

            con.print(f"[bold]Command:[/] {escape(''.join(c if c.isprintable() else '?' for c in cmd))}", soft_wrap=True)
        log = next((o.engine_log for o in r.options if o.quant.name == r.recommended and o.engine_log), ())
        if log:  # the engine's own figures for the same option, to check the estimate on the real start-up
            con.print(f"[bold]Its log should show:[/] {escape('; '.join(log))}", soft_wrap=True)
    elif any(o.placement.fit != "no" for o in r.options):
        floor = r.assumptions.get("min_quant")
        con.print(f"[bold red]Nothing at the quality floor {floor} or better fits.[/] "
                  f"Only quantizations that lose more do (see the note; --min-quant any allows them).")
    elif r.options and all(o.placement.unsupported for o in r.options):
        # vLLM on a Mac or a CPU-only box: 'Nothing fits. Smallest option AWQ-INT4 needs 6.8 GB, 5.7 GB short' read as
        # a memory shortfall where 115 GB were usable (session 33); the note below says why the engine does not run
        con.print("[bold red]Nothing runs here.[/] The engine does not run on this hardware (see the note).")
    else:
        smallest = min(r.options, key=lambda o: o.memory.total_bytes)
        con.print(
            f"[bold red]Nothing fits.[/] Smallest option {smallest.quant.name} needs {gb(smallest.memory.total_bytes)}"
            f", {gb(smallest.placement.missing_bytes)} short."
        )
    if embedding:
        con.print("loss: not shown for an embedding model (the measured losses are a chat model's perplexity, not "
                  "retrieval quality)")
    elif any(label(o.quant.name) != "-" for o in r.options):
        floor = r.assumptions.get("min_quant")
        con.print("loss: perplexity increase vs 16-bit measured on Llama 3 8B (llama.cpp scoreboard; KL divergence in "
                  f"--json); ! = 3 bits or less. Quality floor: {floor or 'none'} (--min-quant).")
    gate = r.gate
    if gate is not None and gate.passed:
        flags = " ".join(f for f in (f"--require-fit {gate.require_fit}" if gate.require_fit else "",
                                     f"--min-tps {gate.min_tps:g}" if gate.min_tps is not None else "") if f)
        o = gate.option
        tps = o.speed.decode_tokens_per_s if o.speed and o.speed.decode_tokens_per_s else None
        speed = f", {tok_rate(tps)} tokens/s" if tps else ""
        con.print(f"[bold]Check:[/] {flags} met by {o.quant.name} ({o.placement.fit}{speed}).")
    if has_speed:
        depth = r.assumptions.get("decode_depth_tokens", 0)
        from ..engines import get_engine

        con.print(f"Speeds: single stream, decode with {depth:,} tokens cached (half the context); "
                  f"{get_engine(r.request.engine).band_note}.")
    else:
        why = next((o.speed.note for o in r.options if o.speed and o.speed.note.startswith("no speed")), "")
        if why:
            con.print(f"[yellow]note:[/] {why}")
    if streams:
        con.print("streams: sequences of the full context that vLLM's KV pool holds at once (its 'maximum concurrency').")
    if any(o.placement.fit in ("cpu", "partial") for o in r.options) and r.assumptions.get("host_speed"):
        hs = r.assumptions["host_speed"]
        rate = (f"{hs['cpu_threads']} threads x {hs['cpu_clock_hz'] / 1e9:.2f} GHz" if hs.get("cpu_clock_hz")
                else f"{hs['cpu_flops'] / 1e9:,.0f} GFLOPS")
        con.print(f"Host (CPU layers): {hs['ram_bandwidth_bytes_per_s'] / 1e9:.1f} GB/s RAM, {rate}; {hs['source']}")
    bound = [o.quant.name for o in r.options if o.speed and o.speed.kernel_share >= KERNEL_BOUND]
    if bound:
        con.print(f"[yellow]note:[/] decode of {', '.join(bound)} here is kernel-bound: llama.cpp's mat-vec kernels "
                  "unpack those weights slower than this memory delivers them (measured; docs/methodology.md §5)")
    # llama-server's host sampling, where it costs the recommended option a tenth of a token or more (server_host.py)
    served = [o for o in r.options if o.quant.name == r.recommended and o.speed and o.speed.served_decode_tokens_per_s
              and o.speed.decode_tokens_per_s and o.speed.served_decode_tokens_per_s < 0.9 * o.speed.decode_tokens_per_s]
    if served:
        sp = served[0].speed
        ms = (1 / sp.served_decode_tokens_per_s - 1 / sp.decode_tokens_per_s) * 1e3
        con.print(f"[yellow]note:[/] llama-server also samples every token on the CPU over the {r.model.vocab_size:,}-token "
                  f"vocabulary (~{ms:.1f} ms), which llama-bench does not: {served[0].quant.name} serves "
                  f"~{sp.served_decode_tokens_per_s:.0f} tokens/s (--json served_decode_tokens_per_s; docs/methodology.md 5-dcfloor)")
    # the speed notes that qualify a prefill figure (a GTX 16 without tensor cores, CDNA 4 unvalidated), once each
    caveats = dict.fromkeys(c for o in r.options if o.speed for c in o.speed.caveats)
    for part in caveats:
        con.print(f"[yellow]note:[/] {esc(part)}")
    for w in r.warnings:
        con.print(f"[yellow]note:[/] {esc(w)}")
    for o in r.options[:1]:
        if o.placement.note:
            con.print(f"[yellow]note:[/] {esc(o.placement.note)}")


def _file_console(file):
    from rich.console import Console

    return Console(file=file, no_color=True, width=160, emoji=False)


def filter_words(f) -> str:
    """"matching 'coder', license mit, context >= 131,072" for a catalog.search.ModelFilter ("" for none)."""
    if f is None:
        return ""
    from ..termsafe import clipped

    # clipped: a 10,000-character --search was echoed whole on the summary line (audit34b); --json keeps it whole
    asked = [f"matching {clipped(f.search)!r}"] if f.search else []
    asked += [f"{k} {','.join(v)}" for k, v in (("family", f.families), ("license", f.licenses),
                                                 ("use case", f.use_cases)) if v]
    if f.min_context:
        asked.append(f"context >= {f.min_context:,}")
    return ", ".join(asked)


def render_models(result) -> None:
    """`advisor models`: an api.list_models ModelList as a table, with what was asked and how it is ordered."""
    from rich.table import Table

    con = console()
    table = Table(**TABLE_STYLE)
    for col in ("id", "name", "params", "context", "use", "license", "arch", "hub id"):
        table.add_column(col, no_wrap=col not in ("name", "license", "use"), justify="right" if col == "context" else "left")
    for mt in result.matches:
        m = mt.model
        p = _params(m.params)
        if m.moe:
            p += f" ({_params(mt.active_params)} active)"
        table.add_row(*map(esc, (m.id, m.name, p, f"{m.max_context:,}", ",".join(m.use_cases), m.license, m.arch,
                                 m.hf_id)))
    if result.matches:
        show(con, table, drop=("arch", "license", "hub id", "use", "context", "name"))
    f = result.filter
    n = len(result.matches)
    words = filter_words(f)
    line = f"{n} model{'s' if n != 1 else ''}" + (f" {words}" if words else "")
    if f.search and result.matches and result.matches[0].tier == "fuzzy":
        line += " (close spellings: nothing contains the text)"
    con.print(esc(line))


def plot_rows(grid: list, height: int, label_of, label_width: int) -> list:
    """The rows of a terminal chart: each grid row (a list of (character, style)) behind its y-axis tick, with a
    value label (label_of(fraction of the axis)) on the top, middle and bottom rows. The cost and serve charts share it."""
    from rich.text import Text

    rows = []
    for r, cells in enumerate(grid):
        label = label_of((height - 1 - r) / (height - 1)) if r in (0, height // 2, height - 1) else ""
        line = Text(f"{label:>{label_width}} ┤")
        for ch, st in cells:
            line.append(ch, style=st or None)
        rows.append(line)
    return rows
