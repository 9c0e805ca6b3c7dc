"""A GPU's rates in the speed estimate: its FLOPS for llama.cpp's GEMMs per backend, its SM cycles, the fixed decode
time per layer, and the seconds the mat-vec kernels add beyond streaming the weights (kernel-bound decode).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..catalog.gpu_table import by_id
from ..catalog.hardware import profile_by_id
from ..domain import Device
from . import cuda_path, hip_graphs, kernel_path, metal_path, sycl_path, vulkan_path
from .kernel_path import gpu_clock_hz
from .memory_kv import recurrent_state_widths
from .speed_factors import _hardware_family, _rate, _rate_table, _speed_data, Efficiency, family


def _device_flops(device: Device, quantized: bool = False) -> float | None:
    """llama.cpp's CUDA GEMMs accumulate in FP16 (cuBLAS CUBLAS_COMPUTE_16F; MMQ int8), where GeForce cards run
    twice their FP32-accumulate tensor rate; so do its Vulkan matmuls at default precision (ggml-vulkan.cpp
    ggml_vk_get_mul_mat_mat_pipeline picks the `f16acc` pipeline when the device has FP16 and, with cooperative
    matrices, f16 accumulators). Other backends use the listed FP16 rate.

    Quantized weights on CUDA go through llama.cpp's MMQ kernels, which use mma.sync only: on families whose spec rate
    needs another instruction (Hopper: wgmma) they reach data/speed.yaml mmq_tensor_share of it.
    """
    if device.backend == "sycl":  # the library's measured GEMM rate at this build: XMX, or an FP32 build's vector lanes
        rate = sycl_path.gemm_rate(device, gpu_clock_hz(device))  # (estimate/sycl_path.py, methodology 5b-sycl8)
        if rate:
            return rate
    if device.backend == "vulkan" and device.vendor == "intel" and device.matched_profile:
        shader = _vulkan_shader_flops(device.matched_profile)
        if shader:
            return shader
    flops = (device.fp16_acc16_flops if device.backend in ("cuda", "vulkan") and device.fp16_acc16_flops
             else device.fp16_flops)
    if flops and quantized and device.backend == "cuda" and device.matched_profile:
        share = _speed_data().get("mmq_tensor_share", {}).get(_hardware_family(device.matched_profile))
        if share:
            flops *= float(share["share"])
    return flops


@lru_cache(maxsize=64)
def _vulkan_shader_flops(profile_id: str) -> float | None:
    """FP16 rate of the vector ALUs (shaders x 4 x boost clock) of a GPU whose matrix units ggml-vulkan leaves unused
    (data/speed.yaml vulkan_matrix_units: Intel Xe-HPG), else None."""
    rule = _speed_data().get("vulkan_matrix_units") or {}
    row = by_id(profile_id)
    if (row and row.get("architecture") in (rule.get("shader_only_architectures") or ())
            and row.get("shaders") and row.get("boost_clock_mhz")):
        return float(row["shaders"]) * 4 * float(row["boost_clock_mhz"]) * 1e6
    return None


def sm_cycles_per_s(device: Device) -> float | None:
    """Clock x SMs of a CUDA device, counted in 128-lane SMs: CUDA cores / 128 x boost clock.

    The kernel rates are per 128 FP32 lanes (an SM of GA10x, Ada, Hopper and Blackwell); GA100 (A100) and Turing SMs
    have 64, and MMVQ's scale arithmetic runs on those lanes: an A100 counts as 54 such SMs, not 108. From the
    profile (data/hardware.yaml: TechPowerUp core counts and boost clocks), else from what NVML reported."""
    if device.backend != "cuda":
        return None
    if device.matched_profile:
        p = profile_by_id(device.matched_profile)
        if p is not None and p.raw.get("boost_clock_mhz"):
            units = p.raw["cuda_cores"] / 128 if p.raw.get("cuda_cores") else p.raw.get("sm_count")
            if units:
                return float(units) * float(p.raw["boost_clock_mhz"]) * 1e6
    det = device.details
    if det is not None and det.max_sm_clock_mhz and (det.gpu_cores or det.sm_count):
        units = det.gpu_cores / 128 if det.gpu_cores else det.sm_count
        return float(units) * float(det.max_sm_clock_mhz) * 1e6
    return None


def layer_seconds(eff: Efficiency, device: Device, dense: bool = False, recurrent: bool = False) -> float:
    """Fixed decode time of one layer on `device`: microseconds (layer_s) plus GPU cycles at its clock. `recurrent`:
    the model has recurrent (delta-net, SSM) layers (Metal: no M3+ step scale, metal_path.layer_scale)."""
    if not eff.layer_cycles:  # Metal, dense layers: the build's serial dispatch steps (methodology 5e-apple2)
        if dense:
            return eff.layer_s * metal_path.layer_scale(device, recurrent)
        # an MoE layer keeps the calibration's (uncounted) steps, each at the M3+ step time (methodology 5e-metal8)
        return eff.layer_s * (1.0 if recurrent else metal_path.concurrent_step_scale(device))
    cycles = cuda_path.pascal_layer_cycles(device) or eff.layer_cycles  # Pascal: measured apart (methodology 5c-s21)
    return (eff.layer_s + cycles / (gpu_clock_hz(device) or eff.clock_fallback_hz)
            + cuda_path.graph_launch_seconds(device)  # no CUDA graphs before Volta (methodology 5f, session 12)
            + hip_graphs.graph_launch_seconds(device))  # no HIP graphs before PR #22254 (methodology 5f-rocm17)


def recurrent_layer_extra_seconds(eff: Efficiency, device: Device) -> float:
    """What a delta-net layer adds on `device` over its layer_seconds: Metal's extra serial steps
    (metal_path.recurrent_extra_scale) at the fitted per-layer time; 0 elsewhere. The extra steps are the mixer's
    (the delta-net chain in place of attention), so an MoE layer pays them as a dense one does (session 18)."""
    return 0.0 if eff.layer_cycles else eff.layer_s * metal_path.recurrent_extra_scale(device)


def _kernel_excess(matrices: tuple[tuple[str, int, int], ...], eff: Efficiency, bandwidth: float,
                   cycles_per_s: float | None, extra_cycles: float = 0.0) -> float:
    """Seconds a layer's mat-vecs take beyond streaming their bytes: per GGML type, max(bytes / bandwidth, weights
    / kernel rate) - bytes / bandwidth. The kernel rate (weights per SM-cycle x SMs x clock) binds on parts whose
    memory is fast for their SM count (H100/H200: 4.8 TB/s for 132 SMs), where dequantizing is the bottleneck.
    `extra_cycles` SM-cycles per weight are added to every type's (no __dp4a: cuda_path.emulated_dp4a_cycles)."""
    if not cycles_per_s or not eff.matvec:
        return 0.0
    rates = _rate_table(eff.matvec)
    extra = 0.0
    for ty, n_weights, nbytes in matrices:
        r = _rate(ty, rates)
        if r:
            extra += max(0.0, n_weights * (1.0 / r + extra_cycles) / cycles_per_s - nbytes / bandwidth)
    return extra


def rocm_matvec_cycles(device: Device, lane_factor: float = 1.0) -> float | None:
    """128-lane cycles per second of an AMD GPU over the fitted lane factor (vector lanes / 128 x boost clock / k):
    what the CUDA family's per-SM-cycle mat-vec rates are multiplied by on ROCm; None without lanes or a clock."""
    lanes, hz = kernel_path.vector_lanes(device), gpu_clock_hz(device)
    return lanes / 128 * hz / lane_factor if lanes and hz and lane_factor else None


def recurrent_prefill_seconds(device: Device, model, first: int, count: int) -> float:
    """Seconds per prompt token that the serial GATED_DELTA_NET steps of layers [first, first + count) add on Vulkan,
    CUDA, ROCm, SYCL and Metal (data/speed.yaml recurrent_prefill_step; docs/methodology.md 5b-vkhyb, 5e-metal7): the kernels walk the
    micro-batch's tokens one after another, so each token pays, per delta-net layer, its F32 state elements
    (recurrent_state_widths' n_embd_s) x the lane-cycles per element over the vector lanes x boost clock: the family's
    own where its kernel's per-token time was measured (`lane_cycles_by_family`; CUDA: llama.cpp PR #22587's timing of
    gated_delta_net.cu, methodology 5f-cuda22), else the value fitted on Vulkan rows. Mamba-2 layers: SSM_SCAN's
    token loop, priced the same way from its own kernel timings by build (mamba2_scan_seconds). 0 for other layers,
    kinds and backends, before the family's `since` build, and without lanes or a clock."""
    rule = load("speed").get("recurrent_prefill_step") or {}
    ssm = getattr(model, "ssm", None)
    fam = family(device.backend)
    if ssm is not None and ssm.kind in ((rule.get("mamba2") or {}).get("kinds") or ()):
        return mamba2_scan_seconds(device, model, first, count)
    since = (rule.get("since") or {}).get(fam)
    if not since or ssm is None or ssm.kind not in (rule.get("kinds") or ()):
        return 0.0
    date, lane_hz = _walk_build_and_lanes(device, fam)
    if date and date < str(since):
        return 0.0
    cycles = (rule.get("lane_cycles_by_family") or {}).get(fam, rule["lane_cycles_per_state_element"])
    return state_walk_seconds(model, first, count, float(cycles), lane_hz)


def _walk_build_and_lanes(device: Device, fam: str) -> tuple[str, float | None]:
    """(build date of the row being predicted, vector lanes x clock) by backend family; today's build reads "" (Vulkan)
    or "9999" (kernel_path), either of them at or past every dated step."""
    if fam == "sycl":  # ggml-sycl's build (sycl_path.current) and Intel's 128 FP32 lanes per Xe core
        return sycl_path.current().date, vulkan_path.intel_lane_hz(device)
    if fam == "metal":  # Apple: the shader ALUs' lanes x clock, FP16 FLOPS / 2 (M5+: their share, not the NAs')
        return (kernel_path._build_date(),
                metal_path.simd_flops(device, device.fp16_flops) / 2 if device.fp16_flops else None)
    date = vulkan_path.build()[0] if fam == "vulkan" else kernel_path._build_date()
    return date, vulkan_path._lane_hz(device)


def mamba2_scan_cycles(fam: str, date: str) -> float:
    """Lane-cycles per F32 state element a Mamba-2 SSM_SCAN token step costs in `fam`'s kernel at a build of `date`
    ("": today's): data/speed.yaml recurrent_prefill_step.mamba2.history, the last entry whose `from` the build has
    reached; 0 before the family's first entry (the op ran on the CPU) and for a family with no entry (CUDA / ROCm
    priced and not shipped, Metal and SYCL not timed: methodology 5b-ssm30)."""
    rule = (load("speed").get("recurrent_prefill_step") or {}).get("mamba2") or {}
    step = kernel_path.latest_from((rule.get("history") or {}).get(fam), date or "9999")
    return 0.0 if step is None else float(step["lane_cycles"])


def mamba2_scan_seconds(device: Device, model, first: int, count: int) -> float:
    """Per prompt token, the Mamba-2 layers' SSM_SCAN token loop in [first, first + count): since ggml-vulkan PR
    #18630 one subgroup per (head, head-dim row), d_state / 32 state elements a lane, `for (i = 0; i < n_tok; i++)`
    with one subgroupAdd a token (before it: SPLIT_H = 16 rows per 128-thread work-group, shared-memory reductions
    and barriers in the loop). Each layer's d_state x d_inner elements x mamba2_scan_cycles over the lanes x clock
    (docs/methodology.md 5b-ssm30)."""
    fam = family(device.backend)
    date, lane_hz = _walk_build_and_lanes(device, fam)
    cycles = mamba2_scan_cycles(fam, date)
    ssm = getattr(model, "ssm", None)
    if not cycles or not lane_hz or ssm is None:
        return 0.0
    layers = sum(1 for i in range(first, first + count) if model.is_recurrent(i))
    return layers * recurrent_state_widths(ssm)[1] * cycles / lane_hz


def state_walk_seconds(model, first: int, count: int, cycles: float, lane_hz: float | None) -> float:
    """Per prompt token, the serial state walk of the delta-net layers in [first, first + count): each layer's F32
    state elements (recurrent_state_widths' n_embd_s) x `cycles` lane-cycles an element over `lane_hz` lanes x clock;
    0 for other models and kinds (recurrent_prefill_step `kinds`) or without a lane rate. recurrent_prefill_seconds
    (llama.cpp) and mlx.gated_delta_seconds (mlx-lm's kernel of the same shape) price by it."""
    rule = load("speed").get("recurrent_prefill_step") or {}
    ssm = getattr(model, "ssm", None)
    if ssm is None or ssm.kind not in (rule.get("kinds") or ()) or not lane_hz:
        return 0.0
    layers = sum(1 for i in range(first, first + count) if model.is_recurrent(i))
    return layers * recurrent_state_widths(ssm)[1] * cycles / lane_hz
