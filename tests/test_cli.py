"""The CLI end to end: JSON contract (validated against docs/schema), exit codes, bad input, determinism."""
import json
import os
import subprocess
import sys
from pathlib import Path

import schemakit
import pytest

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schema"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def schema(name):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def test_fit_json_matches_schema_and_contract(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:70b", "--hardware", "2x rtx4090", "--json")
    assert code == 0, err
    data = json.loads(out)
    schemakit.validate(data, schema("fit"))
    assert data["context"] == 8192 and data["engine"] == "llamacpp"
    assert data["recommended"] == "Q4_K_M"  # Q5_K_M (~50 GB of weights) cannot fit 2x 24 GiB; Q4_K_M (~42.5 GB) can
    by_quant = {o["quant"]: o for o in data["options"]}
    assert by_quant["Q4_K_M"]["placement"]["fit"] == "gpu"
    assert by_quant["F16"]["placement"]["fit"] == "no"
    for o in data["options"]:
        mem = o["memory"]
        assert all(isinstance(v, int) for k, v in mem.items() if not k.startswith("kv_pool"))
        assert mem["kv_pool_bytes"] is None and mem["kv_pool_tokens"] is None  # llama.cpp allocates KV up front
        assert mem["total_bytes"] == mem["weights_bytes"] + mem["kv_cache_bytes"] + mem["overhead_bytes"]


def test_fit_json_is_deterministic(capsys):
    a = run(capsys, "fit", "qwen2.5:7b", "--context", "32768", "--kv-cache", "q8_0", "--json", "--vram", "24GB")[1]
    b = run(capsys, "fit", "qwen2.5:7b", "--context", "32768", "--kv-cache", "q8_0", "--json", "--vram", "24GB")[1]
    assert a == b


def test_a100_f16_70b_does_not_fit_and_says_how_much_is_missing(capsys):
    code, out, _ = run(capsys, "fit", "llama3.1:70b", "--hardware", "a100-80gb", "--quant", "f16", "--json")
    data = json.loads(out)
    opt = data["options"][0]
    assert code == 0 and data["recommended"] is None
    assert opt["placement"]["fit"] == "no"
    assert 140e9 < opt["memory"]["weights_bytes"] < 142e9  # 70.6B params x 2 bytes
    assert 55e9 < opt["placement"]["missing_bytes"] < 65e9


def test_mixtral_partial_offload_reports_layers(capsys):
    code, out, _ = run(capsys, "fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M", "--json")
    pl = json.loads(out)["options"][0]["placement"]
    assert pl["fit"] == "partial" and 0 < pl["gpu_layers"] < pl["total_layers"] == 33


def test_quant_in_ollama_tag_selects_that_quant(capsys):
    _, out, _ = run(capsys, "fit", "llama3.1:70b-instruct-q8_0", "--vram", "80GB", "--json")
    assert [o["quant"] for o in json.loads(out)["options"]] == ["Q8_0"]


def test_require_fit_gpu_exits_1_when_only_partial(capsys):
    code, out, err = run(capsys, "fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M",
                         "--require-fit", "gpu")
    assert code == 1 and "require-fit" in err
    assert run(capsys, "fit", "llama3.1:8b", "--hardware", "rtx4090", "--require-fit", "gpu")[0] == 0


def test_text_output_names_model_hardware_and_recommendation(capsys):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "--hardware", "rtx4090")
    assert code == 0
    assert "Llama 3.1 8B" in out and "rtx-4090" in out and "Recommended:" in out and "Q4_K_M" in out


def test_models_search_and_json(capsys):
    code, out, _ = run(capsys, "models", "qwen", "--json")
    data = json.loads(out)
    schemakit.validate(data, schema("models"))
    assert code == 0 and len(data["models"]) >= 15 and all("qwen" in (m["id"] + m["hf_id"] + m["arch"]).lower() for m in data["models"])
    # the query also matches the architecture: fine-tunes on qwen2 (OpenThinker3, DeepCoder) are listed


def test_apple_unified_memory_uses_working_set_not_all_ram(capsys):
    # 192 GiB M2 Ultra: the Metal working set on macOS 26 is 0.84 x 192 GiB = 173.2 GB (ds4 #893's 128 GiB share).
    # Qwen3-235B at Q6_K (~195 GB) is below the 206 GB of RAM but above the working set: partial, not gpu.
    # Q5_K_M (~169 GB) fits.
    _, out, _ = run(capsys, "fit", "qwen3:235b", "--hardware", "m2-ultra-192gb", "-q", "Q6_K,Q5_K_M", "--json")
    opts = {o["quant"]: o for o in json.loads(out)["options"]}
    assert opts["Q6_K"]["memory"]["total_bytes"] < 192 * 2**30
    assert opts["Q6_K"]["placement"]["fit"] == "partial"
    assert opts["Q5_K_M"]["placement"]["fit"] == "gpu"


BAD_INPUTS = [
    ["fit", "nosuchmodel"],
    ["fit", "llama3.1:8b", "--context", "-5"],
    ["fit", "llama3.1:8b", "--context", "lots"],
    ["fit", "llama3.1:8b", "--vram", "24GBs"],
    ["fit", "llama3.1:8b", "--vram", "-24GB"],
    ["fit", "llama3.1:8b", "--ram", "sixty"],
    ["fit", "llama3.1:8b", "--quant", "Q9_K"],
    ["fit", "llama3.1:8b", "--kv-cache", "q3_x"],
    ["fit", "llama3.1:8b", "--engine", "tgi"],
    ["fit", "llama3.1:8b", "--hardware", "rtx9999"],
    ["fit", "llama3.1:8b", "--hardware", "rtx4090x0"],
    ["fit", "llama3.1:8b", "--hardware", "3x"],
    ["fit", "llama3.1:8b", "--hardware", "/nonexistent/box.json"],
    ["fit", "llama3.1:8b", "--gpus", "0", "--vram", "24GB"],
    ["fit", "llama3.1:8b", "--gpus", "2"],
    ["fit", "llama3.1:8b", "--parallel", "0"],
    ["fit", "llama3.1:8b", "--require-fit", "always"],
    ["fit", "llama3.1:7b"],
    ["fit"],
    ["fit", "llama3.1:8b", "--bogus-flag"],
    ["nosuchcommand"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=[" ".join(a) for a in BAD_INPUTS])
def test_bad_input_exits_2_with_one_line_and_no_stdout(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("advisor: ")
    assert "Traceback" not in err


def test_bad_probe_files(tmp_path, capsys):
    cases = {"garbage.json": b"\x00\xffnot json", "list.json": b"[1,2]", "v9.json": b'{"schema_version": "9.0.0"}',
             "neg.json": b'{"schema_version": "1.0.0", "ram_bytes": -1, "devices": []}'}
    for name, content in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        code, out, err = run(capsys, "fit", "llama3.1:8b", "--hardware", str(p))
        assert code == 2 and out == "" and err.count("\n") == 1, (name, err)


def test_probe_file_is_accepted_as_hardware(tmp_path, capsys):
    box = {"schema_version": "1.0.0", "devices": [{"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090",
           "memory_bytes": 25757220864, "unified": False, "matched_profile": "rtx-4090"}],
           "cpu": {"name": "x"}, "ram_bytes": 68719476736}
    p = tmp_path / "box.json"
    p.write_text(json.dumps(box))
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "--hardware", str(p), "-q", "Q4_K_M", "--json")
    assert code == 0 and json.loads(out)["options"][0]["placement"]["fit"] == "gpu"


def test_real_subprocess_exit_codes_and_clean_stderr(tmp_path):
    from cliproc import isolated_env, run_all  # the three processes run side by side (suite time, issue 19)

    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    ok, bad, gate = run_all([
        (["fit", "llama3.1:8b", "--vram", "24GB", "--json"], env),
        (["fit", "nosuchmodel"], env),
        (["fit", "llama3.1:70b", "--vram", "24GB", "-q", "Q4_K_M", "--require-fit", "gpu", "--json"], env),
    ], ROOT)
    assert ok.returncode == 0 and json.loads(ok.stdout)["recommended"]
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
    assert gate.returncode == 1 and json.loads(gate.stdout)["recommended"] is None


# Issue 8: the --json path of the sizing commands stays off the heavy imports (rich, numpy via gguf, the Hub client,
# NVML, the price package, jsonschema) and off yaml (data/compiled/ is read instead) and pydantic (typer >= 0.29).
HEAVY = ("rich", "numpy", "gguf", "huggingface_hub", "pynvml", "genai_prices", "jsonschema", "yaml", "pydantic")


@pytest.mark.parametrize("argv", [["fit", "llama3.1:70b", "--vram", "24GB", "--json"],
                                  ["fit", "llama3.1:70b", "--hardware", "rtx4090", "--json"],
                                  ["models", "--fits", "rtx4090", "--json"], ["hardware", "--json"]])
def test_json_path_does_not_import_heavy_modules(argv):
    code = (f"import sys; from selfhost_advisor.cli import main; rc = main({argv!r}); "
            f"bad = [m for m in {HEAVY!r} if m in sys.modules]; assert rc == 0 and not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr


def test_models_text_lists_matches(capsys):
    code, out, _ = run(capsys, "models", "gemma")
    assert code == 0 and "gemma3:27b" in out and "models matching 'gemma'" in out


def test_cpu_only_machine_gets_no_gpu_warning(capsys):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "--ram", "64GB", "-q", "Q4_K_M", "--json")
    data = json.loads(out)
    assert data["options"][0]["placement"]["fit"] == "cpu"
    assert not any("GPU" in w for w in data["warnings"])
