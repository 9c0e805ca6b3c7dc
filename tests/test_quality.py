"""Quality per quantization: published measurements in every option, a warning at 3 bits and below, a floor in the one
selection rule (fit, hardware --for, models --fits), and a smaller model named when it is the better choice.

The figures are checked against a second table of the same README (the LLaMA 2 vs 3 comparison gives "Mean PPL ratio"
per type, measured in the same runs): data/quality.yaml stores KLD and absolute ΔPPL from the scoreboard, and the
percentage the code derives must equal the ratio the README prints.
"""
from __future__ import annotations

import json
from pathlib import Path

import schemakit
import pytest

from selfhost_advisor.catalog.quants import all_quants
from selfhost_advisor.cli import main
from selfhost_advisor.estimate.quality import at_least, low_bits, min_quant, quality
from selfhost_advisor.errors import BadOptionError

SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schema"


@pytest.mark.parametrize("quant,ratio", [("Q8_0", 1.000425), ("Q6_K", 1.003490), ("Q4_K_M", 1.028160),
                                         ("Q2_K", 1.564849)])
def test_ppl_delta_equals_the_readmes_measured_ratio(quant, ratio):
    assert quality(quant)["ppl_delta_pct"] == pytest.approx(100 * (ratio - 1), abs=0.01)


def test_quality_is_measured_or_none_and_orders_the_k_quants():
    klds = [quality(q)["kld"] for q in ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K")]
    assert klds == sorted(klds) and klds[3] == 0.031273
    assert quality("Q4_K_L") is None  # bartowski's _L variant: no published row
    assert "Llama 3 8B" in quality("Q4_K_M")["source"]


def test_low_bits_are_3_bit_and_lower():
    assert all(low_bits(q) for q in ("Q3_K_L", "IQ3_M", "Q2_K", "IQ2_XXS", "IQ1_S"))
    assert not any(low_bits(q) for q in ("Q4_K_M", "IQ4_XS", "Q4_0", "Q8_0", "F16"))


def test_floor_compares_measured_loss_not_list_order():
    assert min_quant(None) == "IQ3_M" and min_quant("any") is None and min_quant("q4_k_m") == "Q4_K_M"
    assert at_least("Q5_1", "", "IQ3_M")  # listed after IQ3_M in quants.yaml, but loses less
    assert at_least("Q3_K_XL", "Q3_K_L", "IQ3_M") and not at_least("Q2_K_L", "Q2_K", "IQ3_M")
    assert not at_least("IQ2_XXS", "", "IQ3_M") and at_least("IQ2_XXS", "", None)
    with pytest.raises(BadOptionError, match="--min-quant"):
        min_quant("Q9_K")
    assert {q.name for q in all_quants()} >= {"Q4_K_M", "IQ3_M"}


def _fit(capsys, *argv):
    code = main(["fit", *argv, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    schemakit.validate(data, json.loads((SCHEMAS / "fit.schema.json").read_text()))
    return data


def test_a_70b_on_24gb_is_not_recommended_at_2_bits_and_the_8b_is_named(capsys):
    data = _fit(capsys, "llama3.1:70b", "--hardware", "rtx4090")
    assert data["min_quant"] == "IQ3_M" and data["recommended"] is None
    assert all(o["quality"] is not None and {"kld", "ppl_delta_pct", "source"} <= set(o["quality"]) for o in data["options"])
    assert any("IQ2_XXS fits fully on GPU but loses more" in w for w in data["warnings"])
    alt = data["smaller_alternative"]
    assert alt["model"] == "llama3.1:8b" and alt["fit"] == "gpu" and alt["quality"]["kld"] <= 0.031273
    loose = _fit(capsys, "llama3.1:70b", "--hardware", "rtx4090", "--min-quant", "any")
    assert loose["recommended"] == "IQ2_XXS" and loose["min_quant"] is None
    assert any("3-bit-or-lower" in w for w in loose["warnings"])
    assert next(o for o in loose["options"] if o["quant"] == "IQ2_XXS")["low_bits"] is True


def test_a_named_quantization_is_sized_as_asked(capsys):
    data = _fit(capsys, "llama3.1:70b-instruct-iq2_xxs", "--hardware", "rtx4090")
    assert data["recommended"] == "IQ2_XXS" and data["min_quant"] is None


def test_models_fits_and_hardware_for_use_the_same_floor(capsys):
    floor_kld = quality("IQ3_M")["kld"]
    assert main(["models", "--fits", "rtx-3060-12gb", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["models"]
    picked = [r["option"] for r in rows if r.get("option")]
    assert picked and all(o["quality"] is None or o["quality"]["kld"] <= floor_kld for o in picked)
    assert main(["hardware", "--for", "llama3.1:70b", "--json"]) == 0
    cands = json.loads(capsys.readouterr().out)["candidates"]
    opts = [c["option"] for c in cands if c.get("option")]
    assert opts and all(o["quality"] is None or o["quality"]["kld"] <= floor_kld for o in opts)


def test_bad_min_quant_is_bad_input(capsys):
    assert main(["fit", "llama3.1:8b", "--hardware", "rtx4090", "--min-quant", "Q9_K"]) == 2
    err = capsys.readouterr().err
    assert "--min-quant" in err and err.count("\n") == 1
