"""Session 20 (eng5): model names typed with spaces, as they are said and printed ('Qwen3.5 27B', 'GLM 5.1').

Every 2026 release in the catalog resolved by its id and Hub id, but with spaces each one was 'unknown model'
(catalog/models._spellings now tries the catalog's '-' and ':' forms)."""
from __future__ import annotations

import pytest

from clikit import one_line_exit_2, run
from selfhost_advisor.catalog.models import all_models, resolve
from selfhost_advisor.errors import NotSizedModelError, UnknownModelError


def test_every_catalog_id_written_with_spaces_resolves_to_that_model():
    """'qwen3.5 27b', 'deepseek r1 671b 0528', 'granite4 tiny h': the id with ':' (and '-') as spaces. 2026 releases
    are among them (44 of the catalog's models were released in 2026)."""
    models = all_models()
    assert sum(str(m.released or "").startswith("2026") for m in models) >= 40
    wrong = []
    for m in models:
        for typed in {m.id.replace(":", " "), m.id.replace(":", " ").replace("-", " ")}:
            try:
                got = resolve(typed).model.id
            except UnknownModelError:
                got = None
            if got != m.id:
                wrong.append((typed, got))
    assert wrong == []


@pytest.mark.parametrize("typed, want", [
    ("Qwen3.5 27B", "qwen3.5:27b"), ("qwen 3.5 27b", "qwen3.5:27b"), ("gemma 4 31b", "gemma4:31b"),
    ("Gemma 4 E2B", "gemma4:e2b"), ("GLM 5.1", "glm-5.1:744b"), ("Kimi K2.6", "kimi-k2.6:1t"),
    ("MiniMax M2.7", "minimax-m2.7:230b"), ("granite 4.1 8b", "granite4.1:8b"), ("devstral 2", "devstral-2:123b"),
    ("llama 4 scout", "llama4:scout"), ("qwen3.6 35b", "qwen3.6:35b"),
])
def test_a_2026_release_typed_with_spaces_resolves(typed, want):
    assert resolve(typed).model.id == want


def test_a_spaced_name_gets_the_refusal_of_its_catalog_spelling():
    # qwen3.6 and nemotron-3-super answered this way until session 33 recorded their Ollama defaults (:35b, :120b)
    with pytest.raises(UnknownModelError, match="has several sizes") as e:
        resolve("granite 4.1")
    assert "granite4.1:3b" in e.value.hint and "granite4.1:30b" in e.value.hint
    with pytest.raises(UnknownModelError, match="names no size"):
        resolve("nemotron 3 ultra")
    assert resolve("qwen 3.6").model.id == "qwen3.6:35b" and resolve("nemotron 3 super").model.id == "nemotron-3-super:120b"
    with pytest.raises(NotSizedModelError):
        resolve("deepseek v4")


def test_an_unknown_spaced_name_is_one_line_exit_2(capsys):
    one_line_exit_2(*run(capsys, "fit", "qwen 9.9 27b", "--vram", "24GB"), "unknown model 'qwen 9.9 27b'")
