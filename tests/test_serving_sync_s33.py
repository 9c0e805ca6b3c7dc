"""Session 33 (serve33): a vLLM release before async scheduling's default runs its engine core between GPU steps
(estimate/serving/step.py sync_host_seconds, data/serving.yaml sync_scheduling_runs; docs/methodology.md 6c
"Session 33 (serve33)")."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.step import (serving_data, step_seconds, sync_host_seconds,
                                                    sync_host_us_per_request)
from selfhost_advisor.estimate.vllm import get_vllm_quant

ROOT = Path(__file__).resolve().parents[1]


def _ab_us(itl_ms: float, itl_async_ms: float, running: int = 256) -> float:
    return (itl_ms - itl_async_ms) * 1e3 / running


def test_async_scheduling_is_the_default_from_0_14_0():
    # vLLM v0.14.0 release notes: "Async scheduling is now enabled by default" (#27614); v0.11.1's: "We expect
    # --async-scheduling to be enabled by default in the next release"
    assert serving_data()["vllm"]["sync_scheduling_before"] == "0.14.0"
    for release in ("0.6.3", "0.9.2", "0.10.1.1", "0.10.2", "0.11.0", "0.12.0", "0.13.0"):
        assert sync_host_seconds(8, release) > 0, release
    for release in ("0.14.0", "0.16.0", "0.21.0", "0.30.0", ""):  # '' = the registry's current release (0.33.0)
        assert sync_host_seconds(8, release) == 0.0, release
    assert sync_host_seconds(0, "0.11.0") == 0.0


def test_the_per_request_time_is_gpustacks_a100_async_ab():
    # gpustack performance-lab, vLLM 0.11.0, one A100 SXM 80GB, 1000 ShareGPT chat requests at once, 256 running (the
    # A100's API-server max_num_seqs): median ITL without / with --async-scheduling, gpt-oss-120b 70.10 / 65.76 ms,
    # gpt-oss-20b 33.96 / 28.41 ms
    a, b = _ab_us(70.10, 65.76), _ab_us(33.96, 28.41)
    assert (a, b) == pytest.approx((16.95, 21.68), abs=0.01)
    assert sync_host_us_per_request() == pytest.approx(math.sqrt(a * b), rel=1e-9)


def test_the_term_is_per_scheduled_request_decoding_or_prefilling():
    q = get_vllm_quant("BF16")
    model = get("qwen3:8b")
    m = machine_from_profile(get_profile("h100-sxm"), 1)
    per = sync_host_us_per_request() * 1e-6
    for b in (1, 64, 256):
        gap = step_seconds(model, q, m, 1, b, 1500, release="0.11.0") - step_seconds(model, q, m, 1, b, 1500)
        assert gap == pytest.approx(b * per, rel=1e-9)
    # a step carrying two requests' prompt chunks schedules those two requests too
    gap = (step_seconds(model, q, m, 1, 8, 1500, 1024, 512, prefill_seqs=2, release="0.11.0")
           - step_seconds(model, q, m, 1, 8, 1500, 1024, 512, prefill_seqs=2))
    assert gap == pytest.approx(10 * per, rel=1e-9)


def test_four_streams_stay_under_the_same_host_overlap_bound():
    # gpustack qwen3-8b/h100-latency.md, ShareGPT at --max-concurrency 4 on one H100 SXM: vLLM 0.11.0 (synchronous)
    # mean TPOT 7.38 ms, SGLang 0.5.3.post3 (overlapped scheduler) 7.19 ms on the same host: the synchronous loop can
    # cost at most ~0.19 ms a step there
    q = get_vllm_quant("BF16")
    model = get("qwen3:8b")
    m = machine_from_profile(get_profile("h100-sxm"), 1)
    gap = step_seconds(model, q, m, 1, 4, 450, release="0.11.0") - step_seconds(model, q, m, 1, 4, 450)
    assert 0 < gap < (7.38 - 7.19) * 1e-3


def test_the_fitted_layer_overhead_rows_ran_async_releases():
    """scripts/fit_serving.py fits layer_overhead_us on the single-stream calibration rows without this term; that is
    only right while every one of them ran a release with async scheduling on by default."""
    rows = yaml.safe_load((ROOT / "data" / "serving_benchmarks.yaml").read_text())["rows"]
    cal = [r for r in rows if r["role"] == "calibration" and r["kind"] == "single_stream"]
    assert cal
    for r in cal:
        release = str(r["engine"]).split(" ", 1)[1]
        assert sync_host_seconds(1, release) == 0.0, r["id"]
