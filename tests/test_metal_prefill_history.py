"""Metal prefill: the matmul kernels' speedups by build (estimate/metal_path.py matmul_speedup / matmul_time_scale,
data/speed.yaml metal_prefill_history, docs/methodology.md 5e-metal5): PR #15857 (2025-09-20) reordered
kernel_mul_mm's simdgroup barriers, PR #20962 (2026-04-25) gave the tensor-API path its own kernel."""
from __future__ import annotations

import math

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import metal_path
from selfhost_advisor.estimate.kernel_path import at_build, fa_stated
from selfhost_advisor.estimate.speed import estimate_speed

# ggerganov's table in llama.cpp PR #15857, depth 0: (master, PR) t/s
PR15857 = {"gemma3 12B Q8_0 pp512": (807.32, 838.85), "gemma3 4B Q8_0 pp512": (2473.10, 2641.20)}


def _device(hw: str):
    return machine_from_profile(get_profile(hw), 1).devices[0]


def _speed(hw: str, model: str, quant: str = "Q4_K_M"):
    m = get(model)
    pl = Placement("gpu", m.n_layers + 1, m.n_layers + 1, 0, 0)
    return estimate_speed(m, get_quant(quant), pl, machine_from_profile(get_profile(hw), 1))


def _change(pr: int) -> dict:
    return next(c for c in load("speed")["metal_prefill_history"]["history"] if c["pr"] == pr)


def test_pr15857s_speedup_is_its_tables_geometric_mean():
    ratios = [new / old for old, new in PR15857.values()]
    assert _change(15857)["speedup"] == pytest.approx(math.prod(ratios) ** (1 / len(ratios)), abs=5e-4)
    assert (_change(15857)["kernel"], _change(15857)["path"]) == ("mul_mm", "simdgroup")


@pytest.mark.parametrize("date, want", [("2024-11", 1.0), ("2025-09-19", 1.0), ("2025-09-20", 1.0534),
                                        ("2026-03-08", 1.0534), ("9999", 1.0534)])
def test_the_dense_kernel_on_a_simdgroup_chip_is_faster_from_the_merge(date, want):
    with at_build(date):
        assert metal_path.matmul_speedup(_device("m4-16gb"), "mul_mm") == pytest.approx(want)
        # kernel_mul_mm_id kept the old barrier order in PR #15857: no speedup read for it
        assert metal_path.matmul_speedup(_device("m4-16gb"), "mul_mm_id") == 1.0


def test_the_tensor_path_takes_pr20962_only_and_other_backends_nothing():
    m5 = _device("m5 32gb")
    with at_build("2026-04-24"):
        assert metal_path.matmul_speedup(m5) == 1.0  # #15857's barrier order is the simdgroup kernel's
    with at_build("2026-04-25"):
        assert metal_path.matmul_speedup(m5) == pytest.approx(1.26)
    assert metal_path.matmul_speedup(_device("rtx 4090")) == 1.0
    assert metal_path.matmul_time_scale(_device("rtx 4090"), 1e9, 0.0) == 1.0


def test_expert_weights_keep_their_time_and_dense_weights_take_the_speedup():
    d = _device("m2-ultra-192gb")
    with at_build("2026-01-10"):
        s = metal_path.matmul_speedup(d)
        assert metal_path.matmul_time_scale(d, 1e9, 0.0) == pytest.approx(1 / s)
        assert metal_path.matmul_time_scale(d, 1e9, 1e9) == 1.0
        assert metal_path.matmul_time_scale(d, 1e9, 0.75e9) == pytest.approx(0.25 / s + 0.75)


def test_a_new_build_prefills_faster_by_less_than_the_kernel_and_decodes_the_same():
    # Llama 3.1 8B on an M4: the matmuls are most of a pp512's time, attention and the rest are not sped up (run
    # without flash attention: the same PR's kernel_flash_attn_ext rewrite is metal_fa_prefill_history's, tested apart)
    with at_build("2025-09-19"), fa_stated(False):
        old = _speed("m4-16gb", "llama3.1:8b")
    with at_build("2025-09-20"), fa_stated(False):
        new = _speed("m4-16gb", "llama3.1:8b")
    gain = new.prefill_tokens_per_s / old.prefill_tokens_per_s
    assert 1.03 < gain < 1.0534
    assert new.decode_tokens_per_s == pytest.approx(old.decode_tokens_per_s)
