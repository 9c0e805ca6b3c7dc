"""Session-33 catalog work (docs/methodology.md 1b "Session 33 (models33)"): 2026 releases users type, answered by the
entry whose shapes their card names ("sized as"), by Ollama's default tag, or refused with why.

Expected values come from outside the estimator: the releases' names as their cards and the Ollama library spell them,
which base each card names, and the library's tag sizes as Jeffser/Alpaca src/ollama_models.py copies them at d1577de0
(2026-06-08), with the precision they are printed to.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.errors import NotSizedModelError

ROOT = Path(__file__).resolve().parents[1]

# (name a user types, release it names, entry whose shapes it has): the base each card names (the record's `source`)
RELEASES = [
    ("translategemma", "TranslateGemma 4B", "gemma3:4b"),
    ("translategemma:latest", "TranslateGemma 4B", "gemma3:4b"),
    ("google/translategemma-4b-it", "TranslateGemma 4B", "gemma3:4b"),
    ("translategemma:12b", "TranslateGemma 12B", "gemma3:12b"),
    ("translategemma:27b", "TranslateGemma 27B", "gemma3:27b"),
    ("google/translategemma-27b-it", "TranslateGemma 27B", "gemma3:27b"),
    ("nemotron-cascade-2", "Nemotron-Cascade-2 30B-A3B", "nemotron-3-nano:30b"),
    ("nemotron-cascade-2:30b", "Nemotron-Cascade-2 30B-A3B", "nemotron-3-nano:30b"),
    ("nvidia/Nemotron-Cascade-2-30B-A3B", "Nemotron-Cascade-2 30B-A3B", "nemotron-3-nano:30b"),
    ("mistral-medium-3.5", "Mistral Medium 3.5 128B (text model)", "devstral-2:123b"),
    ("mistralai/Mistral-Medium-3.5-128B", "Mistral Medium 3.5 128B (text model)", "devstral-2:123b"),
    ("lfm2.5-thinking", "LFM2.5 1.2B Thinking", "lfm2:1.2b"),
    ("lfm2.5-thinking:1.2b", "LFM2.5 1.2B Thinking", "lfm2:1.2b"),
    ("LiquidAI/LFM2.5-1.2B-Thinking", "LFM2.5 1.2B Thinking", "lfm2:1.2b"),
    ("LiquidAI/LFM2.5-1.2B-Instruct", "LFM2.5 1.2B Instruct / Base", "lfm2:1.2b"),
]


@pytest.mark.parametrize("name,release,entry", RELEASES)
def test_a_2026_release_answers_sized_as_the_entry_its_card_names(name, release, entry):
    m = resolve(name).model
    assert m.id == entry and m.sized_as is not None and m.sized_as.release == release, (name, m.name)
    assert m.name.startswith(f"{release} (sized as {get(entry).name}: ") and m.params == get(entry).params


def test_the_sized_as_shapes_are_the_ones_the_cards_state():
    # Mistral Medium 3.5 (NVIDIA NeMo AutoModel page): 88 decoder layers, hidden 12288, 96 heads, 8 KV heads, 256k
    m = resolve("mistral-medium-3.5").model
    assert (m.n_layers, m.hidden_size, m.n_heads, m.n_kv_heads, m.max_context) == (88, 12288, 96, 8, 262144)
    # LFM2.5-1.2B (its card): 1.17B parameters, 16 layers (10 convolution + 6 GQA), vocabulary 65,536, 32,768 tokens
    m = resolve("lfm2.5-thinking").model
    assert m.n_layers == 16 and m.vocab_size == 65536 and m.max_context == 32768 and round(m.params / 1e9, 2) == 1.17
    # Nemotron-Cascade-2: a 30B MoE with 3B activated (its README); the Nano 30B-A3B's hybrid Mamba layout
    m = resolve("nemotron-cascade-2").model
    assert m.ssm is not None and m.moe is not None and round(m.params / 1e9) in (30, 31, 32)


def _file(name: str, quant: str) -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import accuracy

    from selfhost_advisor.estimate.projector import projector

    model = resolve(name).model
    p = projector(model, mmproj_file=True)  # a Gemma 3 blob holds its vision tower (v.* tensors) too
    return accuracy.file_bytes(model, get_quant(quant)) + (p.weights_bytes if p else 0)


# the library's printed sizes (Alpaca d1577de0) and the range their digits stand for, widened by 0.5 %
PUBLISHED = [
    ("lfm2.5-thinking:1.2b", "Q4_K_M", 730.5e6, 731.5e6),   # '731 MB'
    ("translategemma:4b", "Q4_K_M", 3.25e9, 3.35e9),         # '3.3 GB'
    ("translategemma:12b", "Q4_K_M", 8.05e9, 8.15e9),        # '8.1 GB'
    ("translategemma:27b", "Q4_K_M", 16.5e9, 17.5e9),        # '17 GB'
    ("nemotron-cascade-2:30b", "Q4_K_M", 23.5e9, 24.5e9),    # '24 GB'
    ("cogito-2.1:671b", "F16", 1.25e12, 1.35e12),            # '1.3TB', the only size tag
]


@pytest.mark.parametrize("name,quant,lo,hi", PUBLISHED)
def test_the_sized_as_file_lies_in_the_size_ollama_prints(name, quant, lo, hi):
    assert lo * 0.995 <= _file(name, quant) <= hi * 1.005, name


@pytest.mark.parametrize("name,entry", [
    ("gemma4", "gemma4:e4b"), ("gemma4:latest", "gemma4:e4b"), ("qwen3.5", "qwen3.5:9b"), ("qwen3.6:latest", "qwen3.6:35b"),
    ("nemotron-3-super", "nemotron-3-super:120b"), ("nemotron-3-nano:latest", "nemotron-3-nano:30b"),
    ("cogito-2.1", "cogito-v2.1:671b"), ("cogito-2.1:671b", "cogito-v2.1:671b"),
])
def test_ollamas_2026_default_tags_resolve(name, entry):
    """FAMILY:latest shares its printed size with exactly one size tag in the 2026-06-08 list (gemma4 9.6 GB = :e4b,
    qwen3.5 6.6 GB = :9b, qwen3.6 24 GB = :35b, nemotron-3-super 87 GB = :120b, nemotron-3-nano 24 GB = :30b);
    gemma4 and qwen3.5 listed their sizes before. cogito-2.1 is the library's spelling of Cogito v2.1."""
    m = resolve(name).model
    assert m.id == entry and m.sized_as is None


def test_the_default_quant_of_lfm2_5_thinking_is_the_one_its_size_allows():
    from selfhost_advisor.catalog.ollama_defaults import default_quant

    got = default_quant("lfm2.5-thinking")
    assert got.quant == "Q4_K_M" and "d1577de0" in got.source and "2026-04-03" not in got.source
    assert default_quant("gemma4") is None and default_quant("qwen3.5") is None  # vision blobs: no claim


REFUSED = [
    ("lfm2:24b", "LFM2-24B-A2B"), ("lfm2:latest", "LFM2-24B-A2B"), ("LiquidAI/LFM2-24B-A2B", "config.json was not read"),
    ("nemotron-3-nano:4b", "config.json was not read"), ("glm-ocr", "encoder-decoder"), ("zai-org/GLM-OCR", "GLM-V"),
    ("glm-ocr:q8_0", "GLM-V"), ("trinity-large", "layer pattern"), ("arcee-ai/Trinity-Large-Preview", "config was not read"),
    ("hy3", "192 routed experts"), ("tencent/Hy3-preview", "config.json was not read"),
]


@pytest.mark.parametrize("name,word", REFUSED)
def test_a_2026_release_the_catalog_cannot_size_is_refused_with_why(name, word):
    with pytest.raises(NotSizedModelError) as err:
        resolve(name)
    assert word in str(err.value)


def test_the_lfm2_refusal_does_not_catch_the_sized_lfm2_models():
    assert resolve("lfm2:8b-a1b").model.id == "lfm2:8b-a1b" and resolve("lfm2:1.2b").model.sized_as is None
