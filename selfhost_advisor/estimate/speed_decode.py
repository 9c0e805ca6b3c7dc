"""Seconds per decoded token: each device streams its layers' active weights and KV at its family's bandwidth share,
plus the fixed per-layer time, the mat-vec kernels' excess, the CPU's part (--n-cpu-moe experts, CPU layers, the
output head) and a hand-off per device boundary (estimate/speed.py's docstring has the model).
"""
from __future__ import annotations

from ..domain import Machine, Model, Placement
from . import cuda_path, hip_graphs, metal_path, rocm_decode, sycl_path, vulkan_intel, vulkan_path
from .cpu_sync import decode_sync_seconds
from .cuda_router import gptoss_router_seconds
from .cpu_kernels import decode_seconds as _cpu_decode_seconds, kernel_seconds as _cpu_kernel_seconds, vector_flops
from .kernel_path import gpu_clock_hz
from .layer_nodes import node_ratio
from .moe_graphs import graphs_off_seconds as moe_graphs_off_seconds
from .speed_factors import Table, _fitted, efficiency, family
from .speed_gpu import _kernel_excess, layer_seconds, recurrent_layer_extra_seconds, rocm_matvec_cycles, sm_cycles_per_s
from .speed_host import _cpu_matvec_seconds, _host_bandwidth
from .speed_work import (TokenWork, _last_used, _per_layer, attention_flops_by_layer, copy_back_fused,
                         fused_copy_back_by_layer, key_width, kv_read_by_layer,
                         layer_split, state_traffic_by_layer)


def _intel_factor(d) -> float:
    """vulkan_intel.decode_factor at the build in force and the device's architecture; 1 off Intel under Vulkan, where
    the architecture (the GPU spec table: start-up cost) is not looked up."""
    if d.vendor != "intel" or d.backend != "vulkan":
        return 1.0
    return vulkan_intel.decode_factor(d, vulkan_path.build()[0], vulkan_path.architecture(d))


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
    kv = kv_read_by_layer(model, work, depth)
    # a recurrent layer's state passes on every backend (speed_work.state_traffic_by_layer; the GPUs whose build fuses
    # the copy-back take it off below)
    state = state_traffic_by_layer(model)
    per_layer = [work.layer_read_bytes[i] + kv[i] + state[i] for i in range(n)]
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
            start = total
            nbytes = sum(per_layer[layer:layer + count])
            if copy_back_fused(d.backend):  # ggml-cuda from PR #23940: the kernel writes the cache (speed_work)
                nbytes -= sum(fused_copy_back_by_layer(model)[layer:layer + count])
            bw = eff.bandwidth * d.bandwidth_bytes_per_s
            layer_s = layer_seconds(eff, d, model.moe is None, model.ssm is not None)
            if d.backend == "sycl":  # the host's event per submission, gone from PR #14244 on (sycl_path)
                layer_s = max(0.0, layer_s - sycl_path.submission_saving_seconds())
            # the fixed time per layer scales with the layer's graph nodes where each kernel costs its own (layer_nodes)
            total += nbytes / bw + node_ratio(model, layer, count, d) * layer_s
            if model.moe is not None and d.backend == "cuda":  # F16 / BF16 experts, 2026-02..08: no graphs (moe_batch)
                total += moe_graphs_off_seconds(model, d, 1, work) * count
                # gpt-oss's router as three kernels before PR #16821 (cuda_router)
                total += gptoss_router_seconds(model, d) * count
            # ROCm builds before llama.cpp PR #10318: KQ / KQV as hipBLAS batched GEMMs (hip_graphs, 5f-rocm18)
            total += hip_graphs.attention_blas_seconds(d, model, depth, range(layer, layer + count))
            # the fused GATED_DELTA_NET kernel at HIP's measured rate, not the memory's (rocm_decode, 5f-rocm18)
            total += rocm_decode.gdn_kernel_excess(model, d, bw, range(layer, layer + count))
            if model.ssm is not None:  # Metal: a delta-net layer's extra serial steps (dense or MoE feed-forward)
                total += recurrent_layer_extra_seconds(eff, d) * sum(
                    1 for i in range(layer, layer + count) if state[i])
            if d.backend == "sycl" and model.ssm is not None:  # Mamba's scan on the CPU where ggml-sycl lacks it
                total += sycl_path.ssm_fallback_seconds(model, range(layer, layer + count), bw,
                                                        efficiency("cpu", table).bandwidth * _host_bandwidth(machine))
            if d.backend == "sycl" and work.layer_matrices:  # block-layout mat-vecs: the kernel binds (sycl_path)
                clock = gpu_clock_hz(d)
                dense = work.layer_matrices[layer:layer + count]
                if model.moe is not None and len(work.layer_expert_matrices) == len(work.layer_matrices):
                    # K-quant experts the fused MoE mat-vec reads on the block layout: expert_layout_seconds (sycl_path)
                    dense = tuple(sycl_path.block_charged(m, e) for m, e in
                                  zip(dense, work.layer_expert_matrices[layer:layer + count]))
                total += sum(_per_layer(dense, lambda mats: sycl_path.block_layout_seconds(mats, d, bw, clock)))
                if model.moe is not None:  # expert tensors ggml-sycl leaves on the block layout (sycl_path)
                    total += sum(_per_layer(work.layer_expert_matrices[layer:layer + count],
                                            lambda mats: sycl_path.expert_layout_seconds((mats,), d, bw, clock)))
                if model.moe is not None:  # before the fused MoE mat-vec: one call per routed expert (sycl_path)
                    total += sycl_path.expert_decode_seconds(model, work.layer_expert_matrices[layer:layer + count], d, bw,
                                                             layer_s)
                    # each op its own submission: the MoE layer's routing ops at the per-layer time's rate (sycl_path)
                    total += sycl_path.moe_layer_seconds(model, work.layer_expert_matrices[layer:layer + count],
                                                         layer_s)
            vulkan = family(d.backend) == "vulkan"
            if vulkan:  # GCN 1-4 decode at their power-limited clock: the per-layer kernels too (vulkan_path)
                total += count * vulkan_path.amd_layer_clock_excess(d, eff.layer_cycles)
            if vulkan and model.moe is not None:  # BF16 experts: the tiled matmul per MUL_MAT_ID (vulkan_path)
                total += vulkan_path.bf16_expert_decode_seconds(model, work, d, bw,
                                                                range(max(layer, moe_cpu), layer + count))
            if vulkan and eff.matvec_lane_factor and work.layer_matrices:  # the mat-vec lanes bind (vulkan_path)
                excess = _per_layer(work.layer_matrices[layer:layer + count],
                                    lambda mats: vulkan_path.matvec_excess(mats, d, bw, eff.matvec_lane_factor))
                total += sum(excess)
                if kernel is not None:
                    kernel.extend(excess)
            smc, rates = sm_cycles_per_s(d), eff
            lane_k = eff.matvec_lane_factor if smc is None and not vulkan else 0.0
            if lane_k:  # ROCm: CUDA rates per 128 lanes, k times slower on one-wave rows (rocm_decode)
                smc = rocm_matvec_cycles(d, lane_k)
                rates = _fitted("cuda")
            if smc and rates.matvec and work.layer_matrices:
                excess = _per_layer(work.layer_matrices[layer:layer + count],
                                    (lambda mats: rocm_decode.matvec_excess(mats, d, rates, bw, lane_k)) if lane_k else
                                    (lambda mats: _kernel_excess(mats, rates, bw, smc, cuda_path.emulated_dp4a_cycles(d))))
                total += sum(excess)
                if kernel is not None:
                    kernel.extend(excess)
            if d.backend == "metal" and work.layer_matrices:  # M1 / M2: the unpacking's issue slots bind (metal_path)
                excess = _per_layer(work.layer_matrices[layer:layer + count],
                                    lambda mats: metal_path.matvec_excess(mats, d, bw))
                total += sum(excess)
                if kernel is not None:
                    kernel.extend(excess)
            if d.vendor == "intel" and vulkan:  # an Intel iGPU's time per dispatch x a layer's (vulkan_intel)
                total += count * vulkan_intel.layer_seconds(d, model, vulkan_path.build()[0], vulkan_path.architecture(d))
            total = start + (total - start) / _intel_factor(d)  # Intel under Vulkan: driver and share
            if d.vendor == "intel" and vulkan:  # ANV's deficit per weight type where a row's build and Mesa take it
                total += vulkan_intel.anv_weight_seconds(d, work.layer_matrices[layer:layer + count], bw,
                                                         vulkan_path.build()[0], vulkan_path.architecture(d))
            if d.backend == "metal" and depth:  # each query head reads its KV head through the caches (metal_path)
                flops = attention_flops_by_layer(model, depth)
                total += sum(metal_path.fa_decode_excess(d, flops[i], kv[i] / bw, kv[i], key_width(model, i))
                             for i in range(layer, layer + count) if flops[i])
            if d.vendor == "intel" and vulkan and depth:  # flash attention at one query row on the lanes (vulkan_path)
                total += vulkan_path.intel_fa_decode_excess(
                    d, sum(attention_flops_by_layer(model, depth)[layer:layer + count]), sum(kv[layer:layer + count]) / bw)
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
        # the per-token part more threads do not shorten: barriers, one-thread activation quantization (cpu_sync)
        total += (decode_sync_seconds(work.layer_matrices[layer:], model, machine, work.layer_inputs[layer:])
                  if work.layer_matrices else 0.0)
        boundaries += 1 if cpu_layers else 0
    elif cpu_layers:
        streamed = sum(per_layer[layer:]) / (cpu.bandwidth * (unified_bw or _host_bandwidth(machine)))
        total += max(streamed, _cpu_matvec_seconds(work.layer_matrices[layer:], machine))
        boundaries += 1
    if output_on_gpu and devices:
        d = devices[min(len(devices) - 1, max(0, _last_used(placement, len(devices))))]
        eff = efficiency(d.backend, table)
        bw = eff.bandwidth * (d.bandwidth_bytes_per_s or 1)
        start = total
        total += work.output_read_bytes / bw
        ty, n_weights = work.output_matrix
        total += _kernel_excess(((ty, n_weights, work.output_read_bytes),), eff, bw, sm_cycles_per_s(d),
                               cuda_path.emulated_dp4a_cycles(d))
        if d.backend == "sycl":
            total += sycl_path.block_layout_seconds(((ty, n_weights, work.output_read_bytes),), d, bw, gpu_clock_hz(d))
        if family(d.backend) == "vulkan":
            total += vulkan_path.matvec_excess(((ty, n_weights, work.output_read_bytes),), d, bw, eff.matvec_lane_factor)
        total += metal_path.matvec_excess(((ty, n_weights, work.output_read_bytes),), d, bw)
        total = start + (total - start) / _intel_factor(d)
        if d.vendor == "intel" and family(d.backend) == "vulkan":  # the output head's weight type (vulkan_intel)
            total += vulkan_intel.anv_weight_seconds(d, (((ty, n_weights, work.output_read_bytes),),), bw,
                                                     vulkan_path.build()[0], vulkan_path.architecture(d))
    elif not clocked:
        total += work.output_read_bytes / (cpu.bandwidth * _host_bandwidth(machine))
    hop = efficiency(devices[0].backend, table).hop_s if devices else 0.0
    total += max(0, boundaries - 1) * hop
    return total
