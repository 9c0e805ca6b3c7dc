"""The model catalog (data/models.yaml) and name resolution.

Accepts Ollama tags ("llama3.1:70b", "llama3.1:70b-instruct-q8_0": the quant suffix is returned
separately), Hugging Face ids ("meta-llama/Llama-3.1-70B-Instruct") and aliases, case-insensitively, offline.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from ..domain import DSA, MLA, SSM, AltUp, Model, MoE
from ..errors import NotSizedModelError, UnknownModelError
from ..record import record
from .data import load

# Ollama tag quant suffixes: -q4_K_M, -q8_0, -fp16, -iq2_xxs ...
# A pattern, compiled by re on first use (re caches it): most names have no quant suffix to look for, and compiling
# it is ~0.4 ms of every start-up (issue 19).
_QUANT_SUFFIX = r"-(q[0-9]_[0-9a-z_]+|q[0-9]_[0-9]|iq[0-9]_[a-z_]+|fp16|f16|bf16|fp32|f32)$"
_VARIANT_SUFFIXES = ("-instruct", "-chat", "-text", "-it", "-base")


@record
class Resolved:
    model: Model
    quant: str | None  # a quant named in the tag, e.g. Q8_0 from "llama3.1:70b-instruct-q8_0"
    query: str


def _model_from_entry(e: dict) -> Model:
    moe = e.get("moe")
    mla = e.get("mla")
    return Model(
        id=e["id"],
        name=e.get("name", e["id"]),
        arch=e["arch"],
        n_layers=int(e["n_layers"]),
        hidden_size=int(e["hidden_size"]),
        intermediate_size=int(e["intermediate_size"]),
        n_heads=int(e["n_heads"]),
        n_kv_heads=int(e["n_kv_heads"]),
        head_dim=int(e["head_dim"]),
        vocab_size=int(e["vocab_size"]),
        tied_embeddings=bool(e["tied_embeddings"]),
        max_context=int(e["max_context"]),
        params=int(e["params"]),
        hf_id=e.get("hf_id", ""),
        text_params=int(e["text_params"]) if e.get("text_params") else None,
        attention_bias=bool(e.get("attention_bias", False)),
        qk_norm=bool(e.get("qk_norm", False)),
        sliding_window=int(e["sliding_window"]) if e.get("sliding_window") else None,
        sliding_window_pattern=int(e["sliding_window_pattern"]) if e.get("sliding_window_pattern") else None,
        moe=MoE(
            experts=int(moe["experts"]),
            active=int(moe["active"]),
            expert_intermediate_size=int(moe["expert_intermediate_size"]),
            shared_experts=int(moe.get("shared_experts") or 0),
            shared_intermediate_size=int(moe.get("shared_intermediate_size") or 0),
            first_dense_layers=int(moe.get("first_dense_layers") or 0),
            moe_layer_step=int(moe.get("moe_layer_step") or 1),
            latent_size=int(moe.get("latent_size") or 0),
        )
        if moe
        else None,
        mla=MLA(
            kv_lora_rank=int(mla["kv_lora_rank"]),
            qk_rope_head_dim=int(mla["qk_rope_head_dim"]),
            qk_nope_head_dim=int(mla["qk_nope_head_dim"]),
            v_head_dim=int(mla["v_head_dim"]),
            q_lora_rank=int(mla["q_lora_rank"]) if mla.get("q_lora_rank") else None,
        )
        if mla
        else None,
        dsa=DSA(**{k: (tuple(int(x) for x in v) if k == "indexer_layers" else int(v)) for k, v in e["dsa"].items()})
        if e.get("dsa") else None,
        ssm=SSM(**{k: (str(v) if k == "kind" else int(v)) for k, v in e["ssm"].items()}) if e.get("ssm") else None,
        layer_pattern=str(e.get("layer_pattern") or ""),
        gguf_nextn_layers=int(e.get("gguf_nextn_layers") or 0),
        gguf_nextn_shares_head=bool(e.get("gguf_nextn_shares_head", False)),
        kv_shared_layers=int(e.get("kv_shared_layers") or 0),
        altup=AltUp(**{k: int(v) for k, v in e["altup"].items()}) if e.get("altup") else None,
        global_head_dim=int(e.get("global_head_dim") or 0),
        global_kv_heads=int(e.get("global_kv_heads") or 0),
        k_eq_v=bool(e.get("k_eq_v", False)),
        double_wide_shared_ffn=bool(e.get("double_wide_shared_ffn", False)),
        ffn_widths=tuple(int(w) for w in e.get("ffn_widths") or ()),
        kv_heads_by_layer=tuple(int(h) for h in e.get("kv_heads_by_layer") or ()),
        parallel_residual=bool(e.get("parallel_residual", False)),
        attn_norm_2=bool(e.get("attn_norm_2", False)),
        gguf_has_output=bool(e.get("gguf_has_output", False)),
        cross_attention_tokens=int(e.get("cross_attention_tokens") or 0),
        embedding_rows=int(e.get("embedding_rows") or 0),
        v_head_dim=int(e.get("v_head_dim") or 0),
        full_attention_layers=tuple(int(x) for x in e.get("full_attention_layers") or ()),
        sliding_n_heads=int(e.get("sliding_n_heads") or 0),
        license=str(e.get("license", "")),
        use_cases=tuple(e.get("use_cases") or ()),
        released=str(e.get("released", "")),
        source=e.get("source", ""),
        aliases=tuple(e.get("aliases") or ()),
    )


USE_CASES = ("chat", "code", "reasoning", "vision", "embedding")  # data/models.yaml use_cases.values, in that order


def licenses() -> dict[str, str]:
    """The licence tags the catalog uses (data/models.yaml `licenses.values`): tag -> what it is."""
    return dict(load("models")["licenses"]["values"])


@lru_cache(maxsize=1)
def entries() -> tuple[dict, ...]:
    return tuple(load("models")["models"])


@lru_cache(maxsize=1)
def _index() -> dict[str, int]:
    """Lower-cased id / hf_id / alias -> position in entries(): the compiled index when there is a usable one
    (catalog/model_rows.py: the catalog is then not parsed whole), else built here."""
    from .model_rows import compiled

    c = compiled()
    return c[1]["keys"] if c is not None else build_index(entries())


def _entry(pos: int) -> dict:
    """entries()[pos], parsed alone when the compiled index allows it."""
    from .model_rows import entry

    e = entry(pos)
    return e if e is not None else entries()[pos]


def ids_and_params() -> list[tuple[str, int]]:
    """(id, params) of every catalog entry, in data order, without building Models (nor parsing the catalog whole when
    the compiled index has them)."""
    from .model_rows import compiled

    c = compiled()
    if c is not None:
        return [(row[0], row[1]) for row in c[1]["rows"]]
    return [(e["id"], int(e["params"])) for e in entries()]


def build_index(entries: list[dict] | tuple[dict, ...]) -> dict[str, int]:
    """Lower-cased id / hf_id / alias -> position in `entries` (scripts/compile_data.py stores it in the index)."""
    index: dict[str, int] = {}
    basenames: dict[str, set[int]] = {}
    for pos, e in enumerate(entries):
        for key in (e["id"], e.get("hf_id"), *(e.get("aliases") or ())):
            if key:
                index.setdefault(str(key).lower(), pos)
                if "/" in str(key):
                    basenames.setdefault(str(key).lower().rsplit("/", 1)[1], set()).add(pos)
    # A Hub repo name without its organisation ("Llama-3.1-8B-Instruct") resolves when it is unambiguous, and when it
    # is not also an Ollama family of several sizes: bigcode/starcoder must not make `starcoder` (and
    # `starcoder:latest`) the 15B when the catalog does not know which size Ollama's default is.
    sizes: dict[str, int] = {}
    for e in entries:
        fam = str(e["id"]).lower().split(":", 1)[0]
        sizes[fam] = sizes.get(fam, 0) + 1
    for base, positions in basenames.items():
        if len(positions) == 1 and sizes.get(base, 0) < 2:
            index.setdefault(base, positions.pop())
    return index


def all_models() -> list[Model]:
    """Every catalog model, in data order; a new list of the same (frozen) models on each call."""
    return list(_all_models())


# Catalog position -> its Model, built once: get(), resolve() and all_models() hand out the same (frozen) instance.
# Why: the estimate caches (functools.lru_cache) are keyed by Model; an equal Model built again (resolve() built one
# per call, all_models() its own set) matched the cached key only through a full field-by-field comparison (~20 us
# each), ~11,000 of them in one in-process `serve` after an earlier one (suite time, issue 19).
_MODELS: dict[int, Model] = {}


def _model_at(pos: int, entry: dict | None = None) -> Model:
    m = _MODELS.get(pos)
    if m is None:
        m = _MODELS[pos] = _model_from_entry(entry if entry is not None else _entry(pos))
    return m


@lru_cache(maxsize=1)
def _all_models() -> tuple[Model, ...]:
    return tuple(_model_at(pos, e) for pos, e in enumerate(entries()))


@lru_cache(maxsize=None)
def get(model_id: str) -> Model:
    return _model_at(_index()[model_id.lower()])


def _candidates(name: str) -> list[str]:
    """Names to try for a query, most specific first."""
    # Ollama: a bare name means name:latest, the family's default size and quantization (aliases carry it). It
    # goes first: "deepseek-r1" is also the basename of the Hub repo deepseek-ai/DeepSeek-R1 (671B).
    out = [name + ":latest", name] if ":" not in name and "/" not in name else [name]
    if name.startswith("hf.co/") or name.startswith("huggingface.co/"):
        out.append(name.split("/", 1)[1])
    for suffix in (":latest",):
        if name.endswith(suffix):
            out.append(name[: -len(suffix)])
    base = out[-1]
    for variant in _VARIANT_SUFFIXES:
        if variant in base:
            out.append(base.replace(variant, "", 1))
            head, _, tail = base.rpartition(variant)  # a tag whose own name has one: qwen3:30b-a3b-instruct-2507-instruct
            if head + tail != out[-1]:
                out.append(head + tail)
    return out


@lru_cache(maxsize=1)
def _families() -> frozenset[str]:
    """Every catalog family (the id before ':') and every name a not-sized family is refused under."""
    from .data import load

    not_sized = load("engines").get("vision_projectors", {}).get("not_sized", {}).get("families", {}).values()
    return frozenset([e["id"].split(":")[0] for e in entries()] + [str(n) for rec in not_sized for n in rec.get("names", ())])


def _size_distance(a: str, b: str) -> float:
    """How far apart two Ollama size tags are ("7b" vs "8b": 1), for ordering suggestions; text tags sort last."""
    def number(tag: str) -> float | None:
        m = re.match(r"(\d+(?:\.\d+)?)([mb])", tag)
        return float(m.group(1)) * (1e-3 if m.group(2) == "m" else 1.0) if m else None
    x, y = number(a), number(b)
    return abs(x - y) if x is not None and y is not None else float("inf")


def _refuse_not_sized(family: str, name: str, raw: str) -> None:
    """A family the estimator knows it cannot size (data/engines.yaml vision_projectors.not_sized): say why, not
    'unknown model'."""
    from .data import load

    for fam, rec in load("engines").get("vision_projectors", {}).get("not_sized", {}).get("families", {}).items():
        if family in rec.get("names", ()) or name in rec.get("names", ()):
            raise NotSizedModelError(f"{raw!r}: {' '.join(str(rec['reason']).split())}", str(rec["hint"]))


def _refuse_cloud_tag(family: str, tag: str, raw: str) -> None:
    """An Ollama cloud tag (`gpt-oss:120b-cloud`, `glm-4.6:cloud`) names a model Ollama runs on its own servers: the
    local daemon forwards the request, nothing is loaded here. Say so, naming the local tag (the tag without `-cloud`)
    where the catalog sizes it. Why: these answered 'unknown model' (session 32 survey). Source: Ollama Cloud "proxies
    :cloud-tagged requests to Ollama's servers, so no local GPU is required" (rocketride-org/rocketride-server PR #967)."""
    if not (tag == "cloud" or tag.endswith("-cloud")) or not family or "/" in family:
        return
    local = f"{family}:{tag[: -len('-cloud')]}" if tag != "cloud" else family
    got = lookup(local)
    hint = f"its local tag is sized: advisor fit {local}" if got else "name the model's local tag"
    raise UnknownModelError(f"{raw!r} is an Ollama cloud model: Ollama runs it on its own servers, not on this machine, "
                            "so there is nothing here to size", hint)


def _refuse_no_latest(family: str, tag: str, raw: str) -> None:
    """A family whose Ollama library has no `latest` tag (data/ollama_library.yaml no_latest): the bare name answers as
    the library does, with the real tags to name instead of a made-up default."""
    if tag not in ("", "latest"):
        return
    from .data import load

    rec = (load("ollama_library").get("no_latest") or {}).get("families", {}).get(family)
    if rec:
        raise UnknownModelError(f"model {raw!r} has no default: Ollama's library lists no {family}:latest",
                                f"name a tag: {', '.join(f'{family}:{t}' for t in rec['tags'])}")


def _name_and_quant(raw: str) -> tuple[str, str | None]:
    """The lower-cased name to look up and the quantization its tag carries (None when it carries none)."""
    name = raw.lower()
    quant = None
    family, sep, tag = name.partition(":")
    # every quant form starts with q, i, f or b: a size tag ("70b") skips compiling the pattern (~0.5 ms of start-up)
    if sep and "/" not in family and tag[:1] in "qifb" and re.fullmatch(_QUANT_SUFFIX[1:], tag, re.I):
        # The library's quantization-only tags (glm-4.7-flash:q8_0, :bf16): the family's default size at that quantization
        quant = tag.upper().replace("FP16", "F16").replace("FP32", "F32")
        name = family + ":latest"
    match = re.search(_QUANT_SUFFIX, name, re.I) if "-" in name and ":" in name and quant is None else None
    if match and ":" in name:
        quant = match.group(1).upper().replace("FP16", "F16").replace("FP32", "F32")
        name = name[: match.start()]
    return name, quant


def _spellings(name: str) -> list[str]:
    """`name`, and where it has spaces the forms the catalog writes with '-' or ':' ('qwen3.5 27b' -> 'qwen3.5-27b',
    'gemma4 31b' -> 'gemma4:31b', 'qwen 3.5 27b' -> 'qwen3.5:27b', 'kimi k2.6' -> 'kimi-k2.6'). Why: names are typed
    as they are said and printed ('Qwen3.5 27B', 'GLM 5.1'); every 2026 release was 'unknown model' spelled with
    spaces (session 20)."""
    words = name.split()
    if len(words) < 2 or len(words) > 8:
        return [name]
    out = [name]
    for i in range(len(words) - 1, 0, -1):  # the tag after word i ('deepseek r1 671b 0528' -> 'deepseek-r1:671b-0528')
        tag = "-".join(words[i:])
        out += ["".join(words[:i]) + ":" + tag, "-".join(words[:i]) + ":" + tag]
    return list(dict.fromkeys(out + ["-".join(words), "".join(words)]))


def lookup(query: str) -> Resolved | None:
    """resolve(query), or None where resolve raises (every name it does not find is refused with an UnknownModelError
    and up to three suggestions). Why: a caller that only asks whether a name is in the catalog (installed.catalog_view,
    for each installed model) paid for the closest-name search over ~2,000 names behind every miss."""
    raw = query.strip()
    name, quant = _name_and_quant(raw)
    index = _index()
    for spelled in _spellings(name):
        for cand in _candidates(spelled):
            if cand in index:
                return Resolved(_released(index[cand], cand), quant, raw)
    other = _other_separator(name)
    if len(other) == 1:  # exactly one entry under ':' / '-' swapped; several are refused by resolve() with the choices
        pos, key = next(iter(other.items()))
        return Resolved(_released(pos, key), quant, raw)
    return None


def _released(pos: int, key: str) -> Model:
    """The entry at `pos` as the name `key` asks for it: another release it sizes is named as such (name_forms)."""
    from .name_forms import as_release

    model = _model_at(pos)
    return as_release(model, _entry(pos), key) if model.aliases else model


def _other_separator(name: str) -> dict[int, str]:
    """Catalog positions (-> the key found) of `name` with ':' and '-' swapped between family and size tag."""
    from .name_forms import separator_forms

    index = _index()
    found: dict[int, str] = {}
    for spelled in _spellings(name):
        for form in separator_forms(spelled):
            for cand in _candidates(form):
                if cand in index:
                    found.setdefault(index[cand], cand)
                    break
    return found


def resolve(query: str) -> Resolved:
    """Resolve a user-typed model name to a catalog Model (and a quant if the tag carries one)."""
    got = lookup(query)
    if got is not None:
        return got
    raw = query.strip()
    name, _ = _name_and_quant(raw)
    index = _index()
    several = sorted(_model_at(pos).id for pos in _other_separator(name))
    if len(several) > 1:  # never a silent pick among entries the swapped separator names
        raise UnknownModelError(f"model {raw!r} matches several catalog entries with ':' and '-' swapped",
                                f"name one: {', '.join(several)}")
    # 'nemotron 3 super', 'deepseek v4', 'qwen 3.6': the refusal of the catalog's spelling, a family name first
    words = name.split()
    for spelled in (["-".join(words), "".join(words), "".join(words[:-1]) + ":" + words[-1],
                     "-".join(words[:-1]) + ":" + words[-1]] if len(words) > 1 else []):
        family = spelled.partition(":")[0]
        if family in _families():
            name = spelled
            break
    family, _, tag = name.partition(":")
    _refuse_cloud_tag(family, tag, raw)
    _refuse_not_sized(family, name, raw)
    _refuse_no_latest(family, tag, raw)
    sizes = [e["id"] for e in entries() if e["id"].split(":")[0] == family]
    if sizes and not tag:
        # A family whose Ollama default the catalog does not know (no FAMILY:latest alias): list the sizes, those
        # sized under another entry's shapes too ('lfm2.5:1.2b' is an alias of lfm2:1.2b: 'lfm2.5' said the catalog's
        # one size was lfm2.5:8b-a1b; audit33b)
        sizes = sorted({*sizes, *(a for e in entries() for a in (str(x).lower() for x in e.get("aliases") or ())
                                  if a.partition(":")[0] == family and a.partition(":")[2] not in ("", "latest"))})
        if len(sizes) == 1:  # 'has several sizes' was false here: say which size the catalog has
            raise UnknownModelError(f"model {raw!r} names no size", f"name it with its size: {sizes[0]} (the catalog's "
                                    f"one size of {family}; Ollama's default tag for it is not recorded)")
        raise UnknownModelError(f"model {raw!r} has several sizes", f"name one: {', '.join(sorted(sizes))}")
    if sizes:
        close = sorted(sizes, key=lambda i: (_size_distance(tag, i.split(":", 1)[1]), i))[:3]
    else:
        close = difflib.get_close_matches(name, list(index), n=3, cutoff=0.5)
        if not close and any(c.isalnum() for c in family):  # '-' is in every hyphenated id: no suggestion for it
            close = [k for k in index if family in k][:3]
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UnknownModelError(
        f"unknown model {raw!r}", f"{hint}run 'advisor models' to list the catalog"
    )
