"""Build a model's GGUF tensor list (names and shapes) from its architecture facts.

Why: weights are sized per tensor, because llama.cpp's quantizer gives different tensors different types
(Q4_K_M puts some attn_v/ffn_down and the output head at Q6_K; 1-D tensors stay F32).
Names and shapes follow llama.cpp's gguf-py/gguf/tensor_mapping.py and src/llama-model.cpp (load_tensors):
ne[0] (the first dimension) is the row length, the one quantization blocks run along.
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Model, ParamCounts
from ..record import field, record
from .deci import DECI_ARCHS as _DECI_ARCHS, deci_layer
from .encoder import ENCODER_ARCHS as _ENCODER_ARCHS, encoder_head, encoder_layer
from .ggml import tensor_bytes

# Architectures whose GGUF fuses q/k/v into attn_qkv and gate/up into one ffn_up (llama.cpp LLM_ARCH_PHI3;
# LLM_ARCH_CHATGLM, GLM-4-9B: attn_qkv with its bias, ffn_up {n_embd, 2 n_ff}).
_FUSED_QKV_ARCHS = frozenset({"phi3", "chatglm"})
# Parallel attention + FFN blocks with a single pre-norm (Cohere Command-R).
_NO_FFN_NORM_ARCHS = frozenset({"command-r", "cohere2"})
# Gemma 2/3 (and 3n) add post-attention and post-FFN norms.
_POST_NORM_ARCHS = frozenset({"gemma2", "gemma3", "gemma3n", "gemma4"})
# Gemma 4 (src/models/gemma4.cpp load_arch_tensors): per-layer head sizes (full layers global_head_dim), a learned
# per-layer output scale (layer_scalar -> layer_output_scale), one rope_freqs table for the full layers'
# proportional RoPE, and in the MoE size a dense FFN beside the routed experts in every layer.
_GEMMA4_ARCHS = frozenset({"gemma4"})
# gpt-oss: biases on attention and experts, per-head attention sinks; experts ship as MXFP4.
_GPT_OSS_ARCHS = frozenset({"gpt-oss"})
# Qwen3-Next / Qwen3.5: gated attention (attn_q is twice as wide: query and gate), a post-attention norm in place
# of ffn_norm, and Gated DeltaNet recurrent layers (src/models/qwen3next.cpp, qwen35.cpp load_arch_tensors).
_QWEN_NEXT_ARCHS = frozenset({"qwen3next", "qwen35", "qwen35moe"})
# No pre-norms: post-attention and post-FFN norms only (OLMo 2; EXAONE 4.0, src/models/exaone4.cpp).
_POST_NORM_ONLY_ARCHS = frozenset({"olmo2", "exaone4"})
# q/k norms over the whole projection (n_heads x head_dim), not per head: OLMo 2, MiniMax-M2
# (src/models/minimax-m2.cpp: attn_q_norm {n_embd_head_k * n_head}, attn_k_norm {n_embd_k_gqa}).
_FULL_QK_NORM_ARCHS = frozenset({"olmo2", "minimax-m2"})
# Sigmoid-routed MoE with a per-expert routing bias (exp_probs_b) on every MoE layer.
_ROUTING_BIAS_ARCHS = frozenset({"glm4moe", "minimax-m2"})
# GLM-4.5 / 4.6 (llama.cpp LLM_ARCH_GLM4_MOE, src/models/glm4-moe.cpp): post_attention_norm in place of
# ffn_norm, a routing bias on every MoE layer, and NextN blocks kept in the file but skipped at load (TENSOR_SKIP).
_GLM4MOE_ARCHS = frozenset({"glm4moe"})
# Nemotron-H: each block is one of Mamba-2, attention or an up/down (squared-ReLU) MLP, with one norm; Nemotron-H MoE
# (Nemotron 3 Nano, llama.cpp LLM_ARCH_NEMOTRON_H_MOE, src/models/nemotron-h.cpp load_arch_tensors) adds MoE blocks of
# ungated (squared-ReLU) experts: a router with a routing bias, up/down experts and one up/down shared expert.
_SINGLE_KIND_ARCHS = frozenset({"nemotron_h", "nemotron_h_moe"})
# Falcon-H1 (src/models/falcon-h1.cpp): every block holds Mamba-2 and attention in parallel ("P" layers); its
# configs set mamba_rms_norm false, so the optional ssm_norm is absent.
_NO_SSM_NORM_ARCHS = frozenset({"falcon-h1"})
# Experts and shared experts without a gate projection (squared ReLU).
_UNGATED_EXPERT_ARCHS = frozenset({"nemotron_h_moe"})
# StarCoder2 (src/llama-model.cpp LLM_ARCH_STARCODER2): LayerNorms with a bias (attn_norm, ffn_norm, output_norm),
# q/k/v/o all with a bias, and a non-gated GELU MLP (ffn_up, ffn_down) with biases.
_STARCODER2_ARCHS = frozenset({"starcoder2"})
# Non-gated MLP (ffn_up, ffn_down; no gate, no bias): Apertus (xIELU activation, whose four per-layer scalars llama.cpp
# keeps as GGUF metadata, not tensors; src/llama-model.cpp LLM_ARCH_APERTUS).
_UNGATED_MLP_ARCHS = frozenset({"apertus"})


@record
class Tensor:
    name: str
    shape: tuple[int, ...]  # GGUF ne order: shape[0] is the row length
    layer: int = -1  # -1 for non-repeating tensors
    # The product of shape, computed once: the estimators read it for every tensor of every quantization.
    n_elements: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = 1
        for dim in self.shape:
            n *= dim
        object.__setattr__(self, "n_elements", n)

    @property
    def n_dims(self) -> int:
        return len(self.shape)


def _attention(model: Model, i: int) -> list[Tensor]:
    p = f"blk.{i}."
    d, hd = model.hidden_size, model.layer_head_dim(i)
    q_out, kv_out = model.n_heads * hd, model.layer_kv_heads(i) * hd
    if model.mla is not None:
        return _mla_attention(model, i)
    out: list[Tensor] = []
    q_width = 2 * q_out if model.arch in _QWEN_NEXT_ARCHS else q_out  # query + output gate
    if model.arch in _FUSED_QKV_ARCHS:
        out.append(Tensor(p + "attn_qkv.weight", (d, q_out + 2 * kv_out), i))
    else:
        out += [
            Tensor(p + "attn_q.weight", (d, q_width), i),
            Tensor(p + "attn_k.weight", (d, kv_out), i),
        ]
        if model.layer_has_v(i):  # Gemma 4 attention_k_eq_v: the full layers have no attn_v
            out.append(Tensor(p + "attn_v.weight", (d, kv_out), i))
    if model.attention_bias and model.arch in _FUSED_QKV_ARCHS:
        out.append(Tensor(p + "attn_qkv.bias", (q_out + 2 * kv_out,), i))
    elif model.attention_bias or model.arch in _GPT_OSS_ARCHS:
        out += [
            Tensor(p + "attn_q.bias", (q_out,), i),
            Tensor(p + "attn_k.bias", (kv_out,), i),
            Tensor(p + "attn_v.bias", (kv_out,), i),
        ]
    out.append(Tensor(p + "attn_output.weight", (q_out, d), i))
    if model.arch in _STARCODER2_ARCHS:
        out.append(Tensor(p + "attn_output.bias", (d,), i))
    if model.arch in _GPT_OSS_ARCHS:
        out += [Tensor(p + "attn_output.bias", (d,), i), Tensor(p + "attn_sinks.weight", (model.n_heads,), i)]
    if model.qk_norm and model.arch in _FULL_QK_NORM_ARCHS:  # normalises the whole q and k projections
        out += [Tensor(p + "attn_q_norm.weight", (q_out,), i), Tensor(p + "attn_k_norm.weight", (kv_out,), i)]
    elif model.qk_norm:
        out += [Tensor(p + "attn_q_norm.weight", (hd,), i), Tensor(p + "attn_k_norm.weight", (hd,), i)]
    return out


def _mla_attention(model: Model, i: int) -> list[Tensor]:
    """DeepSeek-V2/V3 MLA tensors as written by convert_hf_to_gguf.py (kv_b split into k_b and v_b)."""
    mla = model.mla
    assert mla is not None
    p = f"blk.{i}."
    d, nh = model.hidden_size, model.n_heads
    qk_head = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    out: list[Tensor] = []
    if mla.q_lora_rank:
        out += [
            Tensor(p + "attn_q_a.weight", (d, mla.q_lora_rank), i),
            Tensor(p + "attn_q_a_norm.weight", (mla.q_lora_rank,), i),
            Tensor(p + "attn_q_b.weight", (mla.q_lora_rank, nh * qk_head), i),
        ]
    else:
        out.append(Tensor(p + "attn_q.weight", (d, nh * qk_head), i))
    out += [
        Tensor(p + "attn_kv_a_mqa.weight", (d, mla.kv_lora_rank + mla.qk_rope_head_dim), i),
        Tensor(p + "attn_kv_a_norm.weight", (mla.kv_lora_rank,), i),
        Tensor(p + "attn_k_b.weight", (mla.qk_nope_head_dim, mla.kv_lora_rank, nh), i),
        Tensor(p + "attn_v_b.weight", (mla.kv_lora_rank, mla.v_head_dim, nh), i),
        Tensor(p + "attn_output.weight", (nh * mla.v_head_dim, d), i),
    ]
    if model.dsa is not None:
        # DeepSeek-V3.2 lightning indexer (llama.cpp LLM_ARCH_DEEPSEEK32 load_tensors, PR #23346): its queries come
        # from the q_a latent, one key and one weight per head from the hidden state.
        x, nx = model.dsa.index_head_dim, model.dsa.index_n_heads
        out += [
            Tensor(p + "indexer.k_norm.weight", (x,), i),
            Tensor(p + "indexer.k_norm.bias", (x,), i),
            Tensor(p + "indexer.proj.weight", (d, nx), i),
            Tensor(p + "indexer.attn_k.weight", (d, x), i),
            Tensor(p + "indexer.attn_q_b.weight", (mla.q_lora_rank or d, nx * x), i),
        ]
    return out


def _recurrent(model: Model, i: int) -> list[Tensor]:
    """The mixer of a recurrent block, as llama.cpp loads it.

    Mamba-2 (granitehybrid, nemotron_h; src/llama-model.cpp): ssm_in projects to z, x, B, C and dt
    (2 d_inner + 2 n_group d_state + heads), a depthwise conv over x, B, C, per-head dt bias, A and D, a grouped
    RMS norm and ssm_out. Gated DeltaNet (qwen3next, qwen35): q, k (key heads x key dim) and v (value heads x value
    dim) through the conv, the output gate z, per-value-head beta/alpha, a per-head-dim norm and ssm_out; Qwen3-Next
    ships q, k, v, z fused as ssm_in, Qwen3.5 as attn_qkv + attn_gate.
    """
    ssm = model.ssm
    assert ssm is not None
    p, d = f"blk.{i}.", model.hidden_size
    if ssm.kind == "shortconv":
        # LFM2 (src/models/lfm2.cpp): a gated short convolution over the hidden state; in_proj makes B, C and x.
        return [
            Tensor(p + "shortconv.conv.weight", (ssm.d_conv, d), i),
            Tensor(p + "shortconv.in_proj.weight", (d, 3 * d), i),
            Tensor(p + "shortconv.out_proj.weight", (d, d), i),
        ]
    if ssm.kind == "mamba":
        # Mamba-1 (Jamba, src/models/jamba.cpp): x/z projection, conv, x_proj to dt/B/C, dt_proj, per-channel A and D,
        # and Jamba's RMS norms on dt, B and C.
        dt = ssm.dt_rank
        return [
            Tensor(p + "ssm_in.weight", (d, 2 * ssm.d_inner), i),
            Tensor(p + "ssm_conv1d.weight", (ssm.d_conv, ssm.d_inner), i),
            Tensor(p + "ssm_conv1d.bias", (ssm.d_inner,), i),
            Tensor(p + "ssm_x.weight", (ssm.d_inner, dt + 2 * ssm.d_state), i),
            Tensor(p + "ssm_dt_norm.weight", (dt,), i),
            Tensor(p + "ssm_b_norm.weight", (ssm.d_state,), i),
            Tensor(p + "ssm_c_norm.weight", (ssm.d_state,), i),
            Tensor(p + "ssm_dt.weight", (dt, ssm.d_inner), i),
            Tensor(p + "ssm_dt.bias", (ssm.d_inner,), i),
            Tensor(p + "ssm_a", (ssm.d_state, ssm.d_inner), i),
            Tensor(p + "ssm_d", (ssm.d_inner,), i),
            Tensor(p + "ssm_out.weight", (ssm.d_inner, d), i),
        ]
    if ssm.kind == "mamba2":
        conv = ssm.d_inner + 2 * ssm.n_group * ssm.d_state
        return [
            Tensor(p + "ssm_in.weight", (d, 2 * ssm.d_inner + 2 * ssm.n_group * ssm.d_state + ssm.dt_rank), i),
            Tensor(p + "ssm_conv1d.weight", (ssm.d_conv, conv), i),
            Tensor(p + "ssm_conv1d.bias", (conv,), i),
            Tensor(p + "ssm_dt.bias", (ssm.dt_rank,), i),
            Tensor(p + "ssm_a", (1, ssm.dt_rank), i),
            Tensor(p + "ssm_d", (1, ssm.dt_rank), i),
            *([] if model.arch in _NO_SSM_NORM_ARCHS else
              [Tensor(p + "ssm_norm.weight", (ssm.d_inner // ssm.n_group, ssm.n_group), i)]),
            Tensor(p + "ssm_out.weight", (ssm.d_inner, d), i),
        ]
    key, value = ssm.d_state * ssm.n_group, ssm.d_inner
    out = []
    if model.arch == "qwen3next":
        out += [Tensor(p + "ssm_in.weight", (d, 2 * key + 2 * value), i)]
    else:
        out += [Tensor(p + "attn_qkv.weight", (d, 2 * key + value), i), Tensor(p + "attn_gate.weight", (d, value), i)]
    out += [
        Tensor(p + "ssm_conv1d.weight", (ssm.d_conv, 2 * key + value), i),
        Tensor(p + "ssm_dt.bias", (ssm.dt_rank,), i),
        Tensor(p + "ssm_a", (ssm.dt_rank,), i),
    ]
    if model.arch == "qwen3next":
        out.append(Tensor(p + "ssm_beta_alpha.weight", (d, 2 * ssm.dt_rank), i))
    else:
        out += [Tensor(p + "ssm_beta.weight", (d, ssm.dt_rank), i), Tensor(p + "ssm_alpha.weight", (d, ssm.dt_rank), i)]
    out += [
        Tensor(p + "ssm_norm.weight", (value // ssm.dt_rank,), i),
        Tensor(p + "ssm_out.weight", (value, d), i),
    ]
    return out


def _ffn(model: Model, i: int) -> list[Tensor]:
    p = f"blk.{i}."
    d = model.hidden_size
    moe = model.moe
    if model.arch in _GEMMA4_ARCHS:
        return _gemma4_ffn(model, i)
    if moe is None or not model.is_moe_layer(i):
        ff = model.intermediate_size
        if model.arch in _SINGLE_KIND_ARCHS:  # squared-ReLU MLP: no gate
            return [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_down.weight", (ff, d), i)]
        if model.arch in _FUSED_QKV_ARCHS:
            return [Tensor(p + "ffn_up.weight", (d, 2 * ff), i), Tensor(p + "ffn_down.weight", (ff, d), i)]
        if model.arch in _UNGATED_MLP_ARCHS:
            return [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_down.weight", (ff, d), i)]
        if model.arch in _STARCODER2_ARCHS:  # non-gated MLP with biases
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
    if moe.latent_size:
        out += [Tensor(p + "ffn_latent_down.weight", (d, de), i), Tensor(p + "ffn_latent_up.weight", (de, d), i)]
    if model.arch not in _UNGATED_EXPERT_ARCHS:
        out.append(Tensor(p + "ffn_gate_exps.weight", (de, ffe, ne), i))
    out += [
        Tensor(p + "ffn_up_exps.weight", (de, ffe, ne), i),
        Tensor(p + "ffn_down_exps.weight", (ffe, de, ne), i),
    ]
    if model.arch in _GPT_OSS_ARCHS:
        out += [
            Tensor(p + "ffn_gate_inp.bias", (ne,), i),
            Tensor(p + "ffn_gate_exps.bias", (ffe, ne), i),
            Tensor(p + "ffn_up_exps.bias", (ffe, ne), i),
            Tensor(p + "ffn_down_exps.bias", (d, ne), i),
        ]
    if ((model.arch in ("deepseek2", "deepseek32") and moe.experts >= 256) or model.arch in _ROUTING_BIAS_ARCHS
            or model.arch in _UNGATED_EXPERT_ARCHS or model.arch == "lfm2moe"):
        # DeepSeek-V3 / V3.2 / GLM-4.5 / MiniMax-M2 routing bias (e_score_correction_bias), F32.
        out.append(Tensor(p + "exp_probs_b.bias", (ne,), i))
    if moe.shared_experts:
        ffs = (moe.shared_intermediate_size or ffe) * moe.shared_experts
        if model.arch not in _UNGATED_EXPERT_ARCHS:
            out.append(Tensor(p + "ffn_gate_shexp.weight", (d, ffs), i))
        out += [
            Tensor(p + "ffn_up_shexp.weight", (d, ffs), i),
            Tensor(p + "ffn_down_shexp.weight", (ffs, d), i),
        ]
        if model.arch in ("qwen2moe", "qwen3next", "qwen35moe"):
            out.append(Tensor(p + "ffn_gate_inp_shexp.weight", (d,), i))
    return out


def _gemma4_ffn(model: Model, i: int) -> list[Tensor]:
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


def layer_tensors(model: Model, i: int) -> list[Tensor]:
    """All tensors of repeating block `i`, in the order llama.cpp's converter writes them."""
    p, d = f"blk.{i}.", model.hidden_size
    if model.arch in _ENCODER_ARCHS:  # BERT-style embedding models (estimate/encoder.py)
        return [Tensor(name, shape, i) for name, shape in encoder_layer(model, i)]
    if model.arch in _DECI_ARCHS:  # DeciLM: per-block attention kind and FFN width (estimate/deci.py)
        return [Tensor(name, shape, i) for name, shape in deci_layer(model, i)]
    if model.arch in _POST_NORM_ONLY_ARCHS:
        return (_attention(model, i) + [Tensor(p + "post_attention_norm.weight", (d,), i)] + _ffn(model, i)
                + [Tensor(p + "post_ffw_norm.weight", (d,), i)])
    out = [Tensor(p + "attn_norm.weight", (d,), i)]
    if model.arch in _STARCODER2_ARCHS:
        out.append(Tensor(p + "attn_norm.bias", (d,), i))
    kind = model.layer_kind(i)
    if model.arch in _SINGLE_KIND_ARCHS:
        if kind == "*":
            return out + _attention(model, i)
        if kind == "M":
            return out + _recurrent(model, i)
        return out + _ffn(model, i)  # "-" MLP or "E" MoE
    if kind == "P":  # Falcon-H1: Mamba-2 and attention side by side on the same normed input
        out += _recurrent(model, i) + _attention(model, i)
    else:
        out += _recurrent(model, i) if kind == "M" else _attention(model, i)
    if model.arch in _QWEN_NEXT_ARCHS:
        return out + [Tensor(p + "post_attention_norm.weight", (d,), i)] + _ffn(model, i)
    if model.arch in _POST_NORM_ARCHS:
        out.append(Tensor(p + "post_attention_norm.weight", (d,), i))
    if model.arch in _GLM4MOE_ARCHS:
        out.append(Tensor(p + "post_attention_norm.weight", (d,), i))
    elif model.arch not in _NO_FFN_NORM_ARCHS:
        # gpt-oss calls it post_attention_norm; same size, same F32 type.
        out.append(Tensor(p + "ffn_norm.weight", (d,), i))
        if model.arch in _STARCODER2_ARCHS:
            out.append(Tensor(p + "ffn_norm.bias", (d,), i))
    out += _ffn(model, i)
    if model.arch in _POST_NORM_ARCHS:
        out.append(Tensor(p + "post_ffw_norm.weight", (d,), i))
    if model.arch in _GEMMA4_ARCHS:
        out.append(Tensor(p + "layer_output_scale.weight", (1,), i))
    if model.altup is not None:
        out += _altup_block(model, i)
    return out


def _altup_block(model: Model, i: int) -> list[Tensor]:
    """Gemma 3n's per-layer input gate and projection, AltUp's router and coefficients, LAuReL's low-rank pair
    (src/models/gemma3n.cpp load_arch_tensors; GGUF names from llama-arch.cpp: blk.N.inp_gate, blk.N.proj ...)."""
    a = model.altup
    assert a is not None
    p, d, n = f"blk.{i}.", model.hidden_size, a.n_inputs
    per_layer = [
        Tensor(p + "inp_gate.weight", (d, a.per_layer_width), i),
        Tensor(p + "proj.weight", (a.per_layer_width, d), i),
        Tensor(p + "post_norm.weight", (d,), i),
    ]
    if n == 0:  # Gemma 4: per-layer embeddings without AltUp / LAuReL
        return per_layer
    return per_layer + [
        Tensor(p + "altup_correct_coef.weight", (n, n), i),
        Tensor(p + "altup_correct_scale.weight", (d,), i),
        Tensor(p + "altup_predict_coef.weight", (n, n * n), i),
        Tensor(p + "altup_router.weight", (d, n), i),
        Tensor(p + "altup_router_norm.weight", (d,), i),
        Tensor(p + "laurel_l.weight", (d, a.laurel_rank), i),
        Tensor(p + "laurel_r.weight", (a.laurel_rank, d), i),
        Tensor(p + "laurel_post_norm.weight", (d,), i),
    ]


def _head_tensors(model: Model) -> tuple[list[Tensor], list[Tensor]]:
    """The non-repeating tensors: (before the blocks, after them)."""
    d = model.hidden_size
    if model.arch in _ENCODER_ARCHS:  # no output_norm, no output head
        return [Tensor(name, shape) for name, shape in encoder_head(model)], []
    tail = [Tensor("output_norm.weight", (d,))]
    if model.arch in _STARCODER2_ARCHS:
        tail.append(Tensor("output_norm.bias", (d,)))
    if not model.tied_embeddings:
        tail.append(Tensor("output.weight", (d, model.vocab_size)))
    head = [Tensor("token_embd.weight", (d, model.vocab_size))]
    a = model.altup
    if a is not None:  # Gemma 3n: the per-layer embedding table, its projection and AltUp's projections
        width = a.per_layer_width * model.n_layers
        head += [Tensor("per_layer_token_embd.weight", (width, a.per_layer_vocab)),
                 Tensor("per_layer_model_proj.weight", (d, width)),
                 Tensor("per_layer_proj_norm.weight", (a.per_layer_width,))]
        if a.n_inputs:
            head += [Tensor("altup_proj.weight", (d, d, a.n_inputs - 1)),
                     Tensor("altup_unembd_proj.weight", (d, d, a.n_inputs - 1))]
    if model.arch in _GEMMA4_ARCHS:  # one table for every full layer (the others load it TENSOR_DUPLICATED)
        head.append(Tensor("rope_freqs.weight", ((model.global_head_dim or model.head_dim) // 2,)))
    return head, tail


def file_only_tensors(model: Model) -> list[Tensor]:
    """Tensors a GGUF holds that llama.cpp never loads: GLM-4.5's NextN blocks (a full MoE block after the last
    one, plus eh_proj, its norms and the block's own embedding and head; src/models/glm4-moe.cpp loads them with
    TENSOR_SKIP; GLM-4.6 ships the block without its own embedding and head, gguf_nextn_shares_head). They count in a
    file's size, not in memory."""
    out: list[Tensor] = []
    d = model.hidden_size
    for i in range(model.n_layers, model.n_layers + model.gguf_nextn_layers):
        p = f"blk.{i}."
        out += layer_tensors(model, i)
        out += [Tensor(p + "nextn.eh_proj.weight", (2 * d, d), i), Tensor(p + "nextn.enorm.weight", (d,), i),
                Tensor(p + "nextn.hnorm.weight", (d,), i), Tensor(p + "nextn.shared_head_norm.weight", (d,), i)]
        if not model.gguf_nextn_shares_head:  # llama.cpp loads these two TENSOR_NOT_REQUIRED: absent in GLM-4.6
            out += [Tensor(p + "nextn.embed_tokens.weight", (d, model.vocab_size), i),
                    Tensor(p + "nextn.shared_head_head.weight", (d, model.vocab_size), i)]
    return out


@lru_cache(maxsize=64)
def build_tensors(model: Model) -> tuple[Tensor, ...]:
    """The model's full tensor list: token_embd, every block, output_norm and (unless tied) output."""
    head, tail = _head_tensors(model)
    tensors = head
    for i in range(model.n_layers):
        tensors += layer_tensors(model, i)
    return tuple(tensors + tail)


def layer_kind(model: Model, i: int) -> tuple:
    """Everything besides the index that layer_tensors(model, i) depends on: whether block i is an MoE block,
    its mixer (attention, recurrent, feed-forward only) and Gemma 4's per-layer head size, KV heads and FFN width. Blocks of one kind hold the same tensors (names past
    blk.N., shapes); tests check this on the catalog."""
    return (model.is_moe_layer(i), model.layer_kind(i), model.layer_head_dim(i), model.layer_kv_heads(i),
            model.layer_intermediate_size(i), model.layer_has_v(i))


@record
class Layout:
    """A model's tensors without spelling out every block: the estimators size one block of each kind."""

    singles: tuple[Tensor, ...]  # non-repeating tensors (token_embd, output_norm, output)
    kinds: tuple[int, ...]  # per layer: which template its block repeats
    templates: tuple[tuple[Tensor, ...], ...]  # the tensors of the first block of each kind


@lru_cache(maxsize=64)
def layout(model: Model) -> Layout:
    head, tail = _head_tensors(model)
    first: dict[tuple, int] = {}
    kinds, templates = [], []
    for i in range(model.n_layers):
        kind = layer_kind(model, i)
        if kind not in first:
            first[kind] = len(templates)
            templates.append(tuple(layer_tensors(model, i)))
        kinds.append(first[kind])
    return Layout(tuple(head + tail), tuple(kinds), tuple(templates))


def _param_tensors(model: Model) -> tuple[Tensor, ...] | list[Tensor]:
    if model.tensor_types is not None:  # read from a GGUF header: the file's own tensors
        return [t for t, _, _ in exact_tensors(model)]
    return build_tensors(model)


def count_params(model: Model) -> int:
    """Parameters implied by the architecture (text model only), for checking catalog entries."""
    return sum(t.n_elements for t in _param_tensors(model))


def active_params(model: Model) -> int:
    """Parameters read per token: MoE layers count only `active` routed experts plus shared ones."""
    total = 0
    for t in _param_tensors(model):
        n = t.n_elements
        if "_exps." in t.name and model.moe is not None:
            n = n * model.moe.active // model.moe.experts
        total += n
    return total


@lru_cache(maxsize=256)
def param_counts(model: Model) -> ParamCounts:
    """count_params and active_params together, once per model: what the result records carry for render."""
    return ParamCounts(count_params(model), active_params(model))


def _layer_of_name(name: str, n_layers: int) -> int:
    """blk.N.* -> N; -1 for non-repeating tensors (and for blocks past n_layers, which no layer holds)."""
    if name.startswith("blk."):
        head = name[4:].split(".", 1)[0]
        if head.isdigit() and int(head) < n_layers:
            return int(head)
    return -1


@lru_cache(maxsize=8)
def exact_tensors(model: Model) -> list[tuple[Tensor, str, int]]:
    """(tensor, ggml type, bytes) straight from a GGUF header's tensor infos; bytes padded to the file's alignment."""
    assert model.tensor_types is not None
    align = max(1, model.gguf_alignment)
    out = []
    for name, shape, ggml_type in model.tensor_types:
        t = Tensor(name, tuple(shape), _layer_of_name(name, model.n_layers))
        n_bytes = tensor_bytes(ggml_type, t.n_elements, t.shape[0]) if t.shape and t.shape[0] else 0
        out.append((t, ggml_type, -(-n_bytes // align) * align))
    return out
