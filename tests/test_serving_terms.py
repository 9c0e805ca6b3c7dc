"""Laws of the batched step's terms (estimate/serving/step.py): the int4 kernel term, the tensor-parallel all-reduce,
and the split of a step into weight GEMMs and attention."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.estimate.serving.attention import kv_read_bytes
from selfhost_advisor.estimate.serving.collectives import allreduce_seconds
from selfhost_advisor.estimate.serving.step import overhead_seconds, step_parts, step_seconds
from selfhost_advisor.estimate.speed import efficiency
from selfhost_advisor.estimate.vllm import get_vllm_quant

BATCH = st.integers(1, 1024)
DEPTH = st.integers(1, 32000)


def _machine(hw: str, n: int = 1):
    return machine_from_profile(get_profile(hw), n)


@pytest.mark.parametrize("hw", ["h100-sxm", "a100-80gb", "rtx-4090"])
@pytest.mark.parametrize("fmt", ["AWQ-INT4", "GPTQ-INT4"])
@given(b=BATCH, depth=DEPTH)
@settings(max_examples=25, deadline=None)
def test_int4_step_never_beats_its_memory_bound(hw, fmt, b, depth):
    """Whatever the kernel, a W4A16 step reads its int4 weights and the KV at least once at the bandwidth share."""
    model, q, m = get_model("qwen3:14b"), get_vllm_quant(fmt), _machine(hw)
    dense, experts, _ = step_parts(model, q, 1)
    dev = m.devices[0]
    floor = (dense + experts + b * kv_read_bytes(model, 1, depth)) / (efficiency(dev.backend).bandwidth
                                                                      * dev.bandwidth_bytes_per_s)
    assert step_seconds(model, q, m, 1, b, depth) >= floor


@given(b=BATCH, depth=DEPTH)
@settings(max_examples=40, deadline=None)
def test_the_marlin_term_never_speeds_a_step_and_vanishes_while_memory_bound(b, depth):
    """AWQ runs Marlin (mma.sync only) on Hopper: against the same step at the full tensor rate it is never faster,
    and at one sequence (memory-bound) it is the same."""
    from selfhost_advisor.estimate.serving import rates

    model, q, m = get_model("qwen3:14b"), get_vllm_quant("AWQ-INT4"), _machine("h100-sxm")
    marlin = step_seconds(model, q, m, 1, b, depth)
    one = step_seconds(model, q, m, 1, 1, depth)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rates, "mma_sync_share", lambda machine, quant: 1.0)
        assert marlin >= step_seconds(model, q, m, 1, b, depth) * (1 - 1e-12)
        assert one == pytest.approx(step_seconds(model, q, m, 1, 1, depth))


def test_int4_reaches_compute_bound_only_past_the_marlin_range():
    """Marlin's README: near-ideal (memory-bound) speedups up to batch 16-32; our step stays memory-bound there."""
    model, q, m = get_model("llama3.1:8b"), get_vllm_quant("AWQ-INT4"), _machine("a100-80gb")
    w = step_seconds(model, q, m, 1, 1, 1) - overhead_seconds(model, 1)
    assert step_seconds(model, q, m, 1, 16, 1) - overhead_seconds(model, 16) < 1.1 * w
    assert step_seconds(model, q, m, 1, 512, 1) - overhead_seconds(model, 512) > 2 * w


@pytest.mark.parametrize("hw,n", [("h100-sxm", 2), ("h100-sxm", 4), ("h100-sxm", 8), ("rtx-4090", 2)])
@given(tokens=st.floats(1, 16384), more=st.floats(1, 4))
@settings(max_examples=30, deadline=None)
def test_allreduce_is_positive_and_never_falls_as_the_message_grows(hw, n, tokens, more):
    model, m = get_model("llama3.1:70b"), _machine(hw, n)
    a, b = allreduce_seconds(model, m, n, tokens), allreduce_seconds(model, m, n, tokens * more)
    assert 0 < a <= b * (1 + 1e-12)


def test_tensor_parallel_adds_time_per_step_and_pcie_costs_more_than_nvlink():
    model = get_model("llama3.1:70b")
    q = get_vllm_quant("AWQ-INT4")
    nv, pcie = _machine("h100-sxm", 2), _machine("rtx-4090", 2)
    for b in (1, 32, 256):
        assert allreduce_seconds(model, nv, 2, b) > 0
        assert step_seconds(model, q, nv, 2, b, 1024) > step_seconds(model, q, nv, 2, b, 1024) - allreduce_seconds(
            model, nv, 2, b)
        assert allreduce_seconds(model, pcie, 2, b) > allreduce_seconds(model, nv, 2, b)
    assert allreduce_seconds(model, nv, 1, 64) == 0.0


@given(b=BATCH, depth=DEPTH, extra=st.integers(1, 4096))
@settings(max_examples=40, deadline=None)
def test_a_step_never_gets_shorter_with_more_work(b, depth, extra):
    """More sequences, deeper KV or a larger prefill chunk never make a step faster (each part is a roofline of
    non-decreasing work)."""
    model, q, m = get_model("qwen3:8b"), get_vllm_quant("BF16"), _machine("h100-sxm")
    base = step_seconds(model, q, m, 1, b, depth)
    assert step_seconds(model, q, m, 1, b + 1, depth) >= base
    assert step_seconds(model, q, m, 1, b, depth + extra) >= base
    assert step_seconds(model, q, m, 1, b, depth, extra, 256) >= base


def test_lm_head_runs_once_per_request_in_a_step_not_per_prompt_token():
    # vLLM computes logits only at each scheduled request's last token (gpu_model_runner: hidden_states[logits_indices]),
    # so a 2048-token chunk of one prompt costs the LM head once: taking it per token, as before, overstated a Qwen3-0.6B
    # chunk by 2 x 151936 x 1024 FLOPs a token (its body is 2 x 28 x 15.7 M = 0.88 GFLOP)
    from selfhost_advisor.estimate.serving.step import lm_head_flops

    model, q, m = get_model("qwen3:0.6b"), get_vllm_quant("BF16"), _machine("h100-sxm")
    assert lm_head_flops(model, 1) == 2 * 151936 * 1024  # tied: token_embd is the head (config vocab x hidden)
    assert lm_head_flops(model, 2) == 151936 * 1024
    one = step_seconds(model, q, m, 1, 0, 0, 2048, 1024, prefill_seqs=1)
    many = step_seconds(model, q, m, 1, 0, 0, 2048, 1024, prefill_seqs=2048)
    fl = efficiency(m.devices[0].backend).prefill_f16_all_in * m.devices[0].fp16_flops
    assert many - one == pytest.approx(2047 * lm_head_flops(model, 1) / fl, rel=1e-6)
    # a decode step still samples every sequence: b rows of logits
    assert step_seconds(model, q, m, 1, 64, 512) == step_seconds(model, q, m, 1, 64, 512, 0, 0, 2, 5)


def test_fp8_gemm_gain_on_h100_is_the_measured_matmul_ratio_not_the_spec_ratio():
    """stas00/ml-engineering's maximum achievable matmul table (data/serving.yaml gemm_achieved_tflops): an H100 SXM
    reached 1402.6 TFLOPS in FP8 and 794.5 in BF16, so an FP8 GEMM gains 1.765x over BF16 where the spec says 2x:
    the FP8 rate a vLLM step uses is 1978.9 TFLOPS x (1402.6 / 1979) / (794.5 / 989) = 1746 TFLOPS."""
    from selfhost_advisor.estimate.serving.rates import fp8_gemm_gain, matmul_flops

    m = _machine("h100-sxm")
    by_hand = (1402.6 / 1979) / (794.5 / 989)
    assert fp8_gemm_gain(m) == pytest.approx(by_hand, rel=1e-9)
    assert matmul_flops(m, get_vllm_quant("FP8")) == pytest.approx(1978.9e12 * by_hand, rel=1e-6)
    assert matmul_flops(m, get_vllm_quant("FP8")) / matmul_flops(m, get_vllm_quant("BF16")) == pytest.approx(1.765, abs=0.002)
    # the floor's spec rate is untouched, and parts without an FP8 measurement keep the spec ratio
    assert matmul_flops(m, get_vllm_quant("FP8"), spec=True) == pytest.approx(1978.9e12)
    assert fp8_gemm_gain(_machine("a100-80gb")) == 1.0 and fp8_gemm_gain(_machine("rtx-4090")) == 1.0


@given(b=BATCH, depth=DEPTH)
@settings(max_examples=25, deadline=None)
def test_an_fp8_step_is_never_slower_than_bf16(b, depth):
    """FP8 W8A8 halves the weight bytes and its GEMMs still run faster than 16-bit ones (1.77x on an H100): whatever
    binds the step, it is never slower than BF16's."""
    model, m = get_model("qwen3:8b"), _machine("h100-sxm")
    fp8 = step_seconds(model, get_vllm_quant("FP8"), m, 1, b, depth)
    bf16 = step_seconds(model, get_vllm_quant("BF16"), m, 1, b, depth)
    assert fp8 <= bf16 * (1 + 1e-9)


def test_closed_loop_ttft_waits_for_the_running_step():
    """vLLM's engine core takes new requests only between steps (EngineCoreProc.run_busy_loop): alone, a request's first
    token is its prompt step; with others decoding it first waits half a mean step, which lies between a decode-only step
    (TPOT) and a step that carries a prompt."""
    from selfhost_advisor.estimate.serving.paged import PagedServer

    P, O, budget = 256, 256, 8192
    srv = PagedServer(get_model("llama3.1:8b"), get_vllm_quant("BF16"), _machine("h100-sxm"), 1, P, O, budget, 256)

    def prompt_step(n: int) -> tuple[float, float]:  # (TTFT, the step carrying the prompt beside the solved decoders)
        pt = srv.point(n)
        life = pt.ttft_s + (O - 1) * pt.tpot_s
        return pt.ttft_s, srv._step(n * (O - 1) * pt.tpot_s / life, P)

    ttft, step = prompt_step(1)
    assert ttft == pytest.approx(step, rel=1e-4)
    ttft, step = prompt_step(8)
    tpot = srv.point(8).tpot_s
    assert 0.5 * tpot * 0.99 <= ttft - step <= 0.5 * step * 1.01


def test_b200_has_its_measured_gemm_shares():
    # stas00/ml-engineering MAMF table (later revision, session 21): B200 SXM BF16 1745.0 of 2250, FP8 3432.5 of 4500:
    # an FP8 GEMM runs (3432.5 / 4500) / (1745 / 2250) = 0.9835 of the spec ratio's 2x over BF16
    from selfhost_advisor.estimate.serving.rates import fp8_gemm_gain

    assert fp8_gemm_gain(_machine("b200")) == pytest.approx((3432.5 / 4500) / (1745.0 / 2250), rel=1e-9)
