"""gpt-oss's released MXFP4 experts as a vLLM format (data/engines.yaml vllm_formats MXFP4, estimate/vllm_weights.py;
docs/methodology.md 6c 'gpt-oss rows and the MXFP4 format')."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.errors import AdvisorError
from selfhost_advisor.estimate.serving import ServeWorkload, serve
from selfhost_advisor.estimate.vllm import get_vllm_quant, vllm_quants, vllm_quants_for, vllm_weights


def test_gpt_oss_20b_weights_by_hand():
    # config.json: 24 layers, hidden 2880, 32 experts of width 2880 (gate, up, down), vocab 201088, untied, q 64 x 64.
    # Experts: 24 x 3 x 2880 x 2880 x 32 = 19,110,297,600 weights at 17 bytes per 32 (16 of nibbles + 1 E8M0 scale)
    # = 10,152,345,600 B. Everything else bf16: per layer q/k/v/o 2880x4096 + 2 x 2880x512 + 4096x2880 = 26,542,080,
    # their biases 8,000, sinks 64, two norms 5,760, router 92,160 + 32, expert biases 3 x 2880 x 32 = 276,480:
    # 26,924,576 x 24 = 646,189,824; embedding and LM head 2 x 2880 x 201088; final norm 2880.
    experts = 24 * 3 * 2880 * 2880 * 32 * 17 // 32
    bf16 = 2 * (26_924_576 * 24 + 2 * 2880 * 201088 + 2880)
    assert experts == 10_152_345_600
    assert vllm_weights(get("gpt-oss:20b"), get_vllm_quant("MXFP4")).total == experts + bf16 == 13_761_264_768


def test_mxfp4_is_gpt_oss_only_and_its_default():
    assert "MXFP4" not in {q.name for q in vllm_quants()}  # no general format: nothing else is offered it
    assert [q.name for q in vllm_quants_for(get("gpt-oss:120b"))] == ["MXFP4"]
    assert "MXFP4" not in {q.name for q in vllm_quants_for(get("llama3.1:8b"))}
    machine = machine_from_profile(get_profile("h100-sxm"), 1)
    rep = serve(get("gpt-oss:120b"), machine, ServeWorkload(1000, 200), concurrency=(1,))
    assert rep.fits and rep.quant == "MXFP4"  # 65 GB of weights: one 80 GB H100, as OpenAI ships it
    with pytest.raises(AdvisorError, match="no MXFP4 checkpoint"):
        serve(get("llama3.1:8b"), machine, ServeWorkload(1000, 200), quant="MXFP4", concurrency=(1,))


def test_mxfp4_experts_read_fewer_bytes_and_compute_at_the_16_bit_rate():
    """A decode step of gpt-oss-20b reads its touched experts at 4.25 bits (fewer bytes than FP8's 8), and its GEMMs run
    at the 16-bit rate (W4A16: BF16 activations), so a compute-bound prefill is not faster than BF16's on an H100
    while FP8 W8A8 would be."""
    from selfhost_advisor.estimate.serving.rates import matmul_flops
    from selfhost_advisor.estimate.serving.step import step_parts

    model = get("gpt-oss:20b")
    machine = machine_from_profile(get_profile("h100-sxm"), 1)
    mx, fp8, bf16 = (get_vllm_quant(n) for n in ("MXFP4", "FP8", "BF16"))
    assert step_parts(model, mx, 1)[1] < step_parts(model, fp8, 1)[1] / 1.8
    assert step_parts(model, mx, 1)[0] == step_parts(model, bf16, 1)[0]  # attention, router, LM head stay bf16
    assert matmul_flops(machine, mx) == matmul_flops(machine, bf16) < matmul_flops(machine, fp8)



def test_models_fits_and_hardware_for_size_gpt_oss_in_mxfp4_too():
    """`models --fits --engine vllm` and `hardware --for --engine vllm` take each model's own formats (engine
    model_quants), as fit and serve do: gpt-oss in MXFP4, a Llama in the general formats."""
    from selfhost_advisor import api

    rows = api.models_that_fit("h100-sxm", query="gpt-oss", engine="vllm").models
    assert {r.model.id: r.option.quant.name for r in rows if r.option} == {"gpt-oss:20b": "MXFP4",
                                                                          "gpt-oss:120b": "MXFP4"}
    hw = api.hardware_for("gpt-oss:120b", engine="vllm")
    assert hw.candidates and {c.option.quant.name for c in hw.candidates if c.option} == {"MXFP4"}
