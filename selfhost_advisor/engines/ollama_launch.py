"""What Ollama 0.30+ decides before it starts llama-server: the -b/-ub batch and whether one GPU takes the model.

Why it matters: the micro-batch sets llama.cpp's compute buffer (and the sliding-window cells), and from 0.15.5 the
default context is 32k or 256k tokens on 24 GB+ cards, so Ollama's automatic batch is 1024 or 2048, not 512; and a
model that fits one of several GPUs runs on that GPU alone. Rules and constants: data/engines.yaml `ollama.launch`
(ollama/ollama server/sched.go automaticGenerationBatch, selectLlamaServerPlacement; llm/llama_server.go
PredictServerVRAM, read at v0.33.0-rc2).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog.data import load
from ..estimate.memory import weights

if TYPE_CHECKING:
    from ..domain import Device, FitRequest, Machine, Model, Quant


def predicted_vram(model: Model, quant: Quant, effective_context: int) -> int:
    """PredictServerVRAM: the GGUF file (our per-tensor weights) + an f16 KV cache of 2 x layers x min KV heads x
    (n_embd / n_head) x the effective context (num_ctx x parallel). Ollama's deliberately rough figure, not ours."""
    heads = [model.layer_kv_heads(i) for i in range(model.n_layers)] or [model.n_kv_heads]
    kv_heads = min(heads) or 1
    head_dim = model.hidden_size // max(1, model.n_heads)
    return weights(model, quant).total_bytes + 2 * model.n_layers * kv_heads * head_dim * effective_context * 2


def _rules() -> dict:
    return load("engines")["engines"]["ollama"]["launch"]


def available_bytes(d: Device, context_bytes: int) -> int:
    """The free memory Ollama reads for a GPU (llama-server's device listing; what it logs as memory.available): the
    probed free memory, else the card less a CUDA context (an idle card; Metal: its working-set limit)."""
    if d.free_memory_bytes is not None:
        return int(d.free_memory_bytes)
    base = d.usable_memory_bytes if d.usable_memory_bytes is not None else d.memory_bytes
    return max(0, base - (0 if d.backend == "metal" else context_bytes))


def single_gpu(machine: Machine, predicted: int, context_bytes: int) -> int | None:
    """Index of the GPU Ollama runs the model on alone (bestSingleGPUFit: the most free memory, the prediction within
    fit_share of it), or None (one GPU, or it does not fit one: the whole group, llama-server's split)."""
    if len(machine.devices) < 2:
        return None
    share = float(_rules()["fit_share"])
    free = [available_bytes(d, context_bytes) for d in machine.devices]
    best = max(range(len(free)), key=lambda i: free[i])
    return best if predicted <= share * free[best] else None


def auto_batch(model: Model, request: FitRequest, predicted: int, available: int, backends: tuple[str, ...]) -> int:
    """The -b/-ub Ollama passes (automaticGenerationBatch; embedding models: min(2048, num_ctx))."""
    r = _rules()
    if "embedding" in model.use_cases:
        return min(int(r["embedding_batch"]), request.context)
    effective = request.context * request.n_parallel
    if not request.flash_attention and "cuda" in backends:
        return int(r["cuda_no_fa_batch"])  # (the 256 tier needs a <= 8 GiB CUDA card and > 4096 tokens: below)
    batch = next(int(b) for above, b in r["batch_tiers"] if effective > int(above))
    fit = float(r["fit_share"]) * available
    share = {int(k): float(v) for k, v in r["headroom_share"].items()}
    surcharge = {int(k): int(v) for k, v in r["surcharge_bytes"].items()}
    while batch > 512 and available and not (
            predicted <= fit and predicted <= share[batch] * available and surcharge[batch] <= fit - predicted):
        batch = 1024 if batch > 1024 else 512
    return batch


def smallest_batch() -> int:
    """The smallest -b/-ub Ollama ever picks by itself (auto_batch's last tier, the constrained CUDA one): with it a
    slot count needs the least compute buffer, so the slots that fit at it bound what fits at any automatic batch."""
    r = _rules()
    return min(min(int(b) for _, b in r["batch_tiers"]), int(r["cuda_no_fa_small_batch"]), int(r["cuda_no_fa_batch"]))


def cuda_no_fa_batch(request: FitRequest, devices: tuple[Device, ...], context_bytes: int) -> int | None:
    """With flash attention off on CUDA: 256 when the effective context passes 4096 and a CUDA GPU has at most 8 GiB
    (constrainedCUDAWithoutFlashAttention), else None (auto_batch's 512)."""
    r = _rules()
    if request.flash_attention or request.context * request.n_parallel <= int(r["cuda_no_fa_small_context"]):
        return None
    small = any(d.backend == "cuda" and 0 < min(d.memory_bytes, available_bytes(d, context_bytes) or d.memory_bytes)
                <= int(r["cuda_no_fa_small_gpu_bytes"]) for d in devices)
    return int(r["cuda_no_fa_small_batch"]) if small else None


def launch(model: Model, quant: Quant, machine: Machine, request: FitRequest,
           context_bytes: int) -> tuple[int | None, int]:
    """(the GPU Ollama runs the model on alone or None, the -ub it passes) for one weight format."""
    predicted = predicted_vram(model, quant, request.context * request.n_parallel)
    gpu = single_gpu(machine, predicted, context_bytes)
    devices = (machine.devices[gpu],) if gpu is not None else machine.devices
    available = sum(available_bytes(d, context_bytes) for d in devices)
    backends = tuple(d.backend for d in devices)
    batch = cuda_no_fa_batch(request, devices, context_bytes) if "embedding" not in model.use_cases else None
    return gpu, batch or auto_batch(model, request, predicted, available, backends)
