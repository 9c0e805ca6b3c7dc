"""What one token costs a model at a quantization (bytes read, FLOPs, KV read per cached token), and how the
repeating layers are split over the devices: the per-layer inputs of the decode and prefill estimates
(estimate/speed_decode.py, estimate/speed_prefill.py).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Model, Placement, Quant
from ..record import record
from .kernel_path import _build_date
from .memory_kv import kv_bytes_per_cell, layer_kv_bytes_per_cell, recurrent_state_widths, uses_window
from .memory_weights import weights


@record
class TokenWork:
    """What one token costs a model at a quantization, per repeating layer and for the output head."""

    layer_read_bytes: tuple[int, ...]  # active weight bytes streamed per decoded token
    layer_flops: tuple[int, ...]  # matmul FLOPs per token (2 per active weight)
    output_read_bytes: int
    kv_bytes_per_cell: int  # K + V bytes per cached token per layer (before the window)
    quantized: bool  # the bulk of the weights is a block-quantized type
    layer_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()  # (type, active weights, bytes) per layer
    output_matrix: tuple[str, int] = ("F16", 0)  # the head's type and weights
    layer_expert_read_bytes: tuple[int, ...] = ()  # routed experts' share of layer_read_bytes (MoE)
    layer_expert_bytes: tuple[int, ...] = ()  # routed-expert tensors of each layer, whole
    layer_kv_bytes: tuple[int, ...] = ()  # K + V bytes per cached token of each layer (Gemma 4: full layers differ)
    layer_expert_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()  # routed experts' part of layer_matrices
    layer_inputs: tuple[tuple[tuple[str, int], ...], ...] = ()  # (type, dense mat-vecs' input elements) per layer


@lru_cache(maxsize=16384)  # a catalog sweep (models --fits) asks ~410 models x ~14 quants
def token_work(model: Model, quant: Quant, kv_cache_type: str = "f16") -> TokenWork:
    """Per-token bytes and FLOPs from the same per-tensor list the memory estimate uses.

    MoE expert tensors (`*_exps`) count with the routed share active/experts; the token embedding is a row
    lookup, so it costs neither bandwidth nor FLOPs beyond one row.
    """
    w = weights(model, quant)
    k, v = kv_bytes_per_cell(model, kv_cache_type)
    per_layer = layer_kv_bytes_per_cell(model, kv_cache_type)
    bulk = dict(w.by_type)
    main_type = max(bulk, key=bulk.get) if bulk else "F16"
    return TokenWork(w.layer_active_bytes, w.layer_active_flops, w.output_head_bytes, k + v,
                     main_type not in ("F16", "BF16", "F32"), w.layer_matrices, w.output_head_matrix,
                     w.layer_expert_read_bytes, w.layer_expert_bytes, per_layer, w.layer_expert_matrices,
                     w.layer_inputs)


@lru_cache(maxsize=4096)
def state_traffic_by_layer(model: Model) -> tuple[int, ...]:
    """Bytes each layer's recurrent state moves per decoded token in llama.cpp's graph (data/speed.yaml
    recurrent_state_traffic; docs/methodology.md 5e-metal3): delta-net layers (Gated DeltaNet, KDA) copy the F32 state
    out of the cache (build_rs: get_rows), read and rewrite it in the fused kernel and copy the new one back (ggml_cpy),
    `state_passes` passes of n_embd_s x 4 bytes; the convolution window `conv_passes` of n_embd_r x 4. 0 for other
    layers and other recurrent kinds (their graphs were not read); Mamba-2 state_passes_by_kind (4: SSM_SCAN reads the
    cache rows itself). Why: the 2.1 MB state of a Qwen3.5 layer, six times per token, is ~12% of a 4B Q4_K_M model's
    bytes, which the estimate did not count. The decode estimate adds it on every backend (session 17; Metal first,
    5e-metal3); ggml-cuda (CUDA, ROCm) fuses the copy-back into the kernel since llama.cpp PR #23940 (2026-07-03,
    ggml_cuda_try_gdn_cache_fusion): fused_copy_back_by_layer is taken off there."""
    rule = load("speed").get("recurrent_state_traffic") or {}
    ssm = model.ssm
    if ssm is None or ssm.kind not in (rule.get("kinds") or ()):
        return (0,) * model.n_layers
    conv, state = recurrent_state_widths(ssm)
    passes = int((rule.get("state_passes_by_kind") or {}).get(ssm.kind, rule["state_passes"]))
    per = 4 * (passes * state + int(rule["conv_passes"]) * conv)
    return tuple(per if model.is_recurrent(i) else 0 for i in range(model.n_layers))


@lru_cache(maxsize=4096)
def fused_copy_back_by_layer(model: Model) -> tuple[int, ...]:
    """Bytes of state_traffic_by_layer a backend that writes the new state straight into the cache does not move
    (data/speed.yaml recurrent_state_traffic.fused_copy_back: ggml-cuda, so CUDA and ROCm, from PR #23940 on, the
    skipped ggml_cpy's read and write of the F32 state); 0 for other layers and kinds. speed_decode subtracts it on
    the listed families at builds from `since` (kernel_path's build date; the latest when none is set)."""
    fused = (load("speed").get("recurrent_state_traffic") or {}).get("fused_copy_back") or {}
    ssm = model.ssm
    if ssm is None or ssm.kind not in (fused.get("kinds") or ()):
        return (0,) * model.n_layers
    per = 4 * int(fused["state_passes"]) * recurrent_state_widths(ssm)[1]
    return tuple(per if model.is_recurrent(i) else 0 for i in range(model.n_layers))


def copy_back_fused(backend: str) -> bool:
    """Whether `backend` at the build in force skips the recurrent state's copy-back (fused_copy_back_by_layer)."""
    fused = (load("speed").get("recurrent_state_traffic") or {}).get("fused_copy_back") or {}
    return backend in (fused.get("families") or ()) and _build_date() >= str(fused.get("since", "9999"))


def _cached_tokens(model: Model, layer: int, depth: int) -> int:
    """Tokens a layer attends to at `depth`: sliding-window layers stop at their window; recurrent and
    feed-forward-only layers of hybrid models attend to none (their fixed state is read whatever the depth)."""
    if not model.has_attention(layer):
        return 0
    # (Gemma 3n's KV-sharing layers keep no cache but attend over an earlier layer's, so they read as much.)
    return min(depth, model.sliding_window) if uses_window(model, layer) else depth


def kv_read_by_layer(model: Model, work: TokenWork, depth: int) -> list[int]:
    """KV bytes each layer reads per decoded token at `depth`: its bytes per cached token x the tokens it attends to
    (cached_tokens_by_layer, computed once per (model, depth) for every quantization)."""
    tokens = cached_tokens_by_layer(model, depth)
    per = work.layer_kv_bytes or (work.kv_bytes_per_cell,) * model.n_layers
    return [per[i] * tokens[i] for i in range(model.n_layers)]


@lru_cache(maxsize=16384, typed=True)  # typed: a float depth keeps float products, as the per-layer calls gave
def cached_tokens_by_layer(model: Model, depth: int) -> tuple[int, ...]:
    """_cached_tokens of every layer at `depth`: the decode and prefill estimates of every quantization of a model
    read the same ones, so they are computed once per (model, depth)."""
    return tuple(_cached_tokens(model, i, depth) for i in range(model.n_layers))


@lru_cache(maxsize=16384, typed=True)
def attention_flops_by_layer(model: Model, depth: int, swa_extra: int = 0) -> tuple[int, ...]:
    """_attention_flops of every layer at `depth`, computed once per (model, depth) like cached_tokens_by_layer;
    `swa_extra`: see _attention_flops."""
    return tuple(_attention_flops(model, i, depth, swa_extra) for i in range(model.n_layers))


def key_width(model: Model, layer: int) -> int:
    """The K row width attention reads at `layer`: the MLA latent plus its rope part (llama.cpp's absorbed MLA cache),
    else the layer's head size."""
    return model.mla.kv_lora_rank + model.mla.qk_rope_head_dim if model.mla else model.layer_head_dim(layer)


def _attention_flops(model: Model, layer: int, depth: int, swa_extra: int = 0) -> int:
    """QK^T and softmax(QK^T)V: 2 x 2 x heads x head_dim FLOPs per cached token (MLA: latent width). `swa_extra`:
    cells a prompt query of a sliding-window layer walks beyond its window (prompt_swa_extra); 0 for decode."""
    width = key_width(model, layer)
    tokens = _cached_tokens(model, layer, depth)
    if swa_extra and uses_window(model, layer) and model.has_attention(layer):
        tokens = min(depth, model.sliding_window + swa_extra)
    return 4 * model.n_heads * width * tokens


def prompt_swa_extra(n_ubatch: int, backend: str) -> int:
    """Cells beyond the window that a prompt query of a sliding-window layer computes over on a ggml-cuda backend (CUDA,
    ROCm): llama.cpp gives the SWA layers a cache of GGML_PAD(n_swa + n_ubatch, n_pad) cells (llama-kv-cache-iswa.cpp)
    whose graph view spans every used cell (get_n_kv), and ggml-cuda's flash attention computes over every cell up to
    the last unmasked tile (fattn-common.cuh flash_attn_mask_to_KV_max trims trailing tiles only), so a query walks the
    window's cells and the micro-batch's: n_ubatch / 2 beyond the window on average, the full-attention layers'
    "depth + half its own" count. 0 elsewhere: Vulkan (flash_attn_mask_opt) and Metal (kernel_flash_attn_ext_blk) skip
    fully masked K/V blocks, the CPU masked elements. docs/methodology.md 5f-rocm20."""
    return n_ubatch // 2 if backend in ("cuda", "rocm") else 0


def layer_split(placement: Placement, n_devices: int) -> list[int]:
    """Repeating layers held by each GPU, in order (the output head is the last offloaded item)."""
    if placement.per_device_layers:
        counts = list(placement.per_device_layers)
    else:
        counts = [placement.gpu_layers] + [0] * (n_devices - 1) if n_devices else []
    return counts


def _last_used(placement: Placement, n_devices: int) -> int:
    counts = layer_split(placement, n_devices)
    last = 0
    for i, c in enumerate(counts):
        if c:
            last = i
    return last


def _per_layer(layers: tuple, f) -> list[float]:
    """f of each layer's matrices, computed once per distinct layer (a 70B model has 80 layers, a few kinds)."""
    seen: dict[tuple, float] = {}
    out = []
    for mats in layers:
        x = seen.get(mats)
        if x is None:
            x = seen[mats] = f(mats)
        out.append(x)
    return out
