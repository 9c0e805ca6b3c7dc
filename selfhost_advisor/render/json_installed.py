"""JSON for `advisor models --installed` (schema docs/schema/models-installed.schema.json)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import SCHEMA_VERSION
from ..domain import FitRequest, Machine
from ..installed import InstalledFit
from .jsonout import machine_dict, model_dict, option_dict


def installed_dict(root: Path, machine: Machine, request: FitRequest, rows: list[InstalledFit],
                   flt: Any = None) -> dict[str, Any]:
    models = []
    for r in rows:
        entry: dict[str, Any] = {"name": r.name, "blob": r.blob, "file_bytes": r.file_bytes, "quant": r.quant,
                                 "error": r.problem or None, "model": None, "option": None, "fits": None}
        if r.result is not None:
            opt = r.result.options[0]
            entry["model"] = model_dict(r.result.model, r.result.params)
            entry["option"] = option_dict(opt)
            entry["fits"] = opt.placement.fit
        models.append(entry)
    return {
        "schema_version": SCHEMA_VERSION,
        "models_dir": str(root),
        "filters": flt.as_dict() if flt is not None else None,
        "hardware": machine_dict(machine),
        "context": request.context,
        "engine": request.engine,
        "kv_cache_type": request.kv_cache_type,
        "installed": models,
        "warnings": [f"{r.name}: {r.problem}" for r in rows if r.problem],
    }
