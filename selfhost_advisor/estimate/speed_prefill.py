"""Seconds per prompt token: matmul FLOPs (and attention at the prompt's depth) over each device's efficient rate,
with the per-backend path terms (estimate/speed_terms.py), the CPU layers' part, and the PCIe copy of CPU-resident
weights that llama.cpp offloads for large batches (estimate/speed.py's docstring has the model).
"""
from __future__ import annotations

from ..domain import Device, Machine, Model, Placement
from . import cuda_path, kernel_path, metal_path, occupancy, rocm_experts, sycl_path, vulkan_fa, vulkan_path
from .cpu_kernels import prefill_seconds as _cpu_prefill_seconds
from .speed_factors import Table, _speed_data, efficiency, family
from .speed_gpu import _device_flops, layer_seconds, recurrent_prefill_seconds, sm_cycles_per_s
from .speed_host import _host_bandwidth, _host_flops
from .speed_terms import (_TRAFFIC_OFF, _expert_tile_seconds, _rocm_path_rules, _unpack_seconds,
                          cuda_expert_bias_seconds, mmq_traffic_seconds, prefill_traffic_seconds, rocm_compute_scale)
from .memory_kv import uses_window
from .speed_work import TokenWork, attention_flops_by_layer, layer_split, prompt_swa_extra


def _scores_without_fa_seconds(model: Model, first: int, count: int, device: Device, depth: int, n_ubatch: int,
                               bandwidth: float) -> float:
    """Prompt seconds per token that layers first..first+count-1 spend moving the attention scores a run without flash
    attention materializes (kernel_path.flash_attn_on False): data/speed.yaml prompt_scores_without_fa's bytes per
    score (20 on ROCm's ggml-cuda under HIP, 16 on ggml-vulkan) x query heads x the cells of the micro-batch's KV view
    (depth + half the micro-batch, padded to 256; a sliding-window layer's at most GGML_PAD(n_swa + n_ubatch, 256)) over
    `bandwidth` (the family's streaming share). CUDA (the same ggml-cuda code as ROCm, 20): only the layers whose
    micro-batch score tensor (heads x cells x rows x 4 B) outgrows every NVIDIA GPU's L2 (above_cache_mib, 128 MiB;
    5c-fa32 found depth-0 tensors that may stay in an Ada / Blackwell L2; 5c-depth33). 0 with flash attention, on
    backends without an entry (SYCL prices its own in sycl_path.activation_seconds; Metal is not priced) and without
    a bandwidth.

    Why: llama-bench ran -fa 0 by default until PR #23714 (2026-05-30); the F32 KQ tensor, its soft_max and the KQV
    product's read of it are memory passes the FLOP rates never saw: at 8192 cells a Llama 3 8B prompt token moves
    ~150 MB this way (docs/methodology.md 5c-fa32)."""
    rule = _speed_data().get("prompt_scores_without_fa") or {}
    per = float((rule.get("bytes_per_score") or {}).get(family(device.backend)) or 0.0)
    if not per or not bandwidth or count <= 0 or kernel_path.flash_attn_on():
        return 0.0
    pad = int(rule.get("kv_pad") or 1)

    def padded(cells: int) -> int:
        return -(-cells // pad) * pad

    full = padded(max(0, depth) + max(1, n_ubatch) // 2)
    window = padded(model.sliding_window + max(1, n_ubatch)) if model.sliding_window else full
    # CUDA: only a layer whose micro-batch score tensor (F32, heads x cells x rows) outgrows every NVIDIA L2 (the
    # rule's above_cache_mib) is charged; a smaller one may stay in the L2, which the model does not hold per GPU
    gate = float((rule.get("above_cache_mib") or {}).get(family(device.backend)) or 0.0) * 2**20
    scores = 0
    for i in range(first, first + count):
        if not model.has_attention(i):
            continue
        layer = model.layer_n_heads(i) * (min(full, window) if uses_window(model, i) else full)
        if not gate or 4.0 * layer * max(1, n_ubatch) > gate:
            scores += layer
    return per * scores / bandwidth


def _prefill_seconds_per_token(
    model: Model, work: TokenWork, placement: Placement, machine: Machine, depth: int, n_ubatch: int,
    table: Table | None = None,
) -> float | None:
    devices = machine.devices
    n = model.n_layers
    offloaded = placement.gpu_layers if placement.fit in ("gpu", "partial") else 0
    gpu_repeat = min(offloaded, n)
    # a ggml-cuda GPU's flash attention also walks the masked cells of the sliding-window layers' cache (speed_work)
    attention_by_layer = attention_flops_by_layer(
        model, depth, prompt_swa_extra(n_ubatch, devices[0].backend) if devices and placement.gpu_layers else 0)
    per_layer = [work.layer_flops[i] + attention_by_layer[i] for i in range(n)]
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
            if not work.quantized:  # ggml-cuda: BF16 weights at the FP32-accumulate tensor rate (cuda_path)
                flops = cuda_path.float_gemm_flops(d, work.layer_matrices[layer:layer + count], flops)
            eff = efficiency(d.backend, table)
            c = metal_path.compute_efficiency(eff, d, work.quantized)  # Metal M3+: unpacking beside the FMAs
            smc = sm_cycles_per_s(d)
            mats = work.layer_matrices[layer:layer + count]
            mx = 1.0  # the MXFP4 MMQ scale of the row's build (CUDA below; 1 elsewhere)
            rules = _rocm_path_rules(d) if mats else None
            vk = (vulkan_path.path_seconds(d, mats, _device_flops(d),
                                           work.layer_expert_matrices[layer:layer + count])
                  if mats and not rules and family(d.backend) == "vulkan" else None)
            if rules:  # ROCm: the peak of each type's kernel path, and the matmuls' memory traffic
                scale = rocm_compute_scale(d, mats, flops, c, eff) / flops
                # attention in HIP's flash-attention tile kernel (head > 128 without MFMA) at its vector-lane rate,
                # else at the matmuls' path scale; or its K/V tile loads where the layer's K/V outgrows the last-level
                # cache and they are slower (kernel_path.fa_kv_seconds)
                bw = eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else 0.0
                llc = kernel_path.last_level_cache_bytes(d, rules)
                for i in range(layer, layer + count):
                    att, head = attention_by_layer[i], model.layer_head_dim(i)
                    tile = kernel_path.fa_tile_flops(d, head, rules, _gqa(model, i)) if att else None
                    att_s = att / tile if tile else att * scale
                    kv, kv_head = kernel_path.layer_kv(model, i, att)  # the layer's F16 K/V bytes and K width
                    total += work.layer_flops[i] * scale + max(
                        att_s, kernel_path.fa_kv_seconds(att, kv_head, bool(tile), rules, bw, kv, llc))
                # small matrices that leave CUs idle (estimate/occupancy.py)
                if work.quantized:
                    total += sum(work.layer_flops[layer:layer + count]) * scale * occupancy.rocm_mmq_share(
                        d, mats, rules) * (occupancy.prefill_factor(model, d, layer, count, n_ubatch) - 1.0)
                total += prefill_traffic_seconds(d, mats, n_ubatch)
                # without flash attention: the score matrix through memory (KQ, soft_max, KQV)
                total += _scores_without_fa_seconds(model, layer, count, d, depth, n_ubatch, bw)
                # F16 / BF16 weights: hipBLAS(Lt)'s GEMM streams its tiles while it multiplies (the slower binds)
                total += kernel_path.float_traffic_excess(d, mats, rules, n_ubatch, 2.0 / (c * flops))
                # 16-bit routed experts on RDNA 3.5: a few tokens an expert, at the rate measured there (rocm_experts)
                total += rocm_experts.prefill_seconds_per_token(model, work, d, range(layer, layer + count), n_ubatch,
                                                                _device_flops(d), scale, placement.cpu_moe_layers)
            elif d.backend == "sycl":
                # ggml-sycl: every prompt GEMM at its library's measured rate on this architecture (`flops`,
                # sycl_path.gemm_rate; x the family's compute share, 1.0: not fitted), the scratch copies and the
                # activations at the decode streaming share (sycl_path, docs/methodology.md 5b-sycl8)
                rate = c * flops
                bw = eff.bandwidth * d.bandwidth_bytes_per_s
                # a prompt's flash attention before the XMX paths: the tile kernel on the vector lanes (5b-sycl18)
                att = sum(per_layer[layer:layer + count]) - sum(work.layer_flops[layer:layer + count])
                fa = sycl_path.fa_prefill_rate(d, kernel_path.gpu_clock_hz(d))
                total += (sum(per_layer[layer:layer + count]) - att) / rate + att / (fa or rate)
                total += sycl_path.scratch_traffic_seconds(d, mats, n_ubatch, eff.bandwidth)
                total += sycl_path.bf16_gemm_seconds(mats, d, kernel_path.gpu_clock_hz(d), rate)  # BF16 on the FP32 branch
                total += sycl_path.activation_seconds(model, layer, count, d, n_ubatch, depth, bw)
                # Q4_0 / Q8_0 weights the build reads on the reordered layout: its one-lane-per-block dequantization
                total += sycl_path.reorder_dequant_seconds(
                    mats, work.layer_expert_matrices[layer:layer + count], d, n_ubatch)
                if model.moe is not None:  # MoE: every expert with tokens, one call each, its submissions at the
                    # per-layer decode time's rate (less the host's event where the build has none, as decode)
                    layer_s = max(0.0, layer_seconds(eff, d, True) - sycl_path.submission_saving_seconds())
                    total += sycl_path.expert_prefill_seconds(
                        model, work.layer_expert_matrices[layer:layer + count], d, n_ubatch, rate, bw, layer_s)
            elif vk is not None:  # Vulkan: each path's FLOPs over its peak at its efficiency (vulkan_path.py)
                paths = dict(eff.vulkan_paths)
                total += max(sum(s / (vulkan_path.fixed_efficiency(p) or paths.get(p) or c) for p, s in vk.items()),
                             0.0 if _TRAFFIC_OFF else vulkan_path.traffic_seconds(d, mats))
                # attention: on AMD and Intel flash attention's vector-lane rate (vulkan_path.fa_prefill_rate), else
                # the family's efficiency over the matrix rate; per layer, or its K/V loads where the layer's K/V
                # outgrows the last-level cache and they are slower (vulkan_fa.kv_seconds)
                rate = vulkan_path.fa_prefill_rate(d) or c * flops
                bw = eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else 0.0
                for i in range(layer, layer + count):
                    att = per_layer[i] - work.layer_flops[i]
                    total += max(att / rate, vulkan_fa.kv_seconds(d, model, i, att, bw) if att else 0.0)
                total += _scores_without_fa_seconds(model, layer, count, d, depth, n_ubatch, bw)
                # MoE expert biases (gpt-oss's ADD_ID): unfused above the mat-vec batch, a pass over the routed rows
                total += vulkan_path.expert_bias_seconds(
                    work.layer_expert_matrices[layer:layer + count], n_ubatch,
                    eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else None)
            else:
                # CUDA MMQ: the weight and activation tiles stream from memory while other blocks compute; the
                # slower of the two binds (roofline), which on a low-bandwidth part (GB10: 273 GB/s) is memory.
                # Attention (its own flash-attention kernels) and the per-layer work come after, not overlapped.
                # Pascal and Volta run other kernels (estimate/cuda_path.py, methodology 5f).
                path = cuda_path.quant_path(d, n_ubatch) if work.quantized and mats else "mmq"
                matmul_flops = sum(work.layer_flops[layer:layer + count])
                attention = sum(per_layer[layer:layer + count]) - matmul_flops
                # compute capability 12.x before PR #17906: MXFP4 on the int8 MMA path, `mx` times today's FP4 time
                mx = cuda_path.mxfp4_mmq_scale(d) if path == "mmq" else 1.0
                mx_flops = (mx - 1.0) * sum(2 * n for m in mats for t, n, _ in m if t == "MXFP4")
                fa = cuda_path.fa_prefill_flops(d)  # tensor-core flash attention's FP16 rate, not the weights' path
                tile = cuda_path.fa_tile_flops(d) if not fa else None  # pre-Volta: the tile kernel's vector-lane rate
                rest = (attention / (eff.compute_f16 * fa) if fa
                        else attention / tile if tile
                        else attention / (c * metal_path.simd_flops(d, flops))
                        * metal_path.fa_prefill_time_scale(d))  # Metal: the FA kernel of the row's build
                if path == "cublas":
                    c16, f16 = eff.compute_f16, _device_flops(d)
                    total += matmul_flops / (c16 * f16) + cuda_path.dequant_seconds(
                        mats, eff.bandwidth * d.bandwidth_bytes_per_s, n_ubatch) + rest
                elif path == "mmq" and cuda_path.emulated_mma_flops(d):  # GTX 16: mma with no tensor cores
                    total += matmul_flops / cuda_path.emulated_mma_flops(d) + rest
                else:
                    mm_flops = (cuda_path.dp4a_flops(d) or flops) if path == "dp4a" else flops
                    # x SMs left idle (occupancy.py); Metal M1/M2: the K-quants' unpacking beyond the legacy types'
                    # Metal: the matmul kernels' speedups since the calibration's builds (metal_prefill_history)
                    expert_flops = sum(2 * n for mats_e in work.layer_expert_matrices[layer:layer + count]
                                       for _, n, _ in mats_e) if d.backend == "metal" else 0
                    matmul = ((metal_path.matmul_seconds(matmul_flops + mx_flops, c, mm_flops, d)
                               + metal_path.dequant_type_seconds(mats, c, mm_flops, d))
                              * metal_path.matmul_time_scale(d, matmul_flops, expert_flops)
                              * (occupancy.prefill_factor(model, d, layer, count, n_ubatch) if work.quantized else 1.0)
                              + _unpack_seconds(cuda_path.scaled_type(mats, "MXFP4", mx), eff, smc, 0))
                    total += max(matmul, mmq_traffic_seconds(d, mats)) + rest
                total += _unpack_seconds((), eff, smc, count)
                if d.backend == "cuda":  # without flash attention: a score tensor beyond any L2 through memory
                    total += _scores_without_fa_seconds(
                        model, layer, count, d, depth, n_ubatch,
                        eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else 0.0)
                if d.backend == "cuda":  # gpt-oss's expert biases: an ADD_ID kernel after each prompt MUL_MAT_ID
                    total += cuda_expert_bias_seconds(
                        work.layer_expert_matrices[layer:layer + count], n_ubatch,
                        eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else None)
            # Metal builds before PR #15541: kernel_mul_mm_id_map0's serial id walk per MUL_MAT_ID (metal_path)
            total += metal_path.mm_id_map_seconds(model, work.layer_expert_matrices[layer:layer + count], n_ubatch, d)
            # hybrids on Vulkan, CUDA, ROCm and SYCL: the delta-net / Mamba-2 layers' serial per-token steps (speed_gpu)
            total += recurrent_prefill_seconds(d, model, layer, count)
            total += _expert_tile_seconds(model, work, layer, count, n_ubatch, eff, c * flops, smc,
                                          eff.bandwidth * d.bandwidth_bytes_per_s if d.bandwidth_bytes_per_s else None,
                                          d, vulkan_path.expert_path_seconds(
                                              d, work.layer_expert_matrices[layer:layer + count], _device_flops(d),
                                              eff, c) if vk is not None else None, mx)
            layer += count
    if placement.cpu_moe_layers and work.layer_expert_bytes and devices and not devices[0].unified:
        # --n-cpu-moe: the experts kept in RAM that the micro-batch uses are copied to the GPU for it (op offload), or
        # below 32 tokens run on the CPU (estimate/moe_batch.py)
        from .moe_batch import prefill_expert_seconds

        total += prefill_expert_seconds(model, work.layer_expert_bytes[:placement.cpu_moe_layers], n_ubatch,
                                        float(_speed_data()["pcie_bytes_per_s"]),
                                        cpu_eff.bandwidth * _host_bandwidth(machine))
    if layer < n:
        attention = sum(attention_flops_by_layer(model, depth)[layer:n])  # the CPU skips masked cells
        rest_flops = sum(work.layer_flops[layer:n]) + attention  # not per_layer: that holds a GPU's masked walk
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


def _gqa(model: Model, layer: int) -> int:
    """Query heads per KV head of `layer` (llama.cpp's gqa_ratio = n_head / n_head_kv), 0 when it has no KV heads."""
    kv = model.layer_kv_heads(layer)
    return model.layer_n_heads(layer) // kv if kv else 0
