"""Which llama.cpp architectures have which tensor-layout traits (fused QKV, parallel blocks, extra norms, biases ...).

Why one table: the tensor builders (tensors_mixer.py, tensors_ffn.py, tensors.py) ask "does this arch fuse q/k/v?"
rather than "is this phi3?", so an architecture is added by naming its traits here (sources per set: llama.cpp
src/llama-model.cpp / src/models/<arch>.cpp load_arch_tensors).
"""
from __future__ import annotations

# Architectures whose GGUF fuses q/k/v into attn_qkv and gate/up into one ffn_up (llama.cpp LLM_ARCH_PHI3;
# LLM_ARCH_CHATGLM, GLM-4-9B: attn_qkv with its bias, ffn_up {n_embd, 2 n_ff}).
FUSED_QKV_ARCHS = frozenset({"phi3", "chatglm"})
# One fused attn_qkv {n_embd, n_embd + 2 n_embd_gqa} but a separate gate / up / down FFN: Qwen v1 (llama.cpp
# LLM_ARCH_QWEN load_tensors: attn_qkv with its bias {3 n_embd}, no GQA) and DBRX (src/models/dbrx.cpp: attn_qkv without
# bias, MoE experts). InternLM2's HF checkpoint fuses wqkv too, but convert_hf_to_gguf.py InternLM2Model splits it into
# q/k/v, so its GGUF is the llama tensor set. Ling / Ring 2.0 (src/models/bailingmoe2.cpp load_arch_tensors: attn_qkv
# {n_embd, n_embd + 2 n_embd_gqa} without bias, per-head q/k norms, a dense lead then routed + shared experts).
FUSED_QKV_ONLY_ARCHS = frozenset({"qwen", "dbrx", "bailingmoe2"})
ATTN_QKV_ARCHS = FUSED_QKV_ARCHS | FUSED_QKV_ONLY_ARCHS
# The pre-FFN norm under another name: DBRX's norm_2 is LLM_TENSOR_ATTN_OUT_NORM, blk.N.attn_output_norm (a LayerNorm
# without bias, like its attn_norm and output_norm; src/models/dbrx.cpp, llama-arch.cpp tensor names).
FFN_NORM_NAME = {"dbrx": "attn_output_norm"}
# Parallel attention + FFN blocks with a single pre-norm (Cohere Command-R).
NO_FFN_NORM_ARCHS = frozenset({"command-r", "cohere2"})
# Gemma 2/3 (and 3n) add post-attention and post-FFN norms.
# Per-head attention sinks on the sliding-window layers only: MiMo-V2 (src/models/mimo2.cpp attn_sinks {n_head},
# TENSOR_NOT_REQUIRED; config.json add_swa_attention_sink_bias true, add_full_attention_sink_bias false).
SWA_SINK_ARCHS = frozenset({"mimo2"})
# Arcee Trinity (afmoe, src/models/afmoe.cpp: "dual attention normalization (pre)/(post)", "dual ffn normalization"):
# the same four norms per block, attn_post_norm and ffn_post_norm being post_attention_norm and post_ffw_norm in a GGUF.
# Meta Muse Glimmer (src/models/muse-glimmer.cpp load_arch_tensors: attn_norm, attn_post_norm, ffn_norm, ffn_post_norm).
# Aleph Alpha Kolibri 1 (kolibri1, the PR #29922 / Hob-forge patch's src/models/kolibri1.cpp: "sandwich norms", the same
# four per block).
POST_NORM_ARCHS = frozenset({"gemma2", "gemma3", "gemma3n", "gemma4", "gemma-embedding", "afmoe", "muse-glimmer",
                             "kolibri1"})
# An output gate beside q/k/v: attn_gate {n_embd, n_head x head_dim}, sigmoid(gate) x attention before attn_output
# (afmoe.cpp: wqkv_gate = build_lora_mm(attn_gate, attn_inp); muse-glimmer.cpp creates it "same as afmoe").
ATTN_GATE_ARCHS = frozenset({"afmoe", "muse-glimmer"})
# A head-wise output gate attn_gate {n_embd, n_head(il)} (sigmoid per head), and a rope_freqs table {head_dim / 2} for the
# full layers' llama3-scaled RoPE: Step-3.5 / 3.7 (llama.cpp step35; a stored tensor contract of a real Step 3.7 GGUF:
# blk.0.attn_gate [64, 4096], rope_freqs [64], 754 tensors).
# poolside Laguna (src/models/laguna.cpp: "per-head softplus gate: g_proj: hidden -> n_head_il") has the same gate.
HEADWISE_GATE_ARCHS = frozenset({"step35", "laguna"})
ROPE_FREQS_ARCHS = frozenset({"step35"})
# Gemma 4 (src/models/gemma4.cpp load_arch_tensors): per-layer head sizes (full layers global_head_dim), a learned
# per-layer output scale (layer_scalar -> layer_output_scale), one rope_freqs table for the full layers'
# proportional RoPE, and in the MoE size a dense FFN beside the routed experts in every layer.
GEMMA4_ARCHS = frozenset({"gemma4"})
# gpt-oss: biases on attention and experts, per-head attention sinks; experts ship as MXFP4.
GPT_OSS_ARCHS = frozenset({"gpt-oss"})
# Qwen3-Next / Qwen3.5: gated attention (attn_q is twice as wide: query and gate), a post-attention norm in place
# of ffn_norm, and Gated DeltaNet recurrent layers (src/models/qwen3next.cpp, qwen35.cpp load_arch_tensors).
QWEN_NEXT_ARCHS = frozenset({"qwen3next", "qwen35", "qwen35moe"})
# No pre-norms: post-attention and post-FFN norms only (OLMo 2; EXAONE 4.0, src/models/exaone4.cpp).
POST_NORM_ONLY_ARCHS = frozenset({"olmo2", "exaone4"})
# q/k norms over the whole projection (n_heads x head_dim), not per head: OLMo 2, MiniMax-M2
# (src/models/minimax-m2.cpp: attn_q_norm {n_embd_head_k * n_head}, attn_k_norm {n_embd_k_gqa}).
# OLMoE (src/models/olmoe.cpp): attn_q_norm and attn_k_norm {n_embd}; its 16 heads are all KV heads, so n_embd is both widths.
FULL_QK_NORM_ARCHS = frozenset({"olmo2", "minimax-m2", "olmoe"})
# q/k LayerNorms kept per head as 2-D tensors {head_dim, n_head} / {head_dim, n_head_kv}: Command R+ (llama.cpp command-r
# load_tensors: attn_q_norm / attn_k_norm when n_layer >= 64, i.e. when the config sets use_qk_norm).
PER_HEAD_2D_QK_NORM_ARCHS = frozenset({"command-r"})
# Sigmoid-routed MoE with a per-expert routing bias (exp_probs_b) on every MoE layer (Kimi Linear: src/models/kimi-linear.cpp
# load_arch_tensors, ffn_exp_probs_b required).
# Ling 2.0 (bailingmoe2: ffn_exp_probs_b, moe_router_enable_expert_bias) and Trinity (afmoe: the checkpoint's
# mlp.expert_bias -> exp_probs_b, build_moe_ffn(..., ffn_exp_probs_b, ...)) route the same way, and so does Kolibri 1
# (kolibri1.cpp: ffn_exp_probs_b {n_expert}, selection on the biased sigmoid logits; one shared expert beside).
ROUTING_BIAS_ARCHS = frozenset({"glm4moe", "minimax-m2", "kimi-linear", "bailingmoe2", "afmoe", "mimo2", "step35", "laguna",
                                "minimax-m3", "kolibri1", "kimi-k3"})
# Kimi K3 (llama.cpp src/models/kimi-k3.cpp load_arch_tensors; "parts that kimi-linear does not have"): Kimi Linear's KDA +
# MLA skeleton with (1) cross-layer attention residuals: attn_res_score and ffn_res_score {n_embd} a layer and one
# output_res_score {n_embd} (the converter fuses each res_norm x res_proj pair into one vector), (2) a latent MoE: the
# routed experts run at n_expert_latent between ffn_routed_down {n_embd, latent} and ffn_routed_up {latent, n_embd}, with
# ffn_routed_norm {latent}, (3) the situ activation (no tensor), (4) an MLA output gate attn_gate {n_embd, n_head x v_head},
# (5) a full-rank KDA gate ssm_g {n_embd, d_inner} in place of ssm_g_a / ssm_g_b, and A as a plain {n_head} vector.
KIMI_K3_ARCHS = frozenset({"kimi-k3"})
# MiniMax-M3 (src/models/minimax-m3.cpp load_arch_tensors): GQA attention with per-head q/k norms {head_dim}, and in every
# sparse (MoE) layer the MSA block indexer beside it: index_q_proj {n_embd, indexer heads x indexer head size},
# index_k_proj {n_embd, indexer head size} and the two {indexer head size} norms. Its keys are cached with the K/V
# (llama_kv_cache k_idx, one indexer key a token in each indexer layer). The entry's `dsa` record carries the shapes.
MSA_INDEXER_ARCHS = frozenset({"minimax-m3"})
# GLM-4.5 / 4.6 (llama.cpp LLM_ARCH_GLM4_MOE, src/models/glm4-moe.cpp): post_attention_norm in place of
# ffn_norm, a routing bias on every MoE layer, and NextN blocks kept in the file but skipped at load (TENSOR_SKIP).
GLM4MOE_ARCHS = frozenset({"glm4moe"})
# Nemotron-H: each block is one of Mamba-2, attention or an up/down (squared-ReLU) MLP, with one norm; Nemotron-H MoE
# (Nemotron 3 Nano, llama.cpp LLM_ARCH_NEMOTRON_H_MOE, src/models/nemotron-h.cpp load_arch_tensors) adds MoE blocks of
# ungated (squared-ReLU) experts: a router with a routing bias, up/down experts and one up/down shared expert.
SINGLE_KIND_ARCHS = frozenset({"nemotron_h", "nemotron_h_moe"})
# Falcon-H1 (src/models/falcon-h1.cpp): every block holds Mamba-2 and attention in parallel ("P" layers); its
# configs set mamba_rms_norm false, so the optional ssm_norm is absent.
NO_SSM_NORM_ARCHS = frozenset({"falcon-h1"})
# Experts and shared experts without a gate projection (squared ReLU).
UNGATED_EXPERT_ARCHS = frozenset({"nemotron_h_moe"})
# StarCoder2 (src/llama-model.cpp LLM_ARCH_STARCODER2): LayerNorms with a bias (attn_norm, ffn_norm, output_norm),
# q/k/v/o all with a bias, and a non-gated GELU MLP (ffn_up, ffn_down) with biases.
STARCODER2_ARCHS = frozenset({"starcoder2"})
# Non-gated MLP (ffn_up, ffn_down; no gate, no bias): Apertus (xIELU activation, whose four per-layer scalars llama.cpp
# keeps as GGUF metadata, not tensors; src/llama-model.cpp LLM_ARCH_APERTUS).
UNGATED_MLP_ARCHS = frozenset({"apertus"})
