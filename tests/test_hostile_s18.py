"""Session 18 hostile inputs (benchmarks/hostile.py s18 cases): each bad input is one line, exit 2, nothing on stdout.

str.isdigit() is true for superscript digits ('²', '¹') that int() refuses, so a check written `s.isdigit() and
int(s)` let them through to a ValueError (exit 3): a probe's schema_version, --engine-version, a GGUF tensor named
blk.¹.*, and COLUMNS / LINES, which rich itself reads that way."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


sys.path.insert(0, str(Path(__file__).parent))


from clikit import one_line_exit_2 as _one_line_exit_2, run as _run  # noqa: E402


@pytest.mark.parametrize("version", ["².0.0", "1²", "¹.0", "v1.0.0", " 1.0", "", "0.9.0", "2.0.0"])
def test_a_probe_file_with_an_odd_schema_version_is_refused_in_one_line(capsys, tmp_path, version):
    probe = {"schema_version": version, "ram_bytes": 64 * 10**9, "devices": []}
    path = tmp_path / "box.json"
    path.write_text(json.dumps(probe))
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "--hardware", str(path)), "schema_version")


@pytest.mark.parametrize("version", [1, 1.0, None, ["1.0.0"]])
def test_a_probe_schema_version_that_is_not_text_is_refused(capsys, tmp_path, version):
    path = tmp_path / "box.json"
    path.write_text(json.dumps({"schema_version": version, "ram_bytes": 64 * 10**9, "devices": []}))
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "--hardware", str(path)), "schema_version")


@pytest.mark.parametrize("version", ["1", "1.0.0-rc1", "1.99.0"])
def test_a_probe_of_another_1x_schema_is_read(capsys, tmp_path, version):
    # the probe schema's major version decides (probe/files.py SUPPORTED_MAJOR); fields a later minor adds are ignored
    path = tmp_path / "box.json"
    path.write_text(json.dumps({"schema_version": version, "ram_bytes": 64 * 10**9, "devices": [], "new_field": {}}))
    code, out, err = _run(capsys, "fit", "llama3.1:8b", "--hardware", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["hardware"]["ram_bytes"] == 64 * 10**9


@pytest.mark.parametrize("version", ["0.²", "0.1²", "¹.0.0", "0.12.١"])
def test_an_engine_version_with_non_ascii_digits_is_not_a_release(capsys, version):
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "--engine", "ollama", "--engine-version", version),
                     "not a release number")


def test_a_gguf_whose_block_number_is_a_superscript_is_sized_not_a_crash(capsys, tmp_path):
    from gguf_raw import base_kvs, gguf_bytes, tiny_tensors

    # 'blk.¹.*' is not a block llama.cpp would load (it parses the number with std::stoi... on the ASCII name): the
    # tensors count as non-repeating weights, as any other name outside blk.N does
    tensors = [(n.replace("blk.1.", "blk.\u00b9."), s, t, nb) for n, s, t, nb in tiny_tensors()]
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes(base_kvs(), tensors=tensors))
    code, out, err = _run(capsys, "fit", str(path), "--vram", "8GB", "--json")
    assert code == 0, err
    assert json.loads(out)["options"][0]["memory"]["weights_bytes"] > 0


@pytest.mark.parametrize("var", ["COLUMNS", "LINES"])
@pytest.mark.parametrize("value", ["²", "12²", "¹²⁰"])
def test_a_superscript_terminal_size_is_ignored_as_rich_ignores_other_junk(capsys, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    code, out, err = _run(capsys, "fit", "llama3.1:8b", "--hardware", "rtx4090", "-q", "Q4_K_M")
    assert code == 0 and "Llama 3.1 8B" in out, err


def test_arabic_indic_columns_are_read_as_rich_reads_them(monkeypatch):
    from selfhost_advisor.render.text import console

    monkeypatch.setenv("COLUMNS", "\u0661\u0662\u0660")  # '١٢٠': int() reads 120, and so does rich
    assert console().width == 120
    monkeypatch.setenv("COLUMNS", "\u0661" * 30)  # capped, like an ASCII 10^30 (render/text.py _columns_cap)
    from selfhost_advisor.limits import MAX_COLUMNS

    assert console().width == MAX_COLUMNS


@pytest.mark.parametrize("argv", [["fit", "llama3.1:8b", "--hardware", "rtx4090", "-q", "Q4_K_M"],
                                  ["serve", "llama3.1:8b", "--hardware", "rtx4090"], ["hardware"]])
def test_another_commands_json_as_hardware_is_named_not_a_probe(capsys, tmp_path, argv):
    # every --json has a schema_version of the probe's major: it was read as a probe with a bad 'ram_bytes'
    code, out, _ = _run(capsys, *argv, "--json")
    path = tmp_path / "out.json"
    path.write_text(out)
    _one_line_exit_2(*_run(capsys, "fit", "llama3.1:8b", "--hardware", str(path)), "not a saved probe")


@pytest.mark.parametrize("argv", [
    ["fit", "llama3.1:8b", "--context", "nan"], ["fit", "llama3.1:8b", "--engine", "ollama", "--engine-version", "x"],
    ["fit", "llama3.1:8b", "--ubatch", "0"], ["fit", "llama3.1:8b", "--kv-cache", "q9"],
    ["fit", "llama3.1:8b", "--n-cpu-moe", "-1"], ["fit", "llama3.1:8b", "--memory", "bogus"],
    ["fit", "llama3.1:8b", "--gpu-memory", "5"], ["fit", "llama3.1:8b", "--min-quant", "Q9"],
    ["fit", "llama3.1:8b", "--image-tokens", "0"], ["fit", "llama3.1:8b", "--engine", "vllm", "--tp", "3"],
    ["fit", "llama3.1:8b", "--engine", "vllm", "--gpu-memory-utilization", "2"],
    ["fit", "llama3.1:8b", "--max-num-seqs", "4"], ["fit", "llama3.1:8b", "--engine", "vllm", "--ubatch", "512"],
    ["models", "--installed", "--context", "nan"], ["models", "--installed", "--use-case", "bogus"],
])
def test_bad_options_are_refused_before_this_machine_is_probed(capsys, monkeypatch, argv):
    # without --hardware the machine is probed (seconds; host_rates.json written under ADVISOR_HOME): a malformed
    # option used to cost both before its exit 2
    import selfhost_advisor.machine as machine

    def probed(*a, **k):
        raise AssertionError("the machine was resolved before the options were checked")

    monkeypatch.setattr(machine, "resolve_machine", probed)
    code, out, err = _run(capsys, *argv)
    _one_line_exit_2(code, out, err)
