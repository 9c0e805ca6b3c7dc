"""Write a GGUF with a catalog model's exact tensor layout and synthetic weights, for timing llama-bench.

    python benchmarks/device/make_gguf.py llama3.1:8b Q4_K_M /tmp/m.gguf

Why synthetic: the device machine that times llama.cpp reaches no network, so real weights cannot be fetched,
and llama.cpp's kernels do the same work whatever the values are. The file has the tensors, shapes and GGML
types our estimator assigns (the layout it predicts sizes and speeds from), so a timing of it is a timing of
that layout. Values are chosen so that nothing overflows: quantized blocks carry random bits with their f16
scale fields set to small finite numbers, norms are 1, other float tensors N(0, 0.02). The router of an MoE
model is random, so tokens spread over experts as in a trained model rather than all picking one.

The tokenizer is a placeholder SentencePiece vocabulary of the model's size (llama-bench feeds random token
ids; only the vocabulary's size, which sets the output matrix, matters for speed).
"""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog import models  # noqa: E402
from selfhost_advisor.catalog.data import load  # noqa: E402
from selfhost_advisor.catalog.resolve import quant_of  # noqa: E402
from selfhost_advisor.estimate.memory import weights_by_tensor  # noqa: E402

ALIGN = 32
# Byte offsets of the f16 scale fields (d, and dmin where the type has one) inside one block, from ggml-common.h's
# block structs. A type not listed here is refused rather than written with random (possibly NaN) scales.
SCALE_OFFSETS = {
    "Q4_0": (0,), "Q4_1": (0, 2), "Q5_0": (0,), "Q5_1": (0, 2), "Q8_0": (0,),
    "Q2_K": (80, 82), "IQ4_NL": (0,), "IQ4_XS": (0,), "IQ3_XXS": (0,), "IQ3_S": (0,), "IQ2_XXS": (0,),
    "IQ2_XS": (0,), "IQ2_S": (0,), "IQ1_S": (0,), "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,),
}
FLOAT_TYPES = {"F32": np.float32, "F16": np.float16, "BF16": None}
PATTERN_BYTES = 64 << 20

GGUF_UINT32, GGUF_FLOAT32, GGUF_STRING, GGUF_ARRAY = 4, 6, 8, 9
GGUF_INT32 = 5


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def _kv(key: str, vtype: int, value) -> bytes:
    out = _str(key) + struct.pack("<I", vtype)
    if vtype == GGUF_UINT32:
        return out + struct.pack("<I", value)
    if vtype == GGUF_FLOAT32:
        return out + struct.pack("<f", value)
    if vtype == GGUF_STRING:
        return out + _str(value)
    elem_type, items = value
    out += struct.pack("<IQ", elem_type, len(items))
    if elem_type == GGUF_STRING:
        return out + b"".join(_str(x) for x in items)
    fmt = {GGUF_FLOAT32: "f", GGUF_INT32: "i"}[elem_type]
    return out + struct.pack(f"<{len(items)}{fmt}", *items)


def metadata(model, file_type: int | None = None) -> list[bytes]:
    a = model.arch
    kv = [_kv("general.architecture", GGUF_STRING, a), _kv("general.name", GGUF_STRING, model.name + " (synthetic)"),
          _kv(f"{a}.context_length", GGUF_UINT32, model.max_context),
          _kv(f"{a}.embedding_length", GGUF_UINT32, model.hidden_size),
          _kv(f"{a}.block_count", GGUF_UINT32, model.n_layers),
          _kv(f"{a}.feed_forward_length", GGUF_UINT32, model.intermediate_size),
          _kv(f"{a}.attention.head_count", GGUF_UINT32, model.n_heads),
          _kv(f"{a}.attention.head_count_kv", GGUF_UINT32, model.n_kv_heads),
          _kv(f"{a}.attention.key_length", GGUF_UINT32, model.head_dim),
          _kv(f"{a}.attention.value_length", GGUF_UINT32, model.head_dim),
          _kv(f"{a}.attention.layer_norm_rms_epsilon", GGUF_FLOAT32, 1e-5),
          _kv(f"{a}.rope.freq_base", GGUF_FLOAT32, 500000.0),
          _kv(f"{a}.rope.dimension_count", GGUF_UINT32, model.head_dim),
          _kv(f"{a}.vocab_size", GGUF_UINT32, model.vocab_size)]
    if file_type is not None:
        kv.append(_kv("general.file_type", GGUF_UINT32, file_type))
    if model.moe is not None:
        kv += [_kv(f"{a}.expert_count", GGUF_UINT32, model.moe.experts),
               _kv(f"{a}.expert_used_count", GGUF_UINT32, model.moe.active),
               _kv(f"{a}.expert_feed_forward_length", GGUF_UINT32, model.moe.expert_intermediate_size)]
    n = model.vocab_size
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"t{i}" for i in range(n - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (n - 259)  # unknown, control, byte, normal (llama_token_type)
    kv += [_kv("tokenizer.ggml.model", GGUF_STRING, "llama"),
           _kv("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, tokens)),
           _kv("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_FLOAT32, [0.0] * n)),
           _kv("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_INT32, types))]
    return kv


def _pattern(ggml_type: str, block_bytes: int, rng: np.random.Generator) -> bytes:
    if ggml_type not in SCALE_OFFSETS:
        raise SystemExit(f"make_gguf: no scale layout for {ggml_type}; add it to SCALE_OFFSETS from ggml-common.h")
    n_blocks = PATTERN_BYTES // block_bytes
    buf = np.frombuffer(rng.bytes(n_blocks * block_bytes), dtype=np.uint8).copy().reshape(n_blocks, block_bytes)
    for off in SCALE_OFFSETS[ggml_type]:
        scale = rng.uniform(5e-4, 2e-3, n_blocks).astype(np.float16)
        buf[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return buf.tobytes()


def _float_data(name: str, ggml_type: str, n: int, rng: np.random.Generator) -> bytes:
    if name.endswith("norm.weight"):
        values = np.ones(n, np.float32)
    else:  # one block of N(0, 0.02) repeated: drawing billions of normals would take minutes
        block = rng.normal(0, 0.02, min(n, 1 << 24)).astype(np.float32)
        values = np.resize(block, n)
    if ggml_type == "F32":
        return values.tobytes()
    if ggml_type == "F16":
        return values.astype(np.float16).tobytes()
    return (values.view(np.uint32) >> 16).astype(np.uint16).tobytes()  # BF16: the top half of each f32


def write(model_id: str, quant: str, path: str, seed: int = 0) -> int:
    model = models.get(model_id)
    rows = weights_by_tensor(model, quant_of(quant))
    table = load("ggml_types")
    ids = table["types"]
    rng = np.random.default_rng(seed)
    infos, offset = [], 0
    for t, ty, nbytes in rows:
        infos.append(_str(t.name) + struct.pack("<I", len(t.shape)) + struct.pack(f"<{len(t.shape)}Q", *t.shape)
                     + struct.pack("<IQ", ids[ty]["id"], offset))
        offset += -(-nbytes // ALIGN) * ALIGN
    file_type = {v: int(k) for k, v in table["file_types"].items()}.get(quant_of(quant).ftype)
    kv = metadata(model, file_type)
    patterns: dict[str, memoryview] = {}
    with open(path, "wb") as fh:
        fh.write(b"GGUF" + struct.pack("<IQQ", 3, len(rows), len(kv)))
        for x in kv + infos:
            fh.write(x)
        fh.write(b"\0" * (-fh.tell() % ALIGN))
        for t, ty, nbytes in rows:
            if ty in FLOAT_TYPES:
                fh.write(_float_data(t.name, ty, t.n_elements, rng))
            else:
                block_bytes = ids[ty]["type_size"]
                pat = patterns.get(ty) or patterns.setdefault(ty, memoryview(_pattern(ty, block_bytes, rng)))
                start = int(rng.integers(0, len(pat) // block_bytes)) * block_bytes
                left = nbytes
                while left:
                    chunk = pat[start:start + left]
                    fh.write(chunk)
                    left -= len(chunk)
                    start = 0
            fh.write(b"\0" * (-fh.tell() % ALIGN))
        return fh.tell()


if __name__ == "__main__":
    size = write(sys.argv[1], sys.argv[2], sys.argv[3])
    print(f"{sys.argv[3]}: {size} bytes")
