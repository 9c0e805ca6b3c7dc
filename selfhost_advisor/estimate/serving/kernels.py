"""Kernels a vLLM decode step launches beyond the Llama layers its overhead was fitted on.

Why: data/serving.yaml layer_overhead_us is the time a published single-stream Llama step spends above its roofline,
per layer (scripts/fit_serving.py). A Llama layer launches llama_layer kernels (data/serving.yaml kernel_counts, read
off vLLM's models/llama.py), so the fit is layer_overhead_us / llama_layer per kernel: the launch-to-launch time of a
small kernel in a CUDA-graph replay (benchmark_moe.py's fused-MoE timings give the same size, moe_step.py: ~37 us
for its 6-7 kernels). A multi-head latent attention block (DeepSeek V2/V3/R1, Kimi K2, ...) runs
mla_attention_block kernels in decode where a Llama attention block runs llama_attention_block: the latent
projections and their norms, the W_UK / W_UV absorptions around the latent attention, its split-KV combine. A DSA
layer (DeepSeek-V3.2, GLM-5) runs the lightning indexer's dsa_indexer kernels on top. A MoE block launches
moe_block[arch] kernels outside its fused_moe call (norm, router, a shared expert, its combine) where the Llama-layer
charge gives it a Llama MLP block's 4 (a Nemotron-H block half a Llama layer's, 5): moe_extra_kernels. Each extra
kernel costs the fitted per-kernel time; nothing is fitted here.
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Model


def _counts() -> dict:
    return load("serving")["vllm"]["kernel_counts"]


def kernel_counts() -> dict:
    """data/serving.yaml kernel_counts (the kernels vLLM launches per layer and block, read off its model code)."""
    return _counts()


def kernel_us() -> float:
    """The fitted overhead per kernel: layer_overhead_us over a Llama layer's kernels."""
    return float(load("serving")["vllm"]["layer_overhead_us"]) / float(_counts()["llama_layer"])


@lru_cache(maxsize=256)
def extra_kernels(model: Model) -> int:
    """Kernels per decode step beyond the residual blocks' Llama count: MLA attention blocks' surplus over a Llama
    attention block, and every indexer layer's lightning indexer (0 for a model with neither)."""
    if model.mla is None:
        return 0
    c = _counts()
    mla = c["mla_attention_block"]["q_lora" if model.mla.q_lora_rank else "no_q_lora"]
    extra = model.n_layers * (int(mla) - int(c["llama_attention_block"]))
    dsa = getattr(model, "dsa", None)
    if dsa is not None:
        extra += sum(dsa.has_indexer(i, model.n_layers) for i in range(model.n_layers)) * int(c["dsa_indexer"])
    return extra


@lru_cache(maxsize=256)
def moe_extra_kernels(model: Model) -> int:
    """Kernels per decode step the MoE blocks launch outside fused_moe beyond what the residual-block charge gives
    them (negative where fewer: Qwen3-MoE's norm and router against a Llama MLP's 4); 0 for a dense model or an
    arch whose MoE block is not counted (data/serving.yaml kernel_counts.moe_block)."""
    if model.moe is None:
        return 0
    c = _counts()
    count = c.get("moe_block", {}).get(model.arch)
    if count is None:
        return 0
    from ..arch_traits import SINGLE_KIND_ARCHS
    from .moe_step import moe_layers

    charged = (int(c["llama_layer"]) // 2 if model.arch in SINGLE_KIND_ARCHS
               else int(c["llama_layer"]) - int(c["llama_attention_block"]))
    return moe_layers(model) * (int(count) - charged)


def extra_kernel_seconds(model: Model) -> float:
    """Per step: the extra kernels (attention blocks and MoE blocks) at the fitted per-kernel time."""
    n = extra_kernels(model) + moe_extra_kernels(model)
    return n * kernel_us() * 1e-6 if n else 0.0

