"""The MoE router gates vLLM runs in IEEE FP32 on the CUDA cores (data/serving.yaml fp32_router_archs).

Why a term of its own: the step prices every other weight GEMM at a tensor-core rate (step.matmul_flops), but GLM-4.5 /
4.6 (vllm models/glm4_moe.py: nn.Linear(dtype=torch.float32) on an fp32 cast of its input) and MiniMax-M2
(models/minimax_m2.py: a float32 ReplicatedLinear) build their router gate in float32, and vLLM leaves torch's float32
matmul precision at 'highest' (vllm PR #29897 sets it explicitly), so cuBLAS runs it as SGEMM on the CUDA cores,
15-60x under the part's 16-bit / FP8 tensor rate. The gate is replicated on every tensor-parallel rank.
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Model
from ..tensors import build_tensors


@lru_cache(maxsize=256)
def _simt_flops_of(profile_id: str) -> float:
    """fp32_simt_flops of one profile id, once per id (a burst replay prices thousands of steps)."""
    from ...catalog.hardware import profile_by_id

    p = profile_by_id(profile_id) if profile_id else None
    raw = p.raw if p is not None else {}
    return float(raw.get("cuda_cores") or 0) * 2.0 * float(raw.get("boost_clock_mhz") or 0) * 1e6


@lru_cache(maxsize=256)
def fp32_router_flops(model: Model) -> int:
    """FLOPs per token, on every GPU, of the router gate GEMMs vLLM runs in IEEE FP32 (data/serving.yaml
    fp32_router_archs: GLM-4.5 / 4.6's nn.Linear(dtype=torch.float32) on an fp32 cast of its input, MiniMax-M2's fp32
    ReplicatedLinear): 2 x hidden x experts per MoE layer, the whole gate on every tensor-parallel rank (tp_whole);
    0 for any other model (a bf16 gate stays in the step's dense GEMMs at the format's tensor rate)."""
    if model.moe is None or model.arch not in load("serving")["vllm"].get("fp32_router_archs", ()):
        return 0
    return sum(2 * t.n_elements for t in build_tensors(model) if t.name.endswith("ffn_gate_inp.weight"))


def fp32_simt_flops(machine: Machine) -> float:
    """The part's FP32 rate on its CUDA cores (no tensor cores): cuda_cores x 2 (an FMA) x the boost clock, from the
    profile (A100 SXM 6,912 x 2 x 1,410 MHz = 19.5 TFLOPS, H100 / H200 SXM 16,896 x 2 x 1,980 MHz = 66.9, NVIDIA's
    figures); 0 where the profile lacks either."""
    return _simt_flops_of(machine.devices[0].matched_profile or "")


def fp32_router_seconds(model: Model, machine: Machine, tokens: float) -> float:
    """Per step, per GPU: the FP32 router gates of every MoE layer over every token of the step (fp32_router_flops),
    at the part's FP32 CUDA-core rate (fp32_simt_flops). vLLM keeps torch's float32 matmul precision at 'highest'
    (vllm PR #29897), so cuBLAS runs these GEMMs as SGEMM, not on the tensor cores; priced at the full FP32 spec rate,
    a lower bound (sglang PR #22744 measured MiniMax-M2.5's fp32 gate at 9.1% of a 64-sequence decode step). Why it
    matters: the gate is replicated, so at TP 8 it is a larger share of a GPU's work (GLM-4.6 on 8 H200: 146 MFLOP a
    token at 66.9 TFLOPS, 17.9 ms of an 8,192-token chunk's 320 ms step). 0 where the rate is unknown."""
    rate = fp32_simt_flops(machine)
    flops = fp32_router_flops(model)
    if not rate or not flops or tokens <= 0:
        return 0.0
    return tokens * flops / rate
