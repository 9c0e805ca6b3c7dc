"""One context manager for the estimators' scoped switches: a module keeps a list as a stack (a build date a prediction
is for, a rule turned off for a baseline score); `pushed` puts a value on it for the `with` block and takes it off after,
also when the block raises. Each switch keeps its own name and docstring in its module and returns `pushed(...)`."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def pushed(stack: list, value: Any = True) -> Iterator[None]:
    stack.append(value)
    try:
        yield
    finally:
        stack.pop()
