"""Shell completion of model ids and tags, hardware ids, quantizations, engines and cloud models (issue 19).

typer calls these only while completing (`_ADVISOR_COMPLETE` set by the completion script), so each imports the
catalog it needs inside the function: nothing here costs a normal run anything. Install with
`advisor --install-completion`.
"""
from __future__ import annotations

import re

_COUNT = re.compile(r"^(\d+\s*x\s*)", re.I)
SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")  # typer's completion classes (_completion_classes.py)


def request_problem(environ) -> str | None:
    """Why the completion request in `environ` (_ADVISOR_COMPLETE set) cannot be answered, or None.

    Why: typer answers an instruction it does not know ('x', 'complete_nosh') with exit 1, the code scripts read as a
    failed check, and reads bash's COMP_CWORD with int(): unset or not a number it was exit 3 (KeyError, ValueError).
    These variables come from the completion script (or a stray export), so each is an exit-2 line here instead."""
    instruction = environ.get("_ADVISOR_COMPLETE") or ""
    if not instruction:
        return None
    action, _, shell = instruction.partition("_")
    if action not in ("source", "complete") or shell not in SHELLS:
        from .termsafe import clipped

        return (f"_ADVISOR_COMPLETE={clipped(instruction, 40)!r} is not a completion request (source_SHELL or "
                f"complete_SHELL, SHELL one of {', '.join(SHELLS)}); unset it, or reinstall completion with "
                "'advisor --install-completion'")
    cword = environ.get("COMP_CWORD")
    if action == "complete" and shell == "bash" and (environ.get("COMP_WORDS") is None or cword is None
                                                     or not (cword.isascii() and cword.strip().isdigit())):
        return ("bash completion needs COMP_WORDS and a COMP_CWORD that is a word number, as the completion script "
                "sets them; reinstall it with 'advisor --install-completion'")
    return None


def _starting(incomplete: str, names) -> list[str]:
    low = incomplete.lower()
    return sorted({n for n in names if n.lower().startswith(low)})


def models(incomplete: str) -> list[str]:
    """Catalog ids (Ollama tags such as llama3.1:70b) and aliases; after 'name:size-' the quantization tags."""
    from .catalog.models import all_models

    names = [k for m in all_models() for k in (m.id, *m.aliases)]
    if "-" in incomplete.split(":", 1)[-1] and ":" in incomplete:  # llama3.1:70b-instruct-q4_K_M style tags
        from .catalog.quants import listed_quants

        base, _, _ = incomplete.rpartition("-")
        names += [f"{base}-{_ollama_tag(q.name)}" for q in listed_quants()]
    return _starting(incomplete, names)


def _ollama_tag(quant: str) -> str:
    """Q4_K_M -> q4_K_M, Q8_0 -> q8_0, F16 -> fp16: how Ollama's library spells a quantization in a tag."""
    if quant == "F16":
        return "fp16"
    return re.sub(r"_k(_[a-z])?$", lambda m: "_K" + (m.group(1) or "").upper(), quant.lower())


def hardware(incomplete: str) -> list[str]:
    """Profile ids and aliases; after a count ('2x ') the profile names with the count kept."""
    from .catalog.hardware import profiles

    m = _COUNT.match(incomplete)
    prefix = m.group(1) if m else ""
    rest = incomplete[len(prefix):]
    names = [k for p in profiles() if p.kind != "host" for k in (p.id, *(p.raw.get("aliases") or ()))]
    return [prefix + n for n in _starting(rest, names)]


def quants(incomplete: str) -> list[str]:
    """llama.cpp quantizations and vLLM serving formats; after a comma the next name."""
    from .catalog.quants import listed_quants

    head, _, last = incomplete.rpartition(",")
    names = [q.name for q in listed_quants()]
    try:
        from .engines import get_engine

        names += [q.name for q in get_engine("vllm").quants()]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        pass
    return [(head + "," if head else "") + n for n in _starting(last, names)]


def engines(incomplete: str) -> list[str]:
    from .engines import engine_names

    return _starting(incomplete, engine_names())


def cloud(incomplete: str) -> list[str]:
    """data/prices.yaml ids and aliases; after a comma the next name."""
    from .catalog.data import load

    head, _, last = incomplete.rpartition(",")
    names = [k for e in load("prices")["candidates"] for k in (e["id"], *(e.get("aliases") or ()))]
    return [(head + "," if head else "") + n for n in _starting(last, names)]


def _listed(incomplete: str, names) -> list[str]:
    """Comma lists ('apache-2.0,m' completes the last name)."""
    head, _, last = incomplete.rpartition(",")
    return [(head + "," if head else "") + n for n in _starting(last, names)]


def families(incomplete: str) -> list[str]:
    """Catalog families (the id before ':')."""
    from .catalog.models import all_models

    return _listed(incomplete, {m.id.split(":", 1)[0] for m in all_models()})


def licenses(incomplete: str) -> list[str]:
    """The licence tags data/models.yaml declares."""
    from .catalog.models import licenses as known

    return _listed(incomplete, known())


def use_cases(incomplete: str) -> list[str]:
    from .catalog.models import USE_CASES

    return _listed(incomplete, USE_CASES)
