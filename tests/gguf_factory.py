"""Write tiny but real GGUF files with the `gguf` package's writer (llama.cpp's own gguf-py).

Tensors are small and of several GGML types (F32 norms, F16, Q8_0, Q4_K, Q6_K ...); their data is zeros of the
right byte size, which is all a header reader or a size check needs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFWriter
from gguf.constants import GGML_QUANT_SIZES


def _add(w: GGUFWriter, name: str, shape: tuple[int, ...], qtype: T) -> None:
    """shape in ne order (shape[0] = row length), like the GGUF header."""
    block, size = GGML_QUANT_SIZES[qtype]
    rows = 1
    for d in shape[1:]:
        rows *= d
    if qtype == T.F32:
        w.add_tensor(name, np.zeros(tuple(reversed(shape)), dtype=np.float32))
    elif qtype == T.F16:
        w.add_tensor(name, np.zeros(tuple(reversed(shape)), dtype=np.float16))
    else:
        byte_shape = tuple(reversed(shape[1:])) + (shape[0] // block * size,)
        w.add_tensor(name, np.zeros(byte_shape if rows else (shape[0] // block * size,), dtype=np.uint8), raw_dtype=qtype)


def llama_tensors(n_layers: int, d: int, ff: int, n_heads: int, n_kv: int, vocab: int, *, tied: bool = False,
                  main: T = T.Q4_K, big: T = T.Q6_K) -> list[tuple[str, tuple[int, ...], T]]:
    hd = d // n_heads
    out = [("token_embd.weight", (d, vocab), main)]
    for i in range(n_layers):
        p = f"blk.{i}."
        out += [
            (p + "attn_norm.weight", (d,), T.F32),
            (p + "attn_q.weight", (d, n_heads * hd), main),
            (p + "attn_k.weight", (d, n_kv * hd), main),
            (p + "attn_v.weight", (d, n_kv * hd), big),
            (p + "attn_output.weight", (n_heads * hd, d), main),
            (p + "ffn_norm.weight", (d,), T.F32),
            (p + "ffn_gate.weight", (d, ff), main),
            (p + "ffn_up.weight", (d, ff), main),
            (p + "ffn_down.weight", (ff, d), big),
        ]
    out.append(("output_norm.weight", (d,), T.F32))
    if not tied:
        out.append(("output.weight", (d, vocab), T.Q8_0))
    return out


def write_gguf(path: Path, arch: str = "llama", *, n_layers: int = 2, d: int = 256, ff: int = 512, n_heads: int = 4,
               n_kv: int = 2, vocab: int = 320, ctx: int = 4096, file_type: int | None = 15, extra: dict | None = None,
               tensors: list | None = None, split_max_tensors: int = 0, name: str = "Tiny Llama",
               tokens: int = 0) -> list[tuple[str, tuple[int, ...], T]]:
    """Write a GGUF (several parts if split_max_tensors) and return its tensors."""
    tensors = tensors if tensors is not None else llama_tensors(n_layers, d, ff, n_heads, n_kv, vocab)
    w = GGUFWriter(str(path), arch, split_max_tensors=split_max_tensors)
    w.add_name(name)
    w.add_block_count(n_layers)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_head_count(n_heads)
    w.add_head_count_kv(n_kv)
    w.add_context_length(ctx)
    w.add_vocab_size(vocab)
    if file_type is not None:
        w.add_file_type(file_type)
    if tokens:
        w.add_token_list([f"tok{i}" for i in range(tokens)])
    for key, value in (extra or {}).items():
        w.add_key_value(key, value[0], value[1])
    for name_, shape, qtype in tensors:
        _add(w, name_, shape, qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tensors
