"""Hub models through a fake Hub (tests/hubfake.py) serving recorded config.json files and GGUF/safetensors bytes.

The accuracy law: a model resolved from its Hub config gives the same estimate as its catalog entry.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import schemakit
import pytest
from hubfake import FakeHub, install

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import listed_quants
from selfhost_advisor.catalog.resolve import resolve
from selfhost_advisor.cli import main
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.estimate.memory import estimate_memory

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schema"

# Hub repo -> catalog id whose entry cites that repo's config.json
RECORDED = {
    "meta-llama/Llama-3.1-8B-Instruct": "llama3.1:8b",
    "Qwen/Qwen3-30B-A3B": "qwen3:30b",
    "google/gemma-3-12b-it": "gemma3:12b",
    "openai/gpt-oss-20b": "gpt-oss:20b",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3:671b",
    "mistralai/Mixtral-8x7B-Instruct-v0.1": "mixtral:8x7b",
    "microsoft/Phi-3-mini-4k-instruct": "phi3:mini",
    "google/gemma-2-9b-it": "gemma2:9b",
    "Qwen/Qwen2.5-7B-Instruct": "qwen2.5:7b",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": "llama4:scout",
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1": "nemotron-super:49b",
    "nvidia/Llama-3_1-Nemotron-Ultra-253B-v1": "nemotron-ultra:253b",
}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hub(monkeypatch):
    fake = install(monkeypatch, FakeHub())
    for repo in RECORDED:
        fake.add_recorded(repo)
    return fake


@pytest.mark.parametrize("repo", sorted(RECORDED))
def test_hub_config_gives_the_catalog_estimate(hub, repo):
    hub_model = resolve(f"hf:{repo}").model
    cat = get(RECORDED[repo])
    for ctx in (8192, 32768):
        req = FitRequest(context=ctx)
        for q in listed_quants():
            a, b = estimate_memory(hub_model, q, req), estimate_memory(cat, q, req)
            assert (a.weights_bytes, a.kv_cache_bytes, a.compute_buffer_bytes, a.layer_bytes) == (
                b.weights_bytes, b.kv_cache_bytes, b.compute_buffer_bytes, b.layer_bytes), (q.name, ctx)


def test_catalog_hub_ids_stay_offline_and_other_ids_go_to_the_hub(hub):
    assert resolve("Qwen/Qwen3-30B-A3B").kind == "catalog" and not hub.requests
    hub.add_recorded("Qwen/Qwen3-30B-A3B")
    hub.files["someone/Qwen3-30B-A3B-finetune"] = hub.files["Qwen/Qwen3-30B-A3B"]
    hub.safetensors["someone/Qwen3-30B-A3B-finetune"] = {"BF16": 30532122624}
    r = resolve("someone/Qwen3-30B-A3B-finetune")
    assert r.kind == "hub" and r.model.moe.experts == 128 and r.model.params == 30532122624


def test_fit_hub_json_matches_schema_and_says_where_the_model_came_from(hub, capsys):
    hub.safetensors["Qwen/Qwen3-30B-A3B"] = {"BF16": 30532122624}
    code, out, err = run(capsys, "fit", "hf:Qwen/Qwen3-30B-A3B", "--vram", "24GB", "--json")
    assert code == 0, err
    data = json.loads(out)
    schemakit.validate(data, json.loads((SCHEMAS / "fit.schema.json").read_text()))
    assert data["assumptions"]["model_source"] == "hub"
    assert data["model"]["id"] == "hf:Qwen/Qwen3-30B-A3B" and data["model"]["stated_params"] == 30532122624
    assert data["warnings"] == []  # config-implied count equals the checkpoint's (catalog: 30532122624)


def test_multimodal_and_prequantized_checkpoints_are_flagged(hub):
    hub.safetensors["google/gemma-3-12b-it"] = {"BF16": 12187325040}  # text + SigLIP tower (catalog params)
    r = resolve("hf:google/gemma-3-12b-it")
    assert any("vision tower" in w for w in r.warnings)
    r2 = resolve("hf:deepseek-ai/DeepSeek-V3")
    assert any("pre-quantized (fp8)" in w for w in r2.warnings)


def test_cache_serves_repeat_calls_offline_and_without_network(hub, capsys):
    assert run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json", "--vram", "24GB")[0] == 0
    n = len(hub.requests)
    assert run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json", "--vram", "24GB", "--offline")[0] == 0
    assert len(hub.requests) == n  # offline: not one request
    hub.online = False
    code, out, err = run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json", "--vram", "24GB")
    assert code == 0, err  # fresh cache: no request needed
    assert len(hub.requests) == n


def test_stale_cache_is_used_when_the_network_is_down(hub, capsys, monkeypatch):
    from selfhost_advisor.catalog import hub as hubmod

    assert run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json", "--vram", "24GB")[0] == 0
    monkeypatch.setattr(hubmod, "CACHE_TTL_S", -1)  # everything cached is stale now
    hub.online = False
    code, out, err = run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json", "--vram", "24GB")
    assert code == 0 and "unreachable: using cached" in " ".join(json.loads(out)["warnings"])


def test_no_network_and_not_cached_is_one_line_exit_2(hub, capsys):
    hub.online = False
    code, out, err = run(capsys, "fit", "hf:google/gemma-2-9b-it", "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "cannot reach the Hugging Face Hub" in err
    code, out, err = run(capsys, "fit", "hf:google/gemma-2-9b-it", "--offline")
    assert code == 2 and err.count("\n") == 1 and "--offline" in err


def test_gated_repo_needs_hf_token_which_is_never_printed_or_written(hub, capsys, monkeypatch, tmp_path):
    secret = "hf_TESTSECRETtoken123"
    hub.gated["meta-llama/Llama-3.1-8B-Instruct"] = secret
    code, out, err = run(capsys, "fit", "hf:meta-llama/Llama-3.1-8B-Instruct")
    assert code == 2 and "set HF_TOKEN" in err
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    code, out, err = run(capsys, "fit", "hf:meta-llama/Llama-3.1-8B-Instruct")
    assert code == 2 and "accept the model's license" in err and "hf_wrong" not in err
    monkeypatch.setenv("HF_TOKEN", secret)
    code, out, err = run(capsys, "fit", "hf:meta-llama/Llama-3.1-8B-Instruct", "--json", "--vram", "24GB")
    assert code == 0, err
    assert secret not in out + err
    home = Path(os.environ["ADVISOR_HOME"])
    cached = [p for p in home.rglob("*") if p.is_file()]
    assert cached and all(secret not in p.read_text() for p in cached)
    assert any(h.get("Authorization") == f"Bearer {secret}" for _, h in hub.requests)


def test_unknown_repo_and_unsupported_architecture(hub, capsys):
    code, _, err = run(capsys, "fit", "hf:nobody/nothing")
    assert code == 2 and "no Hub repository 'nobody/nothing'" in err
    hub.add("acme/Mamba-7B", {"config.json": json.dumps({"architectures": ["MambaForCausalLM"]}).encode()})
    hub.add("acme/Custom-7B", {"config.json": json.dumps({"architectures": ["AcmeForCausalLM"],
                                                          "auto_map": {"AutoModel": "modeling_acme.AcmeModel"}}).encode()})
    with pytest.raises(UnknownModelError, match="architecture MambaForCausalLM is not supported"):
        resolve("hf:acme/Mamba-7B")
    with pytest.raises(UnknownModelError, match="trust_remote_code"):
        resolve("hf:acme/Custom-7B")
    code, _, err = run(capsys, "fit", "hf:not a repo")
    assert code == 2


def _safetensors(tensors: dict[str, tuple[str, list[int]]], pad_to: int = 0) -> bytes:
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    sizes = {"BF16": 2, "F32": 4, "F8_E4M3": 1}
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


def test_safetensors_header_counts_without_downloading_weights(hub):
    # The listing has no precomputed counts: advisor reads each shard's JSON header with range requests.
    shard1 = _safetensors({"model.embed_tokens.weight": ("BF16", [1000, 64]), "model.norm.weight": ("F32", [64])})
    shard2 = _safetensors({"lm_head.weight": ("BF16", [1000, 64]), "x.weight_scale_inv": ("F32", [8, 8])})
    index = {"weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                            "model.norm.weight": "model-00001-of-00002.safetensors",
                            "lm_head.weight": "model-00002-of-00002.safetensors",
                            "x.weight_scale_inv": "model-00002-of-00002.safetensors"}}
    files = dict(hub.files["Qwen/Qwen2.5-7B-Instruct"])
    files.update({"model.safetensors.index.json": json.dumps(index).encode(),
                  "model-00001-of-00002.safetensors": shard1, "model-00002-of-00002.safetensors": shard2})
    hub.add("acme/Qwen2.5-7B-copy", files, params=None)
    r = resolve("hf:acme/Qwen2.5-7B-copy")
    assert r.model.params == 2 * 64000 + 64 + 64
    for shard in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
        data = hub.files["acme/Qwen2.5-7B-copy"][shard]
        header_len = 8 + struct.unpack("<Q", data[:8])[0]
        assert hub.bytes_downloaded("acme/Qwen2.5-7B-copy", shard) == header_len < len(data)


# -- GGUF repos ----------------------------------------------------------------------------------------------------

@pytest.fixture
def gguf_repo(hub, tmp_path):
    pytest.importorskip("gguf")
    from gguf_factory import write_gguf

    q4 = tmp_path / "Tiny-Q4_K_M.gguf"
    write_gguf(q4, n_layers=4, ff=4096, tokens=3000)  # ~7 MB: larger than the first 2 MiB range read
    write_gguf(tmp_path / "Tiny-Q8_0.gguf", n_layers=3, file_type=7, split_max_tensors=15)
    parts = sorted(tmp_path.glob("Tiny-Q8_0-*-of-*.gguf"))
    files = {"README.md": b"# tiny", q4.name: q4.read_bytes(), "Tiny-mmproj-f16.gguf": b"GGUF"}
    files.update({f"Q8_0/{p.name}": p.read_bytes() for p in parts})
    hub.add("acme/Tiny-GGUF", files)
    return q4, parts


def _section(path) -> int:
    import gguf

    return os.path.getsize(path) - gguf.GGUFReader(str(path)).data_offset


def test_gguf_repo_reads_only_the_header_of_the_chosen_file(hub, gguf_repo, capsys):
    q4, parts = gguf_repo
    code, out, err = run(capsys, "fit", "hf:acme/Tiny-GGUF", "--quant", "Q4_K_M", "--vram", "8GB", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["options"][0]["memory"]["weights_bytes"] == _section(q4)
    assert data["assumptions"]["model_source"] == "hub-gguf"
    downloaded = hub.bytes_downloaded("acme/Tiny-GGUF", q4.name)
    import gguf

    assert downloaded < os.path.getsize(q4) and downloaded >= gguf.GGUFReader(str(q4)).data_offset - 32
    assert all("Q8_0" not in url for url, _ in hub.requests)


def test_gguf_repo_split_file_and_quant_in_the_name(hub, gguf_repo, capsys):
    _, parts = gguf_repo
    code, out, err = run(capsys, "fit", "hf.co/acme/Tiny-GGUF:Q8_0", "--vram", "8GB", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["options"][0]["quant"] == "Q8_0"
    assert data["options"][0]["memory"]["weights_bytes"] == sum(_section(p) for p in parts)


def test_gguf_repo_default_and_missing_quant(hub, gguf_repo, capsys):
    r = resolve("hf:acme/Tiny-GGUF")
    assert r.quant == "Q4_K_M" and any("also holds Q8_0" in w for w in r.warnings)
    code, _, err = run(capsys, "fit", "hf:acme/Tiny-GGUF", "--quant", "Q5_K_M")
    assert code == 2 and "has no Q5_K_M GGUF" in err and "Q8_0" in err and "Q4_K_M" in err
    code, _, err = run(capsys, "fit", "hf:acme/Tiny-GGUF", "-q", "Q4_K_M,Q8_0")
    assert code == 2 and "give one --quant" in err


def test_corrupt_hub_gguf_is_a_one_line_error(hub, capsys):
    hub.add("acme/Bad-GGUF", {"Bad-Q4_K_M.gguf": b"GGUF\x03\x00\x00\x00" + b"\xff" * 64})
    code, out, err = run(capsys, "fit", "hf:acme/Bad-GGUF")
    assert code == 2 and out == "" and err.count("\n") == 1 and "GGUF" in err


def test_local_gguf_and_hub_fake_paths_import_neither_numpy_gguf_nor_huggingface_hub(tmp_path):
    # The real transport is the only importer of huggingface_hub; reading GGUF headers needs no numpy/gguf.
    import subprocess
    import sys

    pytest.importorskip("gguf")
    from gguf_factory import write_gguf

    path = tmp_path / "m.gguf"
    write_gguf(path)
    code = (
        "import sys, io, contextlib; sys.path.insert(0, 'tests'); from hubfake import FakeHub; "
        "import selfhost_advisor.catalog.hub as h; fake = FakeHub(); fake.add_recorded('Qwen/Qwen2.5-7B-Instruct'); "
        "h.transport_factory = lambda: fake; h.token_provider = lambda: None; "
        "from selfhost_advisor.cli import main; "
        f"assert main(['fit', {str(path)!r}, '--json', '--vram', '8GB']) == 0; "
        "assert main(['fit', 'hf:Qwen/Qwen2.5-7B-Instruct', '--json', '--vram', '8GB']) == 0; "
        "bad=[m for m in ('rich','numpy','gguf','huggingface_hub') if m in sys.modules]; assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, ADVISOR_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env)
    assert r.returncode == 0, r.stderr


def test_cost_and_hardware_for_accept_a_hub_model(hub, capsys):
    code, out, err = run(capsys, "cost", "--monthly-tokens", "1e9", "--model", "hf:Qwen/Qwen2.5-7B-Instruct",
                         "--hardware", "rtx4090", "--cloud", "gpt-4o-mini", "--json")
    assert code == 0, err
    assert "Qwen2.5-7B-Instruct" in out
    code, out, err = run(capsys, "hardware", "--for", "hf:Qwen/Qwen2.5-7B-Instruct", "--json")
    assert code == 0, err


def test_an_unreachable_hub_id_the_catalog_knows_names_the_catalog_entry(hub, capsys):
    # issue 17 (bad input): `hf:` offline points to the catalog entry when there is one
    hub.online = False
    code, out, err = run(capsys, "fit", "hf:nvidia/Llama-3_3-Nemotron-Super-49B-v1", "--json")
    assert code == 2 and out == "" and err.count("\n") == 1 and "nemotron-super:49b" in err
    code, out, err = run(capsys, "fit", "hf:someone/not-in-the-catalog", "--offline")
    assert code == 2 and "which works offline" not in err


def test_an_unsloth_ud_file_of_a_gguf_repo_is_sized_from_its_header(hub, tmp_path, capsys):
    """`--quant UD-Q4_K_XL` (or the :UD-Q4_K_XL tag) on a Hub repository picks Unsloth's file by its name and sizes it
    from its own header, whatever the model (a catalog UD-Q4_K_XL is read only for Qwen3.5 / 3.6 MoE; 5c-s29u): the
    file's llama.cpp file type is Q4_K_M's, which `--quant UD-Q4_K_XL` must not refuse as another quantization."""
    pytest.importorskip("gguf")
    from gguf_factory import write_gguf

    ud = tmp_path / "Tiny-UD-Q4_K_XL.gguf"
    write_gguf(ud, n_layers=4, ff=4096, tokens=3000)
    hub.add("acme/Tiny-UD-GGUF", {"README.md": b"# tiny", ud.name: ud.read_bytes()})
    for args in (["hf:acme/Tiny-UD-GGUF", "--quant", "UD-Q4_K_XL"], ["hf.co/acme/Tiny-UD-GGUF:UD-Q4_K_XL"]):
        code, out, err = run(capsys, "fit", *args, "--vram", "8GB", "--json")
        assert code == 0, err
        data = json.loads(out)
        assert data["options"][0]["memory"]["weights_bytes"] == _section(ud)
        assert data["assumptions"]["model_source"] == "hub-gguf"
