"""Names the catalog holds in another form: ':' or '-' between a family and its size tag, and releases that a catalog
entry sizes with its own shapes (data/models.yaml `other_releases`).

Why: `exaone-4.0:32b` and `llama-3.3-nemotron-super:49b` were "unknown model" although the catalog lists
`exaone-4.0-32b` and `llama-3.3-nemotron-super-49b` (session 31); and `glm-4.7` answered as "GLM-4.6" without saying
that GLM-4.7 is sized with GLM-4.6's entry (docs/methodology.md 1b, "Session 31 (models31)").
"""
from __future__ import annotations

import re

from ..domain import Model, SizedAs
from ..record import replace

# A size tag as Ollama and the Hub write one: 32b, 1.2b, 135m, 1t, 8x7b; it ends the name or is followed by '-' / '_'
# (30b-a3b, 7b-v1.5). The lookahead keeps '-' inside a name ('qwen3-coder') from being read as a size separator.
_SIZE = r"(?:\d+x)?\d+(?:\.\d+)?[bmt](?=$|[-_])"


def separator_forms(name: str) -> list[str]:
    """`name` with ':' and '-' swapped between the family and a size tag: 'exaone-4.0:32b' -> ['exaone-4.0-32b'];
    'llama-3.3-nemotron-super-49b' -> ['llama-3.3-nemotron-super:49b']; 'qwen3-30b-a3b' -> ['qwen3:30b-a3b']. Every
    '-' before a size tag gives one form (so several forms may match several entries: the caller refuses then). Hub ids
    (with '/') and spaced names have their own rules, so they give none."""
    if "/" in name or " " in name:
        return []
    family, sep, tag = name.partition(":")
    if sep:
        return [f"{family}-{tag}"] if family and ":" not in tag and re.match(_SIZE, tag) else []
    return [name[: m.start()] + ":" + name[m.end():] for m in re.finditer(rf"-(?={_SIZE})", name) if m.start() > 0]


def as_release(model: Model, entry: dict, key: str) -> Model:
    """`model` as the release `key` names when the entry lists that name, or a Hub id whose repo name it is, under
    `other_releases` (GLM-4.7 under GLM-4.6's entry): the same shapes, its name saying which entry sized it and why;
    else `model` unchanged."""
    for rec in entry.get("other_releases") or ():
        names = {str(n).lower() for n in rec.get("names", ())}
        # a Hub id's repo name alone ('kimi-k2-instruct-0905') is a key of the entry too (models.build_index)
        if key in names or key in {n.rsplit("/", 1)[1] for n in names if "/" in n}:
            sized = SizedAs(release=str(rec["release"]), entry=model.id, entry_name=model.name, reason=str(rec["reason"]))
            return replace(model, name=f"{sized.release} (sized as {sized.entry_name}: {sized.reason})", sized_as=sized)
    return model
