"""Metal prefill: which Apple GPUs hide the dequantization of quantized weights (docs/methodology.md 5e;
data/speed.yaml `metal_dequant_overlap`).

Why: llama.cpp's Metal matmul (kernel_mul_mm, ggml/src/ggml-metal/ggml-metal.metal) unpacks each 32-wide slice of a
weight tile with `dequantize_func` (integer shifts and masks, a scale multiply) into threadgroup memory, then runs
`simdgroup_multiply_accumulate` on it, all on the same shader ALUs. On M1 and M2 an integer instruction takes an issue
slot an FMA would have used, so quantized prefill reaches a lower share of the FP16 peak than 16-bit weights do (the
calibration's quantized/F16 pp512 ratio: median 0.89, at most 0.93, on 13 M1/M2 configurations). From the M3 on
(Apple GPU family 9), the shader core issues integer, FP32 and FP16 instructions in parallel (Apple's M3/A17 Pro GPU tech talk, 2023-11), and the
same ratio is 0.96-0.97 (M3 Pro, M3 Max): the unpacking runs beside the FMAs, and quantized weights reach the 16-bit
efficiency. One rule by GPU generation, not a factor per chip.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Device
from ..lazy_re import lazy
from . import kernel_path
from .scoped import pushed

_PROFILE = lazy(r"^m(\d+)(?:-|$)")  # profile ids: m3-max-128gb, m4-16gb, m5-10c-16gb
_NAME = lazy(r"\bM(\d+)\b")  # a probed Mac without a profile: "Apple M3 Max"


@lru_cache(maxsize=1)
def _rule() -> dict:
    return load("speed").get("metal_dequant_overlap") or {}


def apple_generation(device: Device) -> int | None:
    """The M-series generation of an Apple GPU (3 for an M3 Max), from its profile id, else its name; else None."""
    if device.vendor != "apple":
        return None
    m = _PROFILE.match(device.matched_profile or "") or _NAME.search(device.name or "")
    return int(m.group(1)) if m else None


def dequant_overlapped(device: Device) -> bool:
    """True where a Metal GPU unpacks quantized weights beside its FMAs (M3 and later)."""
    gen = apple_generation(device) if device.backend == "metal" else None
    return gen is not None and gen >= int(_rule().get("min_generation", 10**6))


def compute_efficiency(eff, device: Device, quantized: bool) -> float:
    """The prefill efficiency a device's matmuls reach: 16-bit weights, or quantized weights where unpacking them
    overlaps the FMAs (Metal, M3+), use the 16-bit share; other quantized weights the quantized share."""
    return eff.compute_f16 if not quantized or dequant_overlapped(device) else eff.compute_quant


# --- M1 / M2: the K-quants' unpacking costs more than the legacy types' (data/speed.yaml `metal_dequant_types`)

@lru_cache(maxsize=1)
def _type_rule() -> dict:
    return load("speed").get("metal_dequant_types") or {}


def dequant_type_seconds(layers: tuple, efficiency: float, peak: float, device: Device) -> float:
    """Prefill seconds per token that the K-quant matrices of `layers` (TokenWork.layer_matrices: (type, weights, bytes)
    per layer) add on a Metal GPU whose unpacking does not overlap its FMAs (M1, M2): kernel_mul_mm calls the type's
    dequantize_func once per 16 weights of every 64 x 32 weight tile, and a K-quant's (a 6-bit scale and min decoded
    from the super-block per call, byte loads, Q5_K / Q6_K's high bits merged per weight) takes more shader-ALU issue
    than Q4_0 / Q8_0's, on which compute_efficiency_quant was fitted. Each weight of type t takes time_factor[t] x the
    legacy types' time: 2 x weights x (factor - 1) / (efficiency x peak). 0 off Metal, on M3+ and for types without a
    measured factor."""
    if device.backend != "metal" or dequant_overlapped(device):
        return 0.0
    factors = _type_rule().get("time_factor") or {}
    extra = sum(2.0 * n * (float(factors[ty]) - 1.0) for mats in layers for ty, n, _ in mats if ty in factors)
    return extra / (efficiency * peak) if extra else 0.0


# --- Decode on M1 / M2: the mat-vec kernels' cost per weight (data/speed.yaml `metal_matvec_issue`)

@lru_cache(maxsize=1)
def _matvec_rule() -> dict:
    return load("speed").get("metal_matvec_issue") or {}


_MATVEC_OFF: list = []


def matvec_issue_off():
    """Within it, Metal decode has no mat-vec issue term: scripts/fit_speed.py takes its linear features (bytes,
    per-layer time) without it, as it does SYCL's block layout (a max(), no linear feature)."""
    return pushed(_MATVEC_OFF)


def matvec_lane_cycles(device: Device, ggml_type: str) -> float:
    """Shader lane-cycles one weight of `ggml_type` costs in llama.cpp's Metal mat-vec kernels on a GPU that issues
    integer and FP work from one slot (M1, M2: metal_dequant_overlap), by generation; 0 on M3+, off Metal, and for the
    types whose kernels the calibration's M1 / M2 rows show streaming (Q4_0, Q8_0, 16-bit)."""
    if device.backend != "metal" or dequant_overlapped(device):
        return 0.0
    rule = _matvec_rule()
    if ggml_type in (rule.get("streaming_types") or ()):
        return 0.0
    by_gen = {str(k): v for k, v in (rule.get("lane_cycles_per_weight") or {}).items()}  # JSON keys are strings
    return float(by_gen.get(str(apple_generation(device))) or 0.0)


def matvec_excess(matrices: tuple, device: Device, bandwidth: float) -> float:
    """Seconds a layer's mat-vecs take on an M1 / M2 beyond streaming their bytes (`matrices`: TokenWork.layer_matrices
    of one layer, (type, weights, bytes)): per type max(bytes / bandwidth, weights x lane-cycles per weight / lane
    rate) - bytes / bandwidth, the lane rate the shader ALUs' (FP16 FLOPS / 2: an FMA a lane a cycle). The K-quant,
    IQ and Q4_1 kernels unpack each weight with masks, shifts and an integer-to-float convert that take issue slots
    from the FMAs on these GPUs; where the GPU's bandwidth is high for its ALUs (M1 Pro / Max / Ultra: 9.6 bytes a
    core-cycle) that work, not memory, binds (docs/methodology.md 5e-metal6, 5e-metal7)."""
    if _MATVEC_OFF or device.backend != "metal" or not device.fp16_flops or not bandwidth or dequant_overlapped(device):
        return 0.0
    lanes = simd_flops(device, device.fp16_flops) / 2
    extra = 0.0
    for ty, n_weights, nbytes in matrices:
        cycles = matvec_lane_cycles(device, ty)
        if cycles:
            extra += max(0.0, n_weights * cycles / lanes - nbytes / bandwidth)
    return extra


# --- M5: the GPU's Neural Accelerators (data/speed.yaml `metal_tensor`)

@lru_cache(maxsize=1)
def _tensor_rule() -> dict:
    return load("speed").get("metal_tensor") or {}


def tensor_units(device: Device) -> bool:
    """True where llama.cpp's Metal matmuls run on the GPU cores' matrix units through Metal 4's tensor API (M5+)."""
    gen = apple_generation(device) if device.backend == "metal" else None
    return gen is not None and gen >= int(_tensor_rule().get("min_generation", 10**6))


def simd_flops(device: Device, peak: float) -> float:
    """The FP16 rate of the shader ALUs: the listed peak, or on M5+ (whose listed peak is the Neural Accelerators')
    that peak x simd_share (256 of 1024 FLOP/clk per core)."""
    return peak * float(_tensor_rule()["simd_share"]) if tensor_units(device) else peak


def matmul_seconds(flops: float, efficiency: float, peak: float, device: Device) -> float:
    """Seconds for `flops` of matmul. Elsewhere FLOPs / (efficiency x peak). With the tensor API (kernel_mul_mm under
    GGML_METAL_HAS_TENSOR) the multiply-adds move to the matrix units at their peak, while what the fitted efficiency
    loses on M1-M4 (unpacking weight tiles into threadgroup memory, loads, barriers) stays on the shader ALUs at their
    rate: FLOPs / peak + FLOPs x (1/efficiency - 1) / SIMD rate."""
    if not tensor_units(device):
        return flops / (efficiency * peak)
    return flops / peak + flops * (1.0 / efficiency - 1.0) / simd_flops(device, peak)


# --- Prefill: the matmul kernels' speedups by build (data/speed.yaml `metal_prefill_history`)

@lru_cache(maxsize=1)
def _history_rule() -> dict:
    return load("speed").get("metal_prefill_history") or {}


def matmul_speedup(device: Device, kernel: str = "mul_mm") -> float:
    """How much faster `kernel` (mul_mm: dense weights; mul_mm_id: MoE experts) runs in the build being estimated
    (kernel_path.at_build; the latest by default) than in the calibration's 2023-24 builds: the product of the speedups
    of metal_prefill_history's changes merged on or before that date on the device's path (tensor: M5+ through the
    tensor API; simdgroup: the others), each read off its PR's own before / after table. 1.0 off Metal."""
    if device.backend != "metal":
        return 1.0
    date = kernel_path._build_date()
    path = "tensor" if tensor_units(device) else "simdgroup"
    out = 1.0
    for change in _history_rule().get("history", ()):
        if change["kernel"] == kernel and change["path"] == path and date >= str(change["from"]):
            out *= float(change["speedup"])
    return out


def matmul_time_scale(device: Device, flops: float, expert_flops: float) -> float:
    """The factor on a Metal layer range's prefill matmul time (`flops` of matmul per token, `expert_flops` of them on
    MoE expert weights): the dense part / matmul_speedup(mul_mm), the expert part / matmul_speedup(mul_mm_id)."""
    if device.backend != "metal" or flops <= 0:
        return 1.0
    expert = min(max(expert_flops, 0.0), flops)
    return ((flops - expert) / matmul_speedup(device, "mul_mm") + expert / matmul_speedup(device, "mul_mm_id")) / flops


# --- Prompt attention by build: the flash-attention kernel's rewrites (data/speed.yaml `metal_fa_prefill_history`)

def fa_prefill_time_scale(device: Device) -> float:
    """Factor on a Metal prompt's flash-attention time in the build being estimated (kernel_path.at_build; the latest by
    default) against the latest build's, whose rate the model gives (the family's prefill efficiency x the shader
    ALUs' FP16 rate): the product of the speedups of metal_fa_prefill_history's changes merged after that build, each
    the attention time's ratio in its PR's own before / after table (PR #15857, 2025-09-20: the kernel rewritten,
    2.17x; docs/methodology.md 5e-metal9). 1.0 off Metal, for builds from the last change on, and where the build ran
    no flash attention (kernel_path.flash_attn_on: before llama-bench's -fa default a row ran mul_mm / soft_max unless
    it states -fa 1)."""
    if device.backend != "metal" or not kernel_path.flash_attn_on():
        return 1.0
    date = kernel_path._build_date()
    out = 1.0
    for change in (load("speed").get("metal_fa_prefill_history") or {}).get("history", ()):
        if date < str(change["from"]):
            out *= float(change["speedup"])
    return out


# --- Decode attention at depth: every query head reads its KV head itself (data/speed.yaml `metal_fa_decode`)

def fa_decode_excess(device: Device, attention_flops: float, kv_seconds: float, kv_bytes: float = 0.0,
                     head_dim: int = 0) -> float:
    """Seconds a decoded token's attention adds on Metal beyond streaming its KV cache (`kv_seconds`, already in the
    streaming law): kernel_flash_attn_ext_vec gives each query head its own threadgroups (nhptg = 1), so the K / V
    rows pass through the caches once per query head, as many bytes as the attention's FLOPs for an F16 cache, at
    metal_fa_decode.flops_share x the chip's FP16 peak (MEASURED on one M2 Ultra; docs/methodology.md 5c-s20); and
    whatever the query heads a KV head serves, its `kv_bytes` take at least kv_bytes / (byte_rate_per_flop x FP16 peak
    x vec_loads(head_dim)) (vec_loads: the loads a lane has in flight per pass of the kernel's cache loop; session 30,
    5e-metal30; no floor for a head size without a vec kernel); the slowest of these and streaming binds (max).
    Builds before llama-bench's flash-attention default (kernel_path.flash_attn_on) ran mul_mv / soft_max / mul_mv
    instead, the same re-read at flops_share_without_fa (5e-metal4-s21), without the byte floor. 0 off Metal and
    without a peak."""
    if device.backend != "metal" or not attention_flops or not device.fp16_flops:
        return 0.0
    rule = load("speed").get("metal_fa_decode") or {}
    fa = kernel_path.flash_attn_on()
    share = float((rule.get("flops_share") if fa else rule.get("flops_share_without_fa")) or 0)
    if not share:
        return 0.0
    peak = simd_flops(device, device.fp16_flops)
    seconds = attention_flops / (share * peak)
    rate, loads = float(rule.get("byte_rate_per_flop") or 0), vec_loads(head_dim)
    if fa and rate and kv_bytes and loads:
        seconds = max(seconds, kv_bytes / (rate * peak * loads))
    return max(0.0, seconds - kv_seconds)


def vec_loads(head_dim: int) -> int:
    """Loads one lane of kernel_flash_attn_ext_vec has in flight per pass of its cache loop for K (and V) rows of
    `head_dim`: DK/4 half4s over NL = 32 / NE lanes, NE the template's head elements per thread
    (data/speed.yaml metal_fa_decode.vec_ne); 0 for a head size the vec kernel is not instantiated for (ggml-metal runs
    another kernel there, ggml_metal_op_flash_attn_ext_use_vec: ne00 % 32 == 0; its rate is not read)."""
    ne = {int(k): int(v) for k, v in ((load("speed").get("metal_fa_decode") or {}).get("vec_ne") or {}).items()}
    if head_dim not in ne:
        return 0
    return max(1, head_dim * ne[head_dim] // 128)


# --- MoE prefill before PR #15541: the serial id walk of kernel_mul_mm_id_map0 (data/speed.yaml `metal_mm_id_map`)

def mm_id_map_seconds(model, expert_matrices: tuple, n_tokens: int, device: Device) -> float:
    """Prefill seconds per token that a Metal build before llama.cpp PR #15541 (merged 2025-08-26; the build date
    kernel_path.at_build set) spends mapping each MUL_MAT_ID's tokens to experts: kernel_mul_mm_id_map0 walks every
    (token, used expert) id of the micro-batch in one serial loop per expert threadgroup, so per prompt token it costs
    used experts x `slot_seconds` per expert matmul, the loops of all experts running side by side. 0 for newer builds,
    dense models, other backends, micro-batches under `min_tokens` (the mat-vec kernel ran those) and builds before PR
    #13388 (`since`: a different kernel, not modelled).
    `expert_matrices`: TokenWork.layer_expert_matrices of the layers on this device."""
    rule = load("speed").get("metal_mm_id_map") or {}
    if device.backend != "metal" or model.moe is None or not rule or n_tokens < int(rule.get("min_tokens", 1)):
        return 0.0
    date = kernel_path._build_date()
    if not str(rule["since"]) <= date < str(rule["until"]):
        return 0.0
    from .tensors import fused_gate_up_experts

    per_layer = int(rule["calls_per_layer"]) - (1 if fused_gate_up_experts(model) else 0)  # gate_up: one for two
    calls = sum(1 for layer in expert_matrices if layer) * per_layer  # MoE layers x MUL_MAT_IDs
    return calls * model.moe.active * float(rule["slot_seconds"])


# --- Decode: the fixed time per layer by the build's dispatch steps (data/speed.yaml `metal_dispatch`)

@lru_cache(maxsize=1)
def _dispatch_rule() -> dict:
    return load("speed").get("metal_dispatch") or {}


def serial_steps(build_date: str) -> int | None:
    """Serial dispatch steps of one dense layer in a llama.cpp build of `build_date` ("2025-12-10"; "9999" the latest),
    replaying data/speed.yaml metal_dispatch.history; None without the rule."""
    steps = _replay("history", build_date, _dispatch_rule().get("calibration_steps"))
    return int(steps) if steps else None


def _replay(history: str, build_date: str, steps):
    """The serial_steps of the last change of metal_dispatch.`history` made on or before `build_date`; `steps` when
    none is."""
    change = kernel_path.latest_from(_dispatch_rule().get(history, ()), build_date)
    return steps if change is None else change["serial_steps"]


def layer_scale(device: Device, recurrent: bool = False) -> float:
    """Factor on the fitted per-layer decode time of a Metal device for the build being estimated (kernel_path.at_build;
    the latest by default): its serial steps per layer over the calibration builds' (PR #15929 runs independent
    kernels of a layer side by side, 12 steps instead of 17), each step at concurrent_step_scale (M3+: shorter) unless
    the model has recurrent (delta-net, SSM) layers (`recurrent`: a delta-net layer's 16-step count was checked at the
    calibration's step, 5e-metal8).
    1.0 elsewhere and for builds before the change. The count is a dense layer's: speed.py applies it to dense models
    only (a MoE layer's router, top-k, get_rows and expert kernels were not counted; MoE layers keep the calibration's
    time)."""
    if device.backend != "metal":
        return 1.0
    base = _dispatch_rule().get("calibration_steps")
    steps = serial_steps(kernel_path._build_date())  # the date at_build set (ROCm and Metal read the same one)
    scale = 1.0 if recurrent else concurrent_step_scale(device)
    return steps / float(base) * scale if base and steps else 1.0


def concurrent_step_scale(device: Device) -> float:
    """Share of the calibration's step time one dispatch step takes on `device` in the build being estimated: from
    llama.cpp PR #15929 on (metal_dispatch.concurrent_generation.since), which encodes a graph with Metal's concurrent
    dispatch type as MLX always has, an M3 or later GPU (Apple GPU family 9+) takes MLX's fitted step scale
    (data/engines.yaml mlx.step_time_by_generation, read there: one figure for both engines); 1.0 for older builds
    (serial dispatch), M1 / M2, an unknown generation and off Metal (docs/methodology.md 5e-metal8)."""
    rule = _dispatch_rule().get("concurrent_generation") or {}
    if device.backend != "metal" or not rule or kernel_path._build_date() < str(rule["since"]):
        return 1.0
    gen_rule = load("engines")["engines"]["mlx"].get("step_time_by_generation") or {}
    gen = apple_generation(device)
    if gen is None or not gen_rule or gen < int(gen_rule["min_generation"]):
        return 1.0
    return float(gen_rule["scale"])


def recurrent_extra_scale(device: Device) -> float:
    """Extra fixed time of a delta-net (recurrent) layer over an attention layer with the same feed-forward, as a
    factor on the fitted per-layer time: (its serial steps - the dense layer's) / the calibration's steps, for the build
    being estimated (data/speed.yaml metal_dispatch.recurrent_history; counted on llama.cpp's qwen35.cpp /
    delta-net-base.cpp graph with the fused GATED_DELTA_NET kernel: 16 dependent steps against a Llama layer's 12; the 4
    more are the mixer's, before the feed-forward, so an MoE layer, which keeps the calibration's time, adds them too).
    0 off Metal, for builds before the fused kernel reached Metal (their unfused chain was not counted) and without the
    rule."""
    if device.backend != "metal":
        return 0.0
    base = _dispatch_rule().get("calibration_steps")
    date = kernel_path._build_date()
    rec = _replay("recurrent_history", date, None)
    steps = serial_steps(date)
    return (rec - steps) / float(base) if base and rec and steps else 0.0
