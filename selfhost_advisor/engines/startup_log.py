"""What the engine's own start-up log should print for one fit option: the figures a user can check the estimate on.

Why: users compare `fit` with what their engine logs, and the engine logs its buffers in its own units and names, not
our GB columns. Each format is the log lines as the engine writes them (read from the sources named below); the
numbers are the option's MemoryBreakdown, nothing re-estimated here. A format where we cannot say (a partial offload's
per-device split, an engine without a memory log) gives no lines.
- llamacpp: load_tensors "<dev> model buffer size", "CPU_Mapped model buffer size" (token_embd stays in host memory),
  llama_kv_cache "<dev> KV buffer size", llama_memory_recurrent "<dev> RS buffer size", sched_reserve / llama_context
  "<dev> compute buffer size" (MiB, two decimals); the CUDA context is not printed by llama.cpp.
- vllm: gpu_model_runner "Model loading took X GiB", gpu_worker "Available KV cache memory: X GiB", kv_cache_utils
  "GPU KV cache size: N tokens" (per GPU; the token count is the pool's).
"""
from __future__ import annotations

from ..domain import FitOption, Machine, Model

MIB = 2**20
GIB = 2**30
# llama.cpp's device names; not Metal, whose mmap'd buffer maps the file's whole tensor range (not split out here)
_DEVICE = {"cuda": "CUDA0", "rocm": "ROCm0", "hip": "ROCm0", "vulkan": "Vulkan0", "sycl": "SYCL0"}


def _mib(n: int) -> str:
    return f"{n / MIB:.2f} MiB"  # llama.cpp prints %.2f, no thousands separator


def llamacpp_lines(model: Model, opt: FitOption, machine: Machine) -> tuple[str, ...]:
    """llama.cpp's buffer lines for a full offload onto one GPU (the per-device split of several is llama.cpp's own
    layer assignment, which the totals here do not give). The GPU's model buffer is every weight but token_embd, which
    stays in host memory (CPU_Mapped), plus, for tied embeddings, the copy of it llama.cpp loads as the output head
    (estimate/memory.py); a per-layer embedding table (Gemma 3n / 4 E-series) is host memory too and not split out of
    input_embedding_bytes here, so those models get no lines."""
    mem, pl = opt.memory, opt.placement
    gpus = [b for b in pl.per_device_bytes if b > 0] or ([pl.gpu_bytes] if pl.gpu_bytes else [])
    if (pl.fit != "gpu" or pl.cpu_moe_layers or not machine.devices or len(gpus) > 1
            or getattr(model, "altup", None) is not None or machine.devices[0].backend not in _DEVICE):
        return ()
    dev = _DEVICE[machine.devices[0].backend]
    kv = mem.kv_cache_bytes - mem.state_bytes
    gpu_weights = mem.weights_bytes - (0 if model.tied_embeddings else mem.input_embedding_bytes)
    out = [f"{dev} model buffer size = {_mib(gpu_weights)}"]
    if mem.input_embedding_bytes:
        out.append(f"CPU_Mapped model buffer size = {_mib(mem.input_embedding_bytes)}")
    if kv:
        out.append(f"{dev} KV buffer size = {_mib(kv)}")
    if mem.state_bytes:
        out.append(f"{dev} RS buffer size = {_mib(mem.state_bytes)}")
    out.append(f"{dev} compute buffer size = {_mib(mem.compute_buffer_bytes)}")
    return tuple(out)


def vllm_lines(model: Model, opt: FitOption, machine: Machine) -> tuple[str, ...]:
    """vLLM's three memory lines, per GPU of the tensor-parallel group."""
    mem, pl = opt.memory, opt.placement
    if pl.fit != "gpu" or mem.kv_pool_bytes is None:
        return ()
    from ..estimate.vllm_weights import per_gpu_bytes, vllm_weights

    tp = max(1, len([b for b in pl.per_device_bytes if b > 0]))
    # the matrices vLLM keeps whole on every TP rank are on each GPU in full (vllm_weights.tp_whole)
    whole = sum(vllm_weights(model, opt.quant).whole) if tp > 1 else 0
    out = [f"Model loading took {per_gpu_bytes(mem.weights_bytes, whole, tp) / GIB:.2f} GiB",
           f"Available KV cache memory: {mem.kv_pool_bytes / GIB:.2f} GiB"]
    if mem.kv_pool_tokens:
        out.append(f"GPU KV cache size: {mem.kv_pool_tokens:,} tokens")
    return tuple(out)


FORMATS = {"llamacpp": llamacpp_lines, "vllm": vllm_lines}


def lines(fmt: str, model: Model, opt: FitOption, machine: Machine) -> tuple[str, ...]:
    """The lines of format `fmt` (data/engines.yaml startup_log) for one option; () for an unknown or empty format."""
    fn = FORMATS.get(fmt)
    return fn(model, opt, machine) if fn else ()
