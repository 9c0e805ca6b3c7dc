"""What `serve` says when the weights alone are larger than the GPU (session 31, user31).

vLLM's worker loads the weights before it profiles memory for the KV pool (vllm/v1/worker/gpu_worker.py: load_model,
then determine_available_memory); weights larger than a GPU's free memory stop the load with torch's CUDA
out-of-memory error, so vLLM's later "No available memory for the cache blocks. Try increasing
`gpu_memory_utilization`" is never printed, and no utilisation up to 1.0 could make them fit."""
import re

import pytest

import selfhost_advisor as sa

GIB = 2**30


def _figures(reason: str) -> tuple[float, float, float]:
    m = re.search(r"puts ([\d.]+) GiB of weights on a GPU that has ([\d.]+) GiB free \(of ([\d.]+) GiB\)", reason)
    assert m, reason
    return tuple(float(x) for x in m.groups())


def test_a_70b_on_one_24gb_card_is_refused_for_its_weights_not_told_to_raise_utilisation():
    r = sa.serve("llama3.1:70b", "rtx-3090")
    assert not r.fits
    assert "Try increasing" not in r.reason and "CUDA out of memory while loading the weights" in r.reason
    weights, free, total = _figures(r.reason)
    # Llama 3.1 70B: 70.6e9 parameters; the smallest vLLM format, 4-bit AWQ / GPTQ, is at least 4 bits a weight
    assert weights >= 70.6e9 * 4 / 8 / GIB * 0.99
    # an RTX 3090 holds 24 GiB (NVIDIA spec sheet); CUDA reports a little less, and free is less again
    assert free < total <= 24.0 and weights > total


def test_weights_that_fit_keep_vllms_own_pool_refusal():
    # Llama 3.1 8B BF16 (16 GB) fits a 24 GiB card, but a 0.5 share (12 GiB) leaves no pool: vLLM loads the weights
    # and then stops with its own message, which --gpu-memory-utilization does address
    r = sa.serve("llama3.1:8b", "rtx-3090", quant="BF16", gpu_memory_utilization=0.5)
    assert not r.fits
    assert "No available memory for the cache blocks" in r.reason and "while loading the weights" not in r.reason


def test_the_cli_exit_and_stderr_line_carry_the_weights_reason(capsys):
    from selfhost_advisor.cli import main

    code = main(["serve", "llama3.1:70b", "-H", "rtx-3090"])
    err = capsys.readouterr().err
    assert code == 1 and "while loading the weights" in err and "Try increasing" not in err


@pytest.mark.parametrize("hardware, engine", [("arc-b580", "vllm"), ("rtx-3090", "vllm"), ("m4-max-128gb", "llamacpp")])
def test_the_default_serving_engine_is_what_serve_and_cost_help_say(hardware, engine, capsys):
    # serve --help said "vllm where the box has a CUDA/ROCm GPU", but a discrete Intel GPU (vLLM's XPU platform) is
    # served with vLLM too (estimate/vllm.py serving_gpus); the help now names it
    from selfhost_advisor.cli import main

    assert sa.serve("llama3.1:8b", hardware).engine == engine
    for cmd in ("serve", "cost"):
        assert main([cmd, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "discrete CUDA, ROCm or Intel GPU" in text, cmd
