"""Session 31 (vllm31): the FP32 router gates of GLM-4.5 / 4.6 and MiniMax-M2 run on the CUDA cores, not the tensor
cores (estimate/serving/router.py fp32_router_flops, fp32_simt_flops, fp32_router_seconds, priced in step.py; data/serving.yaml
fp32_router_archs; docs/methodology.md 6c 'Session 31 (vllm31)'). Expected figures come from the models' configs
(hidden size, routed experts, MoE layers) and NVIDIA's FP32 figures, not from the code."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.router import fp32_router_flops, fp32_router_seconds, fp32_simt_flops
from selfhost_advisor.estimate.serving.step import step_seconds
from selfhost_advisor.estimate.vllm import get_vllm_quant

H100x4 = machine_from_profile(get_profile("h100-sxm"), 4)
H200x8 = machine_from_profile(get_profile("h200"), 8)
A100x4 = machine_from_profile(get_profile("a100-80gb"), 4)


def test_glm_and_minimax_gates_cost_2_x_hidden_x_experts_a_token_per_moe_layer():
    """GLM-4.5-Air (config.json: hidden 4096, 128 routed experts, 46 layers, first_k_dense_replace 1), GLM-4.6
    (5120, 160, 92 layers, 3 dense) and MiniMax-M2.5 (3072, 256, 62 layers, all MoE): 2 x hidden x experts a token
    per MoE layer, the whole gate on every GPU."""
    assert fp32_router_flops(get("glm-4.5-air:106b")) == 2 * 4096 * 128 * 45
    assert fp32_router_flops(get("glm-4.6:355b")) == 2 * 5120 * 160 * 89
    assert fp32_router_flops(get("minimax-m2.5:230b")) == 2 * 3072 * 256 * 62


@pytest.mark.parametrize("name", ["qwen3:235b", "deepseek-r1:671b-0528", "gpt-oss:120b", "glm-5.2:744b", "qwen3:32b"])
def test_bf16_gates_and_dense_models_have_no_fp32_router(name):
    """Qwen3-MoE, DeepSeek and gpt-oss build their gates in the model dtype; GLM-5.x's fp32 gate came after the 0.24.0
    its rows ran (vllm PR #47410); a dense model has no router."""
    m = get(name)
    assert fp32_router_flops(m) == 0
    assert fp32_router_seconds(m, H200x8, 8192) == 0.0


def test_fp32_rate_is_the_cuda_cores_fma_rate():
    """NVIDIA's non-tensor FP32 figures: A100 SXM 19.5 TFLOPS, H100 / H200 SXM 67 (66.9 at the 1,980 MHz boost)."""
    assert fp32_simt_flops(A100x4) == pytest.approx(19.5e12, rel=0.01)
    assert fp32_simt_flops(H100x4) == pytest.approx(66.9e12, rel=0.01)
    assert fp32_simt_flops(H200x8) == fp32_simt_flops(H100x4)


def test_an_8192_token_chunk_of_glm46_on_8_h200_pays_its_gate_at_67_tflops():
    """By hand: 8,192 tokens x 2 x 5,120 x 160 x 89 FLOPs = 1.194 TFLOP on every GPU, at 66.9 TFLOPS = 17.8 ms; the
    same whatever the TP (the gate is replicated) and linear in tokens."""
    glm46 = get("glm-4.6:355b")
    t = fp32_router_seconds(glm46, H200x8, 8192)
    assert t == pytest.approx(8192 * 2 * 5120 * 160 * 89 / 66.9e12, rel=0.01)
    assert fp32_router_seconds(glm46, H200x8, 4096) == pytest.approx(t / 2)
    assert fp32_router_seconds(glm46, machine_from_profile(get_profile("h200"), 4), 8192) == pytest.approx(t)


@pytest.mark.parametrize("machine", [A100x4, H100x4])
def test_an_fp32_gate_makes_a_prompt_step_slower_never_faster(machine, monkeypatch):
    """FP32 on the CUDA cores is 16x (A100) / 15x (H100) slower than the BF16 tensor spec, so moving GLM-4.5-Air's gate
    out of the dense GEMMs adds time: at least its FP32 time less what it cost in the dense GEMMs (at most its FLOPs
    at 0.4 of the BF16 spec, under the step's all-in share of 0.445)."""
    from selfhost_advisor.estimate.serving import step as step_mod

    glm, bf16 = get("glm-4.5-air:106b"), get_vllm_quant("BF16")
    step = step_seconds(glm, bf16, machine, 4, 0, 0, 2048, 1024)
    router = fp32_router_seconds(glm, machine, 2048)
    gate_flops = 2048 * 2 * 4096 * 128 * 45
    assert router > 10 * gate_flops / float(machine.devices[0].fp16_flops)
    monkeypatch.setattr(step_mod, "fp32_router_seconds", lambda *args: 0.0)  # the gate back at the tensor rate
    without = step_seconds(glm, bf16, machine, 4, 0, 0, 2048, 1024)
    assert step - without >= router - gate_flops / (0.4 * float(machine.devices[0].fp16_flops))
    assert step > without
