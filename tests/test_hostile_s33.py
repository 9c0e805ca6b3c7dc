"""Session 33 (audit33) bad-input cases the earlier sweeps did not reach: a GGUF that holds no tensors (llama.cpp's
vocabulary-only ggml-vocab-*.gguf) sized as a 0 MB model that fits; a GGUF naming a tensor or a metadata key twice
(ggml's gguf.cpp and llama-model-loader refuse the file) sized with the tensor counted twice or the last key; a probe
file's rates below 1 MB/s (a unit slip the spec sheet refuses) read as a GPU decoding at 1e-10 tokens/s; and a
--min-quant floor that vLLM's and MLX's formats (no measured loss) passed whatever their bits."""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402
from gguf_raw import U32, base_kvs, gguf_bytes, tiny_tensors  # noqa: E402


def _gguf(tmp_path: Path, name: str, data: bytes) -> str:
    f = tmp_path / f"{name}.gguf"
    f.write_bytes(data)
    return str(f)


def test_a_gguf_without_tensors_is_refused_not_sized_as_0_mb(capsys, tmp_path):
    # llama.cpp ships vocabulary-only files (models/ggml-vocab-llama-bpe.gguf): the whole hparams header, no tensors.
    # fit said '0M params', weights 0 MB, 'fits fully on GPU', exit 0; llama-server cannot load it (missing tensor)
    path = _gguf(tmp_path, "ggml-vocab-llama-bpe", gguf_bytes(base_kvs(), tensors=[]))
    code, out, err = run(capsys, "fit", path, "--vram", "24GB")
    one_line_exit_2(code, out, err, "no tensors", "vocabulary-only")


def test_a_gguf_naming_a_tensor_twice_is_refused(capsys, tmp_path):
    # ggml/src/gguf.cpp gguf_init_from_reader: "duplicate tensor name"; llama-model-loader.cpp: "invalid model: tensor
    # '%s' is duplicated". fit counted output.weight twice and said it fits
    tensors = tiny_tensors()
    path = _gguf(tmp_path, "dup", gguf_bytes(base_kvs(), tensors=tensors + [tensors[-1]]))
    code, out, err = run(capsys, "fit", path, "--vram", "24GB")
    one_line_exit_2(code, out, err, "output.weight", "twice")


def test_a_gguf_giving_a_metadata_key_twice_is_refused(capsys, tmp_path):
    # gguf.cpp: "duplicate key '%s'" (the file does not load); the reader kept the last llama.block_count unsaid
    kvs = base_kvs()
    data = gguf_bytes(kvs, extra_kv=struct.pack("<Q", len(b"llama.block_count")) + b"llama.block_count"
                      + struct.pack("<II", U32, 1), extra_n=1)
    path = _gguf(tmp_path, "dupkey", data)
    code, out, err = run(capsys, "fit", path, "--vram", "24GB")
    one_line_exit_2(code, out, err, "llama.block_count", "twice")


def _box(tmp_path: Path, top: dict | None = None, **device) -> str:
    dev = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 4 * 10**9,
           "bandwidth_bytes_per_s": 10**12, "fp16_flops": 1.6e14, **device}
    f = tmp_path / "box.json"
    f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [dev], **(top or {})}),
                 encoding="utf-8")
    return str(f)


@pytest.mark.parametrize("where, key", [("device", "bandwidth_bytes_per_s"), ("device", "fp16_flops"),
                                        ("top", "ram_bandwidth_bytes_per_s"), ("top", "cpu_flops")])
def test_a_probe_file_rate_below_1_mb_per_s_is_refused_as_the_spec_sheet_refuses_it(capsys, tmp_path, where, key):
    # "bandwidth_bytes_per_s": 1 (a hand edit in GB/s, or a unit slip) was read as 1 byte/s: fit printed
    # 0.00000000017 tokens/s and exit 0; custom:bandwidth=1B/s is refused as out of range (spec_fields._rate)
    box = _box(tmp_path, **{key: 1}) if where == "device" else _box(tmp_path, {key: 1})
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-q", "Q8_0", "-H", box)
    one_line_exit_2(code, out, err, key, "below 1 M", "unit slip")


def test_a_probe_file_rate_of_zero_or_a_real_one_still_reads(capsys, tmp_path):
    for value in (0, 10**12):
        code, out, err = run(capsys, "fit", "llama3.1:8b", "-q", "Q4_K_M", "-H",
                             _box(tmp_path, bandwidth_bytes_per_s=value), "--json")
        assert code == 0, err


@pytest.mark.parametrize("argv, lossy", [
    (["fit", "llama3.1:70b", "-H", "2x rtx4090", "--engine", "vllm", "--min-quant", "Q8_0"], ("GPTQ-INT4", "AWQ-INT4")),
    (["fit", "llama3.1:70b", "-H", "m4-pro-48gb", "--engine", "mlx", "--min-quant", "Q8_0"], ("3bit", "4bit", "mxfp4")),
])
def test_min_quant_holds_vllm_and_mlx_formats_by_their_bits(capsys, argv, lossy):
    # vLLM's FP8/GPTQ/AWQ and the MLX formats have no measured loss, and an unmeasured format passed every floor: the
    # text said 'Quality floor: Q8_0' and recommended GPTQ-INT4 (4 bits), and --require-fit gpu passed with it
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["recommended"] not in lossy
    code, out, err = run(capsys, *argv, "--require-fit", "gpu")
    assert code == 1, err  # 2x 24 GB cannot hold 70B at 8 bits, nor 48 GB: the gate must fail, not pass at 4 bits


def test_min_quant_q4_k_m_still_allows_a_4_bit_vllm_format(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:70b", "-H", "2x rtx4090", "--engine", "vllm", "--min-quant",
                         "Q4_K_M", "--json")
    assert code == 0, err
    assert json.loads(out)["recommended"] in ("GPTQ-INT4", "AWQ-INT4")


@pytest.mark.parametrize("model", ["ollama:" + "a" * 5000, "ollama:x:" + "b" * 3000])
def test_an_ollama_name_not_installed_is_quoted_clipped(capsys, monkeypatch, tmp_path, model):
    # the one line quoted the whole name: `ollama:` + 5,000 characters gave a 5,125-character error (hf: is clipped)
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path))
    code, out, err = run(capsys, "fit", model, "--vram", "24GB")
    one_line_exit_2(code, out, err, "is not installed")
    assert len(err) < 400, len(err)


@pytest.mark.parametrize("model", ["ollama:", "OLLAMA:  "])
def test_ollama_prefix_without_a_name_says_so(capsys, model):
    code, out, err = run(capsys, "fit", model, "--vram", "24GB")
    one_line_exit_2(code, out, err, "no model name after 'ollama:'")


@pytest.mark.parametrize("tensor", [("t" * 60000, (256,), 255, 0), ("t" * 60000, (250, 320), 8, 100)])
def test_a_gguf_tensor_name_is_quoted_clipped(capsys, tmp_path, tensor):
    # a tensor name may hold 64 KiB; one with an unknown type id or a bad row length came back in a 60,076-character line
    path = _gguf(tmp_path, "longname", gguf_bytes(base_kvs(), tensors=tiny_tensors() + [tensor]))
    code, out, err = run(capsys, "fit", path, "--vram", "24GB")
    one_line_exit_2(code, out, err, "tensor 'ttt")
    assert len(err) < 600, len(err)


def test_an_unknown_quantization_in_a_list_is_quoted_clipped(capsys):
    # `-q Z...` alone was clipped before it reached catalog/quants.get_quant; `-q Q4_K_M,Z...` was quoted whole
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB", "-q", "Q4_K_M," + "Z" * 5000)
    one_line_exit_2(code, out, err, "unknown quantization")
    assert len(err) < 1000, len(err)


@pytest.mark.parametrize("hardware", ["m4-max-128gb", "ryzen 9 7950x 64gb"])
def test_fit_under_an_engine_that_does_not_run_here_does_not_read_as_a_memory_shortfall(capsys, hardware):
    # fit -H m4-max-128gb --engine vllm: every format 'no (-16.1 GB)' and 'Nothing fits. Smallest option AWQ-INT4 needs
    # 6.8 GB, 5.7 GB short' on a Mac with 115 GB usable: the reason is the engine (the note says so), not memory
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", hardware, "--engine", "vllm", "--wide")
    assert code == 0, err
    assert "GB short" not in out and "no (-" not in out, out
    assert "Nothing runs here" in out and "note: vLLM " in out  # the note names why
