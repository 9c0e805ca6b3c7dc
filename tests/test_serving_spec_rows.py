"""The vLLM step on spec-table datacenter GPUs (data/gpu_specs.yaml rows without a curated profile): their NVLink and
FP8 rate, set by data/gpu_overrides.yaml, reach the step as a curated profile's do (estimate/serving/rates.py _raw_of)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.vllm import get_vllm_quant


def test_spec_table_datacenter_rows_carry_their_nvlink_and_fp8_rate_into_the_vllm_step():
    # data/gpu_overrides.yaml (session 23): B300 288 GB, 8 TB/s, BF16 2.25 / FP8 4.5 PFLOPS dense, NVLink 1.8 TB/s
    # (NVIDIA's Blackwell technical brief as tabulated by datacrunch.io); H20 NVLink 900 GB/s, FP8 = its INT8 296. Before,
    # the step read only curated rows, so an 8x B300 all-reduced over PCIe, ran FP8 at the 16-bit rate and held 144 GB
    # a GPU: it served Qwen3-235B slower than an 8x B200.
    from selfhost_advisor.estimate.serving import ServeWorkload, serve
    from selfhost_advisor.estimate.serving.collectives import allreduce_seconds
    from selfhost_advisor.estimate.serving.rates import fp8_gemm_gain, matmul_flops

    fp8 = get_vllm_quant("FP8")
    b300, b200 = machine_from_profile(get_profile("b300"), 8), machine_from_profile(get_profile("b200"), 8)
    h20 = machine_from_profile(get_profile("h20-96-gb"), 8)
    assert b300.interconnect == "nvlink5" and h20.interconnect == "nvlink4"
    assert b300.devices[0].memory_bytes >= 0.99 * 288 * 2**30
    assert matmul_flops(h20, fp8) == pytest.approx(296e12 * fp8_gemm_gain(h20))
    assert matmul_flops(b300, fp8) == pytest.approx(4500e12 * fp8_gemm_gain(b300))
    q235 = get("qwen3:235b")
    assert allreduce_seconds(q235, b300, 8, 256) == allreduce_seconds(q235, b200, 8, 256)  # NVLink 5 both
    w = ServeWorkload(1000, 200)
    assert serve(q235, b300, w).peak.output_tokens_per_s >= serve(q235, b200, w).peak.output_tokens_per_s
