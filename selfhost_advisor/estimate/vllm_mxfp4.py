"""The bytes of gpt-oss's MXFP4 experts as vLLM holds them after loading, by the MoE kernel it runs them with.

Why: `Model loading took X GiB` is the checkpoint's experts reshaped for the kernel, not the checkpoint. vLLM
(model_executor/layers/quantization/mxfp4.py, Mxfp4MoEMethod.create_weights / process_weights_after_loading) pads the
expert matrices to the kernel's tile and converts scales and biases; which kernel runs is moe_step.moe_kernel's rule
(Marlin before Hopper and on Hopper before 0.11.1, triton_kernels on Hopper from 0.11.1 and on ROCm). The paddings and
dtypes are data/engines.yaml vllm_mxfp4_layouts (sources there). Blackwell's FlashInfer paths are not modelled here
(the checkpoint's bytes, as before session 33).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Machine, Model, Quant
from .tensors import Tensor

_BLOCK = 32  # MXFP4: one E8M0 scale byte per 32 values


def _round_up(x: int, to: int) -> int:
    return -(-x // to) * to


@lru_cache(maxsize=1)
def layouts() -> dict[str, dict]:
    return {k: v for k, v in load("engines")["vllm_mxfp4_layouts"].items() if isinstance(v, dict)}


def expert_tensor_bytes(t: Tensor, kernel: str) -> int | None:
    """Bytes of one MXFP4 expert tensor (GGUF names: ffn_gate_exps / ffn_up_exps (H, I, E), ffn_down_exps (I, H, E),
    their biases (I, E) / (H, E)) under `kernel`'s layout, or None where the layout is not modelled (the caller keeps
    the checkpoint's bytes). Gate and up are the two halves of vLLM's fused w13 (E, 2 I_pad, H_pad / 2); down is w2
    (E, H_pad, I_pad / 2); scales one byte per 32 inputs, held `scale_copies` times; biases in `bias_bytes`."""
    lay = layouts().get(kernel)
    if lay is None or "_exps" not in t.name:
        return None
    is_down = "ffn_down_exps" in t.name
    if t.name.endswith(".bias"):
        width, experts = t.shape[0], t.shape[1]  # I for gate / up, H for down
        pad = int(lay["hidden_align"]) if is_down else int(lay["intermediate_align"])
        return experts * _round_up(width, pad) * int(lay["bias_bytes"])
    if t.n_dims != 3:
        return None
    n_in, n_out, experts = t.shape
    h_pad_to, i_pad_to = int(lay["hidden_align"]), int(lay["intermediate_align"])
    k = _round_up(n_in, i_pad_to if is_down else h_pad_to)  # the GEMM's input width (the quantization axis)
    n = _round_up(n_out, h_pad_to if is_down else i_pad_to)
    values = experts * n * k // 2
    scales = experts * n * (k // _BLOCK) * int(lay["scale_copies"])
    return values + scales


def mxfp4_kernel(model: Model, quant: Quant, machine: Machine, release: str = "") -> str:
    """The kernel vLLM runs this model's MXFP4 experts with on the machine's first CUDA GPU ('' for other formats and
    other backends: ROCm's triton_kernels pads to get_padding_alignment and keeps StridedLayout copies we have not
    sized): moe_step.moe_kernel on the GPU's family; a GPU known only by its name (no matched profile) is looked up."""
    if quant.name != "MXFP4" or model.moe is None or not machine.devices or machine.devices[0].backend != "cuda":
        return ""
    from ..catalog.hardware import find_profile
    from .serving.moe_step import moe_kernel
    from .speed_factors import listed_family

    dev = machine.devices[0]
    pid = dev.matched_profile
    if not pid:
        prof = find_profile(dev.name) if dev.name else None
        pid = prof.id if prof else ""
    return moe_kernel(listed_family(pid or ""), dev.backend, quant, release)
