"""The quality floor of `advisor cost`: compare self-hosting and APIs serving the model at equal quality.

Why: the serving model picks the format with the highest throughput, so a 48 GB box serves a 70B at 4-bit while the
hosted API it is compared with serves 8-bit: the verdict could favour the box only because it serves a lossier model.
The floor is a weight format every self-hosted option must serve at or above (by weight bits: BF16 16 > FP8 8 >
AWQ/GPTQ-INT4 4; a GGUF type by its bits per weight). By default it is what the reference API serves (data/prices.yaml
`served_formats`, each with its source); where that is not published, the best format a hosted endpoint of the same
model is published to serve; where none is, the released 16-bit weights (data/quality.yaml `cost_floor_fallback`).
`--min-quant FORMAT` sets it, `--min-quant any` removes it. Measured losses per format (data/quality.yaml
`served_formats`, another metric than the GGUF scoreboard) are shown beside each option, never used to rank.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from ..catalog.data import load
from ..errors import BadOptionError
from ..record import record
from .types import CloudPrice

# --min-quant spellings of the vLLM formats (and the 16-bit names a user may type)
_ALIASES = {"FP16": "BF16", "F16": "BF16", "16BIT": "BF16", "AWQ": "AWQ-INT4", "GPTQ": "GPTQ-INT4", "INT4": "AWQ-INT4",
            "W4A16": "AWQ-INT4", "FP8-DYNAMIC": "FP8", "W8A8": "FP8", "8BIT": "FP8"}


@record
class QualityFloor:
    """The lowest weight format a self-hosted option may serve (None: no floor), and why it is that one."""

    format: str | None  # a vLLM format name (BF16, FP8, AWQ-INT4) or a GGUF type; None = any
    bits: float  # weight bits of `format` (0 without a floor)
    basis: str  # api | same-model | fallback | flag | none
    reason: str  # one line for the header and the JSON
    source: str = ""  # where the format of the API comes from
    applied: bool = True  # False: measured figures or a --quant the user named (the floor is not applied to them)


@lru_cache(maxsize=1)
def _vllm_bits() -> dict[str, float]:
    return {f["name"]: float(f["bits"]) for f in load("engines")["vllm_formats"]["formats"]}


@lru_cache(maxsize=1)
def _mlx_bits() -> dict[str, float]:
    fmts = (load("engines").get("mlx_formats") or {}).get("formats") or ()
    return {f["name"]: float(f["bits"]) for f in fmts}


def weight_bits(name: str | None, default_type: str = "") -> float | None:
    """Weight width of a served format in whole bits: a vLLM format's nominal bits, an MLX format's, or a GGUF file
    type's bits per weight from its default GGML type without the block scales (whole bits: Q8_0 8.5 -> 8, Q4_K_M ->
    Q4_K 4.5 -> 4, Q6_K 6.56 -> 6, IQ3 3.44 -> 3; BF16/F16 16), so an 8-bit GGUF type and FP8 count alike; a GGML
    type named alone counts the same way (MXFP4 4.25 -> 4, what a provider serving gpt-oss as released publishes).
    None when unknown."""
    if not name:
        return None
    key = name.strip()
    if key.upper() in _vllm_bits():
        return _vllm_bits()[key.upper()]
    if key in _mlx_bits():
        return _mlx_bits()[key]
    from ..catalog.quants import all_quants
    from ..estimate.ggml import ggml_types

    types = ggml_types()
    t = default_type or next((q.default_type for q in all_quants() if q.name.upper() == key.upper()), "")
    if not t and key.upper() in types:  # a GGML type itself: MXFP4, the format gpt-oss's experts are released in
        t = key.upper()
    if t == "BF16":
        return 16.0
    if t in types:
        block, size = types[t]
        return float(math.floor(size * 8.0 / block + 1e-9))
    return None


def meets(quant_name: str | None, default_type: str, floor: QualityFloor) -> bool:
    """Whether a served format has at least the floor's weight bits (an unknown format does not)."""
    if floor.format is None:
        return True
    bits = weight_bits(quant_name, default_type)
    return bits is not None and bits >= floor.bits - 1e-9


def parse_floor_name(text: str) -> str | None:
    """--min-quant's value as a format name; None for any/none. Raises BadOptionError for an unknown one."""
    raw = text.strip()
    if raw.lower() in ("any", "none"):
        return None
    up = raw.upper().replace("_", "-")
    if up in _vllm_bits():
        return up
    for k in (raw.upper(), up):
        if k in _ALIASES:
            return _ALIASES[k]
    if weight_bits(raw.upper()) is not None:
        return raw.upper()
    if raw in _mlx_bits():
        return raw
    raise BadOptionError(f"--min-quant {text!r} is not a weight format",
                         f"use one of: {', '.join(_vllm_bits())}, a GGUF type such as Q8_0, api, or any")


def _served() -> dict[str, Any]:
    return load("prices").get("served_formats") or {}


def served_format(price: CloudPrice) -> dict[str, Any]:
    """{"format": name or None, "source", "note"} of what an API serves (by endpoint id, then provider)."""
    s = _served()
    row = s.get(price.id) or (s.get(price.provider) if price.open_weight_of else None)
    if row is None:
        why = ("not published (a different model from the one self-hosted)" if not price.open_weight_of
               else "not published by the provider in a source read")
        return {"format": None, "source": "", "note": why}
    return {"format": row.get("format"), "source": str(row.get("source", "")),
            "note": " ".join(str(row.get("note", "")).split())}


def format_quality(fmt: str | None, model_id: str) -> dict[str, Any] | None:
    """Measured loss of a served format against the 16-bit model: a vLLM format from data/quality.yaml served_formats
    (the row measured on this model if there is one, else the first, labelled with the model it was measured on); a
    GGUF type from the llama.cpp scoreboard (perplexity increase, estimate/quality.py); None where unmeasured."""
    if not fmt:
        return None
    q = load("quality")
    data = q.get("served_formats") or {}
    rows = data.get(fmt)
    if not rows:
        from ..estimate.quality import quality as gguf_quality

        g = gguf_quality(fmt)
        if g is None:
            return None
        return {"metric": "perplexity increase vs FP16, llama.cpp scoreboard", "recovery_pct": None,
                "loss_pct": g["ppl_delta_pct"], "measured_on": str(q["measured_on"]).split(" (")[0],
                "source": str(q["source"])}
    row = next((r for r in rows if r.get("model") == model_id), rows[0])
    if row.get("reference") is None:  # the 16-bit reference itself
        return {"metric": data["metric"], "recovery_pct": 100.0, "loss_pct": 0.0, "measured_on": "reference",
                "source": row.get("note", "")}
    rec = 100.0 * float(row["score"]) / float(row["reference"])
    return {"metric": data["metric"], "recovery_pct": round(rec, 2), "loss_pct": round(100.0 - rec, 2),
            "measured_on": row["measured_on"], "source": row["source"]}


def released_format(model_id: str) -> str | None:
    """The format a catalog model's weights are released in when it is not 16-bit (data/models.yaml native_quant:
    gpt-oss ships its experts in MXFP4), or None."""
    for m in load("models").get("models") or ():
        if m.get("id") == model_id and m.get("native_quant"):
            name = str(m["native_quant"]).upper()
            return name if weight_bits(name) else None
    return None


def resolve_floor(flag: str | None, prices: list[CloudPrice], reference: CloudPrice | None,
                  model_id: str) -> QualityFloor:
    """The floor for this comparison: --min-quant when given; else what the reference API serves; else the best
    published format among the same model's hosted endpoints; else the weights as released (16-bit, or the model's
    own native format: gpt-oss's MXFP4)."""
    if flag is not None and flag.strip().lower() != "api":
        name = parse_floor_name(flag)
        if name is None:
            return QualityFloor(None, 0.0, "none", "none (--min-quant any): each box serves the format with the "
                                "highest throughput")
        return QualityFloor(name, float(weight_bits(name) or 0.0), "flag", f"{name} or better (--min-quant)")
    if reference is not None:
        got = served_format(reference)
        if got["format"]:
            f = got["format"]
            return QualityFloor(f, float(weight_bits(f) or 0.0), "api",
                                f"{f} or better: what {reference.id} serves", got["source"])
    from .cloud import listed_same_model

    def known_of(candidates) -> list:
        pairs = [(p, served_format(p)) for p in candidates if p.open_weight_of == model_id]
        return [(p, s) for p, s in pairs if s["format"] and weight_bits(s["format"])]

    # the compared endpoints of this model first; none published: this model's endpoints in the price data
    known = known_of(prices) or known_of(listed_same_model(model_id))
    if known:
        p, s = max(known, key=lambda ps: weight_bits(ps[1]["format"]) or 0.0)
        ref = f"; {reference.id} does not publish its format" if reference is not None else ""
        return QualityFloor(s["format"], float(weight_bits(s["format"]) or 0.0), "same-model",
                            f"{s['format']} or better: what {p.id} serves, the best published format of a "
                            f"hosted {model_id}{ref}", s["source"])
    native = released_format(model_id)
    f = native or str(load("quality").get("cost_floor_fallback") or "BF16")
    who = f"{reference.id} does not publish its format" if reference is not None else "no API is compared"
    return QualityFloor(f, float(weight_bits(f) or 0.0), "fallback",
                        f"{f}: {who} and no hosted {model_id} endpoint in the price data publishes one, so the "
                        "model as released" + (f" ({model_id} ships in {f})" if native else ""),
                        "data/models.yaml native_quant" if native else "")
