"""No vLLM serving figure runs faster than the GPU's tensor peak allows, and vLLM on an Intel GPU says its compute
rate is borrowed (session 31, xpu31; docs/methodology.md 6c).

The bug: vLLM's step priced its FLOPs at the llama.cpp family's 16-bit all-in share, and the SYCL family holds 1.0
there because no share is fitted (its llama.cpp prompt model runs GEMMs at the oneDNN library rate instead), so
`serve llama3.1:8b -H "arc b580"` prefilled 7,646 tokens/s alone: 108.7 of the card's 109.4 XMX FP16 TFLOPS, where
llama.cpp on the same card measures ~2,200 (llama.cpp PR #13885, Llama 2 7B Q4_0 pp512 2,164.5 t/s).

The FLOPs a token needs are counted here from the parameters, not by the step under test: at least 2 per weight of
every matrix but the embedding table and the LM head (an embedding is a lookup; vLLM computes the LM head only at a
prompt's last token), so tokens/s x that lower bound may never pass the peak, nor the best share of it any GPU's lone
GEMM was measured at. Counted so, the B580's 7,646 was 0.97 of its peak, not above it (2 x 8.03e9 x 7,646 = 122
TFLOPS counts the embedding lookup and a per-token LM head as FLOPs): at it, which no measured GEMM reaches.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import selfhost_advisor as sa
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.xpu_fit import fit_xe2_share
from selfhost_advisor.estimate.tensors import active_params

# one GPU of each family vLLM serves on (CUDA: GeForce with its FP32-accumulate figure, Ampere / Hopper datacenter
# parts with FP8; ROCm: RDNA 3 and CDNA 3; SYCL: Xe2 Battlemage, Xe-HPG Alchemist, Xe-HPC Max)
GPUS = ["rtx-3090", "rtx-4090", "a100-80gb", "h100-sxm", "rx-7900-xtx", "mi300x", "arc-b580", "arc-a770-16gb",
        "arc-pro-b60", "data-center-gpu-max-1100"]
MODELS = ["llama3.1:8b", "qwen2.5:0.5b", "qwen3:30b-a3b-instruct-2507", "gemma2:27b"]


def _peak_flops(hardware: str, quant: str | None) -> float:
    """The dense tensor peak of one GPU at the format's compute precision, from the profile's own figures: the FP8 rate
    for FP8 on a part that lists one, else the 16-bit rate (weight-only formats, AWQ / GPTQ, dequantize to 16 bits)."""
    p = get_profile(hardware)
    fp8 = p.raw.get("fp8_tflops")
    if quant == "FP8" and fp8:
        return max(float(fp8) * 1e12, machine_from_profile(p, 1).devices[0].fp16_flops)
    return machine_from_profile(p, 1).devices[0].fp16_flops


def _flops_lower_bound(model_id: str) -> float:
    m = get(model_id)
    embed = m.vocab_size * m.hidden_size * (1 if m.tied_embeddings else 2)
    return 2.0 * (active_params(m) - embed)


def _best_gemm_share() -> float:
    """The highest share of its spec dense BF16 rate any GPU's best large GEMM was measured at (data/serving.yaml
    gemm_achieved_tflops, the Maximum Achievable Matmul FLOPS table: A100 SXM 271.2 of 312, 0.869). A whole model's
    prompt, whose norms, rope and attention run beside its GEMMs, cannot beat the best lone GEMM's share."""
    rows = load("serving")["vllm"]["gemm_achieved_tflops"].values()
    return max(float(r["bf16"]) / float(r["bf16_spec"]) for r in rows)


def _check(model_id: str, hardware: str, gpus: int = 1) -> None:
    r = sa.serve(model_id, hardware if gpus == 1 else f"{gpus}x {hardware.replace('-', ' ')}")
    if not r.fits:
        return
    peak = _peak_flops(hardware, r.quant) * r.tp
    ceiling = _best_gemm_share() * peak
    need = _flops_lower_bound(model_id)
    prefill = float(r.assumptions["prefill_tokens_per_s_alone"])
    assert prefill * need <= ceiling < peak, (model_id, hardware, r.quant, prefill, prefill * need / peak)
    for pt in r.points:
        assert pt.total_tokens_per_s * need <= ceiling, (model_id, hardware, r.quant, pt.concurrency)


@pytest.mark.parametrize("hardware", GPUS)
@pytest.mark.parametrize("model_id", MODELS)
def test_no_serve_figure_passes_the_tensor_peak(model_id, hardware):
    _check(model_id, hardware)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hardware=st.sampled_from(GPUS), model_id=st.sampled_from(MODELS + ["llama3.1:70b"]),
       gpus=st.sampled_from([2, 4, 8]))
def test_no_multi_gpu_serve_figure_passes_the_summed_peak(hardware, model_id, gpus):
    _check(model_id, hardware, gpus)


def _prefill_share(model_id: str, hardware: str) -> float:
    r = sa.serve(model_id, hardware)
    assert r.fits
    prefill = float(r.assumptions["prefill_tokens_per_s_alone"])
    return prefill * _flops_lower_bound(model_id) / _peak_flops(hardware, r.quant)


def test_the_stored_xe2_share_is_what_the_published_b70_run_gives():
    # data/serving.yaml xpu_compute_share.row: Qwen3.6-27B FP8 on two Arc Pro B70 (b70-optimization-lab, lab re-run
    # 2026-07-25), time to first token 0.7416 s for 2,010 prompt tokens and 0.0957 s for 60
    stored = float(load("serving")["vllm"]["xpu_compute_share"]["xe2"])
    assert fit_xe2_share() == pytest.approx(stored, abs=0.002)
    ttft = {p: sa.serve("qwen3.6:27b", "2x arc pro b70", quant="FP8", prompt_tokens=p, output_tokens=256,
                        concurrency=[1], kv_cache="fp8", enforce_eager=True).points[0].ttft_s for p in (2010, 60)}
    assert ttft[2010] - ttft[60] == pytest.approx(0.7416 - 0.0957, rel=0.01)


def test_intel_prefill_is_well_under_the_xmx_peak_and_alchemist_under_battlemage():
    # before session 31 an 8B prefilled at 0.97 of a B580's XMX FP16 figure; oneMKL's GEMM reaches 0.373 of an A770's
    # XMX figure where oneDNN reaches 0.992 of a B60's, so the Xe-HPG parts sit lower still
    b580 = _prefill_share("llama3.1:8b", "arc-b580")
    a770 = _prefill_share("llama3.1:8b", "arc-a770-16gb")
    assert b580 < 0.6 and a770 < 0.6 * b580, (b580, a770)


@pytest.mark.parametrize("hardware, measured", [("arc-b580", True), ("arc-pro-b60", True), ("arc-a770-16gb", False),
                                                ("data-center-gpu-max-1100", False)])
def test_vllm_on_intel_says_what_its_compute_rate_rests_on(hardware, measured):
    # Battlemage (Xe2): the share one published B70 run gives; Alchemist and Max: no vLLM run on the architecture
    r = sa.serve("llama3.1:8b", hardware)
    assert r.fits
    notes = [w for w in r.warnings if w.startswith("vLLM on Intel:")]
    assert len(notes) == 1, r.warnings
    if measured:
        assert "fitted on one published vLLM run" in notes[0], notes
    else:
        assert "no published vLLM measurement" in notes[0] and "borrowed" in notes[0], notes


@pytest.mark.parametrize("hardware", ["rtx-3090", "rx-7900-xtx"])
def test_fitted_families_carry_no_borrowed_caveat(hardware):
    r = sa.serve("llama3.1:8b", hardware)
    assert r.fits and not any("vLLM on Intel" in w for w in r.warnings), r.warnings


def test_llamacpp_serving_on_intel_carries_no_vllm_caveat():
    # the slot engines' prompt rates are llama.cpp's own SYCL model, nothing borrowed
    r = sa.serve("llama3.1:8b", "arc-b580", engine="llamacpp")
    assert r.fits and not any("vLLM on Intel" in w for w in r.warnings), r.warnings


def test_cost_with_an_intel_box_carries_the_caveat():
    c = sa.cost("1e9", model="llama3.1:8b", hardware=["arc-b580"])
    assert any("arc-b580" in w and "vLLM on Intel:" in w for w in c.warnings), c.warnings
    c = sa.cost("1e9", model="llama3.1:8b", hardware=["rtx-3090"])
    assert not any("vLLM on Intel" in w for w in c.warnings), c.warnings


def test_vllm_on_apple_refuses_rather_than_borrowing_a_rate():
    # vLLM has no Metal platform in the main project (docs: Apple silicon via the separate vllm-metal plugin); naming
    # it on a Mac is bad input since audit33b (was a report that does not serve, exit 1)
    import pytest

    from selfhost_advisor.errors import BadOptionError

    with pytest.raises(BadOptionError, match="Apple"):
        sa.serve("llama3.1:8b", "m2-ultra-192gb", engine="vllm")
