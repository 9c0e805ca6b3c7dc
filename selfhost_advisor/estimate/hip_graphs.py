"""Known ROCm decode time by llama.cpp build: HIP graphs (data/speed.yaml `rocm_graphs`; docs/methodology.md
5f-rocm17) and the batched-hipBLAS attention of 2024 builds (`rocm_attention_blas`; 5f-rocm18).

ggml-cuda under HIP launched a decoded token's kernels one by one from the host until GGML_HIP_GRAPHS defaulted on
(ggml dc1b3775, llama.cpp PR #22254, 2026-04-23); a build before it pays the PR's measured graphs-off minus graphs-on
time per layer. Until llama.cpp PR #10318 (2024-11-17) a decoded token's KQ and KQV products without flash attention
went to hipBLAS's batched GEMM on every AMD GPU ggml-cuda called fast-FP16 (RDNA from the start, GCN / CDNA from PR
#8075), which the PR's RX 6800 pair prices. Apart from rocm_decode.py (which imports speed_gpu) so that speed_gpu can
add them without a circle.
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Device, Model
from .kernel_path import _build_date, architecture, in_force
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data

_GRAPHS_OFF: list[bool] = []  # within it: no graphs-off launch time, no hipBLAS attention (fit_speed: known time)


def graph_term_off():
    """Within it, ROCm decode adds no graphs-off launch time and no batched-hipBLAS attention: scripts/fit_speed.py
    computes its unit features so and takes both off each row as known time (graph_launch_seconds x the row's layers,
    attention_blas_seconds)."""
    from .scoped import pushed

    return pushed(_GRAPHS_OFF)


def _rules() -> dict:
    return speed_factors._speed_data().get("rocm_graphs") or {}


def uses_graphs() -> bool:
    """Whether the ROCm build of kernel_path.at_build's date (the latest by default) runs a decoded token as one HIP
    graph: GGML_HIP_GRAPHS default on from llama.cpp PR #22254 (ggml dc1b3775, 2026-04-23)."""
    return _build_date() >= str(_rules().get("graphs_since") or "0")


def graph_launch_seconds(device: Device) -> float:
    """Seconds per decoded layer an AMD GPU under ROCm adds where the build launches its kernels one by one (no HIP
    graphs, builds before 2026-04-23): PR #22254's graphs-off minus graphs-on time per layer; 0 elsewhere."""
    if _GRAPHS_OFF or device.backend != "rocm" or uses_graphs():
        return 0.0
    return float(_rules().get("layer_s") or 0.0)


def _blas_rules() -> dict:
    return speed_factors._speed_data().get("rocm_attention_blas") or {}


def uses_blas_attention(device: Device) -> bool:
    """Whether the ROCm build of kernel_path.at_build's date runs a decoded token's KQ / KQV (no flash attention) as
    hipBLAS batched GEMMs on `device`: the last `history` change on or before the build date for its architecture."""
    arch = architecture(device) or ""
    changes = in_force(_blas_rules().get("history"), arch, _build_date())
    return bool(changes[-1]["blas"]) if changes else False


@lru_cache(maxsize=1)
def _blas_terms() -> tuple[float, float]:
    """(seconds per attention layer, seconds per attention FLOP) of the batched-hipBLAS path beyond PR #10318's
    mat-vec kernel, solved from the PR's two RX 6800 pairs (`reference`): (1/t_master - 1/t_pr) / layers at the mean
    cached depth of tg128 (64) and tg8192 (4096), whose attention FLOPs are 4 x heads x head_dim x depth."""
    ref = _blas_rules()["reference"]
    width = 4 * int(ref["heads"]) * int(ref["head_dim"])
    points = []
    for test in ("tg128", "tg8192"):
        old, new = (float(x) for x in ref[test])
        points.append((width * int(test[2:]) // 2, (1 / old - 1 / new) / int(ref["layers"])))
    (f1, s1), (f2, s2) = points
    per_flop = (s2 - s1) / (f2 - f1)
    return s1 - per_flop * f1, per_flop


def attention_blas_seconds(device: Device, model: Model, depth: int, layers: range) -> float:
    """Seconds per decoded token the attention layers among `layers` add on an AMD GPU under ROCm where the build runs
    KQ / KQV through hipBLAS's batched GEMM (uses_blas_attention): a fixed time per layer plus its attention FLOPs at
    the path's rate (_blas_terms); 0 elsewhere and for the latest build."""
    if _GRAPHS_OFF or device.backend != "rocm" or not uses_blas_attention(device):
        return 0.0
    from .speed_work import attention_flops_by_layer

    fixed, per_flop = _blas_terms()
    flops = attention_flops_by_layer(model, depth)
    return sum(fixed + per_flop * flops[i] for i in layers if model.has_attention(i))
