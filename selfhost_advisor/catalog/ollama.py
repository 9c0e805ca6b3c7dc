"""Ollama model names and the models an Ollama install holds.

Tags: [host/][namespace/]model[:tag], tag like "70b-instruct-q3_K_M" = size, variant, quant
(ollama/ollama types/model/name.go; defaults registry.ollama.ai, library, latest).
Installed models: manifests under OLLAMA_MODELS (default ~/.ollama/models)/manifests/<host>/<namespace>/<model>/<tag>,
JSON whose layer with mediaType application/vnd.ollama.image.model names the GGUF blob blobs/sha256-<hex>.
"""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from ..errors import BadFileError, BadOptionError, UnknownModelError
from ..record import record

DEFAULT_HOST, DEFAULT_NAMESPACE, DEFAULT_TAG = "registry.ollama.ai", "library", "latest"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_QUANT = re.compile(r"^(q[0-9]_[0-9a-z_]*[0-9a-z]|iq[0-9]_[a-z0-9_]*[a-z0-9]|fp16|f16|bf16|fp32|f32|mxfp4)$", re.I)
_SIZE = re.compile(r"^(\d+(\.\d+)?[kmbt]|\d+x\d+(\.\d+)?[bm]|e\d+(\.\d+)?b)$", re.I)
_ACTIVE = re.compile(r"^a\d+(\.\d+)?b$", re.I)  # qwen3:30b-a3b


@record
class OllamaTag:
    host: str
    namespace: str
    model: str
    tag: str
    size: str | None  # "70b", "8x7b", "30b-a3b"
    variant: str | None  # "instruct", "instruct-v0.1", "mini-4k-instruct"
    quant: str | None  # llama-quantize file type name: "Q3_K_M", "F16"

    @property
    def short(self) -> str:
        """How `ollama list` prints it: library models without host and namespace."""
        base = self.model if (self.host, self.namespace) == (DEFAULT_HOST, DEFAULT_NAMESPACE) else (
            f"{self.namespace}/{self.model}" if self.host == DEFAULT_HOST else f"{self.host}/{self.namespace}/{self.model}"
        )
        return f"{base}:{self.tag}"


def normalize_quant(text: str) -> str:
    q = text.upper()
    return {"FP16": "F16", "FP32": "F32"}.get(q, q)


def parse_tag(text: str) -> OllamaTag:
    """Split an Ollama name into its parts; raises UnknownModelError (an AdvisorError) if it is not one."""
    if not isinstance(text, str):
        raise UnknownModelError("an Ollama model name must be text")
    raw = text.strip()
    name, _, tag = raw.rpartition(":") if ":" in raw.rsplit("/", 1)[-1] else (raw, "", DEFAULT_TAG)
    parts = name.split("/")
    if len(parts) == 1:
        host, namespace, model = DEFAULT_HOST, DEFAULT_NAMESPACE, parts[0]
    elif len(parts) == 2:
        host, namespace, model = DEFAULT_HOST, parts[0], parts[1]
    elif len(parts) == 3:
        host, namespace, model = parts
    else:
        raise UnknownModelError(f"{raw!r} is not an Ollama model name", "expected [host/][namespace/]model[:tag]")
    if not host or not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}$", host):
        raise UnknownModelError(f"{raw!r} is not an Ollama model name (bad host)")
    for part, what in ((namespace, "namespace"), (model, "model"), (tag, "tag")):
        if not _PART.match(part):
            raise UnknownModelError(f"{raw!r} is not an Ollama model name (bad {what} {part!r})")
    size = variant = quant = None
    pieces = tag.split("-")
    if _QUANT.match(tag):  # hf.co/owner/repo:Q4_K_M - the tag is the quant
        quant, pieces = normalize_quant(tag), []
    elif len(pieces) > 1 and _QUANT.match(pieces[-1]):
        quant, pieces = normalize_quant(pieces[-1]), pieces[:-1]
    if pieces and pieces != [DEFAULT_TAG] and _SIZE.match(pieces[0]):
        size, pieces = pieces[0].lower(), pieces[1:]
        if pieces and _ACTIVE.match(pieces[0]):
            size, pieces = f"{size}-{pieces[0].lower()}", pieces[1:]
    if pieces and pieces != [DEFAULT_TAG]:
        variant = "-".join(pieces)
    return OllamaTag(host, namespace, model, tag, size, variant, quant)


def models_dir() -> Path:
    """OLLAMA_MODELS, or Ollama's default ~/.ollama/models. Raises BadOptionError where its ~ names no home directory
    (OLLAMA_MODELS='~nosuchuser/m', or HOME unset for a user without one): Path.expanduser's RuntimeError was exit 3,
    also for `fit NAME` of any name the catalog does not know, which looks for an installed model (session 32)."""
    env = os.environ.get("OLLAMA_MODELS")
    try:
        return Path(env).expanduser() if env else Path.home() / ".ollama" / "models"
    except RuntimeError:  # pathlib: "Could not determine home directory."
        if env:
            raise BadOptionError(f"OLLAMA_MODELS {_shown(env)!r} begins with a ~ that names no home directory here",
                                 "give the folder's full path (Ollama's default is ~/.ollama/models)") from None
        raise BadOptionError("no home directory to find Ollama's models in (~/.ollama/models): HOME is unset and this "
                             "user has none", "set OLLAMA_MODELS to the folder Ollama keeps its models in") from None


def _shown(path: object) -> str:
    from ..termsafe import clipped, plain

    return plain(clipped(str(path), 80))


def _checked(test, path: Path, root: Path) -> bool:
    """test(path) (Path.is_dir / is_file), where an OSError other than 'not there' (ENAMETOOLONG: a 5,000-character
    OLLAMA_MODELS; Python's pathlib re-raises it) is bad input naming the folder, not exit 3 (session 32)."""
    try:
        return test(path)
    except OSError as exc:
        where = "OLLAMA_MODELS" if os.environ.get("OLLAMA_MODELS") else "Ollama's default folder"
        raise BadOptionError(f"cannot read Ollama's model folder {_shown(root)!r} ({where}): "
                             f"{exc.strerror or type(exc).__name__}",
                             "set OLLAMA_MODELS to the folder Ollama keeps its models in") from None


@record
class Installed:
    tag: OllamaTag
    manifest: Path
    blob: Path | None  # the GGUF; None if the manifest names no model layer
    blob_bytes: int | None
    problem: str = ""  # why this entry cannot be read ("" if fine)


def _read_manifest(tag: OllamaTag, manifest: Path, root: Path) -> Installed:
    from ..limits import MAX_MANIFEST_BYTES
    from ..safefile import read_regular

    try:
        data = json.loads(read_regular(manifest, MAX_MANIFEST_BYTES, "Ollama manifest"))
    except BadFileError as exc:  # a FIFO, a device, larger than any manifest
        return Installed(tag, manifest, None, None, f"unreadable manifest ({exc.message.rsplit(': ', 1)[-1]})")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return Installed(tag, manifest, None, None, f"unreadable manifest ({type(exc).__name__})")
    layers = data.get("layers") if isinstance(data, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == MODEL_MEDIA_TYPE:
            digest = str(layer.get("digest", ""))
            if not re.match(r"^sha256[:-][0-9a-f]{64}$", digest):
                return Installed(tag, manifest, None, None, f"bad blob digest {digest[:20]!r}")
            blob = root / "blobs" / digest.replace(":", "-")
            try:
                mode = blob.stat().st_mode
            except (OSError, ValueError):
                return Installed(tag, manifest, blob, None, "blob missing (interrupted pull?)")
            if not stat.S_ISREG(mode):  # a FIFO, directory or device is never opened (a FIFO would block)
                from ..safefile import _kind

                return Installed(tag, manifest, blob, None, f"blob is {_kind(mode)}, not a regular file")
            return Installed(tag, manifest, blob, blob.stat().st_size)
    return Installed(tag, manifest, None, None, "no model layer in the manifest")


def installed(root: Path | None = None) -> list[Installed]:
    """Every model in the Ollama directory, sorted by name."""
    root = root or models_dir()
    base = root / "manifests"
    out = []
    if not _checked(Path.is_dir, base, root):
        return out
    for manifest in sorted(p for p in base.glob("*/*/*/*") if not p.is_dir()):  # a FIFO is listed, marked unreadable
        host, namespace, model, tag = manifest.relative_to(base).parts
        try:
            t = parse_tag(f"{host}/{namespace}/{model}:{tag}")
        except UnknownModelError:
            continue
        out.append(_read_manifest(t, manifest, root))
    return sorted(out, key=lambda i: i.tag.short)


def find_installed(name: str, root: Path | None = None) -> Installed | None:
    """The installed model `name` refers to (as `ollama run` would), or None."""
    root = root or models_dir()
    try:
        t = parse_tag(name)
    except UnknownModelError:
        return None
    manifest = root / "manifests" / t.host / t.namespace / t.model / t.tag
    if not _checked(Path.is_file, manifest, root):
        # host names are case-insensitive in Ollama; model and tag too on most file systems
        return None
    return _read_manifest(t, manifest, root)
