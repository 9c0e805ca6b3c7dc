"""Ollama: runs llama.cpp's llama-server (since 2026-05) with its own defaults (data/engines.yaml `ollama`):
the context is multiplied by the parallel slots. Memory, placement and speed are llama.cpp's."""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from .llamacpp import LlamaCpp

if TYPE_CHECKING:
    from ..catalog.resolve import Resolved
    from ..domain import FitOption, FitRequest, Machine, Model


class Ollama(LlamaCpp):
    def model_ref(self, resolved: Resolved) -> str:
        if resolved.files:
            return resolved.files[0]
        return resolved.query if resolved.kind in ("ollama", "catalog") else resolved.model.id

    def command(self, model: Model, option: FitOption, request: FitRequest, machine: Machine) -> str:
        """`ollama serve` with the server settings the estimate assumed (docs/faq.md environment variables:
        OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE), then the model.
        Ollama chooses the offloaded layers itself; a GGUF file is imported through a Modelfile first."""
        if option.placement.fit == "no":
            return ""
        env = [f"OLLAMA_CONTEXT_LENGTH={request.context}", f"OLLAMA_NUM_PARALLEL={request.n_parallel}",
               f"OLLAMA_FLASH_ATTENTION={1 if request.flash_attention else 0}",
               f"OLLAMA_KV_CACHE_TYPE={request.kv_cache_type}"]
        ref = request.model_ref or model.id
        if ref.lower().endswith(".gguf"):
            name = "advisor-" + option.quant.name.lower()
            run = (f"echo {shlex.quote('FROM ' + ref)} > Modelfile && ollama create {name} -f Modelfile"
                   f" && ollama run {name}")
        else:
            run = f"ollama run {shlex.quote(ref)}"
        return " ".join(env) + " ollama serve & " + run


ENGINE_CLASS = Ollama
