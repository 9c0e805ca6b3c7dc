"""Session 22 (rocm9; docs/methodology.md 5f-rocm22): CDNA's MMA flash attention at the tile kernel's rate, and the
tile kernel's lane-rate time kept out of the ROCm prompt-efficiency fits."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import kernel_path
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
RULES = _speed_data()["rocm_prefill_path"]


def _rocm(name: str):
    return replace(machine_from_profile(hw_names.resolve(name), 1).devices[0], backend="rocm")


def _tile(name: str, head: int, gqa: int, build: str) -> float | None:
    """The tile FA rate at `build` for a run that states -fa 1 (the rows these tests read do: PR #19806's "MFMA FA"
    column and its MI100 comment; llama-bench ran -fa 0 by default until 2026-05-30)."""
    with kernel_path.at_build(build), kernel_path.fa_stated(True):
        return kernel_path.fa_tile_flops(_rocm(name), head, RULES, gqa)


def test_cdna_mma_flash_attention_runs_at_the_tile_kernels_rate():
    """ggml d46f044f (llama/19806) chose CDNA's MFMA kernel where its author measured it 4-11% ahead of the tile kernel
    on an MI300X at 32768 tokens of depth, so from that build a CDNA prompt's attention keeps the tile rate (vector
    lanes x clock x the lane rate) instead of the MFMA matmuls' path scale (2x too fast on the MI100 row of the PR);
    RDNA's WMMA kernel is still priced at the matmuls' scale."""
    for gpu in ("instinct mi100", "instinct mi300x"):
        before, after = _tile(gpu, 128, 4, "2026-01"), _tile(gpu, 128, 4, "2026-03")
        assert before is not None and after == pytest.approx(before)
    assert _tile("rx 7900 xtx", 128, 4, "2026-06") is None
    with kernel_path.tile_fa_off():  # the fits' split: the tile kernel's attention free, RDNA's MMA kernel unchanged
        assert _tile("instinct mi100", 128, 4, "2026-03") == float("inf")
        assert _tile("radeon ai pro r9700", 128, 1, "2026-06") == float("inf")
        assert _tile("rx 7900 xtx", 128, 4, "2026-06") is None


def _published(hardware: str, test: str, build: str):
    import fit_speed

    rows = [r for r in fit_speed.published_rows() if r.hardware == hardware and r.test == test
            and r.build_date == build]
    assert len(rows) == 1
    return rows[0]


def test_the_fits_take_tile_attention_as_known_time():
    """A fitted efficiency scales the matmuls' time, not the tile kernel's lane-rate attention: fit_speed takes that
    attention out of each ROCm prompt row's unit-efficiency time (as _vulkan_fa_seconds does for Vulkan), so the MI100
    Llama 3.2 1B pp512 @ d32768 row's known time is its attention FLOPs over the tile rate (16 layers x 32 heads x 4 x
    64 x ~33k cells a token), and a decode row has none."""
    import fit_speed

    row = _published("instinct mi100", "pp512@d32768", "2026-02-28")
    flops = 16 * 32 * 4 * 64 * row.depth
    rate = _tile("instinct mi100", 64, 4, "2026-02-28")
    assert fit_speed._rocm_fa_seconds(row) == pytest.approx(flops / rate, rel=0.01)
    assert fit_speed._rocm_fa_seconds(_published("instinct mi300x", "tg128", "2026-02-28")) == 0.0


def test_pr_19806s_mi100_pair_reads_the_same_rate_before_and_after_the_pr():
    """Both columns of PR #19806's MI100 table run prompt attention at one rate in the model (the tile kernel's), so the
    two predictions agree; before session 22 the PR's column read 2.6x the master column's."""
    import fit_speed

    before = fit_speed.predict(_published("instinct mi100", "pp512@d32768", "2026-02-22"))
    after = fit_speed.predict(_published("instinct mi100", "pp512@d32768", "2026-02-28"))
    assert after == pytest.approx(before, rel=0.02)
