"""The CPU's share of a partially offloaded prompt, when the CPU's clock is unknown (FLOPs at the host's rate): it
counts the attention the CPU does, which skips masked cells. The GPU's sliding-window walk (prompt_swa_extra, CUDA and
ROCm only) must not leak into it (session 20 review: the fallback summed the GPU's per-layer count)."""
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import speed_prefill
from selfhost_advisor.estimate.speed_work import token_work


def _seconds(monkeypatch, extra: int) -> float:
    model = get_model("gemma3:12b")
    assert model.sliding_window  # the walk only exists for sliding-window layers
    machine = machine_from_profile(get_profile("rtx-4090"), 1)
    monkeypatch.setattr(speed_prefill, "_cpu_prefill_seconds", lambda *a, **k: None)  # the clock-less fallback
    monkeypatch.setattr(speed_prefill, "_host_flops", lambda m: 1.0)  # the CPU's share dwarfs the GPU's
    monkeypatch.setattr(speed_prefill, "prompt_swa_extra", lambda n_ubatch, backend: extra)
    data = {**speed_prefill._speed_data(), "pcie_bytes_per_s": 1e-9}  # no op offload of the CPU layers' matmuls
    monkeypatch.setattr(speed_prefill, "_speed_data", lambda: data)
    n = model.n_layers
    placement = Placement(fit="partial", gpu_layers=4, total_layers=n + 1, gpu_bytes=1, cpu_bytes=1)
    return speed_prefill._prefill_seconds_per_token(model, token_work(model, get_quant("Q4_K_M")), placement,
                                                    machine, 16384, 512)


def test_the_gpu_masked_walk_does_not_enter_the_cpu_layers(monkeypatch):
    plain, walked = _seconds(monkeypatch, 0), _seconds(monkeypatch, 100_000)
    assert plain > 1e6  # the CPU's share is what is measured here
    assert abs(walked / plain - 1) < 1e-6
