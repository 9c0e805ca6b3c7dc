"""gpt-oss's MoE router on ggml-cuda by build: three kernels a decoded layer before the delayed-softmax topk_moe fusion
fired (data/speed.yaml cuda_gptoss_router; docs/methodology.md 5f-gptoss30).

Why its own module: a dated decode term of one architecture's router, read by estimate/speed_decode.py; the CUDA
kernel-path facts it needs (the compute capability) stay in cuda_path.
"""
from __future__ import annotations

from ..catalog.data import load
from ..domain import Device
from .arch_traits import GPT_OSS_ARCHS
from .cuda_path import compute_capability
from .kernel_path import _build_date


def _rule() -> dict:
    return load("speed").get("cuda_gptoss_router") or {}  # load() reads the file once a process


_SECONDS: list[float] = []


def seconds_as(s: float):
    """Price the `with` block's pre-`since` builds at `s` seconds a gpt-oss layer in place of the shipped figure (a
    what-if for tests and the methodology's tables), never used by `fit`."""
    from .scoped import pushed

    return pushed(_SECONDS, float(s))


def gptoss_router_seconds(model, device: Device) -> float:
    """Seconds a decoded token's gpt-oss MoE layer adds on an NVIDIA GPU of compute capability >= 7.0 under CUDA
    (Pascal and older are priced per graph node, cuda_pascal) in a llama.cpp build of kernel_path.at_build's date
    before `since`: the router's ARGSORT, GET_ROWS and SOFT_MAX (softmax after the top-k) ran as their own kernels
    until PR #16649's delayed-softmax topk_moe kernel, which fired on a real gpt-oss graph from PR #16821 on.
    `layer_s` is PR #16649's own tg table per layer. 0 for other models and devices, and from `since` on (today's
    build, what `fit` prices)."""
    rule = _rule()  # the date first: today's build reads nothing else
    if not rule or _build_date() >= str(rule.get("since", "0")):
        return 0.0
    if getattr(model, "arch", None) not in GPT_OSS_ARCHS or model.moe is None:
        return 0.0
    if device.backend != "cuda" or device.vendor != "nvidia":
        return 0.0
    cc = compute_capability(device)
    if cc is not None and cc < 7.0:
        return 0.0
    return float(_SECONDS[-1] if _SECONDS else rule.get("layer_s", 0.0))
