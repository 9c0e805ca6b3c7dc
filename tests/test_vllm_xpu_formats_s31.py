"""vLLM on an Intel GPU never gets a weight format its XPU platform does not run; CUDA boxes keep every format
(session 31, xpuq31; docs/methodology.md 6c; data/engines.yaml vllm_platform_formats).

The bug: `serve llama3.1:8b -H "arc a770 16gb"` picked GPTQ-INT4, and `fit --engine vllm` listed it on every Intel GPU, where
every GPTQ checkpoint loses the device at vLLM's first forward pass on an Arc Pro B60 (vllm issue #52203, open at
v0.27.1; AWQ, FP8 and compressed-tensors W4A16 run on the same build). The refused format is named here from that
issue, not read from the data under test.
"""
from __future__ import annotations

import pytest
from cliproc import isolated_env, run_inprocess

import selfhost_advisor as sa
from selfhost_advisor.errors import AdvisorError

INTEL = ["arc-b580", "arc-a770-16gb", "arc-pro-b60", "2x arc pro b70", "data-center-gpu-max-1100"]
MODELS = ["llama3.1:8b", "qwen2.5:0.5b", "qwen3:30b-a3b-instruct-2507", "gemma2:27b"]
BROKEN = "GPTQ-INT4"  # vllm issue #52203


@pytest.mark.parametrize("hardware", INTEL)
@pytest.mark.parametrize("model_id", MODELS)
def test_serve_on_intel_never_picks_gptq(model_id, hardware):
    r = sa.serve(model_id, hardware)
    assert r.quant != BROKEN


@pytest.mark.parametrize("hardware", INTEL)
def test_fit_on_intel_lists_no_gptq_row(hardware):
    r = sa.fit("llama3.1:8b", hardware, engine="vllm")
    names = [o.quant.name for o in r.options]
    assert BROKEN not in names
    assert {"BF16", "AWQ-INT4"} <= set(names)  # the formats that do run keep their rows


def test_cost_on_intel_prices_a_format_that_runs_and_excludes_a_named_gptq_box():
    r = sa.cost("100M", model="llama3.1:8b", hardware=["arc pro b60"], gpu_price=500, min_quant="any")
    assert r.self_host and all(o.capacity.quant != BROKEN for o in r.self_host)
    r = sa.cost("100M", model="llama3.1:8b", hardware=["arc pro b60"], gpu_price=500, quant="gptq")
    assert not r.self_host and any("52203" in e.reason for e in r.excluded)


@pytest.mark.parametrize("argv", [
    ["serve", "llama3.1:8b", "-H", "arc pro b60", "--quant", "gptq"],
    ["fit", "llama3.1:8b", "-H", "arc b580", "--engine", "vllm", "--quant", "GPTQ-INT4"],
    ["fit", "llama3.1:8b", "-H", "data center gpu max 1100", "--engine", "vllm", "-q", "AWQ,gptq"],
])
def test_named_gptq_on_intel_exits_2_in_one_line(argv, tmp_path):
    (ran,) = run_inprocess([(argv, isolated_env(tmp_path / "home", tmp_path / "ollama"))], tmp_path)
    assert ran.returncode == 2 and not ran.stdout
    line = ran.stderr.strip()
    assert "\n" not in line and "52203" in line and "AWQ-INT4" in line and "BF16" in line


@pytest.mark.parametrize("hardware", ["rtx-3090", "h100-sxm", "rx-7900-xtx"])
def test_cuda_and_rocm_keep_gptq(hardware):
    assert sa.serve("llama3.1:8b", hardware, quant="gptq").quant == BROKEN
    assert BROKEN in [o.quant.name for o in sa.fit("llama3.1:8b", hardware, engine="vllm").options]


def test_the_a770_choice_moves_to_a_format_that_runs():
    """Before the fix the A770 served GPTQ-INT4 (its modelled throughput a hair above AWQ-INT4's); now the same request
    lands on a format that runs, and a named GPTQ exits 2."""
    r = sa.serve("llama3.1:8b", "arc a770 16gb")
    assert r.fits and r.quant in ("AWQ-INT4", "FP8", "BF16")
    with pytest.raises(AdvisorError) as err:
        sa.serve("llama3.1:8b", "arc a770 16gb", quant="GPTQ-INT4")
    assert err.value.exit_code == 2
