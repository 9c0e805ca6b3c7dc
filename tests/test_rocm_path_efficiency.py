"""Session 12 (docs/methodology.md 5b-rocm2): CDNA 4's kernel path by build, and one ROCm prefill efficiency per
kernel path (estimate/kernel_path.path_name; scripts/fit_speed.py _fit_rocm_paths), never per GPU."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import (_device_flops, _speed_data, efficiency, rocm_compute_scale,
                                             rocm_path_scale, token_work)
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
CAL = ROOT.parent / "shared" / "calibration"
needs_cal = pytest.mark.skipif(not (CAL / "llamacpp_speed.csv").exists(), reason="shared/calibration not present")
RULES = _speed_data()["rocm_prefill_path"]


def _rocm(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="rocm")


def _name(arch: str, ty: str, build: str | None = None) -> str:
    with kernel_path.at_build(build):
        return kernel_path.path_name(arch, ty, RULES)


def test_cdna4_takes_the_cdna12_branch_since_pr_21570():
    """llama.cpp PR #21570 (2026-04-09) narrowed GGML_CUDA_CC_IS_CDNA3 to `cc < GGML_CUDA_CC_CDNA4`: gfx950 runs MFMA MMQ
    for Q4_0/Q4_1/Q5_0/Q5_1 only and hipBLAS for the K-quants at 512 tokens (CDNA 3 runs MMQ for every type)."""
    assert _name("CDNA 4.0", "Q4_K") == "blas" and _name("CDNA 4.0", "Q6_K") == "blas"
    assert _name("CDNA 4.0", "Q4_0") == "mmq_mfma" and _name("CDNA 4.0", "Q5_1") == "mmq_mfma"
    assert _name("CDNA 3.0", "Q4_K") == "mmq_mfma"
    assert _name("CDNA 4.0", "Q4_K", "2026-04-09") == "blas"


def test_path_names_follow_the_build():
    """Each path of path_history: CDNA on hipBLAS between PRs #11831 and #14624, MFMA MMQ after; RDNA 3 on hipBLAS until
    PR #17576, WMMA MMQ after; RDNA 2 MMQ on the dp4a lanes; float weights on hipBLAS everywhere."""
    assert _name("CDNA 3.0", "Q4_0", "2025-05") == "blas" and _name("CDNA 3.0", "Q4_0", "2025-08") == "mmq_mfma"
    assert _name("RDNA 3.0", "Q4_0", "2025-11") == "blas" and _name("RDNA 3.0", "Q4_0", "2025-12-05") == "mmq_wmma"
    assert _name("RDNA 2.0", "Q4_K") == "mmq_dp4a" and _name("RDNA 3.0", "F16") == "blas"


def test_path_scales_split_the_path_scale_by_path():
    """The per-path factors sum to the one kernel_path.path_scale (the estimator's factor with one efficiency)."""
    layers = token_work(get_model("llama3.1:8b"), get_quant("Q4_K_M")).layer_matrices
    for name, paths in (("instinct mi300x", {"mmq_mfma"}), ("instinct mi100", {"blas"}), ("rx 6800", {"mmq_dp4a"}),
                        ("radeon ai pro r9700", {"mmq_wmma"})):
        d = _rocm(name)
        scales = kernel_path.path_scales(d, layers, _device_flops(d), RULES, lambda ty: None)
        assert set(scales) == paths, name
        assert sum(scales.values()) == pytest.approx(kernel_path.path_scale(d, layers, _device_flops(d), RULES,
                                                                             lambda ty: None))


def test_the_mfma_efficiency_applies_to_cdna_mmq_only():
    """data/speed.yaml rocm_path_efficiency: CDNA's MMQ on MFMA at its own (lower) efficiency; a hipBLAS type on the same
    GPU (MI100 Q8_0) and RDNA's WMMA MMQ keep the family's, so their factor is rocm_path_scale / c exactly."""
    eff = efficiency("rocm")
    own = dict(eff.rocm_paths)
    c = eff.compute_quant
    assert 0 < own["mmq_mfma"] < c
    for name, quant, mine in (("instinct mi300x", "Q4_0", True), ("instinct mi210", "Q4_0", True),
                              ("instinct mi100", "Q8_0", False), ("radeon ai pro r9700", "Q4_K_M", False)):
        d = _rocm(name)
        layers = token_work(get_model("llama3.1:8b"), get_quant(quant)).layer_matrices
        flops = _device_flops(d, True)
        base = rocm_path_scale(d, layers, flops) / c
        got = rocm_compute_scale(d, layers, flops, c, eff)
        assert got == pytest.approx(base * (c / own["mmq_mfma"] if mine else 1.0), rel=1e-6), name


@needs_cal
def test_the_path_efficiency_is_fitted_on_the_path_not_a_gpu_and_absent_without_its_rows():
    """_fit_rocm_paths: the MFMA efficiency comes from the rows in the fit that ran MMQ on MFMA at their build (the
    MI100's Q4_0, 2026-07; the MI300X and MI210 rows are blind); a fit without those rows (leave-one-hardware-out
    without the MI100) has no path efficiency, so every CDNA GPU then takes the family's."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    rows = [r for r in fit_speed.fit_rows() if fit_speed.family(r.backend) == "rocm"]
    fam = fit_speed.fit_families(rows, ("rocm",))["rocm"]
    assert set(fam["rocm_path_efficiency"]) == {"mmq_mfma"}
    assert fam["rocm_path_gpus"]["mmq_mfma"] == ["radeon-instinct-mi100"] and fam["rocm_path_rows"]["mmq_mfma"] == 1
    assert fam["rocm_path_efficiency"]["mmq_mfma"] < fam["compute_efficiency_quant"]
    without = fit_speed.fit_families([r for r in rows if r.gpu != "radeon-instinct-mi100"], ("rocm",))["rocm"]
    assert "rocm_path_efficiency" not in without


def test_gfx942_had_no_dot4_before_pr_12177():
    """ggml_cuda_dp4a compiled v_dot4 for gfx906/908/90a and RDNA 2/3 only; gfx942 (CDNA 3) took the generic C
    fallback until ggml c03f1a5e (llama.cpp PR #12177, 2025-03-11): its dp4a lanes do 8 int8 ops in no_dot4_lane_ops
    (6) instructions, so a 2024-10 MI300X prompt row on dp4a MMQ runs at a sixth of the lane peak; RDNA 3 and CDNA 2
    keep 8 throughout, and the latest build is untouched."""
    ops = RULES["dp4a_ops_per_lane_per_clock"]
    with kernel_path.at_build("2024-10"):
        assert kernel_path.lane_int8_ops("CDNA 3.0", RULES) == pytest.approx(ops / 6)
        assert kernel_path.lane_int8_ops("CDNA 2.0", RULES) == ops
        assert kernel_path.lane_int8_ops("RDNA 3.0", RULES) == ops
    for date in ("2025-03-11", "2025-08", None):
        with kernel_path.at_build(date):
            assert kernel_path.lane_int8_ops("CDNA 3.0", RULES) == ops
    mi300x = _rocm("instinct mi300x")
    fp16 = _device_flops(mi300x)
    with kernel_path.at_build("2024-10"):
        slow = kernel_path.int8_peak(mi300x, "CDNA 3.0", fp16, RULES, matrix=False)
    with kernel_path.at_build("2025-03-11"):
        fast = kernel_path.int8_peak(mi300x, "CDNA 3.0", fp16, RULES, matrix=False)
    assert 4.0 < fast / slow < 6.0  # the epilogue's share of the lanes is the same in both


@needs_cal
def test_the_2024_mi300x_prompt_row_reads_within_30_percent():
    """lhl's MI300X llama.cpp d5cb8684 (2024-10) Llama-2-7B Q4_0 pp512, 1334 t/s (held out, GPU in no fit): +429%
    before session 18 (dp4a MMQ at the v_dot4 rate gfx942 did not have), +24% with the fallback's rate."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    rows = [r for r in fit_speed.published_rows() if r.backend == "rocm" and r.build_date == "2024-10"
            and r.kind == fit_speed.PROMPT and "MI300X" in r.hardware]
    assert len(rows) == 1
    assert abs(fit_speed.predict(rows[0]) / rows[0].measured - 1) < 0.30
