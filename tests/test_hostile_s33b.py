"""Session 33 (audit33b) bad-input cases: audit33's leftovers (serve naming an engine the box cannot run was exit 1, a
failed check; the CPU-only box's vLLM note did not say what runs; token counts took '1000_' while sizes refused
'24_000MB'; COLUMNS=1 drew one character a line) and this session's new surface (a family whose sizes live under
another entry's shapes, --tp 0)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402

CPU_BOX = "custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600"


@pytest.mark.parametrize("box", ["m4-max-128gb", CPU_BOX])
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_serve_naming_vllm_on_a_box_it_cannot_run_is_bad_input_not_a_failed_check(capsys, box, json_flag):
    # was exit 1 ('advisor: check failed: vLLM does not run on Apple GPUs ...') after a full report: the project's
    # exit 1 is a requested check that failed; an engine the box cannot run is the input's problem (as models --fits)
    code, out, err = run(capsys, "serve", "llama3.1:8b", "-H", box, "--engine", "vllm", *json_flag)
    one_line_exit_2(code, out, err, "--engine vllm", "does not run", "--engine llamacpp")


def test_serve_without_engine_on_a_mac_still_picks_llamacpp(capsys):
    code, out, err = run(capsys, "serve", "llama3.1:8b", "-H", "m4-max-128gb", "--json")
    assert code == 0, err
    assert json.loads(out)["engine"] == "llamacpp"


def test_fit_under_vllm_on_a_cpu_only_box_says_what_runs_there(capsys):
    # the Mac's note said 'use --engine llamacpp'; the CPU-only box's said only that vLLM needs a GPU
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", CPU_BOX, "--engine", "vllm")
    assert code == 0, err
    assert "use --engine llamacpp" in " ".join(out.split())


@pytest.mark.parametrize("value", ["1000_", "1__000", "_1000", "1_000_", "2e9_"])
def test_a_count_with_a_stray_underscore_is_malformed(capsys, value):
    # units.parse_count took any underscore ('1000_' read as 1000); Python's int(), which every integer option
    # uses, refuses it
    code, out, err = run(capsys, "cost", "-m", "llama3.1:8b", "-t", value, "--json")
    one_line_exit_2(code, out, err, "malformed", "--monthly-tokens")


def _fit_json(capsys, *argv):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-q", "Q4_K_M", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_sizes_and_contexts_take_the_digit_grouping_counts_take(capsys):
    # '-t 2_000_000' was read and '--vram 24_000MB' / '-c 8_192' were malformed: one rule for every number now
    grouped = _fit_json(capsys, "--vram", "24_000MB", "-c", "8_192")
    plain = _fit_json(capsys, "--vram", "24000MB", "-c", "8192")
    assert grouped == plain


def test_a_spec_sheet_rate_takes_the_same_grouping(capsys):
    grouped = _fit_json(capsys, "-H", "custom:vram=24GB,bandwidth=1_000GB/s,fp16=80TFLOPS")
    plain = _fit_json(capsys, "-H", "custom:vram=24GB,bandwidth=1000GB/s,fp16=80TFLOPS")
    assert grouped == plain
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", "custom:vram=24GB,bandwidth=1000_GB/s,fp16=80TFLOPS")
    one_line_exit_2(code, out, err, "bandwidth")


@pytest.mark.parametrize("value", ["24_GB", "24__000MB", "_24GB"])
def test_a_size_with_a_stray_underscore_stays_malformed(capsys, value):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", value)
    one_line_exit_2(code, out, err, "malformed")


@pytest.mark.parametrize("cols", ["1", "5", "39"])
def test_a_terminal_narrower_than_40_columns_is_drawn_at_40(capsys, monkeypatch, cols):
    # COLUMNS=1 drew the whole report one character a line (rich, as asked): thousands of lines nobody reads
    monkeypatch.setenv("COLUMNS", cols)
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB")
    assert code == 0, err
    narrow = out.splitlines()
    monkeypatch.setenv("COLUMNS", "40")
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB")
    assert narrow == out.splitlines()
    assert max(len(line) for line in narrow) > 30


def test_a_family_named_without_size_lists_the_sizes_other_entries_hold(capsys):
    # 'lfm2.5' said 'name it with its size: lfm2.5:8b-a1b (the catalog's one size of lfm2.5 ...)', while
    # lfm2.5:1.2b (LFM2.5 1.2B, sized as LFM2 1.2B, models33) resolves too
    code, out, err = run(capsys, "fit", "lfm2.5", "--vram", "24GB")
    one_line_exit_2(code, out, err, "lfm2.5:1.2b", "lfm2.5:8b-a1b")
    assert "one size" not in err
    code, out, err = run(capsys, "fit", "lfm2.5:1.2b", "--vram", "24GB", "--json")
    assert code == 0, err


@pytest.mark.parametrize("tp", ["0", "-1"])
def test_tp_below_one_is_named_as_such(capsys, tp):
    # said 'tensor parallel size 0 does not divide gpt-oss:20b's 64 attention heads'
    code, out, err = run(capsys, "fit", "gpt-oss:20b", "-H", "4x rtx4090", "--engine", "vllm", "--tp", tp)
    one_line_exit_2(code, out, err, f"--tp {tp}", "at least 1")


@pytest.mark.parametrize("box", ["rtx 2080 ti", "quadro rtx 8000", "tesla-v100-pcie-32-gb", "gtx1080", "2x titan rtx"])
def test_vllm_mxfp4_below_compute_capability_8_does_not_serve(capsys, box):
    # vllm quantization/mxfp4.py: Mxfp4Config.get_min_capability() is 80, and vLLM refuses a quantization method
    # whose minimum the GPU is below at start-up. Only the T4's family was refused: a Quadro RTX 8000 (Turing, 7.5)
    # or a V100 (7.0) was sized serving gpt-oss's MXFP4 with users and a throughput, exit 0
    code, out, err = run(capsys, "serve", "gpt-oss:20b", "-H", box, "--engine", "vllm", "-q", "MXFP4", "--json")
    assert code == 1 and "compute capability 8.0" in err, err
    assert json.loads(out)["fits"] is False


@pytest.mark.parametrize("box", ["rtx4090", "a100-80gb", "rtx-3060-12gb"])
def test_vllm_mxfp4_from_ampere_on_still_serves(capsys, box):
    code, out, err = run(capsys, "fit", "gpt-oss:20b", "-H", box, "--engine", "vllm", "-q", "MXFP4", "--json")
    assert code == 0, err
    assert "compute capability" not in json.dumps(json.loads(out))
