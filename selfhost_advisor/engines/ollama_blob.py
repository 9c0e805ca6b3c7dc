"""The file `ollama pull` fetches where Ollama made it with its own converter (data/ollama_library.yaml converter_files).

Why: Ollama's gpt-oss blobs are not a llama-quantize type. Ollama converted OpenAI's checkpoint itself: the experts
stay MXFP4 and every other matrix is written as read, BF16, i.e. the catalog's BF16 file of gpt-oss (experts MXFP4,
matrices BF16, router, biases and 1-D tensors F32). Sizing the library tag as every llama-quantize type (Q8_0 12.1 GB
for gpt-oss:20b) missed the 13.8 GB that `ollama run gpt-oss:20b` loads.

Two uploads: the library file as Ollama 0.30 loads it (ollama issue 16416: 687 tensors, model 61223 + host 1104 MiB
for the 120b) is that BF16 set; the first upload (2025-08, v0.11.2's converter, 471 tensors: attn_qkv and
ffn_gate_up_exps fused, same elements) kept the 2-D expert biases BF16, as convert/reader.go and reader_safetensors.go
Kind() gave them then (F32 only from 1a19df1f3, 2025-08-14):
  experts (the checkpoint's .blocks/.scales)   MXFP4
  *.ffn_gate_inp.weight, every 1-D tensor      F32
  every other tensor (a BF16 source)           BF16
Ollama's own estimate (releases up to 0.11.10) logged that first file's sizes (issues 11711, 11982), so those releases
are sized with it; later releases with the current file.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..catalog.data import load

if TYPE_CHECKING:
    from ..domain import Model, Quant


def library_file(model: Model) -> dict | None:
    """The converter_files record of a catalog model (sized_as, library_size, checked_against), or None; None too for
    a model that carries its own tensor types (a GGUF file read: not the library's blob)."""
    if model.tensor_types is not None:
        return None
    return (load("ollama_library").get("converter_files") or {}).get("models", {}).get(model.id)


def blob_type(name: str, n_dims: int, catalog_type: str) -> str:
    """The GGML type Ollama's converter (v0.11.2) gives one tensor of a BF16 checkpoint with MXFP4 experts."""
    if catalog_type == "MXFP4":  # the expert matrices: convert_gptoss.go Tensors() writes them MXFP4
        return "MXFP4"
    if name.endswith(".ffn_gate_inp.weight") or n_dims <= 1:  # tensorBase.Kind(): always F32
        return "F32"
    return "BF16"  # Kind() FP16, made BF16 by safetensor.Kind() for a BF16 source


def blob_model(model: Model, quant: Quant, *, first_upload: bool) -> Model:
    """`model` carrying the first upload's own tensors (exact types, as a GGUF header would give them) when asked and
    `quant` is the format its library file is sized as; else `model` unchanged (the current file is that format)."""
    rec = library_file(model)
    if not first_upload or rec is None or quant.name != rec["sized_as"]:
        return model
    from ..estimate.memory_weights import weights_by_tensor
    from ..record import replace

    tensors = tuple((t.name, tuple(t.shape), blob_type(t.name, len(t.shape), ty))
                    for t, ty, _ in weights_by_tensor(model, quant))
    # alignment 1: Ollama's estimate (llm/memory.go) sums tensor sizes unpadded; the file pads each to 32 bytes
    return replace(model, tensor_types=tensors, gguf_alignment=1)


def blob_note(model: Model, quant: Quant) -> str:
    """One line saying which file this option is, or that `ollama run TAG` fetches another."""
    rec = library_file(model)
    if rec is None:
        return ""
    if quant.name == rec["sized_as"]:
        return (f"sized as Ollama's library file of {model.id} ({rec['library_size']} on ollama.com): its own converter's "
                "output, MXFP4 experts and BF16 elsewhere (Ollama's convert/convert_gptoss.go), not a llama-quantize type")
    return (f"`ollama run {model.id}` fetches Ollama's own MXFP4/BF16 file ({rec['library_size']}), not {quant.name}: "
            f"a {quant.name} GGUF is imported with a Modelfile")
