"""HIP graphs by llama.cpp build (data/speed.yaml `rocm_graphs`; docs/methodology.md 5f-rocm17).

ggml-cuda under HIP launched a decoded token's kernels one by one from the host until GGML_HIP_GRAPHS defaulted on
(ggml dc1b3775, llama.cpp PR #22254, 2026-04-23); a build before it pays the PR's measured graphs-off minus graphs-on
time per layer. Apart from rocm_decode.py (which imports speed_gpu) so that speed_gpu can add it without a circle.
"""
from __future__ import annotations

from ..domain import Device

_GRAPHS_OFF: list[bool] = []  # within it: no graphs-off launch time (scripts/fit_speed.py takes it as known time)


def graph_term_off():
    """Within it, ROCm decode adds no graphs-off launch time: scripts/fit_speed.py computes its unit features so and
    takes the term off each row as known time (graph_launch_seconds x the row's layers)."""
    from .scoped import pushed

    return pushed(_GRAPHS_OFF)


def _rules() -> dict:
    from .speed_factors import _speed_data

    return _speed_data().get("rocm_graphs") or {}


def uses_graphs() -> bool:
    """Whether the ROCm build of kernel_path.at_build's date (the latest by default) runs a decoded token as one HIP
    graph: GGML_HIP_GRAPHS default on from llama.cpp PR #22254 (ggml dc1b3775, 2026-04-23)."""
    from .kernel_path import _build_date

    return _build_date() >= str(_rules().get("graphs_since") or "0")


def graph_launch_seconds(device: Device) -> float:
    """Seconds per decoded layer an AMD GPU under ROCm adds where the build launches its kernels one by one (no HIP
    graphs, builds before 2026-04-23): PR #22254's graphs-off minus graphs-on time per layer; 0 elsewhere."""
    if _GRAPHS_OFF or device.backend != "rocm" or uses_graphs():
        return 0.0
    return float(_rules().get("layer_s") or 0.0)
