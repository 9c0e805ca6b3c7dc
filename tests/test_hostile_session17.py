"""Bad input found in session 17 (hostile3): each case failed before its fix."""
from __future__ import annotations

from selfhost_advisor.cli import main

VK = "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,backend=vulkan,price=1000"


def test_cost_refuses_vllm_on_a_vulkan_spec_sheet_as_fit_and_serve_do(capsys):
    # was exit 0 with the box excluded as 'vLLM does not run on Apple GPUs or non-CUDA unified memory' (neither)
    code = main(["cost", "-t", "1e8", "-m", "llama3.1:8b", "--hardware", VK, "--engine", "vllm"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert "vLLM has no Vulkan backend" in err and "--engine llamacpp" in err
    assert main(["serve", "llama3.1:8b", "--hardware", VK.rsplit(",", 1)[0], "--engine", "vllm"]) == 2


def test_a_probe_files_huge_names_are_cut_not_printed_whole(tmp_path, capsys):
    # a 200,000-character device name printed 2,500 lines of 'Hardware' in fit (and 240 KB of --json); a custom
    # spec's name= was already cut to 80 characters
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).parent / "fixtures" / "probes" / "h200.probe.json").read_text())
    data["devices"][0]["name"] = "NVIDIA H200 (" + "L" * 200_000 + ")"
    data["name"] = "box " + "M" * 200_000
    data.setdefault("cpu", {})["name"] = "AMD EPYC " + "C" * 200_000
    p = tmp_path / "box.json"
    p.write_text(json.dumps(data))
    assert main(["fit", "llama3.1:8b", "--hardware", str(p)]) == 0
    out = capsys.readouterr().out
    assert len(out) < 20_000 and "L" * 200 not in out, len(out)
    assert main(["fit", "llama3.1:8b", "--hardware", str(p), "--json"]) == 0
    out = capsys.readouterr().out
    assert len(out) < 50_000 and "L" * 200 not in out and "C" * 200 not in out, len(out)


def test_a_ggufs_huge_general_name_is_cut(tmp_path, capsys):
    # a 200,000-character general.name was the model's name whole: 200 KB under 'Model' and in --json
    import struct

    from gguf_raw import base_kvs, gguf_bytes

    n = ("N" * 200_000).encode()
    p = tmp_path / "long.gguf"
    p.write_bytes(gguf_bytes(base_kvs(**{"general.name": (8, struct.pack("<Q", len(n)) + n)})))
    for extra in ([], ["--json"]):
        assert main(["fit", str(p), "--vram", "24GB", *extra]) == 0
        out = capsys.readouterr().out
        assert len(out) < 50_000 and "N" * 200 not in out, len(out)


def test_a_hub_file_named_longer_than_a_file_name_can_be_is_cached_not_exit_3(monkeypatch, capsys):
    # a repository's GGUF named with 300 characters: its cache entry 'gguf--<name>.json' passed the 255-byte limit of a
    # file name and path.is_file() raised ENAMETOOLONG: exit 3 (internal error) on the first and every later lookup
    from gguf_raw import base_kvs, gguf_bytes
    from hubfake import FakeHub, install

    hub = install(monkeypatch, FakeHub())
    hub.add("acme/Long-GGUF", {f"model-{'Q' * 300}-Q4_K_M.gguf": gguf_bytes(base_kvs())})
    assert main(["fit", "hf:acme/Long-GGUF", "--vram", "24GB"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the entry was written: it answers offline
    assert main(["fit", "hf:acme/Long-GGUF", "--vram", "24GB"]) == 0, capsys.readouterr().err
