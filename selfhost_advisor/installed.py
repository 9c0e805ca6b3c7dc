"""`models --installed`: every model an Ollama install holds, read from its GGUF blob, with its fit here.

Why: "what I already have, will it run with this context?" is answered from the exact tensors in each blob
(header only; blobs are never read beyond it).
"""
from __future__ import annotations

from pathlib import Path

from .catalog.gguf_header import read_file_header
from .catalog.gguf_model import from_headers, ggml_type_ids
from .catalog.ollama import Installed, installed, models_dir
from .catalog.resolve import quant_of
from .domain import FitRequest, FitResult, Machine
from .errors import AdvisorError
from .estimate.fit import fit
from .record import record, replace


@record
class InstalledFit:
    name: str  # as `ollama list` prints it
    blob: str | None
    file_bytes: int | None
    quant: str | None
    result: FitResult | None  # None when the blob could not be read
    problem: str = ""


def installed_fits(machine: Machine, request: FitRequest, *, host_ram_known: bool = True,
                   root: Path | None = None) -> tuple[Path, list[InstalledFit]]:
    root = root or models_dir()
    out = []
    for inst in installed(root):
        out.append(_one(inst, machine, request, host_ram_known))
    return root, out


def _one(inst: Installed, machine: Machine, request: FitRequest, host_ram_known: bool) -> InstalledFit:
    name = inst.tag.short
    if inst.problem or inst.blob is None:
        return InstalledFit(name, str(inst.blob) if inst.blob else None, inst.blob_bytes, None, None, inst.problem)
    try:
        header = read_file_header(str(inst.blob), ggml_type_ids())
        gm = from_headers([header], model_id=name, source=str(inst.blob), files=(str(inst.blob),))
        # Ollama lowers num_ctx to the GGUF's context_length (llm/server.go "requested context size too large for
        # model"), so a BERT embedder's blob is sized at its 512, not at --context
        req = replace(request, context=min(request.context, gm.model.max_context))
        result = fit(gm.model, machine, req, (quant_of(gm.quant),), host_ram_known=host_ram_known)
    except AdvisorError as err:  # one bad blob (corrupt, a FIFO, beyond a limit) is marked, the others still listed
        return InstalledFit(name, str(inst.blob), inst.blob_bytes, None, None, str(err))
    return InstalledFit(name, str(inst.blob), inst.blob_bytes, gm.quant, result)


def catalog_view(row: InstalledFit):
    """The Model the catalog filters read for an installed model: its catalog entry when the tag names one (Ollama tag
    semantics: llama3.1:8b-instruct-q4_K_M is llama3.1:8b), else what the blob's GGUF header says (general.license,
    context length; no use cases), under the installed name; None for an unreadable blob."""
    from .catalog.models import lookup
    from .record import replace

    found = lookup(row.name)  # catalog.models.resolve without the suggestions of a miss (it is no error here)
    if found is not None:
        m = found.model
        return replace(m, id=row.name.lower(), aliases=(*m.aliases, m.id))  # --search finds it by the catalog id too
    return replace(row.result.model, id=row.name.lower()) if row.result is not None else None


def filter_installed(rows: list[InstalledFit], *, search=None, family=None, license=None, min_context=None,
                     use_case=None):
    """(the rows `advisor models`' filters keep, the ModelFilter or None when no filter was given). The filters are
    catalog/search.py's: family = the name before ':' (installed families count as known), licence, context, use
    cases; --search ranks exact < prefix < substring < fuzzy, `ollama list` order within a tier. An unreadable blob
    passes --search and --family by its name only, and no other filter."""
    from .catalog.models import all_models
    from .catalog.search import TIERS, _split, apply, build
    from .catalog.search import family as family_of
    from .record import replace

    if all(v is None for v in (search, family, license, min_context, use_case)):
        return rows, None
    flt = build(search=search, license_=license, min_context=min_context, use_case=use_case)
    fams = _split(family)
    known = {family_of(m) for m in all_models()} | {r.name.split(":", 1)[0].lower() for r in rows}
    unknown = [f for f in fams if f not in known]
    if unknown:
        build(family_=unknown)  # bad input: the catalog's message, with suggestions
    flt = replace(flt, families=fams)
    views = [catalog_view(r) for r in rows]
    kept: list[tuple[int, int, InstalledFit]] = []
    text = " ".join((flt.search or "").lower().split())
    for i, (r, view) in enumerate(zip(rows, views)):
        if view is None:
            if flt.licenses or flt.min_context is not None or flt.use_cases:
                continue
            if flt.families and r.name.split(":", 1)[0].lower() not in flt.families:
                continue
            if text and not all(w in r.name.lower() for w in text.split()):
                continue
            kept.append((TIERS.index("substring") if text else 0, i, r))
            continue
        match = apply([view], flt)
        if match:
            kept.append((TIERS.index(match[0].tier) if match[0].tier else 0, i, r))
    return [r for _, _, r in sorted(kept, key=lambda t: (t[0], t[1]))], flt
