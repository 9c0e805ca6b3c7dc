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
from selfhost_advisor.estimate.projector import projector

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


def blob_bytes(model, quant: str) -> int:
    """What the library's size counts: the text GGUF, plus for a vision model its projector as llama.cpp's converter
    writes the f16 mmproj (the file's `rule`; tests/test_projector_llava.py sizes the vision blobs the same way)."""
    p = projector(model, mmproj_file=True)
    return accuracy.file_bytes(model, get_quant(quant)) + (p.weights_bytes if p else 0)


def matches(model, text: str, tolerance: float) -> list[str]:
    lo, hi = size_range(text)
    return [q for q in CANDIDATES if lo * (1 - tolerance) <= blob_bytes(model, q) <= hi * (1 + tolerance)]


def _model(family):
    return resolve_name(f"{family}:latest").model


def test_the_table_is_sourced_and_large_enough():
    assert DATA["source"] and DATA["as_of"] and DATA["rule"] and DATA["candidates"]["source"]
    assert len(FAMILIES) >= 10
    for family, rec in FAMILIES.items():
        assert rec["by"] in ("size", "exact", "stated", "tag"), family
        for key in [rec.get("also"), rec.get("list"), *(rec.get("exact") or {})]:
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
    if rec["by"] == "tag":
        # the list prints each tied candidate's own quantization tag of the family; only one at latest's size
        assert len(found) > 1 and set(found) <= set(rec["tags"]), (family, found)
        assert [q for q in found if rec["tags"][q] == rec["size"]] == [rec["quant"]], (family, rec["tags"])
    for exact in (rec.get("exact") or {}).values():
        assert matches(model, exact, 0.005) == [rec["quant"]], (family, exact)


def test_every_ollama_default_family_is_decided_or_left_out_with_a_reason():
    # a family added to data/models.yaml ollama_latest without a line here would silently size every quantization
    latest = load("models")["ollama_latest"]["families"]
    assert sorted(set(latest) - set(FAMILIES) - set(DATA["not_derived"])) == []


@pytest.mark.parametrize("family,quant,n_blobs", [("phi", "Q4_0", 1), ("llava", "Q4_0", 2), ("bge-large", "F16", 1),
                                                  ("qwen3-embedding", "Q4_K_M", 1), ("moondream", "Q4_0", 2)])
def test_session_9_families_fit_their_default(family, quant, n_blobs):
    from selfhost_advisor import api

    r = api.fit(family, "rtx-4090")
    assert [o.quant.name for o in r.options] == [quant] and r.assumptions["ollama_default_quant"]["applied"]
    # a vision family's default was read from text + projector sizes: it must have a projector to add
    assert (projector(_model(family), mmproj_file=True) is not None) == (n_blobs == 2)


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
