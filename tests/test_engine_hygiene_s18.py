"""Session 18 engine code health: one refusal helper for backend words (Engine.refused_device), vLLM's start-up
refusal fed what is used before it reads free memory, on a unified GPU as on a discrete one."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.engines import get_engine


def _machine(spec: str):
    profile, count, _ = parse_spec(spec)
    return machine_from_profile(profile, count)


@pytest.mark.parametrize(("engine", "spec", "refused"), [
    ("llamacpp", "arc b580 sycl", False),   # llama.cpp builds ggml-sycl and ggml-vulkan
    ("llamacpp", "rtx 4090 vulkan", False),
    ("ollama", "arc b580 sycl", True),      # Ollama has no SYCL build (data/engines.yaml refused_backend_words)
    ("ollama", "arc b580 vulkan", False),
    ("vllm", "rtx 4090 vulkan", True),      # vLLM has no Vulkan platform (refused_backends)
    ("vllm", "arc b580 sycl", True),        # vLLM runs Intel on XPU, not ggml-sycl (refused_backend_words)
    ("vllm", "arc b580", False),
])
def test_one_helper_decides_the_refused_backend_for_every_engine(engine, spec, refused):
    assert (get_engine(engine).refused_device(_machine(spec)) is not None) is refused

