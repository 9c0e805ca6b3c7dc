"""`advisor models` (the catalog, filtered) and `--installed`: glue between the CLI options and the core."""
from __future__ import annotations


def run_installed(hardware: str | None, vram: str | None, ram: str | None, gpus: int | None, context: str,
                  as_json: bool, search: str | None = None, **filters) -> int:
    """`models --installed`, with the catalog filters (installed.filter_installed) when any is given."""
    from .cli_opts import emit_json, quiet
    from .domain import FitRequest
    from .estimate.memory import engine_params
    from .installed import installed_fits
    from .machine import resolve_machine
    from .units import parse_context

    from .installed import filter_installed

    # bad input before the machine is resolved: without --hardware that probes this machine (seconds, and
    # host_rates.json written under ADVISOR_HOME), which `models --installed --context nan` cost before its exit 2
    ctx = parse_context(context, 1 << 30)
    if any(filters.get(k) is not None for k in ("license", "min_context", "use_case")):
        from .catalog.search import build

        build(search=search, license_=filters.get("license"), min_context=filters.get("min_context"),
              use_case=filters.get("use_case"))
    machine, ram_known = resolve_machine(hardware, vram, ram, gpus)
    eng = engine_params("ollama")
    request = FitRequest(context=ctx, engine="ollama", n_ubatch=int(eng["n_ubatch"]),
                         flash_attention=bool(eng["flash_attention"]))
    root, rows = installed_fits(machine, request, host_ram_known=ram_known)
    total = len(rows)
    rows, flt = filter_installed(rows, search=search, **filters)
    if as_json:
        from .render.json_installed import installed_dict

        emit_json(installed_dict(root, machine, request, rows, flt))
    elif not quiet():
        from .render.text_installed import render_installed

        render_installed(root, machine, request, rows, flt, total)
    return 0


def run_list(search: str | None, as_json: bool, **filters) -> int:
    """The catalog through api.list_models (catalog/search.py ranks and filters)."""
    from .api import list_models
    from .cli_opts import emit_json, quiet

    result = list_models(search, **filters)
    if as_json:
        from .render.jsonout import models_dict

        emit_json(models_dict(result))
    elif not quiet():
        from .render.text import render_models

        render_models(result)
    return 0
