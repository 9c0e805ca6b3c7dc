"""Terminal output of `advisor cost` with rich: options table, verdict panel, cost-vs-volume chart (rich only here)."""
from __future__ import annotations

from ..cost.compare import cost_curve, recommended_monthly_usd
from ..cost.recommend import pct, rate_usd, tokens_short
from ..cost.types import CostComparison, served_engine
from .text import console, plot_rows
from ..termsafe import markup as esc
from ..termsafe import plain
from ..units import gb

_SERIES_STYLE = ("bold green", "cyan", "bold magenta", "yellow")
_MARKS = ("●", "◆", "■", "▲")
_HYBRID_MARK = ("▪", "bold yellow")


def _usd(x: float | None) -> str:
    return "-" if x is None else f"${x:,.0f}"


def _tok(n: float | None) -> str:
    return "never" if n is None else tokens_short(n)


def _table(c: CostComparison):
    from rich.table import Table

    t = Table(show_edge=False, pad_edge=False, header_style="bold", title=None)
    t.add_column("option", justify="left", no_wrap=True)
    from .table import is_wide

    wide = is_wide()  # --wide: each option's bill in parts as well (hardware, power, operations)
    # colocation (--space-per-box) in a column of its own, so the hardware column is the capital charge alone (session
    # 32: it held the space too, under a header that did not say so)
    space = wide and any(o.monthly_usd.space for o in c.self_host)
    for col, j in (("kind", "left"), ("served", "left"), ("boxes", "right"), ("$/month", "right"), ("$/Mtok", "right"),
                   ("util", "right"), ("break-even tok/mo", "right"), ("payback", "right"),
                   *((("hw $/mo", "right"), ("power $/mo", "right"), ("ops $/mo", "right")) if wide else ()),
                   *((("space $/mo", "right"),) if space else ())):
        t.add_column(col, justify=j)

    def parts(m=None, owned: bool = True) -> tuple[str, ...]:
        """The monthly total's parts with --wide: hardware (the capital charge, or the rental bill), power,
        operations, and space where any box pays for it; blank cells for a row without them."""
        if not wide:
            return ()
        if m is None:
            return ("", "", "") + (("",) if space else ())
        return (_usd(m.amortization + m.rental), _usd(m.power), _usd(m.operations)) + (
            (_usd(m.space) if owned else "",) if space else ())

    ref = c.reference_cloud
    life = c.params.amortize_months

    def payback(months: float | None) -> str:
        return "never" if months is None else (
            f"{months:.1f} mo" if months <= life else f"{months:.0f} mo > {life:g}-mo life")

    for o in c.self_host:
        pb = payback(o.payback_months)
        t.add_row(esc(o.box.label), "buy", esc(o.capacity.quant or "measured"), str(o.units), _usd(o.monthly_usd.total), f"{o.usd_per_million_tokens:.3f}",
                  pct(o.utilisation), _tok(o.break_even_monthly_tokens), pb, *parts(o.monthly_usd))
    for o in c.rental[:3]:
        t.add_row(f"{esc(o.box.label)} {rate_usd(o.box.rental_usd_per_gpu_hour)}/GPU-h", "rent", esc(o.capacity.quant or "measured"), str(o.units),
                  _usd(o.monthly_usd.total), f"{o.usd_per_million_tokens:.3f}", pct(o.utilisation), "", "",
                  *parts(o.monthly_usd, owned=False))
    h = c.hybrid
    if h is not None and h.is_split:
        to_api = h.overflow_tokens / c.workload.monthly_tokens
        from ..cost.breakeven import hybrid_payback

        owned = next((o for o in c.self_host if o.box.label == h.box.label), None)
        served = (owned.capacity.quant if owned is not None else None) or "measured"
        kind = "hybrid" if h.is_mix else "buy"  # a busiest-hour tail is owning the boxes (cost/hybrid.py)
        pb = hybrid_payback(h, owned, ref, c.params.monthly_rate)  # its own boxes against the reference API alone, as reason 2 says
        t.add_row(esc(f"{h.box.label} + {h.api}"), kind, esc(served), str(h.base_units + h.spare_units),
                  _usd(h.total_usd), f"{h.total_usd / (c.workload.monthly_tokens / 1e6):.3f}", f"{pct(to_api)} to API",
                  "", payback(pb[1]) if pb is not None else "", *parts())
    for o in c.cloud:
        name = esc(o.price.id) + (" *" if ref is not None and o.price.id == ref.price.id else "")
        kind = "API" if not o.excluded_reason else "API (excluded)"
        row = [name, kind, esc(o.price.weight_format or "?"), "", _usd(o.monthly_usd), f"{o.usd_per_million_tokens:.3f}", "", "", "",
               *parts()]
        t.add_row(*(f"[dim]{x}[/]" if o.excluded_reason and x else x for x in row))
    return t


def _verdict(c: CostComparison):
    from rich.panel import Panel

    rec = c.recommendation
    style = {"self-host": "green", "cloud": "cyan", "hybrid": "yellow"}[rec.choice]
    spend = recommended_monthly_usd(c)
    lines = [f"[bold {style}]{rec.choice.upper()}[/]" + (f": {_usd(spend)} a month" if spend is not None else "")]
    lines += [f"{i}. {esc(r.text)}" for i, r in enumerate(rec.reasons, 1)]
    if rec.what_would_change:
        lines.append("[bold]What would change the verdict:[/] " + "; ".join(map(esc, rec.what_would_change)) + ".")
    return Panel("\n".join(lines), title="Verdict", title_align="left", border_style=style)


def chart_lines(c: CostComparison, width: int = 64, height: int = 14):
    """Monthly cost vs monthly tokens for the best bought box, the best rented box, the reference API and the priced
    hybrid (owned boxes + API overflow, re-optimised at each volume).

    The costs come from cost.compare.cost_curve; this function only scales them onto a character grid. The hybrid is
    drawn underneath and only where it is cheaper than both the bought box and the API (elsewhere it is one of them).
    The legend names each line, one per row, within the chart's width (80 columns at the default width).
    """
    from rich.text import Text

    t_now = c.workload.monthly_tokens
    t_star = c.break_even_monthly_tokens
    x_max = max(2 * t_now, int(1.25 * t_star) if t_star else 0)
    volumes = [round(x_max * i / (width - 1)) for i in range(width)]
    curves = cost_curve(c, volumes)
    if not curves:
        return []
    y_max = max(max(v) for v in curves.values()) or 1.0
    grid = [[(" ", "") for _ in range(width)] for _ in range(height)]
    col_of = lambda t: min(width - 1, round(t / x_max * (width - 1))) if x_max else 0  # noqa: E731
    row_of = lambda y: height - 1 - min(height - 1, round(y / y_max * (height - 1)))  # noqa: E731
    if t_star:
        for row in grid:
            row[col_of(t_star)] = ("│", "red")
    names = list(curves)
    hybrid = next((n for n in names if n.startswith("hybrid: ")), None)
    plain_names = [n for n in names if n != hybrid]
    marks = {n: (_MARKS[k % len(_MARKS)], _SERIES_STYLE[k % len(_SERIES_STYLE)]) for k, n in enumerate(plain_names)}
    if hybrid is not None:
        marks[hybrid] = _HYBRID_MARK
        buy = next((n for n in plain_names if n.endswith("(buy)")), None)
        api = [n for n in plain_names if not n.endswith(("(buy)", "(rent)"))]
        rivals = [curves[n] for n in ([buy] if buy else []) + api]
        for i, y in enumerate(curves[hybrid]):  # drawn first (underneath), only where cheaper than both rivals
            if rivals and y < min(r[i] for r in rivals) * 0.995:
                grid[row_of(y)][i] = marks[hybrid]
    for name in reversed(plain_names):  # the first series drawn last, on top
        for i, y in enumerate(curves[name]):
            grid[row_of(y)][i] = marks[name]
    out = [Text(f"monthly USD (0 .. {_usd(y_max)}) vs monthly tokens (0 .. {_tok(x_max)})", style="bold")]
    out += plot_rows(grid, height, lambda f: _usd(y_max * f), 10)
    axis = [" "] * width
    axis[col_of(t_now)] = "▲"
    out.append(Text(" " * 11 + "└" + "─" * width))
    out.append(Text(" " * 12 + "".join(axis)))
    items = [(f"▲ now {_tok(t_now)}", "")]
    if t_star:
        items.append((f"│ break-even {_tok(t_star)}", "red"))
    items += [(f"{marks[n][0]} {plain(n)}", marks[n][1]) for n in plain_names]
    if hybrid is not None:
        label = f"{marks[hybrid][0]} {plain(hybrid)}, where below buy and API"
        if len(label) > width:
            label = f"{marks[hybrid][0]} hybrid (owned boxes + API overflow), where below buy and API"
        items.append((label, marks[hybrid][1]))
    out += _legend(items, width)
    return out


def _legend(items: list[tuple[str, str]], width: int):
    """Legend entries packed into rows no wider than the chart (12 columns of axis labels + `width`)."""
    from rich.text import Text

    rows: list = []
    line, used = Text(" " * 12), 0
    pieces: list[tuple[str, str]] = []
    for label, style in items:  # a label wider than the chart is wrapped at spaces, never cut
        words, cur = label.split(" "), ""
        for word in words:
            if cur and len(cur) + 1 + len(word) > width:
                pieces.append((cur, style))
                cur = "  " + word
            else:
                cur = f"{cur} {word}" if cur else word
        pieces.append((cur, style))
    for label, style in pieces:
        if used and (used + 2 + len(label) > width or label.startswith("  ")):
            rows.append(line)
            line, used = Text(" " * 12), 0
        if used:
            line.append("  ")
            used += 2
        line.append(label, style=style)
        used += len(label)
    rows.append(line)
    return rows


def _header(con, c: CostComparison) -> None:
    from .table import label_line

    w = c.workload
    engine = served_engine(c)  # the engine asked for, not a default: with no box sized there is no option to read it off
    # llama.cpp by default (no box has a GPU vLLM serves: cost/run.default_engine) says why, once
    why = f" ({esc(c.engine_why)})" if c.engine_why else ""
    label_line(con, "Model", f"{esc(c.model_name)} ({esc(c.model_id)})"
               + (f", served with {esc(engine)}{why}" if engine else ""), 10)
    targets = [f"{w.min_stream_tokens_per_s:g} tok/s per user"] if w.min_stream_tokens_per_s else []
    targets += [f"TTFT <= {w.max_ttft_s:g} s"] if w.max_ttft_s else []
    label_line(con, "Workload", f"{_tok(w.monthly_tokens)} tokens/month ({_tok(w.input_tokens)} in, "
               f"{_tok(w.output_tokens)} out); requests of {w.prompt_tokens:,} prompt"
               + (f" ({w.cached_prompt_tokens:,} a shared prefix, from the engine's prefix cache)"
                  if w.cached_prompt_tokens else "") + f" + {w.request_output_tokens:,} "
               f"output tokens" + (f"; {', '.join(targets)}" if targets else ""), 10)
    a = c.assumptions
    def src(key: str) -> str:
        item = a.get(key) or {}
        return "given" if str(item.get("source", "")).startswith("given") else "default"
    hours_why = "given" if src("active_hours_per_month") == "given" else "default: 8 h x 22 business days, Pan et al. 2025"
    peak_why = "given" if src("peak_to_average") == "given" else "default: an assumption, measure yours"
    label_line(con, "Traffic", f"{w.active_hours_per_month:g} active h/month ({hours_why}), busiest hour "
               f"{w.peak_to_average:g}x the average ({peak_why}); linear load-duration curve", 10)
    p = c.params  # the cost of capital in %/yr, as the reasons and the sensitivity line write it (session 32)
    capital = "".join((f", cost of capital {p.cost_of_capital * 100:.3g}%/yr" if p.cost_of_capital else "",
                       f", {p.residual_value_share:.0%} resale at the end" if p.residual_value_share else "",
                       f", space ${p.space_usd_per_box:g}/box" if p.space_usd_per_box else ""))
    def dated(key: str) -> str:
        """The period a default figure describes (session 34, price34: the EIA 2024 price and the BLS May 2024 wage
        were dated in --json's source text alone); nothing for a value given with a flag."""
        fig = (a.get(key) or {}).get("figure")
        return f" ({esc(fig)})" if fig else ""
    label_line(con, "Owning", f"${p.electricity_usd_per_kwh:g}/kWh{dated('electricity_usd_per_kwh')}, PUE {p.pue:g}"
               f"{dated('pue')}, {p.amortize_months:g}-month amortization{capital}, ops {p.ops_hours_per_month:g} h + "
               f"{p.ops_hours_per_box:g} h/box x ${p.ops_usd_per_hour:g}{dated('ops_usd_per_hour')}, "
               f"{p.spare_units} spare", 10)
    for label, mem in ((a.get("usable_memory") or {}).get("value") or {}).items():
        # what fit's Usable line says for the same machine: the GPU memory the box is sized on, and why
        label_line(con, "Usable", f"{esc(label)}: {gb(mem['usable_bytes'])} of {gb(mem['memory_bytes'])}: "
                   f"{esc(mem['source'])}", 10)
    if w.cached_input_share or w.batch_share or w.cache_write_share:
        label_line(con, "API use", f"{w.cached_input_share:.0%} of input tokens read from the prompt cache, "
                   f"{w.cache_write_share:.0%} written to it, {w.batch_share:.0%} of requests batched", 10)
    as_of = sorted({o.price.prices_as_of for o in c.cloud})
    if as_of:
        day = (c.assumptions.get("prices_date") or {}).get("value")
        label_line(con, "Prices", f"API prices as of {', '.join(as_of)}" + (f", for requests on {day}" if day else ""),
                   10)


def _fmt_sens(parameter: str, v: float) -> str:
    if parameter == "monthly_tokens":
        return _tok(v)
    if parameter == "active_hours_per_month":
        return f"{v:.0f} h"
    if parameter == "peak_to_average":
        return f"{v:.3g}x"
    if parameter == "electricity_usd_per_kwh":
        return f"${v:.2f}" if v >= 0.095 else f"${v:.3f}"
    if parameter == "amortize_months":
        return f"{v:.3g} mo"
    if parameter == "cost_of_capital":
        return f"{v:.2%}/yr" if 0 < v < 0.1 else f"{v:.0%}/yr"
    return f"x{v:.3g}"  # price factors


def _change(r: float) -> str:
    return f"{r - 1:+.0%}" if 0.5 <= r <= 2 else f"x{r:.2g}"


_SHORT = {"self-host (buy)": "buy", "self-host (rent)": "rent", "self-host": "own", "hybrid": "hybrid", "cloud": "API"}


def sensitivity_lines(c: CostComparison) -> list[str]:
    """One line per key unknown (within 80 columns): the values at which the re-run comparison gives another
    verdict, or how far it was moved without one."""
    if not c.sensitivity:
        return _unpriced_sensitivity_lines(c)
    key = c.sensitivity[0].verdict
    k = c.constraints
    forced = (", forced by --air-gapped" if k.air_gapped else ", forced by --regulated" if k.regulated
              else ", forced by --need-frontier" if k.need_frontier else ", forced by --no-ops-team" if k.no_ops_team
              else "")
    out = [f"Sensitivity ({_SHORT.get(key, key)} verdict{forced}; each unknown moved alone):"]
    for s in c.sensitivity:
        parts = []
        for flip, verdict, bound, word in ((s.flips_below, s.verdict_below, s.searched_low, "below"),
                                           (s.flips_above, s.verdict_above, s.searched_high, "above")):
            if flip is not None:
                factor = s.parameter.endswith("_factor") or s.parameter == "cost_of_capital"  # already the change
                parts.append(f"{_SHORT.get(verdict, verdict)} {word} {_fmt_sens(s.parameter, flip)}"
                             + ("" if factor else f" ({_change(flip / s.value)})"))
            elif bound != s.value:
                parts.append(f"same {'down' if word == 'below' else 'up'} to {_fmt_sens(s.parameter, bound)}")
        if s.parameter == "api_price_factor" and s.flips_below is not None:
            from ..cost.sensitivity import yearly_decline_for_average

            d = yearly_decline_for_average(s.flips_below, c.params.amortize_months)
            if d is not None:  # the same move as a steady price trend over the hardware's life
                parts[0] += f" (-{d:.0%}/yr)"
        body = "; ".join(parts) if parts else "not varied (zero)"
        now = _fmt_sens(s.parameter, s.value) + ("/kWh" if s.parameter == "electricity_usd_per_kwh" else "")
        out.append(f"  {s.label:<14}{now:>10}  {body}")
        if s.parameter == "serving_capacity_factor":
            from ..cost.sensitivity import band_source, throughput_band

            band = throughput_band(c)
            if band is not None:  # how far measured runs fell from the estimate: is a flip inside that spread?
                out.append(f"  {'':<24}  {band_source(c)}: x{band[0]:.2f}-{band[1]:.2f} of the estimate")
    return [x for line in out + _floor_line(c) for x in _hang(line)]


def _hang(line: str, width: int = 80) -> list[str]:
    """A sensitivity line longer than `width`, broken after its '; ' separators and continued under the values
    (28 columns in): rich broke `quality floor MXFP4 API at BF16 ($1,312); API at FP8 ($1,312); hybrid with none`
    (86 characters) inside its last clause, at the left margin."""
    if len(line) <= width or not line.startswith("  ") or "; " not in line:
        return [line]
    head, *rest = line.split("; ")
    out = [head]
    for part in rest:
        if len(out[-1]) + 2 + len(part) < width:
            out[-1] += "; " + part
        else:
            out[-1] += ";"
            out.append(" " * 28 + part)
    return out


def _unpriced_sensitivity_lines(c: CostComparison) -> list[str]:
    """With no self-hosted option priced (cost/sensitivity.py sensitivities() searches nothing): say so once, then the
    price at which each unpriced box would win (c.price_to_win) and the quality floor line."""
    floor = _floor_line(c)
    if c.self_host or c.rental or c.recommendation.choice != "cloud" or not c.excluded:
        return []
    why = ("no box that serves this load is priced" if c.price_to_win or any(e.kind == "purchase-unpriced"
                                                                              for e in c.excluded)
           else "no box in the comparison serves this load")
    # every unknown of the search (volume, hours, power, prices) would print 'same': none brings a box in
    k = c.constraints
    forced = ", forced by --need-frontier" if k.need_frontier else ", forced by --no-ops-team" if k.no_ops_team else ""
    out = [f"Sensitivity (API verdict{forced}): {why} (see excluded)"]
    from ..cost.sensitivity import price_phrase

    out += [f"  price to win  {price_phrase(t)}" for t in c.price_to_win]
    return out + floor


def _floor_line(c: CostComparison) -> list[str]:
    """The quality floor as a sensitivity line: the verdict at the other floors (c.floor_verdicts)."""
    out: list[str] = []
    cur = next((v for v in c.floor_verdicts if v.current), None)
    if cur is not None:
        parts = [(f"{_SHORT.get(v.verdict, v.verdict)} " if v.served else "nothing serves ")
                 + ('with none' if v.format is None else 'at ' + v.format)
                 + (f" ({_usd(v.monthly_usd)})" if v.verdict != cur.verdict and v.served else "")
                 for v in c.floor_verdicts if not v.current]
        same = all(v.verdict == cur.verdict for v in c.floor_verdicts)
        body = "same at " + ", ".join(("no floor" if v.format is None else v.format)
                                      for v in c.floor_verdicts if not v.current) if same else "; ".join(parts)
        out.append(f"  {'quality floor':<14}{cur.format or 'none':>10}  {body}")
    return out


def quality_lines(c: CostComparison) -> list[str]:
    """Every option's weight format with its measured loss, grouped by format; the floor; the re-planned boxes."""
    f = c.quality_floor
    if f is None:
        return []
    groups: dict[str, list[str]] = {}
    for o in (*c.self_host, *c.rental):
        key = o.capacity.quant or "as measured (format not given)"
        if o.box.label not in groups.setdefault(key, []):
            groups[key].append(o.box.label)
    for o in c.cloud:
        key = o.price.weight_format or "not published"
        groups.setdefault(key, []).append(o.price.id)
    out = []
    if f.applied:
        change = "" if f.basis in ("flag", "none") else " (--min-quant to change)"
        out.append(f"quality floor {f.reason}{change}")
    elif f.format:
        out.append(f"quality floor {f.format} ({f.basis}): not applied to a format you chose or measured")
    for fmt, names in groups.items():
        q = c.format_quality.get(fmt)
        if fmt == "not published" or fmt.startswith("as measured"):
            loss = ""
        elif q is None:
            loss = " (loss unmeasured)"
        elif q["measured_on"] == "reference" or (q["recovery_pct"] is None and q["loss_pct"] == 0.0):
            loss = " (the 16-bit reference)"
        elif q["recovery_pct"] is None:
            loss = f" (+{q['loss_pct']:.2f}% perplexity, llama.cpp scoreboard, {q['measured_on']})"
        else:
            loss = f" ({q['loss_pct']:.2f}% below 16-bit, Open LLM v1, {q['measured_on']})"
        out.append(f"served {fmt}{loss}: {', '.join(names)}")
    for r in c.replanned:
        if r.planned:  # an excluded box is listed with the other exclusions
            out.append(f"re-planned: {r.reason}")
    return out + _engine_lines(c)


_ENGINE_NAMES = {"vllm": "vLLM", "llamacpp": "llama.cpp (llama-server)", "ollama": "Ollama", "sglang": "SGLang"}


def _engine_lines(c: CostComparison) -> list[str]:
    """Which engine sized each box, when the boxes were sized with different ones (session 32, macpow32: a Mac beside
    CUDA boxes is served by llama.cpp, the others by vLLM; the JSON's serving.engine says it per row)."""
    by: dict[str, list[str]] = {}
    for o in (*c.self_host, *c.rental):
        names = by.setdefault(o.capacity.engine, [])
        if o.box.label not in names:
            names.append(o.box.label)
    if len(by) < 2:
        return []
    return [f"sized with {_ENGINE_NAMES.get(e, e)}: {', '.join(names)}" for e, names in by.items()]


# What a catalog GPU price is when no dated quotes stand behind it (data/hardware.yaml price_kind).
_BASIS = {"msrp": "launch list price (MSRP)", "used": "used-market price", "street": "one street-price source",
          "list": "vendor list price"}


def _basis(kind: str, as_of: str, undated: bool) -> str:
    """The basis of a catalog price with the date of its figure (session 32, price32): a launch list price names its
    year ("2022 launch list price (MSRP)"), so a reader sees how old the figure is; a used / street figure its date, or
    the day an undated page was read."""
    if kind == "msrp":
        return f"{as_of[:4]} {_BASIS[kind]}" if as_of[:4].isdigit() else _BASIS[kind]
    if not as_of:
        return _BASIS[kind]
    if kind == "list":  # a vendor's current list price (a Mac mini after Apple's 2026 rise): the date it took effect
        return f"{_BASIS[kind]} since {as_of}"
    return f"{_BASIS[kind]} ({'undated page read ' if undated else 'of '}{as_of})"


def _quotes_basis(b) -> str:
    """A purchase price that is the median of quotes: how many, their spread, the oldest dated one, and how many are
    undated pages (session 33, price33: two undated pages read in 2026-12 printed as "dated quotes ... oldest 2026-12")."""
    q, k = b.purchase_quotes, b.purchase_quotes_undated
    n, spread = len(q), (f"${q[0]:,.0f}-{q[-1]:,.0f}" if len(q) > 1 and q[0] != q[-1] else "")
    thin = ", thin" if n < 3 else ""
    # a used card's quotes say so: a buyer signing for four RTX 3090s should read that they are second-hand (price33)
    s = ("s" if n > 1 else "") + (" of used cards" if b.price_kind == "used" else "")
    if k and k == n:  # all undated: the date shown is the day read, said as such
        read = f"read {b.price_as_of[:7]}" if b.price_as_of else ""
        inner = ", ".join(x for x in (spread, read) if x)
        return f"median of {n} purchase quote{s} from undated pages" + (f" ({inner})" if inner else "") + thin
    since = f"oldest {b.price_as_of[:7]}" if b.price_as_of else ""  # the oldest dated quote (price32)
    if k:
        d = n - k
        dated = (f"{d} dated" + (f", {since}" if d > 1 else f" {b.price_as_of[:7]}")) if since else f"{d} dated"
        inner = "; ".join(x for x in (spread, dated, f"{k} from undated pages" if k > 1 else "1 from an undated page") if x)
        return f"median of {n} purchase quote{s} ({inner})" + thin
    inner = (f"{spread}, {since}" if since else spread) if n > 1 else (f"of {b.price_as_of[:7]}" if since else "")
    return f"median of {n} dated purchase quote{s}" + (f" ({inner})" if inner else "") + thin


def _host_lines(c: CostComparison) -> list[str]:
    """The host half of each shown bought box's capex, with the date of its figure (price33): the data-centre slot is a
    2023 bill of materials, the workstation a build price read off an undated page; once per host kind."""
    out, seen = [], set()
    for o in c.self_host[:3]:
        b = o.box
        if not b.host_source.startswith("data/cost.yaml host_systems.") or not b.host_price_as_of:
            continue
        kind = "server" if ".server" in b.host_source else "workstation"
        if kind in seen:
            continue
        seen.add(kind)
        when = (f"undated page read {b.host_price_as_of}" if b.host_price_undated else f"of {b.host_price_as_of}")
        if kind == "server":
            each = b.host_price_usd / b.gpus if b.gpus else b.host_price_usd
            out.append(f"host server ${each:,.0f}/GPU slot: a bill-of-materials estimate ({when}), not a dated quote "
                       "(--host-price for yours)")
        else:
            out.append(f"host workstation ${b.host_price_usd:,.0f}/box: one build price ({when}), not a dated quote "
                       "(--host-price for yours)")
    return out


def _rental_lines(c: CostComparison) -> list[str]:
    """Where each shown rental rate comes from: the median of dated provider quotes and their spread; likewise a
    purchase price that is the median of dated quotes (data/hardware.yaml price_quotes)."""
    out, seen = [], set()
    for o in c.self_host[:3]:
        b = o.box
        q = b.purchase_quotes
        each = "machine" if b.host_source.startswith("none") else "GPU"  # a Mac / APU: the price is the machine
        if q and ("buy", b.profile_id) not in seen:
            seen.add(("buy", b.profile_id))
            out.append(f"buy {esc(b.profile_id)} ${b.gpu_price_usd:,.0f}/{each}: {_quotes_basis(b)}")
        elif b.price_kind in _BASIS and ("buy", b.profile_id) not in seen:
            # each shown bought box's GPU price, when it is no dated quote (session 32: the cheapest box's alone, so a
            # buyer comparing boxes read the basis of one price of three)
            seen.add(("buy", b.profile_id))
            basis = _basis(b.price_kind, b.price_as_of, b.price_undated)
            out.append(f"buy {esc(b.profile_id)} ${b.gpu_price_usd:,.0f}/{each}: {basis}, not a "
                       f"dated quote (--gpu-price for yours)")
    out += _host_lines(c)
    for o in c.rental[:3]:
        b = o.box
        if b.profile_id in seen:
            continue
        seen.add(b.profile_id)
        since = f", oldest {b.rental_oldest_quote[:7]}" if b.rental_oldest_quote else ""
        if b.rental_quotes > 1:
            out.append(f"rent {esc(b.profile_id)} {rate_usd(b.rental_usd_per_gpu_hour)}/GPU-h: median of {b.rental_quotes} "
                       f"on-demand quotes (${b.rental_low_usd_per_gpu_hour:.2f}-{b.rental_high_usd_per_gpu_hour:.2f}{since})"
                       + (", thin" if b.rental_quotes < 3 else ""))
        elif b.rental_quotes == 1:
            out.append(f"rent {esc(b.profile_id)} {rate_usd(b.rental_usd_per_gpu_hour)}/GPU-h: one provider's quote "
                       f"(thin{since})")
        else:
            out.append(f"rent {esc(b.profile_id)} {rate_usd(b.rental_usd_per_gpu_hour)}/GPU-h: given with --rent-price")
    return out


def bill_lines(c: CostComparison) -> list[str]:
    """What the monthly total of the two cheapest bought options, the hybrid and the cheapest rented one is made of, in dollars,
    each part with the quantity behind it (session 34, price34: the header gave the rates and the parts showed only
    with --wide, so a reader signing for the boxes could not see the power or the operations bill): hardware = the
    capital charge on the capex over the amortization, power = kWh at the wall x PUE x $/kWh, operations =
    engineer-hours x the hourly rate, space where given; a rented box's GPU-hours instead of the hardware and power."""
    p = c.params
    terms = "".join((f" at {p.cost_of_capital * 100:.3g}%/yr" if p.cost_of_capital else "",
                     f", {p.residual_value_share:.0%} resold" if p.residual_value_share else ""))

    def ops(o) -> str:
        h = p.operations_hours_for(o.units)
        return f"operations {_usd(o.monthly_usd.operations)} ({h:,.3g} engineer-h x ${p.ops_usd_per_hour:g})"

    out = []
    for o in c.self_host[:2]:
        m = o.monthly_usd
        parts = [f"hardware {_usd(m.amortization)} ({_usd(o.capex_usd)} over {p.amortize_months:g} mo{terms})",
                 f"power {_usd(m.power)} ({o.energy_kwh:,.0f} kWh x ${p.electricity_usd_per_kwh:g})", ops(o)]
        if m.space:
            parts.append(f"space {_usd(m.space)} ({o.units} x ${p.space_usd_per_box:g})")
        out.append(f"a month of {o.units} bought {o.box.label}: {_usd(m.total)} = " + " + ".join(parts))
    h = c.hybrid
    if h is not None and h.is_split:  # the table's hybrid row: its owned part and its API bill
        boxes = h.base_units + h.spare_units
        what = "the hybrid" if h.is_mix else "the busiest hour's tail to the API"  # a tail is owning them (cost/hybrid.py)
        out.append(f"a month of {what}, {boxes} bought {h.box.label} + {h.api}: {_usd(h.total_usd)} = owned boxes "
                   f"{_usd(h.self_host_usd)} (hardware, power, operations) + {h.api} {_usd(h.api_overflow_usd)} for "
                   f"{_tok(h.overflow_tokens)} overflow tokens in {h.overflow_hours:.3g} h of the month")
    for o in c.rental[:1]:
        m = o.monthly_usd
        gpu_h = o.units * o.box.gpus * o.rental_hours_per_month
        out.append(f"a month of {o.units} rented {o.box.label}: {_usd(m.total)} = GPU rental {_usd(m.rental)} "
                   f"({gpu_h:,.0f} GPU-h x {rate_usd(o.box.rental_usd_per_gpu_hour)}) + {ops(o)}")
    return out


def render_cost(c: CostComparison, file=None) -> None:
    from rich.console import Console

    con = console() if file is None else Console(file=file, no_color=True, width=160, emoji=False)
    _header(con, c)
    from .table import show

    show(con, _table(c), drop=("util", "served", "kind", "break-even tok/mo", "$/Mtok"))
    if c.reference_cloud is not None:
        # under --regulated / --air-gapped the reference API is itself excluded (price34: the table's 'never' payback
        # beside a SELF-HOST verdict read as a contradiction): say what its columns then measure
        barred = (" (itself excluded here: break-even and payback measure the boxes against an API this "
                  "comparison may not use)" if c.reference_cloud.excluded_reason else "")
        # its price date beside its name (price34): the header lists every API's dates, not which is the reference's
        when = c.reference_cloud.price.prices_as_of
        dated = f", prices as of {esc(when)}" if when and when != "as given" else ""
        con.print(f"* reference API for break-even and payback: {esc(c.reference_cloud.price.name)}{dated}{barred}")
    for line in bill_lines(c):
        con.print(esc(line))
    for line in _rental_lines(c):
        con.print(line)
    for line in quality_lines(c):
        con.print(esc(line))
    for e in c.excluded:
        con.print(f"[yellow]excluded:[/] {esc(e.hardware)}: {esc(e.reason)}")
    con.print(_verdict(c))
    for line in sensitivity_lines(c):
        con.print(esc(line))
    for line in chart_lines(c, width=max(24, min(64, con.width - 16))):  # the axis labels take ~14 columns
        con.print(line)
    for warning in c.warnings:
        con.print(f"[yellow]note:[/] {esc(warning)}")


def write_chart_svg(c: CostComparison, path: str) -> None:
    from rich.console import Console

    from ..errors import BadFileError

    import io

    con = Console(record=True, width=100, file=io.StringIO(), emoji=False)  # recorded for the SVG, not shown
    for line in chart_lines(c):
        con.print(line)
    try:
        svg = con.export_svg(title=f"advisor cost: {c.model_id}")
        from ..safefile import open_regular_for_writing

        with open_regular_for_writing(path, "--chart") as fh:  # a FIFO, directory or device is refused, never waited on
            fh.write(svg.encode("utf-8"))
    except OSError as exc:
        raise BadFileError(f"cannot write --chart {path!r}: {exc.strerror}", "give a writable path") from None
