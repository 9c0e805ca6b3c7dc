"""MXFP4 prompts on compute capability 12.x by build: the int8 MMA path before llama.cpp PR #17906 (2025-12-24), the
FP4 MMA after it (estimate/cuda_path.py mxfp4_mmq_scale, data/speed.yaml cuda_mxfp4_native; docs/methodology.md 5c-s29c)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.domain import GpuDetails
from selfhost_advisor.estimate import cuda_path
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated
from selfhost_advisor.record import replace

from cudakit import cuda_machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))


def _pp(name: str, model: str, quant: str, test: str, build: str | None, ubatch: int = 2048) -> float:
    import moe_accuracy

    with at_build(build), fa_stated(True):
        return moe_accuracy.predict(model, quant, test, cuda_machine(name), ubatch)


def _tg(name: str, build: str | None) -> float:
    import moe_accuracy

    with at_build(build), fa_stated(True):
        return moe_accuracy.predict("gpt-oss:20b", "MXFP4_MOE", "tg128", cuda_machine(name), 2048)


@pytest.mark.parametrize("name, native", [
    # blackwell_mma_available(cc): highest compiled arch >= 1200 and below Rubin
    ("rtx 5090", True), ("rtx 5060 ti 16gb", True), ("rtx 5080", True), ("rtx pro 6000 blackwell", True),
    ("dgx spark", True),
    # cc 10.x (B200), Hopper, Ada, Ampere: not
    ("b200", False), ("h200", False), ("rtx 4090", False), ("rtx 4080 super", False), ("rtx 3090", False),
])
def test_the_native_fp4_path_is_compute_capability_12(name, native):
    assert cuda_path.native_fp4_device(cuda_machine(name).devices[0]) is native


def test_a_probed_compute_capability_decides_over_the_profile():
    d = cuda_machine("rtx 4090").devices[0]
    assert cuda_path.native_fp4_device(replace(d, details=GpuDetails(compute_capability="12.0")))
    assert not cuda_path.native_fp4_device(replace(cuda_machine("rtx 5090").devices[0],
                                                   details=GpuDetails(compute_capability="10.0")))


def test_the_scale_applies_only_before_the_pr_and_only_on_cc_12():
    d5090, d4090 = cuda_machine("rtx 5090").devices[0], cuda_machine("rtx 4090").devices[0]
    since = str(load("speed")["cuda_mxfp4_native"]["since"])
    assert since == "2025-12-24"  # ggml f1f97081, the sync of llama.cpp #17906
    with at_build("2025-08-19"):
        assert cuda_path.mxfp4_mmq_scale(d5090) > 1.0
        assert cuda_path.mxfp4_mmq_scale(d4090) == 1.0
    for build in (since, "2026-03-01", None):  # from the PR on, and today's build (what `fit` prices)
        with at_build(build):
            assert cuda_path.mxfp4_mmq_scale(d5090) == 1.0


def _without(fn):
    """`fn()` with the scale at 1: the same build's other dated terms (the host sort, the fusions) kept."""
    with cuda_path.mxfp4_scale_as(1.0):
        return fn()


def test_an_old_build_prices_gpt_oss_prompts_slower_on_blackwell_only():
    """The RTX 5090 at a 2025-08 build pays the int8 path; the RTX 4080 SUPER (Ada) does not; decode (MMVQ, which the
    PR left alone) and a model without MXFP4 weights do not move."""
    old = "2025-08-19"
    def pp(name, model="gpt-oss:20b", quant="MXFP4_MOE"):
        return _pp(name, model, quant, "pp2048", old)
    assert pp("rtx 5090") < 0.9 * _without(lambda: pp("rtx 5090"))
    assert pp("rtx 4080 super") == pytest.approx(_without(lambda: pp("rtx 4080 super")), rel=1e-9)
    assert _tg("rtx 5090", old) == pytest.approx(_without(lambda: _tg("rtx 5090", old)), rel=1e-9)
    assert pp("rtx 5090", "qwen3:30b-a3b", "Q4_K_M") == pytest.approx(
        _without(lambda: pp("rtx 5090", "qwen3:30b-a3b", "Q4_K_M")), rel=1e-9)


def test_the_gap_narrows_with_the_prompts_attention():
    """Only the MXFP4 matmuls change, so a long prompt (attention-heavy) gains less, as the PR's own DGX Spark table
    reads (x1.29 at pp512 down to x0.99 at pp16384)."""
    def ratio(test):
        def run():
            return _pp("rtx 5090", "gpt-oss:20b", "MXFP4_MOE", test, "2025-08-19")
        return _without(run) / run()
    assert 1.0 < ratio("pp32768") < ratio("pp2048")


# PR #17906's own RTX PRO 6000 Blackwell table (am17an, 2025-12-10; master c6f6e4f96 vs the PR, -ub 512, gpt-oss-20b)
_PR_ROWS = [("pp512", 10560.64, 13304.80), ("pp2048", 10801.35, 13715.10)]


def test_the_shipped_scale_is_the_one_the_prs_table_gives():
    """k = 1 + (R - 1) x T_after / T_mx: R the PR's measured speedup, T_after its time per token, T_mx the model's
    MXFP4 MMQ time at that shape (the prompt time at k = 2 less that at k = 1, before the PR's date)."""
    ks = []
    for test, before, after in _PR_ROWS:
        t1 = 1.0 / _pp("rtx pro 6000 blackwell", "gpt-oss:20b", "MXFP4_MOE", test, "2025-12-24", 512)
        with cuda_path.mxfp4_scale_as(2.0):
            t2 = 1.0 / _pp("rtx pro 6000 blackwell", "gpt-oss:20b", "MXFP4_MOE", test, "2025-12-23", 512)
        t_mx = t2 - t1
        assert 0 < t_mx < 1.0 / after  # a share of the measured token
        ks.append(1.0 + (after / before - 1.0) * (1.0 / after) / t_mx)
    assert float(load("speed")["cuda_mxfp4_native"]["scale"]) == pytest.approx(sum(ks) / len(ks), abs=0.01)
