"""JSON and text for the planning commands: `advisor hardware [show ID | --for MODEL]`, `advisor models --fits HW`."""
from __future__ import annotations

from ..termsafe import markup as esc

from typing import Any

from .. import SCHEMA_VERSION
from ..catalog.hardware import Profile
from ..domain import FitOption, ParamCounts
from ..estimate.plan import HardwareCandidate, ModelFit
from .jsonout import _round, machine_dict, model_dict, option_dict
from ..units import tok_rate
from .table import TABLE_STYLE, show


def profile_dict(p: Profile, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id, "name": p.name, "kind": p.kind, "vendor": p.vendor, "backend": p.backend,
        "memory_bytes": p.memory_bytes, "bandwidth_bytes_per_s": p.bandwidth_bytes_per_s,
        "fp16_flops": p.fp16_flops, "fp16_acc16_flops": p.fp16_acc16_flops, "tdp_watts": p.tdp_watts,
        "price_usd": p.price_usd, "price_kind": p.raw.get("price_kind"), "unified": p.unified,
        "interconnect": p.raw.get("interconnect"), "as_of": str(p.raw.get("as_of", "")),
    }
    if full:
        out["aliases"] = list(p.raw.get("aliases") or [])
        out["sources"] = {k: str(v) for k, v in (p.raw.get("sources") or {}).items()}
        out["notes"] = p.raw.get("notes")
        out["gpu_cores"] = p.raw.get("gpu_cores")
    return out


def hardware_list_dict(rows: list[Profile]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "hardware": [profile_dict(p) for p in rows]}


def hardware_show_dict(p: Profile) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "hardware": profile_dict(p, full=True)}


def _option_or_none(o: FitOption | None) -> dict[str, Any] | None:
    return option_dict(o) if o is not None else None


def _quant_note(considered: str | None, engine: str) -> str:
    """Which quantizations were tried: the ones given with --quant, else the default set."""
    if considered:
        return f"{considered} (--quant)"
    from ..engines import get_engine

    return get_engine(engine).default_quants_note


def hardware_for_dict(model, request, min_tps, max_price, rows: list[HardwareCandidate],
                      considered: str | None = None, params: ParamCounts | None = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_dict(model, params),
        "context": request.context,
        "engine": request.engine,
        "min_tps": min_tps,
        "max_price_usd": max_price,
        "candidates": [
            {
                "hardware": c.label, "profile": c.profile.id, "units": c.count,
                "price_usd": _round(c.price_usd), "price_note": c.price_note,
                "meets_target": c.option is not None, "reason": c.reason or None,
                "option": _option_or_none(c.option), "pick_rule": c.rule or None, "pick_reason": c.why or None,
            }
            for c in rows
        ],
        "assumptions": {
            "discrete_gpus": "must fit fully in VRAM; 1, 2, 4 or 8 units with llama.cpp's layer split",
            "price": "GPU list/street price x units + host-workstation host; Apple/APU/CPU: system price",
            "speed": "single-stream decode at half the context (data/speed.yaml)",
            "quantizations": _quant_note(considered, request.engine),
            "n_ubatch": request.n_ubatch,  # llama.cpp's -ub (Ollama's num_batch): --ubatch, capped at the context
        },
        "warnings": [],
    }


def models_fits_dict(machine, request, min_tps, rows: list[ModelFit], flt: Any = None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "filters": flt.as_dict() if flt is not None else None,
        "order": "runs on gpu, then partial offload, then cpu, then not at all; within each the largest model first",
        "hardware": machine_dict(machine),
        "context": request.context,
        "engine": request.engine,
        "n_ubatch": request.n_ubatch,  # llama.cpp's -ub (Ollama's num_batch): --ubatch or the engine's default
        "min_tps": min_tps,
        "models": [
            {"id": r.model.id, "name": r.model.name, "params": r.model.params, "runs": r.option is not None,
             "option": _option_or_none(r.option), "pick_rule": r.rule or None, "pick_reason": r.why or None}
            for r in rows
        ],
        "warnings": [],
    }


def _tps(o: FitOption | None) -> str:
    if o is None or o.speed is None or not o.speed.decode_tokens_per_s:
        return "-"
    return tok_rate(o.speed.decode_tokens_per_s)


def render_hardware_list(rows: list[Profile]) -> None:
    from rich.table import Table

    from ..units import gb
    from .text import console

    t = Table(**TABLE_STYLE)
    for col in ("id", "name", "memory", "bandwidth", "FP16 TFLOPS", "TDP W", "price $"):
        t.add_column(col, no_wrap=col != "name", justify="left" if col in ("id", "name") else "right")
    for p in rows:
        t.add_row(p.id, p.name, gb(p.memory_bytes),
                  f"{p.bandwidth_bytes_per_s / 1e9:,.0f} GB/s" if p.bandwidth_bytes_per_s else "-",
                  f"{p.fp16_flops / 1e12:,.1f}" if p.fp16_flops else "-",
                  f"{p.tdp_watts:,.0f}" if p.tdp_watts else "-", f"{p.price_usd:,.0f}" if p.price_usd else "-")
    con = console()
    show(con, t, drop=("TDP W", "FP16 TFLOPS", "name"))
    con.print(f"{len(rows)} profiles; multiply discrete GPUs: '2x rtx4090'. Sources: advisor hardware show ID")


def render_hardware_show(p: Profile) -> None:
    from .text import console

    con = console()
    d = profile_dict(p, full=True)
    for k, v in d.items():
        if k in ("sources",):
            continue
        if v not in (None, "", []):
            con.print(f"[bold]{k}[/]: {v}")
    con.print("[bold]sources[/]:")
    for k, v in d["sources"].items():
        con.print(f"  {k}: {v}")


def _ubatch_note(request) -> str:
    return f", micro-batch {request.n_ubatch:,} (--ubatch)" if request.n_ubatch_given else ""


def render_hardware_for(model, request, min_tps, rows: list[HardwareCandidate], considered: str | None = None) -> None:
    from rich.table import Table

    from .text import console

    con = console()
    target = f" at >= {min_tps:g} tokens/s" if min_tps else ""
    con.print(f"[bold]{esc(model.name)}[/] ({esc(model.id)}), context {request.context:,}, {request.engine}{target};"
              f" quantizations: {_quant_note(considered, request.engine)}{_ubatch_note(request)}")
    t = Table(**TABLE_STYLE)
    for col in ("hardware", "price $", "quant", "fit", "decode tok/s", "prefill tok/s", "why not"):
        t.add_column(col, no_wrap=col != "why not", justify="right" if "tok/s" in col or col == "price $" else "left")
    shown = [c for c in rows if c.option] + [c for c in rows if not c.option][:8]
    for c in shown:
        o = c.option
        pre = f"{o.speed.prefill_tokens_per_s:.0f}" if o and o.speed and o.speed.prefill_tokens_per_s else "-"
        t.add_row(esc(c.label), f"{c.price_usd:,.0f}" if c.price_usd else "-", o.quant.name if o else "-",
                  o.placement.fit if o else "-", _tps(o), pre, esc(c.reason))
    show(con, t, drop=("prefill tok/s", "fit"))
    ok = sum(1 for c in rows if c.option)
    con.print(f"{ok} of {len(rows)} configurations meet the target, cheapest first (the 8 cheapest misses shown;"
              " --json lists all with reasons). Prices: GPUs x units + a workstation host.")
    from ..estimate.select import rule_note

    con.print(esc(rule_note(min_tps)))


def render_models_fits(machine, request, rows: list[ModelFit], flt: Any = None, min_tps: float | None = None) -> None:
    from rich.table import Table

    from .text import console, filter_words

    con = console()
    con.print(f"[bold]{esc(machine.name)}[/], context {request.context:,} (or the model's maximum), {request.engine}"
              + _ubatch_note(request))
    t = Table(**TABLE_STYLE)
    for col in ("model", "params", "best quant", "fit", "decode tok/s"):
        t.add_column(col, no_wrap=True, justify="right" if col in ("params", "decode tok/s") else "left")
    for r in rows:
        o = r.option
        fit = "no" if o is None else (o.placement.fit if o.placement.fit != "partial"
                                      else f"partial {o.placement.gpu_layers}/{o.placement.total_layers}")
        t.add_row(esc(r.model.id), f"{r.model.params / 1e9:.1f}B", o.quant.name if o else "-", fit, _tps(o))
    show(con, t, drop=("params",))
    words = filter_words(flt)
    con.print(esc(f"{sum(1 for r in rows if r.option)} of {len(rows)} models run" + (f" ({words})." if words else ".")))
    from ..estimate.select import rule_note

    con.print(esc(rule_note(min_tps)))
