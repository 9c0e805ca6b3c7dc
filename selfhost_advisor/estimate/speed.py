"""Decode and prefill speed, from the bytes and FLOPs each token costs and the hardware's bandwidth and compute.

Why a roofline and not a lookup: users ask about models and hardware nobody benchmarked together. The same two
formulas hold everywhere; only the backend family's efficiency factors are fitted, on measured llama-bench
results (data/speed.yaml, fitted by scripts/fit_speed.py on ../shared/calibration/llamacpp_speed.csv).

- Decode is memory-bound: each generated token streams every active weight once (MoE: the routed experts'
  share) and the KV cache up to the current depth. Per device: bytes / (efficiency x bandwidth), plus a fixed
  kernel-dispatch time per layer, plus a hand-off per device boundary. llama.cpp's layer split runs the devices
  one after another, so their times add (memory adds up, speed does not); tensor parallelism (vLLM) divides
  every layer over the GPUs, so bandwidth adds up, less two all-reduces per layer.
- Prefill is compute-bound: 2 FLOPs per active weight per token, plus attention (4 x heads x head_dim per
  cached token per layer), over efficiency x FLOPS. With partial offload llama.cpp copies CPU-resident weights
  to the GPU for large batches (ggml-backend op offload), so those layers cost their PCIe transfer per batch.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Mapping

from ..catalog.data import load
from ..domain import Device, Machine, MemoryBreakdown, Model, Placement, Quant, Speed
from ..record import record
from .cpu_kernels import cpu_isa, decode_seconds as _cpu_decode_seconds, prefill_seconds as _cpu_prefill_seconds
from .cpu_kernels import kernel_seconds as _cpu_kernel_seconds, vector_flops
from .encoder import embeds_only
from . import cuda_path, kernel_path, metal_path, sycl_path, vulkan_path
from .kernel_path import gpu_clock_hz
from .memory import kv_bytes_per_cell, layer_kv_bytes_per_cell, uses_window, weights
from .scoped import pushed

# One set of factors per llama.cpp backend: each backend has its own kernels (HIP, Vulkan shaders, SYCL), whatever
# the vendor; fitted on benchmarks/published/llamabench_weak.yaml and the calibration file (docs/methodology.md 5b).
_FAMILY = {"cuda": "cuda", "metal": "metal", "rocm": "rocm", "vulkan": "vulkan", "sycl": "sycl", "cpu": "cpu"}


@lru_cache(maxsize=1)
def _speed_data() -> dict:
    return load("speed")


Table = Mapping[str, "Efficiency"]


def family(backend: str) -> str:
    """Backend family whose efficiency factors apply: cuda, metal, rocm, vulkan, sycl or cpu."""
    return _FAMILY.get(backend, "cuda")


@record
class Efficiency:
    family: str
    bandwidth: float  # share of spec memory bandwidth reached while streaming weights
    layer_s: float  # fixed time per layer per token (kernel dispatch, synchronisation)
    hop_s: float  # hand-off per device boundary per token (layer split)
    compute_f16: float  # share of spec FLOPS reached by prefill with 16-bit weights
    compute_quant: float  # ... with quantized weights (dequantize + matmul)
    decode_band: tuple[float, float]  # measured/predicted, 10th..90th percentile
    prefill_band: tuple[float, float]
    calibrated: tuple[str, ...]  # hardware families with measurements
    # Weights per SM per clock cycle that the family's mat-vec kernels process, by GGML type (CUDA: MMVQ); a type
    # not listed is bandwidth-bound everywhere. See _kernel_excess.
    matvec: tuple[tuple[str, float], ...] = ()
    # Prefill beyond the tensor-core FLOPs (CUDA): weight-tokens per SM-cycle that the batched kernels (MMQ) spend
    # unpacking each GGML type, and SM-cycles per layer per token of everything that is not a matmul.
    mmq: tuple[tuple[str, float], ...] = ()
    prefill_layer_cycles: float = 0.0
    prefill_f16_all_in: float = 0.0  # share of FLOPS 16-bit prefill reaches all in (no separate terms); vLLM uses it
    # Fixed decode work per layer counted in GPU clock cycles (ROCm, Vulkan, SYCL: docs/methodology.md 5b), on top of
    # layer_s; a GPU whose clock is unknown is taken at clock_fallback_hz (the median clock of the rows it was fitted on).
    layer_cycles: float = 0.0
    clock_fallback_hz: float = 0.0
    # ROCm decode (docs/methodology.md 5b, fifth pass): HIP compiles ggml-cuda's own mat-vec kernels, so the CUDA
    # family's per-type rates apply per 128 vector lanes x clock, each weight costing `matvec_lane_factor` times an SM
    # lane's (fitted with the bandwidth share and the per-layer cycles); 0 = no kernel term.
    matvec_lane_factor: float = 0.0
    # Vulkan prefill (estimate/vulkan_path.py): share of its path's peak each matmul path reaches, fitted per path
    # (docs/methodology.md 5b-vulkan); a path not listed takes compute_quant / compute_f16.
    vulkan_paths: tuple[tuple[str, float], ...] = ()


def efficiency(backend: str, table: Table | None = None) -> Efficiency:
    """The fitted factors of `backend`'s family (or of `table`, which scripts/fit_speed.py uses to fit them)."""
    fam = family(backend)
    if table is not None:
        return table[fam]
    return _fitted(fam)


@lru_cache(maxsize=8)
def _fitted(fam: str) -> Efficiency:
    e = _speed_data()["families"][fam]
    return Efficiency(
        family=fam,
        bandwidth=float(e["bandwidth_efficiency"]),
        layer_s=float(e["layer_latency_us"]) * 1e-6,
        hop_s=float(e["hop_latency_us"]) * 1e-6,
        compute_f16=float(e["compute_efficiency_f16"]),
        compute_quant=float(e["compute_efficiency_quant"]),
        decode_band=(float(e["decode_band"][0]), float(e["decode_band"][1])),
        prefill_band=(float(e["prefill_band"][0]), float(e["prefill_band"][1])),
        calibrated=tuple(e.get("calibrated_hardware", ())),
        matvec=tuple(sorted((str(k), float(v)) for k, v in (e.get("matvec_weights_per_sm_cycle") or {}).items())),
        mmq=tuple(sorted((str(k), float(v)) for k, v in (e.get("mmq_weight_tokens_per_sm_cycle") or {}).items())),
        prefill_layer_cycles=float(e.get("prefill_layer_sm_cycles") or 0.0),
        prefill_f16_all_in=float(e.get("compute_efficiency_f16_all_in") or e["compute_efficiency_f16"]),
        layer_cycles=float(e.get("layer_cycles") or 0.0),
        clock_fallback_hz=float(e.get("layer_cycles_clock_fallback_mhz") or 0.0) * 1e6,
        matvec_lane_factor=float(e.get("matvec_lane_factor") or 0.0),
        vulkan_paths=tuple(sorted((str(k), float(v)) for k, v in (e.get("vulkan_path_efficiency") or {}).items())),
    )


@record
class TokenWork:
    """What one token costs a model at a quantization, per repeating layer and for the output head."""

    layer_read_bytes: tuple[int, ...]  # active weight bytes streamed per decoded token
    layer_flops: tuple[int, ...]  # matmul FLOPs per token (2 per active weight)
    output_read_bytes: int
    kv_bytes_per_cell: int  # K + V bytes per cached token per layer (before the window)
    quantized: bool  # the bulk of the weights is a block-quantized type
    layer_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()  # (type, active weights, bytes) per layer
    output_matrix: tuple[str, int] = ("F16", 0)  # the head's type and weights
    layer_expert_read_bytes: tuple[int, ...] = ()  # routed experts' share of layer_read_bytes (MoE)
    layer_expert_bytes: tuple[int, ...] = ()  # routed-expert tensors of each layer, whole
    layer_kv_bytes: tuple[int, ...] = ()  # K + V bytes per cached token of each layer (Gemma 4: full layers differ)
    layer_expert_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()  # routed experts' part of layer_matrices


@lru_cache(maxsize=512)
def token_work(model: Model, quant: Quant, kv_cache_type: str = "f16") -> TokenWork:
    """Per-token bytes and FLOPs from the same per-tensor list the memory estimate uses.

    MoE expert tensors (`*_exps`) count with the routed share active/experts; the token embedding is a row
    lookup, so it costs neither bandwidth nor FLOPs beyond one row.
    """
    w = weights(model, quant)
    k, v = kv_bytes_per_cell(model, kv_cache_type)
    per_layer = layer_kv_bytes_per_cell(model, kv_cache_type)
    bulk = dict(w.by_type)
    main_type = max(bulk, key=bulk.get) if bulk else "F16"
    return TokenWork(w.layer_active_bytes, w.layer_active_flops, w.output_head_bytes, k + v,
                     main_type not in ("F16", "BF16", "F32"), w.layer_matrices, w.output_head_matrix,
                     w.layer_expert_read_bytes, w.layer_expert_bytes, per_layer, w.layer_expert_matrices)


def _cached_tokens(model: Model, layer: int, depth: int) -> int:
    """Tokens a layer attends to at `depth`: sliding-window layers stop at their window; recurrent and
    feed-forward-only layers of hybrid models attend to none (their fixed state is read whatever the depth)."""
    if not model.has_attention(layer):
        return 0
    # (Gemma 3n's KV-sharing layers keep no cache but attend over an earlier layer's, so they read as much.)
    return min(depth, model.sliding_window) if uses_window(model, layer) else depth


def _kv_read(model: Model, work: TokenWork, layer: int, depth: int) -> int:
    per = work.layer_kv_bytes[layer] if work.layer_kv_bytes else work.kv_bytes_per_cell
    return per * _cached_tokens(model, layer, depth)


def _attention_flops(model: Model, layer: int, depth: int) -> int:
    """QK^T and softmax(QK^T)V: 2 x 2 x heads x head_dim FLOPs per cached token (MLA: latent width)."""
    width = model.mla.kv_lora_rank + model.mla.qk_rope_head_dim if model.mla else model.layer_head_dim(layer)
    return 4 * model.n_heads * width * _cached_tokens(model, layer, depth)


def layer_split(placement: Placement, n_devices: int) -> list[int]:
    """Repeating layers held by each GPU, in order (the output head is the last offloaded item)."""
    if placement.per_device_layers:
        counts = list(placement.per_device_layers)
    else:
        counts = [placement.gpu_layers] + [0] * (n_devices - 1) if n_devices else []
    return counts


def default_host() -> dict:
    """Host CPU/RAM assumed when a GPU profile does not say (data/speed.yaml `default_host`)."""
    return _speed_data()["default_host"]


def _measured(machine: Machine) -> dict | None:
    """data/speed.yaml measured_host when the host figures were measured here (advisor probe --measure)."""
    return _speed_data()["measured_host"] if machine.host_speed_source.startswith("measured") else None


def _host_bandwidth(machine: Machine) -> float:
    """Host RAM bandwidth on the CPU family's spec-sheet scale. A measured copy rate is already what streaming
    reaches, so it is rescaled to be used at measured_host's share instead of the spec-sheet share."""
    bw = float(machine.ram_bandwidth_bytes_per_s or default_host()["ram_bandwidth_gbps"] * 1e9)
    m = _measured(machine)
    return bw * float(m["bandwidth_efficiency"]) / _fitted("cpu").bandwidth if m else bw


def _host_flops(machine: Machine) -> float:
    """Host CPU FLOPS on the CPU family's spec-sheet scale (a measured GEMM rate: at measured_host's share)."""
    flops = float(machine.cpu_flops or default_host()["cpu_tflops"] * 1e12)
    m = _measured(machine)
    return flops * float(m["compute_efficiency"]) / _fitted("cpu").compute_quant if m else flops


def _device_flops(device: Device, quantized: bool = False) -> float | None:
    """llama.cpp's CUDA GEMMs accumulate in FP16 (cuBLAS CUBLAS_COMPUTE_16F; MMQ int8), where GeForce cards run
    twice their FP32-accumulate tensor rate; so do its Vulkan matmuls at default precision (ggml-vulkan.cpp
    ggml_vk_get_mul_mat_mat_pipeline picks the `f16acc` pipeline when the device has FP16 and, with cooperative
    matrices, f16 accumulators). Other backends use the listed FP16 rate.

    Quantized weights on CUDA go through llama.cpp's MMQ kernels, which use mma.sync only: on families whose spec rate
    needs another instruction (Hopper: wgmma) they reach data/speed.yaml mmq_tensor_share of it.
    """
    if device.backend == "sycl":  # an FP32 build's prompt GEMMs run on the vector lanes (estimate/sycl_path.py)
        fp32 = sycl_path.matrix_flops(device, gpu_clock_hz(device))
        if fp32:
            return fp32
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
    from ..catalog.gpu_table import by_id

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
        from ..catalog.hardware import profile_by_id

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


def layer_seconds(eff: Efficiency, device: Device, dense: bool = False) -> float:
    """Fixed decode time of one layer on `device`: microseconds (layer_s) plus GPU cycles at its clock."""
    if not eff.layer_cycles:  # Metal, dense layers: the build's serial dispatch steps (methodology 5e-apple2)
        return eff.layer_s * (metal_path.layer_scale(device) if dense else 1.0)
    return eff.layer_s + eff.layer_cycles / (gpu_clock_hz(device) or eff.clock_fallback_hz)


def _kernel_excess(matrices: tuple[tuple[str, int, int], ...], eff: Efficiency, bandwidth: float,
                   cycles_per_s: float | None) -> float:
    """Seconds a layer's mat-vecs take beyond streaming their bytes: per GGML type, max(bytes / bandwidth, weights
    / kernel rate) - bytes / bandwidth. The kernel rate (weights per SM-cycle x SMs x clock) binds on parts whose
    memory is fast for their SM count (H100/H200: 4.8 TB/s for 132 SMs), where dequantizing is the bottleneck."""
    if not cycles_per_s or not eff.matvec:
        return 0.0
    rates = _rate_table(eff.matvec)
    extra = 0.0
    for ty, n_weights, nbytes in matrices:
        r = _rate(ty, rates)
        if r:
            extra += max(0.0, n_weights / (r * cycles_per_s) - nbytes / bandwidth)
    return extra


# Decode counts as kernel-bound (said in the speed note and fit's text) when the kernels add this share of its time.
KERNEL_BOUND = 0.1


@lru_cache(maxsize=64)
def _rate_table(rates: tuple[tuple[str, float], ...]) -> tuple[dict[str, float], float | None]:
    """Rates by type, and the one for block-quantized types nobody measured: the median of the measured ones."""
    if not rates:
        return {}, None
    values = sorted(r for _, r in rates)
    mid = len(values) // 2
    return dict(rates), values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _rate(ty: str, table: tuple[dict[str, float], float | None]) -> float | None:
    if ty in kernel_path.FLOAT_TYPES:
        return None
    return table[0].get(ty, table[1])


def rocm_matvec_cycles(device: Device, lane_factor: float = 1.0) -> float | None:
    """128-lane cycles per second of an AMD GPU over the fitted lane factor (vector lanes / 128 x boost clock / k):
    what the CUDA family's per-SM-cycle mat-vec rates are multiplied by on ROCm; None without lanes or a clock."""
    lanes, hz = kernel_path.vector_lanes(device), gpu_clock_hz(device)
    return lanes / 128 * hz / lane_factor if lanes and hz and lane_factor else None


def _rocm_path_rules(device: Device) -> dict | None:
    """data/speed.yaml rocm_prefill_path for a ROCm device (estimate/kernel_path.py), else None."""
    if family(device.backend) != "rocm" or not kernel_path.enabled():
        return None
    return _speed_data().get("rocm_prefill_path") or None


def rocm_path_scale(device: Device, layers: tuple, fp16: float) -> float:
    """Factor on a ROCm device's FLOPs time for each type's kernel path (kernel_path.path_scale; 1.0 elsewhere)."""
    rules = _rocm_path_rules(device)
    if not rules:
        return 1.0
    table = _rate_table(_fitted("cuda").mmq)  # the shipped CUDA unpacking rates, whatever table is being fitted
    return kernel_path.path_scale(device, layers, fp16, rules, lambda ty: _rate(ty, table))


def prefill_traffic_seconds(device: Device, layers: tuple, n_ubatch: int = 512) -> float:
    """Prefill seconds per token of the matmuls' memory traffic on a ROCm device, with hipBLAS's FP16 conversion pass
    (kernel_path.traffic_seconds, kernel_path.dequant_seconds), or of the dequantized scratch copies on a SYCL device
    (sycl_path); 0 elsewhere."""
    if device.backend == "sycl":
        return sycl_path.scratch_traffic_seconds(device, layers, n_ubatch)
    rules = _rocm_path_rules(device)
    if not rules:
        return 0.0
    return kernel_path.traffic_seconds(device, layers, rules) + kernel_path.dequant_seconds(device, layers, rules, n_ubatch)


_TRAFFIC_OFF: list[bool] = []


def mmq_traffic_off():
    """Within it, CUDA prefill has no memory-traffic floor: scripts/fit_speed.py fits its linear terms (FLOPs, MMQ
    unpacking, per-layer cycles) without it; the floor is derived, no part of the fit, and binds on no row of it."""
    return pushed(_TRAFFIC_OFF)


def mmq_traffic_seconds(device: Device, layers: tuple) -> float:
    """Prefill seconds per token that a CUDA device's MMQ kernels spend moving their quantized weights and Q8_1
    activations through memory (kernel_path.traffic_seconds with data/speed.yaml cuda_mmq_traffic.tile; 0 elsewhere).
    F16/BF16 weights go through cuBLAS, whose tiles are not modelled: they count no traffic."""
    rules = _speed_data().get("cuda_mmq_traffic") or {}
    if device.backend != "cuda" or not rules.get("tile") or _TRAFFIC_OFF or not kernel_path.enabled():
        return 0.0
    quantized = tuple(tuple(m for m in mats if m[0] not in kernel_path.FLOAT_TYPES) for mats in layers)
    return kernel_path.traffic_seconds(device, quantized, rules)


def _unpack_seconds(layers: tuple, eff: Efficiency, cycles_per_s: float | None, count: int) -> float:
    """Prefill seconds per token that are not tensor-core FLOPs, on a CUDA device holding `layers`: unpacking each
    quantized type in MMQ (weights / (rate x SM cycles per s)) and the per-layer non-matmul work."""
    if not cycles_per_s or not (eff.mmq or eff.prefill_layer_cycles):
        return 0.0
    rates = _rate_table(eff.mmq)
    unpack = _per_layer(layers, lambda mats: sum(n / r for ty, n, _ in mats if (r := _rate(ty, rates))))
    return (count * eff.prefill_layer_cycles + sum(unpack)) / cycles_per_s


def _per_layer(layers: tuple, f) -> list[float]:
    """f of each layer's matrices, computed once per distinct layer (a 70B model has 80 layers, a few kinds)."""
    seen: dict[tuple, float] = {}
    out = []
    for mats in layers:
        x = seen.get(mats)
        if x is None:
            x = seen[mats] = f(mats)
        out.append(x)
    return out


def _decode_seconds(
    model: Model, work: TokenWork, placement: Placement, machine: Machine, depth: int, table: Table | None = None,
    kernel: list[float] | None = None,
) -> float | None:
    """Seconds per decoded token; `kernel`, if given, gets the part the mat-vec kernel rates add appended."""
    devices = machine.devices
    n = model.n_layers
    offloaded = placement.gpu_layers if placement.fit in ("gpu", "partial") else 0
    gpu_repeat = min(offloaded, n)
    output_on_gpu = offloaded > n
    per_layer = [work.layer_read_bytes[i] + _kv_read(model, work, i, depth) for i in range(n)]
    total = 0.0
    boundaries = 0
    layer = 0
    moe_cpu = min(placement.cpu_moe_layers, n) if work.layer_expert_read_bytes else 0
    if moe_cpu:
        # --n-cpu-moe: the routed experts' active share of layers 0..N-1 is read from RAM by the CPU, and each such
        # layer hands its activations to the CPU and back; counted as one CPU device in the chain, as layer offload.
        in_ram = work.layer_expert_read_bytes[:moe_cpu]
        per_layer = [b - (in_ram[i] if i < moe_cpu else 0) for i, b in enumerate(per_layer)]
        cpu_eff = efficiency("cpu", table)
        unified_bw = devices[0].bandwidth_bytes_per_s if devices and devices[0].unified else None
        total += sum(in_ram) / (cpu_eff.bandwidth * (unified_bw or _host_bandwidth(machine)))
        boundaries += 1
    if gpu_repeat or output_on_gpu:
        counts = layer_split(placement, len(devices))
        for d, count in zip(devices, counts):
            count = min(count, gpu_repeat - layer)
            if count <= 0:
                continue
            if not d.bandwidth_bytes_per_s:
                return None
            eff = efficiency(d.backend, table)
            nbytes = sum(per_layer[layer:layer + count])
            bw = eff.bandwidth * d.bandwidth_bytes_per_s
            total += nbytes / bw + count * layer_seconds(eff, d, model.moe is None)
            if d.backend == "sycl" and work.layer_matrices:  # block-layout mat-vecs: the kernel binds (sycl_path)
                clock = gpu_clock_hz(d)
                total += sum(_per_layer(work.layer_matrices[layer:layer + count],
                                        lambda mats: sycl_path.block_layout_seconds(mats, d, bw, clock)))
            smc, rates = sm_cycles_per_s(d), eff
            if smc is None and eff.matvec_lane_factor:  # ROCm: the CUDA rates per 128 lanes, k times slower
                smc = rocm_matvec_cycles(d, eff.matvec_lane_factor)
                rates = _fitted("cuda")
            if smc and rates.matvec and work.layer_matrices:
                excess = _per_layer(work.layer_matrices[layer:layer + count],
                                    lambda mats: _kernel_excess(mats, rates, bw, smc))
                total += sum(excess)
                if kernel is not None:
                    kernel.extend(excess)
            layer += count
            boundaries += 1
    cpu_layers = n - layer
    cpu = efficiency("cpu", table)
    # On unified memory the CPU reads the same RAM the GPU does.
    unified_bw = devices[0].bandwidth_bytes_per_s if devices and devices[0].unified else None
    clocked = not unified_bw and vector_flops(machine) is not None
    if clocked and (cpu_layers or not output_on_gpu):
        # a CPU whose clock, threads and read stream the probe measured: each thread streams its rows, then
        # multiplies them (estimate/cpu_kernels.py decode_seconds); the output head is one more mat-vec
        head = not output_on_gpu
        nbytes = sum(per_layer[layer:]) + (work.output_read_bytes if head else 0)
        kernel_s = (sum(_per_layer(work.layer_matrices[layer:],
                                   lambda mats: _cpu_kernel_seconds(((ty, w) for ty, w, _ in mats), machine)))
                    + (_cpu_kernel_seconds((work.output_matrix,), machine) if head else 0.0))
        total += _cpu_decode_seconds(nbytes, kernel_s, machine, cpu.bandwidth * _host_bandwidth(machine))
        boundaries += 1 if cpu_layers else 0
    elif cpu_layers:
        streamed = sum(per_layer[layer:]) / (cpu.bandwidth * (unified_bw or _host_bandwidth(machine)))
        total += max(streamed, _cpu_matvec_seconds(work.layer_matrices[layer:], machine))
        boundaries += 1
    if output_on_gpu and devices:
        d = devices[min(len(devices) - 1, max(0, _last_used(placement, len(devices))))]
        eff = efficiency(d.backend, table)
        bw = eff.bandwidth * (d.bandwidth_bytes_per_s or 1)
        total += work.output_read_bytes / bw
        ty, n_weights = work.output_matrix
        total += _kernel_excess(((ty, n_weights, work.output_read_bytes),), eff, bw, sm_cycles_per_s(d))
        if d.backend == "sycl":
            total += sycl_path.block_layout_seconds(((ty, n_weights, work.output_read_bytes),), d, bw, gpu_clock_hz(d))
    elif not clocked:
        total += work.output_read_bytes / (cpu.bandwidth * _host_bandwidth(machine))
    hop = efficiency(devices[0].backend, table).hop_s if devices else 0.0
    total += max(0, boundaries - 1) * hop
    return total


def _cpu_matvec_seconds(layers: tuple, machine: Machine) -> float:
    """Seconds the CPU's quantized dot kernels need for `layers`' weights at this host's FP32 FLOPS (speed.yaml
    cpu_matvec): the compute side of CPU decode, which binds when few cores feed fast RAM."""
    rates = _speed_data().get("cpu_matvec")
    if not rates or not layers:
        return 0.0
    flops = float(machine.cpu_flops or default_host()["cpu_tflops"] * 1e12)
    per_flop = float(rates[cpu_isa(machine)]["weights_per_flop"])
    weights = sum(_per_layer(layers, lambda mats: float(sum(w for _, w, _ in mats))))
    return weights / (flops * per_flop)


def _last_used(placement: Placement, n_devices: int) -> int:
    counts = layer_split(placement, n_devices)
    last = 0
    for i, c in enumerate(counts):
        if c:
            last = i
    return last


def _expert_tile_seconds(model: Model, work: TokenWork, layer: int, count: int, n_tokens: int, eff: Efficiency,
                         flops: float, cycles_per_s: float | None, bandwidth: float | None,
                         device: Device | None = None) -> float:
    """Prefill seconds per token that an MoE model's expert matmuls add on a GPU beyond their active share: the empty
    columns of their tiles (estimate/moe_tiles.py), (padding - 1) x what the dense terms charge the expert matrices;
    and never less than streaming every expert tensor once per micro-batch (a micro-batch routes tokens to nearly
    every expert), at the family's decode streaming rate."""
    if model.moe is None or not work.layer_expert_matrices:
        return 0.0
    pad = _padding(n_tokens, model.moe.experts, model.moe.active, eff.family, device)
    mats = work.layer_expert_matrices[layer:layer + count]
    matmul = sum(_per_layer(mats, lambda m: float(sum(2 * w for _, w, _ in m)))) / flops
    unpack = _unpack_seconds(mats, eff, cycles_per_s, 0)  # count 0: no per-layer term, the matrices only
    base = matmul + unpack  # what the dense terms already charge the expert matrices
    stream = (sum(work.layer_expert_bytes[layer:layer + count]) / (bandwidth * max(1, n_tokens))
              if bandwidth and pad > 1.0 and work.layer_expert_bytes else 0.0)
    return max(pad * base, stream) - base if pad > 1.0 else 0.0


def _padding(n_tokens: int, n_expert: int, n_used: int, fam: str, device: Device | None = None) -> float:
    """Tile padding of the expert matmuls for a micro-batch of n_tokens (data/speed.yaml moe_tiles; 1.0 elsewhere;
    ROCm and Vulkan rules resolved per device by estimate/moe_backends.py)."""
    from .moe_backends import resolve
    from .moe_tiles import padding

    return padding(n_tokens, n_expert, n_used, resolve((_speed_data().get("moe_tiles") or {}).get(fam), device))


def _prefill_seconds_per_token(
    model: Model, work: TokenWork, placement: Placement, machine: Machine, depth: int, n_ubatch: int,
    table: Table | None = None,
) -> float | None:
    devices = machine.devices
    n = model.n_layers
    offloaded = placement.gpu_layers if placement.fit in ("gpu", "partial") else 0
    gpu_repeat = min(offloaded, n)
    per_layer = [work.layer_flops[i] + _attention_flops(model, i, depth) for i in range(n)]
    total = 0.0
    layer = 0
    cpu_eff = efficiency("cpu", table)
    cpu_c = cpu_eff.compute_quant if work.quantized else cpu_eff.compute_f16
    if gpu_repeat:
        for d, count in zip(devices, layer_split(placement, len(devices))):
            count = min(count, gpu_repeat - layer)
            if count <= 0:
                continue
            flops = _device_flops(d, work.quantized)
            if not flops:
                return None
            eff = efficiency(d.backend, table)
            c = metal_path.compute_efficiency(eff, d, work.quantized)  # Metal M3+: unpacking beside the FMAs
            smc = sm_cycles_per_s(d)
            mats = work.layer_matrices[layer:layer + count]
            rules = _rocm_path_rules(d) if mats else None
            vk = (vulkan_path.path_seconds(d, mats, _device_flops(d))
                  if mats and not rules and family(d.backend) == "vulkan" else None)
            if rules:  # ROCm: the peak of each type's kernel path, and the matmuls' memory traffic
                total += sum(per_layer[layer:layer + count]) * rocm_path_scale(d, mats, flops) / (c * flops)
                total += prefill_traffic_seconds(d, mats, n_ubatch)
            elif vk is not None:  # Vulkan: each path's FLOPs over its peak at its efficiency (vulkan_path.py)
                paths = dict(eff.vulkan_paths)
                total += max(sum(s / (paths.get(p) or c) for p, s in vk.items()),
                             0.0 if _TRAFFIC_OFF else vulkan_path.traffic_seconds(d, mats))
                total += (sum(per_layer[layer:layer + count]) - sum(work.layer_flops[layer:layer + count])) / (c * flops)
            else:
                # CUDA MMQ: the weight and activation tiles stream from memory while other blocks compute; the
                # slower of the two binds (roofline), which on a low-bandwidth part (GB10: 273 GB/s) is memory.
                # Attention (its own flash-attention kernels) and the per-layer work come after, not overlapped.
                # Pascal and Volta run other kernels (estimate/cuda_path.py, methodology 5f).
                path = cuda_path.quant_path(d, n_ubatch) if work.quantized and mats else "mmq"
                matmul_flops = sum(work.layer_flops[layer:layer + count])
                rest = (sum(per_layer[layer:layer + count]) - matmul_flops) / (c * metal_path.simd_flops(d, flops))
                if path == "cublas":
                    c16, f16 = eff.compute_f16, _device_flops(d)
                    total += matmul_flops / (c16 * f16) + cuda_path.dequant_seconds(
                        mats, eff.bandwidth * d.bandwidth_bytes_per_s, n_ubatch) + rest
                else:
                    mm_flops = (cuda_path.dp4a_flops(d) or flops) if path == "dp4a" else flops
                    matmul = metal_path.matmul_seconds(matmul_flops, c, mm_flops, d) + _unpack_seconds(mats, eff, smc, 0)
                    total += max(matmul, mmq_traffic_seconds(d, mats)) + rest
                if d.backend == "sycl":  # the dequantized scratch copies the GEMMs read (sycl_path)
                    total += sycl_path.scratch_traffic_seconds(d, mats, n_ubatch)
                total += _unpack_seconds((), eff, smc, count)
            total += _expert_tile_seconds(model, work, layer, count, n_ubatch, eff, c * flops, smc,
                                          eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else None,
                                          d)
            layer += count
    if placement.cpu_moe_layers and work.layer_expert_bytes and devices and not devices[0].unified:
        # --n-cpu-moe: the experts kept in RAM are copied to the GPU for each micro-batch (op offload).
        link = float(_speed_data()["pcie_bytes_per_s"])
        total += sum(work.layer_expert_bytes[:placement.cpu_moe_layers]) / max(1, n_ubatch) / link
    if layer < n:
        rest_flops = sum(per_layer[layer:])
        attention = sum(_attention_flops(model, i, depth) for i in range(layer, n))
        clocked = _cpu_prefill_seconds(work.layer_matrices[layer:], attention, machine) if work.layer_matrices else None
        if clocked is not None and model.moe is not None and work.layer_expert_matrices:
            from .moe_backends import cpu_expert_seconds  # MUL_MAT_ID on the CPU: the decode kernels (5c-weak)

            clocked += cpu_expert_seconds(work.layer_expert_matrices[layer:], work.layer_expert_bytes[layer:], n_ubatch,
                                          machine, cpu_eff.bandwidth * _host_bandwidth(machine))
        on_cpu = clocked if clocked is not None else rest_flops / (cpu_c * _host_flops(machine))
        if devices and not devices[0].unified and _device_flops(devices[0]):
            # llama.cpp offloads the matmuls of CPU-resident layers to the GPU for large batches: pay the copy.
            d = devices[0]
            eff = efficiency(d.backend, table)
            c = eff.compute_quant if work.quantized else eff.compute_f16
            link = float(_speed_data()["pcie_bytes_per_s"])
            # A micro-batch routes its tokens to nearly every expert: the whole expert tensors cross, not the share.
            whole = [r + (work.layer_expert_bytes[i] - work.layer_expert_read_bytes[i] if work.layer_expert_bytes else 0)
                     for i, r in enumerate(work.layer_read_bytes)]
            copied = sum(whole[layer:]) / max(1, n_ubatch)
            on_cpu = min(on_cpu, rest_flops / (c * _device_flops(d, work.quantized)) + copied / link)
        elif devices and devices[0].unified and _device_flops(devices[0]):
            d = devices[0]
            eff = efficiency(d.backend, table)
            c = eff.compute_quant if work.quantized else eff.compute_f16
            on_cpu = min(on_cpu, rest_flops / (c * _device_flops(d, work.quantized)))
        total += on_cpu
    return total


def estimate_speed(
    model: Model,
    quant: Quant,
    placement: Placement,
    machine: Machine,
    *,
    kv_cache_type: str = "f16",
    decode_depth: int = 0,
    prefill_depth: int = 256,
    n_ubatch: int = 512,
    table: Table | None = None,
) -> Speed:
    """Single-stream decode and prefill tokens/s of `model` placed as `placement` (llama.cpp, Ollama).

    decode_depth: tokens already in the KV cache while generating; prefill_depth: the average cached tokens
    a prompt token attends to (llama-bench pp512: 256).
    """
    if placement.fit == "no":
        return Speed(None, None, "unknown", note="does not fit")
    work = token_work(model, quant, kv_cache_type)
    kernel: list[float] = []
    dec = _decode_seconds(model, work, placement, machine, decode_depth, table, kernel)
    pre = _prefill_seconds_per_token(model, work, placement, machine, prefill_depth, n_ubatch, table)
    if dec is None:
        return Speed(None, None, "unknown", note="no speed: --vram gives memory only, not bandwidth; name the GPU (--hardware 'rtx 4070') "
                     "or its spec sheet (--hardware 'custom:vram=24GB,bandwidth=936GB/s,fp16=71TFLOPS')")
    backend = machine.devices[0].backend if machine.devices and placement.gpu_layers else "cpu"
    eff = efficiency(backend, table)
    matched = [d.matched_profile for d in machine.devices if d.matched_profile]
    hw_family = _hardware_family(matched[0] if matched else (machine.name if not machine.devices else ""))
    confidence = "calibrated" if hw_family and hw_family in eff.calibrated else "extrapolated"
    d = 1.0 / dec
    p = 1.0 / pre if pre else None  # FLOPS unknown: no prefill figure
    share = sum(kernel) / dec
    if embeds_only(model):  # an embedding model generates no tokens: prefill only
        return Speed(None, p, confidence, prefill_low=p * eff.prefill_band[0] if p else None,
                     prefill_high=p * eff.prefill_band[1] if p else None,
                     note=f"{eff.family} efficiency; embedding model: no decode, prefill is the tokens embedded per second")
    return Speed(
        decode_tokens_per_s=d,
        prefill_tokens_per_s=p,
        confidence=confidence,
        decode_low=d * eff.decode_band[0],
        decode_high=d * eff.decode_band[1],
        prefill_low=p * eff.prefill_band[0] if p else None,
        prefill_high=p * eff.prefill_band[1] if p else None,
        note=f"{eff.family} efficiency, decode at {decode_depth} cached tokens"
        + (f"; kernel-bound: llama.cpp's mat-vec kernels are slower than this memory ({100 * share:.0f}%"
           " of the decode time)" if share >= KERNEL_BOUND else "")
        + ("" if p else "; prefill unknown (no FLOPS figure)"),
        kernel_share=share,
    )


@lru_cache(maxsize=256)
def _hardware_family(profile_id: str) -> str:
    """'rtx-4090' -> 'nvidia-rtx-40', 'm2-ultra-192gb' -> 'apple-m2'; a GPU-table row without a listed prefix ->
    its vendor and architecture ('arc-b580' -> 'intel-xe2-hpg', 'rx-9070-xt' -> 'amd-rdna-4.0')."""
    pid = profile_id.lower()
    for prefix, fam in _speed_data()["hardware_families"].items():
        if pid.startswith(prefix):
            return fam
    from ..catalog.gpu_table import by_id

    row = by_id(pid) if pid else None
    if row and row.get("architecture"):
        return f"{row['vendor']}-{row['architecture']}".lower().replace(" ", "-")
    return ""


__all__ = ["estimate_speed", "token_work", "efficiency", "family", "TokenWork", "Efficiency"]
