"""A prompt's flash attention on NVIDIA GPUs without tensor cores runs ggml-cuda's tile kernel on the vector lanes
(estimate/cuda_path.fa_tile_flops; docs/methodology.md 5c-s27)."""
from __future__ import annotations

import pytest

from selfhost_advisor.estimate import cuda_path
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated, gpu_clock_hz, vector_lanes
from selfhost_advisor.estimate.speed import _speed_data


def _machine(name: str):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile

    return machine_from_profile(hw_names.resolve(name), 1)


def test_pascal_runs_the_tile_kernel_at_the_hip_tile_rate_half2_where_fast_fp16():
    per = _speed_data()["vulkan_amd"]["fa_prefill_flops_per_lane_cycle"]
    half2 = _speed_data()["rocm_prefill_path"]["fa_tile_half2_factor"]
    p100 = _machine("tesla p100 pcie 16gb").devices[0]  # GP100, compute capability 6.0: FAST_FP16_AVAILABLE
    p40 = _machine("tesla p40").devices[0]  # GP102, 6.1: common.cuh leaves FAST_FP16_AVAILABLE out, float products
    with at_build("2026-05-17"), fa_stated(True):  # a run that states -fa 1
        assert cuda_path.fa_tile_flops(p100) == pytest.approx(vector_lanes(p100) * gpu_clock_hz(p100) * per * half2)
        assert cuda_path.fa_tile_flops(p40) == pytest.approx(vector_lanes(p40) * gpu_clock_hz(p40) * per)
        # the tile rate is a fraction of the FP16 peak the matmuls' efficiency (> 1) used to be applied to
        assert cuda_path.fa_tile_flops(p100) < p100.fp16_flops / 2


def test_tensor_core_gpus_other_backends_and_builds_before_the_fa_default_keep_their_rates():
    with at_build("2026-05-17"), fa_stated(True):
        assert cuda_path.fa_tile_flops(_machine("tesla v100 pcie 16gb").devices[0]) is None  # Volta: WMMA / MMA
        assert cuda_path.fa_tile_flops(_machine("rtx 4090").devices[0]) is None
        assert cuda_path.fa_tile_flops(_machine("m4 max 128gb").devices[0]) is None
    # before llama-bench's flash-attention default (PR #23714, 2026-05-30) a row stating no -fa: cuBLAS attention
    for build in ("2025-08-12", "2026-05-17"):
        with at_build(build):
            assert cuda_path.fa_tile_flops(_machine("tesla p100 pcie 16gb").devices[0]) is None
    with at_build("2026-05-30"):
        assert cuda_path.fa_tile_flops(_machine("tesla p100 pcie 16gb").devices[0]) is not None


def test_a_p100_prompt_at_depth_pays_its_attention_at_the_tile_rate():
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate.speed import estimate_speed
    from selfhost_advisor.estimate.speed_work import attention_flops_by_layer, prompt_swa_extra

    model = get("gpt-oss:20b")
    machine = _machine("tesla p100 pcie 16gb")
    d = machine.devices[0]
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with at_build("2026-05-17"), fa_stated(True):
        near = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, prefill_depth=1024, n_ubatch=2048)
        deep = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, prefill_depth=33792, n_ubatch=2048)
        tile = cuda_path.fa_tile_flops(d)
    extra = prompt_swa_extra(2048, "cuda")
    flops = sum(attention_flops_by_layer(model, 33792, extra)) - sum(attention_flops_by_layer(model, 1024, extra))
    assert 1 / deep.prefill_tokens_per_s - 1 / near.prefill_tokens_per_s == pytest.approx(flops / tile, rel=1e-6)
