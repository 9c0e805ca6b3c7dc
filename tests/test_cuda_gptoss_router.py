"""gpt-oss's router on ggml-cuda by build: ARGSORT, GET_ROWS and SOFT_MAX as three kernels a decoded layer until the
delayed-softmax topk_moe kernel fused them in real gpt-oss graphs (llama.cpp PR #16649, fixed by PR #16821,
2025-10-29); estimate/cuda_router.py, data/speed.yaml cuda_gptoss_router; docs/methodology.md
5f-gptoss30."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.estimate import cuda_router
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated

from cudakit import cuda_machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _tg(name: str, model: str, quant: str, build: str | None) -> float:
    import moe_accuracy

    with at_build(build), fa_stated(True):
        return moe_accuracy.predict(model, quant, "tg128", cuda_machine(name), 2048)


def _rule() -> dict:
    return load("speed")["cuda_gptoss_router"]


def test_the_figure_is_the_prs_own_table_per_layer():
    """PR #16649's table (RTX 4090, gpt-oss-20b, 24 layers): (1/master - 1/PR) / 24, averaged over its three tests."""
    table = [(170.99, 177.68), (168.75, 175.36), (167.01, 173.33)]
    per_layer = [(1 / a - 1 / b) / 24 for a, b in table]
    assert _rule()["layer_s"] == pytest.approx(sum(per_layer) / 3, rel=0.01)
    assert str(_rule()["since"]) == "2025-10-29"  # PR #16821: the merged fusion fired in real gpt-oss graphs only then


def test_an_older_build_decodes_gpt_oss_slower_by_the_routers_time():
    layers = 24  # gpt-oss-20b
    before = _tg("rtx 4090", "gpt-oss:20b", "MXFP4_MOE", "2025-10-18")
    after = _tg("rtx 4090", "gpt-oss:20b", "MXFP4_MOE", "2025-10-29")
    assert before < after
    assert 1 / before - 1 / after == pytest.approx(layers * _rule()["layer_s"], rel=0.02)


def test_todays_build_and_later_builds_are_unchanged():
    today = _tg("rtx 5090", "gpt-oss:20b", "MXFP4_MOE", None)
    with cuda_router.seconds_as(1.0):  # an absurd figure: read only before the date
        assert _tg("rtx 5090", "gpt-oss:20b", "MXFP4_MOE", None) == today
        assert _tg("rtx 5090", "gpt-oss:20b", "MXFP4_MOE", "2026-03-01") == \
            _tg("rtx 5090", "gpt-oss:20b", "MXFP4_MOE", "2025-10-29")


def test_other_moe_models_do_not_pay_it():
    """Qwen3's router (softmax first, then top-k) is another fusion (PR #16130), not this one."""
    with cuda_router.seconds_as(1.0):
        old = _tg("rtx 4090", "qwen3:30b-a3b", "Q4_K_M", "2025-10-18")
    assert old == _tg("rtx 4090", "qwen3:30b-a3b", "Q4_K_M", "2025-10-18")


@pytest.mark.parametrize("name, pays", [
    ("rtx 4090", True), ("rtx pro 6000 blackwell", True), ("tesla v100 pcie 16gb", True), ("tesla t4", True),
    ("tesla p40", False),  # Pascal: priced per graph node (cuda_pascal), not by this term
])
def test_which_gpus_pay_it(name, pays):
    from selfhost_advisor.catalog.models import get as get_model

    d, model = cuda_machine(name).devices[0], get_model("gpt-oss:20b")
    with at_build("2025-08-19"):
        assert (cuda_router.gptoss_router_seconds(model, d) > 0) is pays
    with at_build(str(_rule()["since"])):
        assert cuda_router.gptoss_router_seconds(model, d) == 0.0
