"""Memory beyond weights and KV: llama.cpp's compute buffer (the reserved worst-case graph) and the host-side
buffers (input embeddings, KQ mask, logits).
"""
from __future__ import annotations

from ..domain import FitRequest, Model
from .encoder import encoder_compute_bytes
from .memory_engine import _engine_rule, _pad, engine_params, kv_unified, parse_version, total_context
from .memory_kv import kv_cache_layers, kv_cells, uses_window


def _batch_and_kv_len(req: FitRequest) -> tuple[int, int]:
    """(tokens in the reserved micro-batch, KV length the graph is reserved for: the padded total context).

    With one KV stream (kv_unified) the reserved graph's attention spans every slot's cells. With a stream per slot
    (llama-server with an explicit -np) llama-graph.cpp's mask is [n_kv, n_tokens / n_stream, 1, n_stream], whose
    size by the source is the per-slot length times the micro-batch; we keep the total length anyway, because the two
    logs with slots read better with it: Qwen3-4B at 4 slots (85.01 MiB, -2.4%) and an Ollama 0.33.2 ministral-3 3B
    run with 2 streams (168.03 MiB: -2.4% with the total length, -11.9% with the per-slot one; engine_logs.yaml).
    """
    n_ctx = total_context(req)
    return min(req.n_ubatch, n_ctx), _pad(n_ctx, int(engine_params(req.engine)["kv_pad"]))


def reserved_outputs(req: FitRequest, model: Model | None = None) -> int:
    """Logit rows of the reserved prompt graph: min(n_ubatch, n_outputs_max).

    llama-server sets n_outputs_max = n_parallel x (1 + draft tokens) (server-context.cpp server_n_outputs_max,
    llama.cpp PR #23861); builds before it (and library callers leaving n_outputs_max = 0) reserve n_batch rows,
    i.e. a whole micro-batch of logits. data/engines.yaml `reserve_outputs` says which rule an engine follows; an
    Ollama layout release running `model` on its own engine reserves n_parallel rows (ollama_engine_runs).
    """
    ub, _ = _batch_and_kv_len(req)
    if _engine_rule(req, "reserve_outputs", "n_ubatch") == "n_parallel" or (
            model is not None and ollama_engine_runs(model, req)):
        return min(ub, req.n_parallel)
    return ub


def ollama_engine_runs(model: Model, req: FitRequest) -> bool:
    """Whether an Ollama layout release (0.11.11-0.29) runs `model` on its own engine (runner/ollamarunner), by
    data/engines.yaml `ollama.engine_archs` (fs/ggml OllamaEngineRequired at that release)."""
    spans = engine_params(req.engine).get("engine_archs", ())
    if not spans or not req.engine_version or _engine_rule(req, "memory_rule", "") != "layout":
        return False
    from .projector import ollama_arch

    name = ollama_arch(model)
    arch = {"gpt-oss": "gptoss"}.get(name, name)
    v = parse_version(req.engine_version)
    archs: list = []
    for r in spans:
        if parse_version(r["since"]) <= v:
            archs = r["archs"]
    return arch in archs


def swa_mask_cells(model: Model, req: FitRequest) -> int:
    """KV length of the second attention mask an iSWA graph reserves: llama-graph.cpp build_attn_inp_kv_iswa makes
    self_kq_mask_swa [n_kv of the sliding-window cache, n_tokens] (f32, and an f16 copy with flash attention) beside
    the full layers' mask, an input every sliding layer reads, so it is alive through every layer. 0 without cached
    sliding layers (estimate/memory_kv.py uses_window). The length is the SWA cache's cells (memory_kv.kv_cells), the
    total over the streams as for the full mask (_batch_and_kv_len)."""
    cached = kv_cache_layers(model)
    layer = next((i for i in range(model.n_layers) if cached[i] and uses_window(model, i)), None)
    if layer is None:
        return 0
    return kv_cells(model, layer, total_context(req), req.n_parallel, req.n_ubatch,
                    int(engine_params(req.engine)["kv_pad"]), kv_unified(req))


def compute_buffer_bytes(model: Model, req: FitRequest, *, n_outputs: int | None = None) -> int:
    """Peak scratch memory (one device) of a forward pass over a micro-batch of n_ubatch tokens, f32 activations.

    llama.cpp reserves the worst case at start-up (llama_context::sched_reserve -> graph_reserve: n_ubatch tokens,
    n_outputs = reserved_outputs(), n_kv = the whole cache) and the graph allocator reuses memory, so the buffer is
    the largest of three phases (llama-graph.cpp build_attn_mha, build_ffn, the output head):
    - attention: KQ scores n_kv x n_ubatch x n_heads f32 plus the mask (with flash attention: the mask, f32 + f16);
    - FFN: the layer input and its norm, gate, up and the fused GLU product (ggml_swiglu_split), while the KQ mask
      (f32, n_kv x n_ubatch), which every layer's attention reads, is still alive;
    - output: the last hidden states plus logits n_vocab x n_outputs (and the selected rows' hidden states).
    Reproduces the logged 258.50 / 560.00 / 2144.00 MiB of builds that reserved a micro-batch of logits (Llama-3-8B at
    n_ctx 512 / 8192, a Mistral-7B-class model at 32768, no flash attention) and 85.01 MiB (-2.4%) of a 2026 llama-server
    (Qwen3-4B, n_ctx 8192, 4 slots, flash attention), whose logits are 4 rows.
    `n_outputs` overrides the engine's rule (benchmarks replaying logs of older builds).
    """
    ub, n_kv = _batch_and_kv_len(req)
    encoder = encoder_compute_bytes(model, ub, req.flash_attention)
    if encoder is not None:  # BERT kinds: attention within the micro-batch, no logits (estimate/encoder.py)
        return encoder
    n_out = reserved_outputs(req, model) if n_outputs is None else min(n_outputs, ub)
    d = model.hidden_size
    swa = swa_mask_cells(model, req)
    if req.flash_attention:
        attention = 4 * ub * (1 + 4 * d) + 6 * (n_kv + swa) * ub
    else:
        attention = 4 * ub * (1 + 4 * d + n_kv * (1 + model.n_heads)) + 4 * swa * ub
    if model.moe is not None:
        n_ff = max(model.intermediate_size if model.moe.first_dense_layers or model.moe.moe_layer_step > 1 else 0,
                   model.moe.expert_intermediate_size * model.moe.active)
    else:
        n_ff = model.intermediate_size
    ffn = 4 * ub * (2 * d + 3 * n_ff) + 4 * (n_kv + swa) * ub
    output = 4 * ub * d + (4 * n_out * (d + model.vocab_size) if n_out < ub else 4 * ub * model.vocab_size)
    return max(attention, ffn, output)


def host_buffer_bytes(model: Model, req: FitRequest) -> int:
    """Host-side buffers: input embeddings and KQ mask for the micro-batch, and the logits output buffer."""
    ub, n_kv = _batch_and_kv_len(req)
    return 4 * ub * model.hidden_size + 4 * n_kv * ub + 4 * model.vocab_size * req.n_parallel
