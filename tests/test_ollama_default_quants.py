"""The quantization Ollama pulls for FAMILY / FAMILY:latest (data/ollama_default_quants.yaml), checked against the sizes
it was read from: the library's 2026-04 tag sizes (two or three digits), exact blob sizes where two quantizations share
the two-digit size, and `ollama show` outputs. The rule is the file's `rule`: a quantization matches a listed size when
the estimated GGUF file lies within 1% of the range the printed digits stand for."""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import resolve as resolve_name
from selfhost_advisor.catalog.quants import get_quant

DATA = load("ollama_default_quants")
FAMILIES = DATA["families"]
CANDIDATES = DATA["candidates"]["quants"]
UNITS = {"GB": 1e9, "MB": 1e6, "MiB": 2**20, "B": 1}


def size_range(text: str) -> tuple[float, float]:
    """'4.1 GB' -> (4.05e9, 4.15e9): what the printed digits stand for; an exact size ('3919.46 MiB') likewise."""
    number, unit = text.split()
    decimals = len(number.partition(".")[2])
    half = 0.5 * 10.0**-decimals
    return (float(number) - half) * UNITS[unit], (float(number) + half) * UNITS[unit]


def matches(model, text: str, tolerance: float) -> list[str]:
    lo, hi = size_range(text)
    return [q for q in CANDIDATES if lo * (1 - tolerance) <= accuracy.file_bytes(model, get_quant(q)) <= hi * (1 + tolerance)]


def _model(family):
    return resolve_name(f"{family}:latest").model


def test_the_table_is_sourced_and_large_enough():
    assert DATA["source"] and DATA["as_of"] and DATA["rule"] and DATA["candidates"]["source"]
    assert len(FAMILIES) >= 10
    for family, rec in FAMILIES.items():
        assert rec["by"] in ("size", "exact", "stated"), family
        for key in [rec.get("also"), *(rec.get("exact") or {})]:
            assert key is None or key in DATA["sources"], (family, key)
    assert not set(FAMILIES) & set(DATA["not_derived"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_default_quant_is_the_one_its_sizes_allow(family):
    rec = FAMILIES[family]
    model = _model(family)
    found = matches(model, rec["size"], 0.01)
    assert rec["quant"] in found, (family, found)
    if rec["by"] == "size":
        assert found == [rec["quant"]], (family, found)  # exactly one candidate: the size decides
    if rec["by"] == "exact":
        assert len(found) > 1  # the two-digit size alone does not decide (else it would be `by: size`)
    for exact in (rec.get("exact") or {}).values():
        assert matches(model, exact, 0.005) == [rec["quant"]], (family, exact)


@pytest.mark.parametrize("family", sorted(DATA["not_derived"]))
def test_families_left_out_have_no_default_quant(family):
    from selfhost_advisor.catalog.ollama_defaults import default_quant

    assert default_quant(family) is None
    assert len(DATA["not_derived"][family]) > 20


def test_fit_of_a_bare_family_sizes_its_default_quant_and_says_so():
    from selfhost_advisor import api

    r = api.fit("deepscaler", "rtx-4090")  # deepscaler:latest is the 1.5B at F16 (3.6 GB), not a Q4_K_M
    assert [o.quant.name for o in r.options] == ["F16"] and r.recommended == "F16"
    dq = r.assumptions["ollama_default_quant"]
    assert dq["tag"] == "deepscaler:latest" and dq["quant"] == "F16" and dq["applied"] and "Alpaca" in dq["source"]
    latest = api.fit("zephyr:latest", "rtx-4090")
    assert [o.quant.name for o in latest.options] == ["Q4_0"]
    # an explicit --quant wins, and the default is still reported, not applied
    asked = api.fit("zephyr", "rtx-4090", quant="Q4_K_M,Q8_0")
    assert [o.quant.name for o in asked.options] == ["Q8_0", "Q4_K_M"]
    assert asked.assumptions["ollama_default_quant"]["applied"] is False
    # a size tag, a tag naming its quantization, or a family with no sourced default: every quantization as before
    for name in ("zephyr:7b", "qwen3"):
        r = api.fit(name, "rtx-4090")
        assert len(r.options) > 5 and "ollama_default_quant" not in r.assumptions, name
    assert [o.quant.name for o in api.fit("zephyr:latest-q8_0", "rtx-4090").options] == ["Q8_0"]


def test_vllm_ignores_the_gguf_default_but_reports_it():
    from selfhost_advisor import api

    r = api.fit("llama3.1", "h100-sxm", engine="vllm")
    assert len(r.options) > 1 and r.assumptions["ollama_default_quant"]["applied"] is False


def test_default_line_in_text_output(capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "zephyr", "--hardware", "rtx4090"]) == 0
    assert "zephyr:latest is Q4_0 in Ollama's library" in " ".join(capsys.readouterr().out.split())
