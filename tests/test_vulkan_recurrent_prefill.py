"""Vulkan prefill of hybrid Gated DeltaNet models: gated_delta_net.comp's serial per-token steps (session 18, vkhyb;
docs/methodology.md 5b-vkhyb; data/speed.yaml recurrent_prefill_step)."""
from __future__ import annotations

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_gpu import recurrent_prefill_seconds
from selfhost_advisor.record import replace


def _machine(name: str, backend: str = "vulkan"):
    m = machine_from_profile(hw_names.resolve(name), 1)
    return replace(m, devices=(replace(m.devices[0], backend=backend),))


def _prefill(model_id: str, machine, date: str) -> float:
    model = get_model(model_id)
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with vp.as_of_build(date):
        return estimate_speed(model, get_quant("Q4_K_M"), pl, machine).prefill_tokens_per_s


def test_the_serial_step_counts_delta_net_layers_state_and_lanes():
    """Qwen3.5-4B: 24 of 32 layers are delta-net, each with a 128 x 4096 F32 state; on an RTX 4070 (5888 lanes at
    2475 MHz) the step is 24 x 524288 x cycles / 1.457e13 s per token; attention-only layers add nothing."""
    d = _machine("rtx 4070").devices[0]
    model = get_model("qwen3.5:4b")
    with vp.as_of_build("2026-06-01"):
        s = recurrent_prefill_seconds(d, model, 0, model.n_layers)
        attention_only = recurrent_prefill_seconds(d, model, 3, 1)  # layer 3: full attention (every 4th)
    from selfhost_advisor.estimate.speed_factors import _speed_data

    cycles = float(_speed_data()["recurrent_prefill_step"]["lane_cycles_per_state_element"])
    assert abs(s - 24 * 524288 * cycles / (5888 * 2475e6)) < 1e-9
    assert attention_only == 0.0
    assert 50e-6 < s < 150e-6  # tens of microseconds per token: a third or more of the 4B's prompt time


def test_hybrid_vulkan_prefill_is_slower_than_before_and_dense_models_do_not_move():
    """The term applies from the build that brought GATED_DELTA_NET to Vulkan (PR #20334, 2026-03-10): the RTX 4070
    Qwen3.5-4B row (4264 tokens/s, b8571) is predicted within 15% instead of +64%; a dense model and a build before the
    op are unchanged, and so is the same hybrid on CUDA."""
    vk = _machine("rtx 4070")
    after = _prefill("qwen3.5:4b", vk, "2026-03-28")
    before_op = _prefill("qwen3.5:4b", vk, "2026-03-01")
    assert abs(after / 4263.83 - 1) < 0.15
    assert before_op > 1.4 * after
    with vp.as_of_build("2026-03-28"):
        r = recurrent_prefill_seconds(vk.devices[0], get_model("llama3.1:8b"), 0, 32)
    assert r == 0.0


def test_cuda_and_rocm_pay_the_step_from_the_fused_graph_on():
    """ggml-cuda's gated_delta_net.cu (CUDA and HIP) has the same token loop, from the build whose graph runs the fused
    op (2026-03-11); the RTX 4070 CUDA Qwen3.5-4B row (4616 tokens/s, b8571, held out: CUDA's rate is a kernel timing
    on an RTX 5090, not this row) within 8%. (Metal: tests/test_metal_path.py, session 23.)"""
    from selfhost_advisor.estimate.kernel_path import at_build

    model = get_model("qwen3.5:4b")
    cuda = _machine("rtx 4070", "cuda")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with at_build("2026-03-28"):
        s = recurrent_prefill_seconds(cuda.devices[0], model, 0, model.n_layers)
        pp = estimate_speed(model, get_quant("Q4_K_M"), pl, cuda).prefill_tokens_per_s
    with at_build("2026-03-01"):
        before = recurrent_prefill_seconds(cuda.devices[0], model, 0, model.n_layers)
    assert s > 30e-6 and before == 0.0  # 42 us a token on a 4070 (24 layers x 1.76 us)
    assert abs(pp / 4615.83 - 1) < 0.08
    r9700 = _machine("radeon ai pro r9700", "rocm").devices[0]
    assert recurrent_prefill_seconds(r9700, get_model("qwen3.6:35b"), 0, 40) > 100e-6  # 30 delta-net layers


def test_sycl_pays_the_step_from_its_gated_delta_net_op_on_intel_lanes():
    """ggml-sycl's gated_delta_net.cpp (PR #20455, 2026-03-12) has the same token loop (a sub-group per column, 4 per
    work-group, "TODO: Add chunked kernel"): the same lane-cycles per element over Intel's FP32 lanes x clock. The held
    out Arc Pro B70 Qwen3.6-27B pp512 row (731.43 tokens/s, 74d6248f7, 2026-05-06) was +26.5% without the step and is
    within 10% with it; the Qwen3.5-4B row (1759.80, aa0f1897b) falls from +206% to under +100%; a build before the op
    (2026-02-26, CPU fallback or the unfused graph) gets nothing, nor does a dense model."""
    from selfhost_advisor.estimate import sycl_path
    from selfhost_advisor.estimate.kernel_path import gpu_clock_hz

    b70 = _machine("arc pro b70", "sycl")
    d = b70.devices[0]
    lanes, hz = sycl_path.vector_lanes(d), gpu_clock_hz(d)
    model = get_model("qwen3.6:27b")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with sycl_path.assume_build("74d6248f7 (9039) (2026-05-06), GGML_SYCL_F16=ON, -fa 1"):
        s = recurrent_prefill_seconds(d, model, 0, model.n_layers)
        pp = estimate_speed(model, get_quant("Q4_K_M"), pl, b70).prefill_tokens_per_s
        dense = recurrent_prefill_seconds(d, get_model("llama3.1:8b"), 0, 32)
    from selfhost_advisor.estimate.speed_factors import _speed_data

    cycles = float(_speed_data()["recurrent_prefill_step"]["lane_cycles_per_state_element"])
    layers = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
    from selfhost_advisor.estimate.memory_kv import recurrent_state_widths

    assert abs(s - layers * recurrent_state_widths(model.ssm)[1] * cycles / (lanes * hz)) < 1e-12 and s > 100e-6
    assert abs(pp / 731.43 - 1) < 0.10 and dense == 0.0
    with sycl_path.assume_build("b8148 244641955 (2026-02-26)"):
        assert recurrent_prefill_seconds(d, model, 0, model.n_layers) == 0.0
    small = get_model("qwen3.5:4b")
    pl4 = Placement("gpu", small.n_layers + 1, small.n_layers + 1, 0, 0)
    with sycl_path.assume_build("aa0f1897b (2026-04-22), master"):
        # +99% until 5b-sycl13 (the SYCL share refitted 0.60 -> 0.68 once ACM-G10 and the Max 1100 stream at their
        # measured read rates: the B70's scratch copies and activations stream faster), +112% since; disclosed there
        assert estimate_speed(small, get_quant("Q4_K_M"), pl4, b70).prefill_tokens_per_s < 2.2 * 1759.80


def test_cuda_step_is_the_measured_kernel_time_and_rocm_keeps_the_vulkan_rate():
    """llama.cpp PR #22587 timed the merged CUDA kernel on an RTX 5090 at Qwen3.5-9B's shape (S_v 128, 32 value heads):
    279.6 us at 512 tokens and 525.1 us at 1024, a slope of about 0.49 us a token per delta-net layer
    (methodology 5f-cuda22). The model's CUDA step for Qwen3.5-9B (24 delta-net layers) on a 5090 must reproduce that
    slope, not the Vulkan-fitted rate (0.92 us), which ROCm keeps (wave64 on GCN / CDNA; RDNA's rows read near it,
    5f-halo3)."""
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.speed_factors import _speed_data

    model = get_model("qwen3.5:9b")
    layers = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
    assert layers == 24
    with at_build("2026-05-01"):
        cuda = recurrent_prefill_seconds(_machine("rtx 5090", "cuda").devices[0], model, 0, model.n_layers)
        rocm = recurrent_prefill_seconds(_machine("rtx 5090", "rocm").devices[0], model, 0, model.n_layers)
    measured_slope = (525.1 - 279.6) / 512 * 1e-6  # PR #22587, master column, seconds per token per layer
    assert abs(cuda / layers / measured_slope - 1) < 0.03
    rule = _speed_data()["recurrent_prefill_step"]
    assert abs(rocm / cuda - float(rule["lane_cycles_per_state_element"]) / rule["lane_cycles_by_family"]["cuda"]) < 1e-9
    assert rocm > 1.8 * cuda
