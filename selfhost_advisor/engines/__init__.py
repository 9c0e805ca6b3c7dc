"""The engine registry: `get_engine("vllm")` returns the engine's record and hooks (engines/interface.py).

Each engine is a record in data/engines.yaml (`module:` names its module here) plus that module, which defines
`ENGINE_CLASS`. Modules are imported on first use, so `fit --json` loads only the engine it runs.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from ..catalog.data import load
from ..errors import BadOptionError
from ..termsafe import folded
from .interface import Engine


def engine_names() -> tuple[str, ...]:
    return tuple(load("engines")["engines"])


def get_engine(name: str) -> Engine:
    """The engine called `name` (case-insensitive); BadOptionError naming the known engines otherwise."""
    return _engine(folded(name))


@lru_cache(maxsize=None)
def _engine(key: str) -> Engine:
    records = load("engines")["engines"]
    if key not in records:
        raise BadOptionError(f"unknown engine {key!r}", f"use one of: {', '.join(records)}")
    params = records[key]
    module = importlib.import_module(f"{__name__}.{params['module']}")
    return module.ENGINE_CLASS(key, params)


__all__ = ["Engine", "engine_names", "get_engine"]
