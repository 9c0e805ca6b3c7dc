"""The host sort of a CUDA MMQ MUL_MAT_ID before PR #15525 (estimate/moe_host_sort.py; docs/methodology.md 5c-s26b)."""
from __future__ import annotations

import random

import pytest

from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.moe_host_sort import loop_iterations, seconds_per_microbatch
from selfhost_advisor.estimate.speed import _speed_data


def _device(name: str):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile

    return machine_from_profile(hw_names.resolve(name), 1).devices[0]


def _model_work(model_id: str, quant: str):
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed import token_work

    return get(model_id), token_work(get(model_id), get_quant(quant))


def _host_loop(ids: list[list[int]], n_expert: int) -> int:
    """ggml 06034b3c^ mmq.cu, the ids branch of ggml_cuda_mul_mat_q, counting the innermost iterations."""
    steps = 0
    for i02 in range(n_expert):
        for row in ids:
            for expert in row:
                steps += 1
                if expert == i02:
                    break
    return steps


@pytest.mark.parametrize(("n_expert", "n_used", "n_tokens"), [(32, 4, 64), (128, 4, 32), (64, 6, 48), (128, 8, 16)])
def test_loop_iterations_are_the_mean_of_the_c_loop_over_random_routings(n_expert, n_used, n_tokens):
    rng = random.Random(11)
    trials = 40
    total = sum(_host_loop([rng.sample(range(n_expert), n_used) for _ in range(n_tokens)], n_expert)
                for _ in range(trials))
    assert total / trials == pytest.approx(loop_iterations(n_tokens, n_expert, n_used), rel=0.02)


def test_iteration_time_is_what_pr_15525_s_own_pair_leaves_at_ub_128_and_256():
    """The base (2025-08-22) and PR (2025-08-25) columns of PR #15525's RTX 3090 DeepSeek-V2-Lite table pick the same
    128-wide tile at -ub 128 and 256; their difference per MUL_MAT_ID (26 MoE layers x 3), less the two copies, over
    the loop's iterations is the data's iteration time (the mean of the two readings)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import moe_accuracy

    rule = _speed_data()["moe_host_sort"]
    rows = [r for r in moe_accuracy.published_rows() if r["model"] == "deepseek-v2:16b" and r["hardware"] == "rtx 3090"]
    base = {int(r["n_ubatch"]): r["tokens_per_s"] for r in rows if r.get("s14")}
    pr = {int(r["n_ubatch"]): r["tokens_per_s"] for r in rows if r.get("s16")}
    per_iteration = []
    for ub in (128, 256):
        per_call = (1 / base[ub] - 1 / pr[ub]) * ub / (26 * 3) - rule["round_trips"] * rule["copy_s"]
        per_iteration.append(per_call / loop_iterations(ub, 64, 6))
    assert rule["iteration_s"] == pytest.approx(sum(per_iteration) / 2, rel=0.01)
    assert max(per_iteration) / min(per_iteration) < 1.1  # the two readings agree


def test_only_the_builds_between_pr_13199_and_pr_15525_pay_it():
    model, work = _model_work("gpt-oss:20b", "MXFP4_MOE")
    gpu = _device("rtx 5090")
    with at_build("2025-08-19"):
        got = seconds_per_microbatch(model, work, gpu, 2048)
    rule = _speed_data()["moe_host_sort"]
    # gpt-oss-20b: 24 MoE layers of three MUL_MAT_ID (gate, up, down), 32 experts, 4 used
    assert got == pytest.approx(24 * 3 * (2 * rule["copy_s"] + rule["iteration_s"] * 2048 * (10 + 28 * 4)), rel=1e-9)
    for date in ("2025-08-25", "2025-04-29", None):
        with at_build(date):
            assert seconds_per_microbatch(model, work, gpu, 2048) == 0.0


def test_one_token_float_experts_cublas_and_rocm_take_other_paths():
    model, work = _model_work("gpt-oss:20b", "MXFP4_MOE")
    with at_build("2025-08-12"):
        assert seconds_per_microbatch(model, work, _device("rtx 5090"), 1) == 0.0  # ne2 == 1: MMVQ, ids on the device
        assert seconds_per_microbatch(model, work, _device("tesla v100 pcie 16gb"), 4096) == 0.0  # Volta >= 64: cuBLAS
        assert seconds_per_microbatch(model, work, _device("tesla v100 pcie 16gb"), 32) > 0.0  # below: MMQ (dp4a)
        assert seconds_per_microbatch(model, work, _device("rx 7900 xtx"), 512) == 0.0  # HIP: not priced
        f16_model, f16_work = _model_work("qwen3:30b-a3b", "F16")
        assert seconds_per_microbatch(f16_model, f16_work, _device("rtx 4090"), 512) == 0.0  # generic path


def test_a_dated_prompt_slows_by_the_sort_and_decode_does_not():
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate.speed import estimate_speed

    model, work = _model_work("gpt-oss:120b", "MXFP4_MOE")
    machine = machine_from_profile(hw_names.resolve("rtx pro 6000 blackwell"), 1)
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    speeds = {}
    for date in ("2025-08-19", "2025-08-25"):
        with at_build(date):
            speeds[date] = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, n_ubatch=2048)
    before, after = speeds["2025-08-19"], speeds["2025-08-25"]
    with at_build("2025-08-19"):
        sort = seconds_per_microbatch(model, work, machine.devices[0], 2048) / 2048
    assert 1 / before.prefill_tokens_per_s - 1 / after.prefill_tokens_per_s == pytest.approx(sort, rel=1e-6)
    assert before.decode_tokens_per_s == after.decode_tokens_per_s
