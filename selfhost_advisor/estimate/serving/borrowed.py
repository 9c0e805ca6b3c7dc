"""The share of its tensor peak a vLLM step's GEMMs and attention reach on a part, and what that share rests on.

Why its own module: vLLM's step (step.py) prices its FLOPs at the llama.cpp family's 16-bit all-in prefill share
(data/speed.yaml compute_efficiency_f16_all_in, or compute_efficiency_f16), fitted on llama-bench rows. The SYCL family
has no such share: its llama.cpp prompt model runs each GEMM at the oneDNN / oneMKL library rate of the architecture
(sycl_path.gemm_rate) and scripts/fit_speed.py writes 1.0 as the family's compute_efficiency_f16 ("no share fitted"),
so before session 31 vLLM on an Intel GPU priced every FLOP at the XMX spec peak (Llama 3.1 8B on an Arc B580: 7,646
prompt tokens/s alone, 0.97 of its 109.4 TFLOPS). An Intel GPU now takes data/serving.yaml vllm.xpu_compute_share:
on Xe2 the share one published vLLM run on two Arc Pro B70s implies (xpu_fit.fit_xe2_share), elsewhere that share
scaled by the library GEMM's measured share on the architecture; either way serve, fit and cost say what it rests on
(compute_caveat; docs/methodology.md 6c, Session 31 xpu31).
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from ...domain import Device, Machine

_OVERRIDE: list[float] = []  # xpu_fit.fit_xe2_share's trial shares (innermost last)


def _data() -> dict:
    from ...catalog.data import load

    return load("serving")["vllm"].get("xpu_compute_share") or {}


def xmx_group(device: Device) -> str:
    """The XMX generation group of an Intel GPU as data/speed.yaml sycl_paths.prompt_gemm.xmx_architectures names it
    ('xe2': Battlemage, Lunar Lake; 'xe_hpg': Alchemist, Flex, Data Center GPU Max), 'other' for an Intel GPU without
    XMX, '' off Intel."""
    if device.vendor != "intel":
        return ""
    from ...catalog.data import load
    from ..vulkan_path import architecture

    arch = architecture(device)
    groups = ((load("speed").get("sycl_paths") or {}).get("prompt_gemm") or {}).get("xmx_architectures") or {}
    for name in sorted(groups):
        if arch in set(groups[name] or ()):
            return str(name)
    return "other"


def _library_ratio() -> float:
    """The library GEMM's share of the XMX FP16 figure on Xe-HPG over Xe2 (sycl_path: oneMKL 0.373 on an A770, oneDNN
    0.992 on a B60)."""
    from ..sycl_path import _library_shares, _xe2_share

    hpg, _ = _library_shares()
    xe2 = _xe2_share()
    return hpg / xe2 if hpg and xe2 else 1.0


def intel_share(group: str) -> float | None:
    """vLLM's compute share on an Intel GPU of XMX `group` (xmx_group): data/serving.yaml xpu_compute_share.xe2 on
    Xe2, that x _library_ratio() elsewhere; None off Intel or without the entry."""
    if not group:
        return None
    if _OVERRIDE:
        share = _OVERRIDE[-1]
    else:
        xe2 = _data().get("xe2")
        if not xe2:
            return None
        share = float(xe2)
    return share if group == "xe2" else share * _library_ratio()


def compute_share(machine: Machine) -> float:
    """The share of the tensor rates (rates.matmul_flops, attention_tensor_flops) a vLLM step reaches on `machine`'s
    first GPU: intel_share on an Intel GPU, else the family's fitted all-in share."""
    if _OVERRIDE:
        share = intel_share(xmx_group(machine.devices[0]))
        if share is not None:
            return share
    return _compute_share(machine)


@lru_cache(maxsize=256)  # a serving curve asks every step
def _compute_share(machine: Machine) -> float:
    from ..speed import efficiency

    dev = machine.devices[0]
    share = intel_share(xmx_group(dev))
    return share if share is not None else efficiency(dev.backend).prefill_f16_all_in


def compute_caveat(machine: Machine) -> str:
    """What serve, fit and cost print where the step's share on this part is not a llama-bench fit (an Intel GPU):
    the one run it rests on, or that it is borrowed; '' elsewhere."""
    group = xmx_group(machine.devices[0])
    share = intel_share(group)
    if share is None:
        return ""
    if group == "xe2":
        return (f"vLLM on Intel: compute at {share:.2f} of the XMX FP16 peak, fitted on one published vLLM run "
                "(Qwen3.6-27B FP8 on two Arc Pro B70, a 2,010-token prompt's time to first token); other models, "
                "cards and vLLM releases unmeasured (docs/methodology.md 6c)")
    return (f"vLLM on Intel: no published vLLM measurement on this GPU's architecture; compute at {share:.2f} of the "
            "XMX FP16 peak, borrowed from the Xe2 (Arc Pro B70) vLLM run scaled by oneMKL's GEMM share on an A770 "
            "(0.373 of XMX) against oneDNN's on a B60 (0.992) (docs/methodology.md 6c)")


@contextmanager
def trial_share(share: float):
    """Within it, an Intel GPU's Xe2 share is `share` (xpu_fit.fit_xe2_share's bisection)."""
    _OVERRIDE.append(share)
    try:
        yield
    finally:
        _OVERRIDE.pop()
