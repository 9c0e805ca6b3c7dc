"""Quality loss of a quantization against the 16-bit model, from published measurements (data/quality.yaml).

Why: the pick used to be "the highest quality that fits" with quality known only as an order, so a 24 GB card got a
70B at IQ2_XXS without a word. llama.cpp's LLaMA 3 8B scoreboard measures each file type's mean KL divergence and
perplexity change against FP16; the options carry those figures, types at 3 bits and below carry a warning, and the
shared selection rule (estimate/select.py) takes a floor (`--min-quant`, default in the data file with its reason).
Nothing here is modelled: a type without a published row has quality None.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..catalog._data import load
from ..errors import BadOptionError


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("quality")


def quality(quant_name: str, base: str = "") -> dict[str, Any] | None:
    """{"kld", "ppl_delta_pct", "source"} for a llama-quantize file type (a _L/_XL variant: None, unmeasured)."""
    d = _data()
    row = d["quants"].get(quant_name)
    if row is None:
        return None
    return {
        "kld": round(float(row["kld"]), 6),
        "ppl_delta_pct": round(100.0 * float(row["delta_ppl"]) / float(d["base_ppl"]), 2),
        "source": f"llama.cpp perplexity scoreboard, {d['measured_on']}"
                  + (" (importance matrix)" if row.get("imatrix") else ""),
    }


def low_bits(quant_name: str) -> bool:
    """A 3-bit-or-lower file type (Q3_*, IQ3_*, Q2_*, IQ2_*, IQ1_*, TQ*)."""
    return quant_name.upper().startswith(tuple(_data()["low_bit_prefixes"]))


def default_min_quant() -> str:
    return str(_data()["default_min_quant"])


def min_quant(name: str | None) -> str | None:
    """The floor `--min-quant NAME` asks for: None (not given) is the default floor, "any" none at all. The floor
    must be a measured type: the rule compares measured losses, not names."""
    name = default_min_quant() if name is None else name.strip()
    if name.lower() in ("any", "none"):
        return None
    key = name.upper()
    key = {"FP16": "F16", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M", "Q3_K": "Q3_K_M"}.get(key, key)
    if key not in _data()["quants"]:
        raise BadOptionError(f"--min-quant {name!r} is not a quantization with a measured loss",
                             f"use one of: {', '.join(_data()['quants'])}, or any")
    return key


def at_least(quant_name: str, base: str, floor: str | None) -> bool:
    """Whether a file type's measured loss (mean KLD) is no worse than the floor's. A _L/_XL variant counts as its
    base (same tensors but embeddings and output at Q8_0: no worse); an unmeasured type without one (F32) passes."""
    if floor is None:
        return True
    rows = _data()["quants"]
    row = rows.get(quant_name) or rows.get(base)
    return row is None or float(row["kld"]) <= float(rows[floor]["kld"])


def loss(quant_name: str, base: str = "") -> float | None:
    """Measured perplexity change against 16-bit (delta_ppl, absolute, on the scoreboard's model) of a file type, or
    of its base for a _L/_XL variant (same tensors, embeddings and output at Q8_0: no worse); None where unmeasured
    (MLX and vLLM formats, F32). The selection rule compares these (estimate/select.py)."""
    rows = _data()["quants"]
    row = rows.get(quant_name) or rows.get(base)
    return None if row is None else float(row["delta_ppl"])


def same_quality_tolerance() -> float:
    """delta_ppl difference within which two types count as the same quality (data/quality.yaml selection)."""
    return float(_data()["selection"]["same_quality_delta_ppl"])


def usable_tps() -> float:
    """The single-stream decode speed the pick prefers when no --min-tps is given (data/quality.yaml selection)."""
    return float(_data()["selection"]["usable_tokens_per_s"])


def speed_trade_floor() -> str:
    """The lowest quality the default usable-speed floor may trade down to (data/quality.yaml selection)."""
    return str(_data()["selection"]["speed_trade_floor"])


def label(quant_name: str) -> str:
    """Text-table cell: '+2.8%' perplexity (KLD in the JSON), '-' unmeasured, '!' marks 3-bit and lower."""
    q = quality(quant_name)
    pct = None if q is None else q["ppl_delta_pct"]
    cell = "-" if pct is None else (f"+{pct:.1f}%" if pct < 9.95 else f"+{pct:.0f}%")
    return cell + (" !" if low_bits(quant_name) else "")
