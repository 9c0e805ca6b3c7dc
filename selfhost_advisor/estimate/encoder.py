"""Encoder-only (BERT-style embedding) models: their GGUF tensors, and no KV cache.

llama.cpp src/llama-model.cpp load_tensors, LLM_ARCH_BERT and LLM_ARCH_NOMIC_BERT: token_embd, token_types
(n_embd x type_vocab_size), a learned position table position_embd (BERT only; nomic-bert uses RoPE), token_embd_norm
with bias; per block attention q/k/v with biases (BERT) or one fused attn_qkv (nomic-bert, no biases: its config sets
qkv_proj_bias false), attn_output, attn_output_norm (LayerNorm with bias), the FFN (BERT: ffn_up and ffn_down with
biases; nomic-bert: gated SwiGLU ffn_up, ffn_gate, ffn_down without biases: mlp_fc1_bias / mlp_fc2_bias false) and
layer_output_norm with bias. No output_norm and no output head (embeddings are pooled from the last hidden state).
These models are non-causal: llama.cpp creates no memory module (no KV cache) for them.
"""
from __future__ import annotations

from .tensors import Tensor

ENCODER_ARCHS = frozenset({"bert", "nomic-bert"})
_TYPE_VOCAB = 2  # type_vocab_size of BERT and nomic-bert configs


def is_encoder(model) -> bool:
    return model.arch in ENCODER_ARCHS


def encoder_head(model) -> list[Tensor]:
    d = model.hidden_size
    out = [Tensor("token_embd.weight", (d, model.vocab_size)), Tensor("token_types.weight", (d, _TYPE_VOCAB))]
    if model.arch == "bert":
        out.append(Tensor("position_embd.weight", (d, model.max_context)))
    return out + [Tensor("token_embd_norm.weight", (d,)), Tensor("token_embd_norm.bias", (d,))]


def encoder_layer(model, i: int) -> list[Tensor]:
    p, d, ff = f"blk.{i}.", model.hidden_size, model.intermediate_size
    if model.arch == "nomic-bert":
        out = [Tensor(p + "attn_qkv.weight", (d, 3 * d), i), Tensor(p + "attn_output.weight", (d, d), i)]
    else:
        out = []
        for n in ("q", "k", "v"):
            out += [Tensor(p + f"attn_{n}.weight", (d, d), i), Tensor(p + f"attn_{n}.bias", (d,), i)]
        out += [Tensor(p + "attn_output.weight", (d, d), i), Tensor(p + "attn_output.bias", (d,), i)]
    out += [Tensor(p + "attn_output_norm.weight", (d,), i), Tensor(p + "attn_output_norm.bias", (d,), i)]
    if model.arch == "nomic-bert":
        out += [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_gate.weight", (d, ff), i),
                Tensor(p + "ffn_down.weight", (ff, d), i)]
    else:
        out += [Tensor(p + "ffn_up.weight", (d, ff), i), Tensor(p + "ffn_up.bias", (ff,), i),
                Tensor(p + "ffn_down.weight", (ff, d), i), Tensor(p + "ffn_down.bias", (d,), i)]
    return out + [Tensor(p + "layer_output_norm.weight", (d,), i), Tensor(p + "layer_output_norm.bias", (d,), i)]
