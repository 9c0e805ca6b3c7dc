"""Which MoE kernel holds gpt-oss's MXFP4 experts in vLLM, whose layout vllm_weights.mxfp4_expert_bytes sizes.

Why: `Model loading took X GiB` is the checkpoint's experts reshaped for the kernel, not the checkpoint. vLLM
(model_executor/layers/quantization/mxfp4.py, Mxfp4MoEMethod.create_weights / process_weights_after_loading) pads the
expert matrices to the kernel's tile and converts scales and biases; which kernel runs is moe_step.moe_kernel's rule
(Marlin before Hopper and on Hopper before 0.11.1, triton_kernels on Hopper from 0.11.1 and on ROCm). The paddings and
dtypes are data/engines.yaml vllm_mxfp4_layouts (sources there), sized in vllm_weights.py (mxfp4_expert_bytes; kept
there so the weights module needs nothing of the serving model). Blackwell's FlashInfer paths are not modelled here
(the checkpoint's bytes, as before session 33).
"""
from __future__ import annotations

from ..domain import Machine, Model, Quant


def mxfp4_kernel(model: Model, quant: Quant, machine: Machine, release: str = "") -> str:
    """The kernel vLLM runs this model's MXFP4 experts with on the machine's first CUDA GPU ('' for other formats and
    other backends: ROCm's triton_kernels pads to get_padding_alignment and keeps StridedLayout copies we have not
    sized): moe_step.moe_kernel on the GPU's family; a GPU known only by its name (no matched profile) is looked up."""
    if quant.name != "MXFP4" or model.moe is None or not machine.devices or machine.devices[0].backend != "cuda":
        return ""
    from ..catalog.profiles import find_profile
    from .serving.moe_step import moe_kernel
    from .speed_factors import listed_family

    dev = machine.devices[0]
    pid = dev.matched_profile
    if not pid:
        prof = find_profile(dev.name) if dev.name else None
        pid = prof.id if prof else ""
    return moe_kernel(listed_family(pid or ""), dev.backend, quant, release)
