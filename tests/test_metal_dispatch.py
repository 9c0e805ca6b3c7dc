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
    metal, cuda = _device("m3 ultra 512gb"), _device("rtx 4090")
    with at_build("2024-05"):
        assert metal_path.layer_scale(metal) == 1.0
    assert metal_path.layer_scale(metal) == pytest.approx(12 / 17)  # no build stated: the latest
    assert metal_path.layer_scale(cuda) == 1.0


def test_a_new_build_saves_five_of_seventeen_layer_waits_per_token():
    # Llama 3.2 3B (28 layers) on an M3 Ultra: the same bytes, 28 x layer_s x (1 - 12/17) less per token (at an empty
    # cache: a 2024 build's unfused attention at depth costs more besides, tests/test_metal_fa_decode.py)
    layer_s = efficiency("metal").layer_s
    with at_build("2024-05"):
        old = _decode_s("llama3.2:3b", "m3 ultra 512gb", depth=0)
    new = _decode_s("llama3.2:3b", "m3 ultra 512gb", depth=0)
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
