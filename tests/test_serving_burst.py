"""Laws of a burst played through vLLM's scheduler (estimate/serving/burst.py) and of the length spread it uses."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate.serving.burst import arrival_order, max_entropy_lengths, serve_burst, simulate_burst
from selfhost_advisor.estimate.serving.step import step_seconds
from selfhost_advisor.estimate.vllm import get_vllm_quant

MODEL, Q = get_model("llama3.1:8b"), get_vllm_quant("BF16")
H100 = machine_from_profile(get_profile("h100-sxm"), 1)


@given(st.floats(5, 900), st.integers(1, 400), st.integers(60, 3000))
@settings(max_examples=60, deadline=None)
def test_spread_keeps_the_mean_and_the_bounds(mean, n, cap):
    xs = max_entropy_lengths(mean, n, cap, floor=4)
    assert len(xs) == n and all(4 <= x <= cap for x in xs)
    assert list(xs) == sorted(xs)
    if n >= 50 and 4 < mean < cap / 2:
        assert sum(xs) / n == pytest.approx(mean, rel=0.05, abs=1.0)


def _burst(n, prompt=512, outputs=None, pool=400_000, seats=256, budget=8192):
    outs = outputs or (128,) * n
    return simulate_burst(MODEL, Q, H100, 1, (prompt,) * n, outs, batched_tokens=budget, max_running=seats,
                          pool_tokens=pool)


def test_every_token_is_counted_once():
    outs = max_entropy_lengths(200, 300, 1500, floor=4)
    r = _burst(300, outputs=outs)
    assert r.output_tokens == sum(outs) and r.prompt_tokens == 300 * 512
    assert 0 < r.mean_ttft_s < r.duration_s and r.mean_tpot_s > 0


def test_more_requests_never_finish_sooner():
    times = [_burst(n).duration_s for n in (1, 8, 64, 300, 600)]
    assert times == sorted(times)


def test_a_smaller_pool_or_fewer_seats_never_finishes_sooner():
    base = _burst(400)
    assert _burst(400, pool=40_000).duration_s >= base.duration_s
    assert _burst(400, seats=32).duration_s >= base.duration_s


def test_a_pool_too_small_for_the_batch_preempts_and_still_finishes():
    r = _burst(200, prompt=1000, outputs=(1000,) * 200, pool=60_000)
    assert r.preemptions > 0 and r.output_tokens == 200_000


def test_a_burst_is_no_faster_than_its_decode_steps():
    """n requests that all run at once decode at least O steps of n sequences (prefill only adds)."""
    n, out = 64, 256
    r = _burst(n, prompt=256, outputs=(out,) * n)
    floor = (out - 1) * step_seconds(MODEL, Q, H100, 1, n, 256)
    assert r.duration_s >= floor


def test_the_long_tail_of_a_mixed_burst_costs_time():
    """The same tokens, all equal or spread with a long tail: the spread finishes later (its longest requests decode
    alone at the end), which is why burst rows are played rather than read off the closed loop."""
    n = 512
    spread = max_entropy_lengths(200, n, 1800, floor=4)
    even = (round(sum(spread) / n),) * n
    assert _burst(n, outputs=spread, seats=1024).duration_s > _burst(n, outputs=even, seats=1024).duration_s


def test_serve_burst_uses_the_engine_plan_and_refuses_what_does_not_fit():
    assert serve_burst(MODEL, H100, Q, (256,) * 10, (64,) * 10).output_tokens == 640
    big = get_model("llama3.1:70b")
    assert serve_burst(big, H100, Q, (256,) * 10, (64,) * 10) is None


@given(st.integers(1, 3000))
@settings(max_examples=60, deadline=None)
def test_arrival_order_is_a_permutation_without_a_length_trend(n):
    xs = max_entropy_lengths(200, n, 1800, floor=4)
    order = arrival_order(xs)
    assert sorted(order) == list(xs)
    if n >= 64:  # every prefix of a quarter or more spreads over the distribution: its mean is near the whole mean
        mean = sum(xs) / n
        for k in (n // 4, n // 2):
            assert sum(order[:k]) / k == pytest.approx(mean, rel=0.15)


def test_sorted_lengths_would_run_shortest_first_and_wait_less():
    """Sent shortest-first (the quantiles as max_entropy_lengths returns them), the first seats free up soonest, so
    the mean time to first token is below that of the same lengths in arrival order: why the replay uses the latter
    (vllm bench sends its ShareGPT sample in dataset order)."""
    outs = max_entropy_lengths(200, 600, 1800, floor=4)
    sjf = _burst(600, prompt=256, outputs=outs, seats=64)
    mixed = _burst(600, prompt=256, outputs=arrival_order(outs), seats=64)
    assert sjf.output_tokens == mixed.output_tokens
    assert sjf.mean_ttft_s < 0.9 * mixed.mean_ttft_s


@given(st.floats(1.5, 127.5), st.integers(50, 400))
@settings(max_examples=40, deadline=None)
def test_spread_above_the_middle_mirrors_the_one_below(mean, n):
    """Outputs that mostly reach their cap (random-dataset runs stopping at EOS now and then): the spread keeps a mean
    above the interval's middle instead of clamping it there, and is the mirror of the spread of the mirrored mean."""
    xs = max_entropy_lengths(mean, n, 128, floor=1)
    assert len(xs) == n and all(1 <= x <= 128 for x in xs) and list(xs) == sorted(xs)
    assert sum(xs) / n == pytest.approx(mean, rel=0.03, abs=1.0)
    if mean > 64.5:
        assert xs == tuple(129 - x for x in reversed(max_entropy_lengths(129 - mean, n, 128, floor=1)))


def _closed(n, clients, prompt=512, outputs=None, seats=256, budget=8192):
    outs = outputs or (128,) * n
    return simulate_burst(MODEL, Q, H100, 1, (prompt,) * n, outs, batched_tokens=budget, max_running=seats,
                          pool_tokens=400_000, clients=clients)


def test_a_closed_loop_with_a_client_per_request_is_the_burst():
    assert _closed(40, 40) == _burst(40) == _closed(40, 100)


def test_one_client_runs_its_requests_one_after_another():
    """One client: each request finds the engine idle (it blocks on its queue and takes the request at once), so every
    TTFT is the prompt alone and the run lasts n single requests."""
    one = _burst(1)
    r = _closed(5, 1)
    assert r.mean_ttft_s == pytest.approx(one.mean_ttft_s, rel=1e-9)
    assert r.duration_s == pytest.approx(5 * one.duration_s, rel=1e-9)
    assert r.output_tokens == 5 * 128


def test_a_request_sent_after_a_finish_waits_for_the_step_already_running():
    """vLLM v1's engine core takes new requests only between steps and has begun the next step before the client
    learns of the finish; so the third request of two clients (sent when the short one ends while the long one still
    decodes) waits one whole decode step of the long request before its own prompt runs."""
    r = _closed(3, 2, prompt=512, outputs=(10, 1000, 10))
    first = _burst(2, prompt=512, outputs=(10, 1000)).mean_ttft_s  # the first two start together, as in a burst
    third = 3 * r.mean_ttft_s - 2 * first
    decode = step_seconds(MODEL, Q, H100, 1, 1, 512 + 10)
    alone_with_one = step_seconds(MODEL, Q, H100, 1, 1, 512 + 11, 512, 256.0, 2, 1)
    assert third >= decode + alone_with_one * 0.999
    assert third < 2.5 * (decode + alone_with_one)


def test_a_closed_loop_of_fixed_lengths_queues_its_first_wave():
    """N clients starting together put N prompts in the first steps: the mean TTFT grows with N past what one
    prompt takes, and more prompts through the same clients dilute the first wave (later ones arrive staggered)."""
    ttft = [_closed(400, c, prompt=2048, outputs=(256,) * 400).mean_ttft_s for c in (1, 8, 32, 128)]
    assert ttft == sorted(ttft) and ttft[-1] > 3 * ttft[0]
    assert _closed(128, 32, prompt=2048).mean_ttft_s > _closed(640, 32, prompt=2048).mean_ttft_s


# The API server's serial intake in front of the engine (burst.py intake_s, chat_intake_seconds; docs/methodology.md
# 6c "The chat intake in the burst replay").
def _with_intake(n, intake, clients=None, prompt=128, outputs=None):
    outs = outputs or (4,) * n
    return simulate_burst(MODEL, Q, H100, 1, (prompt,) * n, outs, batched_tokens=8192, max_running=1024,
                          pool_tokens=400_000, clients=clients, intake_s=intake)


def test_no_intake_is_the_engine_alone():
    assert _with_intake(64, 0.0) == simulate_burst(MODEL, Q, H100, 1, (128,) * 64, (4,) * 64, batched_tokens=8192,
                                                   max_running=1024, pool_tokens=400_000)


def test_a_burst_reaches_the_engine_one_intake_apart():
    """1000 x 128-token prompts with 4 outputs: the GPU work takes ~4 s here, so with 14 ms a request the run lasts at
    least the 1000 intakes (the last request enters at 1000 x 14 ms) and its mean TTFT at least the mean intake end,
    (n + 1) / 2 intakes; without the intake both are the GPU's alone."""
    n, c = 1000, 0.014
    bare, served = _with_intake(n, 0.0), _with_intake(n, c)
    assert bare.duration_s < 0.5 * n * c
    assert served.duration_s >= n * c
    assert served.mean_ttft_s >= (n + 1) / 2 * c
    assert served.output_tokens == bare.output_tokens == 4 * n


def test_more_intake_never_finishes_a_burst_sooner():
    """(Not a law of closed loops: there the intake staggers the first wave's admissions, which can shorten a run.)"""
    times = [_with_intake(200, c).duration_s for c in (0.0, 0.002, 0.01, 0.05)]
    assert times == sorted(times)


def test_a_closed_loop_waits_one_intake_a_request_at_least():
    """One client: each request waits its own intake on an idle engine, so every TTFT grows by the intake and the run
    by n intakes."""
    bare, served = _with_intake(5, 0.0, clients=1), _with_intake(5, 0.02, clients=1)
    assert served.mean_ttft_s == pytest.approx(bare.mean_ttft_s + 0.02, rel=1e-9)
    assert served.duration_s == pytest.approx(bare.duration_s + 5 * 0.02, rel=1e-9)


def test_chat_intake_is_the_data_figure_except_on_harmony():
    """vLLM renders gpt-oss's chat requests with openai_harmony (no Jinja template, no tokenizer call): no intake; any
    other model pays data/serving.yaml chat_intake_us."""
    from selfhost_advisor.estimate.serving.burst import chat_intake_seconds
    from selfhost_advisor.estimate.serving.step import serving_data

    c = serving_data()["vllm"]
    assert "gpt-oss" in c["harmony_chat_archs"]
    assert chat_intake_seconds(get_model("gpt-oss:20b")) == 0.0
    assert chat_intake_seconds(get_model("qwen3:14b")) == pytest.approx(float(c["chat_intake_us"]) * 1e-6)
    assert 0.001 < chat_intake_seconds(get_model("qwen3:14b")) < 0.1
