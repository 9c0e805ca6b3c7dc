"""GGML tensor types: block size and bytes per block (data/ggml_types.yaml, generated from gguf's GGML_QUANT_SIZES).

Its own module so that quantize.py (which types each tensor) and tensors.py (which reads a GGUF file's exact
tensors) both size tensors without importing each other (issue 19: the quantize <-> tensors import circle).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load


@lru_cache(maxsize=1)
def ggml_types() -> dict[str, tuple[int, int]]:
    """GGML type name -> (block_size, type_size) from data/ggml_types.yaml."""
    return {name: (v["block_size"], v["type_size"]) for name, v in load("ggml_types")["types"].items()}


def tensor_bytes(ggml_type: str, n_elements: int, row_length: int) -> int:
    """Bytes of a tensor stored as `ggml_type`: rows x (row_length / block) x type_size."""
    block, size = ggml_types()[ggml_type]
    rows = n_elements // row_length
    return rows * (row_length // block) * size
