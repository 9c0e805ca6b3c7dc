"""The feed-forward part of a block: dense (gated or not, fused or not), mixture of experts, Gemma 4's dense + MoE.

Names and shapes follow llama.cpp's src/llama-model.cpp / src/models/<arch>.cpp load_arch_tensors; estimate/tensors.py
assembles blocks from them.
"""
from __future__ import annotations

from ..domain import Model
from .arch_traits import (
    FUSED_QKV_ARCHS,
    GEMMA4_ARCHS,
    GPT_OSS_ARCHS,
    KIMI_K3_ARCHS,
    ROUTING_BIAS_ARCHS,
    SINGLE_KIND_ARCHS,
    STARCODER2_ARCHS,
    UNGATED_EXPERT_ARCHS,
    UNGATED_MLP_ARCHS,
)
from .tensor import Tensor


def ffn_tensors(model: Model, i: int) -> list[Tensor]:
    p = f"blk.{i}."
    d = model.hidden_size
    moe = model.moe
    if model.arch in GEMMA4_ARCHS:
        return gemma4_ffn_tensors(model, i)
    if moe is None or not model.is_moe_layer(i):
        ff = model.intermediate_size
        if model.arch in SINGLE_KIND_ARCHS or model.arch in UNGATED_MLP_ARCHS:  # squared-ReLU / GELU MLP: no gate
            return [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_down.weight", (ff, d), i)]
        if model.arch in FUSED_QKV_ARCHS:
            return [Tensor(p + "ffn_up.weight", (d, 2 * ff), i), Tensor(p + "ffn_down.weight", (ff, d), i)]
        if model.arch in STARCODER2_ARCHS:  # non-gated MLP with biases
            return [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_up.bias", (ff,), i),
                    Tensor(p + "ffn_down.weight", (ff, d), i), Tensor(p + "ffn_down.bias", (d,), i)]
        return [
            Tensor(p + "ffn_gate.weight", (d, ff), i),
            Tensor(p + "ffn_up.weight", (d, ff), i),
            Tensor(p + "ffn_down.weight", (ff, d), i),
        ]
    ne, ffe = moe.experts, moe.expert_intermediate_size
    out = [Tensor(p + "ffn_gate_inp.weight", (d, ne), i)]
    de = moe.latent_size or d  # LatentMoE (nemotron-h.cpp moe_n_embd): experts between latent down / up projections
    if moe.latent_size and model.arch in KIMI_K3_ARCHS:  # kimi-k3.cpp: ffn_routed_down / up and the latent norm
        out += [Tensor(p + "ffn_routed_down.weight", (d, de), i), Tensor(p + "ffn_routed_up.weight", (de, d), i),
                Tensor(p + "ffn_routed_norm.weight", (de,), i)]
    elif moe.latent_size:
        out += [Tensor(p + "ffn_latent_down.weight", (d, de), i), Tensor(p + "ffn_latent_up.weight", (de, d), i)]
    if model.arch not in UNGATED_EXPERT_ARCHS:
        out.append(Tensor(p + "ffn_gate_exps.weight", (de, ffe, ne), i))
    out += [
        Tensor(p + "ffn_up_exps.weight", (de, ffe, ne), i),
        Tensor(p + "ffn_down_exps.weight", (ffe, de, ne), i),
    ]
    if model.arch in GPT_OSS_ARCHS:
        out += [
            Tensor(p + "ffn_gate_inp.bias", (ne,), i),
            Tensor(p + "ffn_gate_exps.bias", (ffe, ne), i),
            Tensor(p + "ffn_up_exps.bias", (ffe, ne), i),
            Tensor(p + "ffn_down_exps.bias", (d, ne), i),
        ]
    if ((model.arch in ("deepseek2", "deepseek32", "glm-dsa") and moe.experts >= 256) or model.arch in ROUTING_BIAS_ARCHS
            or model.arch in UNGATED_EXPERT_ARCHS or model.arch == "lfm2moe"):
        # DeepSeek-V3 / V3.2 / GLM-4.5 / GLM-5 / MiniMax-M2 routing bias (e_score_correction_bias), F32.
        out.append(Tensor(p + "exp_probs_b.bias", (ne,), i))
    if moe.shared_experts:
        ffs = (moe.shared_intermediate_size or ffe) * moe.shared_experts
        if model.arch not in UNGATED_EXPERT_ARCHS:
            out.append(Tensor(p + "ffn_gate_shexp.weight", (d, ffs), i))
        out += [
            Tensor(p + "ffn_up_shexp.weight", (d, ffs), i),
            Tensor(p + "ffn_down_shexp.weight", (ffs, d), i),
        ]
        if model.arch in ("qwen2moe", "qwen3next", "qwen35moe"):
            out.append(Tensor(p + "ffn_gate_inp_shexp.weight", (d,), i))
    return out


def gemma4_ffn_tensors(model: Model, i: int) -> list[Tensor]:
    """Gemma 4's FFN: the dense gated MLP of layer_intermediate_size (doubled in E2B's KV-sharing layers) and, in the
    MoE size, the routed experts beside it with their own router scale, norms and per-expert scale (gemma4.cpp:
    ffn_gate_inp + .scale, pre_ffw_norm_2, post_ffw_norm_1/2, ffn_gate_up_exps fused {d, 2 ff_exp, n_expert},
    ffn_down_exps + .scale; convert_hf_to_gguf.py Gemma4Model: router.scale, per_expert_scale)."""
    p, d, ff = f"blk.{i}.", model.hidden_size, model.layer_intermediate_size(i)
    out = [Tensor(p + "ffn_gate.weight", (d, ff), i), Tensor(p + "ffn_up.weight", (d, ff), i),
           Tensor(p + "ffn_down.weight", (ff, d), i)]
    moe = model.moe
    if moe is not None and model.is_moe_layer(i):
        ne, ffe = moe.experts, moe.expert_intermediate_size
        out += [Tensor(p + "ffn_gate_inp.weight", (d, ne), i), Tensor(p + "ffn_gate_inp.scale", (d,), i),
                Tensor(p + "pre_ffw_norm_2.weight", (d,), i), Tensor(p + "post_ffw_norm_1.weight", (d,), i),
                Tensor(p + "post_ffw_norm_2.weight", (d,), i),
                Tensor(p + "ffn_gate_up_exps.weight", (d, 2 * ffe, ne), i),
                Tensor(p + "ffn_down_exps.weight", (ffe, d, ne), i), Tensor(p + "ffn_down_exps.scale", (ne,), i)]
    return out
