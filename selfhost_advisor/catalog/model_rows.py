"""One catalog model without parsing the whole catalog: data/compiled/models_index.json beside models.json.

Why (issue 19, start-up): `fit --json` needs one model and its smaller siblings, yet json.loads of the ~630 KB
models.json and indexing its ~2,000 names cost ~7 ms, a fifth of the start-up it may spend over `import typer`.
scripts/compile_data.py writes an index beside models.json: every lower-cased name -> position (what models._index
builds, by the same function) and each entry's id, params and character span in models.json, so one entry is parsed
alone. tests/test_compiled_data.py fails when the index is stale; at run time an index that does not match the
models.json beside it (another length, or a span that does not hold the entry it names) is not used: the full parse is.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Callable

from .data import data_dir

NAME = "models_index"  # data/compiled/models_index.json, derived from data/compiled/models.json


def entry_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each entry of the top-level "models" list in a compiled (compact) models.json text."""
    dec = json.JSONDecoder()
    pos = 1  # after the opening brace; compiled JSON has no whitespace between tokens
    while text[pos] != "}":
        key, pos = dec.raw_decode(text, pos)
        start = pos + 1  # after the colon
        if key != "models":
            _, pos = dec.raw_decode(text, start)
        else:
            spans, pos = [], start + 1  # after the opening bracket
            while text[pos] != "]":
                _, end = dec.raw_decode(text, pos)
                spans.append((pos, end))
                pos = end + 1 if text[end] == "," else end
            return spans
        pos += text[pos] == ","
    return []


def index_text(models_text: str, build_index: Callable[[list[dict]], dict[str, int]]) -> str:
    """The compiled index for a compiled models.json text (scripts/compile_data.py writes it)."""
    entries = json.loads(models_text)["models"]
    spans = entry_spans(models_text)
    rows = [[e["id"], int(e["params"]), start, end] for e, (start, end) in zip(entries, spans, strict=True)]
    index = {"chars": len(models_text), "keys": build_index(entries), "rows": rows}
    return json.dumps(index, separators=(",", ":"), ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def compiled() -> tuple[str, dict] | None:
    """(models.json text, its index), or None where either is missing, unreadable or they do not match."""
    base = data_dir() / "compiled"
    try:
        text = (base / "models.json").read_bytes().decode("utf-8")
        index = json.loads((base / f"{NAME}.json").read_bytes())
    except (OSError, ValueError):
        return None
    return (text, index) if isinstance(index, dict) and index.get("chars") == len(text) else None


def entry(pos: int) -> dict | None:
    """Catalog entry `pos` parsed alone, or None when there is no usable index (the caller parses the catalog)."""
    c = compiled()
    if c is None:
        return None
    text, index = c
    model_id, _, start, end = index["rows"][pos]
    try:
        e = json.loads(text[start:end])
    except ValueError:
        return None
    return e if isinstance(e, dict) and e.get("id") == model_id else None
