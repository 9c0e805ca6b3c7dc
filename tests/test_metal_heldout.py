"""benchmarks/metal_heldout.py: the Metal rows in no fit and the fixed time per layer each implies (methodology
5e-metal4)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import metal_heldout  # noqa: E402


def test_the_implied_layer_time_closes_the_gap_between_streaming_and_the_measurement():
    # M5 Max (llmfit PR #822, session 18): a row's implied per-layer time x layers + its streamed seconds is the
    # measured seconds per token; the modelled one gives the prediction back the same way (builds from 2025-09-13: 137 us)
    rs = metal_heldout.rows(lambda r: r.hardware == "m5-max-40c-48gb")
    assert {r["model"] for r in rs} == {"llama3.2:1b", "llama3.2:3b", "llama3.1:8b"}
    for r in rs:
        n = {"llama3.2:1b": 16, "llama3.2:3b": 28, "llama3.1:8b": 32}[r["model"]]
        streamed = 1.0 / r["measured"] - r["implied_layer_us"] * 1e-6 * n
        assert 1.0 / r["predicted"] - streamed == pytest.approx(r["modelled_layer_us"] * 1e-6 * n, rel=1e-9)
        assert r["modelled_layer_us"] == pytest.approx(194.71 * 12 / 17, rel=0.01)
    s = metal_heldout.summary(rs)
    assert s["decode"]["n"] == 3 and s["prefill"]["n"] == 0
