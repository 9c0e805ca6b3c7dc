"""CUDA GPUs older than the fit's (docs/methodology.md 5f, session 12): Kepler's kernel path, decode without CUDA
graphs (Pascal and older; Volta/Turing before PR #25749), mat-vecs without __dp4a (compute capability < 6.1), and the
held-out Tesla M40 / K80 scoreboard rows."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import cuda_path
from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.speed import estimate_speed

ROOT = Path(__file__).resolve().parents[1]


def _device(name: str):
    return machine_from_profile(hw_names.resolve(name), 1).devices[0]


def _decode(name: str, quant: str = "Q4_0") -> float:
    m = machine_from_profile(hw_names.resolve(name), 1)
    model = get_model("llama2:7b")
    n = model.n_layers
    place = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))
    return estimate_speed(model, get_quant(quant), place, m).decode_tokens_per_s


def test_the_k80_is_kepler_37_and_prefills_on_cublas():
    """GK210 is compute capability 3.7: no __dp4a, so ggml_cuda_should_use_mmq sends it to dequantize + cuBLAS (before
    the architecture was known its path defaulted to tensor-core MMQ, and the held-out pp512 read +129%)."""
    k80 = _device("tesla k80")
    assert cuda_path.compute_capability(k80) == 3.7
    assert cuda_path.quant_path(k80, 512) == "cublas"
    assert cuda_path.quant_path(_device("tesla m40 24gb"), 512) == "cublas"


@pytest.mark.parametrize("name, graphs", [
    ("rtx 3090", True), ("h200", True), ("tesla v100 pcie 32gb", True), ("quadro rtx 6000", True),
    ("tesla p40", False), ("gtx 1080 ti", False), ("tesla m40 24gb", False), ("tesla k80", False),
])
def test_cuda_graphs_follow_ggml_cuda_graph_set_enabled_in_the_latest_build(name, graphs):
    assert cuda_path.uses_graphs(_device(name)) is graphs


def test_volta_and_turing_had_no_graphs_before_pr_25749():
    with at_build("2026-06"):
        assert not cuda_path.uses_graphs(_device("tesla v100 pcie 32gb"))
        assert not cuda_path.uses_graphs(_device("quadro rtx 6000"))
        assert cuda_path.uses_graphs(_device("rtx 3090"))


def test_the_launch_time_per_layer_is_the_published_graphs_off_minus_on_time():
    """PR #6766 (LLaMA 2 7B Q4_0 tg, master vs graphs): RTX 3090 116.31 / 128.27, RTX 4090 138.31 / 146.81; issue
    #6763: H100 PCIe Q4_K_M 143.35 / 163.83 t/s; 32 layers; their mean per layer, ~22 us."""
    pairs = ((116.31, 128.27), (138.31, 146.81), (143.35, 163.83))
    want = statistics.mean((1 / off - 1 / on) / 32 for off, on in pairs)
    assert load("speed")["cuda_graphs"]["layer_s"] == pytest.approx(want, rel=0.01)
    assert cuda_path.graph_launch_seconds(_device("tesla p40")) == pytest.approx(want, rel=0.01)
    assert cuda_path.graph_launch_seconds(_device("rtx 3090")) == 0.0


def test_a_p40_token_pays_each_layers_launches():
    """The decode time of a P40 grows by n_layers x the launch time, nothing else (its mat-vecs use __dp4a)."""
    base = _decode("tesla p40")
    rule = load("speed")["cuda_graphs"]["layer_s"]
    with_graphs = cuda_path.uses_graphs
    try:
        cuda_path.uses_graphs = lambda d: True
        graphs = _decode("tesla p40")
    finally:
        cuda_path.uses_graphs = with_graphs
    assert 1 / base - 1 / graphs == pytest.approx(get_model("llama2:7b").n_layers * rule, rel=1e-6)


def test_without_dp4a_each_class_runs_at_its_own_rate_from_nvidias_table():
    """common.cuh: below GGML_CUDA_CC_DP4A ggml_cuda_dp4a is 8 byte extractions and 4 multiply-adds (12 instructions for
    1), one per 4 int8 products. Per the CUDA C Programming Guide's throughput table (per SM-clock): Kepler 3.7 runs
    bit-field extracts and 32-bit multiply-adds at 32 each on its 192 FP32 lanes, Maxwell 5.2 extracts at 64 and its
    16-bit XMAD at 128 on 128 lanes; in 128-lane SM-cycles per weight, less the replaced IDP4A (session 13; session 12
    counted all 11 extra at full issue, 11/4/128)."""
    assert cuda_path.emulated_dp4a_cycles(_device("tesla m40 24gb")) == pytest.approx((8 / 64 + 4 / 128 - 1 / 128) / 4)
    assert cuda_path.emulated_dp4a_cycles(_device("tesla k80")) == pytest.approx(((8 / 32 + 4 / 32) * 192 / 128
                                                                                 - 1 / 128) / 4)
    assert cuda_path.emulated_dp4a_cycles(_device("tesla m40 24gb")) > 11 / 4 / 128  # above session 12's lower bound
    assert cuda_path.emulated_dp4a_cycles(_device("tesla p40")) == 0.0
    assert cuda_path.emulated_dp4a_cycles(_device("rtx 3090")) == 0.0


def test_the_emulated_dp4a_binds_an_m40s_decode():
    """Without the extra instructions the M40's Q4_0 mat-vecs keep up with its 288 GB/s; with them they bind."""
    real = _decode("tesla m40 24gb")
    orig = cuda_path.emulated_dp4a_cycles
    try:
        cuda_path.emulated_dp4a_cycles = lambda d: 0.0
        native = _decode("tesla m40 24gb")
    finally:
        cuda_path.emulated_dp4a_cycles = orig
    assert real < 0.9 * native


def test_the_session_12_held_out_rows_before_and_after():
    """benchmarks/cuda_heldout.py, rows added in session 12 (M40 24GB, K80 one GPU; scoreboard #15013): scored before
    any change as decode +45.2% / +175.5%, prefill -9.7% / +129.3% (methodology 5f, session 12)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cuda_heldout

    every = cuda_heldout.rows()
    rows = {(r["hardware"], r["kind"]): r["error_pct"] for r in every if r.get("added") == "session 12"}
    # session 13 (cudaout): llama-bench rows held out before any change, blind 8.8% / 20.6% median decode / prefill
    # (RTX 4070 Laptop, RTX 5060 Ti, GTX 1060 in a VM); none of them is Kepler/Maxwell, so the rule above leaves them
    s13 = [r for r in every if r.get("added") == "session 13"]
    assert len(s13) == 6
    assert statistics.median(abs(r["error_pct"]) for r in s13 if r["kind"] == "decode") < 10
    assert statistics.median(abs(r["error_pct"]) for r in s13 if r["kind"] == "prefill") < 25
    assert len(rows) == 4
    # session 12 left them at +17.4% / +102.2% (the emulated dp4a at full issue); session 13 counts each instruction
    # class at its rate from NVIDIA's table (Kepler's multiply-adds at 32 per 192-lane SMX): +0.1% / -13.8%
    assert rows[("NVIDIA Tesla M40 24GB", "decode")] == pytest.approx(0.1, abs=0.5)
    # session 27 (oss27): a pre-Volta prompt's flash attention at the tile kernel's vector-lane rate (fattn.cu
    # BEST_FATTN_KERNEL_TILE below compute capability 7.0), not 1.5x the FP16 peak: K80 prefill +16.8 -> +15.1%;
    # session 28 (nemo28): the scoreboard's rows state -fa 0, which cuda_heldout.rows now honours, so that rate is not
    # theirs: back to +16.8% (methodology 5f-nemo28)
    assert rows[("NVIDIA Tesla K80 (one GPU)", "prefill")] == pytest.approx(16.8, abs=0.5)
    assert rows[("NVIDIA Tesla K80 (one GPU)", "decode")] == pytest.approx(-13.8, abs=0.5)
    assert abs(rows[("NVIDIA Tesla M40 24GB", "prefill")]) < 12


@pytest.mark.parametrize("name, bare", [("gtx 1660", True), ("gtx 1650", True), ("rtx 2060 super", False),
                                        ("t4", False), ("tesla p40", False)])
def test_gtx_16_dies_have_no_tensor_cores_and_the_note_says_so(name, bare):
    """TU116/TU117 (llama.cpp PR #4682: 'all TU116 and TU117 GPU variants do not have tensorcores, despite being
    nominally sm_75') run MMQ's int8 mma path anyway; its rate is read off one row (PR #15360), the note says so."""
    assert cuda_path.mma_without_tensor_cores(_device(name)) is bare
    m = machine_from_profile(hw_names.resolve(name), 1)
    model = get_model("llama3.2:3b")
    n = model.n_layers
    place = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))
    speed = estimate_speed(model, get_quant("Q4_K_M"), place, m)
    assert any("no tensor cores" in c for c in speed.caveats) is bare  # a caveat (fit's text and --json caveats)
    assert "no tensor cores" not in speed.note  # once: the note no longer repeats the caveats (schema 1.24.0)


def test_gtx_16_prefill_runs_at_the_rate_read_off_pr_15360_and_scales_by_sms_and_clock():
    """Session 14 (gpuold): the GTX 16 prefill (int8 mma on a die without tensor cores) was left at the tensor-core
    rate, +271% on the scoreboard's GTX 1660. data/cuda_rates.yaml mma_without_tensor_cores.flops_per_sm_cycle is the
    rate that makes the model reproduce PR #15360's GTX 1660 Ti row (qwen3 4B Q8_0 pp512 249.20 t/s): re-derived here
    from the model's own other terms, so a change elsewhere that moves them shows. The held-out GTX 1660 row lands
    within 15%; a GTX 1650 (TU117, 14 SMs) is predicted slower by its SMs x clock; an RTX 2060 SUPER keeps MMQ."""
    import sys
    from pathlib import Path

    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.estimate.speed_work import token_work
    from selfhost_advisor.record import replace

    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root / "benchmarks"), str(root / "scripts")]
    import moe_accuracy

    def machine(name):
        m = machine_from_profile(hw_names.resolve(name), 1)
        return replace(m, devices=(replace(m.devices[0], memory_bytes=128 * 2**30),), ram_bytes=256 * 2**30)

    rule = load("cuda_rates")["mma_without_tensor_cores"]
    ti = machine("gtx 1660 ti")
    got = moe_accuracy.predict("qwen3:4b", "Q8_0", "pp512", ti)
    assert got == pytest.approx(rule["anchor"]["tokens_per_s"], rel=0.01)
    # the rate alone: the token's matmul FLOPs over (measured time - the model's other terms)
    flops = sum(token_work(get_model("qwen3:4b"), get_quant("Q8_0")).layer_flops)
    rate = cuda_path.emulated_mma_flops(ti.devices[0])
    other = 1 / got - flops / rate
    raw = hw_names.resolve("gtx 1660 ti").raw
    k = flops / ((1 / 249.20 - other) * raw["sm_count"] * raw["boost_clock_mhz"] * 1e6)
    assert k == pytest.approx(rule["flops_per_sm_cycle"], rel=0.01)
    gtx1660 = moe_accuracy.predict("llama2:7b", "Q4_0", "pp512", machine("gtx 1660"))
    assert abs(gtx1660 / 148.9 - 1) < 0.15  # the scoreboard row (benchmarks/published/llamabench_cuda.yaml)
    r1650 = cuda_path.emulated_mma_flops(machine("gtx 1650").devices[0]) / cuda_path.emulated_mma_flops(
        machine("gtx 1660").devices[0])
    assert r1650 == pytest.approx(14 * 1665 / (22 * 1785), rel=1e-6)
    assert cuda_path.emulated_mma_flops(machine("rtx 2060 super").devices[0]) is None
