"""Metal decode's fixed time per layer by the build's serial dispatch steps (estimate/metal_path.py layer_scale,
data/speed.yaml metal_dispatch, docs/methodology.md 5e-apple2): llama.cpp PR #15929 (2025-09-13) runs a dense layer's
independent kernels side by side, 12 serial steps instead of 17."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yamlkit

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import metal_path
from selfhost_advisor.estimate.kernel_path import at_build
from selfhost_advisor.estimate.speed import efficiency, estimate_speed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))


def _device(hw: str):
    return machine_from_profile(get_profile(hw), 1).devices[0]


def _decode_s(model: str, hw: str, depth: int = 64) -> float:
    m = get(model)
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    return 1.0 / estimate_speed(m, get_quant("Q4_K_M"), pl, machine_from_profile(get_profile(hw), 1),
                                decode_depth=depth).decode_tokens_per_s


@pytest.mark.parametrize("date, steps", [("2023-11", 17), ("2025-09-12", 17), ("2025-09-13", 12), ("2026-02-07", 12),
                                         ("9999", 12)])
def test_serial_steps_change_with_pr_15929(date, steps):
    # counted on PR #15929's encode log of one layer: 17 nodes one after another before it, 12 steps after
    assert metal_path.serial_steps(date) == steps


def test_the_scale_applies_to_metal_builds_after_the_change_only():
    # an M2 (Apple GPU family 8): the step count alone, no generation scale (test_concurrent_steps_... below)
    metal, cuda = _device("m2-ultra-192gb"), _device("rtx 4090")
    with at_build("2024-05"):
        assert metal_path.layer_scale(metal) == 1.0
    assert metal_path.layer_scale(metal) == pytest.approx(12 / 17)  # no build stated: the latest
    assert metal_path.layer_scale(cuda) == 1.0


def test_a_new_build_saves_five_of_seventeen_layer_waits_per_token():
    # Llama 3.2 3B (28 layers) on an M2 Ultra: the same bytes, 28 x layer_s x (1 - 12/17) less per token (at an empty
    # cache: a 2024 build's unfused attention at depth costs more besides, tests/test_metal_fa_decode.py)
    layer_s = efficiency("metal").layer_s
    with at_build("2024-05"):
        old = _decode_s("llama3.2:3b", "m2-ultra-192gb", depth=0)
    new = _decode_s("llama3.2:3b", "m2-ultra-192gb", depth=0)
    assert old - new == pytest.approx(28 * layer_s * 5 / 17, rel=1e-6)


def test_every_metal_row_states_the_build_era_it_ran():
    import fit_speed

    cal = [r for r in fit_speed.calibration_rows()[0] if r.backend == "metal"]
    assert len(cal) >= 59 and all(r.build_date and r.build_date < "2025-09-13" for r in cal)
    rows = yamlkit.safe_load((ROOT / "benchmarks/published/llamabench_weak.yaml").read_text())["rows"]
    metal = [r for r in rows if r["backend"] == "metal"]
    assert metal and all(r.get("build_date") for r in metal)


def test_moe_layers_keep_the_calibration_time():
    # the step count is a dense layer's; a MoE model's decode on Metal is the same at any build
    m = get("qwen3-coder:30b")
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    mach = machine_from_profile(get_profile("m2-ultra-192gb"), 1)
    with at_build("2024-05"):
        old = estimate_speed(m, get_quant("Q8_0"), pl, mach).decode_tokens_per_s
    assert estimate_speed(m, get_quant("Q8_0"), pl, mach).decode_tokens_per_s == pytest.approx(old, rel=1e-9)


# --- session 26 (metal6; docs/methodology.md 5e-metal8): with PR #15929's concurrent encoder an M3+ step is shorter,
# by MLX's fitted step scale (data/engines.yaml mlx.step_time_by_generation), read from that key

def _mlx_scale() -> float:
    from selfhost_advisor.catalog.data import load

    return float(load("engines")["engines"]["mlx"]["step_time_by_generation"]["scale"])


@pytest.mark.parametrize("hw, shorter", [("m1-pro-32gb", False), ("m2-ultra-192gb", False), ("m3-max-128gb", True),
                                         ("m4-pro-20c-24gb", True), ("m5-max-40c-128gb", True)])
def test_concurrent_steps_are_shorter_from_the_m3_on(hw, shorter):
    d = _device(hw)
    assert metal_path.concurrent_step_scale(d) == pytest.approx(_mlx_scale() if shorter else 1.0)
    with at_build("2025-09-12"):  # serial dispatch before PR #15929: every generation at the calibration's step
        assert metal_path.concurrent_step_scale(d) == 1.0


def test_the_m3_step_scale_is_mlx_s_and_below_one():
    # one figure for both engines, and one that shortens: an M3+ layer never costs more than an M1/M2 layer
    assert 0.0 < _mlx_scale() < 1.0
    assert metal_path.layer_scale(_device("m4-pro-20c-24gb")) < metal_path.layer_scale(_device("m2-ultra-192gb"))


def test_the_m3_calibration_era_decode_does_not_move():
    # the calibration's M3 rows (2023-24 builds, serial dispatch) fit with no generation term: a 2024 build's
    # decode on an M3 Max is the same with or without the rule
    d = _device("m3-max-128gb")
    with at_build("2024-05"):
        assert metal_path.layer_scale(d) == 1.0
        assert metal_path.recurrent_extra_scale(d) == 0.0


def test_an_m4_pro_decodes_a_small_dense_model_faster_than_the_step_count_alone_gives(monkeypatch):
    # Llama 3.2 3B (28 layers) on an M4 Pro at the latest build: 28 x layer_s x 12/17 x (1 - scale) less per token
    # than at the M1 / M2 step, the same bytes
    layer_s = efficiency("metal").layer_s
    new = _decode_s("llama3.2:3b", "m4-pro-20c-24gb", depth=0)
    monkeypatch.setattr(metal_path, "concurrent_step_scale", lambda device: 1.0)
    plain = _decode_s("llama3.2:3b", "m4-pro-20c-24gb", depth=0)
    assert plain - new == pytest.approx(28 * layer_s * 12 / 17 * (1 - _mlx_scale()), rel=1e-6)


def test_models_with_delta_net_layers_keep_the_calibration_step():
    # a Qwen3.5 hybrid's 16-step delta-net layers were checked on M4 Pro rows at the calibration's step (5e-metal3):
    # no M3+ scale there, so its decode on an M4 Pro is what it was at the same step count
    d = _device("m4-pro-20c-24gb")
    assert metal_path.layer_scale(d, recurrent=True) == pytest.approx(12 / 17)
    assert metal_path.layer_scale(d) == pytest.approx(12 / 17 * _mlx_scale())
    assert get("qwen3.5:4b").ssm is not None and get("llama3.2:3b").ssm is None


def test_an_m3_plus_moe_layer_keeps_its_time_at_the_shorter_step():
    # session 26: an MoE layer of an attention model keeps the calibration's (uncounted) time, each step at the M3+
    # scale from PR #15929 on; an M2's, a hybrid MoE's and a pre-#15929 build's are unchanged
    from selfhost_advisor.estimate.speed_gpu import layer_seconds

    eff = efficiency("metal")
    m4, m2 = _device("m4-max-128gb"), _device("m2-ultra-192gb")
    assert layer_seconds(eff, m4) == pytest.approx(eff.layer_s * _mlx_scale())
    assert layer_seconds(eff, m4, recurrent=True) == pytest.approx(eff.layer_s)
    assert layer_seconds(eff, m2) == pytest.approx(eff.layer_s)
    with at_build("2025-08-26"):
        assert layer_seconds(eff, m4) == pytest.approx(eff.layer_s)
