"""vLLM: serving weight formats (BF16, FP8, AWQ/GPTQ int4), a paged KV pool in a fixed share of each GPU, tensor
parallelism, no partial offload. The memory law is estimate/vllm.py; speed is estimate/serving.py's batched step."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .interface import Engine

if TYPE_CHECKING:
    from ..domain import FitOption, FitRequest, Machine, Model, Quant


class Vllm(Engine):
    default_quants_note = "every vLLM serving format"
    weights_note = "per tensor, vLLM serving formats (data/engines.yaml vllm_formats)"

    def quant(self, name: str) -> Quant:
        from ..estimate.vllm import get_vllm_quant

        return get_vllm_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        from ..estimate.vllm import vllm_quants

        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else vllm_quants()

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        from ..domain import FitOption, Speed
        from ..estimate.serving import _prefill_tokens_per_s, step_seconds
        from ..estimate.speed import efficiency
        from ..estimate.vllm import plan

        depth = request.context // 2
        p = plan(model, quant, machine, request)
        speed = None
        dev = machine.devices[0] if machine.devices else None
        if p.placement.fit == "gpu" and dev and dev.bandwidth_bytes_per_s and dev.fp16_flops:
            eff = efficiency(dev.backend)
            d = 1.0 / step_seconds(model, quant, machine, p.tp, 1, depth)
            pf = _prefill_tokens_per_s(model, quant, machine, p.tp, min(depth, 256))
            speed = Speed(d, pf, "extrapolated", d * eff.decode_band[0], d * eff.decode_band[1],
                          pf * eff.prefill_band[0], pf * eff.prefill_band[1],
                          note=f"vLLM tensor parallel {p.tp}; CUDA-family efficiency from llama-bench")
        elif p.placement.fit == "gpu":
            speed = Speed(None, None, "unknown", note="device bandwidth or FLOPS unknown: give a hardware profile")
        return FitOption(quant=quant, memory=p.memory, placement=p.placement, speed=speed,
                         max_concurrency=p.max_concurrency if p.placement.fit == "gpu" else 0)


ENGINE_CLASS = Vllm
