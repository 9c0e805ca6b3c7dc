"""--enforce-eager priced (estimate/serving/step.py step_kernels / eager_kernel_us, step_seconds eager=):
without CUDA graphs the host launches every kernel of a step, so a step takes the longer of the graph step and
kernels x a host time per launch fitted on two published eager runs (data/serving.yaml eager_decode_runs)."""
from __future__ import annotations

import math

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.serving.step import (EAGER_CAVEAT, eager_host_seconds, eager_kernel_us,
                                                    eager_run_kernel_us, step_kernels, step_seconds)
from selfhost_advisor.estimate.vllm import get_vllm_quant

A100 = machine_from_profile(get_profile("a100-80gb"), 1)


def test_kernel_counts_by_hand():
    # a Llama-style layer launches 10 kernels (models/llama.py): Qwen3-14B's 40 layers 400, Qwen2.5-7B's 28 layers 280
    assert step_kernels(get("qwen3:14b"), 1) == 400
    assert step_kernels(get("qwen2.5:7b"), 1) == 280
    # Qwen3-30B-A3B, 48 MoE layers: 96 residual blocks x 5 = 480, its MoE block's norm and router (2) against the 4 a
    # Llama MLP block is charged (-2 x 48), the fused_moe call's 6 kernels (+6 x 48) = 672; at TP 2 one all-reduce a
    # residual block more (96)
    assert step_kernels(get("qwen3:30b"), 1) == 480 - 96 + 288 == 672
    assert step_kernels(get("qwen3:30b"), 2) == 672 + 96


def test_the_launch_time_is_the_geometric_mean_of_the_published_runs():
    runs = dict(eager_run_kernel_us())
    # vllm #20469: 20.63 ms a token over 400 kernels; vllm-omni #7960: ~22.5 ms over 280
    assert runs["https://github.com/vllm-project/vllm/issues/20469"] == pytest.approx(20630 / 400)
    assert runs["https://github.com/vllm-project/vllm-omni/issues/7960"] == pytest.approx(22500 / 280)
    assert eager_kernel_us() == pytest.approx(math.sqrt(20630 / 400 * 22500 / 280))
    assert f"{eager_kernel_us():.0f} us a kernel" in EAGER_CAVEAT  # the caveat states the figure it prices


def test_an_eager_step_is_the_longer_of_the_graph_step_and_the_launches():
    m, q = get("qwen3:14b"), get_vllm_quant("AWQ-INT4")
    graph = step_seconds(m, q, A100, 1, 1, 8000)
    eager = step_seconds(m, q, A100, 1, 1, 8000, eager=True)
    # one stream: the host's 400 launches (25.8 ms) outlast the GPU's graph step (8.3 ms at this depth)
    assert graph < eager_host_seconds(m, 1) == pytest.approx(eager)
    assert eager_host_seconds(m, 1) == pytest.approx(400 * eager_kernel_us() * 1e-6)
    # a full 8,192-token prompt chunk with 256 decoders: the GPU's work is longer, eager costs nothing more
    big = step_seconds(m, q, A100, 1, 256, 8000, 8192, 4096)
    assert big > eager_host_seconds(m, 1)
    assert step_seconds(m, q, A100, 1, 256, 8000, 8192, 4096, eager=True) == big


def test_fit_prices_eager_decode_and_says_so():
    from selfhost_advisor.engines import get_engine

    eng = get_engine("vllm")
    m, q = get("qwen3:14b"), get_vllm_quant("BF16")
    graphs = eng.option(m, q, A100, FitRequest(context=8192, engine="vllm"))
    eager = eng.option(m, q, A100, FitRequest(context=8192, engine="vllm", enforce_eager=True))
    assert eager.speed.caveats == (EAGER_CAVEAT,) and EAGER_CAVEAT not in eager.speed.note  # listed once (rev22)
    assert not graphs.speed.caveats
    assert eager.speed.decode_tokens_per_s == pytest.approx(1.0 / eager_host_seconds(m, 1))
    assert eager.speed.decode_tokens_per_s < graphs.speed.decode_tokens_per_s
    assert eager.speed.prefill_tokens_per_s == graphs.speed.prefill_tokens_per_s  # prompt chunks are GPU-bound


def test_serve_with_enforce_eager_loses_most_at_few_users():
    from selfhost_advisor.estimate.serving import ServeWorkload, serve

    m = get("qwen3:8b")
    w = ServeWorkload(512, 256)
    graphs = serve(m, A100, w, quant="BF16", concurrency=(1, 128))
    eager = serve(m, A100, w, quant="BF16", concurrency=(1, 128),
                  options=FitRequest(context=1, engine="vllm", enforce_eager=True))
    g1, g128 = graphs.points[0].output_tokens_per_s, graphs.points[1].output_tokens_per_s
    e1, e128 = eager.points[0].output_tokens_per_s, eager.points[1].output_tokens_per_s
    assert e1 < 0.75 * g1  # host-bound: 36 layers x 10 launches at 64 us against a ~10 ms graph step
    assert e128 / g128 > e1 / g1  # a big batch's GPU work hides more of the launches
    assert EAGER_CAVEAT in eager.warnings and EAGER_CAVEAT not in graphs.warnings


def test_serve_takes_enforce_eager_and_prices_it_at_every_concurrency():
    # `advisor serve --enforce-eager` (session 22): the serving model priced eager steps (PagedServer eager=) but the
    # command had no flag, so only `fit` could reach it. A one-stream decode step of Qwen3-14B BF16 on an A100 is
    # ~18 ms with graphs; 400 launches at eager_kernel_us() are ~26 ms, so the eager TPOT at one user is the launches.
    from selfhost_advisor.api import serve

    graphs = serve("qwen3:14b", "a100-80gb", engine="vllm", quant="BF16", concurrency=[1, 32])
    eager = serve("qwen3:14b", "a100-80gb", engine="vllm", quant="BF16", concurrency=[1, 32], enforce_eager=True)
    g1, e1 = graphs.points[0], eager.points[0]
    assert e1.tpot_s > g1.tpot_s * 1.2
    assert e1.tpot_s >= step_kernels(get("qwen3:14b"), 1) * eager_kernel_us() * 1e-6
    assert eager.points[1].tpot_s >= graphs.points[1].tpot_s  # never faster with more users
    assert any("--enforce-eager" in w for w in eager.warnings) and not any("--enforce-eager" in w for w in graphs.warnings)
    assert "--enforce-eager" in eager.command and "--enforce-eager" not in graphs.command


def test_serve_refuses_enforce_eager_on_a_slot_engine():
    from selfhost_advisor.api import serve
    from selfhost_advisor.errors import BadOptionError

    with pytest.raises(BadOptionError, match="vLLM option"):
        serve("qwen3:14b", "rtx4090", engine="llamacpp", enforce_eager=True)
