"""ROCm decode: how many threads llama.cpp's quantized mat-vec kernel (MMVQ) gives one weight row, per AMD architecture,
GGML type and build (docs/methodology.md 5f-rocm15; data/speed.yaml `rocm_decode_path`).

Why: the mat-vec term of ROCm decode multiplies the CUDA family's per-128-lane kernel rates (fitted on NVIDIA, where
MMVQ runs 4 warps x 32 = 128 threads per row for one token: MMVQ_PARAMETERS_GENERIC) by the GPU's vector lanes and
divides by a fitted lane factor k. But the row geometry differs by architecture and build (ggml/src/ggml-cuda/mmvq.cu,
calc_nwarps / get_device_table_id, read in the ggml-org/ggml history): GCN and CDNA run 128 threads per row (2 waves of
64, MMVQ_PARAMETERS_GCN; 4 x 32 before the 2025 table), the CUDA kernel's own shape; RDNA ran one wave of 32 per row
(MMVQ_PARAMETERS_RDNA2) until PR #19478 (2026-03-15) gave RDNA 3.0 and RDNA 4 eight waves (256 threads) for the
types with a simple dot product, and RDNA 2 and RDNA 3.5 still run one. A single wave walks its whole row serially
(K / 32 blocks, several dependent iterations), which is what k measures: so k applies to 32-thread rows only, and a
row of 128 or more threads runs at the CUDA rates (k = 1). k is then fitted on the 32-thread rows alone
(scripts/fit_speed.py _fit_lane_matvec).
"""
from __future__ import annotations

from ..domain import Device
from . import kernel_path
from .memory_kv import recurrent_state_widths
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data
from .speed_gpu import _kernel_excess, rocm_matvec_cycles

_OFF: list[bool] = []  # within it: every ROCm mat-vec at the fitted k, as before session 15 (benchmarks/weak_structures.py)


def single_k():
    """Within it, every ROCm mat-vec kernel takes the fitted lane factor whatever its row geometry (the model before
    session 15), for the record scripts."""
    from .scoped import pushed

    return pushed(_OFF)


def _rules() -> dict:
    return speed_factors._speed_data().get("rocm_decode_path") or {}


def row_shape(device: Device, ggml_type: str) -> dict | None:
    """{threads, waves}: what MMVQ gives one weight row for one token on `device` (an AMD GPU under ROCm) in the build
    of kernel_path.at_build's date, or None when the architecture is not known (then the model treats it as before)."""
    if _OFF:
        return None
    arch = kernel_path.architecture(device)
    if not arch:
        return None
    changes = kernel_path.in_force(_rules().get("threads_history"), arch, kernel_path._build_date(), ggml_type)
    if not changes:
        return None
    return {"threads": int(changes[-1]["threads"]), "waves": int(changes[-1].get("waves") or 0)}


def lane_factor(device: Device, ggml_type: str, fitted_k: float) -> float:
    """The lane factor of one mat-vec type on `device`: 1 for rows of rules.cuda_shape (the CUDA rates' own row
    shape, 4 waves of 32) or more, the fitted k for fewer, and where unknown; on a wave64 architecture (GCN, CDNA:
    rules.wave64) a row of fewer than 64 threads also leaves the rest of its wave idle, k x 64 / threads (the
    one-warp rows of builds before llama.cpp PR #5394)."""
    shape = row_shape(device, ggml_type)
    if shape is None:
        return fitted_k
    rules = _rules()
    floor = int((rules.get("cuda_shape") or {}).get("threads", 128))
    if shape["threads"] >= floor:
        return 1.0
    arch = kernel_path.architecture(device) or ""
    wave = 64 if any(arch.startswith(a) for a in rules.get("wave64") or ()) else 32
    return fitted_k * max(1.0, wave / shape["threads"])


def matvec_excess(mats, device: Device, rates, bandwidth: float, fitted_k: float, extra_cycles: float = 0.0) -> float:
    """Seconds a layer's mat-vecs on an AMD GPU take beyond streaming their bytes (speed_gpu._kernel_excess), each
    GGML type at its own lane factor."""
    total = 0.0
    groups: dict[float, list] = {}
    for m in mats:
        groups.setdefault(lane_factor(device, m[0], fitted_k), []).append(m)
    for k, ms in groups.items():
        cycles = rocm_matvec_cycles(device, k)
        if cycles:
            total += _kernel_excess(tuple(ms), rates, bandwidth, cycles, extra_cycles)
    return total



def _gdn_rule() -> dict:
    return speed_factors._speed_data().get("rocm_gdn_kernel") or {}


def gdn_kernel_excess(model, device: Device, bandwidth: float, layers: range) -> float:
    """Seconds per decoded token the fused GATED_DELTA_NET kernel takes on an AMD GPU under ROCm beyond streaming its
    state read and write at `bandwidth` (what speed_work.state_traffic_by_layer counts): the kernel walks the state
    column by column (one warp each, token by token) at the rate test-backend-ops measured on HIP (data/speed.yaml
    rocm_gdn_kernel), not at the memory's; at every build (before the fused op the recurrence ran as separate
    generic kernels, not priced apart: no row of such a build). 0 off ROCm and for other layer kinds."""
    rule = _gdn_rule()
    ssm = getattr(model, "ssm", None)
    if device.backend != "rocm" or ssm is None or ssm.kind not in (rule.get("kinds") or ()) or not bandwidth:
        return 0.0

    nbytes = 4 * int(rule["state_passes"]) * recurrent_state_widths(ssm)[1]
    per = max(0.0, nbytes / float(rule["bytes_per_s"]) - nbytes / bandwidth)
    return per * sum(1 for i in layers if model.is_recurrent(i))
