"""ggml-cuda's generic MUL_MAT_ID path for quantized experts MMQ does not take (estimate/moe_generic.py;
docs/methodology.md 5c-s27)."""
from __future__ import annotations

import math

import pytest

from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.moe_generic import _tail_share, cublas_share, seconds_per_microbatch, takes_generic_path
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


@pytest.mark.parametrize(("n", "p", "cut"), [(512, 1 / 8, 64), (2048, 1 / 32, 64), (64, 0.25, 1), (100, 0.5, 101)])
def test_tail_share_is_the_binomial_tail_among_touched_experts(n, p, cut):
    from fractions import Fraction

    q = Fraction(p).limit_denominator(1000)  # exact rational arithmetic: no float over- or underflow at n = 2048
    pmf = [float(math.comb(n, t) * q**t * (1 - q) ** (n - t)) for t in range(n + 1)]
    assert _tail_share(n, p, cut) == pytest.approx(sum(pmf[max(cut, 1):]) / (1 - pmf[0]), rel=1e-9, abs=1e-12)


def test_which_gpus_and_batches_take_the_generic_path():
    # ggml_cuda_should_use_mmq: Volta only below 64 tokens (MMQ_DP4A_MAX_BATCH_SIZE), compute capability 6.0 never,
    # Pascal GP10x and Turing on always; one token is the mat-vec
    assert takes_generic_path(_device("tesla v100 pcie 16gb"), 512)
    assert not takes_generic_path(_device("tesla v100 pcie 16gb"), 32)
    assert takes_generic_path(_device("tesla p100 pcie 16gb"), 2)
    assert not takes_generic_path(_device("tesla p100 pcie 16gb"), 1)
    assert not takes_generic_path(_device("tesla t4"), 4096)
    assert not takes_generic_path(_device("rtx 5090"), 2048)


def test_each_expert_picks_its_kernel_by_its_own_tokens():
    v100, p100 = _device("tesla v100 pcie 16gb"), _device("tesla p100 pcie 16gb")
    assert cublas_share(p100, 512, 32, 4) == 1.0  # below compute capability 6.1 every slice is cuBLAS
    assert cublas_share(v100, 4096, 32, 4) == pytest.approx(1.0, abs=1e-9)  # 512 tokens an expert on average
    # 64 an expert on average at 512 tokens: about half the touched experts stay under MMQ's 64
    assert 0.4 < cublas_share(v100, 512, 32, 4) < 0.65


def test_a_micro_batch_converts_every_touched_expert_whole_and_sorts_on_the_host():
    model, work = _model_work("gpt-oss:20b", "MXFP4_MOE")
    p100 = _device("tesla p100 pcie 16gb")
    bw = 5.0e11
    rule = _speed_data()["moe_host_sort"]
    sort = 24 * 3 * (rule["round_trips"] * rule["copy_s"] + rule["iteration_s"] * 2048 * (10 + 28 * 4))
    # gpt-oss-20b: 32 experts x (2 x 2880 x 2880 gate / up + 2880 x 2880 down) MXFP4 weights a layer (17 bytes per 32),
    # each read and written as 2-byte FP16; cuda_path.dequant_seconds already converts the 4 routed experts' share once
    weights = 32 * 3 * 2880 * 2880
    whole = 24 * (weights * 17 // 32 + 2 * weights)
    touched = 1 - (1 - 4 / 32) ** 2048
    assert seconds_per_microbatch(model, work, p100, 2048, bw) == pytest.approx(
        sort + (touched * whole - whole * 4 / 32) / bw, rel=1e-6)
    assert seconds_per_microbatch(model, work, p100, 2048, None) == pytest.approx(sort, rel=1e-9)
    assert seconds_per_microbatch(model, work, _device("rtx 4090"), 2048, bw) == 0.0  # MMQ takes it
    assert seconds_per_microbatch(model, work, p100, 1, bw) == 0.0  # one token: MMVQ, ids on the device
    f16_model, f16_work = _model_work("qwen3:30b-a3b", "F16")
    assert seconds_per_microbatch(f16_model, f16_work, p100, 512, bw) == 0.0  # float experts: not converted


def test_a_p100_prompt_slows_by_the_generic_path_at_every_build_and_decode_does_not():
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Placement
    from selfhost_advisor.estimate import speed
    from selfhost_advisor.estimate.speed import estimate_speed
    from selfhost_advisor.estimate.speed_factors import efficiency

    model, work = _model_work("gpt-oss:20b", "MXFP4_MOE")
    machine = machine_from_profile(hw_names.resolve("tesla p100 pcie 16gb"), 1)
    place = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    d = machine.devices[0]
    for date in ("2025-10-23", "2026-05-17"):
        with at_build(date):
            priced = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, n_ubatch=512)
            original = speed.generic_seconds
            speed.generic_seconds = lambda *a, **k: 0.0
            try:
                unpriced = estimate_speed(model, get_quant("MXFP4_MOE"), place, machine, n_ubatch=512)
            finally:
                speed.generic_seconds = original
            bw = efficiency("cuda").bandwidth * d.bandwidth_bytes_per_s
            extra = seconds_per_microbatch(model, work, d, 512, bw) / 512
        assert extra > 0.0
        assert 1 / priced.prefill_tokens_per_s - 1 / unpriced.prefill_tokens_per_s == pytest.approx(extra, rel=1e-6)
        assert priced.decode_tokens_per_s == unpriced.decode_tokens_per_s
