"""MiniMax M3's config.json (MiniMaxM3SparseForCausalLM text_config) as llama.cpp's minimax-m3 reads it.

Why its own reader: the keys name things the other MoE configs do not. `intermediate_size` is the expert width and
`dense_intermediate_size` the leading dense layers' FFN; `moe_layer_freq` lists 0 (dense) / 1 (MoE) per layer; the MSA
indexer sits under `sparse_attention_config` (sparse_num_index_heads, sparse_index_dim, top-k blocks of
sparse_block_size tokens). llama.cpp (src/models/minimax-m3.cpp) gives every layer past the dense lead the indexer.
"""
from __future__ import annotations

from typing import Any, Callable

from ..domain import DSA, MoE
from ..errors import UnknownModelError
from .hf_deci import _int


def minimax_m3_fields(get: Callable[..., Any], need: Callable[[str], int], n_layers: int, repo: str,
                      cls: str) -> tuple[MoE, int, DSA]:
    """(the MoE, the dense FFN width, the MSA indexer) of a MiniMax M3 text config."""
    freq = get("moe_layer_freq")
    if not isinstance(freq, list) or len(freq) != n_layers or any(f not in (0, 1) for f in freq):
        raise UnknownModelError(f"{repo}: config.json ({cls}) lacks a moe_layer_freq list of {n_layers} 0/1 entries",
                                "the repo's config may be incomplete")
    lead = freq.index(1) if 1 in freq else n_layers
    if freq != [0] * lead + [1] * (n_layers - lead):
        raise UnknownModelError(f"{repo}: config.json ({cls}) moe_layer_freq is not a dense lead then MoE layers",
                                "only a dense lead is modelled (llama.cpp minimax-m3: leading_dense_block_count)")
    moe = MoE(experts=need("num_local_experts"), active=need("num_experts_per_tok"),
              expert_intermediate_size=need("intermediate_size"), shared_experts=_int(get("n_shared_experts")) or 0,
              shared_intermediate_size=_int(get("shared_intermediate_size")) or 0, first_dense_layers=lead)
    dsa = DSA(index_n_heads=need("sparse_num_index_heads"), index_head_dim=need("sparse_index_dim"),
              index_topk=need("sparse_topk_blocks") * need("sparse_block_size"),
              indexer_layers=tuple(range(lead, n_layers)))
    return moe, need("dense_intermediate_size"), dsa
