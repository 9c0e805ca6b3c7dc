"""Regular expressions compiled on first use: `_X = lazy(r"...", re.I)` stands where `_X = re.compile(...)` stood.

Why (issue 19, start-up): the name resolvers (catalog/hw_names.py, gpu_table.py, apu_names.py, ...) hold ~40 patterns
for name forms that `fit --json` with a curated profile never tries; compiling them at import cost ~5 ms of a start-up
whose whole budget over `import typer` is ~35 ms. On first use the compiled pattern's methods are copied onto the
stand-in, so later calls cost what calls on the compiled pattern cost. Only method and attribute access works (not
`re.sub(_X, ...)`): every module-level pattern here is used as `_X.search(...)`, `_X.sub(...)` and the like.
"""
from __future__ import annotations

import re
from typing import Any

_COPIED = ("search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer", "pattern", "flags", "groups",
           "groupindex", "scanner")


class lazy:  # noqa: N801 - reads as the re.compile it replaces
    """A stand-in for `re.compile(pattern, flags)` that compiles on its first attribute access."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only reached for what the instance does not hold yet
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(*self._args)
        for attr in _COPIED:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazy({self._args[0]!r}, {self._args[1]!r})"
