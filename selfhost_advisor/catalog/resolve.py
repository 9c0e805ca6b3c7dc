"""One entry point from what a user types to a Model: catalog names, local GGUF files, installed Ollama
models, Hugging Face repos (safetensors configs and GGUF repos).

    ./x.gguf, /models/x-00001-of-00003.gguf   local GGUF: exact tensors from its header
    ollama:NAME                               an installed Ollama model's GGUF blob
    hf:owner/repo[:QUANT], hf.co/owner/repo   the Hub (config.json, or a GGUF file's header)
    llama3.1:70b, meta-llama/Llama-3.1-70B    the shipped catalog (offline)
    owner/repo not in the catalog             the Hub
    mymodel:latest not in the catalog         an installed Ollama model, if there is one
"""
from __future__ import annotations

import os
import re

from . import models as catalog
from ..domain import FitResult, Model, Quant
from ..errors import BadFileError, BadOptionError, NotSizedModelError, UnknownModelError, UnknownQuantError
from ..record import record, replace
from .ollama_defaults import DefaultQuant, default_quant
from .quants import all_quants, get_quant


@record
class Resolved:
    model: Model
    quant: str | None  # a quant named by the input (Ollama tag suffix) or fixed by a file
    query: str
    kind: str  # catalog | gguf | ollama | hub | hub-gguf
    fixed_quant: bool = False  # the model is one file's exact tensors: only `quant` applies
    warnings: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    default_quant: DefaultQuant | None = None  # a bare family / FAMILY:latest: Ollama's quantization for it


def _looks_like_path(q: str) -> bool:
    return q.lower().endswith(".gguf") or q.startswith(("./", "../", "/", "~")) or os.sep in q and os.path.exists(q)


_HUB_URL = re.compile(r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)(?:/+(.*))?$", re.I)


_OLLAMA_URL = re.compile(r"^(?:https?://)?(?:www\.)?ollama\.com/library/([^/?#\s]+)/?(?:[?#].*)?$", re.I)
_HUB_SECTIONS = {"datasets", "spaces", "collections", "docs", "papers", "blog", "models", "organizations", "settings"}


def _hub_page(raw: str) -> str:
    """A model page's address copied from the browser (https://huggingface.co/Qwen/Qwen3-8B, its /tree/main) as the
    hf.co/owner/repo name it means; a file's or another revision's address is refused naming what to give instead,
    rather than read as a catalog name that matches nothing."""
    ollama = _OLLAMA_URL.match(raw)
    if ollama:  # https://ollama.com/library/llama3.1:8b: the library's tag, as 'ollama pull' takes it
        return ollama.group(1)
    m = _HUB_URL.match(raw)
    if m is None:
        return raw
    parts = (m.group(1) or "").split("?", 1)[0].split("#", 1)[0].strip("/").split("/")
    if parts[0].lower() in _HUB_SECTIONS:  # a dataset's or a Space's page is no model ('hf:datasets/foo' was offered)
        parts = [""]
    if len(parts) == 2 or len(parts) in (3, 4) and parts[2] == "tree" and parts[3:] in ([], ["main"]):
        return "hf.co/" + "/".join(parts[:2])
    quant = quant_in_filename(parts[-1]) if parts[-1].lower().endswith(".gguf") else None
    if len(parts) >= 5 and parts[2] in ("blob", "resolve") and parts[3] == "main" and quant:
        return f"hf.co/{parts[0]}/{parts[1]}:{quant}"  # Ollama's spelling: the repository's file of that quant
    from ..termsafe import clipped

    example = f"hf:{'/'.join(parts[:2])}" if len(parts) >= 2 else "hf:Qwen/Qwen3-8B"
    raise UnknownModelError(f"{clipped(raw)!r} is not a model repository's page",
                            f"give the repository as {example} (a GGUF repository's file with :QUANT, e.g. :Q4_K_M)")


def resolve(query: str, *, quants: tuple[str, ...] = (), offline: bool = False) -> Resolved:
    """Resolve `query`; `quants` (from --quant) picks the file of a Hub GGUF repo."""
    raw = query.strip()
    if not raw:
        raise UnknownModelError("no model given", "e.g. llama3.1:8b, Qwen/Qwen3-8B or ./model.gguf")
    if "\x00" in raw:  # no file, tag or Hub id holds a NUL; os.path functions raise ValueError on one
        raise UnknownModelError("a model name cannot contain a NUL byte", "e.g. llama3.1:8b, Qwen/Qwen3-8B or ./model.gguf")
    raw = _hub_page(raw)
    if _looks_like_path(raw):
        return resolve_gguf_file(os.path.expanduser(raw), raw)
    low = raw.lower()
    if low.startswith("ollama:"):
        if not raw[len("ollama:"):].strip():  # said "'' is not installed" (session 33)
            raise UnknownModelError("no model name after 'ollama:'", "e.g. ollama:llama3.1:8b; 'advisor models "
                                    "--installed' lists what Ollama has")
        return resolve_installed(raw[len("ollama:"):], raw, required=True)  # type: ignore[return-value]
    if low.startswith("hf:"):
        return resolve_hub(raw[3:], raw, quants=quants, offline=offline)
    try:
        r = catalog.resolve(raw)
        return Resolved(r.model, r.quant, raw, "catalog", default_quant=_family_default(low, r))
    except NotSizedModelError:
        raise
    except UnknownModelError as not_in_catalog:
        for prefix in ("hf.co/", "huggingface.co/"):
            if low.startswith(prefix):
                return resolve_hub(raw[len(prefix):], raw, quants=quants, offline=offline)
        installed = resolve_installed(raw, raw, required=False)
        if installed is not None:
            return installed
        if raw.count("/") == 1 and ":" not in raw and " " not in raw:
            return resolve_hub(raw, raw, quants=quants, offline=offline)
        raise not_in_catalog


def _family_default(low: str, r: catalog.Resolved) -> DefaultQuant | None:
    """A bare family name or FAMILY:latest that resolved to the family's default size: Ollama's quantization of it
    (catalog/ollama_defaults.py); any other tag, or a tag naming its quantization, has none."""
    family, _, tag = low.partition(":")
    if r.quant is not None or "/" in low or tag not in ("", "latest") or f"{family}:latest" not in r.model.aliases:
        return None
    return default_quant(family)


def quant_of(name: str) -> Quant:
    """The catalog's Quant for a file type name, or a plain label for one llama-quantize does not list."""
    try:
        return get_quant(name)
    except UnknownQuantError:
        return Quant(name=name, default_type=name if name in _ggml_names() else "F16", rank=len(all_quants()))


def _ggml_names() -> set[str]:
    from .data import load

    return set(load("ggml_types")["types"])


def _variant_of(wanted: set[str], file_quant: str) -> bool:
    """Whether the one name asked for is an Unsloth dynamic type whose files carry `file_quant` as their llama.cpp file
    type (a UD-Q4_K_XL file says "Q4_K - Medium"): `--quant UD-Q4_K_XL` on a Hub repository picks that file, which is
    then sized from its own header (docs/methodology.md 5c-s29u)."""
    if len(wanted) != 1:
        return False
    name = next(iter(wanted))
    known = {q.name: q for q in all_quants()}
    return (name.startswith("UD-") and name in known and known[name].base is not None
            and known[name].base.upper() == file_quant.upper())


def select_quants(resolved: Resolved, names: list[str]) -> tuple[Quant, ...] | None:
    """Quants to evaluate: a file's own quant (exactly), or the requested ones; None means the default list."""
    if resolved.fixed_quant:
        assert resolved.quant is not None
        wanted = {n.strip().upper() for n in names}
        if wanted and wanted != {resolved.quant.upper()} and not _variant_of(wanted, resolved.quant):
            raise BadOptionError(
                f"{resolved.query} is a {resolved.quant} file; --quant {','.join(sorted(wanted))} does not apply",
                "drop --quant, or give a file (or Hub repo file) of that quantization",
            )
        return (quant_of(resolved.quant),)
    if not names and resolved.quant:
        names = [resolved.quant]
    if not names and resolved.default_quant is not None:
        names = [resolved.default_quant.quant]  # `fit FAMILY`: the blob `ollama pull FAMILY` fetches
    if not names:
        return None
    return tuple(sorted({get_quant(n) for n in names}, key=lambda q: q.rank))


def annotate(result: FitResult, resolved: Resolved) -> FitResult:
    """Say where the model's facts came from, and carry the resolver's warnings into the result."""
    assumptions = dict(result.assumptions)
    assumptions["model_source"] = resolved.kind
    if resolved.model.tensor_types is not None:
        assumptions["weights"] = "exact: every tensor's type and shape from the GGUF header"
    return replace(result, assumptions=assumptions, warnings=tuple(resolved.warnings) + tuple(result.warnings))


# -- local GGUF and Ollama ---------------------------------------------------------------------------------------

def resolve_gguf_file(path: str, query: str) -> Resolved:
    from .gguf_model import read_local

    gm = read_local(path)
    warnings = () if gm.file_type_known else (
        f"{os.path.basename(path)} names no llama-quantize file type; labelled by its main tensor type {gm.quant}",
    )
    return Resolved(gm.model, gm.quant, query, "gguf", True, warnings, gm.files)


def resolve_installed(name: str, query: str, *, required: bool) -> Resolved | None:
    from .gguf_model import from_headers, ggml_type_ids
    from .gguf_header import read_file_header
    from ..errors import BadOptionError
    from ..termsafe import clipped
    from .ollama import find_installed, models_dir

    try:
        inst = find_installed(name)
    except BadOptionError:  # OLLAMA_MODELS unusable: said for ollama:NAME; a name the catalog lacks stays unknown
        if required:
            raise
        return None
    if inst is None:
        if required:
            # the name clipped: `ollama:` + 5,000 characters came back whole in a 5,125-character line (session 33)
            raise UnknownModelError(f"{clipped(name)!r} is not installed in Ollama's model folder "
                                    f"{clipped(str(models_dir()), 80)}",
                                    "run 'advisor models --installed' to list what is")
        return None
    if inst.problem or inst.blob is None:
        raise BadFileError(f"installed Ollama model {inst.tag.short}: {inst.problem}")
    header = read_file_header(str(inst.blob), ggml_type_ids())
    gm = from_headers([header], model_id=inst.tag.short, source=str(inst.blob), files=(str(inst.blob),))
    return Resolved(gm.model, gm.quant, query, "ollama", True, (), gm.files)


# -- Hugging Face Hub --------------------------------------------------------------------------------------------

_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.I)


def _quant_names() -> list[str]:
    from .data import load

    names = {q.name for q in all_quants()} | set(load("ggml_types").get("file_types", {}).values())
    return sorted(names, key=len, reverse=True)


def quant_in_filename(path: str) -> str | None:
    """The llama-quantize type a GGUF file name carries (Llama-3.3-70B-Instruct-Q4_K_M.gguf -> Q4_K_M)."""
    base = path.rsplit("/", 1)[-1]
    for q in _quant_names():
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(q)}(?![A-Za-z0-9_])", base, re.I):
            return q
    return None


def resolve_hub(spec: str, query: str, *, quants: tuple[str, ...] = (), offline: bool = False) -> Resolved:
    from .hub import HubClient, HubError

    repo, _, tag_quant = spec.partition(":")
    requested = [q for q in ([tag_quant] if tag_quant else []) + list(quants) if q]
    client = HubClient(repo, offline=offline)  # 'org/repo/' is refused naming 'org/repo' (was read as it, unsaid)
    try:
        info = client.info()
    except HubError as exc:  # offline or unreachable: name the catalog entry of this repo when there is one
        try:
            known = catalog.resolve(repo).model.id
        except UnknownModelError:
            raise exc from None
        hint = f"{exc.hint}; or use the catalog's entry, which works offline: {known}".lstrip("; ")
        raise type(exc)(exc.message, hint) from None
    files = info["files"]
    ggufs = sorted(p for p in files if p.lower().endswith(".gguf") and "mmproj" not in p.lower())
    if ggufs and (requested or "config.json" not in files):
        r = _resolve_hub_gguf(client, ggufs, requested, query, files)
    elif "config.json" in files:
        r = _resolve_hub_config(client, query, requested)
    else:
        raise UnknownModelError(f"{repo} has neither config.json nor GGUF files", "is it a model repository?")
    if client.used_stale_cache:
        r = replace(r, warnings=r.warnings + ("the Hub was unreachable: using cached answers",))
    return r


def _resolve_hub_config(client, query: str, requested: list[str]) -> Resolved:
    from ..estimate.tensors import count_params
    from .hf_config import model_from_config
    from .hub import HubError

    config = client.config()
    warnings: list[str] = []
    counts = None
    try:
        counts = client.safetensors_params()
    except HubError as exc:  # the stated count is informative; sizing goes on from config.json
        warnings.append(f"safetensors metadata unavailable ({exc}); parameters counted from config.json")
    stated = sum(counts.values()) if counts else None
    model = model_from_config(config, client.repo, params=stated)
    if stated is None:
        model = replace(model, params=count_params(model))
    else:
        implied = count_params(model)
        if abs(implied - stated) > 0.02 * stated:
            warnings.append(
                f"the checkpoint holds {stated:,} parameters, the text model sized here {implied:,} "
                "(vision tower, MTP layers or packed quantized weights are not part of the GGUF text model)"
            )
    qc = config.get("quantization_config")
    if isinstance(qc, dict) and qc.get("quant_method"):
        warnings.append(f"the checkpoint is pre-quantized ({qc.get('quant_method')}); sizes are for GGUF conversions")
    quant = requested[0] if len(requested) == 1 else None
    return Resolved(model, quant, query, "hub", False, tuple(warnings))


def _resolve_hub_gguf(client, ggufs: list[str], requested: list[str], query: str, sizes: dict) -> Resolved:
    from .gguf_model import from_headers

    by_quant: dict[str, list[str]] = {}
    for p in ggufs:
        q = quant_in_filename(p)
        if q:
            by_quant.setdefault(q.upper(), []).append(p)
    available = sorted(by_quant, key=lambda q: quant_of(q).rank)
    warnings: list[str] = []
    if len({q.upper() for q in requested}) > 1:
        raise BadOptionError(f"{client.repo} is a GGUF repo: give one --quant", f"it holds {', '.join(available)}")
    if requested:
        want = requested[0].upper()
        want = {"FP16": "F16", "FP32": "F32"}.get(want, want)
    elif "Q4_K_M" in by_quant:
        want = "Q4_K_M"  # Ollama's default for hf.co repos
        others = [q for q in available if q != want]
        if others:
            warnings.append(f"{client.repo} also holds {', '.join(others)}: pick one with --quant")
    elif len(ggufs) == 1:
        want = quant_in_filename(ggufs[0]) or ""
        by_quant.setdefault(want, ggufs)
    else:
        raise BadOptionError(f"{client.repo} holds several GGUF files; pick one with --quant",
                             f"available: {', '.join(available) or ', '.join(ggufs)}")
    paths = by_quant.get(want)
    if not paths:
        raise BadOptionError(f"{client.repo} has no {want} GGUF", f"available: {', '.join(available) or 'none'}")
    parts = _one_file(paths)
    headers = [client.gguf_header(p) for p in parts]
    model_id = f"hf:{client.repo}:{want}" if want else f"hf:{client.repo}"
    gm = from_headers(headers, model_id=model_id, source=f"https://huggingface.co/{client.repo}/blob/{client.revision}/{parts[0]}",
                      files=tuple(parts))
    gm_model = replace(gm.model, hf_id=client.repo)
    return Resolved(gm_model, gm.quant, query, "hub-gguf", True, tuple(warnings), tuple(parts))


def _one_file(paths: list[str]) -> list[str]:
    """The parts of one GGUF among files of the same quant (a split file's parts, or the shortest single name)."""
    splits = sorted(p for p in paths if _SPLIT.search(p))
    if splits:
        first = splits[0]
        m = _SPLIT.search(first)
        assert m
        stem, count = first[: m.start()], int(m.group(2))
        parts = [f"{stem}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]
        have = {p.lower(): p for p in paths}
        missing = [p for p in parts if p.lower() not in have]
        if missing:
            raise BadFileError(f"split GGUF {first} is missing parts on the Hub: {', '.join(missing[:3])}")
        return [have[p.lower()] for p in parts]
    return [min(paths, key=lambda p: (len(p), p))]
