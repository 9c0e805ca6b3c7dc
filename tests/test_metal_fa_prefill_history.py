"""Metal prompt attention by build (estimate/metal_path.py fa_prefill_time_scale, data/speed.yaml
metal_fa_prefill_history, docs/methodology.md 5e-metal9): llama.cpp PR #15857 (2025-09-20) rewrote
kernel_flash_attn_ext; a build before it that ran flash attention spends its table's ratio more on a prompt's attention."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import kernel_path, metal_path
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated
from selfhost_advisor.estimate.speed import estimate_speed

ROOT = Path(__file__).resolve().parents[1]

# ggerganov's table in llama.cpp PR #15857 (master, gg/metal-refactor t/s), pp512 at each depth
PR15857 = {
    "gemma3 12B Q8_0": {0: (807.32, 838.85), 1024: (725.71, 797.56), 2048: (705.75, 784.87),
                        8192: (617.82, 730.08), 32768: (407.97, 573.20)},
    "gemma3 4B Q8_0": {0: (2473.10, 2641.20), 1024: (2164.10, 2478.27), 2048: (2095.75, 2414.46),
                       8192: (1790.75, 2219.47)},
}


def _device(hw: str):
    return machine_from_profile(get_profile(hw), 1).devices[0]


def _prefill_s(hw: str, model: str, depth: int) -> float:
    m = get(model)
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    sp = estimate_speed(m, get_quant("MXFP4_MOE" if model.startswith("gpt-oss") else "Q8_0"), pl,
                        machine_from_profile(get_profile(hw), 1), prefill_depth=depth, n_ubatch=2048)
    return 1.0 / sp.prefill_tokens_per_s


def _change() -> dict:
    return next(c for c in load("speed")["metal_fa_prefill_history"]["history"] if c["pr"] == 15857)


def test_pr15857s_speedup_is_the_median_attention_time_ratio_of_its_table():
    # the depth adds only attention to a prompt's time: (1/t(d) - 1/t(0)) on master over the same on the PR
    ratios = []
    for rows in PR15857.values():
        old0, new0 = rows[0]
        ratios += [(1 / old - 1 / old0) / (1 / new - 1 / new0) for d, (old, new) in rows.items() if d]
    assert _change()["speedup"] == pytest.approx(statistics.median(ratios), abs=5e-4)
    assert _change()["from"] == "2025-09-20"


@pytest.mark.parametrize("date, stated, want", [
    ("2025-08-09", True, 2.174),    # discussion #15396's gpt-oss rows: -fa 1 before it was the default
    ("2025-08-09", None, 1.0),      # the default then was -fa 0: mul_mm / soft_max, another kernel
    ("2025-09-01", None, 1.0),      # llama-bench's own -fa 0 default (until PR #23714, 2026-05-30)
    ("2025-09-01", True, 2.174),    # a row that states -fa 1, before the rewrite
    ("2025-09-01", False, 1.0),     # a row that states -fa 0
    ("2025-09-20", True, 1.0), ("9999", None, 1.0),
])
def test_the_old_kernel_costs_the_ratio_only_where_the_build_ran_flash_attention(date, stated, want):
    with at_build(date), fa_stated(stated):
        assert metal_path.fa_prefill_time_scale(_device("m2-ultra-192gb")) == pytest.approx(want)
        assert metal_path.fa_prefill_time_scale(_device("rtx 4090")) == 1.0


def test_a_llama_server_build_between_the_two_defaults_ran_the_old_kernel():
    """llama-server / llama-cli took -fa auto from PR #15434 (2025-08-30; kernel_path.served): a 2025-09-01 server build
    ran the pre-rewrite kernel unless it stated -fa 0."""
    from selfhost_advisor.estimate.kernel_path import served

    with served(), at_build("2025-09-01"):
        assert metal_path.fa_prefill_time_scale(_device("m2-ultra-192gb")) == pytest.approx(2.174)
        with fa_stated(False):
            assert metal_path.fa_prefill_time_scale(_device("m2-ultra-192gb")) == 1.0


def test_a_stated_fa_overrides_the_builds_default_and_none_keeps_it():
    with at_build("2025-08-09"):
        assert not kernel_path.flash_attn_on()
        with fa_stated(True):
            assert kernel_path.flash_attn_on()
        with fa_stated(None):
            assert not kernel_path.flash_attn_on()
    with at_build("2026-01-01"), fa_stated(False):
        assert not kernel_path.flash_attn_on()


def test_an_old_build_pays_the_ratio_on_the_attention_the_depth_adds_and_nothing_on_the_rest():
    # gpt-oss-20b on an M2 Ultra, the same build date before and after the rewrite's merge (the matmul kernel's own
    # change, metal_prefill_history, is the same on both sides of a depth difference)
    def added(date):
        with at_build(date), fa_stated(True):
            return _prefill_s("m2-ultra-192gb", "gpt-oss:20b", 16384) - _prefill_s("m2-ultra-192gb", "gpt-oss:20b", 0)

    assert added("2025-09-19") / added("2025-09-20") == pytest.approx(_change()["speedup"], rel=1e-6)
    with at_build("2025-09-20"), fa_stated(True):
        at_new = _prefill_s("m2-ultra-192gb", "gpt-oss:20b", 1024)
    with at_build("2025-09-19"), fa_stated(True):
        at_old = _prefill_s("m2-ultra-192gb", "gpt-oss:20b", 1024)
    assert 1.0 < at_old / at_new < 1.15  # a short prompt's attention is a small share of its time


def test_the_published_gpt_oss_metal_rows_state_fa_and_read_it():
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    rows = [r for r in fit_speed.published_rows(ROOT / "benchmarks" / "published" / "unseen_s26_weak.yaml")
            if r.backend == "metal" and r.model_id.startswith("gpt-oss")]
    assert len(rows) == 16 and all(r.fa is True for r in rows)
    assert all(r.build_date < _change()["from"] for r in rows)
