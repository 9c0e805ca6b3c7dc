"""Ollama's own gpt-oss files (engines/ollama_blob.py, data/ollama_library.yaml converter_files): `fit gpt-oss:20b
--engine ollama` sizes the file `ollama run` fetches (MXFP4 experts, BF16 elsewhere), checked against Ollama's logged
weights and the library's published sizes, not against our own arithmetic."""
from __future__ import annotations

import pytest

from selfhost_advisor import fit
from selfhost_advisor.catalog.models import resolve as _resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.engines.ollama_blob import blob_model, blob_type
from selfhost_advisor.estimate.memory import weights

GIB, MIB = 2**30, 2**20


def resolve(model_id: str):
    return _resolve(model_id).model
BF16 = get_quant("BF16")


def _human2(n: int) -> str:
    """Ollama's format.HumanBytes2 (v0.11.2, format/bytes.go) for sizes of a GiB or more: "%.1f GiB"."""
    return f"{n / GIB:.1f} GiB"


def _logged_parts(model_id: str, *, first_upload: bool) -> tuple[str, str, str]:
    """memory.weights.total / repeating / nonrepeating as llm/memory.go logs them: the blocks, and the output layer
    (output + output_norm); token_embd is not counted."""
    m = resolve(model_id)
    w = weights(blob_model(m, BF16, first_upload=first_upload), BF16)
    repeating = sum(w.layer_bytes)
    nonrepeating = w.total_bytes - repeating - w.input_embedding_bytes
    return _human2(repeating + nonrepeating), _human2(repeating), _human2(nonrepeating)


@pytest.mark.parametrize("model_id,logged", [
    # ollama/ollama#11711 (Ollama 0.11.2, RTX 4060 Ti): memory.weights.total="11.7 GiB" repeating="10.7 GiB"
    # nonrepeating="1.1 GiB"
    ("gpt-oss:20b", ("11.7 GiB", "10.7 GiB", "1.1 GiB")),
    # ollama/ollama#11982 (Ollama 0.11.5, 3 GPUs): memory.weights.total="59.7 GiB" repeating="58.6 GiB"
    # nonrepeating="1.1 GiB"
    ("gpt-oss:120b", ("59.7 GiB", "58.6 GiB", "1.1 GiB")),
])
def test_first_upload_matches_ollamas_logged_weights(model_id, logged):
    assert _logged_parts(model_id, first_upload=True) == logged
    # the rule matters: with the expert biases F32 (llama.cpp's converter, Ollama's after 1a19df1f3) the log would differ
    assert _logged_parts(model_id, first_upload=False)[0] != logged[0]


def test_current_120b_file_matches_ollama_030_load():
    """ollama/ollama#16416 (Ollama 0.30, gpt-oss:120b, llama-server's memory breakdown in whole MiB): ROCm0 model
    61223 MiB (every tensor but token_embd), Host 1104 MiB (token_embd)."""
    w = weights(blob_model(resolve("gpt-oss:120b"), BF16, first_upload=False), BF16)
    assert int(w.input_embedding_bytes / MIB) == 1104
    assert abs((w.total_bytes - w.input_embedding_bytes) / MIB - 61223) < 2  # 61224.6: within 0.003%
    first = weights(blob_model(resolve("gpt-oss:120b"), BF16, first_upload=True), BF16)
    assert abs((first.total_bytes - first.input_embedding_bytes) / MIB - 61223) > 50  # the first upload is not it


@pytest.mark.parametrize("model_id,published_gb", [("gpt-oss:20b", 14), ("gpt-oss:120b", 65)])
def test_library_file_within_the_published_size(model_id, published_gb):
    """ollama.com/library/gpt-oss lists 14GB / 65GB (rounded, 10^9 bytes; data/ollama_library.yaml); the file is the
    tensors plus a header of a few MB. Q8_0 or MXFP4_MOE (llama.cpp's types) would not be."""
    for first in (True, False):
        w = weights(blob_model(resolve(model_id), BF16, first_upload=first), BF16)
        assert abs(w.total_bytes / 1e9 - published_gb) < 0.5
    assert abs(weights(resolve(model_id), get_quant("MXFP4_MOE")).total_bytes / 1e9 - published_gb) > 1.5


def test_converter_types_per_tensor():
    """convert/reader.go tensorBase.Kind() + reader_safetensors.go safetensor.Kind() at v0.11.2."""
    assert blob_type("blk.0.ffn_gate_exps.weight", 3, "MXFP4") == "MXFP4"
    assert blob_type("blk.0.ffn_gate_inp.weight", 2, "F32") == "F32"
    assert blob_type("blk.0.attn_norm.weight", 1, "F32") == "F32"
    assert blob_type("blk.0.ffn_up_exps.bias", 2, "F32") == "BF16"  # 2-D bias: no .bias rule before 2025-08-14
    assert blob_type("token_embd.weight", 2, "BF16") == "BF16"


def test_fit_ollama_sizes_the_library_file_only():
    r = fit("gpt-oss:20b", "rtx4090", engine="ollama", context=8192)
    assert [o.quant.name for o in r.options] == ["BF16"]
    opt = r.options[0]
    assert opt.memory.weights_bytes == weights(resolve("gpt-oss:20b"), BF16).total_bytes
    assert "library file" in opt.placement.note and "MXFP4 experts" in opt.placement.note
    old = fit("gpt-oss:20b", "rtx4090", engine="ollama", context=8192, engine_version="0.11.2").options[0]
    assert old.memory.weights_bytes < opt.memory.weights_bytes  # the first upload's BF16 expert biases
    # llama.cpp still offers every llama-quantize type; a named quantization is sized as asked, with a note
    assert len(fit("gpt-oss:20b", "rtx4090", context=8192).options) > 5
    q4 = fit("gpt-oss:20b", "rtx4090", engine="ollama", context=8192, quant="Q4_K_M").options[0]
    assert q4.quant.name == "Q4_K_M" and "fetches Ollama's own" in q4.placement.note


def test_models_fits_and_hardware_for_size_the_library_file_on_ollama_only():
    from selfhost_advisor.engines import get_engine

    m = resolve("gpt-oss:120b")
    assert [q.name for q in get_engine("ollama").model_quants(m)] == ["BF16"]
    assert len(get_engine("llamacpp").model_quants(m)) > 5
    assert len(get_engine("ollama").model_quants(resolve("llama3.1:8b"))) > 5  # a llama-quantize library family
