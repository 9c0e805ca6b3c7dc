"""Exception types of the CLI parser: new typer vendors click (typer._click), older typer uses click itself.

Only modules typer has already loaded are looked at (cli.py imports typer first): the parser cannot raise an
exception of a module nobody imported, and importing click just to name its classes costs ~5 ms per start-up.
"""
from __future__ import annotations

import sys


def _collect(name: str) -> tuple[type, ...]:
    found: list[type] = []
    for module in ("typer._click.exceptions", "typer.exceptions", "click.exceptions"):
        cls = getattr(sys.modules.get(module), name, None)
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


NO_ARGS_ERRORS = _collect("NoArgsIsHelpError")  # a UsageError whose message is the whole help (click >= 8.2)
USAGE_ERRORS = _collect("UsageError")
ABORT_ERRORS = _collect("Abort")
EXIT_ERRORS = _collect("Exit")
