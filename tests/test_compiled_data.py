"""data/compiled/*.json is what the tool reads; it must say exactly what data/*.yaml says."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfhost_advisor.catalog import data as _data
from selfhost_advisor.catalog import model_rows, models

ROOT = Path(__file__).resolve().parents[1]
YAMLS = sorted((ROOT / "data").glob("*.yaml"))


@pytest.mark.parametrize("path", YAMLS, ids=lambda p: p.stem)
def test_compiled_form_is_fresh(path: Path) -> None:
    compiled = ROOT / "data" / "compiled" / f"{path.stem}.json"
    assert compiled.exists(), f"run python scripts/compile_data.py ({compiled.name} missing)"
    assert compiled.read_text(encoding="utf-8") == _data.compiled_text(path), (
        f"data/compiled/{compiled.name} is stale: run python scripts/compile_data.py"
    )


def test_no_compiled_file_without_a_source() -> None:
    stems = {p.stem for p in YAMLS} | {model_rows.NAME}  # the models index is derived from models.json
    orphans = [p.name for p in (ROOT / "data" / "compiled").glob("*.json") if p.stem not in stems]
    assert not orphans


def test_yaml_fallback_reads_the_same_values_as_the_compiled_form(tmp_path, monkeypatch) -> None:
    # A data dir with only the YAML source: load() must parse it into the shape the compiled form has
    # (dates as ISO strings), so callers never see two shapes.
    src = ROOT / "data" / "cost.yaml"
    (tmp_path / "cost.yaml").write_bytes(src.read_bytes())
    monkeypatch.setattr(_data, "data_dir", lambda: tmp_path)
    _data.load.cache_clear()
    try:
        from_yaml = _data.load("cost")
    finally:
        _data.load.cache_clear()
    from_json = json.loads((ROOT / "data" / "compiled" / "cost.json").read_text(encoding="utf-8"))
    assert from_yaml == from_json
    assert any(isinstance(v, dict) and isinstance(v.get("as_of"), str) for v in _walk(from_yaml))


def test_a_corrupt_compiled_file_is_a_data_error(tmp_path, monkeypatch) -> None:
    (tmp_path / "compiled").mkdir()
    (tmp_path / "compiled" / "quants.json").write_text("{not json")
    monkeypatch.setattr(_data, "data_dir", lambda: tmp_path)
    _data.load.cache_clear()
    try:
        with pytest.raises(_data.DataError, match="quants.json"):
            _data.load("quants")
    finally:
        _data.load.cache_clear()


def _walk(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def test_models_index_is_fresh() -> None:
    compiled = ROOT / "data" / "compiled"
    text = (compiled / "models.json").read_text(encoding="utf-8")
    assert (compiled / f"{model_rows.NAME}.json").read_text(encoding="utf-8") == model_rows.index_text(
        text, models.build_index), "data/compiled/models_index.json is stale: run python scripts/compile_data.py"


def test_each_entry_parsed_alone_is_the_entry_of_the_whole_catalog() -> None:
    # what `fit` reads through the index (one span of models.json) is what the full parse holds at that position,
    # and the index's names are the ones built from the full parse
    whole = json.loads((ROOT / "data" / "compiled" / "models.json").read_text(encoding="utf-8"))["models"]
    assert model_rows.compiled() is not None
    assert [model_rows.entry(pos) for pos in range(len(whole))] == whole
    assert models._index() == models.build_index(whole)
    assert models.ids_and_params() == [(e["id"], int(e["params"])) for e in whole]


def test_a_models_index_that_does_not_match_models_json_is_not_used(tmp_path, monkeypatch) -> None:
    # models.json edited after the index was written (another length; or the same length, other entries): the index
    # is ignored and the catalog parsed whole, so a stale index never names the wrong model
    (tmp_path / "compiled").mkdir()
    text = (ROOT / "data" / "compiled" / "models.json").read_text(encoding="utf-8")
    index = json.loads(model_rows.index_text(text, models.build_index))
    (tmp_path / "compiled" / f"{model_rows.NAME}.json").write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(model_rows, "data_dir", lambda: tmp_path)
    model_rows.compiled.cache_clear()
    try:
        (tmp_path / "compiled" / "models.json").write_text(text + " ", encoding="utf-8")
        assert model_rows.compiled() is None
        model_rows.compiled.cache_clear()
        entries = json.loads(text)
        entries["models"] = entries["models"][1:] + entries["models"][:1]  # same characters, entries moved
        (tmp_path / "compiled" / "models.json").write_text(json.dumps(entries, separators=(",", ":"),
                                                                      ensure_ascii=False) + "\n", encoding="utf-8")
        assert model_rows.compiled() is not None and model_rows.entry(0) is None  # span 0 no longer holds its id
    finally:
        model_rows.compiled.cache_clear()
