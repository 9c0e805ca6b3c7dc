"""Helpers for the tests of the benchmarks' screening modules (the structures tried and not shipped)."""
from __future__ import annotations


class Scored:
    """A screening module (benchmarks/weak_structures.py, weak_paths.py) with score() computed once per argument tuple
    in this test module. Why: each score is a whole set of leave-one-hardware-out refits (~1 s of CPU), a pure function
    of its arguments and the shipped data, and several tests read the same baseline (suite time). Every other name
    is the module's own."""

    def __init__(self, module) -> None:
        self._module, self._scores = module, {}

    def __getattr__(self, name: str):
        return getattr(self._module, name)

    def score(self, *args):
        if args not in self._scores:
            self._scores[args] = self._module.score(*args)
        return self._scores[args]
