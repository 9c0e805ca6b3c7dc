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
    entry = data()["defaults"][name]
    return {"source": entry["source"], "as_of": str(entry["as_of"])}


def thresholds() -> dict[str, float]:
    rec = data()["recommendation"]
    return {"clear_win_ratio": float(rec["clear_win_ratio"]), "low_volume_tokens": float(rec["low_volume_tokens"])}


def stream_floor() -> float:
    """The default per-user stream floor, tokens/s (data/cost.yaml min_stream_tokens_per_s; source(STREAM_FLOOR))."""
    return float(default(STREAM_FLOOR))
