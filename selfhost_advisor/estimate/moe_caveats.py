"""Where an MoE figure sits on a llama.cpp path the published rows contradict and no source sizes: BF16 routed experts
under Vulkan on a GPU that multiplies BF16 on its FP32 lanes; 16-bit routed experts prompting under ROCm beyond the
mmf kernel's token limit.

Why: ggml-vulkan's MUL_MAT_ID takes its mat-vec for F32, F16 and block-quantized experts only (ggml_vk_mul_mat_id,
ggml_vk_use_mul_mat_vec_id), so a BF16 expert decodes through the tiled matmul (mul_mm.comp, one token in a 32-column
tile), on these GPUs the FP32 scalar shader; a dense BF16 model takes the mat-vec and streams at memory speed. The
Strix Halo rows of that path decode about 3x and prompt about 2x slower than the estimate, over builds and drivers
(data/speed.yaml `vulkan_bf16_experts`, READ off those rows, not a model term, docs/methodology.md 5c-s26). Since
session 28 the decode is charged per MUL_MAT_ID on RDNA 3.5, where the call was measured (vulkan_path.
bf16_expert_decode_seconds, data/speed.yaml `vulkan_bf16_expert_decode`, 5f-halo5): there only the prefill is qualified. Under ggml-cuda a prompt's F16 / BF16 MUL_MAT_ID runs the mmf kernel only up to
512 tokens a micro-batch for an expert matrix of up to 1024 rows and 128 above (ggml_cuda_should_use_mmf), past that
one hipBLAS / cuBLAS call per touched expert after two host syncs; the Strix Halo ROCm rows of a BF16 MoE prompt about
3x slower than the estimate (`rocm_16bit_experts`); since session 29 RDNA 3.5 charges them at the rate the same GPU's
logs show (estimate/rocm_experts.py, 5f-rocm29) and the note says so. The figures stand and are qualified, as
rocm_caveats qualifies small models on CDNA 3.
"""
from __future__ import annotations

from ..domain import Machine, Model, Placement
from . import speed_factors  # by attribute: tests patch speed_factors._speed_data


def _rule(key: str) -> dict:
    return speed_factors._speed_data().get(key) or {}


def _gpu_expert_types(model: Model, expert_layers: tuple, placement: Placement) -> set[str]:
    """The weight types of the routed experts the GPU holds (the layers past --n-cpu-moe's and within -ngl); empty for
    a dense model or one not on the GPU."""
    if model.moe is None or not placement.gpu_layers or placement.fit not in ("gpu", "partial"):
        return set()
    on_gpu = expert_layers[placement.cpu_moe_layers:min(placement.gpu_layers, model.n_layers)]
    return {ty for mats in on_gpu for ty, _, _ in mats}


def _slower(rows: list[dict], key: str, estimate: float) -> tuple[float, float]:
    """(least, most) of estimate / measured over `rows`' `key` figures."""
    ratios = [estimate / float(r[key]) for r in rows]
    return min(ratios), max(ratios)


def _builds(rows: list[dict]) -> str:
    builds = sorted(int(r["build"]) for r in rows)
    return f"{builds[0]}-{builds[-1]}"


def vulkan_bf16_expert_caveats(model: Model, expert_layers: tuple, placement: Placement,
                               machine: Machine) -> tuple[str, ...]:
    """The decode and the prefill qualification of an MoE model whose GPU-held routed experts are BF16, on a Vulkan GPU
    that multiplies BF16 on its FP32 lanes (vulkan_path.amd_bf16_on_fp32_lanes); () elsewhere. `expert_layers`: the
    routed experts' (type, weights, bytes) per layer (TokenWork.layer_expert_matrices)."""
    rule = _rule("vulkan_bf16_experts")
    if not rule or "BF16" not in _gpu_expert_types(model, expert_layers, placement):
        return ()
    from .vulkan_path import amd_bf16_on_fp32_lanes

    if not any(d.backend == "vulkan" and amd_bf16_on_fp32_lanes(d) for d in machine.devices):
        return ()
    est, dec, pre = rule["estimate"], rule["decode_rows"], rule["prefill_rows"]
    lo, hi = _slower(dec, "tg128", float(est["tg128"]))
    plo, phi = _slower(pre, "pp512", float(est["pp512"]))
    where = (f"a Radeon 8060S's published rows ({est['model']} {est['quant']}, every expert on the GPU, llama.cpp "
             f"builds {_builds(dec)}, RADV and AMDVLK)")
    prefill = (f"prefill: BF16 experts under Vulkan: the same GPU's rows of builds {_builds(pre)} (RADV) prompt "
               f"{plo:.1f}-{phi:.1f}x slower than our estimate for them (docs/methodology.md 5c-s26)")
    from .vulkan_path import bf16_expert_call_seconds

    vulkan = [d for d in machine.devices if d.backend == "vulkan" and amd_bf16_on_fp32_lanes(d)]
    if all(bf16_expert_call_seconds(d) for d in vulkan):  # decode priced per call there (5f-halo5): prefill only
        return (prefill,)
    calls = [float(v) for v in (_rule("vulkan_bf16_expert_decode").get("call_s") or {}).values()]
    measured = (f"; on that GPU each such MUL_MAT_ID is now charged as measured ({1e3 * min(calls):.2f}-"
                f"{1e3 * max(calls):.2f} ms a token), on this one it is not measured and the experts are streamed"
                if calls else "")
    return (f"decode: llama.cpp's Vulkan backend runs BF16 experts through its tiled matmul, not its mat-vec (its "
            f"MUL_MAT_ID mat-vec takes F32, F16 and quantized weights only): {where} decode {lo:.1f}-{hi:.1f}x "
            f"slower than our estimate for them when it streamed the experts{measured}; a quantized file decodes at "
            "the estimate (docs/methodology.md 5c-s26, 5f-halo5)",
            prefill)


def _expert_rows(model: Model) -> tuple[int, ...]:
    """Output rows of a routed expert's matrices: gate and up (one fused gate_up tensor: twice the rows) and down."""
    from .tensors import fused_gate_up_experts

    ffn = int(model.moe.expert_intermediate_size)
    return ((2 * ffn,) if fused_gate_up_experts(model) else (ffn, ffn)) + (int(model.hidden_size),)


def rocm_16bit_expert_caveat(model: Model, expert_layers: tuple, placement: Placement, machine: Machine,
                             n_ubatch: int) -> tuple[str, ...]:
    """The prefill qualification of an MoE model whose GPU-held routed experts are F16 or BF16 under ROCm, where a
    micro-batch of `n_ubatch` tokens passes the mmf kernel's limit for one of the expert matrices (`mmf_tokens`: 512
    tokens up to 1024 rows, 128 above), so that matrix runs ggml_cuda_mul_mat_id's per-expert path; () elsewhere."""
    rule = _rule("rocm_16bit_experts")
    if not rule or not any(d.backend == "rocm" for d in machine.devices):
        return ()
    if not {"F16", "BF16"} & _gpu_expert_types(model, expert_layers, placement):
        return ()
    cap = rule["mmf_tokens"]
    over = [r for r in _expert_rows(model)
            if n_ubatch > int(cap["up_to_1024_rows"] if r <= 1024 else cap["more_rows"])]
    if not over:
        return ()
    est, rows = rule["estimate"], rule["prefill_rows"]
    lo, hi = _slower(rows, "pp512", float(est["pp512"]))
    from .rocm_experts import priced

    rocm = [d for d in machine.devices if d.backend == "rocm"]
    charged = (" than the dense-rate estimate; on this GPU they are now charged at the rate those logs show "
               "(docs/methodology.md 5c-s26, 5f-rocm29)" if all(priced(model, d, n_ubatch) for d in rocm)
               else " than our estimate for them (docs/methodology.md 5c-s26)")
    return (f"prefill: llama.cpp's ROCm backend multiplies 16-bit experts of {max(over):,} rows one expert at a time "
            f"(after two host syncs) at {n_ubatch} tokens a micro-batch, past its mmf kernel's limit; a Strix Halo's "
            f"published rows ({est['model']} {est['quant']}, builds {_builds(rows)}, ROCm 6.4-7.2) prompt "
            f"{lo:.1f}-{hi:.1f}x slower{charged}",)
