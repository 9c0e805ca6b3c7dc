"""Which kernel ggml-cuda runs a quantized prefill matmul with, per GPU generation (docs/methodology.md 5f).

Why: the CUDA prefill terms of estimate/speed.py (tensor FLOPs at the fitted efficiency, MMQ unpacking per SM cycle)
describe MMQ on int8 tensor cores, which is what every fitted GPU (Ampere, Ada, Hopper) runs. Older NVIDIA parts run
other kernels, chosen in ggml/src/ggml-cuda/mmq.cu `ggml_cuda_should_use_mmq` (llama.cpp PR #8075, 2024-06-23):

    if (turing_mma_available(cc)) return true;                      // cc >= 7.5: MMQ, int8 mma.sync
    if (ggml_cuda_highest_compiled_arch(cc) < GGML_CUDA_CC_DP4A)    // cc < 6.1 (P100, Maxwell): no __dp4a
        return false;                                               //   -> dequantize + cuBLAS
    return !fp16_mma_hardware_available(cc) || ne11 < MMQ_DP4A_MAX_BATCH_SIZE;
                                                                    // Pascal 6.1: MMQ on __dp4a;
                                                                    // Volta 7.0: cuBLAS FP16 from 64 tokens on

- "mmq": int8 tensor cores. Their int8 rate is twice the FP16-accumulate rate the fit is expressed in (NVIDIA:
  RTX 4090 660.6 vs 330.3 TOPS/TFLOPS, A100 624 vs 312), so the FLOPS the efficiency applies to are int8 / 2.
- "dp4a": the same MMQ kernels with __dp4a instead of mma (mmq.cuh vec_dot_*_dp4a): int8 at the dp4a rate (4x FP32
  on Pascal GP10x, data/gpu_specs.yaml int8_tops), counted like the tensor path: FLOPS = int8 / 2, same efficiency,
  same unpacking.
- "cublas": each quantized matrix is converted to FP16 (convert.cu: read its bytes, write 2 bytes per weight) and
  multiplied by cuBLAS, once per micro-batch: the 16-bit path (compute_efficiency_f16 of the FP16 rate) plus that
  conversion's memory traffic, and no MMQ unpacking.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog import gpu_table
from ..catalog.data import load
from ..catalog.hardware import profile_by_id
from ..domain import Device
from .kernel_path import _build_date, converted_bytes
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data
from .speed_factors import _hardware_family

# MMQ_DP4A_MAX_BATCH_SIZE (ggml-cuda/mmq.cuh): below it Volta keeps MMQ (dp4a), from it on cuBLAS
DP4A_MAX_BATCH = 64
# GP100 (Tesla P100) is compute capability 6.0: no __dp4a (GP10x parts are 6.1)
_NO_DP4A_CHIPS = ("GP100",)


@lru_cache(maxsize=256)
def _row(profile_id: str) -> dict:
    """The GPU's data/gpu_specs.yaml row, also for a curated profile (found by its name)."""
    row = gpu_table.by_id(profile_id)
    if row is None:
        p = profile_by_id(profile_id)
        hits = gpu_table.lookup(p.name) if p is not None else []
        row = hits[0] if len(hits) == 1 else None
    return row or {}


def compute_capability(device: Device) -> float | None:
    """The device's compute capability: what NVML reported, else its architecture's (Pascal GP10x 6.1, GP100 6.0,
    Volta 7.0, Turing 7.5, Maxwell 5.x, Kepler GK210 3.7 (the Tesla K80, the one Kepler row on ggml-cuda); later
    generations are >= 8.0 and need no distinction here)."""
    det = device.details
    if det is not None and det.compute_capability:
        try:
            return float(det.compute_capability)
        except ValueError:
            pass
    if not device.matched_profile:
        return None

    # the profile's own fields: a spec-table row carries its architecture and chip; a curated profile (all Turing or
    # later) carries neither, and reading the table for it would cost `fit --json` its start-up (tests/test_hw_names)
    p = profile_by_id(device.matched_profile)
    raw = p.raw if p is not None else {}
    arch, chip = raw.get("architecture"), str(raw.get("chip") or "")
    if arch == "Pascal":
        return 6.0 if chip.startswith(_NO_DP4A_CHIPS) else 6.1
    return {"Kepler 2.0": 3.7, "Maxwell": 5.2, "Maxwell 2.0": 5.2, "Volta": 7.0, "Turing": 7.5}.get(arch)


# llama.cpp PR #8075 (merged 2024-06-23): before it, a quantized matmul of more than 32 tokens on a GPU with FP16
# tensor cores (Volta and later) was dequantized to FP16 and multiplied by cuBLAS (PR #3412, 2023-09)
MMQ_DEFAULT_SINCE = "2024-06-23"


def quant_path(device: Device, n_ubatch: int) -> str:
    """"mmq", "dp4a" or "cublas": the kernel ggml-cuda multiplies a quantized weight matrix by `n_ubatch` tokens
    with on this device (module docstring), in the llama.cpp build of kernel_path.at_build's date (the latest by
    default; a published row of an older build replays its own). Unknown generations are taken as current ones."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return "mmq"

    cc = compute_capability(device)
    if _build_date() < MMQ_DEFAULT_SINCE and (cc is None or cc >= 7.0) and n_ubatch > 32:
        return "cublas"
    if cc is None or cc >= 7.5:
        return "mmq"
    if cc < 6.1:
        return "cublas"
    if cc >= 7.0:  # Volta: FP16 tensor cores, no int8 MMQ mma
        return "cublas" if n_ubatch >= DP4A_MAX_BATCH else "dp4a"
    return "dp4a"


def dp4a_flops(device: Device) -> float | None:
    """FLOPS the prefill efficiency applies to on the dp4a path: the dp4a int8 rate / 2 (module docstring)."""
    if not device.matched_profile:
        return None
    tops = _row(device.matched_profile).get("int8_tops")
    return float(tops) * 1e12 / 2 if tops else None


def dequant_seconds(layers: tuple, bandwidth_bytes_per_s: float, n_ubatch: int) -> float:
    """Seconds per prompt token of converting the quantized matrices to FP16 before cuBLAS: each micro-batch reads
    their bytes and writes 2 bytes per weight, at the decode bandwidth share given."""
    moved = sum(converted_bytes(mats, 2) for mats in layers)
    return moved / bandwidth_bytes_per_s / max(1, n_ubatch)


# --- Decode on GPUs older than the fit's: no CUDA graphs, no __dp4a (data/speed.yaml cuda_graphs, cuda_dp4a_emulation)

@lru_cache(maxsize=1)
def _older_rules() -> tuple[dict, dict]:
    data = load("speed")
    return data.get("cuda_graphs") or {}, data.get("cuda_dp4a_emulation") or {}


# graphs_gate_from: a published row of a patched build whose CUDA-graph gate reaches older GPUs (PR #27721: Pascal)
_GATE: list[float] = []


def graphs_gate_from(cc: float):
    """Price the `with` block as a build whose graph gate starts at compute capability `cc` (PR #27721's Pascal
    column: 6.1): a scoped switch for published rows of a patched build, never used by `fit` (the merged gates stand)."""
    from .scoped import pushed

    return pushed(_GATE, float(cc))


def uses_graphs(device: Device) -> bool:
    """Whether ggml-cuda runs a decoded token as one CUDA graph on `device` in the build of kernel_path.at_build's
    date (the latest by default): compute capability >= 8.0, or >= 7.0 from PR #25749 on. Unknown parts: yes."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return True
    if _GATE:
        cc = compute_capability(device)
        return cc is None or cc >= _GATE[-1]
    cc = compute_capability(device)
    if cc is None or cc >= 8.0:
        return True
    if cc >= 7.0:
        return _build_date() >= str(_older_rules()[0].get("volta_since", "0"))
    return False


def graph_launch_seconds(device: Device) -> float:
    """Seconds per layer a decoded token adds where its kernels are launched one by one from the host (no CUDA
    graphs): the published graphs-off minus graphs-on time per layer (data/speed.yaml cuda_graphs); 0 elsewhere."""
    return 0.0 if uses_graphs(device) else float(_older_rules()[0].get("layer_s", 0.0))


def _pascal_rule() -> dict:
    return load("speed").get("cuda_pascal") or {}


def is_pascal(device: Device) -> bool:
    """Whether `device` is an NVIDIA Pascal part (compute capability 6.x) under ggml-cuda."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return False
    cc = compute_capability(device)
    return cc is not None and 6.0 <= cc < 7.0


def pascal_layer_cycles(device: Device) -> float | None:
    """GPU cycles of decode's fixed time per dense layer on a Pascal part, in place of the family's fitted
    layer_cycles (data/speed.yaml cuda_pascal: measured on a P40, not derived); None elsewhere."""
    cycles = _pascal_rule().get("layer_cycles")
    return float(cycles) if cycles and is_pascal(device) else None


def per_node_layers(device: Device) -> bool:
    """Whether an MoE or hybrid layer's fixed decode time on `device` goes with its graph nodes
    (layer_nodes.node_ratio): Pascal under ggml-cuda (data/speed.yaml cuda_pascal per_node)."""
    return bool(_pascal_rule().get("per_node")) and is_pascal(device)


def pascal_decode_caveat(device: Device) -> str | None:
    """The qualification of a decode figure on a Pascal GPU under CUDA (data/speed.yaml cuda_pascal: measured on one
    Linux P40), or None elsewhere; speed.py adds it, as kernel_path.decode_caveat's, where the fixed per-layer time is a
    quarter of the token or more."""
    if not is_pascal(device):
        return None
    return ("decode: Pascal's fixed time per layer is measured on one Tesla P40 under Linux (docs/methodology.md "
            "5c-s21); a Windows host, whose kernel launches are slower, read small-active MoE models up to 23 % "
            "slower than this (GTX 1080, llama.cpp PR #27721)")


def emulated_dp4a_cycles(device: Device) -> float:
    """128-lane SM-cycles per weight the mat-vec kernels add on a GPU without __dp4a (compute capability < 6.1), where
    ggml_cuda_dp4a is 8 byte extractions and 4 multiply-adds: each class at its rate per SM-clock from NVIDIA's
    throughput table, over the SM's FP32 lanes, less the one full-rate IDP4A it replaces (data/speed.yaml
    cuda_dp4a_emulation; Kepler's multiply-adds run at 32 of its 192 lanes); 0 elsewhere."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return 0.0
    cc = compute_capability(device)
    rule = _older_rules()[1]
    if cc is None or cc >= 6.1 or not rule:
        return 0.0
    rates = [r for r in rule["rates"] if cc >= float(r["from_cc"])]
    if not rates:
        return 0.0
    r = max(rates, key=lambda x: float(x["from_cc"]))
    per_dp4a = (float(rule["extractions_per_dp4a"]) / float(r["bit_field_extract"])
                + float(rule["multiply_adds_per_dp4a"]) / float(r["multiply_add"]))  # SM-clocks per dp4a
    ipc = float(rule["instructions_per_sm_cycle"])
    return (per_dp4a * float(r["fp32_lanes"]) / ipc - 1.0 / ipc) / float(rule["weights_per_dp4a"])


# Turing dies without tensor cores (the GTX 16 series): "all TU116 and TU117 GPU variants do not have tensorcores,
# despite being nominally sm_75" (llama.cpp PR #4682, Artem-B, 2024-02-05)
_NO_TENSOR_CORE_CHIPS = ("TU116", "TU117")


def mma_without_tensor_cores(device: Device) -> bool:
    """True for a GTX 16-series GPU: compute capability 7.5, so ggml-cuda runs MMQ's int8 mma path (turing_mma_available),
    on a die without tensor cores, far below any rate the model has (PR #15360: "code that uses tensor cores don't
    execute at nearly the full speed"); the speed note says so, no rate is modelled."""
    if device.backend != "cuda" or device.vendor != "nvidia" or not device.matched_profile:
        return False

    p = profile_by_id(device.matched_profile)
    return p is not None and str(p.raw.get("chip") or "").startswith(_NO_TENSOR_CORE_CHIPS)


def emulated_mma_flops(device: Device, per_sm_cycle: float | None = None) -> float | None:
    """Matmul FLOP/s of MMQ's int8 mma path on a GTX 16 die (no tensor cores; mma_without_tensor_cores):
    data/cuda_rates.yaml mma_without_tensor_cores.flops_per_sm_cycle (read off PR #15360's GTX 1660 Ti row) x SMs x
    boost clock; None elsewhere. The prefill estimate charges the quantized matmuls at this rate, with no fitted efficiency and no
    MMQ unpacking on top (the measured rate contains both)."""
    if not mma_without_tensor_cores(device):
        return None
    if per_sm_cycle is None:
        per_sm_cycle = float((load("cuda_rates").get("mma_without_tensor_cores") or {}).get("flops_per_sm_cycle") or 0)

    p = profile_by_id(device.matched_profile or "")
    sms, mhz = (p.raw.get("sm_count"), p.raw.get("boost_clock_mhz")) if p is not None else (None, None)
    return per_sm_cycle * float(sms) * float(mhz) * 1e6 if per_sm_cycle and sms and mhz else None


_FA_AT_MATMUL_RATE: list[bool] = []


def attention_at_matmul_rate():
    """Within it, fa_prefill_flops is None everywhere: a prompt's attention is charged with the matmuls, as before
    session 19. scripts/fit_speed.py fits the all-in 16-bit share vLLM borrows (compute_efficiency_f16_all_in) so:
    vLLM's step model charges its attention as FLOPs at that one share (estimate/serving/step.py)."""
    from .scoped import pushed

    return pushed(_FA_AT_MATMUL_RATE)


def fa_mode() -> bool:
    """Whether attention_at_matmul_rate is on (scripts/fit_speed.py keys its per-row caches by it)."""
    return bool(_FA_AT_MATMUL_RATE)


def fa_prefill_flops(device: Device) -> float | None:
    """Peak FLOPs of ggml-cuda's tensor-core flash attention for a prompt (docs/methodology.md 5c-s19), or None where it
    does not run (not NVIDIA CUDA; no tensor cores: compute capability < 7.0, the GTX 16 series).

    fattn-mma-f16.cuh (ggml d99724f) multiplies K^T Q and V^T softmax(KQ) with FP16 mma.sync, accumulating KQ in FP32
    (T_C_KQ = tile<.., float>) and VKQ in FP16 (T_C_VKQ = tile<.., half2>) on Volta and Turing+: half the FLOPs each,
    at the FP32-accumulate tensor rate (the listed FP16 rate) and the FP16-accumulate one (GeForce cards list twice the
    former as fp16_acc16_flops; others run both at the listed rate). The weights' int8 MMQ rate, which the prompt's
    attention used to be charged at, is not this kernel's. mma.sync reaches data/speed.yaml mmq_tensor_share of a
    wgmma-rated part (Hopper), as MMQ does."""
    if device.backend != "cuda" or device.vendor != "nvidia" or not device.fp16_flops or _FA_AT_MATMUL_RATE:
        return None
    cc = compute_capability(device)
    if (cc is not None and cc < 7.0) or mma_without_tensor_cores(device):
        return None
    acc32 = float(device.fp16_flops)
    acc16 = float(device.fp16_acc16_flops or acc32)
    peak = 2.0 / (1.0 / acc32 + 1.0 / acc16)
    if device.matched_profile:
        share = (speed_factors._speed_data().get("mmq_tensor_share") or {}).get(_hardware_family(device.matched_profile))
        if share:
            peak *= float(share["share"])
    return peak


def fa_tile_flops(device: Device) -> float | None:
    """FLOPs per second of a prompt's flash attention in ggml-cuda's tile kernel on an NVIDIA GPU without tensor cores
    (compute capability < 7.0), or None elsewhere and in builds before llama-bench's flash-attention default
    (kernel_path.flash_attn_on; those rows ran the cuBLAS attention). fattn.cu ggml_cuda_get_best_fattn_kernel gives a
    prompt on such a GPU BEST_FATTN_KERNEL_TILE (ggml d99724f; the one tile kernel from PR #15769, 2025-09-07), whose
    products are half2 where FAST_FP16_AVAILABLE (common.cuh: compute capability 6.0 and 6.2, not 6.1, none below
    Pascal) and float elsewhere: vector lanes x boost clock x Vulkan's scalar flash attention's rate per lane-clock
    (data/speed.yaml vulkan_amd.fa_prefill_flops_per_lane_cycle) x rocm_prefill_path.fa_tile_half2_factor where half2,
    the rate HIP's build of the same fattn-tile.cuh is charged (kernel_path.fa_tile_flops; docs/methodology.md 5c-s27).
    Before it such a GPU's attention was charged at the matmuls' quantized efficiency over its FP16 peak, 1.5x that
    peak."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return None
    cc = compute_capability(device)
    if cc is None or cc >= 7.0:
        return None
    from . import kernel_path

    if not kernel_path.flash_attn_on():
        return None
    data = speed_factors._speed_data()
    per = (data.get("vulkan_amd") or {}).get("fa_prefill_flops_per_lane_cycle")
    half2 = (data.get("rocm_prefill_path") or {}).get("fa_tile_half2_factor")
    lanes, hz = kernel_path.vector_lanes(device), kernel_path.gpu_clock_hz(device)
    if not per or not half2 or not lanes or not hz:
        return None
    fast_fp16 = 6.0 <= cc < 7.0 and cc != 6.1
    return lanes * hz * float(per) * (float(half2) if fast_fp16 else 1.0)


def float_gemm_flops(device: Device, layers: tuple, acc16_flops: float) -> float:
    """Peak FLOPs of a prompt's F16 / BF16 weight GEMMs on an NVIDIA GPU under ggml-cuda: the matmul FLOPs' harmonic
    mix of two rates by the weights' type (docs/methodology.md 5f-cuda23).

    ggml-cuda.cu ggml_cuda_mul_mat_cublas multiplies F16 weights in cuBLAS at CUBLAS_COMPUTE_16F and BF16 weights at
    CUBLAS_COMPUTE_32F with BF16 inputs (batched_mul_mat_traits<GGML_TYPE_BF16>; ggml d99724f, since ab9ed73d of
    2025-04-04, "CUDA: don't convert BF16 weights to FP32"; before it BF16 weights were converted to FP32 first, slower
    still, not modelled). A BF16 tensor-core MMA accumulates in FP32 only, so BF16 runs at the FP32-accumulate rate
    (the listed fp16_flops), which GeForce cards run at half their FP16-accumulate one (`acc16_flops`, what F16 gets);
    on parts without a separate FP16-accumulate figure the two are equal and nothing changes. Other backends and
    quantized weights: `acc16_flops` as given."""
    if device.backend != "cuda" or device.vendor != "nvidia" or not device.fp16_flops or not layers:
        return acc16_flops
    bf16 = other = 0
    for mats in layers:
        for ty, n, _ in mats:
            if str(ty).upper() == "BF16":
                bf16 += n
            else:
                other += n
    if not bf16:
        return acc16_flops
    acc32 = min(float(device.fp16_flops), acc16_flops)
    return (bf16 + other) / (bf16 / acc32 + other / acc16_flops)


# --- MXFP4 prompts on compute capability 12.x before ggml-cuda's native FP4 MMA (data/speed.yaml cuda_mxfp4_native)

@lru_cache(maxsize=1)
def _mxfp4_rule() -> dict:
    return load("speed").get("cuda_mxfp4_native") or {}


def native_fp4_device(device: Device) -> bool:
    """Whether ggml-cuda's `blackwell_mma_available(cc)` holds on `device` (compute capability 12.x: RTX 50, RTX PRO
    Blackwell, GB10; not B200 / B300, 10.x): NVML's compute capability where probed, else the spec row's
    architecture ("Blackwell 2.0") or the profile's hardware family (data/speed.yaml cuda_mxfp4_native families)."""
    if device.backend != "cuda" or device.vendor != "nvidia":
        return False
    det = device.details
    if det is not None and det.compute_capability:
        try:
            return 12.0 <= float(det.compute_capability) < 13.0
        except ValueError:
            pass
    if not device.matched_profile:
        return False
    from .kernel_path import _spec

    rule = _mxfp4_rule()
    if _hardware_family(device.matched_profile) in (rule.get("families") or ()):
        return True
    return _spec(device.matched_profile).get("architecture") in (rule.get("architectures") or ())


def mxfp4_mmq_scale(device: Device) -> float:
    """How many times the MXFP4 matrices' MMQ time (tensor FLOPs and unpacking) a prompt on `device` pays in the
    llama.cpp build of kernel_path.at_build's date, relative to the shipped pricing (today's build): on compute
    capability 12.x before PR #17906 (`since`) MXFP4 ran the int8 MMA path (q8_1 activations, the 16-entry table
    expanding each nibble to int8) where later builds run the m16n8k64 FP4 MMA; `scale` is derived from that PR's own
    end-to-end table (data/speed.yaml cuda_mxfp4_native). 1.0 elsewhere and from `since` on."""
    rule = _mxfp4_rule()  # the date first: today's build (`fit`) never reads the spec table (tests/test_hw_names)
    if not rule or _build_date() >= str(rule.get("since", "0")) or not native_fp4_device(device):
        return 1.0
    return float(_MXFP4_SCALE[-1] if _MXFP4_SCALE else rule.get("scale", 1.0))


_MXFP4_SCALE: list[float] = []


def mxfp4_scale_as(k: float):
    """Price the `with` block's pre-PR #17906 builds at MXFP4 MMQ scale `k` in place of the shipped one: how the
    scale is derived (the model's MXFP4 MMQ time at a shape is the prompt time at k = 2 less that at k = 1;
    tests/test_cuda_mxfp4.py), never used by `fit`."""
    from .scoped import pushed

    return pushed(_MXFP4_SCALE, float(k))


def scaled_type(layers: tuple, ty: str, k: float) -> tuple:
    """`layers` ((type, weights, bytes) per matrix, per layer) with the weights of type `ty` counted k times: what
    the MMQ terms charge them (FLOPs and unpacking go with the weights; the bytes, i.e. the tile traffic, stay)."""
    if k == 1.0:
        return layers
    return tuple(tuple((t, n * k if t == ty else n, b) for t, n, b in mats) for mats in layers)
