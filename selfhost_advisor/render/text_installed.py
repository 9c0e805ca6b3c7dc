"""Terminal table for `advisor models --installed` (rich, imported lazily)."""
from __future__ import annotations

from pathlib import Path

from ..domain import FitRequest, Machine
from ..installed import InstalledFit
from ..units import gb
from ..termsafe import markup as esc
from .text import _fit_cell, _params, console


def render_installed(root: Path, machine: Machine, request: FitRequest, rows: list[InstalledFit],
                     flt: object = None, total: int | None = None) -> None:
    from rich.table import Table

    from .text import filter_words

    con = console()
    if flt is not None:  # filtered: say how many of how many, and by what, even when none is left
        words = filter_words(flt)
        con.print(esc(f"{len(rows)} of {total if total is not None else len(rows)} installed models ({words})."))
        if not rows:
            return
    if not rows:
        con.print(f"No Ollama models in {esc(root)} (set OLLAMA_MODELS if they live elsewhere).")
        return
    from .table import TABLE_STYLE, show

    table = Table(**TABLE_STYLE)
    for col, justify in (("model", "left"), ("arch", "left"), ("params", "right"), ("quant", "left"),
                         ("file", "right"), ("weights", "right"), ("KV cache", "right"), ("total", "right"),
                         ("fit", "left")):
        table.add_column(col, justify=justify, no_wrap=col in ("model", "quant", "fit"))
    for r in rows:
        if r.result is None:
            table.add_row(esc(r.name), "-", "-", "-", gb(r.file_bytes) if r.file_bytes else "-", "-", "-", "-",
                          "[red]unreadable[/]")
            continue
        o = r.result.options[0]
        m = r.result.model
        table.add_row(esc(r.name), esc(m.arch), _params(r.result.params.total), r.quant or "-", gb(r.file_bytes or 0),
                      gb(o.memory.weights_bytes), gb(o.memory.kv_cache_bytes), gb(o.memory.total_bytes), _fit_cell(o))
    con.print(f"[bold]Ollama models[/] in {esc(root)}")
    con.print(f"[bold]Hardware[/] {esc(machine.name)}; context {request.context:,} tokens, engine {request.engine}, "
              f"KV cache {request.kv_cache_type}")
    show(con, table, drop=("file", "arch", "weights", "KV cache", "params"))
    con.print("Sizes from each blob's GGUF header (exact tensors). GB = 10^9 bytes.")
    for r in rows:
        if r.problem:
            con.print(f"[yellow]note:[/] {esc(r.name)}: {esc(r.problem)}")
