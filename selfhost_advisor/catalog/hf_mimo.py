"""Configs whose layers differ by kind (MiMo-V2-Flash, Step-3.5 / 3.7, poolside Laguna) as Model fields.

Why: its full and sliding layers differ in KV heads (num_key_value_heads 4 vs swa_num_key_value_heads 8), its V heads are
narrower than its K heads (v_head_dim 128, head_dim 192), and which layers are full is a per-layer list
(hybrid_layer_pattern: 0 = full) as is which are MoE (moe_layer_freq: 0 = dense). llama.cpp's converter writes them as
per-layer head_count_kv, key_length / value_length and a per-layer sliding_window_pattern (src/models/mimo2.cpp).
"""
from __future__ import annotations

from typing import Any, Callable

from ..domain import MoE
from ..errors import UnknownModelError
from .hf_deci import _int


def mimo2_fields(get: Callable[..., Any], need: Callable[[str], int], n_layers: int, repo: str, cls: str) -> dict:
    """The MiMo-V2 overrides of model_from_config's standard fields (n_kv_heads = the sliding layers' KV heads)."""
    pattern, freq = get("hybrid_layer_pattern"), get("moe_layer_freq")
    for name, value in (("hybrid_layer_pattern", pattern), ("moe_layer_freq", freq)):
        if not isinstance(value, list) or len(value) != n_layers or any(_int(x) not in (0, 1) for x in value):
            raise UnknownModelError(f"{repo}: config.json ({cls}) {name} is not a 0/1 list of {n_layers} layers",
                                    "the repo's config may be incomplete")
    lead = next((i for i, x in enumerate(freq) if _int(x) == 1), n_layers)
    if any(_int(x) != 1 for x in freq[lead:]):
        raise UnknownModelError(f"{repo}: config.json ({cls}) moe_layer_freq has dense layers after MoE ones",
                                "only a dense lead is modelled (MiMo-V2-Flash: layer 0)")
    head_k, head_v = need("head_dim"), need("v_head_dim")
    if (_int(get("swa_head_dim")) or head_k) != head_k or (_int(get("swa_v_head_dim")) or head_v) != head_v:
        raise UnknownModelError(f"{repo}: config.json ({cls}) has other head sizes in its sliding layers",
                                "not modelled (MiMo-V2-Flash uses one K and one V head size)")
    if (_int(get("swa_num_attention_heads")) or need("num_attention_heads")) != need("num_attention_heads"):
        raise UnknownModelError(f"{repo}: config.json ({cls}) has other query head counts in its sliding layers",
                                "not modelled (MiMo-V2-Flash: 64 in both)")
    expert = need("moe_intermediate_size")
    return {
        "n_kv_heads": need("swa_num_key_value_heads"), "global_kv_heads": need("num_key_value_heads"),
        "head_dim": head_k, "v_head_dim": head_v,
        "sliding_window": _int(get("sliding_window_size")) or need("sliding_window"), "sliding_window_pattern": None,
        "full_attention_layers": tuple(i for i, x in enumerate(pattern) if _int(x) == 0),
        "moe": MoE(experts=need("n_routed_experts"), active=need("num_experts_per_tok"), expert_intermediate_size=expert,
                   shared_experts=_int(get("n_shared_experts")) or 0,
                   first_dense_layers=lead),
    }


def step35_fields(get: Callable[..., Any], need: Callable[[str], int], n_layers: int, repo: str, cls: str) -> dict:
    """Step-3.5 / 3.7 (Step3p5ForCausalLM, llama.cpp step35): num_attention_groups KV heads, the sliding layers' own
    query heads in attention_other_setting, layer_types with full layers at i % 4 == 0, and the MoE under moe_* keys
    with moe_layers_enum naming the MoE layers (a string "3,4,..." or a list) and share_expert_dim the shared expert."""
    other = get("attention_other_setting") or {}
    types = get("layer_types")
    if not isinstance(types, list) or len(types) < n_layers:
        raise UnknownModelError(f"{repo}: config.json ({cls}) lacks a layer_types list of {n_layers} layers",
                                "the repo's config may be incomplete")
    head_dim, kv = need("head_dim"), need("num_attention_groups")
    if (_int(other.get("head_dim")) or head_dim) != head_dim or (_int(other.get("num_attention_groups")) or kv) != kv:
        raise UnknownModelError(f"{repo}: config.json ({cls}) has other KV heads or head sizes in its sliding layers",
                                "not modelled (Step-3.7-Flash: 8 KV heads of 128 in every layer)")
    enum = get("moe_layers_enum")
    moe_layers = [int(x) for x in (enum.split(",") if isinstance(enum, str) else enum or ()) if str(x).strip()]
    lead = min(moe_layers) if moe_layers else n_layers
    if moe_layers != list(range(lead, n_layers)):
        raise UnknownModelError(f"{repo}: config.json ({cls}) moe_layers_enum is not a dense lead then MoE layers",
                                "only a dense lead is modelled")
    expert, shared = need("moe_intermediate_size"), _int(get("share_expert_dim")) or 0
    return {
        "n_kv_heads": kv, "head_dim": head_dim, "sliding_n_heads": _int(other.get("num_attention_heads")) or 0,
        "full_attention_layers": tuple(i for i, t in enumerate(types[:n_layers]) if t == "full_attention"),
        "moe": MoE(experts=need("moe_num_experts"), active=need("moe_top_k"), expert_intermediate_size=expert,
                   shared_experts=1 if shared else 0, shared_intermediate_size=shared, first_dense_layers=lead),
    }


def laguna_fields(get: Callable[..., Any], need: Callable[[str], int], n_layers: int, repo: str, cls: str) -> dict:
    """poolside Laguna (LagunaForCausalLM, llama.cpp laguna): num_attention_heads_per_layer (48 full, 64 sliding in XS 2.1),
    layer_types with full layers at i % 4 == 0, mlp_only_layers the dense lead, a shared expert of
    shared_expert_intermediate_size."""
    types, per_layer = get("layer_types"), get("num_attention_heads_per_layer")
    if not isinstance(types, list) or len(types) < n_layers:
        raise UnknownModelError(f"{repo}: config.json ({cls}) lacks a layer_types list of {n_layers} layers",
                                "the repo's config may be incomplete")
    full = tuple(i for i, t in enumerate(types[:n_layers]) if t == "full_attention")
    heads = [_int(h) for h in per_layer[:n_layers]] if isinstance(per_layer, list) and len(per_layer) >= n_layers else []
    full_h = {h for i, h in enumerate(heads) if i in full}
    swa_h = {h for i, h in enumerate(heads) if i not in full}
    if len(full_h) > 1 or len(swa_h) > 1:
        raise UnknownModelError(f"{repo}: config.json ({cls}) has several head counts within one layer kind",
                                "not modelled (Laguna XS 2.1: one count for full, one for sliding layers)")
    n_heads = next(iter(full_h)) if full_h else need("num_attention_heads")
    dense = get("mlp_only_layers") or []
    lead = len(dense)
    if list(dense) != list(range(lead)):
        raise UnknownModelError(f"{repo}: config.json ({cls}) mlp_only_layers is not a dense lead", "not modelled")
    shared = _int(get("shared_expert_intermediate_size")) or 0
    return {
        "n_heads": n_heads, "sliding_n_heads": (next(iter(swa_h)) if swa_h else 0) if swa_h != full_h else 0,
        "full_attention_layers": full,
        "moe": MoE(experts=need("num_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=need("moe_intermediate_size"), shared_experts=1 if shared else 0,
                   shared_intermediate_size=shared, first_dense_layers=lead),
    }
