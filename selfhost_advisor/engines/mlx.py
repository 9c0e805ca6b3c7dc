"""MLX (mlx-lm) on Apple Silicon: mlx_lm.convert formats (affine 3-8 bit, group 64, bf16 scales and biases; mxfp4),
a bf16 KV cache grown in 256-token steps, everything in unified memory up to Metal's wired limit. The laws are
estimate/mlx.py; off Apple there is nothing to run (check_machine: exit 2)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BadOptionError
from .interface import Engine

if TYPE_CHECKING:
    from ..domain import FitOption, FitRequest, Machine, Model, Quant


class Mlx(Engine):
    default_quants_note = "every mlx_lm.convert format"
    weights_note = "per tensor, mlx_lm.convert formats (data/engines.yaml mlx_formats): 2-D weights quantized, norms bf16"

    def quant(self, name: str) -> Quant:
        from ..estimate.mlx import get_mlx_quant

        return get_mlx_quant(name)

    def quants(self, names=()) -> tuple[Quant, ...]:
        from ..estimate.mlx import mlx_quants

        return tuple(sorted({self.quant(n) for n in names}, key=lambda q: q.rank)) if names else mlx_quants()

    def check_machine(self, machine: Machine) -> None:
        from ..estimate.mlx import is_apple

        if not is_apple(machine):
            raise BadOptionError(f"--engine mlx runs on Apple Silicon only; {machine.name} is not an Apple machine",
                                 "use --engine llamacpp, or an Apple profile such as m4-max-128gb")

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        from ..estimate.mlx import option

        return option(model, quant, machine, request)


ENGINE_CLASS = Mlx
