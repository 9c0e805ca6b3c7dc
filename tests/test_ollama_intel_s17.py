"""Ollama on an Intel GPU (session 17): Ollama builds no SYCL backend (llama/server/CMakePresets.json: cpu, cuda, rocm,
vulkan), so `--engine ollama` on an Arc card was sized as llama.cpp's SYCL backend and told the user to expect "SYCL0"
buffer lines. It runs the card on its Vulkan backend (opt-in with OLLAMA_VULKAN=1 in 0.12.11-0.29, on by default from
0.30.0), not at all before 0.12.11 (CPU); the 'sycl' word is refused under --engine ollama as 'vulkan' is under vLLM."""
from __future__ import annotations

import pytest

from selfhost_advisor.api import fit
from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.cli import main
from selfhost_advisor.engines import get_engine


def _machine(spec: str):
    profile, count, _ = parse_spec(spec)
    return machine_from_profile(profile, count)


@pytest.mark.parametrize("argv", [
    ["fit", "llama3.1:8b", "--hardware", "arc b580 sycl", "--engine", "ollama"],
    ["serve", "llama3.1:8b", "--hardware", "arc a770 16gb sycl", "--engine", "ollama"],
])
def test_the_sycl_word_under_ollama_exits_2_in_one_line(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert "Ollama has no SYCL backend" in err and "--engine llamacpp" in err


def test_an_arc_gpu_runs_ollamas_vulkan_backend_by_default():
    r = fit("llama3.1:8b", hardware="arc b580", engine="ollama", quant=["Q4_K_M"])
    assert [d.backend for d in r.machine.devices] == ["vulkan"]
    assert any("Vulkan backend" in w and "OLLAMA_VULKAN=0" in w for w in r.warnings)
    # the same speed as the card named with 'vulkan' (one Vulkan model), not the SYCL figure it gave before
    vk = fit("llama3.1:8b", hardware="arc b580 vulkan", engine="ollama", quant=["Q4_K_M"])
    sycl = fit("llama3.1:8b", hardware="arc b580", engine="llamacpp", quant=["Q4_K_M"])
    tps = r.options[0].speed.decode_tokens_per_s
    assert tps == vk.options[0].speed.decode_tokens_per_s != sycl.options[0].speed.decode_tokens_per_s


def test_the_log_lines_name_vulkan_not_sycl(capsys):
    assert main(["fit", "llama3.1:8b", "--hardware", "arc b580", "--engine", "ollama", "--quant", "Q4_K_M"]) == 0
    out = capsys.readouterr().out
    assert "Vulkan0 model buffer" in out and "SYCL0" not in out


def test_between_0_12_11_and_0_30_vulkan_needs_the_opt_in_variable():
    eng = get_engine("ollama")
    m, note = eng.engine_machine(_machine("arc b580"), "0.20.0")
    assert m.devices[0].backend == "vulkan" and "OLLAMA_VULKAN=1" in note
    r = fit("llama3.1:8b", hardware="arc b580", engine="ollama", quant=["Q4_K_M"], engine_version="0.20.0")
    assert "OLLAMA_VULKAN=1" in r.options[0].command
    assert "OLLAMA_VULKAN" not in fit("llama3.1:8b", hardware="arc b580", engine="ollama", quant=["Q4_K_M"]).options[0].command


def test_before_0_12_11_ollama_leaves_the_intel_gpu_unused():
    m, note = get_engine("ollama").engine_machine(_machine("arc b580"), "0.12.10")
    assert m.devices == () and "CPU" in note
    m, note = get_engine("ollama").engine_machine(_machine("arc b580"), "0.12.11")
    assert m.devices[0].backend == "vulkan"


def test_other_gpus_and_engines_are_unchanged():
    eng = get_engine("ollama")
    for spec in ("rtx 4090", "rx 7900 xtx", "arc b580 vulkan"):
        m = _machine(spec)
        assert eng.engine_machine(m) == (m, "")
    m = _machine("arc b580")
    assert get_engine("llamacpp").engine_machine(m) == (m, "") and m.devices[0].backend == "sycl"


def test_an_intel_igpu_needs_ollama_igpu_enable_from_0_30():
    # discover/runner.go (v0.30.0+) drops a Vulkan integrated GPU unless OLLAMA_IGPU_ENABLE=1; v0.20.0 kept it
    r = fit("llama3.1:8b", hardware="core ultra 7 258v", engine="ollama", quant=["Q4_K_M"])
    assert r.machine.devices[0].backend == "vulkan" and "OLLAMA_IGPU_ENABLE=1" in r.options[0].command
    assert any("OLLAMA_IGPU_ENABLE=1" in w for w in r.warnings)
    old = fit("llama3.1:8b", hardware="core ultra 7 258v", engine="ollama", quant=["Q4_K_M"], engine_version="0.20.0")
    assert "OLLAMA_IGPU_ENABLE" not in old.options[0].command and "OLLAMA_VULKAN=1" in old.options[0].command
    # a discrete card needs neither
    assert "OLLAMA_IGPU_ENABLE" not in fit("llama3.1:8b", hardware="arc b580", engine="ollama",
                                           quant=["Q4_K_M"]).options[0].command



def test_cost_sizes_an_arc_box_under_ollama_on_vulkan():
    # cost's fleet sized 'arc b580' with --engine ollama on ggml-sycl, as fit did
    from selfhost_advisor.cost.boxes import box_from_spec
    from selfhost_advisor.cost.fleet import Fleet

    box = box_from_spec("arc b580")
    assert [d.backend for d in Fleet(None, None, "ollama")._machine(box).devices] == ["vulkan"]
    assert [d.backend for d in Fleet(None, None, "llamacpp")._machine(box).devices] == ["sycl"]
