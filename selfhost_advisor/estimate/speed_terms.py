"""Prefill terms beyond FLOPs over a rate: ROCm's kernel paths and memory traffic, CUDA MMQ's traffic floor and
unpacking cycles, SYCL's scratch copies, and the empty tile columns of MoE expert matmuls (estimate/moe_tiles.py).
"""
from __future__ import annotations

from ..domain import Device, Model
from . import kernel_path, sycl_path
from .scoped import pushed
from .speed_factors import Efficiency, _fitted, _rate, _rate_table, _speed_data, family
from .speed_work import TokenWork, _per_layer


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


def rocm_compute_scale(device: Device, layers: tuple, fp16: float, c: float, eff: Efficiency) -> float:
    """rocm_path_scale over the efficiency of each kernel path: a path fitted apart (eff.rocm_paths, data/speed.yaml
    rocm_path_efficiency: CDNA's MMQ on MFMA) at its own, the rest at the family's `c` (kernel_path.path_scales)."""
    rules = _rocm_path_rules(device)
    own = dict(eff.rocm_paths)
    if not rules or not own:
        return rocm_path_scale(device, layers, fp16) / c
    table = _rate_table(_fitted("cuda").mmq)  # the shipped CUDA unpacking rates, as rocm_path_scale
    scales = kernel_path.path_scales(device, layers, fp16, rules, lambda ty: _rate(ty, table))
    if not scales:
        return 1.0 / c
    return sum(s / (own.get(p) or c) for p, s in scales.items())


def prefill_traffic_seconds(device: Device, layers: tuple, n_ubatch: int = 512) -> float:
    """Prefill seconds per token of the matmuls' memory traffic on a ROCm device, with hipBLAS's FP16 conversion pass
    (kernel_path.traffic_seconds, kernel_path.dequant_seconds), or of the dequantized scratch copies on a SYCL device
    (sycl_path); 0 elsewhere. F16/BF16/F32 weights count no tile traffic on ROCm, as on CUDA (mmq_traffic_seconds):
    ggml-cuda hands them to hipBLAS / hipBLASLt as they are (ggml_cuda_mul_mat_cublas_impl: src0 of the compute type
    is passed through, no conversion), whose tiles are not modelled (docs/methodology.md 5f-rocm19)."""
    if device.backend == "sycl":
        return sycl_path.scratch_traffic_seconds(device, layers, n_ubatch)
    rules = _rocm_path_rules(device)
    if not rules:
        return 0.0
    return (kernel_path.traffic_seconds(device, kernel_path.quantized_only(layers), rules, n_ubatch)
            + kernel_path.dequant_seconds(device, layers, rules, n_ubatch))


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
    return kernel_path.traffic_seconds(device, kernel_path.quantized_only(layers), rules)


def _unpack_seconds(layers: tuple, eff: Efficiency, cycles_per_s: float | None, count: int) -> float:
    """Prefill seconds per token that are not tensor-core FLOPs, on a CUDA device holding `layers`: unpacking each
    quantized type in MMQ (weights / (rate x SM cycles per s)) and the per-layer non-matmul work."""
    if not cycles_per_s or not (eff.mmq or eff.prefill_layer_cycles):
        return 0.0
    rates = _rate_table(eff.mmq)
    unpack = _per_layer(layers, lambda mats: sum(n / r for ty, n, _ in mats if (r := _rate(ty, rates))))
    return (count * eff.prefill_layer_cycles + sum(unpack)) / cycles_per_s


def _expert_tile_seconds(model: Model, work: TokenWork, layer: int, count: int, n_tokens: int, eff: Efficiency,
                         flops: float, cycles_per_s: float | None, bandwidth: float | None,
                         device: Device | None = None, base_seconds: float | None = None,
                         mxfp4_scale: float = 1.0) -> float:
    """Prefill seconds per token that an MoE model's expert matmuls add on a GPU beyond their active share: the empty
    columns of their tiles (estimate/moe_tiles.py), (padding - 1) x what the dense terms charge the expert matrices;
    and never less than streaming each expert the micro-batch routes a token to once (estimate/moe_batch.py
    touched_share), at the family's decode streaming rate. `base_seconds`: what the dense terms charge the expert
    matrices where a family prices them per kernel path (Vulkan: vulkan_path.expert_path_seconds, the tile's
    dequantization and MMA both per tile; docs/methodology.md 5c-s29v); else their FLOPs at `flops` (+ CUDA's unpack)."""
    if model.moe is None or not work.layer_expert_matrices:
        return 0.0
    pad = _padding(n_tokens, model.moe.experts, model.moe.active, eff.family, device)
    if pad <= 1.0:
        return 0.0
    base = base_seconds  # a family that prices them per kernel path (Vulkan: vulkan_path.expert_path_seconds)
    if base is None:  # else what the dense terms already charge the expert matrices
        mats = work.layer_expert_matrices[layer:layer + count]
        if mxfp4_scale != 1.0:  # cuda_path.mxfp4_mmq_scale: the build's MXFP4 MMQ path, as the dense terms charge it
            from .cuda_path import scaled_type

            mats = scaled_type(mats, "MXFP4", mxfp4_scale)
        matmul = sum(_per_layer(mats, lambda m: float(sum(2 * w for _, w, _ in m)))) / flops
        base = matmul + _unpack_seconds(mats, eff, cycles_per_s, 0)  # count 0: no per-layer term, the matrices only
    from .moe_batch import touched_share  # the experts the micro-batch routes a token to, not all (moe_batch.py)

    touched = touched_share(n_tokens, model.moe.experts, model.moe.active)
    stream = (touched * sum(work.layer_expert_bytes[layer:layer + count]) / (bandwidth * max(1, n_tokens))
              if bandwidth and work.layer_expert_bytes else 0.0)
    return max(pad * base, stream) - base


def cuda_expert_bias_seconds(expert_layers: tuple, n_tokens: int, bandwidth: float | None) -> float:
    """Per prompt token, the routed experts' bias adds on a ggml-cuda device (gpt-oss: build_moe_ffn's ggml_add_id after
    the up, gate and down MUL_MAT_ID). ggml-cuda fuses MUL_MAT_ID + ADD_ID only into a mat-vec kernel writing one token
    (ggml-cuda.cu ggml_cuda_should_fuse_mul_mat_vec_q / _f: `dst->ne[2] != 1` refuses MUL_MAT_ID fusion, ggml-org/ggml
    d99724f; no MMQ epilogue takes a bias), so in every micro-batch of 2+ tokens each ADD_ID is a kernel of its own
    that reads and writes the routed rows in F32: vulkan_path.expert_bias_seconds's bytes over the streaming rate.
    Why: the CUDA family was fitted on models with no such pass (docs/methodology.md 5c-s27)."""
    from . import vulkan_path

    return vulkan_path.expert_bias_seconds(expert_layers, n_tokens, bandwidth, 2)


def _padding(n_tokens: int, n_expert: int, n_used: int, fam: str, device: Device | None = None) -> float:
    """Tile padding of the expert matmuls for a micro-batch of n_tokens (data/speed.yaml moe_tiles; 1.0 elsewhere;
    ROCm and Vulkan rules resolved per device by estimate/moe_backends.py)."""
    from .moe_backends import resolve
    from .moe_tiles import coopmat2_padding, padding

    rule = resolve((_speed_data().get("moe_tiles") or {}).get(fam), device)
    cm2 = (rule or {}).get("coopmat2")
    cm2 = _coopmat2_tiles(device, cm2) if cm2 and device is not None and n_tokens >= int(rule.get("min_tokens", 1)) \
        else None
    if cm2:
        return coopmat2_padding(n_tokens, n_expert, n_used, cm2)
    return padding(n_tokens, n_expert, n_used, rule)


def _coopmat2_tiles(device: Device, cm2: dict) -> dict | None:
    """The mul_mm_cm2.comp tile rule a Vulkan device's MUL_MAT_ID runs at the build being predicted (the row's,
    vulkan_path.as_of_build; today's outside it), or None off NV_coopmat2. From `since` (PR #15546) `cm2` itself: the
    MMA at the narrowest of BN / 4, BN / 2, BN that holds a tile's rows. Before it, `full_width_tiles`: the same weight
    decode per tile (coopMatLoadTensorNV decodes the whole BM x BK slice at every k step in both), the MMA at the tile's
    full BN (l_warptile_mmqid's enable_smaller_matrices was 0), BN from the entry of the build's date (128 from PR
    #14555, 64 before). Without that key, None before `since` (the full-width padding rule, moe_tiles.padding)."""
    from . import vulkan_path

    rules = vulkan_path.path_rules()
    if rules is None or vulkan_path.features(device, rules)[0] != "coopmat2":
        return None
    date = vulkan_path.build()[0]
    if not date or date >= str(cm2["since"]):
        return cm2
    entry = kernel_path.latest_from(cm2.get("full_width_tiles"), date)  # oldest first: the one in force at the build
    if entry is None:
        return None
    tile = int(entry["tile_tokens"])
    return {**cm2, "tile_tokens": tile, "widths": [tile]}
