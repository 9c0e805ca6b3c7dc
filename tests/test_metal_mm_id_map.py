"""Metal MoE prefill in builds between PR #13388 and PR #15541: kernel_mul_mm_id_map0's serial id walk per MUL_MAT_ID
(estimate/metal_path.py mm_id_map_seconds; data/speed.yaml metal_mm_id_map; docs/methodology.md 5c-s19-metal5)."""
from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import yaml

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import kernel_path, metal_path
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_work import token_work

MOE = Path(__file__).resolve().parents[1] / "benchmarks" / "published" / "llamabench_moe.yaml"
RULE = load("speed")["metal_mm_id_map"]


def _machine(hw: str = "m2-ultra-192gb"):
    return machine_from_profile(get_profile(hw), 1)


def _walk(model: str, n_tokens: int, date: str | None, hw: str = "m2-ultra-192gb") -> float:
    m = get(model)
    work = token_work(m, get_quant("Q8_0"))
    with kernel_path.at_build(date):
        return metal_path.mm_id_map_seconds(m, work.layer_expert_matrices, n_tokens, _machine(hw).devices[0])


def _prefill(model: str, quant: str, date: str | None) -> float:
    m = get(model)
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    # run without flash attention at every date: llama-bench's -fa default changed in between (PR #15434), and the
    # flash-attention kernel's own rewrite is metal_fa_prefill_history's (tests/test_metal_fa_prefill_history.py)
    with kernel_path.at_build(date), kernel_path.fa_stated(False):
        return estimate_speed(m, get_quant(quant), pl, _machine(), n_ubatch=512).prefill_tokens_per_s


def test_the_walk_costs_used_experts_x_three_matmuls_x_moe_layers_per_token():
    """Qwen3-30B-A3B: 48 MoE layers x 3 MUL_MAT_ID x 8 used; DeepSeek-V2-Lite: 26 (the first layer is dense) x 3 x 6;
    the expert count (128 / 64) does not enter: every expert's threadgroup walks the same ids side by side."""
    slot = float(RULE["slot_seconds"])
    assert _walk("qwen3:30b-a3b", 512, "2025-06") == pytest.approx(48 * 3 * 8 * slot)
    assert _walk("deepseek-v2:16b", 512, "2025-06") == pytest.approx(26 * 3 * 6 * slot)
    # Gemma 4 26B-A4B: one ffn_gate_up_exps tensor, so 2 MUL_MAT_ID a layer (tensors.fused_gate_up_experts) x 30 x 8
    g4 = get("gemma4:26b")
    moe_layers = sum(1 for i in range(g4.n_layers) if g4.is_moe_layer(i))
    assert _walk("gemma4:26b", 512, "2025-06") == pytest.approx(moe_layers * 2 * g4.moe.active * slot)


@pytest.mark.parametrize("date, n_tokens", [
    ("2025-08-26", 512),  # PR #15541 merged: the parallel id gathering
    (None, 512),          # the newest build
    ("2025-05-07", 512),  # before PR #13388: another kernel, not modelled here
    ("2025-06", 31),      # under 32 tokens the mat-vec kernel runs
])
def test_no_walk_outside_the_map0_builds_or_below_the_mat_mat_threshold(date, n_tokens):
    assert _walk("qwen3:30b-a3b", n_tokens, date) == 0.0


def test_dense_models_and_other_backends_pay_nothing():
    assert _walk("llama3.1:8b", 512, "2025-06") == 0.0
    assert _walk("qwen3:30b-a3b", 512, "2025-06", hw="rtx 4090") == 0.0


def test_prefill_of_a_map0_build_is_slower_by_exactly_the_walk():
    """End to end: 1/t(2025-06) - 1/t(2025-09-19) is the walk's seconds per token (nothing else in the model is dated
    between these builds for an M2 Ultra MoE prefill; PR #15857's kernel_mul_mm speedup, metal_prefill_history, comes
    the next day)."""
    old, new = _prefill("qwen3:30b-a3b", "Q8_0", "2025-06"), _prefill("qwen3:30b-a3b", "Q8_0", "2025-09-19")
    assert old < new
    assert 1 / old - 1 / new == pytest.approx(48 * 3 * 8 * float(RULE["slot_seconds"]), rel=1e-6)


def test_slot_seconds_is_the_median_of_pr_15541s_own_pairs():
    """The constant is read off the published master / PR pairs (M2 Ultra, DeepSeek-V2-Lite), not off our model: the
    per-token time each pair loses, over 26 MoE layers x 3 MUL_MAT_ID x 6 used; the pairs agree within 5%, the shape
    of a cost linear in the prompt (pp512 to pp2048)."""
    rows = [r for r in yaml.safe_load(MOE.read_text())["rows"]
            if r.get("s18m") and r["backend"] == "metal" and r["model"] == "deepseek-v2:16b"]
    master = {(r["quant"], r["test"]): r["tokens_per_s"] for r in rows if str(r["date"]) < RULE["until"]}
    pr = {(r["quant"], r["test"]): r["tokens_per_s"] for r in rows if str(r["date"]) >= RULE["until"]}
    assert len(master) == len(pr) == 5 and master.keys() == pr.keys()
    slots = [(1 / master[k] - 1 / pr[k]) / (26 * 3 * 6) for k in master]
    assert max(slots) / min(slots) < 1.06
    assert statistics.median(slots) == pytest.approx(float(RULE["slot_seconds"]), rel=0.01)
