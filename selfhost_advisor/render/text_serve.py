"""Terminal output of `advisor serve` with rich: header, a table per concurrency, and a chart of throughput and
per-user speed against concurrency with the target line (rich only here). Readable at 80 columns."""
from __future__ import annotations

import math

from ..estimate.serving.types import ServePoint, ServeReport
from ..termsafe import markup as esc
from ..units import tok_rate
from .text import console, plot_rows


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB"


def _tps(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else tok_rate(x, ",.1f")


def _secs(s: float) -> str:
    return f"{s * 1000:,.0f} ms" if s < 1 else f"{s:,.1f} s"


def _marks(r: ServeReport, p: ServePoint) -> str:
    out = []
    if r.recommended is not None and p.concurrency == r.recommended.concurrency:
        out.append("*")
    if r.peak is not None and p.concurrency == r.peak.concurrency:
        out.append("peak")
    return " ".join(out)


def _table(r: ServeReport):
    from .table import new_table

    t = new_table("users", ("out tok/s", "right"), ("total tok/s", "right"), ("tok/s each", "right"),
                  ("TTFT", "right"), ("TPOT", "right"), ("KV/GPU", "right"), "")
    shown = {p.concurrency for p in r.points}
    # the recommended point is often the peak itself: one row per concurrency
    extra = list({p.concurrency: p for p in (r.recommended, r.peak) if p is not None and p.concurrency not in shown}.values())
    for p in sorted([*r.points, *extra], key=lambda p: p.concurrency):
        users = str(p.concurrency) + (f" ({p.queued} wait)" if p.queued else "")
        t.add_row(users, _tps(p.output_tokens_per_s), _tps(p.total_tokens_per_s), _tps(p.stream_tokens_per_s),
                  _secs(p.ttft_s), _secs(p.tpot_s), _gb(p.kv_bytes_per_gpu), _marks(r, p))
        shown.add(p.concurrency)
    return t


def chart_lines(r: ServeReport, width: int = 56, height: int = 12):
    """Output tokens/s (●) and per-user tokens/s (◆, own scale) against concurrency on a log axis; the per-user
    target as a dashed line. Only scales the report's points onto a grid."""
    from rich.text import Text

    pts = sorted({p.concurrency: p for p in (*r.points, *(x for x in (r.peak, r.recommended) if x))}.values(),
                 key=lambda p: p.concurrency)
    if len(pts) < 2:
        return []
    lo, hi = math.log(pts[0].concurrency), math.log(pts[-1].concurrency)
    col = lambda c: 0 if hi == lo else round((math.log(c) - lo) / (hi - lo) * (width - 1))  # noqa: E731
    top_t = max(p.output_tokens_per_s for p in pts) or 1.0
    target = r.workload.min_stream_tokens_per_s
    top_s = max([p.stream_tokens_per_s for p in pts] + [target or 0.0]) or 1.0
    row = lambda y, top: height - 1 - min(height - 1, round(y / top * (height - 1)))  # noqa: E731
    grid = [[(" ", "") for _ in range(width)] for _ in range(height)]
    if target:
        for i in range(0, width, 2):
            grid[row(target, top_s)][i] = ("╌", "red")
    for series, top, mark, style in (((p.stream_tokens_per_s for p in pts), top_s, "◆", "cyan"),
                                     ((p.output_tokens_per_s for p in pts), top_t, "●", "bold green")):
        ys = list(series)
        for (a, ya), (b, yb) in zip(zip(pts, ys), zip(pts[1:], ys[1:])):  # straight segments between points
            ca, cb = col(a.concurrency), col(b.concurrency)
            for c in range(ca, cb + 1):
                f = 0 if cb == ca else (c - ca) / (cb - ca)
                grid[row(ya + f * (yb - ya), top)][c] = (mark, style)
    out = [Text(f"● output tok/s (0 .. {_tps(top_t)})   ◆ tok/s per user (0 .. {_tps(top_s)})", style="bold")]
    out += plot_rows(grid, height, lambda f: _tps(top_t * f), 8)
    out.append(Text(" " * 9 + "└" + "─" * width))
    axis = [" "] * width
    for p in pts:
        label = str(p.concurrency)
        c = min(col(p.concurrency), width - len(label))
        if all(ch == " " for ch in axis[max(0, c - 1): c + len(label) + 1]):
            axis[c: c + len(label)] = list(label)
    out.append(Text(" " * 10 + "".join(axis)))
    legend = Text(" " * 10 + "concurrent users (log scale)")
    if target:
        word = "default floor" if r.workload.min_stream_default else "target"
        legend.append(f"   ╌ {word} {target:g} tok/s per user", style="red")
    out.append(legend)
    return out


def _prefix_line(r: ServeReport) -> str:
    """What the report assumed of the shared prefix (serve.prefix_assumptions); empty without one."""
    pc = r.assumptions.get("prefix_cache")
    if not pc or not r.fits:
        return ""
    hit, p = pc["hit_tokens"], r.workload.prompt_tokens
    from ..engines import get_engine

    if get_engine(r.engine).kv_pool:  # vLLM's paged pool
        held = f"; its KV held once in the pool ({_gb(pc['shared_kv_bytes_per_gpu'])}/GPU)" if pc["shared_kv_bytes_per_gpu"] else ""
        return (f"{hit:,} of {p:,} prompt tokens from vLLM's prefix cache (on by default; whole 16-token blocks){held}; "
                f"{pc['prefilled_tokens']:,} prefilled")
    return (f"{hit:,} of {p:,} prompt tokens reused from each slot's previous prompt; every slot keeps its own copy "
            f"(no KV saved); {pc['prefilled_tokens']:,} prefilled")


def _point_text(p: ServePoint) -> str:
    return (f"{p.concurrency} concurrent users, {_tps(p.output_tokens_per_s)} output tok/s "
            f"({_tps(p.total_tokens_per_s)} with prompts), {_tps(p.stream_tokens_per_s)} tok/s each, "
            f"first token in {_secs(p.ttft_s)}")


def _verdict_lines(r: ServeReport) -> list[str]:
    """The recommended point and what it was chosen by: the targets given, the default per-user floor (the one `cost`
    sizes boxes at; then the throughput peak too, labelled as such) or none (--min-stream-tps 0); the --concurrency
    check. Rich markup; figures from the report only."""
    w, rec, top = r.workload, r.recommended, r.peak
    floor = w.min_stream_tokens_per_s
    out = []
    if rec is not None:
        how = ""
        if w.min_stream_default:
            how = f" (at the default floor of {floor:g} tok/s per user)"
        elif not w.has_targets:
            how = " (no per-user floor: as many users as the box runs, whatever each gets)"
        out.append(f"[bold green]Recommended:[/] {_point_text(rec)}{how}.")
    elif w.min_stream_default and (r.single is None or not w.requested().has_targets
                                   or not _misses(r.single, w.requested())):
        one = r.single or top
        out.append(f"[bold red]No concurrency reaches the default floor of {floor:g} tok/s per user[/]: one user gets "
                   f"{_tps(one.stream_tokens_per_s)} tok/s.")
    else:
        out.append("[bold red]No concurrency meets the targets[/]; one user gets the best latency shown above.")
    if w.min_stream_default:
        if top is not None and (rec is None or top.concurrency != rec.concurrency):
            why = "below the floor" if top.stream_tokens_per_s < floor else "misses the targets"
            out.append(f"Throughput peak: {top.concurrency} users, {_tps(top.output_tokens_per_s)} output tok/s, "
                       f"{_tps(top.stream_tokens_per_s)} tok/s each ({why}).")
        out.append(f"Floor: {floor:g} tok/s per user, the default `advisor cost` sizes boxes at (about twice reading "
                   "speed); --min-stream-tps N sets another, --min-stream-tps 0 none (as many users as the box runs).")
    c = r.check
    if c is not None and c.concurrency:
        if c.passed:
            n = c.concurrency
            levels = (", ".join(str(x) for x in n) + " users" if len(n) <= 4
                      else f"all {len(n)} levels listed ({n[0]} .. {n[-1]} users)")
            out.append(f"[bold green]Check passed:[/] {levels} meet the targets given.")
        else:
            out.append(f"[bold red]Check failed:[/] {_miss_text(r)}.")
    return out


def _misses(p: ServePoint, w) -> bool:
    from ..estimate.serving.curve import unmet

    return bool(unmet(p, w))


def _miss_text(r: ServeReport) -> str:
    """'at 200 users: time to first token 16.40 s > 1 s, 14.3 tokens/s per stream < 20' for the smallest level listed
    that misses a target given (and how many more do)."""
    from ..estimate.serving.curve import unmet_text

    c = r.check
    first = c.failed[0]
    more = f" (and {len(c.failed) - 1} more level(s) listed)" if len(c.failed) > 1 else ""
    return f"at {first.concurrency} users{more}: {unmet_text(first, r.workload.requested())}"


def check_failed_line(r: ServeReport) -> str:
    """The stderr line of exit 1 for a missed check (cli_serve): which level and target, and what the box does give."""
    from ..estimate.serving.capacity import _unmet

    c, rec = r.check, r.recommended
    if not c.concurrency:  # no --concurrency: no concurrency meets the targets given, even one user
        best = r.single or r.peak
        return (f"check failed: {_unmet(best, r.workload.requested())} (best: {best.concurrency} request(s), "
                f"{best.ttft_s:.2f} s to first token, {best.stream_tokens_per_s:.1f} tokens/s each)")
    tail = (f"recommended: {rec.concurrency} users, {rec.output_tokens_per_s:,.0f} output tokens/s, "
            f"{rec.stream_tokens_per_s:.1f} tokens/s each, {rec.ttft_s:.2f} s to first token" if rec is not None
            else "no concurrency meets them")
    return f"check failed: {_miss_text(r)} ({tail})"


def render_serve(r: ServeReport, file=None) -> None:
    from rich.console import Console

    from .table import show

    con = console() if file is None else Console(file=file, no_color=True, width=100, emoji=False)
    w = r.workload
    from .table import label_line

    label_line(con, "Model", f"{esc(r.model.name)} ({esc(r.model.id)})", 10)
    label_line(con, "Hardware", esc(r.machine.name), 10)  # a file's or a spec's name
    from .text import usable_lines

    for line in usable_lines(r.machine):  # the GPU memory it is sized on, as fit's Usable line
        label_line(con, "Usable", line, 10)
    serving = f"{r.engine}" + (f", {r.quant}" if r.quant else "") + (f", tensor parallel {r.tp}" if r.tp > 1 else "")
    ub = r.assumptions.get("n_ubatch")
    serving += f", micro-batch {ub:,} (--ubatch)" if ub else ""
    label_line(con, "Serving", serving, 10)
    targets = [f"TTFT <= {w.max_ttft_s:g} s"] if w.max_ttft_s else []
    targets += [f">= {w.min_stream_tokens_per_s:g} tok/s per user"
                + (" (default floor)" if w.min_stream_default else "")] if w.min_stream_tokens_per_s else []
    shared = f" ({w.cached_prompt_tokens:,} a shared prefix)" if w.cached_prompt_tokens else ""
    label_line(con, "Requests", f"{w.prompt_tokens:,} prompt{shared} + {w.output_tokens:,} output tokens"
               + (f"; targets {', '.join(targets)}" if targets else ""), 10)
    cache = _prefix_line(r)
    if cache:
        label_line(con, "Prefix", cache, 10)
    if not r.fits:
        con.print(f"[red]does not serve:[/] {esc(r.reason)}")
        return
    pool = f"KV pool {_gb(r.kv_pool_bytes)}/GPU ({r.kv_pool_tokens:,} tokens), " if r.kv_pool_bytes else ""
    label_line(con, "Capacity", f"{pool}{_gb(r.kv_bytes_per_request)}/GPU per request; at most "
               f"{r.max_concurrency} at once (limit: {', '.join(r.limits)})", 10)
    show(con, _table(r), drop=("KV/GPU", "TPOT", "total tok/s"))
    for line in _verdict_lines(r):
        con.print(line)
    for line in chart_lines(r, width=max(24, min(56, con.width - 12))):
        con.print(line)
    con.print(f"Throughput {r.confidence} (checked against published runs: docs/methodology.md); closed loop: each "
              "user sends the next request when one finishes. * recommended.")
    if r.command:
        con.print(f"[bold]Run[/]  {esc(r.command)}", soft_wrap=True)
    for warning in r.warnings:
        con.print(f"[yellow]note:[/] {esc(warning)}")
