"""Prefill on ROCm by the kernel path llama.cpp takes per GPU architecture and GGML type, and the memory traffic of
tiled matmuls (docs/methodology.md 5b, "Fifth pass"; data/speed.yaml `rocm_prefill_path`).

Why: one compute efficiency per backend over one FLOPS figure per GPU cannot follow which unit does the multiply.
ggml-cuda, compiled by HIP, runs a quantized matmul of a 512-token micro-batch either as MMQ (int8 dot products on
the matrix units, or dp4a on the vector lanes) or dequantizes the weights to FP16 for hipBLAS (ggml_cuda_should_use_mmq
in ggml/src/ggml-cuda/mmq.cu; amd_mfma_available = CDNA, amd_wmma_available = RDNA 3/4 in common.cuh). And a tiled
matmul reads each weight tile once per tile of tokens and each token's activations once per tile of weight rows, so
a GPU whose memory is slow for its matrix rate (Strix Halo: 256 GB/s for 59 TFLOPS) waits on memory in prefill too.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Callable

from ..domain import Device

# GGML types that are not block-quantized (speed.py imports it from here: one definition)
FLOAT_TYPES = frozenset({"F64", "F32", "F16", "BF16", "I8", "I16", "I32", "I64"})
# profiles that are not rows of data/gpu_specs.yaml: their architecture, and the spec-table row with their shader
# count and int8 rate
_ARCH_BY_PREFIX = {"ryzen-ai-max": "RDNA 3.5"}
_TABLE_TWIN = {"mi300x": "radeon-instinct-mi300x"}
_OFF: list[bool] = []


@contextmanager
def listed_peak_only():
    """Within it, ROCm prefill is FLOPs over the listed peak alone, as before the fifth pass (benchmarks/
    weak_structures.py keeps the record of the structures scored against that baseline)."""
    _OFF.append(True)
    try:
        yield
    finally:
        _OFF.pop()


def enabled() -> bool:
    return not _OFF


@lru_cache(maxsize=256)
def _spec(profile_id: str) -> dict:
    from ..catalog.gpu_table import by_id

    return by_id(_TABLE_TWIN.get(profile_id, profile_id)) or {}


def architecture(device: Device) -> str | None:
    """The GPU architecture data/gpu_specs.yaml gives a device's profile ("RDNA 3.0", "CDNA 2.0", ...), or None."""
    pid = device.matched_profile or ""
    arch = _spec(pid).get("architecture")
    if arch:
        return str(arch)
    return next((a for prefix, a in _ARCH_BY_PREFIX.items() if pid.startswith(prefix)), None)


def vector_lanes(device: Device) -> float | None:
    """Vector lanes of an AMD GPU: the spec table's shader count, else 64 per compute unit of its profile (`gpu_cores`:
    Strix Halo's 40 CUs, data/hardware.yaml / data/apu.yaml), else None."""
    pid = device.matched_profile or ""
    shaders = _spec(pid).get("shaders")
    if shaders:
        return float(shaders)
    from ..catalog.hardware import profile_by_id

    p = profile_by_id(pid) if pid else None
    cus = p.raw.get("gpu_cores") if p is not None else None
    return float(cus) * 64 if cus else None


def rocm_path(arch: str, ggml_type: str, rules: dict) -> str:
    """'mmq' or 'blas': what ggml-cuda under HIP runs for a matmul of this type at a 512-token micro-batch.

    CDNA 3: MMQ on MFMA for every type. CDNA 1/2: MMQ only for the legacy types (Q4_0, Q4_1, Q5_0, Q5_1), the rest
    dequantized for rocBLAS above 128/256 tokens. RDNA 3/3.5: MMQ on WMMA except Q2_K and Q6_K (hipBLAS above
    128/256 tokens). RDNA 4: MMQ always. Everything else with dp4a (RDNA 2, GCN 5.1) and RDNA 1: MMQ."""
    if arch.startswith("CDNA"):
        return "mmq" if arch.startswith("CDNA 3") or ggml_type in rules.get("cdna12_mmq_types", ()) else "blas"
    if arch.startswith("RDNA 3"):
        return "blas" if ggml_type in rules.get("rdna3_blas_types", ()) else "mmq"
    return "mmq"


def int8_peak(device: Device, arch: str, fp16: float, rules: dict) -> float:
    """Peak of MMQ's int8 dot products: the spec table's int8 rate (matrix units: 2x FP16 on CDNA 3 and RDNA 4, equal
    on CDNA 1/2 and RDNA 3), else on dp4a parts (RDNA 2, GCN 5.1) v_dot4_i32_i8: 4 MACs = 8 ops per lane per clock,
    else (RDNA 3.5 APUs: WMMA int8 = FP16; RDNA 1 has no dot4) the FP16 rate."""
    spec = _spec(device.matched_profile or "")
    if spec.get("int8_tops"):
        return float(spec["int8_tops"]) * 1e12
    if arch in rules.get("dp4a_architectures", ()) and spec.get("shaders") and spec.get("boost_clock_mhz"):
        return float(spec["shaders"]) * float(rules["dp4a_ops_per_lane_per_clock"]) * float(spec["boost_clock_mhz"]) * 1e6
    return fp16


def path_scale(device: Device, layers: tuple, fp16: float, rules: dict,
               unpack_rate: Callable[[str], float | None]) -> float:
    """The factor on a ROCm device's FLOPs time (at its listed FP16 peak) for the kernel path of each type: sum over
    types of weight share x FP16 peak / path peak (1.0 where the architecture is unknown). On dp4a parts the lanes
    that multiply also unpack each weight tile, so a type runs at the dp4a peak x its MMQ unpacking rate over the
    reference type's (`unpack_rate`: the CUDA family's per-type rates, data/speed.yaml mmq_weight_tokens_per_sm_cycle:
    Q4_0 654, Q3_K 310 ...)."""
    arch = architecture(device)
    if not arch:
        return 1.0
    totals: dict[str, float] = {}
    for mats in layers:
        for ty, n, _ in mats:
            totals[ty] = totals.get(ty, 0.0) + n
    total = sum(totals.values())
    if not total:
        return 1.0
    peak8 = int8_peak(device, arch, fp16, rules)
    dp4a = arch in rules.get("dp4a_architectures", ())
    ref = unpack_rate(str(rules.get("dp4a_rate_reference", "Q4_0")))
    scale = 0.0
    for ty, n in totals.items():
        peak = fp16
        if ty not in FLOAT_TYPES and rocm_path(arch, ty, rules) == "mmq":
            peak = peak8
            mine = unpack_rate(ty)
            if dp4a and ref and mine:
                peak *= min(1.0, mine / ref)
        scale += n / total * fp16 / peak
    return scale


def traffic_seconds(device: Device, layers: tuple, rules: dict) -> float:
    """Per prompt token, the bytes a tiled matmul moves through memory over spec bandwidth: weight bytes and about one
    byte per weight of activations (Q8_1 rows), each read once per tile (data/speed.yaml rocm_prefill_path.tile: 128,
    the tile edge of ggml's MMQ on AMD), with no credit for caches (coefficient 1, derived)."""
    tile = float(rules.get("tile", 0) or 0)
    if not tile or not device.bandwidth_bytes_per_s:
        return 0.0
    nbytes = sum(b + n for mats in layers for _, n, b in mats)
    return nbytes / tile / float(device.bandwidth_bytes_per_s)
