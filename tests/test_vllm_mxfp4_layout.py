"""gpt-oss's MXFP4 experts as vLLM holds them after loading, by MoE kernel (estimate/vllm_mxfp4.py, session 33).

Expected figures are vLLM's own "Model loading took X GiB" lines for openai/gpt-oss-120b / -20b on one H100:
0.10.1 ran Marlin MoE (issue #23278: 65.9651 GiB), 0.14.1 triton_kernels (issue #33155: 64.38 GiB), llm-d's 0.11.1+
image triton_kernels for the 20B (13.47 GiB, llm-d-benchmark config_explorer/empirical-vllm-memory-results.md).
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import Device, FitRequest, Machine
from selfhost_advisor.estimate import vllm as V
from selfhost_advisor.estimate.vllm_mxfp4 import mxfp4_kernel

GIB = 2**30


def _plan_weights_gib(model: str, hw: str, release: str) -> float:
    m, q = get(model), V.get_vllm_quant("MXFP4")
    machine = machine_from_profile(get_profile(hw), 1)
    p = V.plan(m, q, machine, FitRequest(context=4096, engine="vllm", engine_version=release))
    return p.memory.weights_bytes / GIB


@pytest.mark.parametrize("model,hw,release,logged", [
    ("gpt-oss:120b", "h100-sxm", "0.10.1", 65.9651),  # Marlin: H 2880 -> 3072, I 2880 -> 2944
    ("gpt-oss:120b", "h100-sxm", "0.14.1", 64.38),  # triton_kernels: scales held twice, fp32 biases
    ("gpt-oss:20b", "h100-sxm", "0.11.1", 13.47),
])
def test_plan_weights_match_what_vllm_loaded(model, hw, release, logged):
    assert _plan_weights_gib(model, hw, release) == pytest.approx(logged, rel=0.01)


def test_the_checkpoint_bytes_alone_miss_the_loaded_weights():
    # the figure before session 33 (no kernel layout): 5-8% under both logs, so the layout is what closes them
    bare = V.vllm_weights(get("gpt-oss:120b"), V.get_vllm_quant("MXFP4")).total / GIB
    assert bare < 64.38 * 0.96 and bare < 65.9651 * 0.94


def test_marlin_below_hopper_and_triton_kernels_on_hopper_from_0_11_1():
    m, q = get("gpt-oss:120b"), V.get_vllm_quant("MXFP4")
    a100 = machine_from_profile(get_profile("a100-80gb"), 1)
    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    assert mxfp4_kernel(m, q, a100, "0.14.1") == "marlin"
    assert mxfp4_kernel(m, q, h100, "0.11.0") == "marlin"
    assert mxfp4_kernel(m, q, h100, "0.11.1") == "triton_kernels"
    assert mxfp4_kernel(m, V.get_vllm_quant("BF16"), h100, "0.14.1") == ""  # only MXFP4 experts are laid out


def test_a_gpu_known_only_by_its_name_gets_its_kernel():
    m, q = get("gpt-oss:20b"), V.get_vllm_quant("MXFP4")
    dev = Device("nvidia", "NVIDIA H100 80GB HBM3", 80 * GIB)  # no matched profile, as a start-up log names it
    assert mxfp4_kernel(m, q, Machine("log", (dev,), 0), "0.14.1") == "triton_kernels"


def test_fit_with_the_current_release_sizes_the_hopper_layout():
    # `fit gpt-oss:120b --engine vllm` on an H100 plans the current release: triton_kernels, as vLLM 0.14.1 loaded it
    assert _plan_weights_gib("gpt-oss:120b", "h100-sxm", "") == pytest.approx(64.38, rel=0.01)
    assert _plan_weights_gib("gpt-oss:120b", "a100-80gb", "") == pytest.approx(65.9651, rel=0.01)  # Marlin
