"""Intel GPUs under ggml-vulkan: the architecture ggml-vulkan sees and the Vulkan driver that runs it (docs/methodology.md
5b-vkintel; data/speed.yaml `vulkan_intel`).

Why: on the same Arc card, the same llama.cpp build and the same model, Intel's Linux driver (Mesa's ANV) decoded at
0.32-0.40 of the speed of Intel's Windows driver in mid-2025 (llama.cpp PR #14001's table: B580 41.8 vs 130 t/s, 140V
13.7 vs 36.9, A770 39.0 vs 96.8). Nothing in a spec sheet carries that: ANV's compiler turns ggml-vulkan's byte-wise
K-quant scale loads into many small memory messages (PR #21751: "at least the ANV Intel driver really can't practically
perform this optimization"; its fix cut the mat-vec shaders' SEND count by up to 40%), so the driver is an input.
Arc Pro B60 rows of April 2026 (Mesa 26 with the compiler fixes of PR #21431's Mesa work items) decode at the
Windows-driver estimate, so the ratio holds for llama.cpp builds dated before `anv_fixed_since`.

ggml_vk_get_device_architecture calls a device INTEL_XE2 when its minimum subgroup size is 16 (Xe2's SIMD16 vector
engines: Battlemage and Lunar Lake alike); only INTEL_XE2 gets KHR cooperative matrices (PR #14001). The spec table
names Battlemage "Xe2-HPG"; Lunar Lake's Arc 130V / 140V are APU profiles (data/apu.yaml) without an architecture,
which vulkan_path._ARCH_BY_PREFIX gives them.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..domain import Device
from . import kernel_path
from .scoped import pushed

DRIVERS = ("mesa", "windows")
_DRIVER: list[str] = []  # the Vulkan driver of the row being predicted (scripts/fit_speed.py); empty: the device's


def with_driver(name: str):
    """Within it, an Intel device under Vulkan whose own `vulkan_driver` is unset runs on `name` ("mesa",
    "windows"; "" = unknown)."""
    return pushed(_DRIVER, name or "")


_MESA: list[str] = []  # the Mesa release the row being predicted states ("25.2.8"); empty: none stated
_MESA_RELEASE = re.compile(r"\bMesa\s+(\d+)\.(\d+)(?:\.(\d+))?", re.I)


def mesa_release(text: str) -> str:
    """The Mesa release a row's build text states ("Mesa 25.2.8 ANV" -> "25.2.8"), "" when it names none."""
    m = _MESA_RELEASE.search(text or "")
    return ".".join(g for g in m.groups() if g is not None) if m else ""


def with_mesa(release: str):
    """Within it, an Intel device under Vulkan on Mesa's ANV runs the Mesa `release` a row states ("" = unstated: the
    llama.cpp build's date alone decides, _fixed)."""
    return pushed(_MESA, release or "")


def driver(device: Device) -> str:
    """The Vulkan driver an Intel device runs on: its own `vulkan_driver` (a spec's driver=, the probe's OS), else the
    row's (with_driver), else "" (unknown: decode_factor takes Intel's Windows driver, the one the fit saw)."""
    return device.vulkan_driver or (_DRIVER[-1] if _DRIVER else "")


@lru_cache(maxsize=1)
def _rules() -> dict:
    from ..catalog.data import load

    return load("speed").get("vulkan_intel") or {}


def fa_prefill_flops_per_lane_cycle() -> float:
    """FLOPs per lane-clock of ggml-vulkan's scalar flash attention in prompt processing on Intel (data/speed.yaml
    vulkan_intel; vulkan_path.intel_fa_prefill_rate); 0 when unset."""
    return float(_rules().get("fa_prefill_flops_per_lane_cycle") or 0.0)


def fa_decode_flops_per_lane_cycle() -> float:
    """FLOPs per lane-clock of ggml-vulkan's scalar flash attention at one query row (decode) on Intel (data/speed.yaml
    vulkan_intel; vulkan_path.intel_fa_decode_excess); 0 when unset."""
    return float(_rules().get("fa_decode_flops_per_lane_cycle") or 0.0)


def _intel_vulkan(device: Device) -> bool:
    return device.vendor == "intel" and device.backend == "vulkan"


def _fixed(date: str) -> bool:
    """Whether a llama.cpp build of `date` ("" = today's) is dated on or after `anv_fixed_since` (April 2026) and, where
    the row states its Mesa release (with_mesa), that release is of a Mesa major from `anv_fixed_mesa_major` on (26, the
    first year of releases that can carry the fixes). Why both: the fixes are ANV compiler work in Mesa (PR #21431's
    Mesa work items, MR 40796) beside llama.cpp's own shader change (PR #21751), so a 2026 llama.cpp on a stock Mesa 25
    still decodes at the ANV ratio (the Arc 140V's Mesa 25.2.8 rows of 2026-06, docs/methodology.md 5b-vkintel9)."""
    fixed = str(_rules().get("anv_fixed_since") or "")
    if not fixed or (date and date < fixed):
        return False
    release, major = (_MESA[-1] if _MESA else ""), int(_rules().get("anv_fixed_mesa_major") or 0)
    return not (release and major and int(release.split(".")[0]) < major)


def _release(text: str) -> tuple[int, ...]:
    """A Mesa release as numbers ("26.0.3" -> (26, 0, 3)); () for none."""
    return tuple(int(p) for p in text.split(".") if p.isdigit()) if text else ()


def anv_tier(date: str = "") -> str:
    """How ANV's decode deficit is priced for a llama.cpp build of `date` ("" = today's) and the Mesa release the row
    states (with_mesa): "fixed" (no ratio: `_fixed`, and a stated release, if any, from `anv_type_ratios.fixed_mesa`
    on), "type" (`anv_type_ratios`: a ratio per weight type, float weights none) or "ratio" (`anv_decode_ratio` on the
    whole token, as PR #14001 measured it). "type" where the build takes the integer-dot K-quant mat-vec on Linux
    (from `anv_type_ratios.since`, llama.cpp PR #16900) on a Mesa of the 26 major before the fixed release, or an
    unstated one before `anv_fixed_since`; a stated Mesa 25 keeps "ratio" (5b-vkintel9). docs/methodology.md
    5b-vkintel11."""
    rules = _rules()
    types = rules.get("anv_type_ratios") or {}
    release = _release(_MESA[-1] if _MESA else "")
    if _fixed(date):
        return "type" if types and release and release < _release(str(types.get("fixed_mesa") or "")) else "fixed"
    major = int(rules.get("anv_fixed_mesa_major") or 0)
    if not types or (release and major and release[0] < major) or not date or date < str(types.get("since") or "9999"):
        return "ratio"
    return "type"


def anv_type_ratio(ggml_type: str) -> float:
    """ANV's decode speed over Intel's Windows driver for one weight type in the "type" tier (anv_tier):
    `anv_type_ratios.legacy` for the legacy blocks ggml_vk_should_use_mmvq keeps on the float mat-vec on Intel's Linux
    driver (Q4_0, Q5_1: "From tests on A770 Linux"), `quantized` for every other block-quantized type (the K-quant file
    of the same measurement: Q4_K on the integer-dot MMVQ, its Q6_K tensors on the float mat-vec), 1 for float weights
    (F16 / BF16 / F32: read as whole vectors; ANV's deficit is the block types' narrow per-field loads, llama.cpp PRs
    #21751 / #20869). MEASURED: one A770, Linux against Windows, the same build (llama.cpp PR #19988, b8191)."""
    from .kernel_path import FLOAT_TYPES

    if ggml_type in FLOAT_TYPES:
        return 1.0
    types = _rules().get("anv_type_ratios") or {}
    key = "legacy" if ggml_type in tuple(types.get("legacy_types") or ()) else "quantized"
    return float(types.get(key) or 1.0)


def anv_weight_seconds(device: Device, matrices, bandwidth: float, date: str = "", arch: str = "") -> float:
    """Seconds a decoded token's weight reads (`matrices`: (type, weights, bytes) per matrix) take on Mesa's ANV beyond
    the Intel Windows-driver estimate in the "type" tier (anv_tier): each type's streaming time bytes / `bandwidth`
    times 1 / anv_type_ratio - 1, over the Intel share (decode_share). 0 off Intel under Vulkan, on another driver and
    in the other tiers (decode_factor carries the whole-token ratio there)."""
    if not _intel_vulkan(device) or driver(device) != "mesa" or not bandwidth or anv_tier(date) != "type":
        return 0.0
    extra = sum(nbytes / bandwidth * (1.0 / anv_type_ratio(ty) - 1.0) for mats in matrices for ty, _, nbytes in mats)
    return extra / decode_share(device, date, arch)


def decode_factor(device: Device, date: str = "", arch: str = "") -> float:
    """Decode speed of an Intel GPU under Vulkan relative to the Vulkan family's law (1 for every other vendor and
    backend): `decode_share` (decode_share()) times, on Mesa's ANV in the "ratio" tier (anv_tier: a llama.cpp build
    dated before `anv_type_ratios.since`, or a stated Mesa 25 in any build), `anv_decode_ratio` (ANV over Intel's
    Windows driver on the same card and build); in the "type" tier (later builds before the fixes) ANV's deficit is
    priced per weight type (anv_weight_seconds). `date`: the
    build's (vulkan_path.build()[0]), "" = today's (a user's estimate: it has the 2026 fixes); `arch`: the device's
    architecture as ggml-vulkan sees it (vulkan_path.architecture; the callers pass both: vulkan_path imports this
    module)."""
    if not _intel_vulkan(device):
        return 1.0
    ratio = driver(device) == "mesa" and anv_tier(date) == "ratio"
    anv = float(_rules().get("anv_decode_ratio") or 1.0) if ratio else 1.0
    return anv * decode_share(device, date, arch)


def decode_share(device: Device, date: str = "", arch: str = "") -> float:
    """Share of the Vulkan family's decode rate a discrete Intel GPU reaches on Intel's Windows driver: `decode_share`
    of data/speed.yaml vulkan_intel (fitted, docs/methodology.md 5b-vkintel2 / 5b-vkintel3), except the Xe2 class in
    builds from `xe2_large_matvec_since` on, which decode at the family's law (decode_at_law); 1 for an
    integrated Intel GPU (its deficit is a time per layer: layer_seconds) and every other vendor and backend."""
    if not _intel_vulkan(device) or device.unified or decode_at_law(arch, date):
        return 1.0
    return float(_rules().get("decode_share") or 1.0)


def layer_seconds(device: Device, model=None, date: str = "", arch: str = "") -> float:
    """Fixed decode time per layer an integrated Intel GPU under Vulkan adds to the family's law (Meteor Lake, Lunar
    Lake; docs/methodology.md 5b-vkintel4): the compute dispatches ggml-vulkan records for one decoded layer of `model`
    in a build of `date` ("" = today's; dispatches_per_layer) times the time one dispatch costs on the GPU
    (`igpu_dispatch_us` of data/speed.yaml vulkan_intel, FITTED on the Arc 140V, an Xe2 GPU), times
    `xe_lpg_dispatch_ratio` on a pre-Xe2 GPU (`arch` not Xe2, vulkan_path.architecture: Meteor Lake's Xe-LPG; the
    ratio is MEASURED on the discrete pair of the same build and model, A770 over B580). 0 on a discrete GPU and off
    Intel. Why a time per dispatch: on one iGPU the deficit grows with the ops a layer records (Gemma 4's norms and
    per-layer inputs, the unfused graphs of 2024-25), not with the weights a layer streams. Without a model (a caller
    that has none): the dispatches of the calibration rows' layer (Gemma 2 in June 2025). The ANV ratio
    (decode_factor) divides it as it divides the law."""
    if not _intel_vulkan(device) or not device.unified:
        return 0.0
    rules = _rules()
    us = float(rules.get("igpu_dispatch_us") or 0.0)
    if not arch.startswith(_XE2_CLASS):
        us *= float(rules.get("xe_lpg_dispatch_ratio") or 1.0)
    n = dispatches_per_layer(model, date) if model is not None else float(rules["igpu_dispatch"]["calibration_dispatches"])
    return us * n * 1e-6


_XE2_CLASS = ("Xe2", "Xe3")  # ggml_vk_get_device_architecture: INTEL_XE2 = minimum subgroup size 16


def dispatches_per_layer(model, date: str = "") -> float:
    """Compute dispatches ggml-vulkan records for one decoded layer of `model` (averaged over its layers) in a
    llama.cpp build of `date` ("" = today's): the nodes of llama.cpp's graph for one token (llm_build_llama and the
    architecture's extras of data/speed.yaml vulkan_intel.igpu_dispatch) less the ones ggml-vulkan fuses into a
    neighbour from the date each fusion landed (ggml_vk_can_fuse: RMS_NORM+MUL, GLU ops, ROPE+SET_ROWS, mat-vec +
    bias ADD, RMS_NORM+MUL+ROPE), with flash attention (one FLASH_ATTN_EXT for KQ, SOFT_MAX, KQV and the CONT) where
    the row states -fa 1, else from the date its tool's default turned auto (kernel_path.fa_stated_or_default). Layers
    that reuse an earlier layer's KV (Gemma 3n / 4 KV sharing) record no K, V, K rope, V norm or cache writes. Dense layers: an MoE layer's routing ops are not counted."""
    r = _rules()["igpu_dispatch"]

    def since(key: str) -> bool:
        return not date or date >= str(r[key])

    ex = (r.get("architectures") or {}).get(model.arch, {})
    per_norm = 1 if since("rms_norm_mul_since") else 2
    norms = 2 + int(ex.get("weighted_norms", 0)) + (2 if model.qk_norm else 0)
    rope_kv = 4 - (1 if since("rope_set_rows_since") else 0) - (2 if model.qk_norm and since("norm_rope_since") else 0)
    attention = 1 if kernel_path.fa_stated_or_default(date) else 4 + int(ex.get("softcap", 0))
    ops = (norms * per_norm + 7 + int(ex.get("matvecs", 0)) + rope_kv + attention + int(ex.get("ops", 0))
           + (1 if since("glu_since") else 2) + 2)
    if model.attention_bias and not since("mul_mat_add_since"):
        ops += 3  # the Q, K, V bias ADDs before ggml-vulkan fused them into the mat-vec
    shared = min(model.kv_shared_layers, model.n_layers)
    if not shared:
        return float(ops)
    k_side = ((per_norm if model.qk_norm else 0) + 2 - (1 if since("rope_set_rows_since") else 0)
              - (1 if model.qk_norm and since("norm_rope_since") else 0))
    saved = 2 + k_side + int(ex.get("v_norm", 0)) + 1
    return ops - saved * shared / model.n_layers


def decode_at_law(arch: str, date: str = "") -> bool:
    """A GPU of ggml-vulkan's INTEL_XE2 class (`arch` Xe2-HPG / Xe2-LPG / Xe3-LPG: Battlemage, Lunar Lake, Panther
    Lake; a minimum subgroup size of 16) in a llama.cpp build ("" = today's) from `xe2_large_matvec_since` on: it
    decodes at the family's law (no decode_share; ANV's ratio still applies before `anv_fixed_since`, decode_factor).
    Why that date: llama.cpp PR #15355 (ggml 79c0d779, 2025-08-17) added VK_VENDOR_ID_INTEL to the mat-vec workgroup
    heuristic of ggml_vk_get_dequantize_mul_mat_vec (the large, subgroup-reduced workgroup for m <= 8192, k >= 1024),
    and the Xe2 rows of later builds read the law: the B580 / B50 ANV rows of October 2025 at the ANV ratio alone, the
    B60 / B70 of 2026 without it (docs/methodology.md 5b-vkintel10). Alchemist keeps the share (issue #17628's A770 of
    November 2025 on Intel's Windows driver decodes at it). Without the key: from `anv_fixed_since` (session 14)."""
    since = str(_rules().get("xe2_large_matvec_since") or "")
    if not arch.startswith(_XE2_CLASS):
        return False
    return (not date or date >= since) if since else _fixed(date)


def vector_path_share(device: Device, matrix: str, path: str) -> float:
    """Share of the family's vector-lane matmul rate (paths 'shader' and 'mmq', vulkan_path.peak) an Intel GPU reaches
    where ggml-vulkan gives it no cooperative matrix (`matrix` 'none': Alchemist, Meteor Lake, Xe2 before PR #14001):
    ggml_vk_get_device then leaves Intel without the large tile (mul_mat_l = coopmat_support) and ggml_vk_load_shaders
    without its Intel warptiles (tuned only `if (vendor == INTEL && coopmat_support)`), so mul_mm.comp runs the generic
    medium tile tuned on NVIDIA and AMD. `vector_path_share` of data/speed.yaml vulkan_intel is fitted on the Intel rows
    held before session 14 (docs/methodology.md 5b-vkintel2); 1 elsewhere (Xe2 with coopmat, every other vendor)."""
    if not _intel_vulkan(device) or matrix != "none" or path not in ("shader", "mmq"):
        return 1.0
    return float(_rules().get("vector_path_share") or 1.0)


def anv_matrix_share(device: Device, path: str, date: str = "") -> float:
    """Share of the cooperative-matrix prefill rate (paths 'coopmat' and 'coopmat_dequant', vulkan_path.peak) an Intel
    GPU reaches on Mesa's ANV in a llama.cpp build dated before `anv_fixed_since`: `anv_coopmat_prefill_ratio`
    (MEASURED: PR #14001's Mesa / Windows pp512 on the same card and build with KHR coopmat on, B580 583.28 / 1631.44
    and Arc 140V 167.94 / 416.53); 1 on Intel's Windows driver, an unknown driver, a 2026 build and every other path,
    vendor and backend. `date`: the build's (vulkan_path.build()[0]), "" = today's."""
    if not _intel_vulkan(device) or path not in ("coopmat", "coopmat_dequant") or driver(device) != "mesa" \
            or _fixed(date):
        return 1.0
    return float(_rules().get("anv_coopmat_prefill_ratio") or 1.0)


def xe1_coopmat(device: Device, arch: str, date: str = "") -> bool:
    """Whether ggml-vulkan gives a pre-Xe2 Intel iGPU KHR cooperative matrices: llama.cpp PR #24404 (ggml 0a869126,
    2026-06-26) added INTEL_XE1 (minimum subgroup 8, accelerated 4x8-bit dot products) and
    ggml_vk_khr_cooperative_matrix_support returns true for it on an integrated GPU under Intel's Windows driver
    ("enable coopmat1 on Intel Xe-LPG Plus"): the Arc 140T of Arrow Lake H, whose Xe cores carry XMX. `arch` in
    `xe1_coopmat.architectures`, a build from `xe1_coopmat.since` ("" = today's), the Windows driver or an unstated one
    (the convention here); never ANV, a discrete card or Meteor Lake (Xe-LPG without XMX: its driver lists no
    cooperative-matrix shapes, taken, not read)."""
    rule = _rules().get("xe1_coopmat") or {}
    if not _intel_vulkan(device) or not device.unified or arch not in (rule.get("architectures") or ()):
        return False
    return driver(device) != "mesa" and (not date or date >= str(rule.get("since") or "9999"))


def bf16_on_fp32_lanes(device: Device, date: str = "") -> bool:
    """Whether a BF16 prompt matmul on this GPU is priced at the FP32 scalar shader's rate on the vector lanes
    (bf16_flops_per_lane_cycle): on every Intel GPU under Vulkan, whatever the driver and build (`date` is kept for
    the callers' signature). Why: Intel's Windows driver exposes no BF16 ("Current Windows driver does not expose BF16
    support", ggml_vk_get_device, ggml-org/ggml d99724f), so ggml_vk_load_shaders builds pipeline_matmul_bf16 from the
    FP32 scalar shader ("reusing CREATE_MM from the fp32 path"); ANV exposes BF16 cooperative matrices (llama.cpp PR
    #21431: "BF16 extension is available for Xe2/Xe3 on Linux") and ggml runs its BF16 coopmat shader there, but the
    ANV BF16 rows of 2026 (Arc Pro B70 / B60, Arc 140V) measure 0.86-1.16 FLOPs per lane-clock, the FP32 shader's
    rate (PR #22461's B580 microbenchmark: 1.14), not XMX's (the B70's Q4_0: 3.2): the native-float coopmat shaders
    spill registers with Intel's large warptile (PR #21431: matmul_f16_l "spill 75 -> 0" with a smaller one; closed
    unmerged) (docs/methodology.md 5b-vkintel8). False off Intel under Vulkan."""
    return _intel_vulkan(device)


def bf16_flops_per_lane_cycle() -> float:
    """FLOPs per lane-clock (128 lanes per Xe core, boost clock) of a BF16 prompt matmul on Intel under Vulkan,
    MEASURED (data/speed.yaml vulkan_intel: llama.cpp PR #22461's B580 test-backend-ops, n = 512); 0 when unset."""
    return float(_rules().get("bf16_flops_per_lane_cycle") or 0.0)


def unknown_driver(device: Device) -> bool:
    """An Intel GPU under Vulkan whose driver nobody stated: the estimate assumes Intel's Windows driver (say
    driver=mesa in the hardware spec for Linux)."""
    return device.vendor == "intel" and device.backend == "vulkan" and not driver(device)


def driver_note(devices) -> str | None:
    """The one-line note fit prints for an Intel GPU under Vulkan that is not stated to run Intel's Windows driver:
    the estimate takes a 2026 build, where ANV and the Windows driver decode alike; an older Mesa may not."""
    if not any(d.vendor == "intel" and d.backend == "vulkan" and driver(d) != "windows" for d in devices):
        return None
    said = "driver not stated (say 'mesa' or 'windows' after 'vulkan')" if any(unknown_driver(d) for d in devices) \
        else "on Mesa's ANV (Linux)"
    return (f"Intel GPU under Vulkan, {said}: decode assumes a 2026 llama.cpp and driver; before the 2026 fixes "
            f"(llama.cpp PR #21751, Mesa work items 15162/15311) ANV decoded at "
            f"{_rules().get('anv_decode_ratio', 1.0):.2f}x Intel's Windows driver (PR #14001): an older Mesa may still")
