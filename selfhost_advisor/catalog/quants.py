"""GGUF file types offered by `fit` (data/quants.yaml), best quality first."""
from __future__ import annotations

from functools import lru_cache

from ..domain import Quant
from ..errors import UnknownQuantError
from ..termsafe import clipped
from .data import load


@lru_cache(maxsize=1)
def all_quants() -> tuple[Quant, ...]:
    return tuple(
        Quant(
            name=q["name"], default_type=q["default_type"], rank=i, ppl=q.get("ppl"), base=q.get("base", ""),
            embeddings_type=q.get("embeddings_type", ""), output_type=q.get("output_type", ""),
        )
        for i, q in enumerate(load("quants")["quants"])
    )


def listed_quants() -> tuple[Quant, ...]:
    """The quants shown by default (F32 and BF16 only on request)."""
    listed = {q["name"] for q in load("quants")["quants"] if q.get("listed", True)}
    return tuple(q for q in all_quants() if q.name in listed)


def get_quant(name: str) -> Quant:
    key = name.strip().upper()
    key = load("quants").get("aliases", {}).get(key, key)
    for q in all_quants():
        if q.name == key:
            return q
    names = ", ".join(q.name for q in all_quants())
    engines = load("engines")
    for engine, key in (("vllm", "vllm_formats"), ("mlx", "mlx_formats")):  # 'FP8' on llama.cpp listed 30 GGUF types
        if key in engines and str(name).strip().lower() in {f["name"].lower() for f in engines[key]["formats"]}:
            raise UnknownQuantError(f"{clipped(str(name))!r} is a weight format of --engine {engine}, not a GGUF type "
                                    "of this engine",
                                    f"add --engine {engine}, or use a GGUF type: {names}")
    # clipped: `-q Q4_K_M,` + 5,000 characters came back whole (a lone value was clipped before it got here; session 33)
    raise UnknownQuantError(f"unknown quantization {clipped(str(name))!r}", f"use one of: {names}")
