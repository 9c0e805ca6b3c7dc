"""Session 29 (vtp29): the matrices vLLM keeps whole on every tensor-parallel rank weigh in full on each GPU's memory
(estimate/vllm_weights.py tp_whole / per_gpu_bytes), the same rule the step time reads them by (serving/step.py)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate import vllm as V
from selfhost_advisor.estimate import vllm_weights as VW
from selfhost_advisor.estimate.serving import step as S

FP8, BF16 = V.get_vllm_quant("FP8"), V.get_vllm_quant("BF16")
R1 = get("deepseek-r1:671b-0528")


def _clear() -> None:
    for f in (VW.vllm_weights, S.step_parts):
        f.cache_clear()


def test_a_replicated_matrix_is_whole_on_every_gpu():
    """DeepSeek-R1 (config: hidden 7,168, q_lora_rank 1,536, kv_lora_rank + rope 576, 61 layers, 58 of them MoE with
    256 routed experts): fused_qkv_a_proj (disable_tp=True) in FP8, about a byte a weight, and the router gate,
    16-bit, are whole on each of 8 GPUs, so each carries 7/8 of them more than an eighth of the model."""
    w = V.vllm_weights(R1, FP8)
    whole = 61 * 7168 * (1536 + 576) * 1 + 58 * 7168 * 256 * 2
    assert w.per_gpu(8) - w.total / 8 == pytest.approx(whole * 7 / 8, rel=0.01)
    assert w.per_gpu(1) == w.total


def test_a_split_model_is_divided_evenly():
    q32 = get("qwen3:32b")  # no replicated matrix: QKV / MLP split, 8 KV heads over at most 8 ranks
    w = V.vllm_weights(q32, BF16)
    assert sum(w.whole) == 0
    assert w.per_gpu(2) == -(-w.total // 2)
    assert VW.per_gpu_bytes(1000, 200, 4) == 200 + 200
    assert VW.per_gpu_bytes(1001, 0, 2) == 501


def test_the_kv_pool_and_the_step_take_the_same_replicated_bytes(monkeypatch):
    """8 x H200 at TP 8: against the same model with every matrix split (the rule before session 29), each GPU's KV
    pool shrinks by exactly the weight bytes the rule adds, and the step time's dense bytes grow by as much."""
    machine = machine_from_profile(find_profile("h200"), 8)
    req = FitRequest(32768, "vllm", tensor_parallel=8)
    _clear()
    pool = V.plan(R1, FP8, machine, req).pool_bytes_per_gpu
    step_bytes = S.step_parts(R1, FP8, 8)[0]
    w = V.vllm_weights(R1, FP8).per_gpu(8)
    monkeypatch.setattr(VW, "_replicated_suffixes", lambda: ())
    _clear()
    try:
        split_pool = V.plan(R1, FP8, machine, req).pool_bytes_per_gpu
        split_step = S.step_parts(R1, FP8, 8)[0]
        split_w = V.vllm_weights(R1, FP8).per_gpu(8)
    finally:
        monkeypatch.undo()
        _clear()
    added = w - split_w
    assert added > 0.9 * 2**30  # about 0.93 GiB a GPU in FP8
    assert pool == split_pool - added
    assert step_bytes - split_step == added
