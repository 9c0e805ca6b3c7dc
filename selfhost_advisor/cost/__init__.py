"""Self-host vs cloud cost: pure functions over frozen records (no typer, rich or filesystem beyond data/ loading)."""

import sys as _sys


class _CallableModule(type(_sys)):  # type: ignore[misc]
    """`selfhost_advisor.cost` is both this subpackage and the API function (selfhost_advisor/__init__.py): once
    the subpackage is imported it shadows the function, so calling the module runs the API's cost()."""

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from ..api import cost

        return cost(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
