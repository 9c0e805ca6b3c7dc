"""`advisor models` filters: --search (ranked), --family, --license, --min-context, --use-case.

Why ranked: a user who types `--search qwen3` wants the qwen3 family before the models that merely mention it
(Qwen3-Next, the R1 distills of Qwen), and one who mistypes `--search mistrl` still wants Mistral. Order: exact
(id, alias, Hub id or family equal to the text) < prefix (a field starts with it) < substring < fuzzy; within a tier by
family, then size (total params), then id. Fuzzy is a fallback: close spellings (difflib ratio >= FUZZY_CUTOFF
against each field and each of its words) count only when nothing contains the text, so `--search qwen3` never
drags in qwen2. Text of several words matches when every word does.
"""
from __future__ import annotations

import difflib
import re
from typing import Iterable, Sequence

from ..domain import Model
from ..errors import BadOptionError
from ..record import record

FUZZY_CUTOFF = 0.8  # "mistrl" ~ "mistral" is 0.92, "qwen3" ~ "qwen2" is 0.8 (but a substring match wins first)
TIERS = ("exact", "prefix", "substring", "fuzzy")
_WORD = re.compile(r"[/:\s_.\-]+")


@record
class ModelFilter:
    """What `advisor models` was asked to keep; every part optional, all parts must hold (AND)."""

    search: str | None = None
    families: tuple[str, ...] = ()  # any of these (Ollama family: the id before ':')
    licenses: tuple[str, ...] = ()  # any of these
    min_context: int | None = None
    use_cases: tuple[str, ...] = ()  # every one of these

    def as_dict(self) -> dict:
        return {"search": self.search, "family": list(self.families), "license": list(self.licenses),
                "min_context": self.min_context, "use_case": list(self.use_cases)}


@record
class Match:
    model: Model
    tier: str | None  # one of TIERS with --search, None without
    active_params: int = 0  # parameters used per token (the total for a dense model), counted per tensor

    @staticmethod
    def of(m: Model, tier: str | None) -> "Match":
        """A kept model with its active parameter count, so render only formats it (issue 19 item 3)."""
        from ..estimate.tensors import active_params  # estimate imports catalog; counted only for kept rows

        return Match(m, tier, active_params(m) if m.moe else m.params)


@record
class ModelList:
    """`advisor models` without --fits/--installed (api.list_models): the filter and what it kept, in order."""

    filter: ModelFilter
    matches: tuple[Match, ...]


def family(m: Model) -> str:
    """The Ollama library name of a catalog entry: its id before ':' (qwen2.5-coder for qwen2.5-coder:7b)."""
    return m.id.split(":", 1)[0]


def _fields(m: Model) -> list[str]:
    hub = m.hf_id.lower()
    return [s.lower() for s in (m.id, m.name, family(m), hub, hub.rsplit("/", 1)[-1], *m.aliases) if s]


def _tier(m: Model, text: str) -> int | None:
    """0 exact, 1 prefix, 2 substring for one search text (all its words must be found), else None."""
    fields = _fields(m)
    if text in {m.id.lower(), m.hf_id.lower(), family(m).lower(), *(a.lower() for a in m.aliases)}:
        return 0
    if any(f.startswith(text) for f in fields):
        return 1
    words = text.split()
    if all(any(w in f for f in fields) for w in words):
        return 2
    return None


def _fuzzy(m: Model, matchers: Sequence[difflib.SequenceMatcher]) -> bool:
    """Every word of the text (one matcher each, from _matchers) is close to a field or a word of one."""
    candidates = set(_fields(m))
    for f in list(candidates):
        candidates.update(w for w in _WORD.split(f) if w)
    return all(_close(s, candidates) for s in matchers)


def _matchers(text: str) -> list[difflib.SequenceMatcher]:
    """One SequenceMatcher per word, its word indexed once for the whole catalog. Why: difflib.get_close_matches
    indexes the word again on every call, once per model; a 100,000-character --search took seconds."""
    out = []
    for w in text.split():
        s = difflib.SequenceMatcher()
        s.set_seq2(w)
        out.append(s)
    return out


def _close(s: difflib.SequenceMatcher, candidates: Iterable[str]) -> bool:
    """Whether get_close_matches(word, candidates, n=1, cutoff=FUZZY_CUTOFF) would find one: its three tests, the
    cheap length bound first (a 100,000-character word is never close to a 20-character name)."""
    for x in candidates:
        s.set_seq1(x)
        if s.real_quick_ratio() >= FUZZY_CUTOFF and s.quick_ratio() >= FUZZY_CUTOFF and s.ratio() >= FUZZY_CUTOFF:
            return True
    return False


def _size_key(m: Model) -> tuple:
    return (family(m), m.params, m.id)


def apply(models: Sequence[Model], f: ModelFilter) -> list[Match]:
    """The models that pass every filter, ranked (module docstring)."""
    return [Match.of(m, tier) for tier, m in ranked(models, f)]


def ranked(models: Sequence[Model], f: ModelFilter) -> list[tuple[str | None, Model]]:
    """apply()'s models and tiers without its Match rows. Why: `models --fits` needs only the models, and Match.of
    counts every kept MoE model's active parameters per tensor (~0.1 s of CPU over the catalog) for nothing."""
    kept = [m for m in models if _passes(m, f)]
    if not f.search:
        return [(None, m) for m in sorted(kept, key=_size_key)]
    text = " ".join(f.search.lower().split())
    found = [(t, m) for m in kept if (t := _tier(m, text)) is not None]
    if not found:
        matchers = _matchers(text)
        found = [(3, m) for m in kept if _fuzzy(m, matchers)]
    found.sort(key=lambda tm: (tm[0], *_size_key(tm[1])))
    return [(TIERS[t], m) for t, m in found]


def _passes(m: Model, f: ModelFilter) -> bool:
    if f.families and family(m) not in f.families:
        return False
    if f.licenses and m.license.lower() not in f.licenses:
        return False
    if f.min_context is not None and m.max_context < f.min_context:
        return False
    return all(u in m.use_cases for u in f.use_cases)


# --- parsing the options (bad input: exit 2 naming the valid values) ---------------------------------------------

def _split(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(dict.fromkeys(p.strip().lower() for v in values for p in str(v).split(",") if p.strip()))


def build(*, search: str | None = None, family_: Iterable[str] | str | None = None,
          license_: Iterable[str] | str | None = None, min_context: str | int | None = None,
          use_case: Iterable[str] | str | None = None, models: Sequence[Model] | None = None) -> ModelFilter:
    """A ModelFilter from option text; unknown use cases, licences or families are bad input with the valid values."""
    from .models import USE_CASES, all_models, licenses

    catalog = list(models) if models is not None else all_models()
    use_cases = _split(use_case)
    bad = [u for u in use_cases if u not in USE_CASES]
    if bad:
        raise BadOptionError(f"unknown use case {bad[0]!r}", f"use one or more of: {', '.join(USE_CASES)}")
    lics = _split(license_)
    known = list(licenses())
    bad = [x for x in lics if x not in known]
    if bad:
        raise BadOptionError(f"unknown license {bad[0]!r}", f"use one or more of: {', '.join(known)}")
    fams = _split(family_)
    names = sorted({family(m) for m in catalog})
    bad = [x for x in fams if x not in names]
    if bad:
        close = difflib.get_close_matches(bad[0], names, n=3, cutoff=0.5) or [n for n in names if bad[0] in n][:3]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise BadOptionError(f"unknown family {bad[0]!r}", f"{hint}a family is the model id before ':' "
                             "(qwen2.5-coder for qwen2.5-coder:7b); 'advisor models' lists them")
    ctx = None
    if min_context is not None:
        from ..errors import BadNumberError
        from ..units import parse_context

        if str(min_context).strip().lower() == "max":
            raise BadOptionError("--min-context max names no number", "give a token count such as 32k or 131072")
        try:
            ctx = parse_context(str(min_context))
        except BadNumberError as exc:
            raise BadOptionError(f"--min-context: {exc.args[0]}", "give a token count such as 32k or 131072") from exc
    text = " ".join(search.split()) if search is not None else None
    if text is not None and not text:
        raise BadOptionError("--search needs some text", "e.g. --search coder")
    return ModelFilter(search=text, families=fams, licenses=lics, min_context=ctx, use_cases=use_cases)
