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

Split by concern (each part's docstring says which): speed_factors (the fitted factors of data/speed.yaml),
speed_work (per-token bytes and FLOPs), speed_gpu / speed_host (device rates), speed_terms (prefill path terms),
speed_decode and speed_prefill (the two estimates); this module combines them. The names other modules and tests
import from here are re-exported.
"""
from __future__ import annotations

from ..domain import Machine, Model, Placement, Quant, Speed
from . import cuda_path, kernel_path, sycl_path
from .encoder import embeds_only
from .moe_caveats import rocm_16bit_expert_caveat, vulkan_bf16_expert_caveats
from .rocm_caveats import bf16_prefill_caveat, float_decode_caveat, small_model_prefill_caveat
from .speed_decode import _decode_seconds
from .speed_factors import Table, _hardware_family, efficiency
from .speed_prefill import _prefill_seconds_per_token
from .moe_host_sort import seconds_per_microbatch
from .moe_generic import seconds_per_microbatch as generic_seconds
from .speed_work import token_work

# Re-exported: what other modules, scripts and tests import from estimate.speed (one definition each, where it lives).
from .cpu_kernels import cpu_isa  # noqa: F401
from .kernel_path import gpu_clock_hz  # noqa: F401
from .speed_factors import (Efficiency, _FAMILY, _fitted, _rate, _rate_table, _speed_data,  # noqa: F401
                            default_host, family)
from .speed_gpu import (_device_flops, _kernel_excess, _vulkan_shader_flops, layer_seconds,  # noqa: F401
                        rocm_matvec_cycles, sm_cycles_per_s)
from .speed_host import _cpu_matvec_seconds, _host_bandwidth, _host_flops, _measured  # noqa: F401
from .speed_terms import (_TRAFFIC_OFF, _expert_tile_seconds, _padding, _rocm_path_rules,  # noqa: F401
                          _unpack_seconds, mmq_traffic_off, mmq_traffic_seconds, prefill_traffic_seconds,
                          rocm_compute_scale, rocm_path_scale)
from .speed_work import TokenWork, _attention_flops, _cached_tokens, _last_used, _per_layer, layer_split  # noqa: F401


# Decode counts as kernel-bound (said in the speed note and fit's text) when the kernels add this share of its time.
KERNEL_BOUND = 0.1


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
    with sycl_path.with_device_build(machine.devices):  # 'arc b580 sycl fp32': that GGML_SYCL_F16 (sycl_path.py)
        return _estimate_speed(model, quant, placement, machine, kv_cache_type=kv_cache_type,
                               decode_depth=decode_depth, prefill_depth=prefill_depth, n_ubatch=n_ubatch, table=table)


def _estimate_speed(model: Model, quant: Quant, placement: Placement, machine: Machine, *, kv_cache_type: str,
                    decode_depth: int, prefill_depth: int, n_ubatch: int, table: Table | None) -> Speed:
    machine = sycl_path.stream_machine(machine)  # ggml-sycl streams at the die's measured read rate where below spec
    work = token_work(model, quant, kv_cache_type)
    kernel: list[float] = []
    dec = _decode_seconds(model, work, placement, machine, decode_depth, table, kernel)
    pre = _prefill_seconds_per_token(model, work, placement, machine, prefill_depth, n_ubatch, table)
    if pre and model.moe is not None:  # a micro-batch reads every expert it touches once (estimate/moe_batch.py)
        from .moe_batch import microbatch_floor_seconds

        pre = max(pre, microbatch_floor_seconds(model, work, placement, machine, prefill_depth, n_ubatch, table) or 0.0)
        if placement.fit == "gpu" and not placement.cpu_moe_layers and placement.gpu_layers >= model.n_layers \
                and machine.devices:  # 2025-05..08 CUDA builds sorted each MMQ MUL_MAT_ID's ids on the host
            pre += seconds_per_microbatch(model, work, machine.devices[0], n_ubatch) / max(1, n_ubatch)
            # quantized experts MMQ does not take: ggml_cuda_mul_mat_id's generic path, every build (moe_generic.py)
            d0 = machine.devices[0]
            pre += generic_seconds(model, work, d0, n_ubatch, efficiency(d0.backend, table).bandwidth
                                   * d0.bandwidth_bytes_per_s if d0.bandwidth_bytes_per_s else None) / max(1, n_ubatch)
    if dec is None:
        return Speed(None, None, "unknown", note="no speed: --vram gives memory only, not bandwidth; name the GPU (--hardware 'rtx 4070') "
                     "or its spec sheet (--hardware 'custom:vram=24GB,bandwidth=936GB/s,fp16=71TFLOPS')")
    backend = machine.devices[0].backend if machine.devices and placement.gpu_layers else "cpu"
    eff = efficiency(backend, table)
    matched = [d.matched_profile for d in machine.devices if d.matched_profile]
    hw_family = _hardware_family(matched[0] if matched else (machine.name if not machine.devices else "")) \
        or (_x86_host_family(machine) if not machine.devices else "")
    confidence = "calibrated" if hw_family and hw_family in eff.calibrated else "extrapolated"
    d = 1.0 / dec
    p = 1.0 / pre if pre else None  # FLOPS unknown: no prefill figure
    share = sum(kernel) / dec
    if embeds_only(model):  # an embedding model generates no tokens: prefill only
        return Speed(None, p, confidence, prefill_low=p * eff.prefill_band[0] if p else None,
                     prefill_high=p * eff.prefill_band[1] if p else None,
                     note=f"{eff.family} efficiency; embedding model: no decode, prefill is the tokens embedded per second")
    caveats = (_prefill_caveats(p, placement, machine, model, n_ubatch)
               + _decode_caveats(model, placement, machine, dec, eff)
               # BF16 experts under Vulkan on the FP32 lanes: the tiled matmul, not the mat-vec (estimate/moe_caveats.py)
               + vulkan_bf16_expert_caveats(model, work.layer_expert_matrices, placement, machine)
               # 16-bit experts prompting under ROCm past the mmf kernel's tokens: one expert at a time (moe_caveats)
               + (rocm_16bit_expert_caveat(model, work.layer_expert_matrices, placement, machine, n_ubatch) if p else ())
               # BF16 prompts on gfx906: no tuned rocBLAS BF16 GEMM (estimate/rocm_caveats.py)
               + (bf16_prefill_caveat(work.layer_matrices, placement.gpu_layers, machine.devices) if p else ())
               # float weights' decode on gfx906: mmvf reads below the estimate for every float type (rocm_caveats)
               + float_decode_caveat(work.layer_matrices, placement.gpu_layers, machine.devices))
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
        caveats=caveats,
    )


def _x86_host_family(machine: Machine) -> str:
    """'cpu-x86' for a CPU-only machine with an x86 vector unit (AVX2 or AVX-512 in its flags), the family the curated
    CPU profiles carry (data/speed.yaml hardware_families: epyc, desktop-ddr5): a box named by its CPU ('epyc 9654
    384gb'), a spec sheet or a probed host is the same hardware as the curated 'epyc-9654' and is labelled as it is
    (methodology 4e-cpu18); '' for an ARM host (no ARM CPU rows in the calibration)."""
    flags = machine.cpu.flags if machine.cpu else ()
    return "cpu-x86" if any(f.startswith("avx2") or f.startswith("avx512") for f in flags) else ""


def _prefill_caveats(p: float | None, placement: Placement, machine: Machine, model: Model | None = None,
                     n_ubatch: int = 512) -> tuple[str, ...]:
    """The qualifications of a prefill figure that no published row validates, or that published rows contradict
    (small models on CDNA 3: estimate/rocm_caveats.py), one sentence each (JSON speed.caveats and the speed note; fit's
    text prints them)."""
    if not (p and placement.gpu_layers):
        return ()

    layers = min(placement.gpu_layers, model.n_layers) if model is not None else 0
    small = next((c for x in machine.devices if (c := small_model_prefill_caveat(x, layers, n_ubatch, 1.0 / p))), None)
    return tuple(c for c, applies in (
        ("prefill: llama.cpp runs its int8 tensor-core path on this GPU, which has no tensor cores (GTX 16, PR "
         "#15360): its rate is read off one published row (a GTX 1660 Ti) and checked on one other (a GTX 1660, "
         "within 11%)",
         any(cuda_path.mma_without_tensor_cores(x) for x in machine.devices)),
        ("prefill not validated on CDNA 4: the one published llama.cpp row (PR #21570, an MI355X, Qwen2.5 1.5B "
         "Q4_K_M pp512) reads 4.0x below this estimate",
         any(kernel_path.prefill_unvalidated(x) for x in machine.devices)),
        (small or "", small is not None),
    ) if applies)


def _decode_caveats(model: Model, placement: Placement, machine: Machine, dec: float, eff: Efficiency) -> tuple[str, ...]:
    """kernel_path.decode_caveat (GCN 5 / CDNA) or cuda_path.pascal_decode_caveat where the GPU layers' fixed
    per-layer time is a quarter of the token or more."""
    caveat, dev = next(((c, x) for x in machine.devices
                        if (c := kernel_path.decode_caveat(x) or cuda_path.pascal_decode_caveat(x))), (None, None))
    if not caveat or not placement.gpu_layers or not dec:
        return ()
    fixed = min(placement.gpu_layers, model.n_layers) * layer_seconds(eff, dev)
    return (caveat,) if fixed >= 0.25 * dec else ()


__all__ = ["estimate_speed", "token_work", "efficiency", "family", "TokenWork", "Efficiency"]
