"""Context memory as llama.cpp allocates it up front: KV cells per layer (full, sliding window, per-slot streams),
K and V bytes per cell (GQA, MLA, the DSA indexer, cross-attention images) and recurrent layers' fixed state.
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import FitRequest, Model
from .encoder import NO_MEMORY_ARCHS
from .memory_engine import _pad, engine_params, kv_type, kv_unified, parse_version, total_context
from .quantize import tensor_bytes


# llama.cpp ignores the configured window for these (src/llama-model.cpp, LLM_ARCH_PHI3: "Phi SWA is currently
# disabled", swa_type NONE), so every layer caches the whole context.
_SWA_IGNORED_ARCHS = frozenset({"phi3"})


def uses_window(model: Model, layer: int) -> bool:
    """Whether `layer` caches only its sliding window (not for architectures whose window llama.cpp ignores)."""
    return model.is_sliding(layer) and model.arch not in _SWA_IGNORED_ARCHS


def caches_kv(model: Model, layer: int) -> bool:
    """Whether `layer` keeps a KV cache of its own: attention layers do; recurrent (Mamba-2, Gated DeltaNet) and
    feed-forward-only layers do not (llama-memory-hybrid.cpp gives the KV cache only the non-recurrent layers), nor
    Gemma 3n's last kv_shared_layers, which reuse an earlier layer's (llama-model.cpp create_memory `reuse`)."""
    if model.kv_shared_layers and layer >= model.n_layers - model.kv_shared_layers:
        return False
    if model.arch in NO_MEMORY_ARCHS:  # non-causal embedders: llama.cpp creates no memory module at all
        return False
    return model.has_attention(layer)


def recurrent_state_bytes(model: Model, layer: int, n_seq: int) -> int:
    """Fixed recurrent state of one layer for n_seq sequences, as llama.cpp allocates it (llama-memory-recurrent.cpp:
    r = n_embd_r() x mem_size and s = n_embd_s() x mem_size, both F32, mem_size = max(1, n_seq_max)).

    llama-hparams.cpp: n_embd_r = (ssm_d_conv - 1) x (ssm_d_inner + 2 ssm_n_group ssm_d_state) (the convolution's
    last d_conv - 1 inputs) and n_embd_s = ssm_d_state x ssm_d_inner (the SSM / delta-rule state). Independent of
    the context length. Kimi Delta Attention (kind "kda", n_embd_head_kda != 0): n_embd_r = 3 (ssm_d_conv - 1) x
    heads x head_dim (the q, k and v convolutions) and n_embd_s = head_dim x head_dim x heads.
    """
    if model.ssm is None or not model.is_recurrent(layer):
        return 0
    n_embd_r, n_embd_s = recurrent_state_widths(model.ssm)
    return 4 * (n_embd_r + n_embd_s) * max(1, n_seq)


def recurrent_state_widths(ssm) -> tuple[int, int]:
    """(n_embd_r, n_embd_s) of one sequence, F32 elements: the convolution window and the recurrent state
    (recurrent_state_bytes has the llama-hparams.cpp formulas; Kimi Delta Attention has three convolutions)."""
    if ssm.kind == "kda":
        return 3 * (ssm.d_conv - 1) * ssm.d_inner, ssm.d_state * ssm.d_state * ssm.dt_rank
    return (ssm.d_conv - 1) * (ssm.d_inner + 2 * ssm.n_group * ssm.d_state), ssm.d_state * ssm.d_inner


def kv_cells(model: Model, layer: int, n_ctx: int, n_seq: int, n_ubatch: int, pad: int, unified: bool = True) -> int:
    """KV cells (token slots) llama.cpp allocates for one layer, over all sequences.

    One stream shared by the sequences (kv_unified): full-attention layers hold PAD(n_ctx, 256); sliding-window
    layers the window per sequence plus one micro-batch, PAD(min(n_ctx, n_swa * n_seq + n_ubatch), 256)
    (src/llama-kv-cache-iswa.cpp, swa_full=false as in llama-server). One stream per sequence (llama-server with an
    explicit -np, data/engines.yaml kv_unified): each of the n_seq streams holds n_ctx_seq = PAD(PAD(n_ctx, 256) /
    n_seq, 256) cells (src/llama-context.cpp), and a sliding-window layer PAD(min(n_ctx_seq, n_swa + n_ubatch), 256).
    """
    if not unified and n_seq > 1:
        per_seq = _pad(_pad(n_ctx, pad) // n_seq, pad)
        if uses_window(model, layer):
            assert model.sliding_window is not None
            return n_seq * _pad(min(per_seq, model.sliding_window + n_ubatch), pad)
        return n_seq * per_seq
    if uses_window(model, layer):
        assert model.sliding_window is not None
        return _pad(min(_pad(n_ctx, pad), model.sliding_window * n_seq + n_ubatch), pad)
    return _pad(n_ctx, pad)


def kv_bytes_per_cell(model: Model, cache_type: str, layer: int = -1) -> tuple[int, int]:
    """(K bytes, V bytes) per token of `layer` (-1: a sliding layer, the one head size most models have).

    GQA: K and V each store n_kv_heads x head_dim values; Gemma 4's full layers their own (llama-kv-cache.cpp sizes
    each layer with n_embd_k_gqa(il) / n_embd_v_gqa(il); with attention_k_eq_v V is still cached). MLA (DeepSeek): llama.cpp caches the compressed
    latent (kv_lora_rank) plus the decoupled RoPE key (qk_rope_head_dim) as K, and V is a view of it.
    DeepSeek-V3.2 (DSA) adds the lightning indexer's key cache, counted here with K: llama_kv_cache_dsa pairs the
    MLA cache with a second llama_kv_cache of the same cells, one key head of index_head_dim per layer, K only, in
    the same --cache-type-k (llama.cpp PR #23346, src/llama-kv-cache-dsa.cpp). GLM-5.2: that second cache holds
    only the layers whose indexer is full (create_memory's filter_lid: is_indexer_full(il) for LLM_ARCH_GLM_DSA);
    layer -1 counts the indexer key (a full layer).
    """
    ggml = kv_type(cache_type)
    if model.mla is not None:
        width = model.mla.kv_lora_rank + model.mla.qk_rope_head_dim
        has_indexer = model.dsa is not None and (layer < 0 or model.dsa.has_indexer(layer, model.n_layers))
        return tensor_bytes(ggml, width, width) + (indexer_bytes_per_cell(model, ggml) if has_indexer else 0), 0
    width = model.n_kv_heads * model.head_dim
    v_width = model.n_kv_heads * (model.v_head_dim or model.head_dim)
    if layer >= 0:
        width = model.layer_kv_heads(layer) * model.layer_head_dim(layer)
        v_width = model.layer_kv_heads(layer) * model.layer_v_head_dim(layer)  # MiMo-V2: n_embd_v_gqa(il) < n_embd_k_gqa(il)
    k_bytes = tensor_bytes(ggml, width, width)
    if model.dsa is not None and (layer < 0 or model.dsa.has_indexer(layer, model.n_layers)):
        k_bytes += msa_indexer_bytes_per_cell(model)  # MiniMax-M3: the MSA indexer keys beside a GQA cache
    return k_bytes, tensor_bytes(ggml, v_width, v_width)


def msa_indexer_bytes_per_cell(model: Model) -> int:
    """MiniMax-M3's MSA indexer key cache per token and sparse layer: llama_kv_cache allocates k_idx as
    ggml_new_tensor_3d(GGML_TYPE_F32, n_embd_k_idx(il), kv_size, n_stream) whatever --cache-type-k is, and its log
    prints it as "K_idx (f32)"; minimax-m3.cpp asserts the idx cache is F32. One index_head_dim key (4 B a value)."""
    return 4 * model.dsa.index_head_dim if model.dsa is not None else 0


@lru_cache(maxsize=4096)  # the same for every quantization of a model: computed once per model in a catalog sweep
def layer_kv_bytes_per_cell(model: Model, cache_type: str, v_trans: bool = False) -> tuple[int, ...]:
    """K + V bytes per cached token, per layer (the same for every layer but Gemma 4's full-attention ones).

    v_trans (llama.cpp without flash attention stores V transposed): when the layers' V widths differ
    (is_n_embd_v_gqa_variable over every layer, those without attention at width 0), every layer of the KV cache gets
    V at the widest width (llama-kv-cache.cpp [TAG_V_CACHE_VARIABLE]: "padding V cache to n_embd_v_gqa_max"). A plain
    (non-hybrid) cache holds every layer, so DeciLM's attention-free blocks then hold a V cache too (kv_cache_layers)."""
    per = [kv_bytes_per_cell(model, cache_type, i) if model.has_attention(i) else (0, 0) for i in range(model.n_layers)]
    if v_trans and model.mla is None and len({v for _, v in per}) > 1:
        widest = max(v for _, v in per)
        return tuple(k + widest for k, _ in per)
    return tuple(k + v for k, v in per)


def kv_cache_layers(model: Model) -> tuple[bool, ...]:
    """Which layers llama.cpp's KV cache allocates (create_memory): a hybrid's cache only its attention layers
    (filter_attn); a plain cache every layer that has_kv (not Gemma 3n/4's KV-sharing ones), attention or not
    (DeciLM's no-attention blocks get zero-width K and V, or the padded V of layer_kv_bytes_per_cell)."""
    if model.ssm is not None or model.arch in NO_MEMORY_ARCHS:
        return tuple(caches_kv(model, i) for i in range(model.n_layers))
    return tuple(not _shares_kv(model, i) for i in range(model.n_layers))


def _shares_kv(model: Model, layer: int) -> bool:
    return bool(model.kv_shared_layers) and layer >= model.n_layers - model.kv_shared_layers


def indexer_bytes_per_cell(model: Model, ggml_type: str) -> int:
    """Bytes per token per layer of DeepSeek sparse attention's indexer key cache in llama.cpp: index_head_dim
    values of the K cache type (f16: 256 B for V3.2's 128). 0 for models without DSA. vLLM and SGLang store it as
    FP8 plus one FP32 scale per 128 values (132 B); that rule belongs with their engines."""
    if model.dsa is None:
        return 0
    x = model.dsa.index_head_dim
    return tensor_bytes(ggml_type, x, x)


def indexer_bytes_per_token_fp8(model: Model) -> int:
    """Bytes per token per layer of the DSA indexer key cache in the paged engines (vLLM DeepseekV32IndexerCache,
    SGLang NSATokenToKVPool): index_head_dim FP8 values plus one FP32 scale per 128-value block (132 B for V3.2).
    For the engine modules; checked against SGLang's logged KV sizes with and without the index (tests)."""
    if model.dsa is None:
        return 0
    x = model.dsa.index_head_dim
    return x + 4 * -(-x // 128)


@lru_cache(maxsize=16384)  # a catalog sweep (models --fits) asks ~410 models x several requests
def kv_cache_bytes(model: Model, req: FitRequest) -> tuple[int, tuple[int, ...]]:
    """Total context memory (KV cache of the attention layers plus the recurrent state of recurrent layers) and
    the per-layer split, for llama.cpp-style up-front allocation."""
    eng = engine_params(req.engine)
    n_seq = req.n_parallel
    n_ctx = total_context(req)
    cell = layer_kv_bytes_per_cell(model, req.kv_cache_type, v_trans=not req.flash_attention)
    cached = kv_cache_layers(model)
    unified = kv_unified(req)
    # A Falcon-H1 layer ("P") keeps both: llama.cpp's hybrid memory passes every layer to both caches for it.
    copies = recurrent_state_copies(model, req)
    per_layer = [
        (kv_cells(model, i, n_ctx, n_seq, req.n_ubatch, int(eng["kv_pad"]), unified) * cell[i] if cached[i] else 0)
        + copies * recurrent_state_bytes(model, i, n_seq) + cross_attention_kv_bytes(model, i, req.kv_cache_type)
        for i in range(model.n_layers)
    ]
    return sum(per_layer), tuple(per_layer)


def recurrent_state_copies(model: Model, req: FitRequest) -> int:
    """How many copies of each slot's recurrent state a recurrent layer holds: 1 (llama.cpp), or for the Ollama
    engine's hybrid caches of the releases data/engines.yaml `ollama.recurrent_checkpoints` lists, 1 + its checkpoint
    count (the state plus the checkpoints it reserves at load). The current release ("") is llama-server's rule."""
    spans = engine_params(req.engine).get("recurrent_checkpoints", ())
    if not spans or model.ssm is None or not req.engine_version:
        return 1

    v = parse_version(req.engine_version)
    for r in spans:
        if parse_version(r["since"]) <= v < parse_version(r["until"]) and model.arch in r["archs"]:
            return 1 + int(r["count"])
    return 1


def cross_attention_kv_bytes(model: Model, layer: int, cache_type: str) -> int:
    """K and V of one image in a cross-attention layer (mllama "X"): cross_attention_tokens (1601 patches x 4 tiles)
    x KV heads x head_dim each, in the cache type, whatever the context. Ollama's engine keeps them in its
    EncoderCache (model/models/mllama: kvcache.NewWrapperCache(NewEncoderCache(), NewCausalCache(...)), one image at a
    time: server/prompt.go and routes.go refuse more than one image for mllama). 0 for every other layer."""
    if model.layer_kind(layer) != "X":
        return 0
    width = model.n_kv_heads * model.head_dim
    return 2 * model.cross_attention_tokens * tensor_bytes(kv_type(cache_type), width, width)


def state_bytes(model: Model, req: FitRequest) -> int:
    """The recurrent-state part of kv_cache_bytes (0 for attention-only models)."""
    if model.ssm is None:
        return 0
    copies = recurrent_state_copies(model, req)
    return sum(copies * recurrent_state_bytes(model, i, req.n_parallel) for i in range(model.n_layers))
