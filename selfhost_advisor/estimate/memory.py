"""Memory an LLM needs at run time: weights (per tensor), KV cache, compute buffer, runtime overhead.

Formulas and their sources are in docs/methodology.md; each function's docstring names the upstream code.

Split by concern: memory_weights (weights per tensor), memory_kv (KV cache and recurrent state), memory_overhead
(compute and host buffers), memory_engine (what is read of each engine's record); this module combines them. The
names other modules and tests import from here are re-exported.
"""
from __future__ import annotations

from ..domain import FitRequest, MemoryBreakdown, Model, Quant
from .memory_engine import runtime_bytes
from .memory_kv import kv_cache_bytes, state_bytes
from .memory_overhead import compute_buffer_bytes, host_buffer_bytes
from .memory_weights import weights

# Re-exported: what other modules, scripts and tests import from estimate.memory (one definition each, where it lives).
from .memory_engine import (_engine_rule, _engines, _pad, engine_params, kv_type, kv_unified,  # noqa: F401
                            total_context)
from .memory_kv import (_SWA_IGNORED_ARCHS, _shares_kv, caches_kv, cross_attention_kv_bytes,  # noqa: F401
                        indexer_bytes_per_cell, indexer_bytes_per_token_fp8, kv_bytes_per_cell, kv_cache_layers,
                        kv_cells, layer_kv_bytes_per_cell, recurrent_state_bytes, uses_window)
from .memory_overhead import _batch_and_kv_len, reserved_outputs  # noqa: F401
from .memory_weights import (Weights, _Block, _Sums, _bytes, _past_trunk, _template_facts,  # noqa: F401
                             bytes_per_type, layer_weights_floor, weights_by_tensor)
from .quantize import ggml_types  # noqa: F401


def estimate_memory(model: Model, quant: Quant, req: FitRequest, *, n_gpus: int = 1, backend: str = "cuda") -> MemoryBreakdown:
    """Weights, KV cache and overhead of `model` at `quant` under `req`, each in bytes."""
    w = weights(model, quant)
    kv_total, kv_layers = kv_cache_bytes(model, req)
    host = host_buffer_bytes(model, req)
    input_embd, output = w.input_embedding_bytes + w.per_layer_embedding_bytes, w.other_bytes
    if model.tied_embeddings:
        output += w.input_embedding_bytes  # llama.cpp duplicates the tied matrix as the output head on the GPU
    return MemoryBreakdown(
        weights_bytes=w.total_bytes,
        kv_cache_bytes=kv_total,
        state_bytes=state_bytes(model, req),
        compute_buffer_bytes=compute_buffer_bytes(model, req),
        runtime_bytes=runtime_bytes(n_gpus, backend) + host,
        host_bytes=host,
        input_embedding_bytes=input_embd,
        output_bytes=output,
        layer_bytes=tuple(lw + k for lw, k in zip(w.layer_bytes, kv_layers)),
        bits_per_weight=8.0 * w.total_bytes / w.params if w.params else 0.0,
    )


__all__ = ["weights", "Weights", "estimate_memory", "kv_cache_bytes", "compute_buffer_bytes", "weights_by_tensor", "ggml_types"]
