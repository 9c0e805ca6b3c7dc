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


def test_cuda_and_rocm_pay_the_same_step_from_the_fused_graph_on_and_metal_and_sycl_do_not():
    """ggml-cuda's gated_delta_net.cu (CUDA and HIP) has the same token loop: the same lane-cycles per element, from the
    build whose graph runs the fused op (2026-03-11); the RTX 4070 CUDA Qwen3.5-4B row (4616 tokens/s, b8571, held out:
    the rate was fitted on Vulkan rows) within 15%. Metal (its own serial-step model) and SYCL get nothing here."""
    from selfhost_advisor.estimate.kernel_path import at_build

    model = get_model("qwen3.5:4b")
    cuda = _machine("rtx 4070", "cuda")
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    with at_build("2026-03-28"):
        s = recurrent_prefill_seconds(cuda.devices[0], model, 0, model.n_layers)
        pp = estimate_speed(model, get_quant("Q4_K_M"), pl, cuda).prefill_tokens_per_s
    with at_build("2026-03-01"):
        before = recurrent_prefill_seconds(cuda.devices[0], model, 0, model.n_layers)
    assert s > 50e-6 and before == 0.0
    assert abs(pp / 4615.83 - 1) < 0.15
    r9700 = _machine("radeon ai pro r9700", "rocm").devices[0]
    assert recurrent_prefill_seconds(r9700, get_model("qwen3.6:35b"), 0, 40) > 100e-6  # 30 delta-net layers
    for backend in ("metal", "sycl"):
        assert recurrent_prefill_seconds(replace(cuda.devices[0], backend=backend), model, 0, model.n_layers) == 0.0
