"""Session 34 (audit34) bad-input cases: GGUF headers llama.cpp refuses that were sized (a count key of the wrong
type, tensor data that overlaps or leaves gaps), a --price-date read in forms the help does not name, ..."""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402
from gguf_raw import ARR, BOOL, STR, U32, _s, base_kvs, gguf_bytes, nested, tiny_tensors  # noqa: E402


# --- GGUF: a count key of the wrong type -------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["llama.block_count", "llama.context_length", "llama.attention.head_count_kv",
                                 "llama.attention.key_length", "llama.vocab_size"])
@pytest.mark.parametrize("value", [(BOOL, b"\x01"), (STR, _s("12")), (ARR, nested(2)),
                                   (ARR, struct.pack("<IQ", BOOL, 2) + b"\x01\x01")],
                         ids=["bool", "string", "nested-array", "array-of-bools"])
def test_a_count_key_of_the_wrong_type_is_a_corrupt_file(capsys, tmp_path, key, value):
    # llama.cpp's loader checks each key's type (llama-model-loader.cpp GKV::validate_type: "key %s has wrong type %s
    # but expected type %s"). Python's True is an int: block_count = true sized a 1-layer model, context_length = true
    # a context of 1 token; a string or a nested array read as absent and the default was used unsaid
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes(base_kvs(**{key: value})))
    code, out, err = run(capsys, "fit", str(path), "--vram", "24GB", "--json")
    one_line_exit_2(code, out, err, key, "not a count")


def test_a_per_layer_array_of_counts_still_reads(capsys, tmp_path):
    # head_count_kv per layer (llama.cpp's get_key_or_arr) is the form real files use: unchanged
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes(base_kvs(**{"llama.attention.head_count_kv":
                                            (ARR, struct.pack("<IQ", U32, 2) + struct.pack("<2I", 2, 2))})))
    code, out, err = run(capsys, "fit", str(path), "--vram", "24GB", "--json")
    assert code == 0, err


# --- GGUF: tensor data laid out as ggml never lays it --------------------------------------------------------------

def _with_offsets(offsets, data_bytes):
    from gguf_raw import _kv

    kvs = base_kvs()
    body = b"".join(_kv(k, t, p) for k, (t, p) in kvs.items())
    infos = b""
    for (name, shape, tid, _), off in zip(tiny_tensors(), offsets):
        infos += _s(name) + struct.pack("<I", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape) + struct.pack("<IQ", tid, off)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tiny_tensors()), len(kvs)) + body + infos
    head += b"\0" * (-len(head) % 32)
    return head + b"\0" * data_bytes


def _packed_offsets():
    out, off = [], 0
    for *_, nbytes in tiny_tensors():
        out.append(off)
        off += -(-nbytes // 32) * 32
    return out, off


@pytest.mark.parametrize("layout", ["all-at-0", "gaps", "reversed"])
def test_tensor_offsets_that_are_not_packed_in_order_are_a_corrupt_file(capsys, tmp_path, layout):
    # ggml's gguf.cpp (gguf_init_from_file_impl) requires each tensor at the running sum of the padded sizes before it:
    # "tensor '%s' has offset %" PRIu64 ", expected %zu" / "failed to read tensor data". Every tensor at offset 0 was
    # sized as the sum of the claimed tensors (a 109 KB file as 886 KB of weights: the size check read only the end of
    # the furthest tensor)
    packed, total = _packed_offsets()
    sizes = [nb for *_, nb in tiny_tensors()]
    offsets = {"all-at-0": [0] * len(packed), "gaps": [o + 1024 * i for i, o in enumerate(packed)],
               "reversed": list(reversed(packed))}[layout]
    data = {"all-at-0": max(sizes), "gaps": total + 1024 * len(packed), "reversed": total}[layout]
    path = tmp_path / "m.gguf"
    path.write_bytes(_with_offsets(offsets, data))
    code, out, err = run(capsys, "fit", str(path), "--vram", "24GB", "--json")
    one_line_exit_2(code, out, err, "offset", "expected")


def test_packed_offsets_still_read(capsys, tmp_path):
    packed, total = _packed_offsets()
    path = tmp_path / "m.gguf"
    path.write_bytes(_with_offsets(packed, total))
    code, out, err = run(capsys, "fit", str(path), "--vram", "24GB", "--json")
    assert code == 0, err


# --- cost --price-date: YYYY-MM-DD, as the help says -----------------------------------------------------------------

@pytest.mark.parametrize("value", ["2026-W49-2", "20261201", "2026W492", "2026-335", "2026-12-01T00:00"])
def test_price_date_takes_only_yyyy_mm_dd(capsys, value):
    # Python 3.11's date.fromisoformat reads ISO week dates and the basic form (Python 3.10 refused them): '2026-W49-2'
    # priced the APIs on 2026-12-01 unsaid, and the same command was exit 0 or exit 2 by the Python it ran under
    code, out, err = run(capsys, "cost", "-t", "1e9", "--price-date", value, "--json")
    one_line_exit_2(code, out, err, "--price-date", "YYYY-MM-DD")


def test_price_date_in_the_documented_form_still_reads(capsys):
    code, out, err = run(capsys, "cost", "-t", "1e9", "--price-date", "2026-12-01", "--json")
    assert code == 0, err
    assert json.loads(out)["schema_version"]


# --- serve: a request longer than the model's maximum names serve's own options -----------------------------------

@pytest.mark.parametrize("argv", [["--prompt-tokens", "200000"], ["--prompt-tokens", "100000", "--output-tokens", "40000"]])
def test_serve_over_the_maximum_context_names_the_request_options_not_context(capsys, argv):
    # serve sizes the context as --prompt-tokens + --output-tokens and has no --context; under vLLM the refusal said
    # 'give --context 131072 or less', an option `advisor serve` does not take
    code, out, err = run(capsys, "serve", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", *argv)
    one_line_exit_2(code, out, err, "--prompt-tokens", "--output-tokens", "131072", "VLLM_ALLOW_LONG_MAX_MODEL_LEN")
    assert "--context" not in err
