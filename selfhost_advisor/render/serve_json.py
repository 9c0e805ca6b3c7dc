"""The `advisor serve --json` object (docs/schema/serve.schema.json), built from a ServeReport in one place."""
from __future__ import annotations

from typing import Any

from .. import SCHEMA_VERSION
from ..estimate.serving.types import ServeCheck, ServePoint, ServeReport
from .jsonout import machine_dict, model_dict, round_finite as _r


def point_dict(p: ServePoint | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "concurrency": p.concurrency, "running": p.running, "queued": p.queued,
        "output_tokens_per_s": _r(p.output_tokens_per_s, 1), "total_tokens_per_s": _r(p.total_tokens_per_s, 1),
        "ttft_s": _r(p.ttft_s, 4), "tpot_s": _r(p.tpot_s, 5), "stream_tokens_per_s": _r(p.stream_tokens_per_s, 2),
        "kv_bytes_per_gpu": int(p.kv_bytes_per_gpu), "compute_bound": p.compute_bound,
    }


def check_dict(c: ServeCheck | None) -> dict[str, Any] | None:
    """The requested check (schema 1.27): the targets set, the --concurrency levels checked (null: any concurrency),
    passed (False is exit 1), and each level that missed with the targets it missed."""
    if c is None:
        return None
    return {
        "targets": {"max_ttft_s": c.max_ttft_s, "min_stream_tokens_per_s": c.min_stream_tokens_per_s},
        "concurrency": list(c.concurrency) or None,
        "passed": c.passed,
        "failed": [{"concurrency": m.concurrency, "unmet": list(m.unmet), "ttft_s": _r(m.ttft_s, 4),
                    "stream_tokens_per_s": _r(m.stream_tokens_per_s, 2)} for m in c.failed],
    }


def serve_dict(r: ServeReport) -> dict[str, Any]:
    w = r.workload
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_dict(r.model, r.params),
        "hardware": machine_dict(r.machine),
        "engine": r.engine,
        "quant": r.quant,
        "workload": {"prompt_tokens": w.prompt_tokens, "output_tokens": w.output_tokens,
                     "max_ttft_s": w.max_ttft_s, "min_stream_tokens_per_s": w.min_stream_tokens_per_s,
                     "cached_prompt_tokens": w.cached_prompt_tokens},
        "fits": r.fits,
        "reason": r.reason or None,
        "tensor_parallel_size": r.tp,
        "max_concurrency": r.max_concurrency,
        "limits": list(r.limits),
        "kv_pool_bytes": int(r.kv_pool_bytes), "kv_pool_tokens": int(r.kv_pool_tokens),
        "kv_bytes_per_request": int(r.kv_bytes_per_request),
        "points": [point_dict(p) for p in r.points],
        "peak": point_dict(r.peak),
        "recommended": point_dict(r.recommended),
        "check": check_dict(r.check),
        "band": {"low_factor": _r(r.band[0], 3), "high_factor": _r(r.band[1], 3)},
        "confidence": r.confidence,
        "command": r.command,
        "assumptions": dict(sorted(r.assumptions.items())),
        "warnings": list(r.warnings),
    }
