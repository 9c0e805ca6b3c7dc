"""`advisor hardware`: list profiles, show one with sources, or rank every configuration for a model (--for)."""
from __future__ import annotations

from typing import List, Optional

import typer

from . import cli_complete as complete
from .cli_opts import emit_json, needs, quiet, quiet_option, timestamp, timestamp_option, ubatch_option
from .errors import BadOptionError, CheckFailed
from .termsafe import clipped

def hardware(
    action: Optional[str] = typer.Argument(None, help="'show' (with a profile id) or nothing to list."),
    name: Optional[str] = typer.Argument(None, help="Profile id or alias for 'show', e.g. rtx4090.",
                                         autocompletion=complete.hardware),
    for_model: Optional[str] = typer.Option(None, "--for", help="Rank every configuration for this model.",
                                            autocompletion=complete.models),
    quant: Optional[List[str]] = typer.Option(None, "--quant", "-q", help="With --for: only these quantizations.",
                                              autocompletion=complete.quants),
    min_tps: Optional[float] = typer.Option(None, "--min-tps", help="With --for: decode at least this fast; exit 1 if no configuration does."),
    context: Optional[str] = typer.Option(None, "--context", "-c", help="With --for: context length (8192, 32k, max); "
                                          "default 8192, capped at the model's maximum."),
    max_price: Optional[float] = typer.Option(None, "--max-price", help="With --for: price ceiling in USD; exit 1 if no configuration is within it."),
    engine: str = typer.Option("llamacpp", "--engine", help="With --for: llamacpp, ollama or vllm.",
                               autocompletion=complete.engines),
    min_quant: Optional[str] = typer.Option(None, "--min-quant", help="With --for: quality floor (default IQ3_M, 'any' for none), as fit."),
    ubatch: Optional[int] = ubatch_option("With --for: "),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet_flag: bool = quiet_option(),
    timestamp_flag: bool = timestamp_option(),
) -> int:
    """Hardware profiles: list them, show one with its sources, or find what runs a model (--for)."""
    from .catalog.hardware import get_profile, profiles
    quiet(quiet_flag)
    timestamp(timestamp_flag)
    if for_model is None:
        needs("--for MODEL", quant=quant or None, min_tps=min_tps, max_price=max_price, min_quant=min_quant,
              ubatch=ubatch)
    elif action is not None:
        raise BadOptionError(f"'hardware {action}' and --for both given", "use 'advisor hardware --for MODEL' alone")
    if for_model is not None:
        return _hardware_for(for_model, quant, min_tps, context, max_price, engine, as_json, min_quant, ubatch)
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
    from .catalog.spec_fields import is_custom

    if is_custom(name):  # 'custom:...' or '2x custom:...': was "unknown hardware ...; or give a spec: --hardware ..."
        raise BadOptionError("'hardware show' shows catalog profiles, not a spec sheet",
                             f"use the spec as --hardware of fit, serve or cost, e.g. advisor fit MODEL --hardware "
                             f"{clipped(name)!r}")
    if name.lower().endswith((".json", ".yaml", ".yml")):  # a saved probe or a spec file: was 'unknown hardware'
        raise BadOptionError("'hardware show' shows catalog profiles, not a file",
                             f"use the file as --hardware of fit, serve or cost, e.g. advisor fit MODEL --hardware "
                             f"{clipped(name)!r}")
    p = _one_profile(name, get_profile)
    if as_json:
        from .render.planout import hardware_show_dict

        emit_json(hardware_show_dict(p))
    elif not quiet():
        from .render.planout import render_hardware_show

        render_hardware_show(p)
    return 0


def _one_profile(name: str, get_profile):
    """The profile 'hardware show NAME' shows; '2x rtx4090' (a count, as fit's --hardware takes) said "unknown hardware
    '2x rtx4090'; did you mean rtx-4090 ..." though it names a profile: say to drop the count."""
    from .catalog.hardware import _split_count
    from .errors import UnknownHardwareError

    try:
        return get_profile(name)
    except UnknownHardwareError as err:
        count, rest = _split_count(name)
        try:
            one = get_profile(rest) if count != 1 else None
        except UnknownHardwareError:
            one = None
        if one is None:
            from .catalog.hardware import parse_spec

            try:  # 'arc b580 vulkan mesa', 'rtx3090 nvlink': words fit's --hardware takes after the name
                shown = parse_spec(name)[0]
            except UnknownHardwareError as why:  # its own reason ('vulkan' on Apple), else the name's suggestions
                raise (err if str(why).startswith("unknown hardware") else why) from None
            raise BadOptionError("'hardware show' shows a catalog profile, without the backend, driver or link words "
                                 "after its name", f"advisor hardware show {shown.id}") from None
    raise BadOptionError("'hardware show' shows one profile, not a count of them",
                         f"drop the count: advisor hardware show {one.id}")


def _hardware_for(model_name, quant, min_tps, context, max_price, engine, as_json, min_quant=None, ubatch=None) -> int:
    from .api import hardware_for

    r = hardware_for(model_name, quant=quant, min_tps=min_tps, context=context, max_price=max_price, engine=engine,
                     min_quant=min_quant, ubatch=ubatch)
    if as_json:
        from .api import as_json as to_json

        emit_json(to_json(r))
    elif not quiet():
        from .render.planout import render_hardware_for

        render_hardware_for(r.model, r.request, min_tps, list(r.candidates), r.considered)
    if (min_tps is not None or max_price is not None) and not any(c.option for c in r.candidates):
        raise CheckFailed(f"check failed: no configuration runs {r.model.id} within --min-tps/--max-price")
    return 0


def models_fits(fits: str, min_tps, context: str, engine: str, as_json: bool, query, *,
                vram: Optional[str] = None, ram: Optional[str] = None, gpus: Optional[int] = None,
                min_quant: Optional[str] = None, ubatch: Optional[int] = None, **filters) -> int:
    """`advisor models --fits HW`: every catalog model's best option on that hardware (after the catalog filters)."""
    from .api import models_that_fit

    r = models_that_fit(fits, query=query, vram=vram, ram=ram, gpus=gpus, min_tps=min_tps, context=context,
                        engine=engine, min_quant=min_quant, ubatch=ubatch, **filters)
    if as_json:
        from .api import as_json as to_json

        emit_json(to_json(r))
    elif not quiet():
        from .render.planout import render_models_fits

        render_models_fits(r.machine, r.request, list(r.models), r.filter, r.min_tps)
    if min_tps is not None and not any(m.option for m in r.models):
        raise CheckFailed(f"check failed: no model runs on {r.machine.name} at --min-tps {min_tps:g}")
    return 0
