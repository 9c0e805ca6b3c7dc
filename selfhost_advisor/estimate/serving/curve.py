"""From a server model to the report: which concurrencies to show, the peak, the recommended point, the limits."""
from __future__ import annotations

from typing import Callable

from .types import ServeCheck, ServeMiss, ServePoint, ServeWorkload

PointFn = Callable[[int], ServePoint]


def default_concurrencies(max_concurrency: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to the engine's maximum, and the maximum itself."""
    out, b = [], 1
    while b < max_concurrency:
        out.append(b)
        b *= 2
    out.append(max(1, max_concurrency))
    return tuple(out)


def unmet(p: ServePoint | ServeMiss, w: ServeWorkload) -> tuple[str, ...]:
    """The workload's targets point p misses, by their JSON names (workload.max_ttft_s, .min_stream_tokens_per_s)."""
    out = []
    if w.max_ttft_s is not None and p.ttft_s > w.max_ttft_s:
        out.append("max_ttft_s")
    if w.min_stream_tokens_per_s is not None and p.stream_tokens_per_s < w.min_stream_tokens_per_s:
        out.append("min_stream_tokens_per_s")
    return tuple(out)


def meets(p: ServePoint, w: ServeWorkload) -> bool:
    return not unmet(p, w)


def unmet_text(p: ServePoint | ServeMiss, w: ServeWorkload) -> str:
    """'time to first token 16.40 s > 1 s, 14.3 tokens/s per stream < 20' for the targets p misses (unmet)."""
    missed = unmet(p, w)
    parts = []
    if "max_ttft_s" in missed:
        parts.append(f"time to first token {p.ttft_s:.2f} s > {w.max_ttft_s:g} s")
    if "min_stream_tokens_per_s" in missed:
        parts.append(f"{p.stream_tokens_per_s:.1f} tokens/s per stream < {w.min_stream_tokens_per_s:g}")
    return ", ".join(parts)


def check(points: tuple[ServePoint, ...], single: ServePoint | None, w: ServeWorkload,
          levels: tuple[int, ...]) -> ServeCheck | None:
    """The check a user asked for: the targets they set (w.requested(): --max-ttft, --min-stream-tps, not the default
    floor) at every --concurrency level listed (points are those levels), or without levels at some concurrency, which
    is one user's point (the best latency). None when no target was set, or nothing was computed (does not fit)."""
    req = w.requested()
    if not req.has_targets or single is None:
        return None
    at = [p for p in points if p.concurrency in set(levels)] if levels else [single]
    failed = tuple(ServeMiss(p.concurrency, unmet(p, req), p.ttft_s, p.stream_tokens_per_s)
                   for p in at if unmet(p, req))
    return ServeCheck(req.max_ttft_s, req.min_stream_tokens_per_s, tuple(levels), not failed, failed)


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


def walk(make_server: Callable[[int], "object"], max_concurrency: int, first_limit: str,
         concurrency: tuple[int, ...], w: ServeWorkload) -> tuple:
    """The curve both engines report, from a server built for a concurrency ceiling (PagedServer or SlotServer):
    the ceiling drops to what the prefill budget admits (limit 'compute'; more requests would only queue), then the
    requested or default levels, the peak, the recommended point, and 'compute' / 'slo' when they bind there.

    Returns (server, max_concurrency, limits, points, peak, recommended)."""
    server = make_server(max_concurrency)
    limits = [first_limit]
    budget = server.budget_limit()
    if budget < max_concurrency:  # prompts would queue for the token budget: more requests add only waiting
        max_concurrency, limits = budget, ["compute"]
        server = make_server(max_concurrency)
    points = [server.point(b) for b in concurrency or default_concurrencies(max_concurrency)]
    top = peak(points + [server.point(max_concurrency)])
    rec = recommended(server.point, max_concurrency, w)
    if server.point(max_concurrency).compute_bound and "compute" not in limits:
        limits.append("compute")
    if rec is None or rec.concurrency < max_concurrency:
        limits.append("slo")
    return server, max_concurrency, limits, points, top, rec
