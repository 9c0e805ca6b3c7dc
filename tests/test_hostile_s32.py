"""Session 32 (audit32) bad-input cases the earlier sweeps did not reach: a probe file's "unified": "false" (a string)
read as true, GPU UUIDs a hand-written probe file carries in a device name (nvidia-smi -L's '(UUID: GPU-...)') or a
warning printed back, and a credential in HF_ENDPOINT's query printed in the mirror's one-line error."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402

UUID = "GPU-5fd2a1b3-7c4e-4f0a-9d21-3b6e8c0f1a2d"
MIG = "MIG-0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def _box(tmp_path: Path, **device) -> Path:
    dev = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 24 * 10**9,
           "bandwidth_bytes_per_s": 10**12, **device}
    f = tmp_path / "box.json"
    f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [dev]}), encoding="utf-8")
    return f


@pytest.mark.parametrize("value", ["false", "true", 0, 1, [], {}])
def test_probe_file_unified_that_is_not_true_or_false_is_refused_by_name(capsys, tmp_path, value):
    # bool("false") is True: a discrete RTX 4090 in a hand-edited file was placed as unified memory, without a word
    code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(_box(tmp_path, unified=value)))
    one_line_exit_2(code, out, err, "unified", "true or false")


@pytest.mark.parametrize("value, expected", [(False, False), (None, False), (True, True)])
def test_probe_file_unified_true_false_or_null_still_reads(capsys, tmp_path, value, expected):
    code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(_box(tmp_path, unified=value)),
                         "--json")
    assert code == 0, err
    assert json.loads(out)["hardware"]["devices"][0]["unified"] is expected


def test_gpu_and_mig_uuids_in_a_probe_file_are_never_printed(capsys, tmp_path):
    # nvidia-smi -L prints 'GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-...)': pasted as a device name, fit printed the
    # board's UUID in its Hardware line and its JSON, which `advisor probe` itself redacts (render/probe_json.py)
    f = tmp_path / "box.json"
    box = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "name": f"rig {UUID}",
           "devices": [{"vendor": "nvidia", "name": f"NVIDIA GeForce RTX 4090 (UUID: {UUID})", "memory_bytes": 24 * 10**9,
                        "bandwidth_bytes_per_s": 10**12}],
           "other_devices": [{"vendor": "nvidia", "name": f"NVIDIA A100 MIG 1g.10gb ({MIG.lower()})", "memory_bytes": 0}],
           "cpu": {"name": f"Xeon {UUID[4:]}"}, "warnings": [f"GPU {UUID} was busy"]}
    f.write_text(json.dumps(box), encoding="utf-8")
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(f), *extra)
        assert code == 0, err
        text = (out + err).lower()
        assert UUID[4:].lower() not in text and MIG[4:].lower() not in text, (extra, out[:2000])
        assert "rtx 4090" in text  # the rest of the name is kept
    code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(f), "--json")
    assert json.loads(out)["hardware"]["devices"][0]["name"] == "NVIDIA GeForce RTX 4090 (UUID: redacted)"


def test_custom_hardware_name_with_a_uuid_is_not_printed(capsys):
    spec = f"custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,name=card {UUID}"
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", spec, *extra)
        assert code == 0, err
        assert UUID[4:] not in out + err and "card" in out


@pytest.mark.parametrize("endpoint", ["http://10.0.0.1/?token=hf_abcdefghijklmnopqrstuvwxyzABCD",
                                      "http://10.0.0.1/hf/?access_token=s3cretvalue#hf_abcdefghijklmnopqrstuvwxyzABCD",
                                      "http://10.0.0.1/hf_abcdefghijklmnopqrstuvwxyzABCD/mirror"])
def test_a_credential_in_hf_endpoint_is_not_printed_when_the_mirror_answers_404(monkeypatch, endpoint):
    # a mirror that answers a bare 404 (no X-Error-Code) was named by its whole HF_ENDPOINT, query string included
    from selfhost_advisor.catalog import hub

    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    err = hub._missing_repo("org/name", 404, "", token=False)
    text = str(err)
    assert "hf_abcdefghijklmnopqrstuvwxyzABCD" not in text and "s3cretvalue" not in text, text
    assert "10.0.0.1" in text and "404" in text


@pytest.mark.parametrize("endpoint", ["http://10.0.0.1/?token=hf_abcdefghijklmnopqrstuvwxyzABCD x",
                                      "ftp://10.0.0.1/?token=hf_abcdefghijklmnopqrstuvwxyzABCD"])
def test_a_credential_in_a_malformed_hf_endpoint_is_not_printed(capsys, monkeypatch, endpoint):
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    code, out, err = run(capsys, "fit", "hf:org/name", "-H", "rtx4090")
    one_line_exit_2(code, out, err, "HF_ENDPOINT", "10.0.0.1")
    assert "hf_abcdefghijklmnopqrstuvwxyzABCD" not in err


@pytest.mark.parametrize("var, value", [("COLUMNS", "0"), ("COLUMNS", "00"), ("COLUMNS", "\u0660"), ("LINES", "0")])
@pytest.mark.parametrize("argv", [("fit", "llama3.2:1b", "-H", "rtx4090", "-q", "Q4_K_M"), ("models", "--search", "qwen3"),
                                  ("hardware",)])
def test_a_zero_terminal_size_prints_the_report_not_nothing(capsys, monkeypatch, var, value, argv):
    # COLUMNS=0 (a terminal whose size reads 0x0, as some containers and CI runners report it) made rich draw every
    # text report 0 columns wide: nothing on stdout, and exit 0
    monkeypatch.setenv(var, value)
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert len(out.splitlines()) > 3 and max(map(len, out.splitlines())) > 40, out


@pytest.mark.parametrize("folder", ["~nosuchuser32/models", "/tmp/" + "a" * 5000, "a" * 300 + "/m"])
def test_an_unusable_ollama_models_folder_is_one_line_naming_it(capsys, monkeypatch, folder):
    # '~nosuchuser/...' was RuntimeError from Path.expanduser, a 5,000-character path ENAMETOOLONG from Path.is_dir:
    # exit 3 in `models --installed`, in `fit ollama:NAME`, and in `fit NAME` for any name the catalog lacks
    monkeypatch.setenv("OLLAMA_MODELS", folder)
    code, out, err = run(capsys, "models", "--installed", "--vram", "24GB")
    one_line_exit_2(code, out, err, "OLLAMA_MODELS")
    assert len(err) < 400, err
    code, out, err = run(capsys, "fit", "ollama:mymodel:latest", "--vram", "24GB")
    one_line_exit_2(code, out, err, "OLLAMA_MODELS")
    code, out, err = run(capsys, "fit", "nosuchmodel32xyz", "--vram", "24GB")
    one_line_exit_2(code, out, err, "unknown model")  # the catalog's answer, as without OLLAMA_MODELS
    code, out, err = run(capsys, "fit", "llama3.2:1b", "--vram", "24GB", "-q", "Q4_K_M")
    assert code == 0, err


def test_no_home_directory_for_ollamas_default_folder_is_one_line(capsys, monkeypatch):
    from pathlib import Path

    def no_home(*_a, **_k):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    code, out, err = run(capsys, "models", "--installed", "--vram", "24GB")
    one_line_exit_2(code, out, err, "home directory", "OLLAMA_MODELS")


def test_an_advisor_home_too_long_for_the_file_system_is_a_cache_miss_not_a_crash(capsys, monkeypatch):
    # pathlib's is_file re-raises ENAMETOOLONG: every Hub look-up (fit hf:..., --offline or not) was exit 3
    monkeypatch.setenv("ADVISOR_HOME", "/tmp/" + "a" * 5000)
    code, out, err = run(capsys, "fit", "hf:someorg/some-model", "--offline", "--vram", "24GB")
    one_line_exit_2(code, out, err, "not in the cache", "--offline")


def test_advisor_home_with_a_tilde_is_the_home_directory_not_a_folder_named_tilde(capsys, monkeypatch, tmp_path):
    # ADVISOR_HOME="~/advisor-cache" (quoted, so the shell left the ~) made a folder named '~' in the working directory
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ADVISOR_HOME", "~/advisor-cache")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "fit", "hf:someorg/some-model", "--offline", "--vram", "24GB")
    one_line_exit_2(code, out, err, str(tmp_path / "home" / "advisor-cache" / "hub"))
    from selfhost_advisor.probe.cpu import cache_dir

    assert cache_dir() == str(tmp_path / "home" / "advisor-cache")
    assert not (tmp_path / "~").exists()


@pytest.mark.parametrize("value, offline", [("no", False), ("off", False), ("FALSE", False), ("0", False), ("", False),
                                            ("2", False), ("1", True), ("yes", True), ("TRUE", True), ("On", True)])
def test_hf_hub_offline_reads_as_huggingface_hub_reads_it(monkeypatch, value, offline):
    # huggingface_hub/constants.py _is_true: value.upper() in {"1", "ON", "YES", "TRUE"}; HF_HUB_OFFLINE=no (or off,
    # FALSE) was read as offline: 'not in the cache and HF_HUB_OFFLINE is set' where the Hub's own tools go online
    from selfhost_advisor.catalog.hub import HubClient

    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert HubClient("someorg/some-model").offline is offline


@pytest.mark.parametrize("argv", [("--quant", "Q2_K", "--min-quant", "Q4_K_M"), ("--quant", "IQ1_S,Q8_0", "--min-quant", "bf16")])
def test_hardware_for_with_every_quant_below_the_floor_is_one_line(capsys, argv):
    # plan._why_not took quants[-1] of the empty tuple the floor left: IndexError, exit 3
    code, out, err = run(capsys, "hardware", "--for", "llama3.1:8b", *argv)
    one_line_exit_2(code, out, err, "quality floor", "--min-quant")


def test_hardware_for_ranks_a_named_quant_below_the_default_floor_as_fit_sizes_it(capsys):
    # docs/cli.md: --min-quant 'with --for: the quality floor, as in fit', and fit does not apply the default floor to
    # a quantization you named; `hardware --for llama3.1:8b --quant IQ1_S` was exit 3
    code, out, err = run(capsys, "hardware", "--for", "llama3.1:8b", "--quant", "IQ1_S", "--json")
    assert code == 0, err
    rows = json.loads(out)["candidates"]
    assert any((r.get("option") or {}).get("quant") == "IQ1_S" for r in rows)


@pytest.mark.parametrize("engine", ["vllm", "llamacpp"])
def test_serve_on_a_gpu_without_bandwidth_is_missing_input_not_a_failed_check(capsys, tmp_path, engine):
    # a hand-written probe file (or a spec) without bandwidth: serve said 'check failed: GPU bandwidth or FLOPS
    # unknown' / 'the model does not fit, or its speed is unknown', exit 1, with no check asked for
    f = tmp_path / "box.json"
    f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9,
                             "devices": [{"vendor": "nvidia", "name": "Mystery GPU", "memory_bytes": 24 * 10**9}]}))
    for extra in ([], ["--json"]):
        code, out, err = run(capsys, "serve", "llama3.2:1b", "-H", str(f), "--engine", engine, *extra)
        one_line_exit_2(code, out, err, "bandwidth", "--hardware")


def test_cost_of_a_probe_file_without_a_gpu_says_so(capsys, tmp_path):
    # `advisor probe --json > box.json` on a machine without a GPU, then `cost -H box.json`: 'its GPUs are not one
    # catalog profile, so they have no price', about GPUs the file does not have
    f = tmp_path / "box.json"
    f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [],
                             "cpu": {"name": "AMD Ryzen 9 7950X", "physical_cores": 16}}))
    code, out, err = run(capsys, "cost", "-t", "1e9", "-m", "llama3.2:1b", "-H", str(f))
    one_line_exit_2(code, out, err, "has no GPU", "advisor probe --json")


@pytest.mark.parametrize("cpu, said", [("x", "'cpu'"), (["avx2"], "'cpu'"), ({"name": "EPYC", "flags": "avx2 avx512f"}, "'flags'"),
                                       ({"flags": {"avx2": True}}, "'flags'")])
def test_probe_file_cpu_block_of_the_wrong_type_is_refused_by_name(capsys, tmp_path, cpu, said):
    # the CPU's flags pick llama.cpp's CPU kernels (partial offload, CPU fits): a flags string, or a cpu block that is
    # not an object, was dropped without a word and the CPU layers timed as if the host had no AVX2
    f = tmp_path / "box.json"
    f.write_text(json.dumps({"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [], "cpu": cpu}))
    code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(f))
    one_line_exit_2(code, out, err, said)


def test_probe_file_without_a_cpu_block_or_with_null_flags_still_reads(capsys, tmp_path):
    for cpu in (None, {"name": "EPYC", "flags": None}, {"name": "EPYC"}):
        f = tmp_path / "box.json"
        box = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": []}
        if cpu is not None:
            box["cpu"] = cpu
        f.write_text(json.dumps(box))
        code, out, err = run(capsys, "fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(f))
        assert code == 0, (cpu, err)
