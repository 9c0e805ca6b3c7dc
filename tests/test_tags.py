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


def test_deepseek_r1_is_the_8b_distill_not_671b():
    assert resolve("deepseek-r1").model.id == "deepseek-r1:8b"
    assert resolve("deepseek-r1:671b").model.id == "deepseek-r1:671b"


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
    assert "command-r" not in DEFAULTS
    with pytest.raises(UnknownModelError, match="several sizes"):
        resolve("granite4")
