"""Ollama's most-pulled families (data/ollama_library.yaml): each resolves offline by its bare name and by FAMILY:latest to
one of its own sizes, or is listed under not_resolved with the helper that owns it and why, so what remains is visible.
Fine-tunes that keep a base's shapes are checked against the Ollama blobs users pull (sizes as `ollama list` prints them)."""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant

LIBRARY = load("ollama_library")
POPULAR = LIBRARY["most_pulled"]["families"]
PENDING = LIBRARY["not_resolved"]["families"]
NO_LATEST = LIBRARY.get("no_latest", {}).get("families", {})  # the library itself has no FAMILY:latest
DEFAULTS = load("models")["ollama_latest"]["families"]


def test_most_pulled_list_is_sourced_and_ordered():
    assert LIBRARY["most_pulled"]["source"] and LIBRARY["most_pulled"]["as_of"]
    assert len(POPULAR) == len(set(POPULAR)) >= 150
    assert POPULAR[:3] == ["deepseek-r1", "gemma3n", "gemma3"]  # the copy's order (code-index file id 23140720499)


@pytest.mark.parametrize("family", [f for f in POPULAR if f not in PENDING and f not in NO_LATEST])
def test_most_pulled_family_resolves_by_bare_name_and_latest(family):
    bare, latest = resolve(family).model, resolve(f"{family}:latest").model
    assert bare.id == latest.id and bare.id.split(":")[0] == family
    # single-entry families (qwq, r1-1776) resolve through a bare-name alias; the others through the defaults table
    assert DEFAULTS.get(family, bare.id) == bare.id


@pytest.mark.parametrize("family", sorted(PENDING))
def test_a_family_listed_as_unresolved_does_not_resolve(family):
    """The list stays honest: a family that resolves leaves it, and nothing resolves a family by accident (a Hub
    repo's basename, bigcode/starcoder, made `starcoder` the 15B while Ollama's default is not sourced)."""
    from selfhost_advisor.errors import UnknownModelError

    for name in (family, f"{family}:latest"):
        with pytest.raises(UnknownModelError):
            resolve(name)


@pytest.mark.parametrize("family", sorted(NO_LATEST))
def test_a_family_without_latest_answers_with_its_real_tags(family):
    """No made-up default: the bare name and FAMILY:latest fail (exit 2) naming the library's tags, each of which resolves."""
    from selfhost_advisor.errors import UnknownModelError

    assert family in POPULAR and family not in PENDING and family not in DEFAULTS
    for name in (family, f"{family}:latest"):
        with pytest.raises(UnknownModelError, match=f"no {family}:latest"):
            resolve(name)
    for tag in NO_LATEST[family]["tags"]:
        r = resolve(f"{family}:{tag}")
        assert r.model.id.split(":")[0] == family and r.quant == get_quant(tag.rsplit("-", 1)[1].upper()).name


def test_every_unresolved_family_names_its_owner_and_reason():
    owners = LIBRARY["not_resolved"]["owners"]
    assert set(PENDING) <= set(POPULAR)
    for family, why in PENDING.items():
        assert why["owner"] in owners and len(why["reason"]) > 20, family


# Ollama's Q4_0 blobs of the families' defaults, MiB to 2 decimals as a stored `ollama list` printed them (code-index file
# id 3101891286; the same sizes rounded in file id 2552879001). The blob also holds the tokenizer and metadata, which the
# estimate counts as llama.cpp writes them.
OLLAMA_Q4_0_MIB = [
    ("zephyr:latest", 3919.46), ("starling-lm:latest", 3918.59), ("neural-chat:latest", 3919.46),
    ("wizardlm2:latest", 3918.58),  # Mistral-7B-v0.1 shapes (vocab 32000)
    ("solar:latest", 5791.08), ("nous-hermes2:latest", 5791.10),  # SOLAR: 48 Mistral-shaped layers
    ("gemma:latest", 4779.68),  # Gemma 7B (MHA, head_dim 256, 256k vocab)
    ("llama2-uncensored:latest", 3648.59), ("llama3-gradient:latest", 4445.29),
    ("wizard-vicuna-uncensored:13b", 7024.61), ("deepseek-coder:6.7b", 3650.51), ("everythinglm:latest", 7025.54),
]


def test_dolphincoder_q8_0_blob_has_its_own_output_head():
    # impulse2000/dolphincoder-starcoder2-7b:q8_0 is 7505.03 MiB (code-index file id 3101891286): StarCoder2-7B with an
    # untied output matrix; tied, the estimate would be 3.06% short
    m = resolve("dolphincoder").model
    assert not m.tied_embeddings
    assert abs(accuracy.file_bytes(m, get_quant("Q8_0")) / (7505.03 * 2**20) - 1) < 0.005  # measured +0.002%


def test_wizardlm_uncensored_llama2_q5_k_m_blob():
    # wizardlm-uncensored:13b-llama2-q5_K_M is 8802.34 MiB in the same `ollama list` (code-index file id 3101891286)
    r = resolve("wizardlm-uncensored:13b-llama2-q5_K_M")
    assert r.quant == "Q5_K_M"
    assert abs(accuracy.file_bytes(r.model, get_quant("Q5_K_M")) / (8802.34 * 2**20) - 1) < 0.005  # measured +0.001%


# Sizes in bytes from an `ollama` run of 2024-09-18 (https://github.com/joshuacox/bAInchmark/blob/main/README.md,
# code-index file id 14032006671): tag, quantization the blob holds, bytes.
OLLAMA_BYTES = [
    ("deepseek-v2.5:latest", "Q4_0", 132_912_472_044),  # DeepSeek-V2 236B: MLA + 160 experts
    ("nous-hermes2-mixtral:latest", "Q4_0", 26_442_493_141),
    ("wizard-vicuna-uncensored:30b-q8_0", "Q8_0", 34_565_124_970),  # LLaMA 30B shapes
    ("hermes3:latest", "Q4_0", 4_661_226_630), ("codegemma:latest", "Q4_0", 5_011_852_809),
]


# bartowski Q4_K_M files as a stored app lists them (code-index file id 55619584449), 3 significant digits
BARTOWSKI_Q4_K_M = [("cogito:8b", 4.92e9), ("cogito:14b", 8.99e9)]


@pytest.mark.parametrize("tag,mib", OLLAMA_Q4_0_MIB)
def test_finetune_defaults_match_the_ollama_blobs(tag, mib):
    est = accuracy.file_bytes(resolve(tag).model, get_quant("Q4_0"))
    assert abs(est / (mib * 2**20) - 1) < 0.005  # measured: at most 0.02% (2026-12-05)


@pytest.mark.parametrize("tag,quant,real", OLLAMA_BYTES)
def test_new_sizes_match_the_ollama_blobs_in_bytes(tag, quant, real):
    r = resolve(tag)
    assert r.quant in (None, quant)
    est = accuracy.file_bytes(r.model, get_quant(quant))
    assert abs(est / real - 1) < 0.005  # measured: at most 0.007% (2026-12-05)


def test_solar_is_not_a_mistral_7b():
    # the 48-layer depth-upscaled model weighs 1.5x a 32-layer Mistral; a wrong layer count would miss the blob by 30%
    assert resolve("solar").model.n_layers == 48 and resolve("zephyr").model.n_layers == 32


@pytest.mark.parametrize("tag,real", BARTOWSKI_Q4_K_M)
def test_cogito_gguf_files_match(tag, real):
    est = accuracy.file_bytes(resolve(tag).model, get_quant("Q4_K_M"))
    assert abs(est / real - 1) < 0.005  # measured: +0.013% (8B), -0.021% (14B), within the listing's rounding


# Ollama tag sizes of the session-9 "finetunes 2" families (two digits, GB = 10^9): the estimate must fall within 1% of the
# range the digits stand for (tests/test_ollama_default_quants.py size_range). duckdb-nsql's tag pages as stored copies of
# ollama.com/library/duckdb-nsql:7b-q3_K_S / -q5_K_S / -q5_1 / -q8_0; the others from the 2026-04 tag list (Jeffser/Alpaca
# src/ollama_models.py), whose FAMILY:latest blob is Q4_0 or Q4_K_S (both within the range) or Q4_K_M (mistral-large).
TAG_SIZES = [
    ("duckdb-nsql:7b", "Q3_K_S", "2.9 GB"), ("duckdb-nsql:7b", "Q4_0", "3.8 GB"), ("duckdb-nsql:7b", "Q5_K_S", "4.7 GB"),
    ("duckdb-nsql:7b", "Q5_1", "5.1 GB"), ("duckdb-nsql:7b", "Q8_0", "7.2 GB"),  # measured -1.0% .. +1.7% of the digits
    ("notux:8x7b", "Q4_0", "26 GB"), ("wizard-vicuna:13b", "Q4_0", "7.4 GB"), ("mistral-large:123b", "Q4_K_M", "73 GB"),
    ("athene-v2:72b", "Q4_K_M", "47 GB"), ("command-r7b-arabic:7b", "Q4_K_M", "5.1 GB"),
    ("granite3-dense:8b", "Q4_K_M", "4.9 GB"), ("granite3.1-dense:8b", "Q4_K_M", "5.0 GB"),
    ("granite3.1-dense:2b", "Q4_K_M", "1.6 GB"),
    ("wizard-math:7b", "Q4_0", "4.1 GB"),
    ("open-orca-platypus2:13b", "Q4_0", "7.4 GB"), ("codebooga:34b", "Q4_0", "19 GB"), ("yi:6b", "Q4_0", "3.5 GB"),  # Mistral 7B; a Llama 2 7B (3.83 GB) would miss the range  # :2b and granite3-dense:latest; Q4_1 is within the range too
]


@pytest.mark.parametrize("tag,quant,size", TAG_SIZES)
def test_finetunes_2_match_the_library_sizes(tag, quant, size):
    from test_ollama_default_quants import size_range

    lo, hi = size_range(size)
    est = accuracy.file_bytes(resolve(tag).model, get_quant(quant))
    assert lo * 0.99 <= est <= hi * 1.01, (tag, est)


def test_moved_defaults_resolve_to_the_current_model_and_keep_the_old_tags():
    # 2026-04 tag list: mistral-small:latest 14 GB = :24b (Mistral Small 3), mistral-large:latest 73 GB = :123b
    assert resolve("mistral-small").model.hf_id == "mistralai/Mistral-Small-24B-Instruct-2501"
    assert resolve("mistral-large:latest").model.id == "mistral-large:123b"
    assert resolve("mistral-small3.1").model.id == "mistral-small3.1:24b"
    # command-r:latest is 19 GB, the 08-2024 model (8 KV heads), not v01 (64 KV heads, 20.2 GB at Q4_0), which keeps its tag
    assert resolve("command-r").model.n_kv_heads == 8 and resolve("command-r:latest").model.id == "command-r:35b"
    assert resolve("command-r:35b-v0.1").model.n_kv_heads == 64
