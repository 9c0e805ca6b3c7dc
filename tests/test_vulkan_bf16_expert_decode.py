"""BF16 routed experts decode under Vulkan through the tiled matmul, one call per MUL_MAT_ID (ggml_vk_use_mul_mat_vec_id
takes F32, F16 and quantized experts only); on RDNA 3.5 that call's time is charged as measured on kyuz0's Strix Halo
Qwen3-30B-A3B BF16 logs (data/speed.yaml vulkan_bf16_expert_decode; docs/methodology.md 5f-halo5)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_path
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.speed_work import token_work
from selfhost_advisor.estimate.vulkan_intel import with_driver
from selfhost_advisor.record import replace

STRIX = "ryzen ai max+ 395 128gb"


def _machine(hw: str, backend: str):
    machine = machine_from_profile(hw_names.resolve(hw), 1)
    return replace(machine, devices=tuple(replace(d, backend=backend) for d in machine.devices))


def _decode(model_id: str, quant: str, hw: str = STRIX, backend: str = "vulkan", cpu_moe: int = 0) -> float:
    model = get_model(model_id)
    n = model.n_layers
    place = Placement("gpu" if not cpu_moe else "partial", n + 1, n + 1, 0, 0, per_device_layers=(n,),
                      cpu_moe_layers=cpu_moe)
    return estimate_speed(model, get_quant(quant), place, _machine(hw, backend)).decode_tokens_per_s


def _unpriced(monkeypatch):
    monkeypatch.setattr(vulkan_path, "_bf16_expert_rule", lambda: {})


@pytest.mark.parametrize("driver, logs", [("radv", (9.38, 9.49)), ("amdvlk", (10.48, 10.62))])
def test_the_measured_logs_are_what_the_estimate_now_reads(driver, logs):
    """The call time was read off these logs (builds 7670 / 7938 / 8577): the model with it must land on them, and
    it streamed the experts at ~3x their speed before (5c-s26)."""
    with with_driver(driver):
        tg = _decode("qwen3:30b-a3b", "BF16")
    assert 0.95 * min(logs) <= tg <= 1.05 * max(logs), tg


def test_without_the_rule_the_experts_stream(monkeypatch):
    priced = _decode("qwen3:30b-a3b", "BF16")
    _unpriced(monkeypatch)
    assert _decode("qwen3:30b-a3b", "BF16") > 2.5 * priced


@pytest.mark.parametrize("model_id, quant, hw, backend", [
    ("qwen3:30b-a3b", "Q4_K_M", STRIX, "vulkan"),   # quantized experts take the mat-vec
    ("qwen3:30b-a3b", "F16", STRIX, "vulkan"),      # so do F16 ones
    ("gemma3:27b", "BF16", STRIX, "vulkan"),        # a dense BF16 model: ggml_vk_mul_mat's mat-vec takes BF16
    ("qwen3:30b-a3b", "BF16", STRIX, "rocm"),       # ggml-cuda under HIP: mmvf at one token
    ("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "vulkan"),  # RDNA 3.0: the same tile, its call time not measured
    ("qwen3:30b-a3b", "BF16", "rx 9070 xt", "vulkan"),   # RDNA 4: BF16 cooperative matrices, another shader
])
def test_nothing_changes_off_the_measured_path(monkeypatch, model_id, quant, hw, backend):
    before = _decode(model_id, quant, hw, backend)
    _unpriced(monkeypatch)
    assert _decode(model_id, quant, hw, backend) == pytest.approx(before, rel=1e-12)


def test_experts_held_in_ram_are_not_charged(monkeypatch):
    """--n-cpu-moe over every layer: the GPU runs no BF16 MUL_MAT_ID; over all but 8, only those 8 layers pay."""
    n = get_model("qwen3:30b-a3b").n_layers
    all_ram = _decode("qwen3:30b-a3b", "BF16", cpu_moe=n)
    some = _decode("qwen3:30b-a3b", "BF16", cpu_moe=n - 8)
    _unpriced(monkeypatch)
    assert _decode("qwen3:30b-a3b", "BF16", cpu_moe=n) == pytest.approx(all_ram, rel=1e-12)
    assert _decode("qwen3:30b-a3b", "BF16", cpu_moe=n - 8) > some


def test_a_fused_gate_up_layer_pays_two_calls_not_three():
    """Gemma 4 holds gate and up as one ffn_gate_up_exps tensor (one MUL_MAT_ID); Qwen3.6 runs three. With the
    streaming credit taken away (infinite bandwidth) the per-layer charge is calls x the call time."""
    device = _machine(STRIX, "vulkan").devices[0]
    per_layer = {}
    for model_id in ("gemma4:26b", "qwen3.6:35b"):
        model = get_model(model_id)
        work = token_work(model, get_quant("BF16"))
        layers = [i for i in range(model.n_layers) if model.is_moe_layer(i)]
        per_layer[model_id] = vulkan_path.bf16_expert_decode_seconds(model, work, device, float("inf"),
                                                                     range(model.n_layers)) / len(layers)
    assert per_layer["gemma4:26b"] / per_layer["qwen3.6:35b"] == pytest.approx(2 / 3)


def test_the_charge_never_goes_below_streaming():
    """A GPU slow enough to stream the routed experts longer than the calls take adds nothing."""
    model = get_model("qwen3:30b-a3b")
    work = token_work(model, get_quant("BF16"))
    device = _machine(STRIX, "vulkan").devices[0]
    assert vulkan_path.bf16_expert_decode_seconds(model, work, device, 1e6, range(model.n_layers)) == 0.0
    assert vulkan_path.bf16_expert_decode_seconds(model, work, device, 256e9, range(model.n_layers)) > 0.0
