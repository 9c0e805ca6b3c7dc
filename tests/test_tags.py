"""Ollama tag semantics over the whole catalog: every entry's id, Hub id and aliases resolve to it offline; a tag's
quantization suffix is split off; a bare family name and FAMILY:latest are the family's default (data/models.yaml
ollama_latest, which must agree with the aliases); an unknown tag gets up to three real suggestions."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import entries, resolve
from selfhost_advisor.errors import UnknownModelError

ENTRIES = entries()
DEFAULTS = load("models")["ollama_latest"]["families"]


@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e["id"])
def test_every_name_of_an_entry_resolves_to_it(e):
    for name in (e["id"], e["hf_id"], *(e.get("aliases") or ())):
        r = resolve(name)
        assert r.model.id == e["id"], name
        assert r.quant is None, name
    assert resolve(e["id"].upper()).model.id == e["id"]


@pytest.mark.parametrize("e", [e for e in ENTRIES if ":" in e["id"]], ids=lambda e: e["id"])
def test_variant_and_quant_suffixes_of_every_tag(e):
    tag = e["id"]
    for suffix, quant in (("-instruct-q4_K_M", "Q4_K_M"), ("-q8_0", "Q8_0"), ("-instruct-fp16", "F16"), ("-fp16", "F16"),
                          ("-instruct", None)):
        r = resolve(tag + suffix)
        assert (r.model.id, r.quant) == (tag, quant), tag + suffix


@pytest.mark.parametrize("family,default", sorted(DEFAULTS.items()))
def test_bare_name_and_latest_are_the_familys_default(family, default):
    assert resolve(family).model.id == default
    assert resolve(f"{family}:latest").model.id == default
    # every FAMILY:latest alias in the catalog is listed in the table, and points where the table says
    owners = [x["id"] for x in ENTRIES if f"{family}:latest" in (x.get("aliases") or ())]
    assert owners == [default]


def test_every_latest_alias_is_in_the_table():
    for e in ENTRIES:
        for a in e.get("aliases") or ():
            if a.endswith(":latest"):
                assert DEFAULTS.get(a[: -len(":latest")]) == e["id"], a


def test_deepseek_r1_is_the_0528_qwen3_8b_not_671b_nor_the_llama_distill():
    # stored `ollama list` outputs: deepseek-r1:latest and deepseek-r1:8b share digest 6995872bfe4c at 5.2 GB (the
    # Qwen3-8B-based R1-0528; the January Llama-8B distill was 4.9 GB), data/models.yaml ollama_latest.checked
    for name in ("deepseek-r1", "deepseek-r1:latest", "deepseek-r1:8b"):
        m = resolve(name).model
        assert m.id == "deepseek-r1:8b" and m.hf_id == "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", name
    assert resolve("deepseek-r1:8b-llama-distill-q4_K_M").model.hf_id == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
    assert resolve("deepseek-r1:8b-0528-qwen3").model.id == "deepseek-r1:8b"  # the former id still resolves
    assert resolve("deepseek-r1:671b").model.id == "deepseek-r1:671b"


def test_every_rechecked_latest_names_a_family_of_the_table():
    checked = load("models")["ollama_latest"]["checked"]
    assert set(checked) <= set(DEFAULTS) and len(checked) >= 6
    assert resolve("qwen3:30b").model.id == resolve("qwen3:30b-a3b").model.id == "qwen3:30b"
    assert resolve("qwen3:30b-a3b-instruct-2507-q4_K_M").model.id == "qwen3:30b-a3b-instruct-2507"


@pytest.mark.parametrize("query,first", [("llama3.1:7b", "llama3.1:8b"), ("qwen2.5:8b", "qwen2.5:7b"),
                                         ("codellama:30b", "codellama:34b"), ("gemma3:3b", "gemma3:4b")])
def test_unknown_size_suggests_the_nearest_real_sizes(query, first):
    with pytest.raises(UnknownModelError) as exc:
        resolve(query)
    text = str(exc.value)
    suggested = text.split("did you mean ", 1)[1].split("?", 1)[0].split(", ")
    ids = {e["id"] for e in ENTRIES}
    assert suggested[0] == first and 1 <= len(suggested) <= 3 and set(suggested) <= ids


def test_unknown_family_suggests_real_names():
    with pytest.raises(UnknownModelError) as exc:
        resolve("qwen2.6:7b")
    assert "did you mean" in str(exc.value) and "qwen2.5:7b" in str(exc.value)


def test_a_family_without_a_known_default_lists_its_sizes():
    assert "granite4" not in DEFAULTS
    with pytest.raises(UnknownModelError, match="several sizes"):
        resolve("granite4")
