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


def test_slot_reads_count_each_slot_s_distinct_experts():
    """mul_mat_vec_q_moe: one block column per expert slot, one warp per token. A simulated balanced routing (each
    token's n_used distinct experts in random slot order) counts the distinct (slot, expert) pairs; its mean is the
    formula's, and it lies between MMQ's touched share and u x n_used / n_expert."""
    import random

    from selfhost_advisor.estimate.moe_batch import slot_read_share, touched_share

    rng = random.Random(7)
    for n_expert, n_used, u in ((128, 8, 8), (32, 4, 8), (32, 4, 4), (64, 6, 3)):
        trials = 4000
        pairs = 0
        for _ in range(trials):
            slots = [set() for _ in range(n_used)]
            for _ in range(u):
                for s, e in enumerate(rng.sample(range(n_expert), n_used)):
                    slots[s].add(e)
            pairs += sum(len(s) for s in slots)
        got = slot_read_share(u, n_expert, n_used)
        assert pairs / trials / n_expert == pytest.approx(got, rel=0.02)
        assert touched_share(u, n_expert, n_used) < got <= u * n_used / n_expert
    assert slot_read_share(1, 128, 8) == pytest.approx(8 / 128)


def _device(name: str):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile

    return machine_from_profile(hw_names.resolve(name), 1).devices[0]


def _work(model_id: str, quant: str):
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed import token_work

    return token_work(get(model_id), get_quant(quant))


def test_mmvq_ids_path_follows_the_build_the_type_and_the_architecture():
    from selfhost_advisor.estimate.moe_batch import mmvq_ids_path

    oss, qwen = _work("gpt-oss:20b", "MXFP4_MOE"), _work("qwen3:30b-a3b", "Q4_0")
    ampere, ada = _device("rtx 3090"), _device("rtx 4090")
    assert mmvq_ids_path(qwen, ampere, 8) and mmvq_ids_path(qwen, ada, 8)
    assert not mmvq_ids_path(qwen, ampere, 9) and not mmvq_ids_path(qwen, ampere, 1)
    assert mmvq_ids_path(oss, ampere, 7) and not mmvq_ids_path(oss, ampere, 8)  # MXFP4 on Turing / Ampere: 7
    assert mmvq_ids_path(oss, ada, 8)  # Ada and later: always up to 8
    with at_build("2026-01-20"):  # before PR #18958: MMQ
        assert not mmvq_ids_path(qwen, ada, 4)
    assert not mmvq_ids_path(qwen, _device("rx 7900 xtx"), 4)  # ROCm limits not applied


def test_pascal_tiles_stop_at_64_tokens():
    """mmq.cuh get_mmq_x_max_host: 64 without tensor-core MMA before Volta (mmq-config-pascal.cuh J 8..64): a
    128-token micro-batch of Qwen3-30B-A3B gets J = 64 on a P40, J = 128 on an RTX 3090."""
    from selfhost_advisor.estimate.moe_tiles import tile_width

    rule = _speed_data()["moe_tiles"]["cuda"]
    pascal, ampere = resolve(rule, _device("tesla p40")), resolve(rule, _device("rtx 3090"))
    assert tile_width(128, tuple(pascal["widths"])) == 64
    assert tile_width(128, tuple(ampere["widths"])) == 128
    assert padding(128, 128, 8, pascal) < padding(128, 128, 8, ampere)
