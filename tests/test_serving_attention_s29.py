"""Session 29 (serve31): what vLLM's prompt attention computes and at what rate, and the MoE layers' add-RMSNorms
(estimate/serving/attention.py prompt_attention_flops, rates.py attention_tensor_flops, step.py moe_norm_seconds;
docs/methodology.md 6c 'Session 29 (serve31)'). Expected figures come from the models' configs and the kernels' byte
counts, not the code."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.attention import attention_flops, prompt_attention_flops
from selfhost_advisor.estimate.serving.rates import attention_tensor_flops
from selfhost_advisor.estimate.serving.step import moe_norm_seconds, step_seconds
from selfhost_advisor.estimate.speed import efficiency
from selfhost_advisor.estimate.vllm import get_vllm_quant

H200 = machine_from_profile(get_profile("h200"), 8)
H100 = machine_from_profile(get_profile("h100-sxm"), 1)
A100 = machine_from_profile(get_profile("a100-80gb"), 1)


def test_an_mla_prompt_token_runs_multi_head_attention_at_192_plus_128():
    """DeepSeek-R1 (config.json: 128 heads, qk_nope 128, qk_rope 64, v_head 128, 61 layers): a prompt token at 4,096
    cached tokens does 2 x 128 x (192 + 128) FLOPs per cached token and layer, split over 8 GPUs; decoding keeps the
    latent's 4 x 128 x (512 + 64)."""
    r1 = get("deepseek-r1:671b-0528")
    assert prompt_attention_flops(r1, 8, 4096) == pytest.approx(2 * 128 * (192 + 128) * 4096 * 61 / 8)
    assert attention_flops(r1, 8, 4096) == pytest.approx(4 * 128 * (512 + 64) * 4096 * 61 / 8)


@pytest.mark.parametrize("name", ["qwen3:8b", "qwen3:235b", "deepseek-v3.2:671b"])
def test_other_models_prompt_attention_is_their_decode_attention(name):
    """Only MLA without DeepSeek sparse attention changes: an ordinary GQA model computes the same attention for a
    prompt and a decoding token, and DSA models run their own sparse kernel for both (dsa_attention_flops)."""
    m = get(name)
    assert prompt_attention_flops(m, 2, 3000) == pytest.approx(attention_flops(m, 2, 3000))


def test_attention_runs_at_the_16_bit_rate_in_an_fp8_model():
    """vLLM's FlashAttention backend takes BF16 / FP16 queries and a 16-bit cache: an FP8 model's attention is no
    faster than a BF16 one's (the H100 SXM's 989 dense BF16 TFLOPS), unless the KV cache is FP8 on Hopper, where
    FlashAttention 3 computes in FP8 (more than the 16-bit rate; the A100 has no FP8 tensor cores)."""
    fp8, bf16 = get_vllm_quant("FP8"), get_vllm_quant("BF16")
    assert attention_tensor_flops(H100, fp8) == attention_tensor_flops(H100, bf16) == pytest.approx(989e12, rel=0.01)
    assert attention_tensor_flops(H100, fp8, kv_dtype_bytes=1) > 1.5 * attention_tensor_flops(H100, fp8)
    assert attention_tensor_flops(A100, fp8, kv_dtype_bytes=1) == attention_tensor_flops(A100, bf16)


def test_a_long_fp8_prompt_costs_as_much_attention_as_a_bf16_one_on_an_h100():
    """Qwen3-8B at 16k of depth: a 2,048-token chunk's step in FP8 saves only on the GEMMs; the attention, most of the
    step at this depth, is the same kernel at the same rate, so FP8 saves less than the FP8 GEMMs' ~1.8x."""
    m = get("qwen3:8b")
    t8 = step_seconds(m, get_vllm_quant("FP8"), H100, 1, 0, 0, 2048, 16384)
    t16 = step_seconds(m, get_vllm_quant("BF16"), H100, 1, 0, 0, 2048, 16384)
    assert t16 / t8 < 1.5


def test_moe_layers_pay_two_add_norms_a_token_whatever_the_tp():
    """vLLM's fused_add_rms_norm reads input and residual and writes both (4 x 2 bytes an element), twice a layer, on
    the whole hidden state every GPU holds: Qwen3-235B-A22B (config: hidden 4096, 94 layers, all MoE) moves
    16 x 4096 x 94 bytes a token per GPU; a dense model pays none here (its norms are in the all-in GEMM share)."""
    q235, dense = get("qwen3:235b"), get("qwen3:32b")
    dev = H200.devices[0]
    bw = efficiency(dev.backend).bandwidth * dev.bandwidth_bytes_per_s
    assert moe_norm_seconds(q235, H200, 1000) == pytest.approx(1000 * 16 * 4096 * 94 / bw)
    assert moe_norm_seconds(dense, H200, 1000) == 0.0
    assert moe_norm_seconds(q235, H200, 0) == 0.0


def test_every_gpu_multiplies_the_matrices_vllm_replicates_whole():
    """DeepSeek-R1 (config: hidden 7,168, q_lora_rank 1,536, kv_lora_rank + rope 576, 61 layers of which 58 MoE with
    256 routed experts): vLLM keeps fused_qkv_a_proj (disable_tp=True) and the router gate whole on each of 8 GPUs, so
    a token costs each GPU 7/8 of 2 x (61 x 7168 x 2112 + 58 x 7168 x 256) FLOPs more than an even split; a model
    without such matrices (Qwen3-8B) splits evenly."""
    from selfhost_advisor.estimate.serving.step import step_parts

    fp8, bf16 = get_vllm_quant("FP8"), get_vllm_quant("BF16")
    r1 = get("deepseek-r1:671b-0528")
    whole = 2 * (61 * 7168 * (1536 + 576) + 58 * 7168 * 256)
    assert step_parts(r1, fp8, 8)[2] - step_parts(r1, fp8, 1)[2] / 8 == pytest.approx(whole * 7 / 8, rel=1e-4)
    q8 = get("qwen3:8b")
    assert step_parts(q8, bf16, 2)[2] == pytest.approx(step_parts(q8, bf16, 1)[2] / 2, abs=1)
    assert step_parts(r1, fp8, 8)[0] > step_parts(r1, fp8, 1)[0] / 8  # the replicated bytes are read whole too
