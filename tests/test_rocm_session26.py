"""Session 26 (rocm24; docs/methodology.md 5f-rocm26): the ROCm prompt paths of ggml_cuda_should_use_mmq and
ggml_cuda_dp4a that data/speed.yaml rocm_prefill_path had not carried, read in ggml-org/ggml's src/ggml-cuda at the
sync commits named below."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

RULES = _speed_data()["rocm_prefill_path"]


def _at(date, arch, ty):
    with kernel_path.at_build(date):
        return kernel_path.rocm_path(arch, ty, RULES), kernel_path.mmq_on_matrix_units(arch, ty, RULES)


def test_iq2_xs_and_iq2_s_leave_wmma_mmq_on_rdna3_0_only():
    # ggml 803885a3 (llama/18537, 2026-01-06): RDNA 3 "case GGML_TYPE_IQ2_XS: case GGML_TYPE_IQ2_S: return ne11 <= 128"
    # (hipBLAS at a 512-token micro-batch); 9ca3cfeb (llama/18666, 2026-01-10): "return GGML_CUDA_CC_IS_RDNA3_5(cc) ||
    # ne11 <= 128", so RDNA 3.5 keeps MMQ and RDNA 3.0 does not. RDNA 4 "return true" at every build.
    for ty in ("IQ2_XS", "IQ2_S"):
        assert _at("2025-12-20", "RDNA 3.0", ty) == ("mmq", True)
        assert _at(None, "RDNA 3.0", ty)[0] == "blas"
        assert _at("2026-01-08", "RDNA 3.5", ty)[0] == "blas"
        assert _at(None, "RDNA 3.5", ty) == ("mmq", True)
        assert _at(None, "RDNA 4.0", ty) == ("mmq", True)
    assert _at(None, "RDNA 3.0", "IQ2_XXS") == ("mmq", True)  # not in the switch: MMQ


def test_gfx900_and_gfx1010_multiply_on_the_byte_wise_dp4a():
    # common.cuh ggml_cuda_dp4a: `#elif defined(RDNA1) || defined(__gfx900__)` a hand-written byte-wise sequence at
    # every build (no v_dot4): no_dot4_lane_ops (6) lane-instructions for a dp4a's 8 int8 ops, as CDNA 3 before PR #12177
    for arch in ("GCN 5.0", "RDNA 1.0"):
        with kernel_path.at_build("2026-05"):
            assert kernel_path.lane_int8_ops(arch, RULES) == pytest.approx(8 / 6)
        assert _at("2026-05", arch, "Q4_0") == ("mmq", False)
    assert kernel_path.lane_int8_ops("GCN 5.1", RULES) == 8  # gfx906 has sdot4


def test_a_vega_10_int8_peak_is_its_lanes_not_its_fp16_rate():
    # Radeon Instinct MI25 (data/gpu_specs.yaml: 4,096 shaders, 1,500 MHz, 24.6 TFLOPS FP16): the dp4a lanes at 8/6 ops
    # a lane-clock, in series with the scale epilogue (3 lane-ops per 64 int8 ops), not the FP16 rate it took before
    d = replace(machine_from_profile(hw_names.resolve("radeon instinct mi25"), 1).devices[0], backend="rocm")
    assert kernel_path.architecture(d) == "GCN 5.0"
    lanes = 4096 * 1500e6
    with kernel_path.at_build("2026-05"):
        peak = kernel_path.int8_peak(d, "GCN 5.0", 24.6e12, RULES, matrix=False)
    assert peak == pytest.approx(1 / (1 / (lanes * 8 / 6) + 1 / (64 / 3 * lanes)), rel=1e-6)
    assert peak < 24.6e12 / 2


def test_gfx900_dense_prompts_go_to_hipblas_from_pr_24588():
    # ggml ce6e68ec (llama/24588, 2026-06-30): "if (cc == GGML_CUDA_CC_VEGA) return n_experts > 0;" dense matmuls on
    # hipBLAS; GCN 5.1 (gfx906, MI50 / MI60 / Radeon VII) is not CC_VEGA and keeps dp4a MMQ
    assert _at("2026-06-29", "GCN 5.0", "Q4_K")[0] == "mmq"
    assert _at("2026-06-30", "GCN 5.0", "Q4_K")[0] == "blas"
    assert _at(None, "GCN 5.1", "Q4_K") == ("mmq", False)
