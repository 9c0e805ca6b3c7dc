"""Ollama: runs llama.cpp's llama-server (since 2026-05) with its own defaults (data/engines.yaml `ollama`):
the context is multiplied by the parallel slots. Memory, placement and speed are llama.cpp's."""
from __future__ import annotations

from .llamacpp import LlamaCpp


class Ollama(LlamaCpp):
    pass


ENGINE_CLASS = Ollama
