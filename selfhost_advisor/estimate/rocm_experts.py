"""ROCm prompts of 16-bit routed experts on RDNA 3.5: their FLOPs at the rate the same GPU's logs of that path show, in
place of the dense BF16 rate.

Why: ggml-cuda multiplies a prompt's F16 / BF16 MUL_MAT_ID one expert at a time, each on the few tokens routed to it
(16-32 of a 512-token micro-batch for the MoE models read here): in the mmf kernel up to its token limit
(mmf.cu ggml_cuda_should_use_mmf with mul_mat_id: 512 tokens for an expert matrix of up to 1024 rows, 128 above; on
RDNA 3 / 3.5 since PR #17879, ggml bdaa8a3c, 2025-12-12), past it and before it down ggml_cuda_mul_mat_id's generic
path: the ids to the host and two stream syncs, a host loop, then per touched expert ggml_cuda_mul_mat on its slice,
which with the BF16 src1 the path gathers ends in ggml_cuda_op_mul_mat_cublas (hipblasGemmEx BF16 x BF16 -> BF16, FP32
accumulate, and a BF16 -> F32 conversion kernel), every expert in series on one stream (ggml-org/ggml 43365523 and
d99724f2; 72632094 of 2025-10-09 had no AMD mmf for BF16). A GEMM 16-32 columns wide runs far below the GPU's dense
BF16 rate on gfx1151 (kroqueta-s/gfx1151-gemm: rocBLAS 1.0-1.8 TFLOPS at N = 128, K = 2048, against 25-31 for square
shapes). Which kernel each expert shape gets is not read; the rate is measured instead, as a share of the device's
16-bit peak, off kyuz0's Strix Halo logs of Qwen3-30B-A3B BF16 (build 8577: down projection on the generic path,
gate / up on mmf; three ROCm releases, hipBLASLt on and off), which no scorer reads (data/speed.yaml
rocm_16bit_expert_rate; docs/methodology.md 5f-rocm29). Only at the tokens per expert it was measured at, and only on
the architecture it was measured on.
"""
from __future__ import annotations

from ..domain import Device, Model
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data

_SHARE: list[float] = []  # an override of the measured share (the derivation in scripts/rocm_expert_rate.py)


def _rule() -> dict:
    return speed_factors._speed_data().get("rocm_16bit_expert_rate") or {}


def share_override(share: float):
    """Within it, every architecture's 16-bit experts run at `share` of the peak (to solve for a measured row's)."""
    from .scoped import pushed

    return pushed(_SHARE, share)


def peak_share(device: Device) -> float:
    """Share of the device's 16-bit peak that ROCm's 16-bit routed-expert GEMMs of a prompt run at (data/speed.yaml
    rocm_16bit_expert_rate, on the architectures it was measured on), else 0 (not priced apart)."""
    if device.backend != "rocm":
        return 0.0
    if _SHARE:
        return _SHARE[-1]
    rule = _rule()
    from .vulkan_path import architecture

    if not rule or architecture(device) not in (rule.get("architectures") or ()):
        return 0.0
    return float(rule["peak_share"])


def priced(model: Model, device: Device, n_ubatch: int) -> bool:
    """Whether prefill_seconds_per_token prices this model's 16-bit experts on `device` at a micro-batch of n_ubatch
    (the architecture measured, past the mat-vec, within the tokens an expert measured)."""
    if model.moe is None or not peak_share(device):
        return False
    rule = _rule()
    cap = rule.get("max_tokens_per_expert")
    return n_ubatch > int(rule.get("min_tokens", 8)) and (cap is None
                                                          or tokens_per_expert(model, n_ubatch) <= float(cap))


def tokens_per_expert(model: Model, n_ubatch: int) -> float:
    """Mean tokens a micro-batch of n_ubatch routes to each routed expert: n_ubatch x used / experts."""
    return n_ubatch * model.moe.active / model.moe.experts


def prefill_seconds_per_token(model: Model, work, device: Device, layers: range, n_ubatch: int, peak_flops: float,
                              seconds_per_flop: float, first_gpu_expert_layer: int = 0) -> float:
    """Seconds per prompt token that `device`'s F16 / BF16 routed experts in `layers` take beyond what the prompt time
    charges them (their FLOPs x seconds_per_flop): their FLOPs at peak_share x peak_flops instead; never below 0 per
    layer. Only for micro-batches past the mat-vec (rule `min_tokens`) that give each expert at most the tokens the
    rate was measured at (`max_tokens_per_expert`), and for the expert layers on the GPU (from first_gpu_expert_layer:
    --n-cpu-moe keeps the earlier ones in RAM); 0 elsewhere."""
    if not peak_flops or not work.layer_expert_matrices or not priced(model, device, n_ubatch):
        return 0.0
    slow = 1.0 / (peak_share(device) * peak_flops)
    extra = 0.0
    for i in layers:
        if i < first_gpu_expert_layer or i >= len(work.layer_expert_matrices):
            continue
        flops = sum(2.0 * n for ty, n, _ in work.layer_expert_matrices[i] if ty in ("BF16", "F16"))
        extra += max(0.0, flops * (slow - seconds_per_flop))
    return extra
