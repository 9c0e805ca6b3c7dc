"""'rocm' / 'hip' after an AMD GPU's name: llama.cpp's ROCm/HIP backend (catalog/backend_words.py). An AMD APU's profile
runs Vulkan, so before the word no one could ask for Strix Halo under ROCm, the backend of its held-out ROCm rows
(docs/methodology.md 5f-halo3); a discrete AMD card's default is already ROCm, so the word changes nothing there."""
from __future__ import annotations

import pytest


def _device(spec):
    from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec

    profile, count, _ = parse_spec(spec)
    return profile, count, machine_from_profile(profile, count).devices[0]


@pytest.mark.parametrize("spec", ["ryzen ai max+ 395 128gb rocm", "Ryzen AI Max+ 395 128GB ROCm",
                                  "ryzen ai max+ 395 128gb hip"])
def test_word_puts_the_apu_on_rocm(spec):
    profile, count, dev = _device(spec)
    assert profile.id == "ryzen-ai-max-395-128gb" and count == 1
    assert dev.backend == "rocm" and dev.backend_word == "rocm" and dev.unified
    assert _device("ryzen ai max+ 395 128gb")[2].backend == "vulkan"  # the profile's own backend without the word


@pytest.mark.parametrize("spec", ["2x rx 7900 xtx rocm", "rx 7900 xtx rocm x2"])
def test_count_before_or_after_the_word(spec):
    profile, count, dev = _device(spec)
    assert (profile.id, count, dev.backend) == ("rx-7900-xtx", 2, "rocm")


def _speed(spec):
    from selfhost_advisor import api

    return api.fit("llama3.1:8b", spec, quant="Q4_K_M").options[0].speed


def test_discrete_card_same_figures_with_the_word():
    said, plain = _speed("rx 7900 xtx rocm"), _speed("rx 7900 xtx")
    assert said is not None and said == plain


def test_apu_under_rocm_is_priced_by_the_rocm_path():
    # the word must reach the speed model and the JSON: the APU's estimate moves off the Vulkan path's figures, and the
    # device says which backend it was sized on
    from selfhost_advisor import api
    from selfhost_advisor.render.jsonout import fit_dict

    rocm, vulkan = _speed("ryzen ai max+ 395 128gb rocm"), _speed("ryzen ai max+ 395 128gb")
    assert rocm.prefill_tokens_per_s != vulkan.prefill_tokens_per_s
    assert rocm.decode_tokens_per_s != vulkan.decode_tokens_per_s
    doc = fit_dict(api.fit("llama3.1:8b", "ryzen ai max+ 395 128gb rocm", quant="Q4_K_M"))
    assert [d["backend"] for d in doc["hardware"]["devices"]] == ["rocm"]


def _err_line(capsys):
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, (out, err)
    return err


@pytest.mark.parametrize("spec", ["rtx 4090 rocm", "m4 max 64gb rocm", "arc b580 hip", "h100-sxm rocm"])
def test_word_after_a_gpu_that_is_not_amd_is_one_line_exit_2(spec, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", spec]) == 2
    err = _err_line(capsys)
    assert "ROCm backend runs AMD GPUs only" in err and "drop 'rocm'" in err


def test_fit_serve_and_cost_take_the_word(capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", "ryzen ai max+ 395 128gb rocm", "-q", "Q4_K_M"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(ROCm)" in out and "(Vulkan)" not in out
    assert main(["serve", "llama3.1:8b", "-H", "ryzen ai max+ 395 128gb rocm", "--engine", "llamacpp"]) == 0
    capsys.readouterr()
    assert main(["cost", "-m", "llama3.1:8b", "-t", "1e7", "-H", "ryzen ai max+ 395 128gb rocm",
                 "--engine", "llamacpp"]) == 0
    assert "rocm" in capsys.readouterr().out
