"""CUDA's MoE tile rule at older llama.cpp builds (data/speed.yaml moe_tiles.cuda history; docs/methodology.md 5c-s16)."""
from __future__ import annotations

import pytest

from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.moe_backends import resolve
from selfhost_advisor.estimate.moe_tiles import padding
from selfhost_advisor.estimate.speed import _speed_data


def _cuda_rule() -> dict:
    return resolve(_speed_data()["moe_tiles"]["cuda"], None)


def test_newest_build_runs_mmvq_up_to_8_tokens_and_picks_the_width_against_the_micro_batch():
    rule = _cuda_rule()
    assert rule["min_tokens"] == 9 and rule["choose_against"] == "batch" and "history" not in rule


@pytest.mark.parametrize(("date", "min_tokens", "against"), [
    ("2026-02-03", 9, "batch"),       # PR #18958 in: MMVQ with ids for 2-8 tokens
    ("2026-01-15", 2, "batch"),       # before it: every 2+ token MUL_MAT_ID went to MMQ
    ("2025-08-25", 2, "batch"),       # PR #15525 in: width against the micro-batch's tokens
    ("2025-08-22", 2, "pairs"),       # before it: against all token-expert pairs
])
def test_a_row_date_picks_the_rule_of_its_build(date, min_tokens, against):
    with at_build(date):
        rule = _cuda_rule()
    assert (rule["min_tokens"], rule["choose_against"]) == (min_tokens, against)


def test_pairs_rule_pads_a_16_token_micro_batch_with_whole_96_wide_tiles():
    """DeepSeek-V2-Lite (64 experts, 6 used), 16 tokens: 96 pairs -> mmq_x 96; an expert gets at most 16 tokens, so
    each touched expert runs one 96-wide tile: padding = 64 x P(t >= 1) x 96 / 96. Against the 16 tokens (after PR
    #15525) the tile is 16 wide: 64 x P(t >= 1) x 16 / 96."""
    touched = 1 - (1 - 6 / 64) ** 16
    with at_build("2025-08-22"):
        old = padding(16, 64, 6, _cuda_rule())
    with at_build("2025-08-25"):
        new = padding(16, 64, 6, _cuda_rule())
    assert old == pytest.approx(64 * touched, rel=1e-6)
    assert new == pytest.approx(64 * touched * 16 / 96, rel=1e-6)


def test_deepseek_base_rows_of_pr_15525_within_15_percent_at_ub_16_to_64():
    """The held-out base column of PR #15525 (RTX 3090, before the merge): 1.9-2.9x over with the newest rule,
    within 15% with the build's own (benchmarks/moe_accuracy.py)."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "benchmarks"))
    sys.path.insert(0, str(root / "scripts"))
    import moe_accuracy

    rows = [r for r in moe_accuracy.published_rows() if r["model"] == "deepseek-v2:16b" and r.get("s14")
            and int(r["n_ubatch"]) in (16, 32, 64)]
    assert len(rows) == 3
    for r in rows:
        with at_build(r["date"]):
            p = moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"], int(r["n_ubatch"]))
        assert abs(p / r["tokens_per_s"] - 1) < 0.15, r["n_ubatch"]
