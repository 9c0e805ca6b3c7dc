"""The host-side sort of a CUDA MMQ MUL_MAT_ID in llama.cpp builds from PR #13199 to PR #15525 (2025-04-30 to 2025-08-25).

Why: in those builds ggml-cuda's mmq.cu ggml_cuda_mul_mat_q, given expert ids, copied the ids to the host, synchronized
the stream, sorted the token-expert pairs in a host loop (`for i02 < ne02` experts, `for i12 < ne12` tokens, `for iex <
n_expert_used` with a break on the match), copied the result back and synchronized again before the quantize and MMQ
kernels (ggml-org/ggml 06034b3c^ src/ggml-cuda/mmq.cu). The GPU waits through both round trips and the loop, once per
MUL_MAT_ID of 2+ tokens (one token takes MMVQ with the ids on the device: ggml-cuda.cu ggml_cuda_mul_mat_id `ne2 == 1`).
PR #15525 moved the sort into a kernel (docs/methodology.md 5c-s26b; data/speed.yaml moe_host_sort).
"""
from __future__ import annotations

from ..domain import Model
from .speed_work import TokenWork


def loop_iterations(n_tokens: int, n_expert: int, n_used: int) -> float:
    """Expected inner-loop iterations of the host sort for one MUL_MAT_ID of n_tokens: for each expert and token the
    loop over the token's n_used slots stops at the match (slot uniform: (n_used + 1) / 2 steps, with probability
    n_used / n_expert) and otherwise runs all n_used: n_tokens x (n_used (n_used + 1) / 2 + (n_expert - n_used) n_used)."""
    if n_tokens < 1 or n_expert <= 0 or n_used <= 0:
        return 0.0
    k = min(n_used, n_expert)
    return float(n_tokens) * (k * (k + 1) / 2 + (n_expert - k) * k)


def seconds_per_microbatch(model: Model, work: TokenWork, device, n_tokens: int) -> float:
    """Seconds a micro-batch of n_tokens waits on the host sort, summed over the model's MoE layers (0 where the
    build, GPU, expert type or token count does not take that path)."""
    if model.moe is None or n_tokens < 2 or device.backend != "cuda" or device.vendor != "nvidia":
        return 0.0  # (checked before the imports: `models --fits` asks this of every MoE option)
    from . import cuda_path
    from .kernel_path import _build_date
    from .moe_graphs import float_experts

    rule = _rule()
    if not rule:
        return 0.0
    date = _build_date()
    if not (str(rule["since"]) <= date < str(rule["until"])):
        return 0.0
    if not work.layer_expert_matrices or float_experts(work):  # 16-bit experts take the generic path, not MMQ's
        return 0.0
    if cuda_path.quant_path(device, n_tokens) not in ("mmq", "dp4a"):  # dequantized for cuBLAS: the generic path
        return 0.0
    from .tensors import fused_gate_up_experts

    per_layer = 2 if fused_gate_up_experts(model) else 3
    moe_layers = sum(1 for i in range(model.n_layers) if model.is_moe_layer(i))
    per_call = (float(rule["round_trips"]) * float(rule["copy_s"])
                + float(rule["iteration_s"]) * loop_iterations(n_tokens, model.moe.experts, model.moe.active))
    return moe_layers * per_layer * per_call


def _rule() -> dict:
    from .speed_factors import _speed_data

    return _speed_data().get("moe_host_sort") or {}
