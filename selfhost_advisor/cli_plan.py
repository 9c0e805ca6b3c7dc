"""`advisor hardware`: list profiles, show one with sources, or rank every configuration for a model (--for)."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import cli_complete as complete
from .cli_opts import emit_json, needs, quiet, quiet_option, timestamp, timestamp_option
from .errors import BadOptionError, CheckFailed

def hardware(
    action: Optional[str] = typer.Argument(None, help="'show' (with a profile id) or nothing to list."),
    name: Optional[str] = typer.Argument(None, help="Profile id or alias for 'show', e.g. rtx4090.",
                                         autocompletion=complete.hardware),
    for_model: Optional[str] = typer.Option(None, "--for", help="Rank every configuration for this model.",
                                            autocompletion=complete.models),
    quant: Optional[List[str]] = typer.Option(None, "--quant", "-q", help="With --for: only these quantizations.",
                                              autocompletion=complete.quants),
    min_tps: Optional[float] = typer.Option(None, "--min-tps", help="With --for: decode at least this fast; exit 1 if no configuration does."),
    context: str = typer.Option("8192", "--context", "-c", help="With --for: context length (8192, 32k, max)."),
    max_price: Optional[float] = typer.Option(None, "--max-price", help="With --for: price ceiling in USD; exit 1 if no configuration is within it."),
    engine: str = typer.Option("llamacpp", "--engine", help="With --for: llamacpp, ollama or vllm.",
                               autocompletion=complete.engines),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """Hardware profiles: list them, show one with its sources, or find what runs a model (--for)."""
    from .catalog.hardware import get_profile, profiles
    quiet(quiet_flag)
    timestamp(timestamp_flag)
    if for_model is None:
        needs("--for MODEL", quant=quant or None, min_tps=min_tps, max_price=max_price)
    elif action is not None:
        raise BadOptionError(f"'hardware {action}' and --for both given", "use 'advisor hardware --for MODEL' alone")
    if for_model is not None:
        return _hardware_for(for_model, quant, min_tps, context, max_price, engine, as_json)
    if action is None:
        rows = [p for p in profiles() if p.kind != "host"]
        if as_json:
            from .render.planout import hardware_list_dict

            emit_json(hardware_list_dict(rows))
        elif not quiet():
            from .render.planout import render_hardware_list

            render_hardware_list(rows)
        return 0
    if action == "show" and not name:
        raise BadOptionError("'hardware show' needs a profile name", "e.g. 'advisor hardware show rtx4090'; 'advisor hardware' lists them")
    if action != "show":
        if name is None:  # 'advisor hardware rtx4090' means show it (an unknown name gets suggestions)
            action, name = "show", action
        else:
            raise BadOptionError(f"unknown hardware action {action!r}", "use 'advisor hardware show rtx4090' or --for MODEL")
    p = get_profile(name)
    if as_json:
        from .render.planout import hardware_show_dict

        emit_json(hardware_show_dict(p))
    elif not quiet():
        from .render.planout import render_hardware_show

        render_hardware_show(p)
    return 0


def quants_for(engine: str, quant: Optional[List[str]]):
    """The --quant names (repeat or comma-separate) for `engine`, best first; all listed ones when none."""
    from .engines import get_engine

    names = [n for q in (quant or []) for n in q.split(",") if n.strip()]
    return get_engine(engine).quants(names)


def check_min_tps(min_tps: Optional[float]) -> None:
    if min_tps is not None and not 0 < min_tps < float("inf"):  # nan and inf are refused too: no model meets inf
        raise BadOptionError(f"--min-tps {min_tps:g} must be a positive, finite speed", "e.g. --min-tps 20")


def _hardware_for(model_name, quant, min_tps, context, max_price, engine, as_json) -> int:
    from .catalog.resolve import resolve  # any model: catalog, Hub id, GGUF file, installed Ollama
    from .domain import FitRequest
    from .engines import get_engine
    from .estimate.plan import hardware_for
    from .units import parse_context

    resolved = resolve(model_name)
    m = resolved.model
    eng = get_engine(engine)
    engine = eng.name
    check_min_tps(min_tps)
    if max_price is not None and not max_price > 0:
        raise BadOptionError(f"--max-price {max_price:g} must be positive", "e.g. --max-price 10000")
    if not quant and resolved.quant:
        quant = [resolved.quant]
    quants = quants_for(engine, quant)
    considered = ", ".join(q.name for q in quants) if quant else None
    if not quant:
        quants = eng.buying_quants(quants)  # buying advice at 2-3 bits per weight would mislead
    request = FitRequest(context=parse_context(context, m.max_context), engine=engine, n_ubatch=int(eng.params["n_ubatch"]))
    rows = hardware_for(m, quants, request, min_tps=min_tps, max_price=max_price)
    if as_json:
        from .render.planout import hardware_for_dict

        emit_json(hardware_for_dict(m, request, min_tps, max_price, rows, considered))
    elif not quiet():
        from .render.planout import render_hardware_for

        render_hardware_for(m, request, min_tps, rows, considered)
    if (min_tps is not None or max_price is not None) and not any(c.option for c in rows):
        raise CheckFailed(f"check failed: no configuration runs {m.id} within --min-tps/--max-price")
    return 0


def models_fits(fits: str, min_tps, context: str, engine: str, as_json: bool, query_rows, *,
                vram: Optional[str] = None, ram: Optional[str] = None, gpus: Optional[int] = None) -> int:
    """`advisor models --fits HW`: every catalog model's best option on that hardware."""
    from .domain import FitRequest
    from .engines import get_engine
    from .estimate.plan import models_that_fit
    from .machine import resolve_machine
    from .units import parse_context

    eng = get_engine(engine)
    engine = eng.name
    check_min_tps(min_tps)
    machine, ram_known = resolve_machine(fits, vram, ram, gpus)
    request = FitRequest(context=parse_context(context, 10**9), engine=engine, n_ubatch=int(eng.params["n_ubatch"]))
    rows = models_that_fit(list(query_rows), machine, quants_for(engine, None), request, min_tps=min_tps,
                           host_ram_known=ram_known)
    if as_json:
        from .render.planout import models_fits_dict

        emit_json(models_fits_dict(machine, request, min_tps, rows))
    elif not quiet():
        from .render.planout import render_models_fits

        render_models_fits(machine, request, rows)
    if min_tps is not None and not any(r.option for r in rows):
        raise CheckFailed(f"check failed: no model runs on {machine.name} at --min-tps {min_tps:g}")
    return 0
