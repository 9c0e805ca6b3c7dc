"""The MoE part of a Hub config.json (data/hf_architectures.yaml `moe:` layouts) as a domain.MoE.

Why apart: each family spells its experts its own way (num_local_experts, n_routed_experts, moe_num_experts ...);
catalog/hf_config.py maps the rest of the config.
"""
from __future__ import annotations

from ..domain import MoE
from ..errors import UnknownModelError
from .hf_deci import _int


def moe_from_config(kind: str | None, get, need, ff: int) -> MoE | None:
    """need(key): a positive int from the config, or UnknownModelError naming the key."""
    if not kind:
        return None
    if kind == "mixtral":
        return MoE(experts=need("num_local_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=ff)
    if kind in ("qwen3moe", "qwen2moe"):
        mlp_only = get("mlp_only_layers") or []
        if mlp_only:
            raise UnknownModelError("Qwen MoE configs with mlp_only_layers (dense layers) are not supported yet")
        shared = _int(get("shared_expert_intermediate_size")) or 0
        return MoE(experts=need("num_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=need("moe_intermediate_size"),
                   shared_experts=1 if shared else 0, shared_intermediate_size=shared,
                   moe_layer_step=_int(get("decoder_sparse_step")) or 1)
    if kind == "deepseek":
        expert = need("moe_intermediate_size")
        return MoE(experts=need("n_routed_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=expert, shared_experts=_int(get("n_shared_experts")) or 0,
                   shared_intermediate_size=expert, first_dense_layers=_int(get("first_k_dense_replace")) or 0,
                   moe_layer_step=_int(get("moe_layer_freq")) or 1)
    if kind == "gpt-oss":
        return MoE(experts=need("num_local_experts"),
                   active=_int(get("num_experts_per_tok")) or need("experts_per_token"),
                   expert_intermediate_size=ff)
    if kind == "granite":
        experts = _int(get("num_local_experts")) or 0
        if not experts:
            return None
        shared = _int(get("shared_intermediate_size")) or 0
        return MoE(experts=experts, active=need("num_experts_per_tok"), expert_intermediate_size=need("intermediate_size"),
                   shared_experts=1 if shared else 0, shared_intermediate_size=shared)
    if kind == "jamba":
        # Jamba: an MoE FFN every expert_layer_period-th layer from expert_layer_offset (v0.1 / 1.5: 2 and 1, i.e.
        # the odd layers, which MoE.moe_layer_step expresses); each expert as wide as intermediate_size.
        period, offset = _int(get("expert_layer_period")) or 2, _int(get("expert_layer_offset")) or 1
        if offset != period - 1:
            raise UnknownModelError(f"Jamba MoE layout (expert_layer_period {period}, offset {offset}) not supported")
        return MoE(experts=need("num_experts"), active=need("num_experts_per_tok"), expert_intermediate_size=ff,
                   moe_layer_step=period)
    if kind == "lfm2moe":
        # LFM2-8B-A1B: num_dense_layers leading dense FFNs, then sigmoid-routed experts with a routing bias.
        return MoE(experts=need("num_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=need("moe_intermediate_size"),
                   first_dense_layers=_int(get("num_dense_layers")) or 0)
    if kind in ("bailing2", "afmoe"):
        # Ling 2.0 (first_k_dense_replace) and Trinity (num_dense_layers): leading dense FFNs, then routed experts with
        # num_shared_experts shared ones of the expert width (bailingmoe2.cpp / afmoe: n_ff_shexp = n_ff_exp x shared).
        lead = _int(get("first_k_dense_replace" if kind == "bailing2" else "num_dense_layers")) or 0
        expert = need("moe_intermediate_size")
        return MoE(experts=need("num_experts"), active=need("num_experts_per_tok"), expert_intermediate_size=expert,
                   shared_experts=_int(get("num_shared_experts")) or 0, shared_intermediate_size=expert,
                   first_dense_layers=lead)
    if kind == "llama4":
        expert = need("intermediate_size")
        return MoE(experts=need("num_local_experts"), active=need("num_experts_per_tok"),
                   expert_intermediate_size=expert, shared_experts=1, shared_intermediate_size=expert,
                   moe_layer_step=_int(get("interleave_moe_layer_step")) or 1)
    if kind == "hunyuan":
        # Hunyuan-A13B (llama.cpp conversion/hunyuan.py HunYuanMoEModel): the expert width, top-k and shared count are
        # per-layer lists the converter asserts uniform; one shared MLP of intermediate_size sits beside the routed
        # experts in every layer (expert_shared_feed_forward_length = intermediate_size, llama.cpp n_ff_shexp).
        shared = _same_in_every_layer(get, "num_shared_expert")
        return MoE(experts=need("num_experts"), active=_same_in_every_layer(get, "moe_topk"),
                   expert_intermediate_size=_same_in_every_layer(get, "moe_intermediate_size"),
                   shared_experts=1 if shared else 0, shared_intermediate_size=ff if shared else 0)
    raise UnknownModelError(f"unknown MoE layout {kind!r} in data/hf_architectures.yaml")


def _same_in_every_layer(get, key: str) -> int:
    """A per-layer list of one value (Hunyuan's moe_topk [8] * 32), or a plain value, as that value; lists that differ
    are refused as llama.cpp's converter refuses them (assert all(n == first))."""
    value = get(key)
    values = {_int(v) for v in value} if isinstance(value, list) else {_int(value)}
    if len(values) != 1 or None in values:
        raise UnknownModelError(f"config.json {key} is {value!r}: one value in every layer is needed",
                                "size a GGUF of this model instead")
    return values.pop()
