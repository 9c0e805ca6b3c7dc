"""Small matrices on many SMs / CUs: the share of the device a prompt matmul keeps busy (estimate/occupancy.py,
docs/methodology.md 5-smallmat), and that models which fill the device are estimated as before."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import occupancy
from selfhost_advisor.estimate.speed import estimate_speed


def _machine(name: str):
    return machine_from_profile(hw_names.resolve(name), 1)


def _prefill(model_id: str, hardware: str, quant: str = "Q4_K_M") -> float:
    model = get_model(model_id)
    n = model.n_layers
    place = Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=(n,))
    return estimate_speed(model, get_quant(quant), place, _machine(hardware), prefill_depth=256).prefill_tokens_per_s


@pytest.mark.parametrize("n_tokens, tiles", [(512, 4), (128, 1), (129, 2), (100, 1), (1, 1), (2048, 16)])
def test_column_tiles_take_the_width_with_the_fewest_tiles(n_tokens, tiles):
    assert occupancy.column_tiles(n_tokens) == tiles


def test_stream_k_shares_k_iterations_and_tiles_alone_do_not():
    # Qwen2.5-1.5B's K projection (256 rows x 1536) at 512 tokens: 2 x 4 tiles, x 6 k-iterations of 256 = 48 units
    assert occupancy.busy_share(256, 1536, 512, 256, streamed=True) == pytest.approx(48 / 256)
    assert occupancy.busy_share(256, 1536, 512, 256, streamed=False) == pytest.approx(8 / 256)
    # LLaMA-2 7B's Q projection on 132 SMs: 32 x 4 tiles x 16 iterations, far more than one per SM
    assert occupancy.busy_share(4096, 4096, 512, 132, streamed=True) == 1.0
    # without stream-k its 128 tiles leave 4 of 132 SMs idle
    assert occupancy.busy_share(4096, 4096, 512, 132, streamed=False) == pytest.approx(128 / 132)


def test_a_model_that_fills_the_device_is_not_slowed():
    d = _machine("h100 sxm").devices[0]
    assert occupancy.prefill_factor(get_model("llama2:7b"), d, 0, 32, 512) == 1.0


def test_a_small_model_on_many_sms_is_slowed_by_its_idle_sms():
    d = _machine("h100 sxm").devices[0]
    model = get_model("qwen2.5:0.5b")  # 2 KV heads x 64: a 128-row K / V projection, 16 units on 132 SMs
    factor = occupancy.prefill_factor(model, d, 0, model.n_layers, 512)
    assert factor > 1.0
    # fewer SMs, same matrices: less idle
    assert occupancy.prefill_factor(model, _machine("rtx 4060").devices[0], 0, model.n_layers, 512) < factor


def test_the_prefill_estimate_applies_the_factor_to_small_models_only(monkeypatch):
    small_before = _prefill("qwen2.5:0.5b", "h100 sxm")
    big_before = _prefill("llama2:7b", "h100 sxm", "Q4_0")
    monkeypatch.setattr(occupancy, "prefill_factor", lambda *a, **k: 1.0)
    assert _prefill("qwen2.5:0.5b", "h100 sxm") > small_before  # the idle SMs cost time
    assert _prefill("llama2:7b", "h100 sxm", "Q4_0") == big_before  # a model that fills the device: unchanged


@pytest.mark.parametrize("hardware", ["m4-max-128gb", "arc b580"])
def test_other_backends_run_other_kernels_and_get_no_factor(hardware):
    d = _machine(hardware).devices[0]
    assert occupancy.prefill_factor(get_model("qwen2.5:0.5b"), d, 0, 24, 512) == 1.0


def test_stream_k_follows_mmq_cu_use_stream_k():
    assert occupancy.stream_k(_machine("h100 sxm").devices[0])  # NVIDIA, Volta and later
    assert occupancy.stream_k(_machine("instinct mi300x").devices[0])  # CDNA
    assert not occupancy.stream_k(_machine("rx 7900 xtx").devices[0])  # RDNA: one block per tile
