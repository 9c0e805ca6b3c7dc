"""Gemma 4 in vLLM's decode step (vllm models/gemma4.py): the 26B-A4B MoE layer runs a dense MLP beside its routed
experts, so its block outside fused_moe is the norms' run, the MLP's gate_up / GeluAndMul / down and the router GEMM
(data/serving.yaml kernel_counts.moe_block gemma4: 5, one more than a Llama MLP block), and under tensor parallelism
it all-reduces the MLP and the experts apart (kernel_counts.tp_parallel_ffn). The dense 31B and the E-series keep a
Llama layer's charge."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.kernels import kernel_us, moe_extra_kernels
from selfhost_advisor.estimate.serving.moe_step import moe_layers
from selfhost_advisor.estimate.serving.collectives import allreduce_seconds, residual_blocks, tp_parallel_ffn_layers
from selfhost_advisor.estimate.serving.step import step_kernels


def test_the_26b_moe_block_launches_one_kernel_more_than_a_llama_mlp():
    m = get("gemma4:26b")
    assert moe_layers(m) == m.n_layers == 30
    assert moe_extra_kernels(m) == 30 * (5 - 4)
    # 60 residual blocks at half a Llama layer's 10, the 30 surplus kernels, 30 fused_moe calls of 6
    assert step_kernels(m, 1) == 60 * 5 + 30 + 30 * 6


def test_dense_gemma4_keeps_the_llama_charge():
    for name in ("gemma4:31b", "gemma4:e4b"):
        m = get(name)
        assert moe_extra_kernels(m) == 0 and tp_parallel_ffn_layers(m, 2) == 0
        assert step_kernels(m, 1) == residual_blocks(m) * 5


def test_the_moe_layers_all_reduce_three_times_under_tp_and_never_at_tp1(monkeypatch):
    from selfhost_advisor.estimate.serving import collectives

    m = get("gemma4:26b")
    assert tp_parallel_ffn_layers(m, 1) == 0 and tp_parallel_ffn_layers(m, 2) == 30
    assert step_kernels(m, 2) - step_kernels(m, 1) == 60 + 30
    box = machine_from_profile(find_profile("h100-sxm"), 2)
    three = allreduce_seconds(m, box, 2, 16)
    monkeypatch.setattr(collectives, "tp_parallel_ffn_layers", lambda model, tp: 0)
    two = allreduce_seconds(m, box, 2, 16)
    assert two > 0 and three == pytest.approx(two * 90 / 60)


def test_the_surplus_costs_the_fitted_per_kernel_time():
    from selfhost_advisor.estimate.serving.kernels import extra_kernel_seconds

    assert extra_kernel_seconds(get("gemma4:26b")) == pytest.approx(30 * kernel_us() * 1e-6)
