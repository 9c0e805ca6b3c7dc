"""MoE expert matmuls in prefill on ROCm, Vulkan and the CPU (docs/methodology.md 5c-weak). Which token-column tile
they get: the rule of data/speed.yaml `moe_tiles` for a device, resolved by its architecture (ROCm) or vendor (Vulkan)
and by the llama.cpp build.

ROCm: ggml-cuda compiled by HIP runs a prompt batch's MUL_MAT_ID as MMQ with expert ids (mmq.cu ggml_cuda_mul_mat_q),
the tile width J picked by mul_mat_q_switch_J against the whole micro-batch (ncols_max = ne12) as on CUDA, except on
RDNA 3.0 and RDNA 4 where it is picked against the mean tokens per expert (ncols_opt, llama.cpp PR #28552; PR #28924,
which would have added RDNA 3.5, was closed). Before PR #17576 (WMMA MMQ on RDNA 3, merged 2025-12-05) RDNA 3 and 3.5
ran a batch of 64 or more tokens through the per-expert hipBLAS path instead: not tiles, not modelled (`since_build`).

Vulkan: ggml_vk_mul_mat_id_q_f16 picks the shader size from the micro-batch's tokens (ggml_vk_guess_matmul_id_pipeline
with n = nei1) and dispatches ceil(rows / BM) x ceil(tokens / BN) x n_expert workgroups; mul_mm.comp returns from a
workgroup past its expert's token count and runs a partial one whole. The large (BN 128) shader is off for MUL_MAT_ID on
AMD, Apple and Qualcomm (mul_mat_id_l = false) and on Intel without cooperative matrices (Xe-HPG: Arc A-series), so
those get BN 64 (32 under 33 tokens); other vendors BN 128.

CPU: no tiles; the experts run on the decode kernels (cpu_expert_seconds below).
"""
from __future__ import annotations

from ..domain import Device
from .cpu_kernels import _FLOAT_TYPES, decode_seconds, host_prefill_rates, kernel_seconds, vector_flops
from .cuda_path import compute_capability
from .kernel_path import _build_date, architecture
from .scoped import pushed

_BUILD: list[int] = []


def at_build(build: int | None):
    """Within it, rules are resolved for llama.cpp build `build` (a llama-bench row's); outside, for the newest."""
    return pushed(_BUILD, int(build) if build else 0)


_OVERRIDE: list[dict] = []
_OFF: list[bool] = []


def disabled():
    """Within it, the ROCm / Vulkan / CPU MoE rules are off (the active-share estimate before 5c-weak), so that
    benchmarks/moe_accuracy.py --without-weak-rules can print the old figures beside the new on the same tree."""
    return pushed(_OFF)


def rule_override(fields: dict | None):
    """Within it, resolved rules take `fields` over theirs: a published row whose source names the code that ran
    (a PR's base and head, e.g. `choose_against: batch` before PR #24546 and `expert_mean` with it)."""
    return pushed(_OVERRIDE, dict(fields or {}))


def current_build() -> int | None:
    return _BUILD[-1] if _BUILD and _BUILD[-1] else None


def resolve(rule: dict | None, device: Device | None) -> dict | None:
    """The flat rule (widths, choose_against, min_tokens) for `device`, or None where no tile rule applies (the
    family has none, or the row's build predates the rule's `since_build` for this architecture)."""
    if not rule:
        return None
    if _OFF and rule.get("select_by"):
        return None
    variants = rule.get("variants")
    if not variants:
        return _pre_volta(dated(rule), device)
    key = _key(rule.get("select_by"), device)
    arch = _key("architecture", device) if any(v.get("architectures") for v in variants) else ""
    chosen = next((v for v in variants if key in (v.get("match") or ())
                   and (not v.get("architectures") or arch in v["architectures"])), None)
    if chosen is None:
        chosen = next((v for v in variants if not v.get("match")), None)
    if chosen is None:
        return None
    build = current_build()
    since = chosen.get("since_build")
    if build is not None and since and build < int(since):
        return None
    # the variant's own `history` (by the ggml sync date, as `dated`): a row of a build before the change ran the
    # earlier rule (RDNA 3.0 / 4: the batch rule before PR #28552, 2026-09-07); a row's `tile_rule` still wins
    flat = dated({**{k: v for k, v in rule.items() if k not in ("variants", "history")}, **chosen})
    return {**flat, **(_OVERRIDE[-1] if _OVERRIDE else {})}


def _pre_volta(rule: dict, device: Device | None) -> dict:
    """CUDA before Volta (Pascal and older): MMQ's widest tile is 64 tokens (mmq.cuh get_mmq_x_max_host: 128 only with
    tensor-core MMA or an NVIDIA build for Volta+; mmq-config-pascal.cuh J of 8..64), so `pre_volta_widths` apply."""
    if not rule.get("pre_volta_widths") or device is None or device.backend != "cuda" or device.vendor != "nvidia":
        return rule

    cc = compute_capability(device)
    if cc is None or cc >= 7.0:
        return rule
    return {**rule, "widths": rule["pre_volta_widths"]}


def dated(rule: dict) -> dict:
    """`rule` as a llama.cpp build of the row's date ran it (estimate/kernel_path.at_build; the newest outside it): each
    `history` entry whose `until` date is after the build's lays its fields over the rule, the latest change first
    (data/speed.yaml moe_tiles.cuda: PR #18958 sent 2-8 token MUL_MAT_ID to MMVQ from 2026-02-03; PR #15525 chose
    the tile width against the micro-batch's tokens from 2025-08-25, before it against all token-expert pairs)."""
    history = rule.get("history")
    if not history:
        return rule

    build = _build_date()
    out = {k: v for k, v in rule.items() if k != "history"}
    for h in sorted(history, key=lambda h: str(h["until"]), reverse=True):
        if build < str(h["until"]):
            out.update({k: v for k, v in h.items() if k not in ("until", "source")})
    return out


def _key(select_by: str | None, device: Device | None) -> str:
    if device is None:
        return ""
    if select_by == "architecture":
        return architecture(device) or ""
    if select_by == "vendor":
        return str(device.vendor or "")
    return ""


def cpu_expert_seconds(expert_layers: tuple, expert_bytes, n_tokens: int, machine, bandwidth: float) -> float:
    """Seconds per prompt token that an MoE model's routed experts add on a clocked CPU beyond the dense prompt rate.

    ggml-cpu runs MUL_MAT_ID one token column at a time: ggml_compute_forward_mul_mat_id (ggml-cpu.c) calls `vec_dot`
    per row and token in 16 x 16 blocks of each expert, and the repacked types (repack.cpp forward_mul_mat_id) call
    `gemv` per token, where the dense matmul runs llamafile's tinyBLAS or the repacked `gemm` over several tokens at
    once. Those are the decode dot kernels, so the expert matrices' active share runs at the decode kernels' rate
    (data/speed.yaml cpu_decode) instead of the prompt GEMMs' (cpu_prefill); and each expert's rows come from RAM once
    per micro-batch (a batch routes tokens to nearly every expert), streamed and then multiplied by the same thread as
    in decode (cpu_kernels.decode_seconds). Returns that time less what cpu_kernels.prefill_seconds already charges the
    expert matrices; 0.0 when the host's clock is unknown.
    """
    vf = vector_flops(machine)
    if not vf or not expert_layers or _OFF:
        return 0.0
    rates, median, float_rate = host_prefill_rates(machine)  # the rates prefill_seconds charged them at
    active = [(ty, n) for mats in expert_layers for ty, n, _ in mats]
    charged = sum(2.0 * n / (rates.get(ty, float_rate if ty in _FLOAT_TYPES else median) * vf) for ty, n in active)
    streamed = float(sum(expert_bytes)) / max(1, n_tokens)
    return max(0.0, decode_seconds(streamed, kernel_seconds(active, machine), machine, bandwidth) - charged)
