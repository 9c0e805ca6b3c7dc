"""A prompt prefix shared with earlier requests (`--cached-prompt-tokens N`): which of its tokens the engine serves from
cache, and what KV the shared part holds. docs/methodology.md 6c, "Prompts with a shared prefix".

vLLM (automatic prefix caching, on by default in the V1 engine; off with --no-enable-prefix-caching): prompts are
hashed in whole 16-token blocks, each block's hash chained to its parent's (vllm/v1/core/kv_cache_utils.py), and a new
request takes the longest run of cached blocks, at most num_tokens - 1 tokens, "we must recompute the last token to
obtain logits" (vllm/v1/core/kv_cache_manager.py get_computed_blocks: max_cache_hit_length = request.num_tokens - 1).
So of N shared tokens 16 x floor(min(N, P - 1) / 16) are hits. A hit block is referenced, not copied: the pool holds
it once while any request uses it (block_pool ref_cnt), so the shared blocks count once in the pool, each request its
own blocks past them. Sliding-window layers are not credited (a request's window slides past the prefix and those
blocks are freed, SlidingWindowManager), nor are hybrids with recurrent layers (their prefix caching, vllm PR #25752,
aligns hits to the grown Mamba block and was experimental): no hit is counted for them.

llama.cpp's llama-server (and Ollama's runner, which keeps one cache per parallel slot): with cache_prompt (default
true) a slot keeps its last prompt and output, and a new prompt reuses the tokens it shares with them from the start
(tools/server: the common prefix of slot.prompt.tokens and the new prompt; a fully cached prompt recomputes its last
token). Slots do not share cells: each slot holds its own copy of the prefix, so the KV per slot is unchanged. In a
closed loop every slot has already served a request with the same prefix, so each request reuses min(N, P - 1) tokens.
A model with recurrent layers, or with sliding-window layers whose window the request outgrows, cannot roll its slot
back to the prefix ("forcing full prompt re-processing due to lack of cache data (likely due to SWA or
hybrid/recurrent memory)"; context checkpoints are kept far apart, --checkpoint-min-step): no reuse is counted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...domain import Model
from ..memory import caches_kv, uses_window

if TYPE_CHECKING:
    from .types import ServeWorkload

VLLM_BLOCK_TOKENS = 16  # vLLM's default --block-size, the unit its prefix cache hashes


def _recurrent(model: Model) -> bool:
    return any(model.is_recurrent(i) for i in range(model.n_layers))


def _windowed(model: Model) -> bool:
    return model.mla is None and any(uses_window(model, i) for i in range(model.n_layers))


def _outgrows_window(model: Model, prompt: int, output: int) -> bool:
    """Whether a request outgrows the model's sliding window, so that a llama.cpp slot cannot go back to its prefix."""
    return _windowed(model) and prompt + output > (model.sliding_window or 0)


def vllm_hit_tokens(model: Model, prompt: int, cached: int) -> int:
    """Prompt tokens vLLM's prefix cache serves of `cached` shared ones: whole 16-token blocks, at most prompt - 1."""
    if cached <= 0 or _recurrent(model):
        return 0
    return VLLM_BLOCK_TOKENS * (min(cached, prompt - 1) // VLLM_BLOCK_TOKENS)


def slot_hit_tokens(model: Model, prompt: int, output: int, cached: int) -> int:
    """Prompt tokens a llama-server / Ollama slot reuses from its previous request: min(cached, prompt - 1); none for a
    recurrent model or one whose sliding window the request outgrows (the slot cannot go back to the prefix)."""
    if cached <= 0 or _recurrent(model) or _outgrows_window(model, prompt, output):
        return 0
    return min(cached, prompt - 1)


def shared_kv_bytes(model: Model, tp: int, hit: int, dtype_bytes: int = 2) -> int:
    """KV bytes per GPU of `hit` shared prompt tokens held once in vLLM's pool: their blocks in the layers that attend
    to every token (sliding-window layers keep no shared credit; a request's window leaves the prefix)."""
    if hit <= 0:
        return 0
    from ..vllm import _layer_token_bytes, kv_bytes_per_token

    if not _windowed(model):
        return hit * kv_bytes_per_token(model, tp, dtype_bytes)
    return hit * sum(_layer_token_bytes(model, i, tp, dtype_bytes) for i in range(model.n_layers)
                     if caches_kv(model, i) and not uses_window(model, i))


def uncredited_reason(model: Model, engine_kv_pool: bool, prompt: int, output: int) -> str:
    """Why a model gets no hit for a shared prefix (empty when it does, or when the prefix is under one block)."""
    if _recurrent(model):
        return (f"{model.id} has recurrent layers: "
                + ("vLLM's prefix caching of hybrid models is not modelled" if engine_kv_pool
                   else "a slot cannot roll its state back to the shared prefix") + "; no prompt tokens counted as cached")
    if not engine_kv_pool and _outgrows_window(model, prompt, output):
        return (f"{model.id}'s sliding window ({model.sliding_window:,} tokens) is shorter than a request: a slot cannot "
                "go back to the shared prefix; no prompt tokens counted as cached")
    return ""


def prefix_assumptions(model: Model, w: ServeWorkload, engine: str, hit: int, shared: int) -> dict:
    """The prefix-cache entry of the report's assumptions (none when no prompt tokens were said to be shared)."""
    from ...engines import get_engine  # lazy: the registry imports the estimators

    if not w.cached_prompt_tokens:
        return {}
    if get_engine(engine).kv_pool:  # vLLM's paged pool
        rule = ("vLLM automatic prefix caching (V1 default; --no-enable-prefix-caching turns it off): whole 16-token "
                "blocks, at most prompt - 1 tokens; the shared blocks held once in the KV pool while referenced")
    else:
        rule = (f"{engine}: each slot reuses the prefix of its previous prompt (cache_prompt), at most prompt - 1 "
                "tokens; slots do not share KV, so each holds its own copy (no KV saving)")
    return {"prefix_cache": {
        "cached_prompt_tokens": w.cached_prompt_tokens,  # as given
        "hit_tokens": hit,  # what the engine serves from cache per request, in steady state
        "prefilled_tokens": w.prompt_tokens - hit,
        "shared_kv_bytes_per_gpu": int(shared),
        "rule": rule,
        "not_modelled": "the first request's prefill of the prefix (warm steady state assumed); eviction of the prefix "
                        "under memory pressure; vLLM's cascade attention, which may read the shared prefix's KV once "
                        "per decode step instead of once per sequence (each sequence is charged its full context)",
    }}


def prefix_warnings(model: Model, w: ServeWorkload, hit: int, kv_pool: bool) -> tuple[str, ...]:
    """Shared prompt tokens (--cached-prompt-tokens) of which the engine serves none from cache, and why."""
    if not w.cached_prompt_tokens or hit:
        return ()
    why = uncredited_reason(model, kv_pool, w.prompt_tokens, w.output_tokens)
    if not why and kv_pool:
        why = (f"{w.cached_prompt_tokens} shared prompt token(s) fill no whole 16-token KV block below the prompt's "
               "last token: vLLM's prefix cache serves none of them")
    return (why or "a prompt's last token is always computed: no prompt tokens counted as cached",)


def check_cached_tokens(value, prompt_tokens: int) -> int:
    """--cached-prompt-tokens: a whole number of tokens from 0 to --prompt-tokens (serve and cost)."""
    from ...errors import BadOptionError

    try:
        ok = value is not None and float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or not 0 <= int(value) <= prompt_tokens:
        raise BadOptionError(f"--cached-prompt-tokens {value!r} must be a whole number from 0 to --prompt-tokens "
                             f"({prompt_tokens:,})", "the tokens at the start of each prompt shared with earlier "
                             "requests, e.g. a 600-token system prompt: --cached-prompt-tokens 600")
    return int(value)
