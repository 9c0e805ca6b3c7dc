"""The serving model's laws (estimate/serving): KV, throughput and latency move the way a continuously batched server
must, for any model, box and request mix; the recommended point meets its targets; capacity_for_mix agrees with it."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate.serving import ServeWorkload, capacity_for_mix, serve

CASES = [  # (model, hardware, GPUs, engine, quant): dense, MoE, TP over NVLink and PCIe, llama.cpp and Ollama slots
    ("llama3.1:8b", "a100-40gb", 1, "vllm", "BF16"),
    ("llama3.1:8b", "h100-sxm", 1, "vllm", "FP8"),
    ("llama3.1:70b", "h100-sxm", 2, "vllm", "FP8"),
    ("llama3.1:70b", "rtx-4090", 2, "vllm", "AWQ-INT4"),
    ("qwen3:30b-a3b", "h100-sxm", 1, "vllm", "BF16"),
    ("llama3.1:8b", "rtx-4090", 1, "llamacpp", "Q4_K_M"),
    ("llama3.1:8b", "rtx-4090", 1, "ollama", "Q4_K_M"),
]
MIXES = st.tuples(st.integers(16, 8000), st.integers(1, 2000))
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _report(case, prompt, output, levels=(), **targets):
    model, hw, n, engine, quant = case
    return serve(get_model(model), machine_from_profile(get_profile(hw), n), ServeWorkload(prompt, output, **targets),
                 engine=engine, quant=quant, concurrency=levels)


def _levels(rep) -> tuple[int, ...]:
    top = rep.max_concurrency
    return tuple(sorted({1, 2, 3, max(1, top // 4), max(1, top // 2), max(1, top - 1), top}))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}x{c[2]}-{c[3]}")
@SLOW
@given(mix=MIXES)
def test_concurrency_laws(case, mix):
    """More concurrency never needs less KV; up to the maximum, throughput never falls and per-user speed never rises."""
    prompt, output = mix
    rep = _report(case, prompt, output)
    if not rep.fits:
        return
    rep = _report(case, prompt, output, _levels(rep))
    pts = rep.points
    for a, b in zip(pts, pts[1:]):
        assert b.kv_bytes_per_gpu >= a.kv_bytes_per_gpu
        # until compute binds (FLOPs or the prefill token budget), never lower; once it binds, flat within 2%
        assert b.output_tokens_per_s >= a.output_tokens_per_s * (0.98 if b.compute_bound else 1 - 1e-3), (a, b)
        assert b.stream_tokens_per_s <= a.stream_tokens_per_s * (1 + 1e-9), (a, b)
        assert b.ttft_s >= a.ttft_s * (1 - 1e-9)
    for p in pts:
        assert math.isclose(p.total_tokens_per_s, p.output_tokens_per_s * (prompt + output) / output, rel_tol=1e-9)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}x{c[2]}-{c[3]}")
@SLOW
@given(mix=MIXES, factor=st.sampled_from([2, 4]), level=st.sampled_from([1, 8, 64]))
def test_longer_prompts_never_raise_throughput_and_wait_longer(case, mix, factor, level):
    """At the same concurrency a longer prompt never gives more output tokens/s, and its first token comes later."""
    prompt, output = mix
    short = _report(case, prompt, output, (level,))
    long = _report(case, prompt * factor, output, (level,))
    if not (short.fits and long.fits):
        return
    assert long.points[0].output_tokens_per_s <= short.points[0].output_tokens_per_s * (1 + 1e-9)
    assert long.points[0].ttft_s >= short.points[0].ttft_s  # equal only while the prompt step is memory-bound
    assert long.peak.output_tokens_per_s <= short.peak.output_tokens_per_s * (1 + 1e-9)
    if long.max_concurrency > short.max_concurrency:
        # Only Ollama may do this: it picks -b/-ub from its own VRAM prediction of num_ctx x slots (server/sched.go,
        # engines/ollama_launch.auto_batch), so the longer total context can drop the batch (2048 -> 1024) and free
        # compute buffer for KV. At the longer prompt's slot count the shorter prompt must then get the larger batch.
        n = long.max_concurrency
        assert case[3] == "ollama", (short.max_concurrency, n)
        assert _ollama_ub(case, prompt, output, n) > _ollama_ub(case, prompt * factor, output, n)


def _ollama_ub(case, prompt, output, slots):
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.engines.ollama_launch import launch
    from selfhost_advisor.estimate.serving.slots import _request

    model, hw, n, engine, quant = case
    req = _request(engine, ServeWorkload(prompt, output), slots)
    return launch(get_model(model), get_quant(quant), machine_from_profile(get_profile(hw), n), req,
                  int(load("engines")["runtime"]["cuda_context_bytes"]))[1]


def test_ollama_may_serve_more_slots_at_a_longer_prompt_only_through_its_batch_choice():
    """The example hypothesis found (legacy helper, session 9): 57 vs 114 prompt tokens, 456 output, on one RTX 4090."""
    case = ("llama3.1:8b", "rtx-4090", 1, "ollama", "Q4_K_M")
    short, long = _report(case, 57, 456, (1,)), _report(case, 114, 456, (1,))
    assert long.max_concurrency > short.max_concurrency
    n = long.max_concurrency
    assert _ollama_ub(case, 57, 456, n) > _ollama_ub(case, 114, 456, n)
    llama = ("llama3.1:8b", "rtx-4090", 1, "llamacpp", "Q4_K_M")  # a fixed -ub: the law holds
    assert _report(llama, 114, 456, (1,)).max_concurrency <= _report(llama, 57, 456, (1,)).max_concurrency


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}x{c[2]}-{c[3]}")
def test_recommended_point_meets_the_targets_and_is_the_best_that_does(case):
    free = _report(case, 1000, 300)
    assert free.fits and free.recommended == free.peak
    one = free.points[0]
    ttft, speed = one.ttft_s * 3, one.stream_tokens_per_s * 0.6  # met at one stream, not at the maximum (mostly)
    rep = _report(case, 1000, 300, max_ttft_s=ttft, min_stream_tokens_per_s=speed)
    rec = rep.recommended
    assert rec is not None and rec.ttft_s <= ttft and rec.stream_tokens_per_s >= speed
    if rec.concurrency < rep.max_concurrency:
        nxt = _report(case, 1000, 300, (rec.concurrency + 1,)).points[0]
        assert nxt.ttft_s > ttft or nxt.stream_tokens_per_s < speed
        assert "slo" in rep.limits


def test_unreachable_target_gives_no_recommendation_and_capacity_says_why():
    case = CASES[0]
    rep = _report(case, 1000, 300, min_stream_tokens_per_s=10_000)
    assert rep.fits and rep.recommended is None and rep.peak is not None
    cap = capacity_for_mix(get_model("llama3.1:8b"), machine_from_profile(get_profile("a100-40gb")),
                           prompt_tokens=1000, output_tokens=300, quant="BF16", min_stream_tokens_per_s=10_000)
    assert not cap.fits and "per stream" in cap.reason


def test_capacity_for_mix_is_the_recommended_point():
    m, mach = get_model("llama3.1:70b"), machine_from_profile(get_profile("rtx-4090"), 2)
    cap = capacity_for_mix(m, mach, prompt_tokens=1500, output_tokens=500, min_stream_tokens_per_s=10)
    rep = serve(m, mach, ServeWorkload(1500, 500, None, 10), quant=cap.quant)
    assert cap.fits and cap.concurrency == rep.recommended.concurrency
    assert cap.total_tokens_per_s == pytest.approx(cap.output_tokens_per_s * 4)
    assert cap.aggregate_decode_tokens_per_s == cap.output_tokens_per_s > 0
    assert cap.per_stream_decode_tokens_per_s >= 10
    assert 1 <= cap.concurrency <= cap.max_concurrency
    # quant None picks the format with the highest throughput among those meeting the target
    for q in ("BF16", "FP8", "AWQ-INT4", "GPTQ-INT4"):
        other = capacity_for_mix(m, mach, prompt_tokens=1500, output_tokens=500, quant=q, min_stream_tokens_per_s=10)
        assert not other.fits or other.total_tokens_per_s <= cap.total_tokens_per_s * (1 + 1e-9)


def test_kv_pool_binds_vllm_and_slots_bind_llamacpp():
    """A 70B in FP8 on one H200 holds few long requests: the KV pool is the limit; llama.cpp slots x context likewise."""
    rep = _report(("llama3.1:70b", "h200", 1, "vllm", "FP8"), 8000, 8000)
    assert rep.limits[0] == "kv_pool" and rep.max_concurrency * rep.kv_bytes_per_request <= rep.kv_pool_bytes
    assert (rep.max_concurrency + 1) * rep.kv_bytes_per_request > rep.kv_pool_bytes
    cpp = _report(("llama3.1:8b", "rtx-4090", 1, "llamacpp", "Q8_0"), 4000, 4000)
    assert cpp.limits[0] == "kv_pool" and 1 < cpp.max_concurrency < 256


def test_ollama_max_slots_is_the_largest_count_that_fits_even_where_fitting_is_not_monotone():
    """Ollama's automatic batch drops 1024 -> 512 as slots are added, so 16 + 548 tokens of llama3.1:8b Q4_K_M on one
    RTX 4090 fit at 188 slots, not at 189-190, and again at 191 (hypothesis found it, session 20): the bisection alone
    answered 188. The answer must be the largest count whose placement fits, found here by trying every count."""
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.estimate.fit import evaluate
    from selfhost_advisor.estimate.serving.slots import _MAX_SLOTS, _request

    case = ("llama3.1:8b", "rtx-4090", 1, "ollama", "Q4_K_M")
    report = _report(case, 16, 548, (1,))
    model, machine = get_model(case[0]), machine_from_profile(get_profile(case[1]), 1)
    quant = get_engine("ollama").quant("Q4_K_M")
    fits = [n for n in range(1, _MAX_SLOTS + 1)
            if evaluate(model, machine, _request("ollama", ServeWorkload(16, 548), n), quant).placement.fit == "gpu"]
    assert any(b - a > 1 for a, b in zip(fits, fits[1:]))  # the gap this test is about is still there
    assert report.max_concurrency == max(fits)
