"""DeciLM's config.json block_configs (Llama-3.3-Nemotron-Super-49B, Llama-3.1-Nemotron-Ultra-253B) as Model fields.

Why: each block has its own attention (grouped-query, a linear map, or none) and FFN width; llama.cpp's converter
(conversion/deci.py DeciModel) turns them into per-layer head counts and FFN widths, which the estimator sizes per
block (estimate/deci.py).
"""
from __future__ import annotations

from typing import Any

from ..errors import UnknownModelError
from ..estimate.deci import ffn_width


def _int(v: Any) -> int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def deci_blocks(blocks: Any, n_layers: int, n_heads: int, hidden: int, repo: str, cls: str) -> dict:
    """DeciLM's block_configs as llama.cpp's converter reads them (conversion/deci.py DeciModel): attention with
    n_heads_in_group -> num_attention_heads / n_heads_in_group KV heads ("*"); n_heads_in_group null and
    replace_with_linear -> one linear map, no KV ("L"); otherwise no attention ("-"); ffn_mult -> the rounded width
    (estimate/deci.ffn_width), an FFN no_op or null ffn_mult -> no FFN. Block kinds no engine implements (a linear
    FFN, sparsified or windowed attention, sink tokens) are refused by name."""
    def refuse(kind: str) -> UnknownModelError:
        return UnknownModelError(f"{repo}: config.json ({cls}) has an unsupported layer kind: {kind}",
                                 "size a GGUF of this model instead")

    if not isinstance(blocks, list) or len(blocks) != n_layers:
        raise UnknownModelError(f"{repo}: config.json ({cls}) needs one block_configs entry per layer ({n_layers})",
                                "the repo's config may be incomplete")
    pattern, kv, widths = [], [], []
    for b in blocks:
        attn, ffn = (b.get("attention"), b.get("ffn")) if isinstance(b, dict) else (None, None)
        if not isinstance(attn, dict) or not isinstance(ffn, dict):
            raise UnknownModelError(f"{repo}: config.json ({cls}) has a block_configs entry without attention / ffn",
                                    "the repo's config may be incomplete")
        for key in ("sparsify", "window_length", "num_sink_tokens"):
            if attn.get(key) is not None:
                raise refuse(f"attention {key}")
        if ffn.get("sparsify") is not None:
            raise refuse("ffn sparsify")
        group = _int(attn.get("n_heads_in_group"))
        if group and not attn.get("no_op"):
            if n_heads % group:
                raise UnknownModelError(f"{repo}: config.json ({cls}): n_heads_in_group {group} does not divide "
                                        f"{n_heads} heads", "the repo's config may be incomplete")
            pattern.append("*")
            kv.append(n_heads // group)
        else:
            pattern.append("L" if attn.get("replace_with_linear") and not attn.get("no_op") else "-")
            kv.append(0)
        mult, width = ffn.get("ffn_mult"), _int(ffn.get("intermediate_size"))
        if ffn.get("replace_with_linear") and not ffn.get("no_op"):
            raise refuse("ffn replace_with_linear")
        if ffn.get("no_op") or (mult is None and not width):
            widths.append(0)
        elif width:
            widths.append(width)
        elif isinstance(mult, (int, float)) and not isinstance(mult, bool) and 0 < mult < 1e4:
            widths.append(ffn_width(float(mult), hidden))
        else:
            raise UnknownModelError(f"{repo}: config.json ({cls}) has an unusable ffn_mult {str(mult)[:20]!r}",
                                    "the repo's config may be incomplete")
    attending = [h for h in kv if h]
    if not attending:
        raise refuse("no attention block at all")
    # llama-quantize's n_gqa() reads layer 0; the catalog's n_kv_heads is layer 0's when it attends
    n_kv = kv[0] or attending[0]
    return {"layer_pattern": "".join(pattern), "n_kv_heads": n_kv, "intermediate_size": max(widths),
            "ffn_widths": tuple(widths), "kv_heads_by_layer": tuple(kv) if len(set(attending)) > 1 else ()}
