"""A chat burst on a vLLM that renders templates on the API server's event loop reaches the engine as one wave
(estimate/serving/step.py chat_render_on_loop; session 30, serve32; docs/methodology.md 6c "Session 30 (serve32)").

Before vllm PR #34789 (data/serving.yaml chat_render_on_loop_before) each chat request's template is rendered on the
loop and its first real suspension comes after the render, so requests that arrive together are all rendered before
any of them is handed to the engine: no first token before the whole intake. From that release the render runs in a
thread pool and each request reaches the engine as its own intake ends (the replay of session 24)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate.serving.burst import simulate_burst
from selfhost_advisor.estimate.serving.step import chat_render_on_loop, serving_data
from selfhost_advisor.estimate.vllm import get_vllm_quant
from selfhost_advisor.estimate.vllm_graphs import version_tuple

MODEL, Q = get_model("llama3.1:8b"), get_vllm_quant("BF16")
H100 = machine_from_profile(get_profile("h100-sxm"), 1)
OLD, NEW = "0.11.0", "0.24.0"  # gpustack's chat runs; a release after the render left the loop


def _run(n, intake, release, clients=None, prompt=128, out=4):
    return simulate_burst(MODEL, Q, H100, 1, (prompt,) * n, (out,) * n, batched_tokens=8192, max_running=1024,
                          pool_tokens=400_000, clients=clients, intake_s=intake, release=release)


def test_the_release_boundary_is_the_stored_one_and_the_scored_releases_fall_either_side():
    before = str(serving_data()["vllm"]["chat_render_on_loop_before"])
    assert version_tuple(OLD) < version_tuple(before) <= version_tuple(NEW)
    assert chat_render_on_loop(OLD) and not chat_render_on_loop(NEW)
    assert chat_render_on_loop(before) is False
    # the current registry release ('' = engine_version) is past the change: `serve`'s own answers are not moved
    assert chat_render_on_loop("") is False


def test_no_first_token_before_the_whole_intake_on_an_old_release():
    """200 x 128-token prompts, 10 ms a request: the wave enters at 2 s, so even the mean TTFT is at least 2 s, and
    the run lasts the intake plus the engine's own time for the whole burst (it cannot overlap the intake)."""
    n, c = 200, 0.010
    wave, piped, bare = _run(n, c, OLD), _run(n, c, NEW), _run(n, 0.0, OLD)
    assert wave.mean_ttft_s >= n * c
    assert wave.duration_s >= n * c + bare.duration_s * 0.999
    # pipelined, the first requests are served while later ones are still being taken in
    assert piped.mean_ttft_s < n * c
    assert piped.duration_s < wave.duration_s


def test_the_wave_changes_when_requests_start_not_the_work():
    n, c = 300, 0.005
    wave, piped = _run(n, c, OLD), _run(n, c, NEW)
    assert wave.output_tokens == piped.output_tokens == 4 * n
    assert wave.prompt_tokens == piped.prompt_tokens


def test_without_a_chat_intake_the_release_does_not_matter_to_the_arrivals():
    """The completions endpoint (intake 0): every request is in the engine's queue at t = 0 on any release, so the
    first step admits requests at once and the mean TTFT is the engine's own queue (well under the wave's)."""
    n = 200
    old = _run(n, 0.0, OLD)
    assert old.mean_ttft_s < 0.5 * _run(n, 0.010, OLD).mean_ttft_s
    assert old.mean_ttft_s < n * 0.010


def test_a_closed_loops_first_clients_arrive_as_one_wave_then_one_by_one():
    """8 clients send at t = 0: their first tokens wait all 8 intakes on an old release; later requests are sent one
    at a time as others finish and wait their own intake only, so the mean TTFT over 40 requests stays far under
    8 intakes plus the engine time, while a pipelined front end gives the first wave less."""
    c = 0.020
    wave = _run(40, c, OLD, clients=8)
    piped = _run(40, c, NEW, clients=8)
    assert wave.mean_ttft_s > piped.mean_ttft_s
    # the extra wait is the first wave's: at most 8 intakes for 8 of the 40 requests
    assert wave.mean_ttft_s - piped.mean_ttft_s <= 8 * c * 8 / 40 + 1e-9


@pytest.mark.parametrize("release", [OLD, NEW])
def test_more_intake_never_finishes_a_burst_sooner(release):
    times = [_run(150, c, release).duration_s for c in (0.0, 0.002, 0.01, 0.05)]
    assert times == sorted(times)
