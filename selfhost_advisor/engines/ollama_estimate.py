"""Ollama's own memory estimate and layer choice before it measured allocations (releases up to 0.11.10).

Why reproduce an estimate rather than the allocations: those Ollama releases decided how many layers go to the GPU
(the runner's --n-gpu-layers) from this estimate, and logged it as `msg=offload ... memory.required.full=...`; what
the user sees (layers offloaded, "100% GPU" or a CPU/GPU split in `ollama ps`) follows from it, not from what
llama.cpp then allocates. Source, read at ollama/ollama tag v0.11.10 (unchanged in structure since v0.1.32):
- llm/memory.go estimateGPULayers: per GPU a minimum of 457 MiB (CUDA/ROCm; Metal 512 MiB; discover/gpu.go) plus
  OLLAMA_GPU_OVERHEAD, one extra layer (blk.0 + its KV) as a buffer, the graph (full or partial offload size), then
  whole layers from the last block down (first block up before v0.7.0) while they fit, then the output layer; a GPU
  must hold the overhead, the
  minimum, the graph and two layers to be used at all. `memory.required.full` = every allocation + what overflowed.
- fs/ggml/ggml.go GraphSize: KV per layer = ctx x parallel x (k + v head dims) x kv heads x bytes (no padding;
  gemma3's sliding layers hold parallel x window + batch since v0.6.3) and the compute graph by architecture
  (the formulas below, copied term by term; architectures without one: GQA x KV / 6).
- VisionGraphSize (Ollama-engine vision models, v0.6.0+): the vision tower's weights and an image's graph.
"""
from __future__ import annotations

from dataclasses import dataclass

MIB = 2**20
MINIMUM_MEMORY = {"cuda": 457 * MIB, "rocm": 457 * MIB, "metal": 512 * MIB, "cpu": 0}  # discover/gpu.go
KV_BYTES = {"f16": 2.0, "q8_0": 1.0, "q4_0": 0.5, "f32": 4.0}  # ggml.go kvCacheBytesPerElement


@dataclass(frozen=True, slots=True)
class OllamaEstimate:
    """The fields of Ollama's `msg=offload` log line, in bytes (llm/memory.go MemoryEstimate.LogValue)."""

    layers: int  # layers.offload
    total_layers: int  # layers.model: blocks + the output layer
    full_bytes: int  # memory.required.full
    partial_bytes: int  # memory.required.partial: what goes on the GPUs
    kv_bytes: int  # memory.required.kv
    weights_repeating_bytes: int
    weights_nonrepeating_bytes: int
    graph_full_bytes: int
    graph_partial_bytes: int
    projector_weights_bytes: int
    projector_graph_bytes: int
    allocations: tuple[int, ...]  # memory.required.allocations, per GPU
    split: tuple[int, ...]  # layers.split, per GPU
    weights_logged_bytes: int = 0  # memory.weights.total as the release logs it (see estimate())
    output_device: int | None = None  # the GPU that took the output layer (layers.split counts it)


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.split("-")[0].lstrip("v").split(".") if p.isascii() and p.isdigit())


def graph_size(model, ctx: int, batch: int, n_parallel: int, kv_type: str, flash_attention: bool,
               version: str = "0.11.10", gate_exps_bytes: int = 0, arch: str = "") -> tuple[list[int], int, int]:
    """(KV bytes per layer, partial-offload graph, full-offload graph) as fs/ggml/ggml.go GraphSize computes them.

    `ctx` is num_ctx per sequence; the estimate multiplies it by the parallel slots. Head sizes follow the GGUF
    keys Ollama reads: EmbeddingHeadCountK/V = attention.key_length (head_dim), embeddingHeads = n_embd / n_head.
    """
    context = ctx * n_parallel
    emb, heads, heads_kv, vocab = model.hidden_size, model.n_heads, model.n_kv_heads, model.vocab_size
    head_k = head_v = model.global_head_dim or model.head_dim  # Gemma 4 GGUFs: key_length is the full layers' 512
    emb_heads = emb // heads if heads else 0
    bpe = KV_BYTES.get(kv_type, 2.0)
    if model.mla is not None:  # deepseek2 GGUFs: key_length = nope + rope dims, value_length = v head dim
        head_k = model.mla.qk_nope_head_dim + model.mla.qk_rope_head_dim
        head_v = model.mla.v_head_dim
    kv = [int(context * (head_k + head_v) * heads_kv * bpe) if model.has_attention(i) else _recurrent(model)
          for i in range(model.n_layers)]
    arch = arch or model.arch
    full = partial = 0
    if arch in ("llama", "llama4"):
        full = 4 * batch * (1 + 4 * emb + context * (1 + heads))
        if _version(version) >= (0, 3, 10):  # commit 2003d6015 added the logits term to the full-offload graph
            full = max(full, 4 * batch * (emb + vocab))
        partial = 4 * batch * emb + max(
            4 * batch * (1 + emb + max(context, emb)) + emb * emb * 9 // 16
            + 4 * context * (batch * heads + emb_heads * heads_kv),
            4 * batch * (emb + vocab) + emb * vocab * 105 // 128)
        if model.moe is not None and gate_exps_bytes:  # "mixtral 8x22b": merged expert tensors
            ff = model.intermediate_size
            partial = max(3 * gate_exps_bytes + 4 * batch * (2 * ff + heads_kv + emb + context + emb_heads * heads_kv),
                          4 * (context * batch * heads + context * emb_heads * heads_kv + batch * 1024
                               + emb_heads * heads_kv * batch))
    elif arch in ("gemma", "gemma2", "gemma3", "gemma3n"):
        full = max(4 * batch * (emb + vocab),
                   4 * batch * (2 + context + context * heads + 2 * emb + 2 * head_k * heads))
        partial = max(4 * emb * batch + emb * vocab * 105 // 128 + 4 * vocab * batch,
                      4 * batch * (2 * emb + 1 + 2 * head_k * heads + context + context * heads)
                      + 4 * head_k * context * 8 + emb * head_k * heads * 9 // 16)
        if arch == "gemma3n":
            full, partial = full * 4, partial * 4
        if arch == "gemma3" and _version(version) >= (0, 6, 3) and model.sliding_window:
            window = n_parallel * model.sliding_window + batch
            kv = [k if (i + 1) % 6 == 0 else int(window * (head_k + head_v) * heads_kv * bpe) for i, k in enumerate(kv)]
    elif arch == "mllama":  # cross-attention layers: one image's K/V in f32, 1601 patches x 4 tiles, whatever num_ctx
        tokens = model.cross_attention_tokens
        kv = [heads_kv * (head_k + head_v) * 4 * tokens if model.layer_kind(i) == "X" else k for i, k in enumerate(kv)]
        full = max(4 * batch * (2 + 3 * emb + head_k * heads + context * (1 + heads)), 4 * batch * (emb + vocab))
        rope_freqs = head_k // 2  # the rope_freqs tensor's elements
        partial = max(4 * (batch * (2 * emb + 1 + context * (1 + heads) + head_k * heads) + rope_freqs
                           + head_k * context * heads_kv),
                      4 * batch * (emb + vocab) + emb * vocab * 105 // 128)
    elif arch == "command-r":
        full = max(4 * batch * (emb + vocab), 4 * batch * (2 + 4 * emb + context * (1 + heads)))
        partial = max(4 * batch * (emb + vocab) + emb * vocab * 105 // 128,
                      4 * batch * (1 + 2 * emb + context * (1 + heads)) + 4 * emb * context + emb * emb * 9 // 16)
    elif arch == "qwen2":
        full = max(4 * batch * (emb + vocab), 4 * batch * (1 + 2 * emb + context + context * heads))
        partial = max(4 * batch * (emb + vocab) + emb * vocab * 105 // 128,
                      4 * (batch * (1 + 2 * emb + context * (1 + heads)) + emb * (1 + context)))
    elif arch == "phi2":
        full = max(4 * batch * (emb + vocab), 4 * batch * (1 + 4 * emb + context + context * heads))
        partial = max(4 * batch * (2 * emb + vocab) + emb * vocab * 105 // 128,
                      4 * batch * (2 + 3 * emb + context + context * heads))
    elif arch == "stablelm":
        full = 4 * batch * (context * (1 + heads) + 3 * emb + 2)
        partial = max(4 * batch * (vocab + 2 * emb), full)
    elif arch == "deepseek2":
        full = max(4 * batch * (3 * emb + vocab),
                   4 * batch * (3 * emb + 2 + context * (1 + heads_kv) + 2 * head_k * heads_kv))
        partial = max(4 * batch * (3 * emb + vocab) + emb * vocab * 105 // 128,
                      4 * batch * (2 * emb + 1 + 2 * head_k * heads_kv + context + context * heads_kv)
                      + 4 * head_k * context * heads_kv + emb * head_k * heads_kv * 9 // 16)
    elif arch in ("gptoss", "gpt-oss") and _version(version) >= (0, 11, 0):
        kv_total = sum(kv)
        kv = [int((head_k + head_v) * heads_kv * bpe) * ((n_parallel * 4096 + batch) if i % 2 == 0 else context)
              for i in range(model.n_layers)]
        if _version(version) >= (0, 11, 5):
            partial = 2 * heads // max(heads_kv, 1) * kv_total // 6
            if flash_attention:
                partial = (4 * n_parallel + (context >> 10) + 110) * MIB
        else:  # v0.11.0-0.11.4 ggml.go: fullOffload = 4 x heads / KV heads x kvTotal / 6; partial 2 x full until 0.11.3
            full = 4 * heads // max(heads_kv, 1) * kv_total // 6
            partial = 2 * full if _version(version) < (0, 11, 3) else full
    if partial == 0:  # memory.go: no formula for this architecture
        partial = heads // max(heads_kv, 1) * sum(kv) // 6
    if full == 0:
        full = partial
    return kv, partial, full


def _recurrent(model) -> int:
    """A recurrent layer's state in the estimate (one sequence, f32; ggml.go since v0.11.11)."""
    s = model.ssm
    if s is None:
        return 0
    r = (s.d_conv - 1) * (s.d_inner + 2 * s.n_group * s.d_state) if s.d_conv else 0
    return (r + s.d_state * s.d_inner) * 4


def estimate(model, quant, devices: list[tuple[int, str]], *, num_ctx: int, n_parallel: int = 1, batch: int = 512,
             kv_type: str = "f16", flash_attention: bool = False, gpu_overhead: int = 0, num_gpu: int = -1,
             projector: tuple[int, int, bool] = (0, 0, False), version: str = "0.11.10") -> OllamaEstimate:
    """llm/memory.go estimateGPULayers for `devices` [(free bytes, library)] (a CPU-only run: [(RAM, "cpu")]).

    projector = (weights, graph, separate file): a separate --mmproj file (llama engine) sits on GPU 0 with the
    fixed overhead; a vision tower inside the model (Ollama engine) travels with the output layer.
    """
    from ..estimate.memory import weights
    from .ollama_blob import blob_model

    model = blob_model(model, quant, first_upload=True)  # the library file these releases logged (gpt-oss's first upload)
    w = weights(model, quant)
    kv_type = kv_type if flash_attention and kv_type in ("q8_0", "q4_0") else "f16"  # quantized KV needs FA
    gate_exps = _gate_exps_bytes(model, quant) if model.moe is not None else 0
    from ..estimate.projector import ollama_arch

    kv, g_partial, g_full = graph_size(model, num_ctx, min(num_ctx, batch), n_parallel, kv_type, flash_attention,
                                       version, gate_exps, ollama_arch(model))
    proj_w, proj_g, separate = projector
    if _version(version) < (0, 7, 1):  # before commit d75557747: every projector (weights + graph) on GPU 0
        llama_proj, ollama_proj_w, ollama_proj_g = proj_w + proj_g, 0, 0
    else:
        llama_proj = proj_w if separate else 0
        ollama_proj_w, ollama_proj_g = (0, 0) if separate else (proj_w, proj_g)
    libs = {lib for _, lib in devices}
    if "metal" in libs:
        g_partial = g_full
    elif len(devices) > 1:
        g_full = g_partial
    output = 4 * model.hidden_size + w.output_head_bytes  # output_norm (f32) + output, or the tied token_embd
    n_blocks = model.n_layers
    layer_size = (w.layer_bytes[0] + kv[0]) if n_blocks else 0
    graph_max = max(g_partial, g_full)
    allocations = [0] * len(devices)
    split = [0] * len(devices)
    with_space: list[int] = []
    for i, (free, lib) in enumerate(devices):
        gzo = llama_proj if not with_space else 0
        minimum = MINIMUM_MEMORY.get(lib, MINIMUM_MEMORY["cuda"])
        if free < gpu_overhead + gzo + graph_max + minimum + 2 * layer_size:
            continue
        with_space.append(i)
        allocations[i] += minimum + layer_size
    overflow = 0
    if with_space:
        allocations[with_space[0]] += llama_proj
    else:
        overflow += llama_proj
    count = 0
    # from v0.7.0 (commit 0478d440f) the last block is placed first; before, the first, and the blocks that did not
    # fit overflowed as (blocks left) x the last block's size
    descending = _version(version) >= (0, 7, 0)
    for i in (range(n_blocks - 1, -1, -1) if descending else range(n_blocks)):
        layer_size = w.layer_bytes[i] + kv[i]
        if 0 <= num_gpu <= count:
            overflow += layer_size if descending else 0
            continue
        j = len(with_space)
        while j > 0:
            g = with_space[i % j]
            if devices[g][0] > gpu_overhead + allocations[g] + graph_max + layer_size:
                allocations[g] += layer_size
                split[g] += 1
                count += 1
                break
            with_space.pop(i % j)
            j -= 1
        if not with_space and descending:
            overflow += layer_size
    if not descending:
        overflow += (n_blocks - count) * layer_size
    fully = count >= n_blocks
    last = output + ollama_proj_w + ollama_proj_g
    output_device = None
    if num_gpu < 0 or count < num_gpu:
        for j in range(len(with_space), 0, -1):
            g = with_space[count % j]
            if devices[g][0] > gpu_overhead + allocations[g] + graph_max + last:
                allocations[g] += last
                split[g] += 1
                count += 1
                output_device = g
                break
    if count < n_blocks + 1:
        fully = False
        overflow += last
    for i in range(len(devices)):
        if split[i] > 0:
            allocations[i] += g_full if fully else g_partial
    partial_bytes = sum(allocations)
    full_bytes = partial_bytes + overflow
    if devices and devices[0][1] == "cpu":  # memory.go returns before recording layers for a CPU-only run
        count, partial_bytes = 0, 0
    # memory.weights.total: before v0.6.1 (commit 033cec232) the sum of every block with its KV, output excluded;
    # since, the blocks alone plus the output layer
    logged_w = (sum(w.layer_bytes) + sum(kv) if _version(version) < (0, 6, 1)
                else sum(w.layer_bytes) + output)
    return OllamaEstimate(
        weights_logged_bytes=logged_w, output_device=output_device,
        layers=count, total_layers=n_blocks + 1, full_bytes=full_bytes,
        partial_bytes=partial_bytes, kv_bytes=sum(kv), weights_repeating_bytes=sum(w.layer_bytes),
        weights_nonrepeating_bytes=output, graph_full_bytes=g_full, graph_partial_bytes=g_partial,
        projector_weights_bytes=proj_w, projector_graph_bytes=proj_g, allocations=tuple(allocations),
        split=tuple(split))


def _gate_exps_bytes(model, quant) -> int:
    """Bytes of blk.0.ffn_gate_exps.weight (the merged-expert formula of the llama branch reads its size)."""
    from ..estimate.memory import weights_by_tensor

    return next((b for t, _, b in weights_by_tensor(model, quant) if t.name == "blk.0.ffn_gate_exps.weight"), 0)
