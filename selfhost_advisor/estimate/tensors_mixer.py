"""The token mixer of a block: attention (full, gated, MLA, DeepSeek sparse indexer) or a recurrent layer.

Names and shapes follow llama.cpp's src/llama-model.cpp / src/models/<arch>.cpp load_arch_tensors; estimate/tensors.py
assembles blocks from them.
"""
from __future__ import annotations

from ..domain import Model
from .arch_traits import (
    ATTN_GATE_ARCHS,
    ATTN_QKV_ARCHS,
    HEADWISE_GATE_ARCHS,
    KIMI_K3_ARCHS,
    FULL_QK_NORM_ARCHS,
    MSA_INDEXER_ARCHS,
    GPT_OSS_ARCHS,
    NO_SSM_NORM_ARCHS,
    PER_HEAD_2D_QK_NORM_ARCHS,
    QWEN_NEXT_ARCHS,
    STARCODER2_ARCHS,
    SWA_SINK_ARCHS,
)
from .tensor import Tensor


def attention_tensors(model: Model, i: int) -> list[Tensor]:
    p = f"blk.{i}."
    d, hd = model.hidden_size, model.layer_head_dim(i)
    nh = model.layer_n_heads(i)
    q_out, kv_out = nh * hd, model.layer_kv_heads(i) * hd
    v_out, o_in = model.layer_kv_heads(i) * model.layer_v_head_dim(i), nh * model.layer_v_head_dim(i)
    if model.mla is not None:
        return mla_attention_tensors(model, i)
    out: list[Tensor] = []
    q_width = 2 * q_out if model.arch in QWEN_NEXT_ARCHS else q_out  # query + output gate
    if model.arch in ATTN_QKV_ARCHS:
        out.append(Tensor(p + "attn_qkv.weight", (d, q_out + 2 * kv_out), i))
    else:
        out += [
            Tensor(p + "attn_q.weight", (d, q_width), i),
            Tensor(p + "attn_k.weight", (d, kv_out), i),
        ]
        if model.layer_has_v(i):  # Gemma 4 attention_k_eq_v: the full layers have no attn_v
            out.append(Tensor(p + "attn_v.weight", (d, v_out), i))
    if model.arch in ATTN_GATE_ARCHS:
        out.append(Tensor(p + "attn_gate.weight", (d, q_out), i))
    elif model.arch in HEADWISE_GATE_ARCHS:  # one gate value per head (Step-3.5 g_proj: hidden -> n_head(il))
        out.append(Tensor(p + "attn_gate.weight", (d, nh), i))
    if model.attention_bias and model.arch in ATTN_QKV_ARCHS:
        out.append(Tensor(p + "attn_qkv.bias", (q_out + 2 * kv_out,), i))
    elif model.attention_bias or model.arch in GPT_OSS_ARCHS:
        out += [
            Tensor(p + "attn_q.bias", (q_out,), i),
            Tensor(p + "attn_k.bias", (kv_out,), i),
            Tensor(p + "attn_v.bias", (kv_out,), i),
        ]
    out.append(Tensor(p + "attn_output.weight", (o_in, d), i))
    if model.arch in SWA_SINK_ARCHS and model.is_sliding(i):  # MiMo-V2: add_swa_attention_sink_bias only
        out.append(Tensor(p + "attn_sinks.weight", (nh,), i))
    if model.arch in STARCODER2_ARCHS:
        out.append(Tensor(p + "attn_output.bias", (d,), i))
    if model.arch in GPT_OSS_ARCHS:
        out += [Tensor(p + "attn_output.bias", (d,), i), Tensor(p + "attn_sinks.weight", (model.n_heads,), i)]
    if model.qk_norm and model.arch in FULL_QK_NORM_ARCHS:  # normalises the whole q and k projections
        out += [Tensor(p + "attn_q_norm.weight", (q_out,), i), Tensor(p + "attn_k_norm.weight", (kv_out,), i)]
    elif model.qk_norm and model.arch in PER_HEAD_2D_QK_NORM_ARCHS:
        out += [Tensor(p + "attn_q_norm.weight", (hd, model.n_heads), i),
                Tensor(p + "attn_k_norm.weight", (hd, model.layer_kv_heads(i)), i)]
    elif model.qk_norm:
        out += [Tensor(p + "attn_q_norm.weight", (hd,), i), Tensor(p + "attn_k_norm.weight", (hd,), i)]
    if model.arch in MSA_INDEXER_ARCHS and model.dsa is not None and model.dsa.has_indexer(i, model.n_layers):
        x, nx = model.dsa.index_head_dim, model.dsa.index_n_heads  # MiniMax-M3's MSA block indexer (minimax-m3.cpp)
        # GGUF names as llama-quant.cpp matches them ("do not quantize MiniMax's indexer projection weights":
        # indexer.q_proj.weight, indexer.k_proj.weight)
        out += [Tensor(p + "indexer.q_proj.weight", (d, nx * x), i), Tensor(p + "indexer.k_proj.weight", (d, x), i),
                Tensor(p + "indexer.q_norm.weight", (x,), i), Tensor(p + "indexer.k_norm.weight", (x,), i)]
    return out


def mla_attention_tensors(model: Model, i: int) -> list[Tensor]:
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
    if model.arch in KIMI_K3_ARCHS:  # kimi-k3.cpp: sigmoid output gate before o_proj
        out.append(Tensor(p + "attn_gate.weight", (d, nh * mla.v_head_dim), i))
    if model.dsa is not None and model.dsa.has_indexer(i, model.n_layers):
        # DeepSeek-V3.2 lightning indexer (llama.cpp LLM_ARCH_DEEPSEEK32 load_tensors, PR #23346): its queries come
        # from the q_a latent, one key and one weight per head from the hidden state. GLM-5.2's "shared" layers have
        # none (glm-dsa.cpp loads the five TENSOR_NOT_REQUIRED; the checkpoint has them on full layers only).
        x, nx = model.dsa.index_head_dim, model.dsa.index_n_heads
        out += [
            Tensor(p + "indexer.k_norm.weight", (x,), i),
            Tensor(p + "indexer.k_norm.bias", (x,), i),
            Tensor(p + "indexer.proj.weight", (d, nx), i),
            Tensor(p + "indexer.attn_k.weight", (d, x), i),
            Tensor(p + "indexer.attn_q_b.weight", (mla.q_lora_rank or d, nx * x), i),
        ]
    return out


def recurrent_tensors(model: Model, i: int) -> list[Tensor]:
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
            *([] if model.arch in NO_SSM_NORM_ARCHS else
              [Tensor(p + "ssm_norm.weight", (ssm.d_inner // ssm.n_group, ssm.n_group), i)]),
            Tensor(p + "ssm_out.weight", (ssm.d_inner, d), i),
        ]
    if ssm.kind == "kda":
        return kda_tensors(model, i)
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


def kda_tensors(model: Model, i: int) -> list[Tensor]:
    """Kimi Delta Attention (llama.cpp src/models/kimi-linear.cpp load_arch_tensors, convert_hf_to_gguf.py
    KimiLinearModel): q, k, v projections of heads x head_dim, one short causal conv per projection {d_conv, 1, width}
    (the converter reshapes HF's [width, d_conv]), the per-channel gate's low-rank f_a / f_b, beta per head, A {1, heads},
    dt bias per channel, the low-rank output gate g_a / g_b (written when the checkpoint has no full-rank gate), a
    per-head-dim output norm and attn_output."""
    ssm = model.ssm
    assert ssm is not None
    p, d, hd, w = f"blk.{i}.", model.hidden_size, ssm.d_state, ssm.d_inner
    if model.arch in KIMI_K3_ARCHS:  # kimi-k3.cpp: one full-rank gate ssm_g, A a plain {n_head} vector (ssm_a_noscan)
        gate = [Tensor(p + "ssm_g.weight", (d, w), i)]
        a = Tensor(p + "ssm_a", (ssm.dt_rank,), i)
    else:
        gate = [Tensor(p + "ssm_g_a.weight", (d, hd), i), Tensor(p + "ssm_g_b.weight", (hd, w), i)]
        a = Tensor(p + "ssm_a", (1, ssm.dt_rank), i)
    return [
        Tensor(p + "attn_q.weight", (d, w), i),
        Tensor(p + "attn_k.weight", (d, w), i),
        Tensor(p + "attn_v.weight", (d, w), i),
        Tensor(p + "ssm_conv1d_q.weight", (ssm.d_conv, 1, w), i),
        Tensor(p + "ssm_conv1d_k.weight", (ssm.d_conv, 1, w), i),
        Tensor(p + "ssm_conv1d_v.weight", (ssm.d_conv, 1, w), i),
        Tensor(p + "ssm_f_a.weight", (d, hd), i),
        Tensor(p + "ssm_f_b.weight", (hd, w), i),
        Tensor(p + "ssm_beta.weight", (d, ssm.dt_rank), i),
        a,
        Tensor(p + "ssm_dt.bias", (w,), i),
        *gate,
        Tensor(p + "ssm_norm.weight", (hd,), i),
        Tensor(p + "attn_output.weight", (w, d), i),
    ]
