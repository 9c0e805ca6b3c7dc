"""vLLM: weights in serving formats (BF16, FP8, AWQ/GPTQ int4), the paged KV pool, tensor parallelism.

Why apart from llama.cpp: vLLM takes a fixed share of every GPU (gpu_memory_utilization x total), loads the
weights sharded over the GPUs, reserves activations and CUDA graphs, and turns everything left into KV blocks
shared by all sequences. It refuses to start when one sequence of max_model_len does not fit, and it has no
partial offload. Sources: vLLM 0.33.0 v1/worker/gpu_worker.py (KV budget), v1/kv_cache_interface.py (bytes per
token), engine/arg_utils.py (batch defaults); the constants are in data/engines.yaml with their sources.
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..catalog._data import load
from ..domain import FitRequest, Machine, MemoryBreakdown, Model, Placement, Quant
from ..errors import UnknownQuantError
from ..record import record
from .memory import uses_window
from .tensors import Tensor, build_tensors

_SIXTEEN_BIT = 2  # bytes of a bf16/fp16 value


@lru_cache(maxsize=1)
def _formats() -> dict[str, dict]:
    return {f["name"]: f for f in load("engines")["vllm_formats"]["formats"]}


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


@lru_cache(maxsize=1)
def vllm_quants() -> tuple[Quant, ...]:
    """The weight formats vLLM serves, best quality first (ranks continue the GGUF scale's idea: 0 = best)."""
    return tuple(Quant(name=n, default_type="BF16" if n == "BF16" else n, rank=i) for i, n in enumerate(_formats()))


def get_vllm_quant(name: str) -> Quant:
    key = name.strip().upper().replace("_", "-")
    key = {"FP16": "BF16", "AWQ": "AWQ-INT4", "GPTQ": "GPTQ-INT4", "INT4": "AWQ-INT4"}.get(key, key)
    for q in vllm_quants():
        if q.name == key:
            return q
    raise UnknownQuantError(
        f"{name!r} is not a vLLM weight format", f"with --engine vllm use one of: {', '.join(_formats())}"
    )


def _linear_bytes(shape: tuple[int, ...], fmt: dict) -> int:
    """Bytes of one linear weight (GGUF shape: shape[0] = input features, shape[1] = output, shape[2] = experts)."""
    n_in, n_out = shape[0], shape[1]
    experts = shape[2] if len(shape) > 2 else 1
    per = n_in * n_out * fmt["bits"] / 8
    if fmt["group_size"]:
        per += math.ceil(n_in / fmt["group_size"]) * n_out * fmt["group_bytes"]
    per += n_out * fmt["row_scale_bytes"] + n_in * fmt["input_row_bytes"]
    return int(per * experts)


def tensor_bytes(t: Tensor, fmt: dict) -> int:
    """Bytes of one tensor in a vLLM format: repeating-layer matrices (not MoE routers) take the format's bits,
    everything else (embeddings, LM head, norms, biases) stays 16-bit."""
    quantizable = t.layer >= 0 and t.n_dims >= 2 and "ffn_gate_inp" not in t.name and fmt["bits"] < 16
    return _linear_bytes(t.shape, fmt) if quantizable else t.n_elements * _SIXTEEN_BIT


@record
class VllmWeights:
    total: int
    per_layer: tuple[int, ...]
    embedding: int
    output: int
    params: int


@lru_cache(maxsize=256)
def vllm_weights(model: Model, quant: Quant) -> VllmWeights:
    fmt = _formats()[quant.name]
    per_layer = [0] * model.n_layers
    embedding = output = params = 0
    for t in build_tensors(model):
        b = tensor_bytes(t, fmt)
        params += t.n_elements
        if t.layer >= 0:
            per_layer[t.layer] += b
        elif t.name == "token_embd.weight":
            embedding += b
        else:
            output += b
    # tied embeddings: vLLM shares the matrix with the LM head, so there is no second copy to add
    return VllmWeights(embedding + output + sum(per_layer), tuple(per_layer), embedding, output, params)


def tensor_parallel_size(model: Model, n_gpus: int) -> int:
    """Largest TP size <= n_gpus that divides the attention heads (vLLM requires heads % tp == 0)."""
    for tp in range(max(1, n_gpus), 0, -1):
        if model.n_heads % tp == 0:
            return tp
    return 1


def kv_bytes_per_token(model: Model, tp: int, dtype_bytes: int = _SIXTEEN_BIT) -> int:
    """K+V bytes per token on one GPU: KV heads are split over TP ranks (replicated when fewer than ranks);
    MLA caches kv_lora_rank + rope dims once, on every rank (vllm/v1/kv_cache_interface.py)."""
    if model.mla is not None:
        return model.n_layers * (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * dtype_bytes
    heads = max(1, model.n_kv_heads // tp)
    return model.n_layers * heads * 2 * model.head_dim * dtype_bytes


def sequence_kv_bytes(model: Model, tp: int, context: int, dtype_bytes: int = _SIXTEEN_BIT) -> int:
    """One sequence of `context` tokens, in whole 16-token blocks; sliding-window layers keep only the window."""
    block = int(_engine()["kv_pad"])
    blocks_full = -(-context // block)
    if model.mla is None and any(uses_window(model, i) for i in range(model.n_layers)):
        per_layer = kv_bytes_per_token(model, tp, dtype_bytes) // model.n_layers
        window_blocks = -(-min(context, model.sliding_window) // block) + 1
        total = 0
        for i in range(model.n_layers):
            total += (window_blocks if uses_window(model, i) else blocks_full) * block * per_layer
        return total
    return blocks_full * block * kv_bytes_per_token(model, tp, dtype_bytes)


def kv_pool_tokens(model: Model, tp: int, pool_bytes: int, dtype_bytes: int = _SIXTEEN_BIT) -> int:
    """Tokens the KV pool holds: whole blocks of 16 tokens (vLLM logs this as 'GPU KV cache size: N tokens')."""
    block = int(_engine()["kv_pad"])
    return max(0, pool_bytes // (block * kv_bytes_per_token(model, tp, dtype_bytes))) * block


def batch_defaults(device_bytes: int) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) of `vllm serve` for a GPU of this size."""
    e = _engine()
    if device_bytes >= int(e["large_gpu_bytes"]):
        return int(e["max_num_batched_tokens_large"]), int(e["max_num_seqs_large"])
    return int(e["max_num_batched_tokens_small"]), int(e["max_num_seqs_small"])


def activation_bytes(model: Model, tp: int, device_bytes: int) -> int:
    """Peak of vLLM's profiling forward pass on one GPU: a max_num_batched_tokens batch through the widest layer
    (16-bit hidden states, QKV, gate+up and the activated FFN) plus fp32 logits for max_num_seqs sequences."""
    tokens, seqs = batch_defaults(device_bytes)
    d = model.hidden_size
    if model.moe is not None:
        ff = max(model.moe.expert_intermediate_size * model.moe.active, model.intermediate_size)
    else:
        ff = model.intermediate_size
    qkv = (model.n_heads + 2 * model.n_kv_heads) * model.head_dim
    widest = max(3 * ff // tp, qkv // tp) + 4 * d
    return tokens * widest * _SIXTEEN_BIT + seqs * model.vocab_size * 4


@record
class VllmPlan:
    memory: MemoryBreakdown
    placement: Placement
    tp: int
    pool_bytes_per_gpu: int
    max_concurrency: int
    seq_kv_bytes_per_gpu: int


def plan(model: Model, quant: Quant, machine: Machine, request: FitRequest) -> VllmPlan:
    """Memory per GPU under vLLM and how many sequences of `request.context` the KV pool holds."""
    e = _engine()
    gpus = [d for d in machine.devices if not d.unified and d.vendor != "apple"]
    w = vllm_weights(model, quant)
    n_total = model.n_layers + 1
    tp = tensor_parallel_size(model, len(gpus)) if gpus else 1
    seq_kv = sequence_kv_bytes(model, tp, request.context)
    if not gpus:
        why = "vLLM serves from discrete GPUs (CUDA/ROCm); none here" if not machine.devices else \
            "vLLM does not run on Apple or unified-memory GPUs: use --engine llamacpp"
        mem = MemoryBreakdown(w.total, seq_kv * request.n_parallel, 0, 0, bits_per_weight=_bpw(w))
        return VllmPlan(mem, Placement("no", 0, n_total, 0, 0, w.total, note=why), tp, 0, 0, seq_kv)
    dev = gpus[0]
    budget = int(dev.memory_bytes * float(e["gpu_memory_utilization"]))
    weights_gpu = -(-w.total // tp)
    act = activation_bytes(model, tp, dev.memory_bytes)
    graphs = int(e["cudagraph_bytes"])
    pool = budget - weights_gpu - act - graphs
    need = seq_kv * request.n_parallel
    # vLLM: num_blocks / blocks per request (kv_cache_utils.get_max_concurrency_for_kv_cache_config)
    conc = max(0, pool // seq_kv) if seq_kv else 0
    mem = MemoryBreakdown(
        weights_bytes=w.total,
        kv_cache_bytes=need * tp,
        compute_buffer_bytes=act * tp,
        runtime_bytes=graphs * tp,
        layer_bytes=w.per_layer,
        input_embedding_bytes=w.embedding,
        output_bytes=w.output,
        bits_per_weight=_bpw(w),
    )
    used_per_gpu = weights_gpu + act + graphs + need
    note = f"vLLM tensor parallel {tp} of {len(gpus)} GPUs" if tp != len(gpus) else ""
    if pool >= need:
        pl = Placement("gpu", n_total, n_total, used_per_gpu * tp, 0, 0, (used_per_gpu,) * tp, note=note)
    else:
        pl = Placement("no", 0, n_total, 0, 0, (need - pool) * tp, note=(
            note + "; " if note else "") + f"gpu_memory_utilization {e['gpu_memory_utilization']} leaves "
            f"{max(0, pool) / 2**30:.1f} GiB per GPU for KV, {need / 2**30:.1f} GiB needed")
    return VllmPlan(mem, pl, tp, max(0, pool), int(conc), seq_kv)


def _bpw(w: VllmWeights) -> float:
    return 8.0 * w.total / w.params if w.params else 0.0
