"""The AMD Instinct rows of data/gpu_specs.yaml as AMD ships them (data/gpu_overrides.yaml, session 34, serve34): the
MI325X's 256 GB at 6 TB/s (TechPowerUp's 288 GB / 10.3 TB/s were the announced capacity and a doubled bandwidth), and
the dense FP8 matrix rate the vLLM step's FP8 GEMMs run at on CDNA 3 and CDNA 4 (serving/rates.py matmul_flops), which
a row without fp8_tflops priced at the FP16 rate."""
from __future__ import annotations

import pytest


def _machine(name: str):
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile

    return machine_from_profile(get_profile(name), 1)


def test_mi325x_is_amds_256_gb_at_6_tb_s():
    m = _machine("mi325x")
    dev = m.devices[0]
    assert dev.memory_bytes == 256 * 2**30
    assert dev.bandwidth_bytes_per_s == pytest.approx(6.0e12)  # AMD: "6 TB/s of peak memory bandwidth"


@pytest.mark.parametrize("name", ["mi350x", "mi355x"])
def test_cdna4_fp8_gemms_run_at_8192_flops_a_cu_a_clock(name):
    """ISSCC 2026 (AMD): CDNA 4 doubled the per-CU dense FP8 rate to 8,192 FLOPs a clock; the row's own CU count and
    boost clock give the rate the vLLM FP8 GEMM is priced at, twice the 16-bit one."""
    from selfhost_advisor.estimate.serving.rates import _profile_raw, matmul_flops
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    m = _machine(name)
    raw = _profile_raw(m)
    expected = int(raw["units"]) * 8192 * float(raw["boost_clock_mhz"]) * 1e6
    fp8 = matmul_flops(m, get_vllm_quant("FP8"))
    assert fp8 == pytest.approx(expected, rel=0.002)
    assert fp8 == pytest.approx(2 * matmul_flops(m, get_vllm_quant("BF16")), rel=0.01)


def test_the_mi300x_table_row_and_curated_profile_agree_on_fp8():
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.estimate.serving.rates import matmul_flops
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    row = machine_from_profile(get_profile("radeon-instinct-mi300x"), 1)
    curated = _machine("mi300x")
    q = get_vllm_quant("FP8")
    assert matmul_flops(row, q) == pytest.approx(matmul_flops(curated, q), rel=0.01)


def test_fp8_prefill_on_mi355x_is_faster_than_bf16():
    """A prompt-heavy FP8 run on one MI355X (AMD's Llama-3.3-70B FP8 recipe row) prefills at the FP8 rate: before the
    fix the FP8 and BF16 prefill rates were the same."""
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.estimate.serving.step import prefill_tokens_per_s
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    m = _machine("mi355x")
    model = get("llama3.3:70b")
    fp8 = prefill_tokens_per_s(model, get_vllm_quant("FP8"), m, 1, 4096)
    bf16 = prefill_tokens_per_s(model, get_vllm_quant("BF16"), m, 1, 4096)
    assert fp8 > 1.5 * bf16
