"""Metal prefill by GPU generation (estimate/metal_path.py, docs/methodology.md 5e): M3+ unpack quantized weights
beside the FMAs; M5+ multiply on the Neural Accelerators."""
from __future__ import annotations

import csv
import re
import statistics
from selfhost_advisor.record import replace
from pathlib import Path

import metalkit
import pytest

from selfhost_advisor.estimate import metal_path
from selfhost_advisor.estimate.speed import efficiency

CAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "calibration" / "llamacpp_speed.csv"


_device, _prefill = metalkit.device, metalkit.prefill


@pytest.mark.parametrize("hw, gen", [("m1-max-64gb", 1), ("m2-ultra-192gb", 2), ("m3 max 128gb", 3),
                                     ("m4-16gb", 4), ("m5 32gb", 5), ("rtx 4090", None)])
def test_generation_comes_from_the_profile(hw, gen):
    assert metal_path.apple_generation(_device(hw)) == gen


def test_a_probed_mac_without_a_profile_is_read_by_its_name():
    d = replace(_device("m3 max 128gb"), matched_profile=None, name="Apple M3 Max")
    assert metal_path.apple_generation(d) == 3 and metal_path.dequant_overlapped(d)
    assert not metal_path.dequant_overlapped(replace(d, name="Apple M2 Max"))


def test_m3_quantized_prefill_reaches_the_16bit_share_and_m2_pays_the_unpacking():
    """Same model, same FLOPs: on an M3 Max Q4_0 prefills as fast as F16; on an M2 Max at compute_quant/compute_f16."""
    eff = efficiency("metal")
    assert eff.compute_quant < eff.compute_f16
    assert _prefill("m3 max 128gb", "Q4_0") == pytest.approx(_prefill("m3 max 128gb", "F16"), rel=1e-9)
    assert _prefill("m2-max-38c-64gb", "Q4_0") / _prefill("m2-max-38c-64gb", "F16") == pytest.approx(
        eff.compute_quant / eff.compute_f16, rel=1e-6)


def test_the_calibration_file_shows_the_generation_split():
    """The rule's evidence in discussion #4167's rows: quantized / F16 pp512 of one chip and bin is 0.89 (median) and at
    most 0.93 on the 13 M1/M2 configurations with both, above 0.95 on the 3 M3 ones (a later file that breaks this
    fails here)."""
    pp: dict[str, dict[str, float]] = {}
    with open(CAL, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["backend"] == "Metal" and r["test"] == "pp512" and "(LLaMA-2)" in r["model"]:
                pp.setdefault(r["hardware"], {})[r["quant"]] = float(r["tokens_per_s"])
    ratios = {hw: statistics.mean([q["Q4_0"], q["Q8_0"]]) / q["F16"] for hw, q in pp.items()
              if {"F16", "Q4_0", "Q8_0"} <= q.keys()}
    gen = {hw: int(re.search(r"Apple M(\d)", hw).group(1)) for hw in ratios}
    old = [v for hw, v in ratios.items() if gen[hw] < 3]
    new = [v for hw, v in ratios.items() if gen[hw] >= 3]
    assert len(old) >= 8 and len(new) >= 2
    assert statistics.median(old) < 0.90 and max(old) < 0.94 < 0.95 < min(new)


def test_m5_matmuls_run_at_the_accelerators_peak_plus_the_shader_work_m1_m4_lose():
    """Per FLOP: 1/peak + (1/c - 1)/(peak x simd_share); by hand for the 10-core M5 (17.82 TFLOPS, c = the 16-bit
    share, since an M5 also unpacks beside its FMAs)."""
    d = _device("m5 32gb")
    c = efficiency("metal").compute_f16
    assert metal_path.tensor_units(d) and not metal_path.tensor_units(_device("m4-16gb"))
    assert metal_path.compute_efficiency(efficiency("metal"), d, True) == c
    peak = 17.82e12
    assert metal_path.matmul_seconds(1e12, c, peak, d) == pytest.approx(1e12 * (1 / peak + (1 / c - 1) / (peak / 4)))
    # an M4 keeps FLOPs / (c x peak)
    m4 = _device("m4-16gb")
    assert metal_path.matmul_seconds(1e12, c, 3.76e12, m4) == pytest.approx(1e12 / (c * 3.76e12))
    # between its shader ALUs at the fitted share and its accelerators at it
    t = metal_path.matmul_seconds(1e12, c, peak, d)
    assert 1e12 / (c * peak) < t < 1e12 / (c * peak / 4)


def test_other_backends_keep_the_quantized_share():
    eff = efficiency("cuda")
    assert metal_path.compute_efficiency(eff, _device("rtx 4090"), True) == eff.compute_quant
    assert metal_path.simd_flops(_device("rtx 4090"), 1.0) == 1.0


def test_every_apple_profile_has_a_generation():
    """The rules key on the generation in the profile id; an Apple profile it cannot read would silently get M1/M2
    behaviour (curated profiles and every data/apple.yaml configuration)."""
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import profiles

    apple = [p for p in profiles() if p.raw.get("vendor") == "apple"] + list(hw_names.apple_profiles())
    assert len(apple) > 80
    for p in apple:
        assert metal_path.apple_generation(_device(p.id)) in (1, 2, 3, 4, 5), p.id


def test_m1_k_quant_mat_vecs_are_bound_per_weight_where_q4_0_and_m3_stream():
    # data/speed.yaml metal_matvec_issue (5e-metal7): on an M1 the unpacking takes the FMAs' issue slots, so a Q4_K
    # matrix takes weights x lane-cycles a weight / (FP16 FLOPS / 2) where that is longer than its bytes stream in
    from selfhost_advisor.catalog.data import load

    cycles = float(load("speed")["metal_matvec_issue"]["lane_cycles_per_weight"]["1"])
    n = 4096 * 14336
    q4_k, q4_0 = n * 144 // 256, n * 18 // 32  # bytes: 144 per 256-weight super-block, 18 per 32-weight block
    m1 = _device("m1-max-64gb")
    bw = efficiency("metal").bandwidth * m1.bandwidth_bytes_per_s
    bound = n * cycles / (m1.fp16_flops / 2)
    assert bound > q4_k / bw  # M1 Max: 400 GB/s for 32 cores at 1.3 GHz, the kernel binds
    assert metal_path.matvec_excess((("Q4_K", n, q4_k),), m1, bw) == pytest.approx(bound - q4_k / bw, rel=1e-9)
    assert metal_path.matvec_excess((("Q4_0", n, q4_0),), m1, bw) == 0.0  # #4167's M1 Q4_0 rows stream
    m3 = _device("m3 max 128gb")  # M3+: integer and FP issue side by side
    assert metal_path.matvec_excess((("Q4_K", n, q4_k),), m3, efficiency("metal").bandwidth * m3.bandwidth_bytes_per_s) == 0.0
    # M2: no value (its rows read 10-11 lane-cycles, below what its bandwidth streams at; not transferable across M2s)
    assert metal_path.matvec_lane_cycles(_device("m2-ultra-192gb"), "Q4_K") == 0.0


def test_metal_pays_the_gated_delta_net_token_walk_at_cudas_measured_rate_on_its_shader_lanes():
    # ggml-metal's kernel_gated_delta_net_impl (fused from 2026-03-11) walks the micro-batch's tokens one after another
    # with a simdgroup per state row, as ggml-cuda's does: each prompt token pays, per delta-net layer, its state
    # elements x CUDA's measured 49.0 lane-cycles over the shader lanes x clock (FP16 FLOPS / 2; M5: the SIMD share).
    # The blind M5 Max Qwen3.5 0.8B Q4_0 pp512 (15,511 t/s, ggerganov 2026-04-24) read +72% without it; within 10% now.
    import sys

    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.speed_gpu import recurrent_prefill_seconds
    from selfhost_advisor.estimate.speed_work import recurrent_state_widths

    model = get("qwen3.5:0.8b")
    m5 = _device("m5-max-40c-48gb")
    lanes = m5.fp16_flops * 0.25 / 2  # metal_tensor.simd_share of the accelerators' listed peak
    recurrent = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
    with at_build("2026-04-24"):
        s = recurrent_prefill_seconds(m5, model, 0, model.n_layers)
    assert s == pytest.approx(recurrent * recurrent_state_widths(model.ssm)[1] * 49.0 / lanes, rel=1e-6)
    with at_build("2026-03-01"):  # before the fused kernel: the op-by-op chunked graph, no serial step
        assert recurrent_prefill_seconds(m5, model, 0, model.n_layers) == 0.0
    assert recurrent_prefill_seconds(m5, get("llama3.1:8b"), 0, 32) == 0.0  # no delta-net layer
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import metal_heldout

    (row,) = metal_heldout.rows(lambda r: r.hardware == "m5-max-40c-48gb" and r.test == "pp512")
    assert abs(row["error_pct"]) < 10
