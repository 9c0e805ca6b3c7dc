"""Session-32 catalog work (docs/methodology.md 1b "Session 32 (models32)"): 2025 releases users name, answered by the
entry whose shapes they have ("sized as"), or refused with why; names that answered silently as a sibling release now
say which release they are.

Expected values come from outside the estimator: real GGUF file sizes (benchmarks/heldout/gguf_sizes.csv, with their
precision), the releases' names as their cards and the Ollama library spell them, and which entry each card says the
release is built on.
"""
from __future__ import annotations

import glob
import re
import sys
from pathlib import Path

import pytest
import yaml
from cliproc import check_cli_table

from selfhost_advisor.catalog import models as catalog
from selfhost_advisor.catalog.models import entries, get, resolve
from selfhost_advisor.errors import NotSizedModelError, UnknownModelError

ROOT = Path(__file__).resolve().parents[1]


# (name a user types, release it names, entry whose shapes it has): each card names the base (the entry's `source`)
RELEASES = [
    ("minimax-m2", "MiniMax-M2", "minimax-m2.5:230b"),
    ("MiniMaxAI/MiniMax-M2", "MiniMax-M2", "minimax-m2.5:230b"),
    ("minimax-m2.1", "MiniMax-M2.1", "minimax-m2.5:230b"),
    ("hermes4:70b", "Hermes 4 70B", "llama3.1:70b"),
    ("NousResearch/Hermes-4-70B", "Hermes 4 70B", "llama3.1:70b"),
    ("hermes-4:70b", "Hermes 4 70B", "llama3.1:70b"),
    ("NousResearch/Hermes-4-405B", "Hermes 4 405B", "llama3.1:405b"),
    ("hermes4:14b", "Hermes 4 14B", "qwen3:14b"),
    ("magistral-small-1.2", "Magistral Small 1.2 (2509)", "magistral:24b"),
    ("mistralai/Magistral-Small-2509", "Magistral Small 1.2 (2509)", "magistral:24b"),
    ("mistralai/Magistral-Small-2507", "Magistral Small 1.1 (2507)", "magistral:24b"),
    # aliases that answered as the entry's own (Instruct) name before
    ("Qwen/Qwen3-Next-80B-A3B-Thinking", "Qwen3-Next 80B-A3B Thinking", "qwen3-next:80b"),
    ("qwen3-vl:8b-thinking", "Qwen3-VL 8B Thinking", "qwen3-vl:8b"),
    ("Qwen/Qwen3-VL-235B-A22B-Thinking", "Qwen3-VL 235B-A22B Thinking", "qwen3-vl:235b"),
    ("mistralai/Ministral-3-14B-Reasoning-2512", "Ministral 3 14B Reasoning (2512)", "ministral-3:14b"),
    ("allenai/Olmo-3-7B-Think", "Olmo 3 7B Think", "olmo-3:7b"),
    ("gpt-oss-safeguard:20b", "gpt-oss-safeguard 20B", "gpt-oss:20b"),
    ("openai/gpt-oss-safeguard-120b", "gpt-oss-safeguard 120B", "gpt-oss:120b"),
    ("deepseek-v3.1-terminus", "DeepSeek-V3.1-Terminus", "deepseek-v3.1:671b"),
    ("deepseek-v3.2-speciale", "DeepSeek-V3.2-Speciale", "deepseek-v3.2:671b"),
    ("deepseek-ai/DeepSeek-V3.2-Exp", "DeepSeek-V3.2-Exp", "deepseek-v3.2:671b"),
    # a Hub id's repo name alone is a key of its entry (models.build_index): it names the release too
    ("kimi-k2-instruct-0905", "Kimi K2 Instruct (0905)", "kimi-k2:1t"),
    # fine-tunes whose cards name their base
    ("NousResearch/Hermes-4.3-36B", "Hermes 4.3 36B", "seed-oss:36b"),
    ("k2-think", "K2-Think (32B)", "qwen2.5:32b"),
    ("medgemma:27b", "MedGemma 27B", "gemma3:27b"),
    ("google/medgemma-4b-it", "MedGemma 4B", "gemma3:4b"),
    ("functiongemma", "FunctionGemma 270M", "gemma3:270m"),
    # session 32 (models32b): fine-tunes whose cards (or write-ups of them) name their Qwen base
    ("kimi-dev-72b", "Kimi-Dev-72B", "qwen2.5:72b"),
    ("moonshotai/Kimi-Dev-72B", "Kimi-Dev-72B", "qwen2.5:72b"),
    ("nvidia/OpenReasoning-Nemotron-32B", "OpenReasoning-Nemotron 32B", "qwen2.5:32b"),
    ("openreasoning-nemotron:32b", "OpenReasoning-Nemotron 32B", "qwen2.5:32b"),
    ("nvidia/OpenReasoning-Nemotron-1.5B", "OpenReasoning-Nemotron 1.5B", "qwen2.5:1.5b"),
    ("openreasoning-nemotron:14b", "OpenReasoning-Nemotron 14B", "qwen2.5:14b"),
    ("janhq/Jan-v1-4B", "Jan v1 4B", "qwen3:4b-thinking-2507"),
    ("jan-v1", "Jan v1 4B", "qwen3:4b-thinking-2507"),
]


@pytest.mark.parametrize("name,release,entry", RELEASES)
def test_a_release_answers_sized_as_the_entry_its_card_names(name, release, entry):
    m = resolve(name).model
    assert m.id == entry and m.sized_as is not None and m.sized_as.release == release, (name, m.name)
    assert m.name.startswith(f"{release} (sized as {get(entry).name}: ")
    assert m.params == get(entry).params  # the entry's shapes, so its weights at every quantization


def test_a_release_keeps_a_quantization_tag():
    got = resolve("hermes4:70b-q8_0")
    assert got.quant == "Q8_0" and got.model.sized_as is not None and got.model.sized_as.release == "Hermes 4 70B"


# Real files of these releases (benchmarks/heldout/gguf_sizes.csv, written before the comparison): the sized-as entry's
# file size is within the listing's precision plus 0.1 %.
FILES = {  # (catalog id, quant, real bytes): allowed |error| in %
    ("magistral:24b", "Q4_K_M", 14324375552): 0.1,  # unsloth Magistral-Small-2509, exact bytes
    ("llama3.1:70b", "Q4_K_M", 42500000000): 0.1 + 0.12,  # lmstudio-community Hermes-4-70B, GB 1dp
    ("llama3.1:70b", "Q6_K", 57900000000): 0.1 + 0.09,  # the same, 2 parts
    ("minimax-m2.5:230b", "Q8_0", 243000000000): 0.1 + 0.21,  # unsloth MiniMax-M2.1, GB 0dp
    ("minimax-m2.5:230b", "BF16", 457000000000): 0.1 + 0.11,  # the same
}


def test_the_sized_as_entries_match_the_releases_real_files():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import accuracy

    rows = {(r["catalog"], r["quant"], int(r["real_bytes"])): r for r in accuracy.heldout_rows()}
    for key, allowed in FILES.items():
        assert key in rows, key
        assert abs(rows[key]["error_pct"]) <= allowed, (key, rows[key]["error_pct"])


# names that are refused with why (data/engines.yaml vision_projectors.not_sized), each with a word of its reason
REFUSED = [
    ("magistral-medium", "no published weights"), ("magistral-medium-1.2", "no published weights"),
    ("mistral-medium-3.1", "no published weights"), ("qwen3-max", "no published weights"),
    ("dots.llm1", "dots1"), ("rednote-hilab/dots.llm1.inst", "dots1"), ("step3", "Step3VLForConditionalGeneration"),
    ("stepfun-ai/step3", "Step3VLForConditionalGeneration"), ("intern-s1", "InternS1ForConditionalGeneration"),
    ("internlm/Intern-S1-mini", "InternS1ForConditionalGeneration"),
    ("minimax-m1", "lightning"), ("MiniMaxAI/MiniMax-M1-80k", "lightning"),
    ("zai-org/GLM-4.5V", "Glm4vMoeForConditionalGeneration"), ("glm-4.6v", "Glm4vMoeForConditionalGeneration"),
    ("ServiceNow-AI/Apriel-1.5-15b-Thinker", "config.json was not read"),
]


def test_openreasoning_nemotron_32b_matches_its_ollama_blob():
    """Ollama's lucataco/openreasoning-nemotron:32b page (the card's 'derivative of Qwen2.5-32B'): one qwen2 blob of
    32.8B at Q4_K_M, printed '20GB' (19.5 - 20.5 GB); the sized-as entry's Q4_K_M file lies in that range (+- 1 %)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import accuracy

    from selfhost_advisor.catalog.quants import get_quant

    est = accuracy.file_bytes(resolve("openreasoning-nemotron:32b").model, get_quant("Q4_K_M"))
    assert 19.5e9 * 0.99 <= est <= 20.5e9 * 1.01, est


def test_jan_v1_is_not_sized_as_the_hybrid_thinking_qwen3_4b():
    """Jan v1's base is Qwen3-4B-Thinking-2507 (262,144 tokens natively), not the original Qwen3-4B entry."""
    m = resolve("jan-v1").model
    assert m.max_context == 262144 and m.id != "qwen3:4b"




@pytest.mark.parametrize("name,word", REFUSED)
def test_a_model_the_catalog_cannot_size_is_refused_with_why(name, word):
    with pytest.raises(NotSizedModelError) as err:
        resolve(name)
    assert word in str(err.value)


@pytest.mark.parametrize("name,local", [
    ("gpt-oss:120b-cloud", "gpt-oss:120b"), ("glm-4.6:cloud", "glm-4.6"), ("kimi-k2:1t-cloud", "kimi-k2:1t"),
    ("qwen3-coder:480b-cloud", "qwen3-coder:480b"), ("minimax-m2:cloud", "minimax-m2"),
])
def test_an_ollama_cloud_tag_says_it_runs_on_ollamas_servers(name, local):
    """Ollama's `:cloud` tags run on ollama.com (the local daemon forwards them): nothing to size, the local tag named."""
    with pytest.raises(UnknownModelError) as err:
        resolve(name)
    assert "Ollama cloud model" in str(err.value) and f"advisor fit {local}" in err.value.hint
    assert resolve(local).model is not None  # what the hint names is sized


def test_a_cloud_tag_of_an_unknown_family_names_no_local_tag():
    with pytest.raises(UnknownModelError) as err:
        resolve("nosuchmodel:cloud")
    assert "advisor fit" not in err.value.hint


@pytest.mark.parametrize("name,quant,entry", [("magistral:24b-small-2506-q4_K_M", "Q4_K_M", "magistral:24b"),
                                              ("mistral-small3.2:24b-instruct-2506-q8_0", "Q8_0", "mistral-small3.2:24b")])
def test_ollamas_dated_tags_resolve_with_their_quantization(name, quant, entry):
    """The library's dated tags (magistral:24b-small-2506-*, mistral-small3.2:24b-instruct-2506-*) were unknown."""
    got = resolve(name)
    assert got.quant == quant and got.model.id == entry and got.model.sized_as is None


def test_open_weight_mistral_medium_is_not_refused_as_closed():
    """Mistral Medium 3.5 (2026-04) has open weights: the closed-weight refusal names 3 and 3.1 only."""
    rec = next(r for k, r in _not_sized().items() if k == "mistral-medium-3")
    assert not any("3.5" in n for n in rec["names"])


def _not_sized() -> dict:
    from selfhost_advisor.catalog.data import load

    return load("engines")["vision_projectors"]["not_sized"]["families"]


VARIANT = re.compile(r"(?<![a-z0-9])(thinking|think|reasoning|safeguard|terminus|speciale|exp)(?![a-z0-9])")


def test_an_alias_naming_a_sibling_release_says_so():
    """An alias carrying a post-training variant its entry's names lack (Thinking, Reasoning, Think, safeguard,
    Terminus, Speciale, Exp) is listed under the entry's other_releases, so it answers under its own name. Before
    session 32, 30 such aliases answered as the entry (Qwen3-VL Thinking as 'Qwen3-VL 8B Instruct')."""
    missing = []
    for e in entries():
        own = " ".join(str(e.get(k) or "") for k in ("id", "name", "hf_id")).lower()
        listed = {str(n).lower() for r in e.get("other_releases") or () for n in r["names"]}
        for a in e.get("aliases") or ():
            words = set(VARIANT.findall(str(a).lower())) - set(VARIANT.findall(own))
            if words and str(a).lower() not in listed:
                missing.append(f"{a} -> {e['id']}")
    assert not missing, missing


def test_the_check_catches_a_sibling_alias():
    e = {"id": "x:8b", "name": "X 8B Instruct", "aliases": ["org/X-8B-Thinking"]}
    own = " ".join(str(e.get(k) or "") for k in ("id", "name", "hf_id")).lower()
    assert set(VARIANT.findall(e["aliases"][0].lower())) - set(VARIANT.findall(own)) == {"thinking"}


class _NoDuplicates(yaml.SafeLoader):
    pass


def _mapping(loader, node, deep=False):
    keys = [k.value for k, _ in node.value]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    assert not dup, (dup, str(node.start_mark))
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_NoDuplicates.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "data" / "*.yaml"))))
def test_data_files_have_no_repeated_key(path):
    """YAML keeps the last of two equal keys silently: a second `other_releases:` added under an entry dropped the
    first record (MiniMax-M2 answered as MiniMax-M2.5) while every other test passed (session 32)."""
    with open(path) as fh:
        yaml.load(fh, Loader=_NoDuplicates)


def test_the_repeated_key_check_catches_one():
    with pytest.raises(AssertionError):
        yaml.load("a:\n  b: 1\n  b: 2\n", Loader=_NoDuplicates)


CLI = [
    (["fit", "minimax-m2", "--hardware", "h100-sxm"], 0, "sized as"),
    (["fit", "hermes4:70b", "--hardware", "h100-sxm"], 0, "Hermes 4 70B"),
    (["fit", "magistral-medium", "--hardware", "h100-sxm"], 2, "no published weights"),
    (["fit", "dots.llm1", "--hardware", "h100-sxm"], 2, "not sized"),
    (["fit", "gpt-oss:120b-cloud", "--hardware", "h100-sxm"], 2, "advisor fit gpt-oss:120b"),
]


def test_fit_cli(tmp_path):
    check_cli_table(CLI, tmp_path)


def test_catalog_index_is_current():
    """The compiled index (data/compiled) holds the new aliases: the lookups above ran through it."""
    assert "hermes4:70b" in catalog._index() and "minimax-m2" in catalog._index()
