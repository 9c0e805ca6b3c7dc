"""From a server model to the report: which concurrencies to show, the peak, the recommended point, the limits."""
from __future__ import annotations

from typing import Callable

from .types import ServePoint, ServeWorkload

PointFn = Callable[[int], ServePoint]


def default_concurrencies(max_concurrency: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to the engine's maximum, and the maximum itself."""
    out, b = [], 1
    while b < max_concurrency:
        out.append(b)
        b *= 2
    out.append(max(1, max_concurrency))
    return tuple(out)


def meets(p: ServePoint, w: ServeWorkload) -> bool:
    if w.max_ttft_s is not None and p.ttft_s > w.max_ttft_s:
        return False
    if w.min_stream_tokens_per_s is not None and p.stream_tokens_per_s < w.min_stream_tokens_per_s:
        return False
    return True


def recommended(point: PointFn, max_concurrency: int, w: ServeWorkload) -> ServePoint | None:
    """The highest-throughput point meeting the targets: latency grows and throughput grows with concurrency up to the
    engine's maximum, so it is the largest concurrency that still meets them (bisection)."""
    top = point(max_concurrency)
    if meets(top, w):
        return top
    if not meets(point(1), w):
        return None
    lo, hi = 1, max_concurrency
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if meets(point(mid), w):
            lo = mid
        else:
            hi = mid - 1
    best = point(lo)
    return best


def peak(points: list[ServePoint]) -> ServePoint:
    return max(points, key=lambda p: (p.output_tokens_per_s, -p.concurrency))
