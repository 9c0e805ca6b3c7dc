"""Blocks of the GPT-2-era layouts: LayerNorms with biases, fused or biased projections, non-gated MLPs.

Why a module of their own: these architectures differ from the llama block in several places at once (which norms,
which biases, fused QKV, a learned position table, parallel attention + MLP), so each is written out as llama.cpp
loads it rather than as a pile of exceptions in tensors.py. Sources, per architecture, llama.cpp
src/models/<arch>.cpp load_arch_tensors (read 2026-12-05):
- phi2 (Phi-2): LayerNorm attn_norm w+b, one fused attn_qkv w+b (the Dec 2023 phi-msft checkpoint's Wqkv, which
  the GGUFs people pull were converted from: TheBloke's and Ollama's; today's converter on the later transformers-format
  checkpoint writes q/k/v apart, the same parameters), attn_output w+b, a GELU MLP
  ffn_up/ffn_down with biases read from the same normed input (parallel block: no ffn_norm), output_norm w+b and an
  untied output head with a bias.
- starcoder (GPTBigCode: StarCoder, Granite Code 20B/34B): token_embd, a learned position_embd {n_embd, n_ctx_train},
  attn_norm w+b, fused attn_qkv w+b {n_embd, n_embd + 2 n_embd_gqa} (multi-query: one KV head), attn_output w+b,
  ffn_norm w+b, ffn_up/ffn_down w+b, output_norm w+b; output is optional (the embedding when absent).
- falcon: attn_norm w+b, attn_norm_2 w+b when the block has a second input LayerNorm (Falcon-40B/180B
  new_decoder_architecture: ln_attn and ln_mlp), attn_qkv {n_embd, n_embd + 2 n_embd_gqa} and attn_output without
  biases, ffn_up/ffn_down without biases (parallel: no ffn_norm), output_norm w+b.
- stablelm (StableLM 2, Stable Code): LayerNorm attn_norm w+b, q/k/v (with biases when use_qkv_bias), attn_output, per-head
  q/k LayerNorm weights {head_dim, n_head} / {head_dim, n_head_kv} when qk_layernorm (StableLM 2 12B), ffn_norm w+b unless
  the block is parallel (12B), a gated SiLU MLP, output_norm w+b, an untied output head.
- nemotron (Nemotron-Mini, Minitron): LayerNorm(1p) attn_norm w+b, q/k/v and attn_output without biases, ffn_norm w+b,
  a squared-ReLU MLP ffn_up/ffn_down without a gate, output_norm w+b, an untied output head.
"""
from __future__ import annotations

from ..domain import Model
from .tensor import Tensor

LEGACY_ARCHS = frozenset({"phi2", "starcoder", "falcon", "stablelm", "nemotron"})
# The ungated-MLP blocks, all in one order (attn_norm, qkv, attn_output, [ffn_norm], ffn_up, ffn_down):
# arch -> (one fused attn_qkv, biases on every projection, an ffn_norm before the MLP); see the module docstring
_UNGATED = {"phi2": (True, True, False), "starcoder": (True, True, True), "falcon": (True, False, False),
            "nemotron": (False, False, True)}


def _norm(name: str, d: int, i: int) -> list[Tensor]:
    """A LayerNorm with its bias."""
    return [Tensor(name + ".weight", (d,), i), Tensor(name + ".bias", (d,), i)]


def _linear(name: str, n_in: int, n_out: int, i: int, bias: bool) -> list[Tensor]:
    return [Tensor(name + ".weight", (n_in, n_out), i)] + ([Tensor(name + ".bias", (n_out,), i)] if bias else [])


def _qkv(model: Model, i: int, fused: bool, bias: bool) -> list[Tensor]:
    p, d = f"blk.{i}.", model.hidden_size
    q_out, kv_out = model.n_heads * model.head_dim, model.n_kv_heads * model.head_dim
    if fused:
        return _linear(p + "attn_qkv", d, q_out + 2 * kv_out, i, bias)
    return (_linear(p + "attn_q", d, q_out, i, bias) + _linear(p + "attn_k", d, kv_out, i, bias)
            + _linear(p + "attn_v", d, kv_out, i, bias))


def legacy_layer(model: Model, i: int) -> list[Tensor]:
    """Block i of a LEGACY_ARCHS model, in llama.cpp's load order."""
    p, d, ff, arch = f"blk.{i}.", model.hidden_size, model.intermediate_size, model.arch
    q_out = model.n_heads * model.head_dim
    out = _norm(p + "attn_norm", d, i)
    if arch in _UNGATED:
        fused, bias, ffn_norm = _UNGATED[arch]
        if arch == "falcon" and model.attn_norm_2:
            out += _norm(p + "attn_norm_2", d, i)
        out += _qkv(model, i, fused=fused, bias=bias) + _linear(p + "attn_output", q_out, d, i, bias)
        if ffn_norm:
            out += _norm(p + "ffn_norm", d, i)
        return out + _linear(p + "ffn_up", d, ff, i, bias) + _linear(p + "ffn_down", ff, d, i, bias)
    # stablelm
    out += _qkv(model, i, fused=False, bias=model.attention_bias) + _linear(p + "attn_output", q_out, d, i, False)
    if model.qk_norm:
        out += [Tensor(p + "attn_q_norm.weight", (model.head_dim, model.n_heads), i),
                Tensor(p + "attn_k_norm.weight", (model.head_dim, model.n_kv_heads), i)]
    if not model.parallel_residual:
        out += _norm(p + "ffn_norm", d, i)
    return out + [Tensor(p + "ffn_gate.weight", (d, ff), i), Tensor(p + "ffn_up.weight", (d, ff), i),
                  Tensor(p + "ffn_down.weight", (ff, d), i)]


def legacy_head(model: Model) -> tuple[list[Tensor], list[Tensor]]:
    """The non-repeating tensors of a LEGACY_ARCHS model: (before the blocks, after them)."""
    d, v = model.hidden_size, model.vocab_size
    head = [Tensor("token_embd.weight", (d, v))]
    if model.arch == "starcoder":
        head.append(Tensor("position_embd.weight", (d, model.max_context)))
    tail = _norm("output_norm", d, -1)
    if not model.tied_embeddings:
        tail += _linear("output", d, v, -1, bias=model.arch == "phi2")
    return head, tail
