"""The Xe2 share of data/serving.yaml vllm.xpu_compute_share, re-fitted from its published row through `serve`
(borrowed.py reads the stored figure; this module, apart so that the step does not import serve, checks it:
tests/test_serve_peak_s31.py)."""
from __future__ import annotations

from ...catalog.hardware import machine_from_profile, parse_spec
from ...catalog.models import get
from ...domain import FitRequest
from .borrowed import _data, trial_share
from .serve import serve
from .types import ServeWorkload


def fit_xe2_share(lo: float = 0.05, hi: float = 1.0, tol: float = 1e-4) -> float:
    """The Xe2 share at which serve's time to first token for the stored run's long prompt, less that for its short
    one, equals the measured difference (data/serving.yaml xpu_compute_share.row). The difference leaves out the API
    server's per-request time, which the serving model does not count and both requests pay. Bisection: the
    difference falls as the share rises."""
    row = _data()["row"]
    model = get(str(row["model"]))
    profile, n, _ = parse_spec(str(row["hardware"]))
    machine = machine_from_profile(profile, n)
    req = FitRequest(context=1, kv_cache_type=str(row["kv_cache"]), enforce_eager=bool(row["enforce_eager"]))
    target = float(row["ttft_s"]) - float(row["short_ttft_s"])

    def ttft(prompt: int) -> float:
        w = ServeWorkload(prompt, int(row["output_tokens"]), None, None, 0)
        return serve(model, machine, w, quant=str(row["quant"]), concurrency=(1,), options=req).points[0].ttft_s

    while hi - lo > tol:
        mid = (lo + hi) / 2
        with trial_share(mid):
            diff = ttft(int(row["prompt_tokens"])) - ttft(int(row["short_prompt_tokens"]))
        lo, hi = (lo, mid) if diff < target else (mid, hi)
    return round((lo + hi) / 2, 4)
