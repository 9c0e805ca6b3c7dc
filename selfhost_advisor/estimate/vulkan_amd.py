"""AMD GPUs under ggml-vulkan: which Vulkan driver runs them, and what that changes (docs/methodology.md 5b-vkamd2).

Why: ggml-vulkan reads the driver (VkPhysicalDeviceDriverProperties.driverID) and chooses kernels by it on AMD:
- the large 128 x 128 matmul tiles go to AMD GPUs with KHR coopmat only where the driver is not AMD's proprietary one
  (`device->mul_mat_l[i] = device->coopmat_support && device->driver_id != vk::DriverId::eAmdProprietary` and the
  256-thread AMD tuning under the same condition; PR #18749 enabled them 2026-01-11, PR #18763 the next day turned them
  off on the proprietary driver after a regression reported in #18749); RADV (Mesa) and AMDVLK ("AMD open-source
  driver", driverID eAmdOpenSource) both get them;
- KHR coopmat at all: on AMD's two drivers only where ggml-vulkan calls the GPU AMD_RDNA3 (RDNA 3 and later), on RADV
  wherever the driver exposes it (ggml_vk_khr_cooperative_matrix_support) - the same set of GPUs, as RADV exposes
  KHR_cooperative_matrix from RDNA 3 on;
- AMDVLK reports 32 KiB of shared memory to RADV's 64 KiB (AMDVLK#420); every matmul tile ggml-vulkan builds for a
  512-token batch fits in 32 KiB (ggml_vk_matmul_shmem_support / _int_shmem_support: 28 KiB for the large Q4_0 / Q3_K
  MMQ tile with FP16), so the tile choice is RADV's.
What no source gives is the rate: on one Strix Halo (kyuz0's toolbox logs), AMDVLK's Llama-2-7B Q4_0 pp512 went
from 1495 tokens/s (build 7423, December 2025) to 325-350 (builds 7938-9187, after PR #18749), while RADV's stayed at
1136-1356; gemma-3-4b Q3_K_S 1799 -> 647-657. Since session 15 the estimate takes AMDVLK's measured ratio to RADV on
builds with the large tiles (amdvlk_prefill_share; one measured pair per shader, checked on the others) and fit says so
(driver_note).
"""
from __future__ import annotations

from ..domain import Device
from . import vulkan_intel

DRIVERS = ("radv", "amdvlk", "windows")


def driver(device: Device) -> str:
    """The Vulkan driver an AMD device runs on: its own `vulkan_driver` (the hardware name's driver word or
    ggml_vulkan's device note), else the row's (vulkan_intel.with_driver), else "" (unknown: taken as RADV, the driver
    of nearly every fitted AMD Vulkan row)."""
    return vulkan_intel.driver(device)


def large_tiles_allowed(device: Device) -> bool:
    """Whether ggml-vulkan may give this AMD device its large matmul tiles: not on AMD's proprietary driver (PR
    #18763); True for every other device (the caller still asks for coopmat and the build)."""
    return not (device.vendor == "amd" and driver(device) == "windows")


def amdvlk_prefill_share(device: Device, path: str, matrix: str, large_tiles: bool) -> float:
    """Share of RADV's prefill matmul speed an AMD GPU reaches under AMDVLK with the large AMD tiles (`large_tiles`:
    a coopmat build since PR #18749, vulkan_path.tile's rule): data/speed.yaml vulkan_amd.amdvlk_large_tile_share,
    `scalar` for the FP32 scalar shader (BF16 on RDNA 3 / 3.5: path 'shader' on a coopmat device), `coopmat` for the
    coopmat1 shaders of every other type; 1 on any other driver, GPU or build. Why: PR #18763 took the 256-thread
    128 x 128 tiles off AMD's proprietary driver after a regression, AMDVLK kept them, and on Strix Halo its prefill
    fell to 0.26x (quantized) and 0.08x (BF16) of RADV's on the same build, decode unchanged (kyuz0's logs; measured,
    not derived: docs/methodology.md 5b-vkamd3). vulkan_path.path_seconds applies it to the dense matmuls only: MUL_MAT_ID
    never takes the large tile on AMD (mul_mat_id_l false; docs/methodology.md 5f-halo4)."""
    if device.vendor != "amd" or matrix != "coopmat" or not large_tiles or driver(device) != "amdvlk":
        return 1.0
    from ..catalog.data import load

    shares = (load("speed").get("vulkan_amd") or {}).get("amdvlk_large_tile_share") or {}
    return float(shares.get("scalar" if path == "shader" else "coopmat", 1.0))


def sustained_clock_share(device: Device) -> float:
    """Share of its boost clock an AMD GPU's matrix-unit prompt matmuls (coopmat1 / coopmat) run at under a sustained
    llama.cpp load, where that clock is measured: data/speed.yaml vulkan_amd.sustained_clock_mhz, by hardware-profile id
    prefix (the Radeon 8060S of the Ryzen AI Max+ 395: 2604 of 2900 MHz averaged by three boxes under a 30-minute load);
    1 elsewhere. Why: the matrix rate the estimate divides by is read at the boost clock (data/hardware.yaml,
    data/apu.yaml), and on that chip prompt speed follows the clock it sustains (the same boxes capped at 2200-2600 MHz,
    docs/methodology.md 5b-vkamd9). vulkan_path.path_seconds applies it to the matrix paths only: the FP32 scalar
    shader draws less power than the WMMA load the clock was read under."""
    if device.vendor != "amd" or not device.matched_profile:
        return 1.0
    from ..catalog.data import load
    from .kernel_path import profile_entry

    entry = profile_entry(device, (load("speed").get("vulkan_amd") or {}).get("sustained_clock_mhz"))
    if entry and entry.get("boost_mhz"):
        return min(1.0, float(entry["mhz"]) / float(entry["boost_mhz"]))
    return 1.0


def coopmat_type_time(device: Device, ggml_type: str, date: str) -> float:
    """Time of the coopmat1 prompt matmul per weight of `ggml_type` over that of Q4_0, whose class rate the fit prices,
    on an AMD GPU, for a build of `date` ("" = today's): data/speed.yaml vulkan_amd.coopmat_type_time, from builds since
    its `since`; 1 for other types, vendors and older builds. Why: the five legacy types share one fitted tile rate
    (vulkan_path._superblock), but load_a_to_shmem dequantizes Q8_0 4 weights a call and Q4_0 8, and on RDNA 4 the
    whole Q8_0 kernel measured 1.155x Q4_0's (test-backend-ops MUL_MAT, llama.cpp PR #27952's "vk-master" column;
    measured, not fitted: docs/methodology.md 5b-vkamd13; MXFP4 and IQ4_NL, legacy-class blocks read through a table,
    from the same column: 5c-s29v). Called by vulkan_path._path_seconds for the coopmat_dequant path only."""
    if device.vendor != "amd":
        return 1.0
    from ..catalog.data import load

    cfg = (load("speed").get("vulkan_amd") or {}).get("coopmat_type_time") or {}
    if not cfg or (date and date < str(cfg["since"])):
        return 1.0
    return float((cfg.get("ratios") or {}).get(ggml_type, 1.0))


def driver_note(devices) -> str | None:
    """The one-line note fit prints for an AMD GPU under Vulkan on AMDVLK: the estimate is RADV's kernels at RADV's
    rate; AMDVLK builds since January 2026 measured a quarter to a third of that prefill on Strix Halo; its FP16
    shader matmuls run unpacked (vulkan_path.amd_shader_ops_per_lane)."""
    if not any(d.vendor == "amd" and d.backend == "vulkan" and driver(d) == "amdvlk" for d in devices):
        return None
    return ("AMD GPU under Vulkan on AMDVLK: since llama.cpp's large AMD matmul tiles (PR #18749, January 2026) "
            "dense prompt matmuls run at RADV's x 0.26 (BF16 x 0.08), the ratios measured on one Strix Halo (kyuz0's "
            "toolbox logs; an MoE's routed experts keep the medium tile and RADV's rate); without matrix cores (RDNA 2 and older) its FP16 matmul shaders run at the FP32 rate, half "
            "RADV's (AMDVLK emits no packed FP16 math, AMDVLK#279); AMDVLK is discontinued, RADV (Mesa) is the "
            "faster driver there; decode is the same on both")



def mmvq_lane_saving(device: Device, ggml_type: str, architecture: str, int_dot: bool, date: str) -> float:
    """Lane-cycles per weight the integer-dot mat-vec (mul_mat_vecq.comp) saves over the float one (mul_mat_vec.comp)
    on an AMD GPU with integer dot (`int_dot`), for a type and build (`date`, "" = today's) that take it
    (ggml_vk_should_use_mmvq); 0 elsewhere. Why: a decoded token's mat-vecs on GCN 5.1 are bound by the vector lanes
    (vulkan_path.matvec_excess), and the integer-dot shader replaces each weight's unpack, int->float convert, subtract
    and FMA by a quarter of a v_dot4_i32_i8 while loading the same bytes; the saving is the VALU count per weight of
    the two shaders' Q4_0 loops, each row's instructions plus the activation column's shared by the workgroup's rows
    (data/speed.yaml vulkan_amd.mmvq_lanes; docs/methodology.md 5b-vkamd11). Called through
    vulkan_path.mmvq_lane_saving, which reads the device's architecture, integer dot and build."""
    from ..catalog.data import load

    cfg = (load("speed").get("vulkan_amd") or {}).get("mmvq_lanes") or {}
    if not cfg or not int_dot or device.vendor not in (cfg.get("vendors") or ()):
        return 0.0
    gcn = architecture.startswith("GCN")
    if not any(ggml_type in h["types"] and (not date or date >= str(h["from"])) and (gcn or not h.get("gcn_only"))
               for h in cfg["history"]):
        return 0.0
    key = "gcn" if gcn else "default"
    per = float(cfg["weights_per_iteration"])
    float_cost = float(cfg["float_per_row"]) + float(cfg["float_per_column"]) / float(cfg["float_rows"][key])
    int_cost = float(cfg["int_dot_per_row"]) + float(cfg["int_dot_per_column"]) / float(cfg["int_dot_rows"][key])
    return max(0.0, (float_cost - int_cost) / per)
