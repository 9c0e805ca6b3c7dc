"""selfhost-advisor: will this open-weight LLM run on this hardware, how fast, and is self-hosting worth it?

The library API (docs/api.md): `probe()`, `fit()`, `hardware_for()`, `models_that_fit()`, `list_models()`, `serve()`, `cost()` and `as_json()`,
defined in selfhost_advisor/api.py and loaded on first use, so `import selfhost_advisor` stays as light as the CLI's
start-up needs (benchmarks/startup.py).
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing's own flag without importing typing: the CLI's Ctrl-C guard (cli.py) starts after this

__version__ = "0.1.0"
SCHEMA_VERSION = "1.30.0"

API = ("probe", "fit", "hardware_for", "models_that_fit", "list_models", "serve", "cost", "as_json")

if TYPE_CHECKING:
    from typing import Any

    from .api import as_json, cost, fit, hardware_for, list_models, models_that_fit, probe, serve


def __getattr__(name: str) -> Any:
    # PEP 562: the API functions import api.py (and it the estimators) only when first asked for.
    # `probe` and `cost` are also subpackages (selfhost_advisor.probe, .cost), which replace these attributes once
    # imported; those modules are callable (their __init__.py) and call the same functions, so
    # `selfhost_advisor.probe()` and `selfhost_advisor.cost(...)` work whichever Python finds first.
    if name in API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SCHEMA_VERSION", "__version__", *API]
