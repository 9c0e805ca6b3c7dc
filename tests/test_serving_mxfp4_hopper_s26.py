"""Which MXFP4 MoE kernel vLLM runs on Hopper, by release, and the rate Marlin MoE's mma.sync reaches there
(estimate/serving/moe_step.py mxfp4_hopper_kernel, expert_mma_share; docs/methodology.md 6c, session 26, serve22).

vllm quantization/mxfp4.py get_mxfp4_backend takes triton_kernels on compute capability 9.0 only when the package
imports; vLLM depended on it only from PR #27370 (after 0.11.0), so 0.10.x / 0.11.0 ran Marlin MoE on an H100 as on an
A100. Marlin MoE issues warp-level mma.sync (csrc/moe/marlin_moe_wna16/marlin_template.h), which reaches the
data/speed.yaml mmq_tensor_share of Hopper's wgmma spec rate.
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving import step_seconds
from selfhost_advisor.estimate.serving.moe_step import (expert_mma_share, moe_activation_bytes, moe_kernel,
                                                        mxfp4_hopper_kernel)
from selfhost_advisor.estimate.vllm import get_vllm_quant

MX = get_vllm_quant("MXFP4")
H100 = machine_from_profile(get_profile("h100-sxm"), 1)
A100 = machine_from_profile(get_profile("a100-80gb"), 1)


def test_hopper_mxfp4_kernel_follows_the_release():
    # gpustack's gpt-oss H100 rows ran 0.10.2 and 0.11.0: no triton_kernels in either install -> "Using Marlin backend"
    assert mxfp4_hopper_kernel("0.10.2") == "marlin"
    assert mxfp4_hopper_kernel("0.11.0") == "marlin"
    assert mxfp4_hopper_kernel("0.11.1") == "triton_kernels"
    assert mxfp4_hopper_kernel("0.19.0") == "triton_kernels"
    assert mxfp4_hopper_kernel("") == "triton_kernels"  # the registry's current release
    from selfhost_advisor.estimate.vllm import engine_version

    assert mxfp4_hopper_kernel("") == mxfp4_hopper_kernel(engine_version())
    assert moe_kernel("nvidia-h100", "cuda", MX, "0.11.0") == "marlin"
    assert moe_kernel("nvidia-h100", "cuda", MX, "0.24.0") == "triton_kernels"
    # no other platform or format depends on the release
    for release in ("0.10.2", "0.11.0", "0.24.0", ""):
        assert moe_kernel("nvidia-a100", "cuda", MX, release) == "marlin"
        assert moe_kernel("amd-cdna3", "rocm", MX, release) == "triton_kernels"
        assert moe_kernel("nvidia-h100", "cuda", get_vllm_quant("BF16"), release) == "fused_moe"


def test_marlin_experts_on_hopper_run_at_the_mma_sync_share():
    share = float(load("speed")["mmq_tensor_share"]["nvidia-h100"]["share"])
    assert 0.5 < share < 0.8  # mma.sync on Hopper: about two thirds of the wgmma spec rate
    assert expert_mma_share(H100, MX, "0.11.0") == pytest.approx(share)
    assert expert_mma_share(H100, MX, "0.24.0") == 1.0  # triton_kernels (wgmma)
    assert expert_mma_share(A100, MX, "0.11.0") == 1.0  # Ampere's spec rate is mma.sync's own
    assert expert_mma_share(H100, get_vllm_quant("BF16"), "0.11.0") == 1.0  # Triton fused_moe
    # AWQ runs Marlin everywhere, dense GEMMs included: rates.matmul_flops carries the share already, not twice
    assert expert_mma_share(H100, get_vllm_quant("AWQ-INT4"), "0.11.0") == 1.0


def test_a_hopper_prefill_chunk_is_slower_under_marlin_and_keeps_under_the_spec_ratio():
    oss = get("gpt-oss:20b")
    old = step_seconds(oss, MX, H100, 1, 0, 0, 2048, 1024, release="0.11.0")
    new = step_seconds(oss, MX, H100, 1, 0, 0, 2048, 1024, release="0.24.0")
    assert old > 1.1 * new  # compute-bound chunk: the experts' GEMMs at two thirds of the rate, plus Marlin's caches
    a100 = step_seconds(oss, MX, A100, 1, 0, 0, 2048, 1024, release="0.11.0")
    spec_ratio = float(H100.devices[0].fp16_flops) / float(A100.devices[0].fp16_flops)
    # the same kernel on both parts: the H100's gain is under its 16-bit spec ratio (published 2K bursts: ~1.8x)
    assert 1.0 < a100 / old < spec_ratio


def test_marlin_moves_the_four_kernels_caches_and_decode_stays_memory_bound():
    oss = get("gpt-oss:20b")
    # Marlin MoE writes and reads its intermediate caches (w13 out, activation, w2 out, moe_sum); triton_kernels fuses
    # the activation and the sum
    assert moe_activation_bytes(oss, MX, H100, 1, 64, "0.11.0") > moe_activation_bytes(oss, MX, H100, 1, 64, "0.24.0")
    # one decoding sequence: bytes bind, the MMA share does not enter; the step differs only by those caches
    old = step_seconds(oss, MX, H100, 1, 1, 1000, release="0.11.0")
    new = step_seconds(oss, MX, H100, 1, 1, 1000, release="0.24.0")
    assert 1.0 <= old / new < 1.02
