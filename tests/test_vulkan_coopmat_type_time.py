"""The coopmat1 prompt matmul's time per Q8_0 weight on AMD, from a kernel timing (estimate/vulkan_amd.py
coopmat_type_time; data/speed.yaml vulkan_amd.coopmat_type_time; docs/methodology.md 5b-vkamd13)."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import vulkan_amd as va
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.record import replace

# llama.cpp PR #27952 (0cc4m, 2026-08-29), RDNA 4 table, "vk-master" column: test-backend-ops MUL_MAT perf geomean in
# microseconds of the coopmat1 matmul on master, q4_0 1146 and q8_0 1324.
PR27952_Q4_0_US, PR27952_Q8_0_US = 1146, 1324
ROOT = Path(__file__).resolve().parents[1]


def _vk(name: str, driver: str = "radv"):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver)


def _coopmat(d, ty: str, date: str) -> float:
    """Unit-efficiency seconds of the coopmat1 matmul (coopMatMulAdd plus the per-tile work) of 1e9 weights of `ty`."""
    nbytes = {"Q4_0": 0.5625e9, "Q8_0": 1.0625e9}[ty]
    with vp.as_of_build(date):
        got = vp.path_seconds(d, (((ty, 1e9, nbytes),),), d.fp16_flops)
    return sum(s for p, s in got.items() if p in ("coopmat_mma", "tile_legacy"))


@pytest.mark.parametrize("name", ["ryzen ai max+ 395 128gb", "rx 7900 xtx", "rx 9070 xt"])
@pytest.mark.parametrize("date", ["2025-12-20", "2026-01-11", "2026-06-10", ""])
def test_q8_0_takes_the_measured_kernel_ratio_over_q4_0_on_amd_coopmat(name, date):
    """Both legacy types take the fitted tile_legacy rate; on RDNA 3 / 3.5 / 4 with KHR coopmat the Q8_0 kernel is
    timed at the PR's measured 1324 / 1146 of Q4_0's, at either tile (BN 64 before PR #18749, 128 after)."""
    d = _vk(name)
    ratio = _coopmat(d, "Q8_0", date) / _coopmat(d, "Q4_0", date)
    assert ratio == pytest.approx(PR27952_Q8_0_US / PR27952_Q4_0_US, rel=1e-3)


def test_no_ratio_before_the_dequantizers_of_llama_12015_nor_off_amd():
    """Before ggml a55b828f (llama/12015, 2025-02-28) every quantized type was dequantized 2 weights a call: no
    measured ratio holds. NVIDIA's coopmat1 (an RTX 3090 forced to it, PR #12135: Q8_0 3145 vs Q4_0 3154 t/s) keeps
    one rate for both types, as Intel."""
    d = _vk("ryzen ai max+ 395 128gb")
    assert _coopmat(d, "Q8_0", "2025-01-15") == pytest.approx(_coopmat(d, "Q4_0", "2025-01-15"))
    assert va.coopmat_type_time(_vk("rtx 3090"), "Q8_0", "") == 1.0
    assert va.coopmat_type_time(_vk("arc b580"), "Q8_0", "") == 1.0


def test_only_q8_0_and_only_the_coopmat_path():
    """The K-quants, Q4_1 and Q5_x are left at their class rate (their dequantizers changed between the scored builds
    and the table's master); the Radeon Pro VII's integer-dot MMQ and an RDNA 2 card's shader path are other kernels."""
    d = _vk("ryzen ai max+ 395 128gb")
    for ty in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q6_K", "Q3_K"):
        assert va.coopmat_type_time(d, ty, "") == 1.0, ty
    for name in ("radeon pro vii", "rx 6800 xt"):
        g = _vk(name)
        layers = ((("Q8_0", 1e9, 1.0625e9),),)
        with vp.as_of_build("2026-06-19"):
            got = vp.path_seconds(g, layers, g.fp16_flops)
            q4 = vp.path_seconds(g, ((("Q4_0", 1e9, 0.5625e9),),), g.fp16_flops)
        assert "coopmat_mma" not in got and sum(got.values()) == pytest.approx(sum(q4.values())), name


@lru_cache(maxsize=None)
def _amd_rows() -> tuple[dict, ...]:
    for sub in ("benchmarks", "scripts"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import vulkan_heldout

    return tuple(vulkan_heldout.vendor_report("amd"))


def test_the_q8_0_coopmat_rows_move_by_the_ratio_and_stay_fast():
    """docs/methodology.md 5b-vkamd13: every AMD Q8_0 prompt row on the coopmat path is a Radeon 8060S row, blind under
    main 8fbcf69 at PR #18749 (0cc4m) pp512 +122.6% (BN 64) / +98.4% (BN 128), @ d8192 +43.6 / +26.6%; lhl's Qwen3-32B
    +113.1%; visorcraft's Llama 3.2 3B +68.1 / +74.7%; the Beelink's Qwen3.6-27B +7.3%. With the measured ratio each
    |error| is smaller: +93.6 / +72.9 / +34.2 / +20.2, +84.6, +45.8 / +51.6, -4.9%. Most stay fast: the ratio is the
    kernel's, the boxes' levels (PR #18749's Q4_0 rows +46..+68%) are not in it. 5c-fa32: all but the Beelink's state no
    -fa and ran llama-bench's -fa 0 default (until 2026-05-30), their scores through memory: +91.9 / +70.6 / +61.6 /
    +51.8, +79.6, +34.9 / +40.3, -4.9% (the d8192 pair no longer takes the FA lane rate it was measured on)."""
    q8 = sorted(r["error_pct"] for r in _amd_rows() if r["kind"] == "prefill" and r["quant"] == "Q8_0"
                and r["path"] == "coopmat_dequant")
    assert q8 == pytest.approx(sorted([91.9, 70.6, 61.6, 51.8, 79.6, 34.9, 40.3, -4.9]), abs=1.0)


# The same table's vk-master column: mxfp4 1326, iq4_nl 1304 (session 29, docs/methodology.md 5c-s29v).
PR27952_MXFP4_US, PR27952_IQ4_NL_US = 1326, 1304


@pytest.mark.parametrize("ty, us, bpw", [("MXFP4", PR27952_MXFP4_US, 4.25), ("IQ4_NL", PR27952_IQ4_NL_US, 4.5)])
@pytest.mark.parametrize("name", ["ryzen ai max+ 395 128gb", "rx 9070 xt"])
def test_mxfp4_and_iq4_nl_are_legacy_blocks_at_their_measured_kernel_ratio(ty, us, bpw, name):
    """A 32-weight block with one scale, 4 weights a call through a 16-entry table (mul_mm_funcs.glsl): the legacy
    tile class, timed at the PR's measured kernel over Q4_0's on AMD coopmat."""
    d = _vk(name)
    with vp.as_of_build("2026-05-16"):
        got = vp.path_seconds(d, (((ty, 1e9, bpw / 8 * 1e9),),), d.fp16_flops)
    assert set(got) == {"coopmat_mma", "tile_legacy"}
    assert sum(got.values()) / _coopmat(d, "Q4_0", "2026-05-16") == pytest.approx(us / PR27952_Q4_0_US, rel=1e-3)


def test_mxfp4_off_amd_takes_the_legacy_class_rate_unscaled():
    d = _vk("rtx 2080 ti", "")  # Turing: KHR coopmat, the per-tile split, no AMD kernel ratio
    with vp.as_of_build("2026-05-16"):
        mx = vp.path_seconds(d, ((("MXFP4", 1e9, 0.53e9),),), d.fp16_flops)
        q4 = vp.path_seconds(d, ((("Q4_0", 1e9, 0.5625e9),),), d.fp16_flops)
    assert set(mx) == set(q4) == {"coopmat_mma", "tile_legacy"}
    assert mx == pytest.approx(q4)
