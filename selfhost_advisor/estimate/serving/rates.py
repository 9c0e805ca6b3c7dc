"""The tensor rates a vLLM step's kernels run at on a part: its GEMMs' (the 16-bit rate, an FP8 format's rate with the
share of it an FP8 GEMM reaches, a W4A16 Marlin kernel's mma.sync share), its attention kernels', and the CUDA compute
capability that picks among them (and pads DeepSeek sparse attention's heads).

Why its own module: the step's two rooflines (step.py), the fused-MoE GEMMs (moe_step.py, given matmul_flops by
step.py) and the sparse attention kernel (attention.py) read the same facts about the part: its profile's data row
(fp8_tflops, the spec table's rows included), data/serving.yaml gemm_achieved_tflops and mma_sync_formats, and
data/speed.yaml mmq_tensor_share, each from its source, not fitted.
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Quant
from .moe_step import gpu_family


def _profile_raw(machine: Machine) -> dict:
    dev = machine.devices[0]
    if not dev.matched_profile:
        return {}
    return _raw_of(dev.matched_profile)


@lru_cache(maxsize=256)
def _raw_of(profile_id: str) -> dict:
    """The profile's data row, a curated profile's or a spec-table row's (profile_by_id: the table's datacenter rows
    carry fp8_tflops and their NVLink where data/gpu_overrides.yaml sets them, B300 and H20; before session 23 only
    curated rows were read, so an 8x B300 ran its all-reduces over PCIe and its FP8 at the 16-bit rate), once per id: a
    step asks for it up to three times (matmul_flops, allreduce_seconds) and a serving curve takes thousands of steps."""
    from ...catalog.hardware import profile_by_id

    p = profile_by_id(profile_id)
    return p.raw if p is not None else {}


def _family(machine: Machine) -> str:
    """The profile's hardware family as data/speed.yaml hardware_families names it ('' when unmatched)."""
    return gpu_family(machine)


def mma_sync_share(machine: Machine, quant: Quant) -> float:
    """Share of the 16-bit tensor rate a W4A16 format's vLLM kernel reaches once it is compute-bound.

    Marlin (AWQ through awq_marlin, and GPTQ where Machete is not chosen) issues only warp-level mma.sync m16n8k16
    (vllm csrc/quantization/marlin/marlin_mma.h) and, per its README, stays near its ideal roofline: int4 bytes over
    bandwidth until the FP16 tensor rate binds (dequantization overlapped with the MMA; ~16-32 tokens). On families
    whose spec rate needs another instruction (Hopper: wgmma) mma.sync reaches data/speed.yaml mmq_tensor_share of it.
    GPTQ on compute capability 9.0 goes to Machete first (choose_mp_linear_kernel), which uses wgmma: full rate."""
    if quant.name not in load("serving")["vllm"].get("mma_sync_formats", ()):
        return 1.0
    share = load("speed").get("mmq_tensor_share", {}).get(_family(machine))
    return float(share["share"]) if share else 1.0


def fp8_gemm_gain(machine: Machine) -> float:
    """Share of the spec FP8 rate an FP8 GEMM reaches, relative to the share a 16-bit GEMM reaches on the same part:
    (achieved FP8 / spec FP8) / (achieved BF16 / spec BF16), from the family's measured maximum achievable matmul
    rates (data/serving.yaml gemm_achieved_tflops; H100 SXM: 1402.6 / 1979 over 794.5 / 989 = 0.882, so an FP8 GEMM
    runs 1.77x a BF16 one, not the spec's 2x). 1.0 for families without both measurements."""
    row = load("serving")["vllm"].get("gemm_achieved_tflops", {}).get(_family(machine))
    if not row or not row.get("fp8"):
        return 1.0
    return (float(row["fp8"]) / float(row["fp8_spec"])) / (float(row["bf16"]) / float(row["bf16_spec"]))


def matmul_flops(machine: Machine, quant: Quant, spec: bool = False) -> float:
    """Dense tensor FLOPS the format's GEMMs run at: FP8 W8A8 on parts with FP8 tensor cores at the FP8 rate
    (vLLM's cutlass scaled_mm) times the share of it an FP8 GEMM reaches against a 16-bit one (fp8_gemm_gain),
    everything else (BF16, W4A16 Marlin/Machete kernels) at the 16-bit rate, times the share an mma.sync-only kernel
    reaches on the part (mma_sync_share). spec: the format's spec rate, without the FP8 gain (a hard floor's rate)."""
    dev = machine.devices[0]
    if quant.name == "FP8":
        fp8 = _profile_raw(machine).get("fp8_tflops")
        if fp8:
            return float(fp8) * 1e12 * (1.0 if spec else fp8_gemm_gain(machine))
    return float(dev.fp16_flops or 0.0) * mma_sync_share(machine, quant)


def attention_tensor_flops(machine: Machine, quant: Quant, kv_dtype_bytes: int = 2) -> float:
    """Tensor FLOPS vLLM's attention kernels compute at (before the step's achieved share): the 16-bit rate whatever
    the weights' format, since the activations, the query and a 16-bit KV cache are BF16 / FP16 and vLLM's
    FlashAttention and FlashInfer backends take those (v1/attention/backends/flash_attn.py supported_dtypes float16 /
    bfloat16; an FP8 weight format quantizes only the GEMMs' inputs). With an FP8 KV cache on compute capability 9.x,
    FlashAttention 3 computes in FP8 ("When using the Flash Attention 3 backend with FP8 KV cache, attention operations
    are also performed in the quantized (FP8) domain. In this configuration, queries are quantized to FP8", vLLM docs,
    Quantized KV Cache): the part's FP8 rate with fp8_gemm_gain. Before session 29 (serve31) every attention FLOP of an
    FP8 model ran at the FP8 GEMM rate (matmul_flops)."""
    dev = machine.devices[0]
    if kv_dtype_bytes == 1 and cuda_major(machine) == 9:
        fp8 = _profile_raw(machine).get("fp8_tflops")
        if fp8:
            return float(fp8) * 1e12 * fp8_gemm_gain(machine)
    return float(dev.fp16_flops or 0.0)


# compute capability major by GPU architecture (data/gpu_specs.yaml `architecture`) and by curated family, for the
# parts cuda_path.compute_capability leaves out (Ampere and later; it reads NVML's figure and Pascal..Turing): Ampere /
# Ada 8, Hopper sm_90; datacenter Blackwell sm_100 / sm_103 (B200, B300, GB200); Blackwell 2.0 (GeForce RTX 50, RTX
# PRO 6000) sm_120 and GB10 (DGX Spark) sm_121; Jetson Thor (chip GB10B) sm_110
_CC_MAJOR_BY_ARCH = {"ampere": 8, "ada lovelace": 8, "hopper": 9, "blackwell": 10, "blackwell ultra": 10,
                     "blackwell 2.0": 12}
_CC_MAJOR_BY_FAMILY = {"nvidia-turing": 7, "nvidia-a100": 8, "nvidia-rtx-30": 8, "nvidia-rtx-40": 8, "nvidia-h100": 9,
                       "nvidia-b200": 10, "nvidia-rtx-50": 12, "nvidia-gb10": 12}


def cuda_major(machine: Machine) -> int | None:
    """The first GPU's CUDA compute capability major: cuda_path.compute_capability's (what the probe read from NVML,
    else Pascal..Turing by the spec-table row's architecture), else a later architecture's (the spec-table row's
    `architecture`, then the curated profile's family); None for other vendors or unknown parts."""
    from ..cuda_path import compute_capability

    dev = machine.devices[0]
    if dev.vendor != "nvidia":
        return None
    cc = compute_capability(dev)
    if cc is not None:
        return int(cc)
    from ...catalog.hardware import profile_by_id

    p = profile_by_id(dev.matched_profile) if dev.matched_profile else None  # curated or spec-table row
    raw = p.raw if p is not None else {}
    if str(raw.get("chip") or "").startswith("GB10B"):
        return 11
    arch = str(raw.get("architecture") or "").lower()
    return _CC_MAJOR_BY_ARCH.get(arch) or _CC_MAJOR_BY_FAMILY.get(_family(machine))


def dsa_head_padding(machine: Machine) -> int:
    """Heads a GPU's query is padded to in vLLM's sparse FlashMLA kernels, by the kernel's own rule
    (v1/attention/backends/mla/flashmla_sparse.py FlashMLASparseImpl: `prefill_padding = 128 if
    current_platform.is_device_capability_family(100) else 64`, "Prefill BF16 kernel requires 64 on Hopper, 128 on
    Blackwell"; FlashMLA's kernels are built for compute capability 9.x and 10.x): 128 on every sm_10x part (B200,
    B300, GB200), 64 on every sm_90 one (H100, H200, H20, GH200), whatever profile names it; 1 (no padding) elsewhere
    (the backend's later sm_12x path runs portable Triton kernels whose padding is not read here). Keyed on a family
    string before session 23, which left the spec table's B300 and H20 unpadded."""
    major = cuda_major(machine)
    return 128 if major == 10 else 64 if major == 9 else 1
