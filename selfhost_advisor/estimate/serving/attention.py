"""The attention work of a vLLM step: the FLOPs a token attends with (full, sliding-window and recurrent layers apart;
an MLA model's prompt chunk as multi-head attention; DeepSeek sparse attention's padded heads and indexer) and the KV
and recurrent-state bytes a decoding sequence reads and writes.

Why its own module: the attention kernels run after the GEMMs in the step's one stream, so step._parts_seconds prices
them as their own roofline from these counts; each follows the vLLM attention backend it cites, as speed_work follows
llama.cpp's kernels.
"""
from __future__ import annotations

from functools import lru_cache

from ...domain import Machine, Model
from ..vllm import sequence_kv_bytes
from .rates import dsa_head_padding


@lru_cache(maxsize=1024)
def _attention_terms(model: Model) -> tuple[float, tuple[tuple[int, float], ...]]:
    """(FLOPs per attended token summed over the layers that attend to every cached token; per sliding window, the
    same sum over the layers that attend only to their window), per layer as speed_work._attention_flops counts it
    for llama.cpp: a recurrent layer (Gated DeltaNet, Mamba-2) or a feed-forward-only one attends to no cached token,
    and a sliding-window layer to at most its window. vLLM's attention backends skip the KV tiles outside the window
    (FlashAttention's local attention; the Triton unified kernel since vllm PR #24390, 2025-09, whose description
    says gpt-oss "was spending equal amount of time between global and local attention" before it), and its KV
    groups keep only the window (vllm_groups.py)."""
    from ..memory_kv import uses_window
    from ..speed_work import _attention_flops

    full, windows = 0.0, {}
    for i in range(model.n_layers):
        per_token = float(_attention_flops(model, i, 1))
        if not per_token:
            continue
        if uses_window(model, i):
            windows[model.sliding_window] = windows.get(model.sliding_window, 0.0) + per_token
        else:
            full += per_token
    return full, tuple(sorted(windows.items()))


def attention_flops(model: Model, tp: int, depth: float) -> float:
    """QK^T and PV of one token attending to `depth` cached tokens, per GPU, over the layers that attend (MLA: the
    latent width): a full-attention layer over all `depth` tokens, a sliding-window layer over min(depth, window), a
    recurrent or feed-forward-only layer of a hybrid over none (_attention_terms). Every layer at `depth` before
    session 20: 4x the attention of Qwen3.5 (1 layer in 4 attends), 2x gpt-oss's at long prompts (half its layers
    slide over 128 tokens)."""
    full, windows = _attention_terms(model)
    return (full * depth + sum(c * min(depth, w) for w, c in windows)) / tp


def prompt_attention_flops(model: Model, tp: int, depth: float) -> float:
    """attention_flops of a prompt token: vLLM's MLA backends run a prompt chunk as ordinary multi-head attention over
    the up-projected latent (v1/attention/backends/mla/common.py, the module docstring's "compute friendly approach"
    and _forward_prefill: QK head dim qk_nope + qk_rope, 128 + 64, V head dim v_head_dim, 128), and only decode runs
    the MQA over the kv_lora_rank + rope latent that attention_flops counts; so a prompt token of an MLA model costs
    2 x heads x (qk_nope + qk_rope + v_head) FLOPs per cached token and layer, 640 for DeepSeek-V3 / R1 against the
    latent's 4 x (512 + 64) = 2,304. The cached context's up-projection (kv_b_proj over the context once per chunk,
    ~5 % of it at 8,192-token chunks) is not counted. DeepSeek sparse attention (model.dsa) runs its own sparse kernel
    for prompts too (dsa_attention_flops). Every other model: attention_flops."""
    flops = attention_flops(model, tp, depth)
    m = model.mla
    if m is None or getattr(model, "dsa", None) is not None:
        return flops
    return flops * 2 * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) / (4 * (m.kv_lora_rank
                                                                                         + m.qk_rope_head_dim))


@lru_cache(maxsize=4096)
def kv_read_bytes(model: Model, tp: int, depth: int, dtype_bytes: int = 2) -> int:
    """KV bytes one sequence at `depth` tokens reads per step, per GPU (sliding-window layers only their window)."""
    return sequence_kv_bytes(model, tp, max(1, depth), dtype_bytes) if depth > 0 else 0


@lru_cache(maxsize=1024)
def state_write_bytes(model: Model, tp: int) -> int:
    """Bytes per GPU one decoding sequence writes back to its recurrent states each step (0 without recurrent layers).

    vLLM's recurrent kernels update each recurrent layer's state in place: Gated DeltaNet's decode kernel loads the
    state and stores the final one over it (fused_recurrent_gated_delta_rule, inplace_final_state), Mamba-2's
    selective_state_update likewise. kv_read_bytes counts the read (the state's pool page); this is the write, the
    whole state again: 24 Gated DeltaNet layers x 2 MiB (fp32 temporal state) = 48 MiB a sequence a step for Qwen3.5-9B
    at TP 1, as much as its KV at 100k tokens."""
    from ..vllm_hybrid import is_hybrid, state_page_bytes

    if not is_hybrid(model):
        return 0
    return sum(model.is_recurrent(i) for i in range(model.n_layers)) * state_page_bytes(model, tp)


def dsa_attention_flops(model: Model, machine: Machine, tp: int, depth: float) -> tuple[float, float] | None:
    """(sparse attention FLOPs, indexer logits FLOPs) per token per GPU, prompt or decoding, of a DeepSeek-sparse-
    attention model (DeepSeek-V3.2, GLM-5.x: model.dsa) in vLLM at `depth` cached tokens; None for any other model.

    Read in vllm v1/attention/backends/mla/flashmla_sparse.py (FlashMLASparseImpl, stored copies 2026-12-06): the sparse
    FlashMLA kernels "use MQA 576/512 approach for both prefill and decode" (the query absorbed into the kv_lora_rank
    latent: QK over kv_lora_rank + qk_rope_head_dim, PV over kv_lora_rank), and the kernel "requires num_local_head to
    be a multiple of 64 on hopper and 128 on blackwell": the query is padded with empty heads up to 64 (128 on
    Blackwell), so at TP 8 DeepSeek's 16 heads a GPU compute as 64. FlashMLA's sparse prefill kernel
    (csrc/sm90/prefill/sparse/fwd.cu: B_H = 64, num_topk_blocks = topk / B_TOPK) walks all index_topk candidates of
    every query, masking the invalid ones, so a prompt token costs 2 x padded heads x index_topk x (2 kv_lora_rank +
    rope) in every layer, whatever its depth: 285 MFLOP a layer for DeepSeek-V3.2 at TP 8 on Hopper, where the dense
    form at 1,024 tokens of depth is 38. BF16 (an FP8 cache is gathered and up-converted to BF16 first). The
    lightning indexer is replicated on every GPU ("no tensor parallel, just replicated", vllm models/deepseek_v2.py
    Indexer): its FP8 MQA logits are 2 x index_n_heads x index_head_dim FLOPs a cached token, in the layers that own
    an indexer (GLM-5.2's shared layers reuse the previous top-k). Decoding tokens pay the same: with a BF16 cache
    _forward_bf16_kv sends every token of the step through flash_mla_sparse_prefill, and the FP8 cache's sparse
    decode kernel is built for 64 or 128 heads only (FlashMLA csrc/sm90/decode/sparse_fp8/config.h: static_assert
    NUM_HEADS == 64 || NUM_HEADS == 128, BLOCK_M 64) over the index_topk candidates the indexer hands it."""
    dsa = getattr(model, "dsa", None)
    if dsa is None or model.mla is None:
        return None
    pad = dsa_head_padding(machine)
    heads = -(-model.n_heads // tp)
    heads = -(-heads // pad) * pad
    m = model.mla
    attention = 2.0 * heads * dsa.index_topk * (2 * m.kv_lora_rank + m.qk_rope_head_dim) * model.n_layers
    owners = sum(dsa.has_indexer(i, model.n_layers) for i in range(model.n_layers))
    logits = 2.0 * dsa.index_n_heads * dsa.index_head_dim * depth * owners
    return attention, logits
