"""The GGUF header reader against llama.cpp's own gguf-py (writer and reader), on tiny real files.

Files are written with gguf.GGUFWriter (tests/gguf_factory.py); the reader's view is compared with
gguf.GGUFReader's, and weights with the bytes of the file's tensor data section, to the byte.
"""
from __future__ import annotations

import json
import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

gguf = pytest.importorskip("gguf")
from gguf import GGMLQuantizationType as T  # noqa: E402
from gguf import GGUFValueType as V  # noqa: E402
from gguf_factory import llama_tensors, write_gguf  # noqa: E402

from selfhost_advisor.catalog.gguf_header import KEEP_ARRAY_ITEMS, BytesSource, read_file_header, read_header  # noqa: E402
from selfhost_advisor.catalog.gguf_model import ggml_type_ids, read_local  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.cli import main  # noqa: E402
from selfhost_advisor.domain import FitRequest  # noqa: E402
from selfhost_advisor.errors import AdvisorError, BadFileError  # noqa: E402
from selfhost_advisor.estimate.memory import estimate_memory  # noqa: E402


def _data_section(path) -> int:
    """Bytes after the header, measured with gguf's own reader: the file's tensor data."""
    return os.path.getsize(path) - gguf.GGUFReader(str(path)).data_offset


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny-Q4_K_M.gguf"
    # rope_freqs (36 x f32 = 144 bytes) is not a multiple of the 32-byte alignment: padding must be counted.
    tensors = llama_tensors(3, 256, 512, 4, 2, 320) + [("rope_freqs.weight", (36,), T.F32)]
    write_gguf(path, n_layers=3, tensors=tensors, tokens=5000,
               extra={"llama.attention.sliding_window": (0, V.UINT32), "general.license": ("mit", V.STRING),
                      "llama.rope.dimension_sections": ([1, 2, 3], V.ARRAY)})
    return path


def test_reader_matches_gguf_package_reader(tiny):
    ours = read_file_header(str(tiny), ggml_type_ids())
    theirs = gguf.GGUFReader(str(tiny))
    assert ours.data_offset == theirs.data_offset
    assert [(t.name, t.shape, t.ggml_type, t.offset, t.n_bytes) for t in ours.tensors] == [
        (t.name, tuple(int(d) for d in t.shape), t.tensor_type.name, t.data_offset - theirs.data_offset, int(t.n_bytes))
        for t in theirs.tensors
    ]
    for key, fld in theirs.fields.items():
        if key.startswith("GGUF."):
            continue
        value = ours.metadata[key]
        if fld.types[0] == V.ARRAY and len(fld.data) > KEEP_ARRAY_ITEMS:
            assert value.length == len(fld.data)  # long arrays (the token list) are skipped, their length kept
        else:
            assert value == fld.contents(), key


def test_local_gguf_weights_equal_the_files_tensor_data_to_the_byte(tiny):
    gm = read_local(str(tiny))
    mem = estimate_memory(gm.model, get_quant("Q4_K_M"), FitRequest(context=4096))
    assert mem.weights_bytes == _data_section(tiny) == gm.data_bytes
    assert gm.quant == "Q4_K_M" and gm.model.n_layers == 3 and gm.model.vocab_size == 320
    # per layer for placement: the 3 blocks' weights are equal; token_embd stays on the host
    per_layer = {t[0].split(".")[1] for t in gm.model.tensor_types if t[0].startswith("blk.")}
    assert per_layer == {"0", "1", "2"} and len(set(mem.layer_bytes)) == 1


def test_weights_ignore_the_requested_quant_for_a_file(tiny):
    gm = read_local(str(tiny))
    a = estimate_memory(gm.model, get_quant("Q4_K_M"), FitRequest(context=4096)).weights_bytes
    b = estimate_memory(gm.model, get_quant("Q8_0"), FitRequest(context=4096)).weights_bytes
    assert a == b


def test_split_gguf_sums_every_part(tmp_path):
    base = tmp_path / "big.gguf"
    write_gguf(base, n_layers=4, split_max_tensors=12)
    parts = sorted(tmp_path.glob("big-*-of-*.gguf"))
    assert len(parts) >= 3
    gm = read_local(str(parts[1]))  # any part finds the others
    assert gm.files == tuple(str(p) for p in parts)
    mem = estimate_memory(gm.model, get_quant("Q4_K_M"), FitRequest(context=2048))
    assert mem.weights_bytes == sum(_data_section(p) for p in parts)
    assert gm.model.n_layers == 4 and len(gm.model.tensor_types) == 2 + 4 * 9 + 1
    parts[-1].unlink()
    with pytest.raises(BadFileError, match="missing 1 of its"):
        read_local(str(parts[0]))


def test_big_endian_file_reads_the_same(tmp_path):
    path = tmp_path / "be.gguf"
    w = gguf.GGUFWriter(str(path), "llama", endianess=gguf.GGUFEndian.BIG)
    w.add_block_count(1)
    w.add_embedding_length(32)
    w.add_head_count(2)
    import numpy as np

    w.add_tensor("token_embd.weight", np.zeros((8, 32), dtype=np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    h = read_file_header(str(path), ggml_type_ids())
    assert h.metadata["llama.embedding_length"] == 32 and h.tensors[0].shape == (32, 8)


@pytest.mark.parametrize("cut", [0, 3, 7, 20, 100, 1000, 5000])
def test_truncated_header_is_a_bad_file(tiny, tmp_path, cut):
    data = tiny.read_bytes()
    short = tmp_path / "short.gguf"
    short.write_bytes(data[:cut])
    with pytest.raises(BadFileError):
        read_local(str(short))


def test_truncated_tensor_data_is_a_bad_file(tiny, tmp_path):
    data = tiny.read_bytes()
    short = tmp_path / "short.gguf"
    short.write_bytes(data[:-1000])
    with pytest.raises(BadFileError, match="truncated GGUF file"):
        read_local(str(short))


@pytest.mark.parametrize("version,msg", [(1, "version 1 is not supported"), (4, "unsupported GGUF version 4"),
                                         (0xFFFF, "unsupported GGUF version")])
def test_wrong_versions(tiny, tmp_path, version, msg):
    data = bytearray(tiny.read_bytes())
    data[4:8] = struct.pack("<I", version)
    bad = tmp_path / "v.gguf"
    bad.write_bytes(bytes(data))
    with pytest.raises(BadFileError, match=msg):
        read_local(str(bad))


def test_version_2_header_reads(tiny, tmp_path):
    # v2 and v3 share the layout (uint64 counts); v3 only added big-endian support.
    data = bytearray(tiny.read_bytes())
    data[4:8] = struct.pack("<I", 2)
    v2 = tmp_path / "v2.gguf"
    v2.write_bytes(bytes(data))
    assert read_local(str(v2)).data_bytes == read_local(str(tiny)).data_bytes


def test_not_gguf_and_not_a_model(tmp_path):
    f = tmp_path / "x.gguf"
    f.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(BadFileError, match="not a GGUF file"):
        read_local(str(f))
    with pytest.raises(BadFileError, match="no such file"):
        read_local(str(tmp_path / "missing.gguf"))
    with pytest.raises(BadFileError, match="folder"):
        read_local(str(tmp_path))


def test_cli_local_gguf_json_is_exact_and_bad_file_exits_2(tiny, tmp_path, capsys):
    code = main(["fit", str(tiny), "--vram", "8GB", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert [o["quant"] for o in data["options"]] == ["Q4_K_M"]
    assert data["options"][0]["memory"]["weights_bytes"] == _data_section(tiny)
    assert data["assumptions"]["model_source"] == "gguf" and data["assumptions"]["weights"].startswith("exact")
    assert main(["fit", str(tiny), "--quant", "Q8_0"]) == 2
    assert "is a Q4_K_M file" in capsys.readouterr().err
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(tiny.read_bytes()[:300])
    assert main(["fit", str(bad), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "truncated" in err


def test_moe_mla_keys_map_onto_the_model(tmp_path):
    # A DeepSeek-V2-Lite-shaped header (new-style MLA keys, as convert_hf_to_gguf.py writes them since 2025).
    d, n_layers = 256, 2
    tensors = [("token_embd.weight", (d, 320), T.Q8_0), ("output_norm.weight", (d,), T.F32),
               ("output.weight", (d, 320), T.Q8_0)]
    extra = {
        "deepseek2.attention.kv_lora_rank": (512, V.UINT32), "deepseek2.rope.dimension_count": (64, V.UINT32),
        "deepseek2.attention.key_length": (576, V.UINT32), "deepseek2.attention.value_length": (512, V.UINT32),
        "deepseek2.attention.key_length_mla": (192, V.UINT32), "deepseek2.attention.value_length_mla": (128, V.UINT32),
        "deepseek2.expert_count": (64, V.UINT32), "deepseek2.expert_used_count": (6, V.UINT32),
        "deepseek2.expert_shared_count": (2, V.UINT32), "deepseek2.expert_feed_forward_length": (1408, V.UINT32),
        "deepseek2.leading_dense_block_count": (1, V.UINT32),
    }
    path = tmp_path / "ds.gguf"
    write_gguf(path, "deepseek2", n_layers=n_layers, d=d, n_heads=16, n_kv=1, tensors=tensors, extra=extra)
    m = read_local(str(path)).model
    assert m.mla is not None and (m.mla.kv_lora_rank, m.mla.qk_rope_head_dim, m.mla.qk_nope_head_dim, m.mla.v_head_dim) == (512, 64, 128, 128)
    assert m.moe is not None and (m.moe.experts, m.moe.active, m.moe.shared_experts, m.moe.first_dense_layers) == (64, 6, 2, 1)
    assert m.head_dim == 192


def test_sliding_window_keys_and_arch_defaults(tmp_path):
    path = tmp_path / "g3.gguf"
    write_gguf(path, "gemma3", n_layers=12, tensors=llama_tensors(12, 256, 512, 4, 2, 320, tied=True),
               extra={"gemma3.attention.sliding_window": (1024, V.UINT32), "gemma3.attention.key_length": (256, V.UINT32)})
    m = read_local(str(path)).model
    # llama.cpp: gemma3 set_swa_pattern(6): layers 5 and 11 are global
    assert m.sliding_window == 1024 and [m.is_sliding(i) for i in range(12)].count(False) == 2
    assert not m.is_sliding(5) and m.tied_embeddings and m.head_dim == 256
    path2 = tmp_path / "g3b.gguf"
    pattern = [True, True, False] * 4  # per-layer bools (newer converters)
    write_gguf(path2, "gemma3", n_layers=12, extra={"gemma3.attention.sliding_window": (512, V.UINT32),
                                                    "gemma3.attention.sliding_window_pattern": (pattern, V.ARRAY)})
    m2 = read_local(str(path2)).model
    assert m2.sliding_window_pattern == 3 and [m2.is_sliding(i) for i in range(12)] == pattern


def test_missing_architecture_is_a_bad_file(tmp_path):
    path = tmp_path / "noarch.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    with pytest.raises(BadFileError, match="block_count"):
        read_local(str(path))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_random_bytes_never_raise_anything_but_advisor_error(data):
    for blob in (data, b"GGUF" + data, b"GGUF\x03\x00\x00\x00" + data):
        try:
            read_header(BytesSource(blob), ggml_type_ids(), chunk=64)
        except AdvisorError:
            pass


@pytest.fixture(scope="module")
def valid_header_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "h.gguf"
    write_gguf(path, n_layers=1, d=256, ff=256, vocab=64, tokens=8)
    return path.read_bytes()[:4096]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_mutated_real_headers_never_raise_anything_but_advisor_error(valid_header_bytes, data):
    blob = bytearray(valid_header_bytes)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    try:
        read_header(BytesSource(bytes(blob[:cut])), ggml_type_ids(), chunk=256)
    except AdvisorError:
        pass


def _header_from_catalog(path, cat_id: str, quant: str):
    """A header-only GGUF with the metadata keys llama.cpp's converter writes for a catalog model and the
    tensor list our quantizer predicts for it (tensor data omitted: read with check_size=False)."""
    import numpy as np

    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.estimate.memory import weights_by_tensor

    m = get(cat_id)
    a = m.arch
    w = gguf.GGUFWriter(str(path), a)
    w.add_block_count(m.n_layers), w.add_embedding_length(m.hidden_size), w.add_feed_forward_length(m.intermediate_size)
    w.add_head_count(m.n_heads), w.add_head_count_kv(m.n_kv_heads), w.add_context_length(m.max_context)
    w.add_key_length(m.head_dim), w.add_value_length(m.head_dim), w.add_file_type(15)
    if m.sliding_window:
        w.add_sliding_window(m.sliding_window)
    if m.moe:
        w.add_expert_count(m.moe.experts), w.add_expert_used_count(m.moe.active)
        w.add_expert_feed_forward_length(m.moe.expert_intermediate_size)
    for t, ty, b in weights_by_tensor(m, get_quant(quant)):
        qt = T[ty]
        blk, sz = gguf.GGML_QUANT_SIZES[qt]
        w.add_tensor_info(t.name, tuple(reversed(t.shape[1:])) + (t.shape[0] // blk * sz,), np.dtype(np.uint8), b, raw_dtype=qt)
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_ti_data_to_file(), w.close()
    return m


@pytest.mark.parametrize("cat_id", ["llama3.1:8b", "qwen3:30b", "gemma2:9b", "gpt-oss:20b", "phi3:mini"])
def test_gguf_header_of_a_catalog_model_gives_its_estimate(tmp_path, cat_id):
    from selfhost_advisor.catalog.gguf_model import from_headers

    path = tmp_path / "h.gguf"
    cat = _header_from_catalog(path, cat_id, "Q4_K_M")
    h = read_file_header(str(path), ggml_type_ids(), check_size=False)
    m = from_headers([h], model_id=cat_id, source="", files=()).model
    for ctx in (4096, 32768):
        req = FitRequest(context=ctx)
        a, b = estimate_memory(m, get_quant("Q4_K_M"), req), estimate_memory(cat, get_quant("Q4_K_M"), req)
        assert (a.kv_cache_bytes, a.compute_buffer_bytes, a.input_embedding_bytes) == (
            b.kv_cache_bytes, b.compute_buffer_bytes, b.input_embedding_bytes)
        # weights: the same tensors, each padded to the 32-byte alignment in the file
        assert 0 <= a.weights_bytes - b.weights_bytes < 32 * len(m.tensor_types)
