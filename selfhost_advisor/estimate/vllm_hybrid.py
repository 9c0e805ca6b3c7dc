"""vLLM's KV pool for hybrid models (Qwen3-Next, Qwen3.5, Granite 4.0-H, Nemotron-H): attention layers keep paged
KV, recurrent layers (Mamba-2, Gated DeltaNet) keep one fixed state per sequence, and both share one block pool.

vLLM makes the two page sizes equal (vllm/platforms/interface.py _align_hybrid_block_size): the attention block
grows to 16 x cdiv(state_page, 16 x attention_page_of_one_token) tokens and the state page is padded to the
attention page. Layers are grouped by kind into groups of equal size (v1/core/kv_cache_utils.py
_get_kv_cache_groups_uniform_page_size); one block is a page in each of group_size layers. A sequence of L tokens
holds cdiv(L, block) blocks in every attention group and one block in every recurrent group
(get_max_concurrency_for_kv_cache_config). Constants and sources: data/engines.yaml (source_hybrid).
"""
from __future__ import annotations

from ..catalog.data import load
from ..domain import Model

__all__ = ["block_tokens", "group_counts", "is_hybrid", "page_bytes", "pool_tokens", "sequence_bytes",
           "state_page_bytes"]

_MODEL_DTYPE = 2  # bytes: the recurrent conv state is kept in the model's 16-bit dtype


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


def is_hybrid(model: Model) -> bool:
    """Recurrent layers next to attention layers (vLLM's HybridAttentionMambaModelConfig path)."""
    return model.ssm is not None and model.mla is None and any(model.is_recurrent(i) for i in range(model.n_layers)) \
        and any(model.has_attention(i) for i in range(model.n_layers))


def attention_page_per_token(model: Model, tp: int, kv_dtype_bytes: int) -> int:
    """One attention layer's K+V for one token on one GPU (FullAttentionSpec(block_size=1).page_size_bytes)."""
    return 2 * max(1, model.n_kv_heads // tp) * model.head_dim * kv_dtype_bytes


def state_page_bytes(model: Model, tp: int) -> int:
    """One recurrent layer's state for one sequence on one GPU, before padding (MambaSpec.page_size_bytes): the conv
    state (d_conv - 1) x conv_dim / TP in 16 bits and the temporal state d_state x d_inner / TP in the
    mamba_ssm_cache_dtype. Mamba-2 shards replicate a single B/C group per rank (extra_groups_for_head_shards)."""
    ssm = model.ssm
    assert ssm is not None
    n_group = ssm.n_group + (0 if ssm.n_group % tp == 0 else tp - ssm.n_group)
    conv = (ssm.d_conv - 1) * ((ssm.d_inner + 2 * n_group * ssm.d_state) // tp) * _MODEL_DTYPE
    by_arch = _engine()["mamba_ssm_state_bytes"]
    temporal = ssm.d_state * (ssm.d_inner // tp) * int(by_arch.get(model.arch, by_arch["default"]))
    return conv + temporal


def block_tokens(model: Model, tp: int, kv_dtype_bytes: int) -> int:
    """Tokens per attention block once vLLM has grown it to hold a recurrent state ("Setting attention block size to
    N tokens to ensure that attention page size is >= mamba page size")."""
    align = int(_engine()["hybrid_block_alignment"])
    per_token = attention_page_per_token(model, tp, kv_dtype_bytes)
    return max(int(_engine()["kv_pad"]), align * -(-state_page_bytes(model, tp) // (align * per_token)))


def page_bytes(model: Model, tp: int, kv_dtype_bytes: int) -> int:
    """The common page: one attention block of one layer = the padded recurrent state of one layer."""
    return block_tokens(model, tp, kv_dtype_bytes) * attention_page_per_token(model, tp, kv_dtype_bytes)


def group_counts(model: Model) -> tuple[int, int, int]:
    """(layers per group, attention groups, recurrent groups): group size is the smaller kind's layer count, or the
    larger one's when it is below 1.5x (fewer padding layers; data/engines.yaml kv_group_merge_ratio); each kind fills cdiv(count, size) groups."""
    n_attn = sum(1 for i in range(model.n_layers) if model.has_attention(i))
    n_rec = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
    size = min(n_attn, n_rec)
    if max(n_attn, n_rec) < size * float(_engine()["kv_group_merge_ratio"]):
        size = max(n_attn, n_rec)
    return size, -(-n_attn // size), -(-n_rec // size)


def sequence_bytes(model: Model, tp: int, context: int, kv_dtype_bytes: int) -> int:
    """Pool bytes one sequence of `context` tokens holds on one GPU (what check_enough_kv_cache_memory asks for)."""
    size, attn_groups, rec_groups = group_counts(model)
    blocks = attn_groups * -(-context // block_tokens(model, tp, kv_dtype_bytes)) + rec_groups
    return blocks * size * page_bytes(model, tp, kv_dtype_bytes)


def pool_tokens(model: Model, tp: int, pool: int, context: int, kv_dtype_bytes: int) -> int:
    """'GPU KV cache size: N tokens' as current vLLM reports it for hybrids: max concurrency x max_model_len, with the
    concurrency num_blocks / blocks per request (fractional, as _report_kv_cache_config logs it)."""
    size, _, _ = group_counts(model)
    num_blocks = max(0, pool) // (size * page_bytes(model, tp, kv_dtype_bytes))
    per_request = sequence_bytes(model, tp, context, kv_dtype_bytes) // (size * page_bytes(model, tp, kv_dtype_bytes))
    return int(num_blocks / per_request * context) if per_request else 0
