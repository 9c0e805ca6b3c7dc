"""One context manager for the estimators' scoped switches: a module keeps a list as a stack (a build date a prediction
is for, a rule turned off for a baseline score); `pushed` puts a value on it for the `with` block and takes it off after,
also when the block raises. Each switch keeps its own name and docstring in its module and returns `pushed(...)`."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

# Every stack `pushed` has been given, by id (the modules' stacks live as long as the process): what state() reads.
_STACKS: dict[int, list] = {}


@contextmanager
def pushed(stack: list, value: Any = True) -> Iterator[None]:
    _STACKS.setdefault(id(stack), stack)
    stack.append(value)
    try:
        yield
    finally:
        stack.pop()


def state() -> tuple:
    """Which switches are on now, with their values (repr: some push dicts), as a hashable key. A stack no `with` has
    used yet is empty, as every stack is outside its blocks. Why: the record scripts (benchmarks/) memoize their reports
    per process, and an answer computed inside a switch's block must not be served outside it."""
    return tuple((k, repr(s)) for k, s in _STACKS.items() if s)
