"""The Strix Halo rows of benchmarks/published/llamabench_moe.yaml (kyuz0's toolbox logs, session 11) run the ggml
paths of their own build, not today's (session 31, halo31; docs/methodology.md 5f-halo31).

Why: moe_accuracy hands a row's `date` to vulkan_path.as_of_build (Vulkan) and kernel_path.at_build (CUDA / HIP); a row
without one runs the newest paths. The build-6735 rows (2025-10) had none, so their Vulkan prompt ran PR #18749's large
tiles (2026-01-11) and their dense ROCm prompt the WMMA MMQ of PR #17576 (2025-12-05), neither of which that build had.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
MOE = ROOT / "benchmarks" / "published" / "llamabench_moe.yaml"


def _rows():
    d = yaml.safe_load(MOE.read_text())
    return d["rows"] if isinstance(d, dict) else d


def test_every_numbered_strix_halo_build_row_names_a_date_and_one_build_one_date():
    by_build: dict[str, set] = {}
    for r in _rows():
        # kyuz0's toolbox rows (s11) and the EVO-X2 blog's build-5882 rows; issue #22375's b8460 row stays undated
        # (no date stated, and every day of 2026-03 gives it today's paths)
        if r["hardware"] != "ryzen ai max+ 395 128gb" or not (r.get("s11") or "(5882)" in str(r.get("build"))):
            continue
        build = str(r.get("build"))
        assert re.search(r"\(\d+\)", build), r
        assert r.get("date"), f"undated s11 row runs today's paths: {r['backend']} {r['model']} {build}"
        by_build.setdefault(build, set()).add(str(r["date"]))
    assert by_build and all(len(d) == 1 for d in by_build.values()), by_build
    # the builds are in date order
    ordered = sorted(by_build, key=lambda b: int(re.search(r"\((\d+)\)", b).group(1)))
    dates = [next(iter(by_build[b])) for b in ordered]
    assert dates == sorted(dates)


def test_the_october_2025_vulkan_prompt_runs_the_small_tiles_of_its_build():
    """Llama-2-7B Q4_0 pp512 under RADV: build 6735 (2025-10) and 7423 (2025-12) predate PR #18749's large tiles on
    AMD (2026-01-11), 8743 (2026-04) has them; so the model must give 6735 the 7423 path, not 8743's. The 6735 log
    ran -fa 0 and the 7423 / 8743 logs -fa 1 (their notes; fit_speed.row_fa): at one stated flag the 6735 date gives
    the 7423 prediction, and each row is scored at its own flag."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import moe_accuracy
    from selfhost_advisor.estimate.kernel_path import fa_stated
    from selfhost_advisor.estimate.vulkan_path import as_of_build

    pp = {r["measured"]: r for r in moe_accuracy.rows()
          if r["hardware"] == "ryzen ai max+ 395 128gb" and r["backend"] == "vulkan" and r["model"] == "llama2:7b"
          and r["test"] == "pp512"}
    oct25, dec25, apr26 = pp[1005.9], pp[1135.49], pp[1311.79]
    machine = next(r["machine"] for r in moe_accuracy.published_rows()
                   if r["hardware"] == "ryzen ai max+ 395 128gb" and r["backend"] == "vulkan")

    def at(date: str, fa: bool) -> float:
        with as_of_build(date), fa_stated(fa):
            return moe_accuracy.predict("llama2:7b", "Q4_0", "pp512", machine, 512)

    assert at("2025-10-10", True) == pytest.approx(dec25["predicted"], rel=1e-9)
    assert at("2025-10-10", False) == pytest.approx(oct25["predicted"], rel=1e-9)
    assert at("2025-10-10", False) != at("2025-10-10", True)  # the stated flag is read
    assert apr26["predicted"] > 1.3 * dec25["predicted"]  # the large tiles' gain the model gives 2026 builds
    assert abs(oct25["error_pct"]) < 20


def test_the_october_2025_rocm_dense_prompt_runs_hipblas_not_the_wmma_mmq():
    """ROCm build 6735 predates RDNA 3.5's WMMA MMQ (PR #17576, 2025-12-05): its Q4_0 prompt is dequantization plus a
    hipBLAS GEMM, which the model prices below the MMQ of build 7423 (rocm_heldout's hipBLAS-build rows, 5f-rocm20)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import moe_accuracy

    pp = {r["measured"]: r for r in moe_accuracy.rows()
          if r["hardware"] == "ryzen ai max+ 395 128gb" and r["backend"] == "rocm" and r["model"] == "llama2:7b"
          and r["test"] == "pp512" and r["group"].startswith("dense held out (s11)")}
    assert pp[987.11]["predicted"] < pp[1529.76]["predicted"]
