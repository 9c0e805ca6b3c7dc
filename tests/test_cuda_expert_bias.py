"""gpt-oss's expert biases on a ggml-cuda device: an ADD_ID kernel after each prompt MUL_MAT_ID
(estimate/speed_terms.cuda_expert_bias_seconds; docs/methodology.md 5c-s27)."""
from __future__ import annotations

import pytest

from selfhost_advisor.estimate.speed_terms import cuda_expert_bias_seconds


def _machine(name: str):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile

    return machine_from_profile(hw_names.resolve(name), 1)


def _experts(model_id: str, quant: str):
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed_work import token_work

    return token_work(get(model_id), get_quant(quant), "f16").layer_expert_matrices


def test_each_routed_row_is_read_and_written_in_f32_in_every_multi_token_batch():
    """build_moe_ffn adds gate, up and down biases with ggml_add_id; ggml-cuda fuses ADD_ID only into a mat-vec kernel
    that writes one token (ggml-cuda.cu ggml_cuda_should_fuse_mul_mat_vec_q, ggml-org/ggml d99724f), so the 2..8 token
    MMVQ batches of PR #18958 pay the pass as MMQ's do."""
    oss = _experts("gpt-oss:20b", "MXFP4_MOE")
    bw = 1.0e12
    # gpt-oss-20b: 24 MoE layers, 4 routed rows a token of 2880 (gate), 2880 (up) and 2880 (down) F32 values, each
    # value read once and written once
    per_token = 24 * 4 * (2880 + 2880 + 2880) * 4 * 2 / bw
    assert cuda_expert_bias_seconds(oss, 2048, bw) == pytest.approx(per_token)
    assert cuda_expert_bias_seconds(oss, 2, bw) == pytest.approx(per_token)  # MMVQ for 2..8 tokens: unfused
    assert cuda_expert_bias_seconds(oss, 1, bw) == 0.0  # one token: the mat-vec kernel adds the bias
    assert cuda_expert_bias_seconds(_experts("qwen3:30b-a3b", "Q4_K_M"), 2048, bw) == 0.0  # no expert biases
    assert cuda_expert_bias_seconds(oss, 2048, None) == 0.0  # no bandwidth figure: nothing to charge


def test_a_gpt_oss_prompt_slows_by_the_bias_passes_and_decode_does_not():
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate import speed_prefill
    from selfhost_advisor.estimate.speed import estimate_speed
    from selfhost_advisor.estimate.speed_factors import efficiency

    model = get("gpt-oss:20b")
    machine = _machine("rtx 4090")
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with_bias = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, n_ubatch=2048)
    original = speed_prefill.cuda_expert_bias_seconds
    speed_prefill.cuda_expert_bias_seconds = lambda *a, **k: 0.0
    try:
        without = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, n_ubatch=2048)
    finally:
        speed_prefill.cuda_expert_bias_seconds = original
    d = machine.devices[0]
    bw = efficiency("cuda").bandwidth * d.bandwidth_bytes_per_s
    expected = cuda_expert_bias_seconds(_experts("gpt-oss:20b", "MXFP4_MOE"), 2048, bw)
    assert expected > 0.0
    assert 1 / with_bias.prefill_tokens_per_s - 1 / without.prefill_tokens_per_s == pytest.approx(expected, rel=1e-6)
    assert with_bias.decode_tokens_per_s == without.decode_tokens_per_s


def test_other_backends_do_not_pay_the_cuda_term():
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate import speed_prefill
    from selfhost_advisor.estimate.speed import estimate_speed

    model = get("gpt-oss:20b")
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    calls = []
    original = speed_prefill.cuda_expert_bias_seconds
    speed_prefill.cuda_expert_bias_seconds = lambda *a, **k: calls.append(a) or 0.0
    try:
        estimate_speed(model, get_quant("MXFP4_MOE"), place, _machine("m4 max 128gb"), n_ubatch=2048)
    finally:
        speed_prefill.cuda_expert_bias_seconds = original
    assert calls == []
