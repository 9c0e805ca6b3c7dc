"""Where a ROCm figure sits in a range the published rows contradict: small models on a CDNA 3 GPU, BF16 prompts and
float-weight decode on gfx906.

Why: llama.cpp PR #19806's MI300X table (Qwen2.5-1.5B Q4_K_M, pp512..pp4096) runs about 2x below the prompt estimate,
flat in the prompt length, as PR #21570's MI355X row does on CDNA 4: read per layer and 512-token micro-batch, ~0.35 ms
the model does not carry (data/speed.yaml `rocm_small_prefill`, READ off those rows, not a model term). A per-micro-batch
time of the ROCm decode fit's size was scored as a model term and not shipped (docs/methodology.md 5f-rocm24), so the
figure stands and is qualified where that unmodelled time would be a quarter of the prompt token or more.
"""
from __future__ import annotations

from ..domain import Device
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data
from .kernel_path import architecture


def _rule() -> dict:
    return speed_factors._speed_data().get("rocm_small_prefill") or {}


def small_model_prefill_caveat(device: Device, layers: int, n_ubatch: int, prefill_s: float) -> str | None:
    """The qualification of a prompt figure of `prefill_s` seconds a token on `device` (ROCm, an architecture listed in
    `rocm_small_prefill`) for `layers` GPU layers at `n_ubatch` tokens a micro-batch, where layers x layer_ubatch_s /
    n_ubatch is at least `share` of it; None elsewhere."""
    rule = _rule()
    if not rule or device.backend != "rocm" or layers <= 0 or n_ubatch <= 0 or prefill_s <= 0:
        return None
    if not (architecture(device) or "").startswith(tuple(rule.get("architectures") or ())):
        return None
    per_layer = float(rule["layer_ubatch_s"])
    if layers * per_layer / n_ubatch < float(rule["share"]) * prefill_s:
        return None
    row = rule["row"]
    return (f"prefill: small models on CDNA 3 read slower than this in the published rows: an MI300X ran "
            f"Qwen2.5 1.5B {row['quant']} {row['test']} at {int(row['tokens_per_s']):,} tokens/s where this model "
            f"estimates about twice that (llama.cpp PR #19806), ~{per_layer * 1e3:.2f} ms a layer per micro-batch it does "
            "not carry (docs/methodology.md 5f-rocm24)")


def bf16_prefill_caveat(layers: tuple, gpu_layers: int, devices) -> tuple[str, ...]:
    """The qualification of a prompt figure whose GPU layers hold BF16 weights on a ROCm device of an architecture
    listed in data/speed.yaml `rocm_bf16_untuned` (gfx906: rocBLAS's Tensile logic has no BF16 GEMM for it), with the
    ratio the published MI50 rows read below the estimate and the cards it names (the entry's `cards`); () elsewhere
    (docs/methodology.md 5f-rocm27)."""
    rule = speed_factors._speed_data().get("rocm_bf16_untuned") or {}
    archs = tuple(rule.get("architectures") or ())
    if not archs or gpu_layers <= 0 or not any(ty == "BF16" for mats in layers[:gpu_layers] for ty, _, _ in mats):
        return ()
    if not _on_rocm_arch(devices, archs):
        return ()
    lo, hi = rule["reads_below"]
    return (f"prefill: BF16 weights on gfx906 ({' / '.join(rule['cards'])}) run on a rocBLAS GEMM not tuned for this "
            f"GPU (its Tensile library has no BF16 kernels for it): published MI50 rows read {lo}-{hi}x below our "
            "estimate for them, which already takes the FP32 lanes; an F16 or quantized file avoids that GEMM "
            "(docs/methodology.md 5f-rocm27)",)


def float_decode_caveat(layers: tuple, gpu_layers: int, devices) -> tuple[str, ...]:
    """The qualification of a decode figure whose GPU layers' matrices are mostly float (data/speed.yaml
    `rocm_float_decode_gcn`: F16, BF16, F32 at least `share` of their bytes) on a ROCm device of a listed architecture
    (gfx906), with the ratio the published MI50 rows read below the estimate, the cards it names and how close the
    same card's quantized rows read (the entry's `cards`, `quantized_rows`); () elsewhere (docs/methodology.md
    5f-rocm31)."""
    rule = speed_factors._speed_data().get("rocm_float_decode_gcn") or {}
    archs, types = tuple(rule.get("architectures") or ()), tuple(rule.get("types") or ())
    if not archs or gpu_layers <= 0 or not _on_rocm_arch(devices, archs):  # the devices first: the cheap test
        return ()
    mats = [m for layer in layers[:gpu_layers] for m in layer]
    total = sum(b for _, _, b in mats)
    if not total or sum(b for ty, _, b in mats if ty in types) < float(rule["share"]) * total:
        return ()
    lo, hi = rule["reads_below"]
    quantized = rule["quantized_rows"]
    return (f"decode: F16 / BF16 / F32 weights on gfx906 ({' / '.join(rule['cards'])}) decode slower than this "
            f"estimate: published MI50 rows of all three types read {lo}-{hi}x below it, while the same card's "
            f"{' and '.join(quantized['types'])} rows read within {quantized['within_pct']}%; a quantized file avoids "
            "it (docs/methodology.md 5f-rocm31)",)


def _on_rocm_arch(devices, archs: tuple[str, ...]) -> bool:
    """Whether any of `devices` runs ROCm on an architecture whose name starts with one of `archs`."""
    return any(d.backend == "rocm" and (architecture(d) or "").startswith(archs) for d in devices)
