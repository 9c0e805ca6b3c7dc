"""Metal prefill on M1 / M2: the K-quants' unpacking beyond the legacy types' (estimate/metal_path.py
dequant_type_seconds, data/speed.yaml metal_dequant_types, docs/methodology.md 5e-metal4-s21)."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import metalkit
import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate import metal_path
from selfhost_advisor.estimate.speed import efficiency
from selfhost_advisor.estimate.speed_work import token_work

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import metal_heldout  # noqa: E402

# ggerganov's M2 Ultra table in llama.cpp PR #3084 (2023-09-09), LLaMA 7B pp 512: (master, PR) t/s
PR3084 = {"Q4_0": (1032.08, 1164.00), "Q8_0": (1029.88, 1142.84), "Q6_K": (856.86, 977.56),
          "Q5_K_S": (857.07, 977.60), "Q4_K_M": (920.57, 1028.20)}


_device, _prefill = metalkit.device, metalkit.prefill


def test_the_factors_are_pr3084s_table_read_as_the_data_says():
    """factor - 1 = time(type) / mean time(Q4_0, Q8_0) - 1 per column, the two columns averaged; Q4_K from the Q4_K_M
    file less its Q6_K matrices (their share of the weights from the tensor model)."""
    mats = [m for layer in token_work(get("llama2:7b"), get_quant("Q4_K_M")).layer_matrices for m in layer]
    s6 = sum(n for ty, n, _ in mats if ty == "Q6_K") / sum(n for _, n, _ in mats)
    assert 0.12 < s6 < 0.18  # attn_v and ffn_down of the "more bits" layers
    got: dict[str, list[float]] = {"Q4_K": [], "Q5_K": [], "Q6_K": []}
    for col in (0, 1):
        legacy = (1 / PR3084["Q4_0"][col] + 1 / PR3084["Q8_0"][col]) / 2
        f6 = 1 / PR3084["Q6_K"][col] / legacy - 1
        got["Q6_K"].append(f6)
        got["Q5_K"].append(1 / PR3084["Q5_K_S"][col] / legacy - 1)
        got["Q4_K"].append((1 / PR3084["Q4_K_M"][col] / legacy - 1 - s6 * f6) / (1 - s6))
    factors = load("speed")["metal_dequant_types"]["time_factor"]
    assert set(factors) == set(got)
    for ty, fs in got.items():
        assert factors[ty] == pytest.approx(1 + statistics.mean(fs), abs=0.005), ty
    assert 1.0 < factors["Q4_K"] < factors["Q5_K"] <= factors["Q6_K"] < 1.25


def test_k_quant_prefill_pays_the_factor_on_m1_m2_only():
    """Same model and FLOPs: on an M2 Max Q6_K prefills slower than Q4_0 by about its factor (the matmuls are most of
    a 7B's prompt time); on an M3 Max, which hides the unpacking, both run at the 16-bit share."""
    f6 = load("speed")["metal_dequant_types"]["time_factor"]["Q6_K"]
    ratio = _prefill("m2-max-38c-64gb", "Q4_0") / _prefill("m2-max-38c-64gb", "Q6_K")
    assert 1 + 0.85 * (f6 - 1) < ratio <= f6
    assert _prefill("m3 max 128gb", "Q6_K") == pytest.approx(_prefill("m3 max 128gb", "Q4_0"), rel=1e-9)
    mats = ((("Q4_K", 10**9, 0), ("Q6_K", 10**9, 0), ("Q4_0", 10**9, 0)),)
    assert metal_path.dequant_type_seconds(mats, 0.5, 1e13, _device("rtx 4090")) == 0.0
    assert metal_path.dequant_type_seconds(mats, 0.5, 1e13, _device("m3 max 128gb")) == 0.0
    # by hand on an M1 Max: 2 x weights x (factor - 1) / (efficiency x peak), Q4_0 adds nothing
    factors = load("speed")["metal_dequant_types"]["time_factor"]
    want = 2e9 * ((factors["Q4_K"] - 1) + (factors["Q6_K"] - 1)) / (0.5 * 1e13)
    assert metal_path.dequant_type_seconds(mats, 0.5, 1e13, _device("m1-max-64gb")) == pytest.approx(want)
    assert efficiency("metal").compute_quant < efficiency("metal").compute_f16


def test_same_build_q4_k_m_over_f16_on_chips_outside_the_fit():
    """XiongjieDai's May-2024 table (held out): the Q4_K_M / F16 prompt ratio of one build per chip. M1 Max 8B 0.789,
    M2 Ultra 8B 0.846; with one quantized share for every type the model gave 0.90 for both (+14%, +6%)."""
    rs = metal_heldout.rows(lambda r: r.build_date == "2024-05" and r.test == "pp512" and r.model_id == "llama3:8b")
    pp = {(r["hardware"], r["quant"]): r for r in rs}
    for hw in ("m1-max-32c-64gb", "m2-ultra-76c-192gb"):
        q, f = pp[(hw, "Q4_K_M")], pp[(hw, "F16")]
        measured, predicted = q["measured"] / f["measured"], q["predicted"] / f["predicted"]
        assert predicted == pytest.approx(measured, rel=0.05), hw
