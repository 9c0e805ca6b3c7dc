"""Encoder-only (BERT-style embedding) models: their GGUF tensors, and no KV cache.

llama.cpp src/llama-model.cpp load_tensors, LLM_ARCH_BERT and LLM_ARCH_NOMIC_BERT: token_embd, token_types
(n_embd x type_vocab_size), a learned position table position_embd (BERT only; nomic-bert uses RoPE), token_embd_norm
with bias; per block attention q/k/v with biases (BERT) or one fused attn_qkv (nomic-bert, no biases: its config sets
qkv_proj_bias false), attn_output, attn_output_norm (LayerNorm with bias), the FFN (BERT: ffn_up and ffn_down with
biases; nomic-bert: gated SwiGLU ffn_up, ffn_gate, ffn_down without biases: mlp_fc1_bias / mlp_fc2_bias false) and
layer_output_norm with bias. No output_norm and no output head (embeddings are pooled from the last hidden state).
These models are non-causal: llama.cpp creates no memory module (no KV cache) for them.

XLM-RoBERTa encoders (bge-m3, snowflake-arctic-embed2, granite-embedding 278m, paraphrase-multilingual) load as
LLM_ARCH_BERT with BERT's tensors; the catalog keeps them apart as "xlm-roberta" because the converter
(convert_hf_to_gguf.py XLMRobertaModel) writes them differently: token_types is n_embd x 1 (config type_vocab_size 1),
the learned position table loses its first pad_token_id + 1 = 2 rows (max_position_embeddings 8194 -> 8192, 514 ->
512; the catalog's max_context is the table after the cut) and the vocabulary is SentencePiece ("t5": tokens, scores
and types, data/gguf_arch.yaml sentencepiece_archs). The GGUF itself says general.architecture "bert".
RoBERTa encoders (convert_hf_to_gguf.py RobertaModel, e.g. granite-embedding:30m) are the same but for a byte-level BPE
vocabulary ("gpt2": tokens, types and merges) and the config's own type_vocab_size; kind "roberta".
"""
from __future__ import annotations

# Each tensor as (name, GGUF shape); estimate/tensors.py makes them Tensor records (this module imports none of it).
Spec = tuple[str, tuple[int, ...]]

ENCODER_ARCHS = frozenset({"bert", "nomic-bert", "xlm-roberta", "roberta"})
# Non-causal embedders llama.cpp gives no memory module (src/llama-model.cpp create_memory: `case LLM_ARCH_BERT: ...
# case LLM_ARCH_GEMMA_EMBEDDING: ... res = nullptr`): no KV cache, no decode. EmbeddingGemma keeps Gemma 3's tensors
# (estimate/tensors.py) plus its two sentence-transformers Dense projections; the BERT kinds have their own (below).
NO_MEMORY_ARCHS = ENCODER_ARCHS | {"gemma-embedding"}


def embeds_only(model) -> bool:
    """An embedding model generates no tokens, so it has no decode figure: the non-causal kinds above and decoders
    pooled into embeddings (Qwen3-Embedding: causal, so llama.cpp keeps its KV cache, but it only ever prefills)."""
    return model.arch in NO_MEMORY_ARCHS or tuple(model.use_cases) == ("embedding",)


_UNGATED_FFN = frozenset({"bert", "xlm-roberta", "roberta"})  # GELU FFN with biases (nomic-bert's is SwiGLU)


def encoder_compute_bytes(model, ub: int, flash_attention: bool) -> int | None:
    """Compute buffer of a BERT-kind encoder (None for the other kinds): attention runs within the micro-batch (no
    cache, so n_kv = ub) and the ungated FFN keeps ffn_up's output and its GELU output alive together, 2 x ub x n_ff
    f32; no logits. Checked on a 2026 llama-server log of bge-m3 F16 (a stored Ollama server log, code-index file id
    59785994622): n_ubatch 2048, flash attention, "CPU compute buffer size = 64.02 MiB"; 8 x 2048 x 4096 B = 64.00 MiB."""
    if model.arch not in _UNGATED_FFN:
        return None
    d = model.hidden_size
    if flash_attention:
        attention = 4 * ub * (1 + 4 * d) + 6 * ub * ub
    else:
        attention = 4 * ub * (1 + 4 * d + ub * (1 + model.n_heads))
    return max(attention, 8 * ub * model.intermediate_size)


def refuse_embedder(model, command: str) -> None:
    """serve and cost model generated output tokens; an embedding model makes none, so they refuse it (exit 2)
    instead of dividing by its absent decode rate."""
    from ..errors import BadOptionError

    if embeds_only(model):
        raise BadOptionError(f"{model.id} is an embedding model: `{command}` sizes token generation, which it does not do",
                             f"use `advisor fit {model.id}` for its memory and embedding (prefill) speed")
# type_vocab_size of the configs: BERT and nomic-bert 2, XLM-RoBERTa 1 (its config.json, converted as written);
# RoBERTa 2 as granite-embedding-30m-english's config (roberta-base's is 1: one row of n_embd, a few KB either way)
_TYPE_VOCAB = {"bert": 2, "nomic-bert": 2, "xlm-roberta": 1, "roberta": 2}
_POSITION_TABLE = frozenset({"bert", "xlm-roberta", "roberta"})  # learned positions; nomic-bert uses RoPE


def encoder_head(model) -> list[Spec]:
    d = model.hidden_size
    out = [("token_embd.weight", (d, model.vocab_size)), ("token_types.weight", (d, _TYPE_VOCAB[model.arch]))]
    if model.arch in _POSITION_TABLE:
        out.append(("position_embd.weight", (d, model.max_context)))
    return out + [("token_embd_norm.weight", (d,)), ("token_embd_norm.bias", (d,))]


def encoder_layer(model, i: int) -> list[Spec]:
    p, d, ff = f"blk.{i}.", model.hidden_size, model.intermediate_size
    if model.arch == "nomic-bert":
        out = [(p + "attn_qkv.weight", (d, 3 * d)), (p + "attn_output.weight", (d, d))]
    else:
        out = []
        for n in ("q", "k", "v"):
            out += [(p + f"attn_{n}.weight", (d, d)), (p + f"attn_{n}.bias", (d,))]
        out += [(p + "attn_output.weight", (d, d)), (p + "attn_output.bias", (d,))]
    out += [(p + "attn_output_norm.weight", (d,)), (p + "attn_output_norm.bias", (d,))]
    if model.arch == "nomic-bert":
        out += [(p + "ffn_up.weight", (d, ff)), (p + "ffn_gate.weight", (d, ff)),
                (p + "ffn_down.weight", (ff, d))]
    else:
        out += [(p + "ffn_up.weight", (d, ff)), (p + "ffn_up.bias", (ff,)),
                (p + "ffn_down.weight", (ff, d)), (p + "ffn_down.bias", (d,))]
    return out + [(p + "layer_output_norm.weight", (d,)), (p + "layer_output_norm.bias", (d,))]
