"""Bytes a GGUF file holds besides its tensor data: header, metadata (mostly the tokenizer), tensor infos, padding.

Why: published file sizes include them (Gemma 3 270M: 6.5 MB of 241 MB, 2.7%), the weights estimate does not; a
file size is weights + this. Layout from the GGUF spec (ggml docs/gguf.md, gguf-py gguf_writer.py); which tokenizer
arrays a vocab writes and the constants, with sources, in data/gguf_arch.yaml `tokenizer_metadata`.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..catalog.data import load
from ..domain import Model
from .tensors import Tensor

_HEADER = 4 + 4 + 8 + 8  # magic, version, tensor count, kv count
_ARRAY = 4 + 8  # item type + count


def _key(name: str) -> int:
    return 8 + len(name) + 4  # key string + value type


def tokenizer_kind(model: Model) -> str:
    """"spm" (tokens + scores + token types) or "bpe" (tokens + token types + merges), as the converter writes them."""
    t = load("gguf_arch")["tokenizer_metadata"]
    if model.arch in t["sentencepiece_archs"] or model.vocab_size <= int(t["sentencepiece_max_vocab"]):
        return "spm"
    return "bpe"


def tokenizer_bytes(model: Model) -> int:
    """The tokenizer arrays: every token string (uint64 length + mean_token_bytes) and an int32 type per token; a
    float32 score per token (SentencePiece) or one string per merge, "a b", i.e. a token's bytes + 1 (BPE)."""
    t = load("gguf_arch")["tokenizer_metadata"]
    v, mean = model.vocab_size, float(t["mean_token_bytes"])
    n = _key("tokenizer.ggml.tokens") + _ARRAY + v * (8 + mean)
    n += _key("tokenizer.ggml.token_type") + _ARRAY + 4 * v
    if tokenizer_kind(model) == "spm":
        n += _key("tokenizer.ggml.scores") + _ARRAY + 4 * v
    else:
        known = {int(k): int(m) for k, m in t["merges_by_vocab"].items()}  # JSON keys are strings
        merges = known.get(v, max(0, v - 256))
        n += _key("tokenizer.ggml.merges") + _ARRAY + merges * (8 + mean + 1)
    return int(round(n))


def tensor_info_bytes(tensors: Iterable[Tensor]) -> int:
    """One tensor info per tensor: name string, n_dims, the dims (uint64 each), type, data offset."""
    return sum(8 + len(t.name) + 4 + 8 * t.n_dims + 4 + 8 for t in tensors)


def padding_bytes(tensor_sizes: Iterable[int], alignment: int = 32) -> int:
    """Each tensor's data starts at a multiple of general.alignment (default 32), and so does the data section."""
    return sum(-n % alignment for n in tensor_sizes) + alignment // 2


def metadata_bytes(model: Model, tensors: Iterable[Tensor], tensor_sizes: Iterable[int]) -> int:
    """Everything in the file but the tensor data: header, tokenizer, tensor infos and padding (the few other keys,
    hyperparameters and the chat template, a few KB, are left out)."""
    return _HEADER + tokenizer_bytes(model) + tensor_info_bytes(tensors) + padding_bytes(tensor_sizes)
