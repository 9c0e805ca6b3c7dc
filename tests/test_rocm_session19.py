"""Session 19 (rocm6; docs/methodology.md 5f-rocm19): ROCm prefill terms read off ggml-cuda's HIP paths."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data, prefill_traffic_seconds, token_work
from selfhost_advisor.record import replace

RULES = _speed_data()["rocm_prefill_path"]


def _rocm(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="rocm")


def test_float_weights_count_no_mmq_tile_traffic_on_rocm():
    """ggml_cuda_mul_mat_cublas_impl passes a BF16 / F16 src0 to hipBLAS(Lt) as it is: no MMQ tile re-reads them and no
    conversion pass runs, so on ROCm (as on CUDA) a float model's prompt has no tile-traffic term, while a quantized one
    keeps MMQ's (weights once per 128 tokens, Q8_1 activations once per 128 rows)."""
    d = _rocm("radeon ai pro r9700")
    bf16 = token_work(get_model("ministral-3:8b"), get_quant("BF16")).layer_matrices
    q4 = token_work(get_model("llama3.1:8b"), get_quant("Q4_0")).layer_matrices
    assert all(ty in kernel_path.FLOAT_TYPES for mats in bf16 for ty, _, _ in mats)
    assert prefill_traffic_seconds(d, bf16, 512) == 0.0
    weights = sum(b for mats in q4 for _, _, b in mats)
    acts = sum(n for mats in q4 for _, n, _ in mats)
    expected = (weights / 128 + acts / 128) / d.bandwidth_bytes_per_s
    with kernel_path.at_build("2026-07"):  # RDNA 4 runs Q4_0 as WMMA MMQ: no conversion pass
        assert prefill_traffic_seconds(d, q4, 512) == pytest.approx(expected)


def test_quantized_only_keeps_block_types_per_layer():
    layers = ((("F16", 10, 20), ("Q4_K", 256, 144)), (("BF16", 4, 8),))
    assert kernel_path.quantized_only(layers) == ((("Q4_K", 256, 144),), ())
