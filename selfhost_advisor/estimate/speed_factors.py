"""The fitted speed factors (data/speed.yaml, written by scripts/fit_speed.py): each llama.cpp backend family's
efficiencies and bands, the mat-vec / MMQ rate tables, the default host and the hardware family of a profile.

Part of the speed estimate (estimate/speed.py); the constants' loading, kept apart from the formulas that use them.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from ..catalog.data import load
from ..record import record
from . import kernel_path


# One set of factors per llama.cpp backend: each backend has its own kernels (HIP, Vulkan shaders, SYCL), whatever
# the vendor; fitted on benchmarks/published/llamabench_weak.yaml and the calibration file (docs/methodology.md 5b).
_FAMILY = {"cuda": "cuda", "metal": "metal", "rocm": "rocm", "vulkan": "vulkan", "sycl": "sycl", "cpu": "cpu"}


@lru_cache(maxsize=1)
def _speed_data() -> dict:
    return load("speed")


Table = Mapping[str, "Efficiency"]


def family(backend: str) -> str:
    """Backend family whose efficiency factors apply: cuda, metal, rocm, vulkan, sycl or cpu."""
    return _FAMILY.get(backend, "cuda")


@record
class Efficiency:
    family: str
    bandwidth: float  # share of spec memory bandwidth reached while streaming weights
    layer_s: float  # fixed time per layer per token (kernel dispatch, synchronisation)
    hop_s: float  # hand-off per device boundary per token (layer split)
    compute_f16: float  # share of spec FLOPS reached by prefill with 16-bit weights
    compute_quant: float  # ... with quantized weights (dequantize + matmul)
    decode_band: tuple[float, float]  # measured/predicted, 10th..90th percentile
    prefill_band: tuple[float, float]
    calibrated: tuple[str, ...]  # hardware families with measurements
    # Weights per SM per clock cycle that the family's mat-vec kernels process, by GGML type (CUDA: MMVQ); a type
    # not listed is bandwidth-bound everywhere. See _kernel_excess.
    matvec: tuple[tuple[str, float], ...] = ()
    # Prefill beyond the tensor-core FLOPs (CUDA): weight-tokens per SM-cycle that the batched kernels (MMQ) spend
    # unpacking each GGML type, and SM-cycles per layer per token of everything that is not a matmul.
    mmq: tuple[tuple[str, float], ...] = ()
    prefill_layer_cycles: float = 0.0
    prefill_f16_all_in: float = 0.0  # share of FLOPS 16-bit prefill reaches all in (no separate terms); vLLM uses it
    # Fixed decode work per layer counted in GPU clock cycles (ROCm, Vulkan, SYCL: docs/methodology.md 5b), on top of
    # layer_s; a GPU whose clock is unknown is taken at clock_fallback_hz (the median clock of the rows it was fitted on).
    layer_cycles: float = 0.0
    clock_fallback_hz: float = 0.0
    # ROCm decode (docs/methodology.md 5b, fifth pass): HIP compiles ggml-cuda's own mat-vec kernels, so the CUDA
    # family's per-type rates apply per 128 vector lanes x clock, each weight costing `matvec_lane_factor` times an SM
    # lane's (fitted with the bandwidth share and the per-layer cycles); 0 = no kernel term.
    matvec_lane_factor: float = 0.0
    # Vulkan prefill (estimate/vulkan_path.py): share of its path's peak each matmul path reaches, fitted per path
    # (docs/methodology.md 5b-vulkan); a path not listed takes compute_quant / compute_f16.
    vulkan_paths: tuple[tuple[str, float], ...] = ()
    # ROCm prefill (estimate/kernel_path.py path_name): share of its path's peak each kernel path reaches where fitted
    # apart (docs/methodology.md 5b-rocm2); a path not listed takes compute_quant / compute_f16.
    rocm_paths: tuple[tuple[str, float], ...] = ()


def efficiency(backend: str, table: Table | None = None) -> Efficiency:
    """The fitted factors of `backend`'s family (or of `table`, which scripts/fit_speed.py uses to fit them)."""
    fam = family(backend)
    if table is not None:
        return table[fam]
    return _fitted(fam)


@lru_cache(maxsize=8)
def _fitted(fam: str) -> Efficiency:
    e = _speed_data()["families"][fam]
    return Efficiency(
        family=fam,
        bandwidth=float(e["bandwidth_efficiency"]),
        layer_s=float(e["layer_latency_us"]) * 1e-6,
        hop_s=float(e["hop_latency_us"]) * 1e-6,
        compute_f16=float(e["compute_efficiency_f16"]),
        compute_quant=float(e["compute_efficiency_quant"]),
        decode_band=(float(e["decode_band"][0]), float(e["decode_band"][1])),
        prefill_band=(float(e["prefill_band"][0]), float(e["prefill_band"][1])),
        calibrated=tuple(e.get("calibrated_hardware", ())),
        matvec=tuple(sorted((str(k), float(v)) for k, v in (e.get("matvec_weights_per_sm_cycle") or {}).items())),
        mmq=tuple(sorted((str(k), float(v)) for k, v in (e.get("mmq_weight_tokens_per_sm_cycle") or {}).items())),
        prefill_layer_cycles=float(e.get("prefill_layer_sm_cycles") or 0.0),
        prefill_f16_all_in=float(e.get("compute_efficiency_f16_all_in") or e["compute_efficiency_f16"]),
        layer_cycles=float(e.get("layer_cycles") or 0.0),
        clock_fallback_hz=float(e.get("layer_cycles_clock_fallback_mhz") or 0.0) * 1e6,
        matvec_lane_factor=float(e.get("matvec_lane_factor") or 0.0),
        vulkan_paths=tuple(sorted((str(k), float(v)) for k, v in (e.get("vulkan_path_efficiency") or {}).items())),
        rocm_paths=tuple(sorted((str(k), float(v)) for k, v in (e.get("rocm_path_efficiency") or {}).items())),
    )


def default_host() -> dict:
    """Host CPU/RAM assumed when a GPU profile does not say (data/speed.yaml `default_host`)."""
    return _speed_data()["default_host"]


@lru_cache(maxsize=64)
def _rate_table(rates: tuple[tuple[str, float], ...]) -> tuple[dict[str, float], float | None]:
    """Rates by type, and the one for block-quantized types nobody measured: the median of the measured ones."""
    if not rates:
        return {}, None
    values = sorted(r for _, r in rates)
    mid = len(values) // 2
    return dict(rates), values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _rate(ty: str, table: tuple[dict[str, float], float | None]) -> float | None:
    if ty in kernel_path.FLOAT_TYPES:
        return None
    return table[0].get(ty, table[1])


@lru_cache(maxsize=256)
def listed_family(profile_id: str) -> str:
    """The family data/speed.yaml hardware_families lists for a profile id: the first listed prefix the id starts with
    ('rtx-4090' -> 'nvidia-rtx-40', 'm2-ultra-192gb' -> 'apple-m2'); '' where none does."""
    pid = profile_id.lower()
    for prefix, fam in _speed_data()["hardware_families"].items():
        if pid.startswith(prefix):
            return fam
    return ""


@lru_cache(maxsize=256)
def _hardware_family(profile_id: str) -> str:
    """listed_family; a GPU-table row without a listed prefix -> its vendor and architecture ('arc-b580' ->
    'intel-xe2-hpg', 'rx-9070-xt' -> 'amd-rdna-4.0')."""
    pid = profile_id.lower()
    listed = listed_family(pid)
    if listed:
        return listed
    from ..catalog.gpu_table import by_id

    row = by_id(pid) if pid else None
    if row and row.get("architecture"):
        return f"{row['vendor']}-{row['architecture']}".lower().replace(" ", "-")
    return ""
