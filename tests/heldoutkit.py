"""Held-out blocks of benchmarks/vulkan_heldout.py as the Vulkan tests pin them: a block's rows scored by the shipped
model, their |error| per kind, and the check that a median stays within the figure docs/methodology.md records for
it (with a point of slack, so a small data change elsewhere does not fail a documented figure it leaves standing)."""
from __future__ import annotations

import statistics
import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def vulkan_block(name: str) -> tuple[dict, ...]:
    """The rows of vulkan_heldout.BLOCKS[name], each with the shipped model's prediction and signed error_pct."""
    for sub in ("benchmarks", "scripts"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import vulkan_heldout

    return tuple(vulkan_heldout.report(vulkan_heldout.BLOCKS[name]))


def abs_errors(rows, kind: str, keep: Callable[[dict], bool] = lambda r: True) -> list[float]:
    """|error| (%) of the `kind` rows ("decode" or "prefill") that `keep` accepts."""
    return [abs(r["error_pct"]) for r in rows if r["kind"] == kind and keep(r)]


def assert_median_within(errors: list[float], rows: int, documented: float, slack: float = 1.0) -> None:
    """`rows` errors whose median is at most the documented figure plus `slack` points."""
    assert len(errors) == rows, f"{len(errors)} rows, the block has {rows}"
    median = statistics.median(errors)
    assert median <= documented + slack, f"median |error| {median:.1f}% over the documented {documented}% (+{slack})"
