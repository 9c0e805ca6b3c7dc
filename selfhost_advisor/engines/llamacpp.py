"""llama.cpp (llama-server): GGUF weights per tensor, KV cache allocated up front, whole layers offloaded (-ngl).

The memory laws are estimate/memory.py (weights, KV cells, compute buffer) and estimate/placement.py (layer
offload with llama.cpp's --fit margin); speed is estimate/speed.py's roofline fitted on llama-bench results.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .interface import Engine

if TYPE_CHECKING:
    from ..catalog.resolve import Resolved
    from ..domain import FitOption, FitRequest, Machine, Model, Quant

QUALITY_FLOOR = "Q4_K_M"  # llama.cpp's own recommended default (tools/quantize/README: "recommended" Q4_K_M)


class LlamaCpp(Engine):
    default_quants_note = "Q4_K_M and better (default; --quant to choose)"
    weights_note = "per tensor, llama.cpp quantizer type rules, imatrix for IQ types"

    def quant(self, name: str) -> Quant:
        from ..catalog.quants import get_quant

        return get_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        from ..catalog.quants import listed_quants

        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else listed_quants()

    def select_quants(self, resolved: Resolved, names: list[str]) -> tuple[Quant, ...]:
        from ..catalog.quants import listed_quants
        from ..catalog.resolve import select_quants

        return select_quants(resolved, names) or listed_quants()

    def buying_quants(self, quants: tuple[Quant, ...]) -> tuple[Quant, ...]:
        floor = self.quant(QUALITY_FLOOR).rank
        return tuple(q for q in quants if q.rank <= floor)

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        from ..catalog._data import load
        from ..domain import FitOption
        from ..estimate.memory import estimate_memory
        from ..estimate.placement import place
        from ..estimate.speed import estimate_speed

        depth = request.context // 2
        runtime = load("engines")["runtime"]
        backend = machine.devices[0].backend if machine.devices else "cpu"
        mem = estimate_memory(model, quant, request, n_gpus=len(machine.devices), backend=backend)
        placement = place(mem, machine, margin_bytes=int(runtime["gpu_margin_bytes"]),
                          os_reserve_bytes=int(runtime["os_reserve_bytes"]), host_ram_known=host_ram_known)
        speed = estimate_speed(model, quant, placement, machine, kv_cache_type=request.kv_cache_type,
                               decode_depth=depth, prefill_depth=min(depth, 256), n_ubatch=request.n_ubatch)
        plain = FitOption(quant=quant, memory=mem, placement=placement, speed=speed)
        if self.expert_offload:
            from ..estimate.moe_offload import with_expert_offload

            return with_expert_offload(model, quant, machine, request, plain, host_ram_known=host_ram_known)
        return plain


ENGINE_CLASS = LlamaCpp
