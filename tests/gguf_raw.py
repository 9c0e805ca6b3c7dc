"""Raw GGUF bytes written by hand (struct), for headers no real writer produces: nested arrays, NaN where a count
belongs, claimed counts far beyond the file, escape sequences in names. A 2-layer llama in Q4_K/Q6_K/F32/Q8_0 is the
base; `base_kvs(**override)` swaps one key (None removes it). Layout: ggml-org/ggml docs/gguf.md (v3).
"""
from __future__ import annotations

import struct


def _s(text: str | bytes) -> bytes:
    b = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, payload: bytes) -> bytes:
    return _s(key) + struct.pack("<I", vtype) + payload


U32, I32, F32, BOOL, STR, ARR, U64, F64 = 4, 5, 6, 7, 8, 9, 10, 12


def base_kvs(**override) -> dict[str, tuple[int, bytes]]:
    kv = {
        "general.architecture": (STR, _s("llama")),
        "general.name": (STR, _s("Tiny Llama")),
        "llama.block_count": (U32, struct.pack("<I", 2)),
        "llama.embedding_length": (U32, struct.pack("<I", 256)),
        "llama.feed_forward_length": (U32, struct.pack("<I", 512)),
        "llama.attention.head_count": (U32, struct.pack("<I", 4)),
        "llama.attention.head_count_kv": (U32, struct.pack("<I", 2)),
        "llama.context_length": (U32, struct.pack("<I", 4096)),
        "llama.vocab_size": (U32, struct.pack("<I", 320)),
        "general.file_type": (U32, struct.pack("<I", 15)),
    }
    kv.update(override)
    return {k: v for k, v in kv.items() if v is not None}


def tiny_tensors(n_layers: int = 2) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(name, shape, ggml type id, n_bytes): a 2-layer llama in Q4_K/Q6_K/F32/Q8_0."""
    d, ff, vocab, hd = 256, 512, 320, 64
    q4k, q6k = (12, 256, 144), (14, 256, 210)

    def nb(shape, t):
        tid, block, size = t
        n = 1
        for x in shape[1:]:
            n *= x
        return n * (shape[0] // block) * size

    out = [("token_embd.weight", (d, vocab), q4k)]
    for i in range(n_layers):
        p = f"blk.{i}."
        out += [(p + "attn_norm.weight", (d,), (0, 1, 4)), (p + "attn_q.weight", (d, 4 * hd), q4k),
                (p + "attn_k.weight", (d, 2 * hd), q4k), (p + "attn_v.weight", (d, 2 * hd), q6k),
                (p + "attn_output.weight", (4 * hd, d), q4k), (p + "ffn_norm.weight", (d,), (0, 1, 4)),
                (p + "ffn_gate.weight", (d, ff), q4k), (p + "ffn_up.weight", (d, ff), q4k),
                (p + "ffn_down.weight", (ff, d), q6k)]
    out += [("output_norm.weight", (d,), (0, 1, 4)), ("output.weight", (d, vocab), (8, 32, 34))]
    return [(n, s, t[0], nb(s, t)) for n, s, t in out]


def gguf_bytes(kvs: dict, tensors=None, extra_kv: bytes = b"", extra_n: int = 0, n_tensors_claim=None) -> bytes:
    tensors = tiny_tensors() if tensors is None else tensors
    body = b"".join(_kv(k, t, p) for k, (t, p) in kvs.items()) + extra_kv
    infos, off = [], 0
    for name, shape, tid, nbytes in tensors:
        infos.append(_s(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape)
                     + struct.pack("<IQ", tid, off))
        off += -(-nbytes // 32) * 32
    n_t = len(tensors) if n_tensors_claim is None else n_tensors_claim
    head = b"GGUF" + struct.pack("<IQQ", 3, n_t, len(kvs) + extra_n) + body + b"".join(infos)
    head += b"\0" * (-len(head) % 32)
    return head + b"\0" * off


def nested(depth: int) -> bytes:
    return struct.pack("<IQ", ARR, 1) * depth + struct.pack("<IQ", U32, 0)
