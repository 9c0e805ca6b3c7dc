"""MiMo-V2's config.json (XiaomiMiMo/MiMo-V2-Flash, MiMoV2FlashForCausalLM) as Model fields.

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
