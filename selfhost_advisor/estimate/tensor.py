"""One GGUF tensor: its name, its shape in GGUF ne order and the block it belongs to."""
from __future__ import annotations

from ..record import field, record


@record
class Tensor:
    name: str
    shape: tuple[int, ...]  # GGUF ne order: shape[0] is the row length
    layer: int = -1  # -1 for non-repeating tensors
    # The product of shape, computed once: the estimators read it for every tensor of every quantization.
    n_elements: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = 1
        for dim in self.shape:
            n *= dim
        object.__setattr__(self, "n_elements", n)

    @property
    def n_dims(self) -> int:
        return len(self.shape)
