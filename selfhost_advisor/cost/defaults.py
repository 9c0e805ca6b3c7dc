"""data/cost.yaml: the cost model's default assumptions, each with source and as_of."""
from __future__ import annotations

from typing import Any

from ..catalog.data import load


# The per-user decode speed floor `cost` sizes boxes at and `serve` recommends at when none is given (--min-stream-speed /
# --min-stream-tps): one entry of data/cost.yaml, read by both, so `cost`'s capacity stays `serve`'s recommended point.
STREAM_FLOOR = "min_stream_tokens_per_s"


def data() -> dict[str, Any]:
    return load("cost")


def default(name: str) -> Any:
    return data()["defaults"][name]["value"]


def source(name: str) -> dict[str, Any]:
    """The default's source and the day it was read (as_of); where data/cost.yaml dates the figure itself (the period an
    average or a wage describes: EIA's 2024 electricity price, BLS's May 2024 wage), `figure` and `figure_as_of` too
    (session 34, price34: those dates were in the source text alone, as_of being the day read)."""
    entry = data()["defaults"][name]
    dated = {k: str(entry[k]) for k in ("figure", "figure_as_of") if entry.get(k) is not None}
    return {"source": entry["source"], "as_of": str(entry["as_of"]), **dated}


def thresholds() -> dict[str, float]:
    rec = data()["recommendation"]
    return {"clear_win_ratio": float(rec["clear_win_ratio"]), "low_volume_tokens": float(rec["low_volume_tokens"])}


def stream_floor() -> float:
    """The default per-user stream floor, tokens/s (data/cost.yaml min_stream_tokens_per_s; source(STREAM_FLOOR))."""
    return float(default(STREAM_FLOOR))
