"""Laws of MoE expert offload (llama.cpp --n-cpu-moe, estimate/moe_offload.py)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant, listed_quants
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.fit import evaluate
from selfhost_advisor.estimate.memory import estimate_memory, weights

GB = 10**9


def _quant(name: str):
    return next(q for q in listed_quants() if q.name == name)


def _machine(spec: str, ram_gb: int = 128):
    p, c, link = parse_spec(spec)
    return machine_from_profile(p, c, ram_gb * GB, link)


def test_expert_bytes_are_the_routed_expert_tensors_only():
    m, q = get("qwen3:30b"), _quant("Q4_K_M")
    w = weights(m, q)
    assert all(0 < e < lb for e, lb in zip(w.layer_expert_bytes, w.layer_bytes))  # attention etc. are not experts
    # a token reads 8 of 128 experts
    assert all(abs(r / e - 8 / 128) < 1e-3 for r, e in zip(w.layer_expert_read_bytes, w.layer_expert_bytes))
    assert sum(weights(get("qwen3:8b"), q).layer_expert_bytes) == 0


@pytest.mark.parametrize("n", [1, 8, 24, 48])
def test_expert_offload_never_puts_more_on_gpu_than_full_offload(n):
    m, q = get("qwen3:30b"), _quant("Q4_K_M")
    big = _machine("h100-sxm")
    full = evaluate(m, big, FitRequest(context=8192, n_cpu_moe=0), q).placement
    moe = evaluate(m, big, FitRequest(context=8192, n_cpu_moe=n), q).placement
    assert full.fit == "gpu" and moe.cpu_moe_layers == n
    assert moe.gpu_bytes < full.gpu_bytes
    assert moe.gpu_bytes + sum(weights(m, q).layer_expert_bytes[:n]) == full.gpu_bytes


def test_more_experts_in_ram_never_more_gpu_memory_never_faster_decode():
    m, q, mach = get("qwen3:30b"), _quant("Q4_K_M"), _machine("rtx-4090")
    opts = [evaluate(m, mach, FitRequest(context=8192, n_cpu_moe=n), q) for n in range(0, 49, 6)]
    gpu = [o.placement.gpu_bytes for o in opts[1:]]
    assert gpu == sorted(gpu, reverse=True)
    dec = [o.speed.decode_tokens_per_s for o in opts[1:] if o.placement.fit == "partial"]
    assert len(dec) >= 3 and dec == sorted(dec, reverse=True)


def test_auto_offers_expert_offload_when_it_beats_layer_offload():
    # Qwen3-30B-A3B Q8_0 (32 GB) on a 12 GB card: layer offload leaves ~2/3 of the layers (attention + KV reads
    # included) on the CPU; expert offload keeps attention and KV on the GPU and reads 8/128 of the experts from RAM.
    m, q, mach = get("qwen3:30b"), _quant("Q8_0"), _machine("rtx-3060-12gb", 64)
    plain = evaluate(m, mach, FitRequest(context=8192, n_cpu_moe=0), q)
    auto = evaluate(m, mach, FitRequest(context=8192), q)
    assert plain.placement.fit == "partial" and plain.placement.cpu_moe_layers == 0
    assert auto.placement.fit == "partial" and auto.placement.cpu_moe_layers > 0
    assert auto.placement.gpu_layers == auto.placement.total_layers
    assert auto.speed.decode_tokens_per_s > plain.speed.decode_tokens_per_s
    # the smallest N whose GPU part fits: one layer fewer does not fit
    fewer = evaluate(m, mach, FitRequest(context=8192, n_cpu_moe=auto.placement.cpu_moe_layers - 1), q)
    assert fewer.placement.fit == "no"


def test_auto_leaves_a_model_that_fits_on_gpu_alone():
    m, q = get("qwen3:30b"), _quant("Q4_K_M")
    o = evaluate(m, _machine("h100-sxm"), FitRequest(context=8192), q)
    assert o.placement.fit == "gpu" and o.placement.cpu_moe_layers == 0


def test_expert_offload_needs_the_ram_for_the_experts():
    m, q = get("qwen3:30b"), _quant("Q8_0")
    o = evaluate(m, _machine("rtx-3060-12gb", 16), FitRequest(context=8192, n_cpu_moe=40), q)
    assert o.placement.fit == "no" and o.placement.missing_bytes > 0


def test_gpt_oss_120b_all_experts_in_ram_matches_published_decode():
    # gpt-oss-120b, llama-server --n-cpu-moe 36 -ngl 999 -fa, i9-14900K (dual-channel DDR5, the default host of
    # data/speed.yaml): "eval time ... 25.62 tokens per second" (https://gokawiil.com/article/74814, a repost of
    # a r/LocalLLaMA thread, 2025-08). Decode is then bound by the experts' reads from RAM.
    m = get("gpt-oss:120b")
    q = _quant("MXFP4") if any(x.name == "MXFP4" for x in listed_quants()) else _quant("Q4_K_M")
    o = evaluate(m, _machine("rtx-4090", 128), FitRequest(context=16384, n_cpu_moe=36), q)
    assert o.placement.fit == "partial"
    assert abs(o.speed.decode_tokens_per_s / 25.62 - 1) < 0.25
    mem = estimate_memory(m, q, FitRequest(context=16384))
    assert o.placement.gpu_bytes < 0.1 * mem.total_bytes


# --- session 15 (moe4): what a prompt micro-batch moves for the experts kept in RAM (docs/methodology.md 5c-s15)

def test_offloaded_prefill_copies_only_the_experts_the_micro_batch_uses():
    """ggml_backend_sched_compute_splits copies only the used experts: gpt-oss-120b (128 experts, 4 used) at -ub 32
    touches 1 - (124/128)^32 = 64% of them, at -ub 512 all but a trillionth."""
    from selfhost_advisor.estimate.moe_batch import prefill_expert_seconds

    model = get("gpt-oss:120b")
    exps = weights(model, get_quant("MXFP4_MOE")).layer_expert_bytes[:10]
    link, ram = 25e9, 80e9
    whole = sum(exps)
    assert prefill_expert_seconds(model, exps, 32, link, ram) == pytest.approx(
        (1 - (124 / 128) ** 32) * whole / 32 / link)
    assert prefill_expert_seconds(model, exps, 512, link, ram) == pytest.approx(whole / 512 / link, rel=1e-6)
    assert prefill_expert_seconds(get("llama3.1:8b"), exps, 512, link, ram) == 0.0  # dense: no experts


def test_below_the_offload_batch_the_cpu_streams_the_used_experts_from_ram():
    """Under 32 tokens ggml-cuda declines the op (get_op_batch_size < op_offload_min_batch_size): no copy; the CPU
    reads each used expert once per micro-batch at the RAM rate."""
    from selfhost_advisor.estimate.moe_batch import prefill_expert_seconds

    model = get("qwen3:30b-a3b")
    exps = weights(model, _quant("Q4_K_M")).layer_expert_bytes[:20]
    link, ram = 25e9, 80e9
    got = prefill_expert_seconds(model, exps, 16, link, ram)
    assert got == pytest.approx((1 - (120 / 128) ** 16) * sum(exps) / 16 / ram)
    assert got != pytest.approx((1 - (120 / 128) ** 16) * sum(exps) / 16 / link)


def test_a_bigger_offloaded_micro_batch_never_copies_more_per_token():
    """touched_share(u) / u falls as u grows (each extra token reuses experts already copied), so the copy per prompt
    token never rises with -ub once the experts are offloaded (32 tokens and up)."""
    from hypothesis import given, settings, strategies as st

    from selfhost_advisor.estimate.moe_batch import prefill_expert_seconds

    model = get("qwen3:30b-a3b")
    exps = weights(model, get_quant("Q4_K_M")).layer_expert_bytes[:8]

    @settings(max_examples=60, deadline=None)
    @given(st.integers(min_value=32, max_value=4096), st.integers(min_value=1, max_value=512))
    def law(u, extra):
        assert prefill_expert_seconds(model, exps, u + extra, 25e9, 80e9) <= prefill_expert_seconds(
            model, exps, u, 25e9, 80e9) * (1 + 1e-12)

    law()
