"""The generic MUL_MAT_ID path of ggml-cuda: quantized experts that MMQ does not take (compute capability below 6.1,
Volta from 64 tokens, builds before MMQ was the default) are multiplied one touched expert at a time through cuBLAS.

Why: ggml-cuda.cu ggml_cuda_mul_mat_id (ggml-org/ggml 8e80c1d0, 2025-08-26, and d99724f, 2026-08-21, alike), when
ggml_cuda_should_use_mmq(type, cc, tokens) refuses the micro-batch, copies the ids to the host and synchronizes,
sorts the token-expert pairs in the host loop moe_host_sort.loop_iterations counts, copies them back and synchronizes
again, gathers the routed rows, then calls ggml_cuda_mul_mat on each touched expert's slice. That call picks the
expert's own kernel by its own token count: where it is cuBLAS (cuda_path.quant_path for those tokens) the expert's
whole matrix is converted to FP16 before the GEMM. So per micro-batch the conversion reads and writes every touched
expert whole, where cuda_path.dequant_seconds charges the routed share a token carries (docs/methodology.md 5c-s27).
"""
from __future__ import annotations

import math
from functools import lru_cache

from ..domain import Model
from .speed_work import TokenWork


def takes_generic_path(device, n_tokens: int) -> bool:
    """Whether a quantized MUL_MAT_ID of n_tokens (2+) takes ggml_cuda_mul_mat_id's generic path on this NVIDIA GPU."""
    from . import cuda_path

    return (n_tokens >= 2 and device.backend == "cuda" and device.vendor == "nvidia"
            and cuda_path.quant_path(device, n_tokens) == "cublas")


def cublas_share(device, n_tokens: int, n_expert: int, n_used: int) -> float:
    """Share of the touched experts whose own slice goes to cuBLAS: an expert's token count is Binomial(n_tokens,
    n_used / n_expert) (each token picks it with that chance), and quant_path at that count decides its kernel (Volta:
    MMQ below 64 tokens; below compute capability 6.1: cuBLAS always)."""
    from . import cuda_path

    cut = next((t for t in range(1, n_tokens + 1) if cuda_path.quant_path(device, t) == "cublas"), None)
    if cut is None:
        return 0.0
    return _tail_share(n_tokens, min(1.0, n_used / n_expert), cut)


@lru_cache(maxsize=4096)
def _tail_share(n: int, p: float, cut: int) -> float:
    """P(X >= cut | X >= 1) for X ~ Binomial(n, p)."""
    if p >= 1.0:
        return 1.0
    log_q = math.log1p(-p)
    touched = -math.expm1(n * log_q)  # P(X >= 1)
    if touched <= 0.0:
        return 0.0
    below = 0.0  # P(1 <= X < cut)
    log_p = math.log(p)
    for t in range(1, min(cut, n + 1)):
        log_comb = math.lgamma(n + 1) - math.lgamma(t + 1) - math.lgamma(n - t + 1)
        below += math.exp(log_comb + t * log_p + (n - t) * log_q)
    return max(0.0, touched - below) / touched


def seconds_per_microbatch(model: Model, work: TokenWork, device, n_tokens: int, bandwidth: float | None) -> float:
    """Seconds a micro-batch of n_tokens spends beyond what the cuBLAS path's dense terms charge, summed over the MoE
    layers: per MUL_MAT_ID the host sort (moe_host_sort's round trips and loop, data/speed.yaml moe_host_sort), and the
    FP16 conversion of every touched expert that cuBLAS takes, whole, less the routed share already charged, over
    `bandwidth`. 0 off the generic path, for float experts (not converted; not priced here) and without a bandwidth."""
    if model.moe is None or not work.layer_expert_matrices or not takes_generic_path(device, n_tokens):
        return 0.0
    from .kernel_path import converted_bytes
    from .moe_batch import touched_share
    from .moe_graphs import float_experts
    from .moe_host_sort import _rule, loop_iterations
    from .tensors import fused_gate_up_experts

    if float_experts(work):
        return 0.0
    rule = _rule()
    per_layer = 2 if fused_gate_up_experts(model) else 3
    moe_layers = sum(1 for i in range(model.n_layers) if model.is_moe_layer(i))
    n_expert, n_used = model.moe.experts, model.moe.active
    sort = 0.0
    if rule:
        sort = moe_layers * per_layer * (float(rule["round_trips"]) * float(rule["copy_s"])
                                         + float(rule["iteration_s"]) * loop_iterations(n_tokens, n_expert, n_used))
    if not bandwidth:
        return sort
    routed = sum(converted_bytes(mats, 2) for mats in work.layer_expert_matrices)  # a token's routed share, all layers
    whole = routed * n_expert / n_used  # every expert of every layer
    touched = touched_share(n_tokens, n_expert, n_used) * cublas_share(device, n_tokens, n_expert, n_used)
    # cuda_path.dequant_seconds already converts the routed share once per micro-batch on this path
    return sort + max(0.0, touched * whole - routed) / bandwidth
