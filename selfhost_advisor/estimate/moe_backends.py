"""Which token-column tile an MoE expert matmul gets on ROCm and Vulkan: the rule of data/speed.yaml `moe_tiles` for a
device, resolved by its architecture (ROCm) or vendor (Vulkan) and by the llama.cpp build (docs/methodology.md 5c-weak).

ROCm: ggml-cuda compiled by HIP runs a prompt batch's MUL_MAT_ID as MMQ with expert ids (mmq.cu ggml_cuda_mul_mat_q),
the tile width J picked by mul_mat_q_switch_J against the whole micro-batch (ncols_max = ne12) as on CUDA, except on
RDNA 3.0 and RDNA 4 where it is picked against the mean tokens per expert (ncols_opt, llama.cpp PR #28552; PR #28924,
which would have added RDNA 3.5, was closed). Before PR #17576 (WMMA MMQ on RDNA 3, merged 2025-12-05) RDNA 3 and 3.5
ran a batch of 64 or more tokens through the per-expert hipBLAS path instead: not tiles, not modelled (`since_build`).

Vulkan: ggml_vk_mul_mat_id_q_f16 picks the shader size from the micro-batch's tokens (ggml_vk_guess_matmul_id_pipeline
with n = nei1) and dispatches ceil(rows / BM) x ceil(tokens / BN) x n_expert workgroups; mul_mm.comp returns from a
workgroup past its expert's token count and runs a partial one whole. The large (BN 128) shader is off for MUL_MAT_ID on
AMD, Apple and Qualcomm (mul_mat_id_l = false), so those get BN 64 (32 under 33 tokens); other vendors BN 128.
"""
from __future__ import annotations

from contextlib import contextmanager

from ..domain import Device

_BUILD: list[int] = []


@contextmanager
def at_build(build: int | None):
    """Within it, rules are resolved for llama.cpp build `build` (a llama-bench row's); outside, for the newest."""
    _BUILD.append(int(build) if build else 0)
    try:
        yield
    finally:
        _BUILD.pop()


def current_build() -> int | None:
    return _BUILD[-1] if _BUILD and _BUILD[-1] else None


def resolve(rule: dict | None, device: Device | None) -> dict | None:
    """The flat rule (widths, choose_against, min_tokens) for `device`, or None where no tile rule applies (the
    family has none, or the row's build predates the rule's `since_build` for this architecture)."""
    if not rule:
        return None
    variants = rule.get("variants")
    if not variants:
        return rule
    key = _key(rule.get("select_by"), device)
    chosen = next((v for v in variants if key in (v.get("match") or ())), None)
    if chosen is None:
        chosen = next((v for v in variants if not v.get("match")), None)
    if chosen is None:
        return None
    build = current_build()
    since = chosen.get("since_build")
    if build is not None and since and build < int(since):
        return None
    return {**{k: v for k, v in rule.items() if k != "variants"}, **chosen}


def _key(select_by: str | None, device: Device | None) -> str:
    if device is None:
        return ""
    if select_by == "architecture":
        from .kernel_path import architecture

        return architecture(device) or ""
    if select_by == "vendor":
        return str(device.vendor or "")
    return ""
