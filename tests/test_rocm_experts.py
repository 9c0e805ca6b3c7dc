"""ROCm prompts of 16-bit routed experts on RDNA 3.5 run at the rate the same GPU's logs of that path show
(estimate/rocm_experts.py, data/speed.yaml rocm_16bit_expert_rate, docs/methodology.md 5f-rocm29): ggml-cuda multiplies
them one expert at a time on the 16-32 tokens routed to each (mmf, or past its limit one hipBLAS call per touched
expert), far below the dense BF16 rate. The share was solved off kyuz0's Qwen3-30B-A3B BF16 logs of build 8577, which no
scorer reads."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import rocm_experts, speed_factors
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
STRIX = "ryzen ai max+ 395 128gb"


def _prefill(model_id: str, quant: str, hw: str = STRIX, backend: str = "rocm", n_ubatch: int = 512,
             cpu_moe: int = 0) -> float:
    model = get_model(model_id)
    n = model.n_layers
    machine = machine_from_profile(hw_names.resolve(hw), 1)
    machine = replace(machine, devices=tuple(replace(d, backend=backend, memory_bytes=max(d.memory_bytes, 128 * 2**30))
                                             for d in machine.devices), ram_bytes=256 * 2**30)
    place = Placement("gpu" if not cpu_moe else "partial", n + 1, n + 1, 0, 0, per_device_layers=(n,),
                      cpu_moe_layers=cpu_moe)
    return estimate_speed(model, get_quant(quant), place, machine, n_ubatch=n_ubatch).prefill_tokens_per_s


def _without(fn, monkeypatch):
    data = dict(speed_factors._speed_data())
    data.pop("rocm_16bit_expert_rate")
    with monkeypatch.context() as m:
        m.setattr(speed_factors, "_speed_data", lambda: data)
        return fn()


def test_bf16_moe_prompt_on_strix_halo_rocm_is_slower_than_the_dense_rate(monkeypatch):
    """Qwen3-30B-A3B BF16 at -ub 512 (32 tokens an expert): the routed experts, ~half the active weights, at ~4 % of
    the peak take the prompt well below the dense-rate figure."""
    with_term = _prefill("qwen3:30b-a3b", "BF16")
    dense = _without(lambda: _prefill("qwen3:30b-a3b", "BF16"), monkeypatch)
    assert with_term < 0.5 * dense


@pytest.mark.parametrize("model_id, quant, hw, backend, n_ubatch, cpu_moe", [
    ("qwen3:30b-a3b", "Q8_0", STRIX, "rocm", 512, 0),        # quantized experts: MMQ, not this path
    ("qwen3:30b-a3b", "BF16", STRIX, "vulkan", 512, 0),      # another backend (its own term, vulkan_path)
    ("qwen3:30b-a3b", "BF16", "rx 7900 xtx", "rocm", 512, 0),  # RDNA 3 dGPU: the path runs there unmeasured
    ("qwen3:30b-a3b", "BF16", STRIX, "rocm", 2048, 0),       # 128 tokens an expert: past what was measured
    ("qwen3:30b-a3b", "BF16", STRIX, "rocm", 8, 0),          # the mat-vec's batch
    ("qwen3:30b-a3b", "BF16", STRIX, "rocm", 512, 48),       # every routed expert in RAM (--n-cpu-moe)
    ("gemma3:27b", "BF16", STRIX, "rocm", 512, 0),           # dense BF16: no routed experts
])
def test_nothing_changes_off_the_measured_path(model_id, quant, hw, backend, n_ubatch, cpu_moe, monkeypatch):
    shipped = _prefill(model_id, quant, hw, backend, n_ubatch, cpu_moe)
    dense = _without(lambda: _prefill(model_id, quant, hw, backend, n_ubatch, cpu_moe), monkeypatch)
    assert shipped == pytest.approx(dense, rel=1e-12)


def test_some_experts_in_ram_charge_only_the_gpu_layers(monkeypatch):
    """--n-cpu-moe 24 of 48 layers: the GPU-held half of the experts pay the slow rate, so the prompt lands between the
    all-GPU figure and the dense-rate one."""
    half = _prefill("qwen3:30b-a3b", "BF16", cpu_moe=24)
    half_dense = _without(lambda: _prefill("qwen3:30b-a3b", "BF16", cpu_moe=24), monkeypatch)
    assert half < half_dense


# kyuz0/amd-strix-halo-toolboxes a7ace8d: Qwen3-30B-A3B BF16 pp512, build 8577, hipBLASLt on / off
LOGS = (474.42, 479.78, 556.96, 556.80, 503.77, 482.99)


def test_the_logs_the_share_was_measured_on_read_within_their_spread():
    """The median share puts each log within the spread of the three ROCm releases (6.4.4 runs 17 % faster than 7.2)."""
    with at_build("2026-03-29"), fa_stated(True):  # the logs ran -fa 1 (their names' `__fa1`)
        est = _prefill("qwen3:30b-a3b", "BF16")
    for measured in LOGS:
        assert abs(est / measured - 1.0) < 0.15, (est, measured)


def test_the_shipped_share_is_the_derivation_s_median():
    sys.path.insert(0, str(ROOT / "scripts"))
    import rocm_expert_rate

    shares = sorted(rocm_expert_rate.solve(r) for r in rocm_expert_rate.LOGS.values())
    median = (shares[2] + shares[3]) / 2
    assert float(speed_factors._speed_data()["rocm_16bit_expert_rate"]["peak_share"]) == pytest.approx(median, abs=5e-4)


def test_priced_follows_tokens_an_expert():
    """32 tokens an expert was measured; Qwen3.6-35B-A3B (256 experts, 8 used) at -ub 1024 gives 32, at 1025 more."""
    model = get_model("qwen3.6:35b")
    device = replace(machine_from_profile(hw_names.resolve(STRIX), 1).devices[0], backend="rocm")
    assert rocm_experts.priced(model, device, 1024)
    assert not rocm_experts.priced(model, device, 1100)
