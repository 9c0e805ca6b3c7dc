"""Kernels an MLA or DSA layer launches beyond the Llama layer the vLLM overhead was fitted on
(estimate/serving/kernels.py, data/serving.yaml kernel_counts): each costs layer_overhead_us / 10, the fitted Llama
layer's per-kernel time; models without MLA keep their overhead exactly. A MoE block pays for the kernels it launches
outside fused_moe (kernel_counts.moe_block) beyond a Llama MLP block's 4."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.kernels import extra_kernels, kernel_us, moe_extra_kernels
from selfhost_advisor.estimate.serving.step import overhead_seconds, serving_data


def _per_layer_s() -> float:
    return float(serving_data()["vllm"]["layer_overhead_us"]) * 1e-6


def test_the_per_kernel_time_is_the_fitted_llama_layer_over_its_ten_kernels():
    # models/llama.py LlamaDecoderLayer: input norm, qkv_proj, rotary, cache write, flash-attention, o_proj,
    # post-attention norm, gate_up_proj, SiluAndMul, down_proj
    assert serving_data()["vllm"]["kernel_counts"]["llama_layer"] == 10
    assert kernel_us() == pytest.approx(float(serving_data()["vllm"]["layer_overhead_us"]) / 10)


def test_models_without_mla_launch_no_extra_kernels():
    for name in ("llama3.1:8b", "qwen3:8b", "gpt-oss:120b", "glm-4.6", "qwen3:235b", "nemotron-3-nano:30b"):
        assert extra_kernels(get(name)) == 0, name
    llama = get("llama3.1:8b")
    assert overhead_seconds(llama, 1) == pytest.approx(llama.n_layers * _per_layer_s())


def test_deepseek_r1_mla_block_by_hand():
    # q_lora_rank 1536: input norm, fused_qkv_a_proj, q_a_layernorm, q_b_proj, kv_a_layernorm, rotary, latent cache
    # write, W_UK_T bmm, query concat, split-KV attention + combine, W_UV bmm + its write, o_proj = 14 kernels against
    # a Llama attention block's 6: 8 more in each of the 61 layers
    r1 = get("deepseek-r1:671b-0528")
    assert r1.mla.q_lora_rank == 1536 and r1.n_layers == 61
    assert extra_kernels(r1) == 61 * 8 == 488
    blocks = 2 * r1.n_layers * _per_layer_s() / 2
    # and its 58 MoE blocks (3 leading dense layers) launch 6 kernels outside fused_moe against the 4 charged
    assert moe_extra_kernels(r1) == 58 * 2 == 116
    assert overhead_seconds(r1, 1) == pytest.approx(blocks + (488 + 116) * kernel_us() * 1e-6)
    # 50.9 us / 10 x 488 = 2.48 ms a step on top of the 3.10 ms of 122 residual blocks
    assert 488 * kernel_us() * 1e-3 == pytest.approx(2.48, abs=0.01)


def test_mla_without_a_query_lora_runs_one_kernel_fewer():
    # DeepSeek-V2-Lite: no q_lora_rank, so kv_a_proj_with_mqa and q_proj replace fused_qkv_a_proj, q_a_layernorm, q_b_proj
    lite = get("deepseek-v2:16b")
    assert lite.mla is not None and not lite.mla.q_lora_rank
    assert extra_kernels(lite) == lite.n_layers * 7


def test_dsa_indexer_layers_add_their_kernels():
    v32, r1 = get("deepseek-v3.2:671b"), get("deepseek-r1:671b-0528")
    assert v32.dsa is not None and v32.n_layers == r1.n_layers
    # every V3.2 layer runs the lightning indexer: 11 kernels each on top of R1's MLA surplus
    assert extra_kernels(v32) == extra_kernels(r1) + 11 * v32.n_layers


def test_the_kernels_add_the_same_time_to_every_step_of_an_mla_model(monkeypatch):
    # a per-step launch cost: the same 2.48 ms whether 1 or 256 sequences decode, and nothing for a Llama step
    from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
    from selfhost_advisor.estimate.serving import kernels as K
    from selfhost_advisor.estimate.serving import step as S
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    h200 = machine_from_profile(find_profile("h200"), 8)
    r1, q = get("deepseek-r1:671b-0528"), get_vllm_quant("FP8")
    with_k = [S.step_seconds(r1, q, h200, 8, b, 300) for b in (1, 256)]
    monkeypatch.setattr(K, "extra_kernel_seconds", lambda model: 0.0)
    without = [S.step_seconds(r1, q, h200, 8, b, 300) for b in (1, 256)]
    for a, b in zip(with_k, without):
        assert a - b == pytest.approx((488 + 116) * kernel_us() * 1e-6)


def test_moe_blocks_by_hand():
    # kernels outside fused_moe (data/serving.yaml kernel_counts.moe_block) minus the 4 of a Llama MLP block each MoE
    # block is charged: Qwen3-MoE's norm + gate GEMM (2) in all 94 layers, gpt-oss's norm + router (2) in all 36
    assert moe_extra_kernels(get("qwen3:235b")) == 94 * (2 - 4) == -188
    assert moe_extra_kernels(get("gpt-oss:120b")) == 36 * (2 - 4) == -72
    # GLM-4.6: norm, gate, the shared expert's gate_up / SiluAndMul / down, the fused scale-and-add (6) in the 89 MoE
    # layers after first_k_dense_replace = 3
    assert moe_extra_kernels(get("glm-4.6")) == 89 * (6 - 4) == 178
    # Nemotron-H: one residual block a layer, charged half a Llama layer (5); the 23 MoE blocks launch 6
    assert moe_extra_kernels(get("nemotron-3-nano:30b")) == 23 * (6 - 5) == 23


def test_dense_models_and_uncounted_moe_archs_keep_their_overhead():
    assert moe_extra_kernels(get("llama3.1:8b")) == 0 and moe_extra_kernels(get("qwen3:8b")) == 0
    from selfhost_advisor.catalog.models import all_models

    uncounted = next(m for m in all_models() if m.moe is not None and m.arch == "qwen35moe")
    assert moe_extra_kernels(uncounted) == 0


def test_fewer_moe_kernels_lower_the_overhead_below_a_llama_layers():
    q = get("qwen3:235b")
    assert overhead_seconds(q, 1) == pytest.approx(q.n_layers * _per_layer_s() - 188 * kernel_us() * 1e-6)
    assert overhead_seconds(q, 1) < q.n_layers * _per_layer_s()


def test_minimax_m2_all_reduces_its_qk_norm_variances_under_tp_and_routes_with_two_kernels():
    # vllm models/minimax_m2.py: q_norm / k_norm are MiniMaxText01RMSNormTP over all heads; forward_qk all-reduces the
    # two variances at TP > 1 (layers/mamba/linear_attn.py), one collective and one kernel a layer; its MoE block is
    # norm + fp32 gate GEMM (2 kernels, against a Llama MLP block's 4). Nothing of it at TP 1.
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.estimate.serving.kernels import kernel_us, moe_extra_kernels
    from selfhost_advisor.estimate.serving.collectives import (_custom_allreduce_us, tp_qk_norm_layers,
                                                               tp_qk_norm_seconds)
    from selfhost_advisor.estimate.serving.step import step_kernels

    mm = get("minimax-m2.5:230b")
    b200x4 = machine_from_profile(get_profile("b200"), 4)
    assert moe_extra_kernels(mm) == 62 * (2 - 4)
    assert tp_qk_norm_layers(mm, 1) == 0 and tp_qk_norm_layers(mm, 4) == 62
    assert tp_qk_norm_seconds(mm, b200x4, 4, 1) == pytest.approx(62 * (_custom_allreduce_us(4, 4.0) + kernel_us()) * 1e-6)
    assert step_kernels(mm, 4) - step_kernels(mm, 1) == 2 * 62 + 2 * 62  # per block all-reduces, and the norm's two
    assert tp_qk_norm_layers(get("qwen3:235b"), 8) == 0  # per-head q/k norms need no collective


def test_minimax_m2_before_0_14_all_reduces_q_and_k_norms_apart():
    # vllm PR #31493 (in vLLM's 2026-01-02 weekly summary, so first in 0.14.0) made forward_qk all-reduce the q and k
    # variances at once; before it q_norm and k_norm were two TP norms, each variance -> all-reduce -> normalise
    # (sglang PR #14416: "Each RMSNormTP contains 3 kernels: summation, all_reduce, and the remaining norm"). So a
    # 0.12.0 step of MiniMax-M2.5 at TP 4 runs one more collective and one more kernel a layer than a 0.14.0 one; the
    # registry's current release ('') counts as 0.14.0 and later; a model without full-width q/k norms is unaffected.
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.estimate.serving.kernels import kernel_us
    from selfhost_advisor.estimate.serving.collectives import (_custom_allreduce_us, tp_qk_norm_collectives,
                                                               tp_qk_norm_seconds)
    from selfhost_advisor.estimate.serving.step import step_kernels, step_seconds
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    assert [tp_qk_norm_collectives(v) for v in ("0.12.0", "0.13.0", "0.14.0", "0.30.1", "")] == [2, 2, 1, 1, 1]
    mm = get("minimax-m2.5:230b")
    b200x4 = machine_from_profile(get_profile("b200"), 4)
    one = (_custom_allreduce_us(4, 4.0) + kernel_us()) * 1e-6
    assert tp_qk_norm_seconds(mm, b200x4, 4, 1, "0.12.0") == pytest.approx(2 * 62 * one)
    assert tp_qk_norm_seconds(mm, b200x4, 4, 1, "0.14.0") == pytest.approx(62 * one)
    assert step_kernels(mm, 4, "0.12.0") - step_kernels(mm, 4, "0.14.0") == 2 * 62
    fp8 = get_vllm_quant("FP8")
    old, new = (step_seconds(mm, fp8, b200x4, 4, 1, 2048, release=v) for v in ("0.12.0", "0.14.0"))
    # 0.12.0 also schedules between GPU steps (async scheduling is the default from 0.14.0): one request's host time,
    # step.sync_host_seconds (session 33), which tests/test_serving_sync_s33.py checks on its own
    from selfhost_advisor.estimate.serving.step import sync_host_seconds
    assert old - new == pytest.approx(62 * one + sync_host_seconds(1, "0.12.0"))
    assert new == step_seconds(mm, fp8, b200x4, 4, 1, 2048)
    q = get("qwen3:235b")
    h100x8 = machine_from_profile(get_profile("h100-sxm"), 8)
    # no q/k-norm collectives for Qwen3-235B: the releases differ by the synchronous engine core's host time alone
    assert step_seconds(q, fp8, h100x8, 8, 4, 2048, release="0.11.0") == pytest.approx(
        step_seconds(q, fp8, h100x8, 8, 4, 2048) + sync_host_seconds(4, "0.11.0"), rel=1e-12)


def test_serve_and_the_burst_replay_pass_the_release_to_the_step():
    # the release a user or a published row names (FitRequest.engine_version) reaches every step serve and the burst
    # replay price: MiniMax-M2.5 at TP 4 under 0.12.0 runs the extra q/k-norm collectives, so it serves fewer tokens/s
    # than under the registry's current release at the same concurrency
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.serving import ServeWorkload, serve
    from selfhost_advisor.estimate.serving.burst import serve_burst
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    mm = get("minimax-m2.5:230b")
    b200x4 = machine_from_profile(get_profile("b200"), 4)
    w = ServeWorkload(2048, 512)
    old, new = (serve(mm, b200x4, w, quant="FP8", concurrency=(8,),
                      options=FitRequest(context=1, engine="vllm", engine_version=v)).points[0]
                for v in ("0.12.0", ""))
    assert old.tpot_s > new.tpot_s and old.output_tokens_per_s < new.output_tokens_per_s
    fp8 = get_vllm_quant("FP8")
    b_old, b_new = (serve_burst(mm, b200x4, fp8, (2048,) * 8, (64,) * 8,
                                options=FitRequest(context=1, engine="vllm", engine_version=v)) for v in ("0.12.0", ""))
    assert b_old.duration_s > b_new.duration_s
