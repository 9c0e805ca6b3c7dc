"""Exception types of the CLI parser: new typer vendors click (typer._click), older typer uses click itself."""
from __future__ import annotations

import importlib


def _collect(name: str) -> tuple[type, ...]:
    found: list[type] = []
    for module in ("typer._click.exceptions", "typer.exceptions", "click.exceptions"):
        try:
            cls = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


NO_ARGS_ERRORS = _collect("NoArgsIsHelpError")  # a UsageError whose message is the whole help (click >= 8.2)
USAGE_ERRORS = _collect("UsageError")
ABORT_ERRORS = _collect("Abort")
EXIT_ERRORS = _collect("Exit")
