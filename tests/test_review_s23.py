"""Session 23 review (rev23): a vLLM option on a machine vLLM does not serve, and a profile's own Vulkan backend.

- `fit MODEL -H m4-max-128gb --max-num-seqs 8` said "add --engine vllm or drop it"; adding it sized nothing ("Nothing
  fits": vLLM does not run on Apple GPUs). The hint now says to drop the option there (api._vllm_option_hint,
  engines/interface.vllm_option_hint); `serve` on a Mac (llama.cpp by default) gave the same advice.
- `--engine vllm -H ryzen-ai-max-395-64gb` said the APU "was named with 'vulkan'" when the user typed no such word:
  Vulkan is the profile's own backend (data/hardware.yaml), so there is no word to drop.
"""
from __future__ import annotations

import sys

import pytest

from clikit import one_line_exit_2, run


@pytest.mark.parametrize("argv", [
    ["fit", "llama3.1:8b", "-H", "m4-max-128gb", "--max-num-seqs", "8"],
    ["fit", "llama3.1:8b", "-H", "m4-max-128gb", "--gpu-memory-utilization", "0.8"],
    ["serve", "llama3.1:8b", "-H", "m4-max-128gb", "--max-num-seqs", "4"],
])
def test_a_vllm_option_on_a_mac_says_vllm_does_not_run_there(capsys, argv):
    code, out, err = run(capsys, *argv)
    one_line_exit_2(code, out, err, "is a vLLM option", "drop it", "does not run on Apple GPUs", "m4-max-128gb")
    assert "add --engine vllm" not in err


def test_a_vllm_option_on_a_cpu_only_box_says_vllm_serves_no_gpu_there(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--ram", "64GB", "--tp", "2")
    one_line_exit_2(code, out, err, "--tp is a vLLM option", "drop it", "vLLM serves from discrete GPUs")


@pytest.mark.parametrize("hardware", ["rtx4090", "rtx 4090 vulkan", "no-such-gpu-xyz"])
def test_a_vllm_option_elsewhere_still_says_add_engine_vllm(capsys, hardware):
    """A GPU vLLM serves; a GPU named with 'vulkan' (--engine vllm then says to drop the word); hardware that does not
    resolve (the option's line comes first, as before: its own error follows once the option is fixed)."""
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", hardware, "--max-num-seqs", "8")
    one_line_exit_2(code, out, err, "--max-num-seqs is a vLLM option", "add --engine vllm or drop it")


def test_without_hardware_on_macos_the_hint_names_this_mac(capsys, monkeypatch):
    """No --hardware: the local machine is not probed for the hint (api._check_before_machine runs before the probe);
    on macOS it is a Mac all the same."""
    monkeypatch.setattr(sys, "platform", "darwin")
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--max-num-seqs", "8")
    one_line_exit_2(code, out, err, "drop it", "Apple GPUs", "this machine is a Mac")


def test_a_strix_halo_under_vllm_is_not_said_to_be_named_with_vulkan(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", "ryzen-ai-max-395-64gb", "--engine", "vllm")
    one_line_exit_2(code, out, err, "vLLM has no Vulkan backend", "profile's backend", "--engine llamacpp")
    assert "named with" not in err and "drop 'vulkan'" not in err
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", "rtx 4090 vulkan", "--engine", "vllm")
    one_line_exit_2(code, out, err, "was named with 'vulkan'", "drop 'vulkan'")


def test_every_family_a_fewer_kernels_rule_lists_has_a_build_test():
    """decode_layer_nodes' flash_attention and norm_mul_fused apply to the families they list, at the builds that run
    them: layer_nodes checked the list and then `backend == "sycl"` again, so a family added to the data was silently
    never applied. Now a listed family needs its build test (layer_nodes.build_tests), and this says which is missing."""
    from selfhost_advisor.estimate import layer_nodes

    tests = layer_nodes.build_tests()
    for name in ("flash_attention", "norm_mul_fused"):
        for family in layer_nodes._rule()[name]["families"]:
            assert callable(tests.get(family, {}).get(name)), (name, family)


def test_cost_resolves_each_named_box_once(monkeypatch):
    """cost/run.default_engine resolved every --hardware box to pick the engine and build_comparison resolved them again
    (a spec sheet read twice); now once, the default engine still llama.cpp for a Mac."""
    from selfhost_advisor.cost import boxes
    from selfhost_advisor.cost.run import build_comparison

    calls = []
    real = boxes.box_from_spec
    monkeypatch.setattr(boxes, "box_from_spec", lambda spec, **kw: calls.append(spec) or real(spec, **kw))
    result = build_comparison("1e8", model="llama3.1:8b", hardware="m4-max-128gb")
    assert calls == ["m4-max-128gb"]
    assert result.assumptions["engine"]["value"] == "llamacpp"


@pytest.mark.parametrize("hardware,why", [("m4-max-128gb", "does not run on Apple GPUs"),
                                          ("desktop-ddr5-64gb", "serves from discrete GPUs")])
def test_models_fits_under_vllm_on_a_box_it_serves_no_gpu_of_says_so(capsys, hardware, why):
    """`models --fits m4-max-128gb --engine vllm` listed all 415 catalog models as not running ('0 of 415 models run')
    with no reason, after seconds of sizing; --engine mlx off Apple was already exit 2 (api.models_that_fit)."""
    code, out, err = run(capsys, "models", "--fits", hardware, "--engine", "vllm")
    one_line_exit_2(code, out, err, "--engine vllm runs no model", hardware, why, "--engine llamacpp")


def test_models_fits_under_vllm_on_a_gpu_it_serves_still_lists_models(capsys):
    code, out, err = run(capsys, "models", "--fits", "dgx-spark", "llama3.1", "--engine", "vllm", "--json")
    import json

    assert code == 0 and any(m["runs"] for m in json.loads(out)["models"]), err
