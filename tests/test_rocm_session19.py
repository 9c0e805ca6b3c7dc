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


def _tile(name: str, head: int, gqa: int, build: str | None, fa: bool | None = True) -> float | None:
    """The tile FA rate at `build`, for a run that states -fa 1 by default (`fa`: the row's stated flag, None unstated):
    the kernel choice by build is what these tests read, and llama-bench ran -fa 0 by default until 2026-05-30."""
    with kernel_path.at_build(build), kernel_path.fa_stated(fa):
        return kernel_path.fa_tile_flops(_rocm(name), head, RULES, gqa)


def test_rdna4_prompt_attention_runs_the_tile_kernel_before_pr_18481_and_for_mha_models_after():
    """fattn.cu ggml_cuda_get_best_fattn_kernel: no AMD GPU ran MMA_F16 FA before llama/18481 (2026-01-13, RDNA 4 only,
    and only with gqa_opt_applies: an even query-per-KV-head ratio), so a December-2025 R9700 prompt runs the tile
    kernel on the vector lanes; Llama 2 7B (32 query / 32 KV heads) still does at today's build."""
    lanes = kernel_path.vector_lanes(_rocm("radeon ai pro r9700")) * kernel_path.gpu_clock_hz(_rocm("radeon ai pro r9700"))
    assert _tile("radeon ai pro r9700", 128, 4, "2025-12-17") == pytest.approx(lanes * 1.1)
    assert _tile("radeon ai pro r9700", 128, 4, "2026-01-13") is None
    assert _tile("radeon ai pro r9700", 128, 1, None) == pytest.approx(lanes * 1.1)
    assert _tile("radeon ai pro r9700", 256, 8, None) is not None  # wider than 128: tile at every build (session 17)


def test_rdna3_and_cdna_get_mma_fa_at_their_own_builds():
    """RDNA 3 / 3.5 join RDNA 4's MMA FA with llama/22880 (2026-05-14); CDNA's MFMA FA arrives with llama/19806
    (2026-02-28) for heads up to 128 (256 excluded) and takes 256 from llama/22880."""
    assert _tile("rx 7900 xtx", 128, 4, "2026-03") is not None
    assert _tile("rx 7900 xtx", 128, 4, "2026-05-14") is None
    assert _tile("instinct mi100", 128, 4, "2026-01") is not None
    # CDNA's MMA kernel is chosen (fa_mma_rule) but priced at the tile kernel's rate (`rate: tile`, session 22)
    for build, head, gqa, mma in (("2026-01", 128, 4, False), ("2026-03", 128, 1, True),  # MFMA: no even-ratio test
                                  ("2026-03", 256, 8, False), ("2026-06", 256, 8, True)):
        with kernel_path.at_build(build), kernel_path.fa_stated(True):
            assert (kernel_path.fa_mma_rule("CDNA 1.0", head, gqa, RULES) is not None) is mma
    assert _tile("rx 6800", 128, 4, None) is not None  # RDNA 2: no matrix FA at any build


def test_before_the_fa_auto_default_only_wide_heads_take_the_tile_rate():
    """A build before llama-bench's flash-attention-auto default (PR #23714, 2026-05-30) runs fa 0 unless told: KQ and
    KQV are matmuls, the rate session 17 left them; only a head wider than 128 on RDNA takes the tile rate there. The
    same at a 2026-03 build between llama-server's default (2025-08-30) and llama-bench's."""
    for build in ("2025-07", "2026-03"):
        assert _tile("radeon ai pro r9700", 128, 4, build, None) is None
        assert _tile("radeon ai pro r9700", 256, 2, build, None) is not None
        assert _tile("instinct mi100", 256, 2, build, None) is None
    assert _tile("instinct mi100", 256, 2, "2026-06", None) is not None  # after it: MFMA FA, tile-priced wide heads


def test_r9700_prompt_time_grows_with_depth_at_the_tile_rate():
    """The December-2025 R9700 rows (kyuz0, build 7423): the prompt time a token adds from 16384 to 32768 tokens of
    depth is the attention FLOPs over the tile kernel's rate (measured: 0.757 ms a token for Llama 2 7B, 8.6 GFLOP)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import fit_speed

    rows = {r.test: r for r in fit_speed.published_rows() if r.backend == "rocm" and r.model_id == "llama2:7b"
            and r.test.startswith("pp2048@d") and r.hardware == "radeon ai pro r9700"}
    slope = 1 / fit_speed.predict(rows["pp2048@d32768"]) - 1 / fit_speed.predict(rows["pp2048@d16384"])
    d = _rocm("radeon ai pro r9700")
    flops = 4 * 32 * 128 * 16384 * 32  # 4 x heads x head size x depth x layers
    assert slope == pytest.approx(flops / (kernel_path.vector_lanes(d) * kernel_path.gpu_clock_hz(d) * 1.1), rel=0.02)
    measured = 1 / rows["pp2048@d32768"].measured - 1 / rows["pp2048@d16384"].measured
    assert slope == pytest.approx(measured, rel=0.2)


def test_float_weights_pay_tile_traffic_only_beyond_their_gemm():
    """hipBLAS(Lt) streams a BF16 matrix's tiles while it multiplies: the traffic adds only what exceeds the GEMM's
    compute (roofline), where MMQ pays its traffic in series. The R9700 (644 GB/s, 191 TFLOPS) sits near the ridge."""
    d = _rocm("radeon ai pro r9700")
    bf16 = token_work(get_model("ministral-3:8b"), get_quant("BF16")).layer_matrices
    traffic = kernel_path.traffic_seconds(d, bf16, RULES, 512)
    n = sum(m[1] for mats in bf16 for m in mats)
    assert traffic > 0
    assert kernel_path.float_traffic_excess(d, bf16, RULES, 512, traffic / n / 2) == pytest.approx(traffic / 2)
    assert kernel_path.float_traffic_excess(d, bf16, RULES, 512, 2 * traffic / n) == 0.0
    q4 = token_work(get_model("llama3.1:8b"), get_quant("Q4_0")).layer_matrices
    assert kernel_path.float_traffic_excess(d, q4, RULES, 512, 0.0) == 0.0  # no float matrix
