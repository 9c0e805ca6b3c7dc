"""MLX (mlx-lm) on Apple Silicon: weights in mlx_lm.convert's formats, its KV cache, the Metal wired limit, speed.

- Weights, per tensor: every 2-D weight whose input width divides the group size is quantized (`bits` per weight
  plus, per group, a bf16 scale and bias for affine formats or a uint8 scale for mxfp4); 1-D tensors (norms, biases)
  stay bf16. Embeddings and the LM head are quantized too (nn.Embedding and nn.Linear both have to_quantized).
- KV cache: mlx_lm/models/cache.py KVCache grows in steps of 256 tokens and stores K and V in bf16:
  layers x 2 x n_kv_heads x head_dim x 2 bytes per token; sliding-window layers (RotatingKVCache) hold the window.
  `--kv-cache qB` is mlx_lm.generate --kv-bits B (group 64): B/8 bytes per value + a bf16 scale and bias per 64.
  MLA models (DeepSeek V3 family) cache the compressed latent and the RoPE key once per token and layer
  (mlx-lm deepseek_v3.py since PR #839, 2026-02), and their prompt chunks expand it (kv_bytes_per_token, activation_bytes).
- Activations: the prompt runs in chunks of prefill_step_size = 2048 tokens with fused causal attention (mlx-lm
  PR #40), so the peak is the widest layer's bf16 activations for one chunk: 2 bytes x chunk x (4 x hidden +
  3 x FFN width) (residual, norm, attention in/out; gate, up and their product). Logits are computed for the last
  token only.
- Where it runs: all of it on the GPU in unified memory, up to Metal's recommendedMaxWorkingSetSize, which mlx-lm
  wires (mx.set_wired_limit); there is no partial offload. Past 90% of it mlx-lm warns that generation can be slow.
- Speed: the Metal roofline of estimate/speed.py (llama.cpp's Metal efficiency factors, not refitted): decode reads
  every active weight byte and the KV cache once per token, plus a fixed time per layer: MLX's own count of a dense
  layer's dependent kernel steps (12, data/engines.yaml decode_serial_steps) at the calibration's time per step;
  prefill is 2 FLOPs per active weight plus attention, and each 2048-token chunk pays the same per-layer steps.
  Validated on published mlx-lm runs (benchmarks/mlx_accuracy.py, docs/methodology.md 6e).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Device, FitOption, FitRequest, Machine, MemoryBreakdown, Model, Placement, Quant, Speed
from ..errors import UnknownQuantError
from . import metal_path
from .memory import uses_window
from .tensors import build_tensors

BF16 = 2


# Tables a prompt token indexes rather than multiplies: the token embedding (nn.Embedding) and Gemma 3n / Gemma 4's
# per-layer input embedding, mlx-lm gemma4_text.py `self.embed_tokens_per_layer(input_ids)` (and gemma3n.py), a
# vocab_size_per_layer_input x (layers x 256) nn.Embedding, 2.8B of Gemma 4 E4B's 7.5B matrix weights: no prefill FLOPs.
LOOKUP_TABLES = frozenset({"token_embd.weight", "per_layer_token_embd.weight"})


@lru_cache(maxsize=1)
def _formats() -> dict[str, dict]:
    return {f["name"].lower(): f for f in load("engines")["mlx_formats"]["formats"]}


def mlx_quants() -> tuple[Quant, ...]:
    return tuple(Quant(name=f["name"], default_type=f"MLX_{f['name'].upper()}", rank=i)
                 for i, f in enumerate(_formats().values()))


def get_mlx_quant(name: str) -> Quant:
    key = str(name).strip().lower()
    for q in mlx_quants():
        if q.name.lower() == key:
            return q
    raise UnknownQuantError(f"unknown MLX format {name!r}", f"use one of: {', '.join(q.name for q in mlx_quants())}")


def _tensor_bytes(n_elements: int, row: int, n_dims: int, fmt: dict) -> int:
    """Bytes of one tensor in an MLX format: quantized when 2-D+ and its row divides the group size."""
    group = int(fmt["group_size"])
    if n_dims < 2 or not group or row % group:
        return BF16 * n_elements
    return n_elements * int(fmt["bits"]) // 8 + n_elements // group * int(fmt["group_bytes"])


@lru_cache(maxsize=256)
def mlx_weights(model: Model, quant: Quant) -> tuple[int, tuple[int, ...], tuple[int, ...], int, int]:
    """(total bytes, bytes per layer, bytes one decoded token reads per layer, head bytes, params)."""
    fmt = _formats()[quant.name.lower()]
    share = model.moe.active / model.moe.experts if model.moe else 1.0
    layer = [0] * model.n_layers
    read = [0] * model.n_layers
    total = head = params = 0
    for t in build_tensors(model):
        b = _tensor_bytes(t.n_elements, t.shape[0], t.n_dims, fmt)
        total += b
        params += t.n_elements
        if t.layer >= 0:
            layer[t.layer] += b
            read[t.layer] += int(b * (share if "_exps" in t.name else 1.0))
        elif t.name == "output.weight" or (t.name == "token_embd.weight" and model.tied_embeddings):
            head = b
    return total, tuple(layer), tuple(read), head, params


def kv_bits(kv_cache_type: str) -> int | None:
    """mlx-lm --kv-bits of a --kv-cache name: 'q8' -> 8 ... 'q2' -> 2; None for the bf16 cache ('f16')."""
    name = kv_cache_type.lower()
    return int(name[1:]) if name.startswith("q") and name[1:].isascii() and name[1:].isdigit() else None


def kv_bytes_per_token(model: Model, layer: int, bits: int | None = None) -> int:
    """K and V bytes per token of one layer: bf16, or with --kv-bits B mlx-lm's QuantizedKVCache (models/cache.py):
    per head B/8 bytes per value packed in uint32 plus a scale and a bias per group of 64 in the activations' dtype
    (2 bytes each); a sliding-window layer's RotatingKVCache is never quantized (its to_quantized is NYI)."""
    if model.mla is not None:  # deepseek_v3.py: cache.update_and_fetch(kv_latent, k_pe), one "head" each
        dims = [model.mla.kv_lora_rank, model.mla.qk_rope_head_dim]
        heads = 1
    else:
        hd = model.layer_head_dim(layer)  # Gemma 4: full layers global_head_dim, their own KV heads
        dims, heads = [hd, hd], model.layer_kv_heads(layer)
    if bits is None or uses_window(model, layer):
        return BF16 * heads * sum(dims)
    group = int(load("engines")["engines"]["mlx"]["kv_group_size"])
    return heads * sum(d * bits // 8 + 2 * BF16 * (d // group) for d in dims)


def kv_cache_bytes(model: Model, context: int, step: int, bits: int | None = None) -> tuple[int, tuple[int, ...]]:
    """KV cache at `context` tokens, grown in blocks of `step` (KVCache.step); windows cap sliding layers. With
    --kv-bits the cache is quantized once it holds quantized_kv_start tokens (mlx_lm.generate default 5000), so a
    context up to that stays bf16."""
    if bits is not None and context < int(load("engines")["engines"]["mlx"]["quantized_kv_start"]):
        bits = None
    per = []
    for i in range(model.n_layers):
        if not model.has_attention(i):  # DeciLM no-op / linear blocks: mlx_lm nemotron-nas.py make_cache skips them
            per.append(0)
            continue
        tokens = min(context, model.sliding_window) if uses_window(model, i) else context
        per.append(-(-tokens // step) * step * kv_bytes_per_token(model, i, bits))
    return sum(per), tuple(per)


def activation_bytes(model: Model, chunk: int, context: int = 0) -> int:
    """Peak bf16 activations of one prompt chunk through the widest layer (module docstring). An MLA layer's prompt
    chunk (mlx-lm deepseek_v3.py, L > 1) also holds, for the `context` cached tokens, the RoPE scores it passes as the
    attention mask, q_pe @ k_pe^T (heads x chunk x context), and the latent expanded to per-head keys and values
    (embed_q / unembed_out: heads x context x (qk_nope + v)), all bf16."""
    if model.moe is not None:
        n_ff = max(model.intermediate_size if model.moe.first_dense_layers else 0,
                   model.moe.expert_intermediate_size * model.moe.active)
    else:
        n_ff = model.intermediate_size
    act = BF16 * chunk * (4 * model.hidden_size + 3 * n_ff)
    if model.mla is not None:
        act += BF16 * model.n_heads * context * (chunk + model.mla.qk_nope_head_dim + model.mla.v_head_dim)
    return act


def is_apple(machine: Machine) -> bool:
    return bool(machine.devices) and all(d.backend == "metal" for d in machine.devices)


def option(model: Model, quant: Quant, machine: Machine, request: FitRequest) -> FitOption:
    """Memory, placement (all on the Apple GPU or nothing) and single-stream speed under mlx-lm."""
    eng = load("engines")["engines"]["mlx"]
    total_w, layers_w, read_w, head_w, params = mlx_weights(model, quant)
    kv_total, kv_layers = kv_cache_bytes(model, request.context, int(eng["kv_pad"]), kv_bits(request.kv_cache_type))
    act = activation_bytes(model, min(int(eng["n_ubatch"]), request.context), request.context)
    mem = MemoryBreakdown(
        weights_bytes=total_w, kv_cache_bytes=kv_total, compute_buffer_bytes=act, runtime_bytes=0,
        layer_bytes=tuple(w + k for w, k in zip(layers_w, kv_layers)), output_bytes=head_w,
        bits_per_weight=8.0 * total_w / params if params else 0.0,
    )
    n_items = model.n_layers + 1
    if not is_apple(machine):
        place = Placement("no", 0, n_items, 0, 0, mem.total_bytes, note="MLX runs on Apple Silicon only",
                          unsupported=True)
        return FitOption(quant=quant, memory=mem, placement=place, speed=Speed(None, None, "unknown", note="not Apple"))
    dev = machine.devices[0]
    limit = dev.usable_memory_bytes or dev.memory_bytes
    need = mem.total_bytes
    if need > limit:
        place = Placement("no", 0, n_items, 0, 0, need - limit,
                          note="over Metal's wired limit (recommendedMaxWorkingSetSize); sudo sysctl iogpu.wired_limit_mb raises it")
        return FitOption(quant=quant, memory=mem, placement=place, speed=Speed(None, None, "unknown", note="does not fit"))
    share = float(eng["wired_warning_share"])
    # mlx_lm/generate.py wired_limit(): the warning compares the model's weights (not the KV cache) with 90% of the limit
    note = ("mlx-lm warns: the weights pass 90% of the wired limit, generation can be slow" if total_w > share * limit
            else "weights, KV cache and activations pass 90% of the wired limit: little room left" if need > share * limit
            else "")
    place = Placement("gpu", n_items, n_items, need, 0, 0, (need,), note=note, per_device_layers=(model.n_layers,))
    return FitOption(quant=quant, memory=mem, placement=place, speed=_speed(model, quant, machine, request, read_w, head_w))


def decode_tokens_per_s(model: Model, quant: Quant, machine: Machine, depth: int, bits: int | None = None) -> float | None:
    """Metal roofline: active weights + head + KV up to `depth`, over efficiency x bandwidth, plus per-layer time."""
    from .speed import _cached_tokens, efficiency

    dev = machine.devices[0]
    if not dev.bandwidth_bytes_per_s:
        return None
    _, _, read_w, head_w, _ = mlx_weights(model, quant)
    eff = efficiency("metal")
    if bits is not None and depth < int(load("engines")["engines"]["mlx"]["quantized_kv_start"]):
        bits = None
    kv_read = sum(kv_bytes_per_token(model, i, bits) * _cached_tokens(model, i, depth) for i in range(model.n_layers))
    bw = eff.bandwidth * dev.bandwidth_bytes_per_s
    # the attention over the cache is a roofline of its own: its bytes, or its FLOPs where they take longer (MLA)
    attn = kv_read / bw
    if dev.fp16_flops:
        c = metal_path.compute_efficiency(eff, dev, False)
        attn = max(attn, metal_path.matmul_seconds(decode_attention_flops(model, depth), c, dev.fp16_flops, dev))
    return 1.0 / ((sum(read_w) + head_w) / bw + attn + fixed_seconds(model, dev))


def decode_attention_flops(model: Model, depth: int) -> int:
    """FLOPs of one decoded token's attention over `depth` cached tokens: 2 x heads x (key + value width) per cached
    token and layer. MLA under mlx-lm attends in the latent space (deepseek_v3.py, L == 1: q_nope through embed_q,
    k = v = kv_latent, the RoPE scores as the mask), so keys are kv_lora_rank + rope wide and values kv_lora_rank: a
    512-wide head has no fused sdpa kernel (mlx scaled_dot_product_attention.cpp: 64-256), and the fallback
    (mlx/fast.cpp) runs it as matmuls of all query heads against the one cached head, reading the latent once at 242
    FLOPs a byte: compute-bound, where a GQA cache (8-16 FLOPs a byte) is bandwidth-bound."""
    from .speed import _cached_tokens

    total = 0
    for i in range(model.n_layers):
        tokens = _cached_tokens(model, i, depth)
        if not tokens:
            continue
        if model.mla is not None:
            width = 2 * model.mla.kv_lora_rank + model.mla.qk_rope_head_dim
        else:
            width = 2 * model.layer_head_dim(i)
        total += 2 * model.n_heads * width * tokens
    return total


def layer_seconds(model: Model, device: Device | None = None) -> float:
    """Fixed time of one layer's forward pass under MLX: its dependent kernel steps x the Metal time per step.

    Why: MLX dispatches into a concurrent Metal encoder and puts a barrier only between kernels that share a buffer
    (mlx/backend/metal/device.cpp), so a step is a group of independent kernels, not a kernel. A dense mlx-lm layer is 12
    steps (data/engines.yaml decode_serial_steps), llama.cpp's calibration builds 17 (data/speed.yaml metal_dispatch);
    the per-step time is the calibration's layer time / 17. MoE layers keep the calibration's time (their routing and
    gather steps were not counted).
    On `device` an M3 or later GPU (Apple GPU family 9+) a step takes step_time_by_generation.scale of that time: the
    published MLX rows put a dense layer at 69-75 us on M3 Ultra / M4 Max against 130 us on M2 Ultra / M2 Pro, with
    the same mlx decode kernels on every generation (methodology 6e-mlx3; a fitted constant)."""
    from .speed import efficiency

    steps = load("engines")["engines"]["mlx"].get("decode_serial_steps")
    step = step_seconds(device)
    if model.moe is not None or step is None or not steps:
        return efficiency("metal").layer_s
    return dense_steps(model, int(steps)) * step


def fixed_seconds(model: Model, device: Device | None = None) -> float:
    """Fixed time of one forward pass (a decoded token, or a prompt chunk): every layer's layer_seconds, plus, for each
    Gated DeltaNet layer (Qwen3-Next / Qwen3.5 / Qwen3.6, dense or MoE), the steps its mixer adds over attention's
    (data/engines.yaml mlx.extra_steps.gated_delta, counted on mlx-lm qwen3_5.py / gated_delta.py) at the step time of
    the device's generation."""
    from .arch_traits import QWEN_NEXT_ARCHS

    total = model.n_layers * layer_seconds(model, device)
    extra = int((load("engines")["engines"]["mlx"].get("extra_steps") or {}).get("gated_delta", 0))
    step = step_seconds(device)
    if extra and step is not None and model.arch in QWEN_NEXT_ARCHS:
        n_rec = sum(1 for i in range(model.n_layers) if model.is_recurrent(i))
        total += n_rec * extra * step
    return total


def step_seconds(device: Device | None = None) -> float | None:
    """One dependent MLX kernel step on `device`: the Metal calibration's per-layer time over the steps it was
    measured with (speed.yaml metal_dispatch.calibration_steps), at the device generation's step_scale; None without
    that step count."""
    from .speed import efficiency

    base = load("speed").get("metal_dispatch", {}).get("calibration_steps")
    return efficiency("metal").layer_s / int(base) * step_scale(device) if base else None


def dense_steps(model: Model, steps: int) -> int:
    """Dependent kernel steps of one dense mlx-lm decode layer: the Llama layer's `steps` plus what the model's layer
    adds in series (data/engines.yaml mlx.extra_steps; read off mlx-lm's model files): q/k norms between the
    projections and RoPE (qwen3.py, gemma3_text.py), the post-attention and post-FFN norms before each residual add
    (POST_NORM_ARCHS: gemma2.py, gemma3_text.py), and Gemma's MLP, a compiled gelu_approx then a separate multiply by
    up where swiglu is one compiled kernel."""
    from .arch_traits import POST_NORM_ARCHS

    extra = load("engines")["engines"]["mlx"].get("extra_steps") or {}
    steps += int(extra.get("qk_norm", 0)) if model.qk_norm else 0
    steps += int(extra.get("post_norms", 0)) if model.arch in POST_NORM_ARCHS else 0
    steps += int(extra.get("gelu_times_up", 0)) if model.arch.startswith("gemma") else 0
    return steps


def step_scale(device: Device | None) -> float:
    """Share of the calibration's per-step time one dependent MLX kernel step takes on `device`: the fitted
    step_time_by_generation.scale from its M-series generation on (data/engines.yaml), else 1.0 (M1/M2, unknown)."""
    rule = load("engines")["engines"]["mlx"].get("step_time_by_generation") or {}
    gen = metal_path.apple_generation(device) if device is not None else None
    if gen is None or not rule or gen < int(rule["min_generation"]):
        return 1.0
    return float(rule["scale"])


def prefill_tokens_per_s(model: Model, quant: Quant, machine: Machine, depth: int) -> float | None:
    """2 FLOPs per active matrix weight (the embeddings are lookups: LOOKUP_TABLES) plus attention over `depth` cached tokens, for a
    prompt of 2 x depth tokens (a prompt token attends on average to half the prompt); each prefill_step_size chunk of
    it is one forward pass and pays every layer's fixed steps (layer_seconds) once, as a decoded token does."""
    from .speed import _attention_flops, efficiency

    dev = machine.devices[0]
    if not dev.fp16_flops:
        return None
    share = model.moe.active / model.moe.experts if model.moe else 1.0
    flops = sum(int(2 * t.n_elements * (share if "_exps" in t.name else 1.0)) for t in build_tensors(model)
                if t.n_dims >= 2 and t.name not in LOOKUP_TABLES)
    prompt = max(1, 2 * depth)
    step = int(load("engines")["engines"]["mlx"]["n_ubatch"])
    if model.mla is None:
        flops += sum(_attention_flops(model, i, depth) for i in range(model.n_layers))
    else:
        flops += _mla_prefill_flops(model, depth, prompt, step)
    eff = efficiency("metal")
    # the Metal rules by GPU generation (estimate/metal_path.py): M3+ unpack beside the FMAs, M5+ multiply on the
    # Neural Accelerators
    c = metal_path.compute_efficiency(eff, dev, quant.name.lower() != "bf16")
    chunks = -(-prompt // step)
    fixed = chunks * fixed_seconds(model, dev) / prompt
    return 1.0 / (metal_path.matmul_seconds(flops, c, dev.fp16_flops, dev) + fixed + gated_delta_seconds(model, dev))


def gated_delta_seconds(model: Model, device: Device) -> float:
    """Seconds a prompt token spends in mlx-lm's fused gated-delta kernel (models/gated_delta.py, from PR #454,
    2025-09-17): a simdgroup per value row, Dk / 32 state elements a lane, `for (int t = 0; t < T; ++t)` with two
    simd_sums a token, the shape of llama.cpp's Metal and CUDA kernels. Per delta-net layer its state elements x
    data/speed.yaml recurrent_prefill_step.lane_cycles_by_family.mlx over the shader lanes x clock (FP16 FLOPS / 2; M5+:
    the SIMD share); 0 for other models and without a rate (docs/methodology.md 5e-metal7)."""
    from .speed_gpu import state_walk_seconds

    rule = load("speed").get("recurrent_prefill_step") or {}
    cycles = (rule.get("lane_cycles_by_family") or {}).get("mlx")
    if not cycles or not device.fp16_flops:
        return 0.0
    lane_hz = metal_path.simd_flops(device, device.fp16_flops) / 2
    return state_walk_seconds(model, 0, model.n_layers, float(cycles), lane_hz)


def _mla_prefill_flops(model: Model, depth: int, prompt: int, step: int) -> int:
    """Attention FLOPs per prompt token of an MLA model under mlx-lm (deepseek_v3.py, L > 1): each chunk expands the
    latent of every cached token to per-head keys and values (embed_q / unembed_out, the k_b / v_b weights, counted
    once per token among the weights' FLOPs; a chunk applies them to all `ctx` tokens cached so far), then attends
    per head with keys qk_nope + rope wide (the RoPE part as the mask's q_pe @ k_pe^T) and values v_head_dim wide,
    over `depth` cached tokens on average. llama.cpp's latent-space width (speed_work._attention_flops) is not
    mlx-lm's prefill path."""
    mla, heads = model.mla, model.n_heads
    expand = 2 * heads * mla.kv_lora_rank * (mla.qk_nope_head_dim + mla.v_head_dim)
    ctx_sum = sum(min((k + 1) * step, prompt) for k in range(-(-prompt // step)))
    per_layer = 2 * heads * (mla.qk_nope_head_dim + mla.qk_rope_head_dim + mla.v_head_dim) * depth
    per_layer += int(expand * (ctx_sum / prompt - 1))
    return sum(per_layer for i in range(model.n_layers) if model.has_attention(i))


def _speed(model: Model, quant: Quant, machine: Machine, request: FitRequest, read_w: tuple[int, ...],
           head_w: int) -> Speed:
    from .speed import efficiency

    eff = efficiency("metal")
    depth = request.context // 2
    decode = decode_tokens_per_s(model, quant, machine, depth, kv_bits(request.kv_cache_type))
    if decode is None:
        return Speed(None, None, "unknown", note="device bandwidth unknown: give a hardware profile")
    prefill = prefill_tokens_per_s(model, quant, machine, min(depth, 256))
    return Speed(decode, prefill, "extrapolated", decode * eff.decode_band[0], decode * eff.decode_band[1],
                 prefill * eff.prefill_band[0] if prefill else None, prefill * eff.prefill_band[1] if prefill else None,
                 note=f"mlx-lm on Metal: llama.cpp's Metal efficiency factors, MLX's kernel steps per layer, decode at {depth} cached tokens")
