"""vLLM's KV-cache groups for models whose attention layers are of several kinds or page sizes: sliding window beside
full attention (Gemma 2/3/4, gpt-oss, Cohere2), chunked local attention (Llama 4), and Gemma 4's full layers with their
own head size and KV heads.

Why: vLLM's block pool holds one page size. vllm/v1/core/kv_cache_utils.py get_kv_cache_groups: layers whose specs are
all full attention (any head sizes) form one UniformTypeKVCacheSpecs group (a token costs every layer's K+V; vllm.py
handles that). Otherwise unify_kv_cache_spec_page_size grows the block of every layer with a smaller page (16 tokens
x its K+V) until it matches the largest page (Gemma 4 31B: full layers 4 KV heads x 512 -> 32-token blocks beside the
16-token sliding blocks), and _get_kv_cache_groups_uniform_page_size splits each kind into groups of group_size layers
(the smallest kind's count, or the largest's when it is below 1.5x the smallest; the last group padded). A pool block
is one page in each of group_size layers. A request may need (kv_cache_interface.py max_memory_usage_bytes):
full cdiv(L, block), sliding cdiv(min(W - 1 + max_num_batched_tokens, L), block) + 1, chunked
cdiv(min(C + max_num_batched_tokens, L), block) blocks per group; max concurrency = pool blocks / that sum
(get_max_concurrency_for_kv_cache_config), and "GPU KV cache size" = concurrency x max_model_len.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Model
from ..record import record
from .memory import caches_kv, uses_window

__all__ = ["grouped", "group_layout", "pool_tokens", "request_blocks", "sequence_bytes"]


@record
class Spec:
    kind: str  # "full" | "sliding" | "chunked"
    window: int  # sliding window or attention chunk; 0 for full attention
    token_bytes: int  # K+V of one token in one layer on one GPU
    block: int  # tokens per block once page sizes are unified


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


def _layer_specs(model: Model, tp: int, dtype_bytes: int) -> list[Spec]:
    block = int(_engine()["kv_pad"])
    chunked = model.arch == "llama4"  # ChunkedLocalAttentionSpec: the chunk is attention_chunk_size
    out = []
    for i in range(model.n_layers):
        if not caches_kv(model, i):
            continue
        per = max(1, model.layer_kv_heads(i) // tp) * 2 * model.layer_head_dim(i) * dtype_bytes
        if uses_window(model, i):
            out.append(Spec("chunked" if chunked else "sliding", int(model.sliding_window or 0), per, block))
        else:
            out.append(Spec("full", 0, per, block))
    return out


@lru_cache(maxsize=256)
def grouped(model: Model) -> bool:
    """Whether vLLM splits this model's attention layers into page-size-unified groups (not one uniform group)."""
    if model.mla is not None:
        return False
    return len({(s.kind, s.window) for s in _layer_specs(model, 1, 2)}) > 1


@lru_cache(maxsize=256)
def group_layout(model: Model, tp: int, dtype_bytes: int) -> tuple[int, int, list[tuple[Spec, int]]]:
    """(layers per group, page bytes, [(spec, groups of that spec)]) after unify_kv_cache_spec_page_size."""
    specs = _layer_specs(model, tp, dtype_bytes)
    page = max(s.block * s.token_bytes for s in specs)
    counts: dict[Spec, int] = {}
    for s in specs:
        own = s.block * s.token_bytes
        if page % own:
            raise ValueError(f"{model.id}: vLLM cannot unify KV page sizes {own} and {page} (kv_cache_utils raises)")
        u = Spec(s.kind, s.window, s.token_bytes, s.block * (page // own))
        counts[u] = counts.get(u, 0) + 1
    least, most = min(counts.values()), max(counts.values())
    size = most if most < least * float(_engine()["kv_group_merge_ratio"]) else least
    return size, page, [(s, -(-n // size)) for s, n in counts.items()]


def _blocks(spec: Spec, context: int, max_batched: int | None) -> int:
    if spec.kind == "full":
        return -(-context // spec.block)
    if max_batched is None:  # blocks a sequence of `context` tokens holds once decoding: the window and the block
        # it may start in (sliding), or the current chunk (chunked local attention restarts at chunk boundaries)
        return -(-min(context, spec.window) // spec.block) + (1 if spec.kind == "sliding" else 0)
    if spec.kind == "sliding":
        return -(-min(spec.window - 1 + max_batched, context) // spec.block) + 1
    return -(-min(spec.window + max_batched, context) // spec.block)


def request_blocks(model: Model, tp: int, context: int, dtype_bytes: int, max_batched: int | None = None) -> int:
    """Pool blocks one request of `context` tokens needs: with max_batched, vLLM's admission figure
    (max_memory_usage_bytes, which counts a chunked-prefill step of max_num_batched_tokens in every sliding group);
    without, what it holds once decoding."""
    _, _, groups = group_layout(model, tp, dtype_bytes)
    return sum(n * _blocks(spec, context, max_batched) for spec, n in groups)


def sequence_bytes(model: Model, tp: int, context: int, dtype_bytes: int, max_batched: int | None = None) -> int:
    """Pool bytes of one request on one GPU: its blocks x group_size pages (padding layers included)."""
    size, page, _ = group_layout(model, tp, dtype_bytes)
    return request_blocks(model, tp, context, dtype_bytes, max_batched) * size * page


def pool_tokens(model: Model, tp: int, pool: int, context: int, dtype_bytes: int, max_batched: int) -> int:
    """'GPU KV cache size: N tokens': num_blocks = pool // (group_size x page), concurrency = num_blocks / blocks of one
    max_model_len request (fractional), tokens = concurrency x max_model_len (kv_cache_utils._report_kv_cache_config)."""
    size, page, _ = group_layout(model, tp, dtype_bytes)
    per_request = request_blocks(model, tp, context, dtype_bytes, max_batched)
    num_blocks = max(0, pool) // (size * page)
    return int(num_blocks / per_request * context) if per_request else 0
