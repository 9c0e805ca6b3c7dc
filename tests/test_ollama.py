"""Ollama names and installed models, on a fake Ollama model folder holding real (tiny) GGUF blobs."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("gguf")
from gguf_factory import write_gguf  # noqa: E402

from selfhost_advisor.catalog.ollama import find_installed, installed, parse_tag  # noqa: E402
from selfhost_advisor.catalog.resolve import resolve  # noqa: E402
from selfhost_advisor.cli import main  # noqa: E402
from selfhost_advisor.errors import AdvisorError, UnknownModelError  # noqa: E402

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schema"


@pytest.mark.parametrize("text,expected", [
    ("llama3.1:70b-instruct-q3_K_M", ("library", "llama3.1", "70b", "instruct", "Q3_K_M")),
    ("llama3.1:70b", ("library", "llama3.1", "70b", None, None)),
    ("llama3.1", ("library", "llama3.1", None, None, None)),
    ("mixtral:8x7b-instruct-v0.1-q4_K_M", ("library", "mixtral", "8x7b", "instruct-v0.1", "Q4_K_M")),
    ("qwen3:30b-a3b-q8_0", ("library", "qwen3", "30b-a3b", None, "Q8_0")),
    ("llama3.2:3b-instruct-fp16", ("library", "llama3.2", "3b", "instruct", "F16")),
    ("phi3:3.8b-mini-4k-instruct-q4_K_M", ("library", "phi3", "3.8b", "mini-4k-instruct", "Q4_K_M")),
    ("gemma3n:e4b", ("library", "gemma3n", "e4b", None, None)),
    ("deepseek-r1:1.5b-qwen-distill-q4_K_M", ("library", "deepseek-r1", "1.5b", "qwen-distill", "Q4_K_M")),
    ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:IQ3_XS", ("bartowski", "Llama-3.2-1B-Instruct-GGUF", None, None, "IQ3_XS")),
    ("someone/mymodel:latest", ("someone", "mymodel", None, None, None)),
])
def test_parse_tag(text, expected):
    t = parse_tag(text)
    assert (t.namespace, t.model, t.size, t.variant, t.quant) == expected


def test_parse_tag_defaults_and_short_names():
    t = parse_tag("llama3.1")
    assert (t.host, t.namespace, t.tag, t.short) == ("registry.ollama.ai", "library", "latest", "llama3.1:latest")
    assert parse_tag("hf.co/bartowski/X-GGUF:Q4_K_M").short == "hf.co/bartowski/X-GGUF:Q4_K_M"
    for bad in ("", ":", "a/b/c/d", "llama3.1:", "bad name:tag", "x:" + "a" * 100):
        with pytest.raises(UnknownModelError):
            parse_tag(bad)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[a-z0-9./:_-]{0,40}", fullmatch=True))
def test_parse_tag_never_raises_anything_but_advisor_error(text):
    try:
        t = parse_tag(text)
    except AdvisorError:
        return
    assert t.model and t.tag


def _blob(root: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "blobs" / f"sha256-{digest}").write_bytes(data)
    return f"sha256:{digest}"


def _manifest(root: Path, host: str, ns: str, model: str, tag: str, layers: list[dict]) -> None:
    d = root / "manifests" / host / ns / model
    d.mkdir(parents=True, exist_ok=True)
    (d / tag).write_text(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                     "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                                "digest": "sha256:" + "0" * 64, "size": 10},
                                     "layers": layers}))


@pytest.fixture
def ollama_dir(tmp_path, monkeypatch):
    root = tmp_path / "ollama-models"
    g1, g2 = tmp_path / "a.gguf", tmp_path / "b.gguf"
    write_gguf(g1, n_layers=2, name="Tiny A")
    write_gguf(g2, n_layers=4, file_type=7, name="Tiny B")  # 7 = MOSTLY_Q8_0 label (types are what they are)
    a, b = _blob(root, g1.read_bytes()), _blob(root, g2.read_bytes())
    tmpl = _blob(root, b"{{ .Prompt }}")
    _manifest(root, "registry.ollama.ai", "library", "tiny", "2l-q4_K_M", [
        {"mediaType": "application/vnd.ollama.image.model", "digest": a, "size": g1.stat().st_size},
        {"mediaType": "application/vnd.ollama.image.template", "digest": tmpl, "size": 13}])
    _manifest(root, "registry.ollama.ai", "someone", "tinyb", "latest", [
        {"mediaType": "application/vnd.ollama.image.model", "digest": b, "size": g2.stat().st_size}])
    _manifest(root, "hf.co", "bartowski", "Tiny-GGUF", "Q4_K_M", [
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "1" * 64, "size": 5}])  # blob missing
    bad = _blob(root, b"not a gguf at all")
    _manifest(root, "registry.ollama.ai", "library", "broken", "latest", [
        {"mediaType": "application/vnd.ollama.image.model", "digest": bad, "size": 17}])
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    return root, g1, g2


def test_installed_lists_every_manifest_and_finds_blobs(ollama_dir):
    root, g1, _ = ollama_dir
    rows = {i.tag.short: i for i in installed()}
    assert set(rows) == {"tiny:2l-q4_K_M", "someone/tinyb:latest", "hf.co/bartowski/Tiny-GGUF:Q4_K_M", "broken:latest"}
    assert rows["tiny:2l-q4_K_M"].blob_bytes == g1.stat().st_size and not rows["tiny:2l-q4_K_M"].problem
    assert "missing" in rows["hf.co/bartowski/Tiny-GGUF:Q4_K_M"].problem
    assert find_installed("tiny:2l-q4_K_M").blob == rows["tiny:2l-q4_K_M"].blob
    assert find_installed("tiny") is None  # no :latest installed


def test_resolve_installed_model_reads_its_blob(ollama_dir):
    _, g1, g2 = ollama_dir
    r = resolve("ollama:tiny:2l-q4_K_M")
    assert r.kind == "ollama" and r.fixed_quant and r.quant == "Q4_K_M" and r.model.n_layers == 2
    r2 = resolve("someone/tinyb")  # not in the catalog, not a Hub id with a tag: the installed model
    assert r2.kind == "ollama" and r2.quant == "Q8_0" and r2.model.n_layers == 4
    assert resolve("llama3.1:8b").kind == "catalog"  # catalog names stay catalog names
    with pytest.raises(UnknownModelError, match="not installed"):
        resolve("ollama:nothere:1b")


def test_models_installed_json_matches_schema(ollama_dir, capsys):
    root, g1, _ = ollama_dir
    code = main(["models", "--installed", "--vram", "8GB", "--ram", "16GB", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    from referencing import Registry, Resource

    schemas = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.schema.json")}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values() if "$id" in s)
    jsonschema.Draft202012Validator(schemas["models-installed.schema.json"], registry=registry).validate(data)
    by = {m["name"]: m for m in data["installed"]}
    tiny = by["tiny:2l-q4_K_M"]
    assert tiny["fits"] == "gpu" and tiny["quant"] == "Q4_K_M"
    # weights = the blob's tensor data section (file size minus header), exactly
    import gguf

    assert tiny["option"]["memory"]["weights_bytes"] == os.path.getsize(g1) - gguf.GGUFReader(str(g1)).data_offset
    assert by["broken:latest"]["error"] and by["broken:latest"]["fits"] is None
    assert len(data["warnings"]) == 2 and data["models_dir"] == str(root)


def test_models_installed_text_and_empty_dir(ollama_dir, capsys, monkeypatch, tmp_path):
    assert main(["models", "--installed", "--vram", "8GB"]) == 0
    out = capsys.readouterr().out
    assert "tiny:2l-q4_K_M" in out and "unreadable" in out
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "none"))
    assert main(["models", "--installed"]) == 0
    assert "No Ollama models" in capsys.readouterr().out


def test_models_installed_takes_the_catalog_filters(ollama_dir, capsys, tmp_path):
    # an installed catalog model (llama3.1:8b-instruct-q4_K_M: the catalog's llama3.1:8b, licence llama3.1, 131k
    # context, chat) beside two that are not in the catalog (read from their GGUF headers) and one unreadable blob
    root, g1, _ = ollama_dir
    digest = _blob(root, g1.read_bytes())
    _manifest(root, "registry.ollama.ai", "library", "llama3.1", "8b-instruct-q4_K_M", [
        {"mediaType": "application/vnd.ollama.image.model", "digest": digest, "size": g1.stat().st_size}])

    def names(*argv):
        code = main(["models", "--installed", "--vram", "8GB", *argv, "--json"])
        out, err = capsys.readouterr()
        assert code == 0, err
        data = json.loads(out)
        return [m["name"] for m in data["installed"]], data["filters"]

    everything, flt = names()
    assert flt is None and len(everything) == 5
    assert names("--family", "llama3.1")[0] == ["llama3.1:8b-instruct-q4_K_M"]
    assert names("--license", "llama3.1")[0] == ["llama3.1:8b-instruct-q4_K_M"]
    assert names("--use-case", "chat")[0] == ["llama3.1:8b-instruct-q4_K_M"]  # headers carry no use case
    got, flt = names("--min-context", "65536")
    assert got == ["llama3.1:8b-instruct-q4_K_M"] and flt["min_context"] == 65536
    assert names("--search", "llama3.1:8b")[0] == ["llama3.1:8b-instruct-q4_K_M"]  # the catalog id finds it
    assert names("--search", "tiny")[0] == ["tiny:2l-q4_K_M", "someone/tinyb:latest", "hf.co/bartowski/Tiny-GGUF:Q4_K_M"]
    assert names("--family", "tiny")[0] == ["tiny:2l-q4_K_M"]  # an installed family is a known family
    assert names("--family", "broken")[0] == ["broken:latest"]  # unreadable: matched by its name only
    assert names("--family", "broken", "--license", "mit")[0] == []
    assert names("--family", "hf.co/bartowski/tiny-gguf")[0] == ["hf.co/bartowski/Tiny-GGUF:Q4_K_M"]
    # text: how many of how many, by what
    assert main(["models", "--installed", "--vram", "8GB", "--family", "llama3.1"]) == 0
    out = capsys.readouterr().out
    assert "1 of 5 installed models (family llama3.1)." in out and "llama3.1:8b-instruct-q4_K_M" in out
    # bad filter values stay bad input, before anything is printed
    assert main(["models", "--installed", "--use-case", "poetry"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "use case" in err


def test_installed_blobs_are_sized_at_most_at_their_context_length(ollama_dir):
    # Ollama lowers num_ctx to the GGUF's context_length (llm/server.go "requested context size too large for model"):
    # the tiny blobs say 4096, so `models --installed` (default context 8192) sizes them at 4096
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.installed import installed_fits
    from selfhost_advisor.machine import resolve_machine

    machine, _ = resolve_machine("rtx-4090", None, None, None)
    _, rows = installed_fits(machine, FitRequest(context=8192, engine="ollama"))
    sized = [r.result for r in rows if r.result is not None]
    assert sized and all(res.request.context == 4096 for res in sized)
