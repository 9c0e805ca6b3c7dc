"""Session 20 (eng5) code hygiene: import statements in the hot loop of `models --fits`, the Metal spec-sheet floor."""
from __future__ import annotations

import builtins
import sys

import pytest

from selfhost_advisor.cli import main


def _function_imports(argv: list[str]) -> int:
    """Import statements executed inside functions of the package while `advisor argv` runs (warm: everything is
    imported and cached by a first run). Each costs ~1.5-2.6 us even with the module loaded (the relative name is
    resolved, the fromlist read); one in estimate_memory or the CUDA path runs once per (model, quant)."""
    original = builtins.__import__
    count = 0

    def counting(name, globals=None, locals=None, fromlist=(), level=0):
        nonlocal count
        caller = sys._getframe(1).f_code
        if caller.co_name != "<module>" and "selfhost_advisor" in caller.co_filename:
            count += 1
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = counting
    try:
        assert main(argv) == 0
    finally:
        builtins.__import__ = original
    return count


def test_models_fits_runs_no_import_statement_per_model(capsys):
    """`models --fits` evaluates ~1,500 (model, quant) options; function-level imports in llamacpp.option, the CUDA
    and ROCm kernel paths and the KV helpers ran 84,000 import statements on an RX 7900 XTX (41,500 on an RTX 4090),
    ~30% of the command's CPU time (0.60 -> 0.42 s warm, measured on the 2-core box). Hoisted to module level where the
    module is loaded on that path anyway (no start-up cost: `fit --json` imports the same modules); what is left runs
    once per command or only for MoE models."""
    argv = ["models", "--fits", "rx 7900 xtx", "--json"]
    assert main(argv) == 0  # warm
    capsys.readouterr()
    assert _function_imports(argv) < 1000  # ~425: the MoE-only paths (speed_terms, moe_batch, moe_graphs), ~10 per MoE option
    capsys.readouterr()


@pytest.mark.parametrize("engine, before, bound", [("vllm", 2334, 500), ("ollama", 13954, 2000)])
def test_models_fits_on_vllm_and_ollama_runs_few_import_statements(capsys, engine, before, bound):
    """The same for the other engines' option paths (engines/vllm.option, ollama's blob / launch / projector rules,
    estimate/vllm's checks), on the Qwen rows of the catalog: `before` was the count on main before session 20; what
    is left is serving/step.py's kernel term (vLLM) and memory_engine._engine_rule's release lookup (Ollama)."""
    argv = ["models", "qwen", "--fits", "rtx4090", "--engine", engine, "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    assert _function_imports(argv) < bound < before
    capsys.readouterr()


@pytest.mark.parametrize("vram", ["1B", "1MB", "100MB", "1GB"])
def test_a_metal_spec_sheet_smaller_than_the_os_reserve_is_refused(vram):
    """custom:...,backend=metal with vram=1B was accepted (Metal counts no runtime context, the floor other backends
    get: data/engines.yaml runtime) and fit showed 'Usable 0 MB of 0 MB: Metal working-set limit 0%'. A Metal GPU's
    memory is the Mac's RAM, which also holds macOS: below the RAM kept for the OS (runtime.os_reserve_bytes, 2 GiB)
    nothing is left for a model. Exit 2 naming that figure."""
    from selfhost_advisor.catalog.custom_hw import parse_custom
    from selfhost_advisor.errors import BadOptionError

    with pytest.raises(BadOptionError, match="kept for the OS") as e:
        parse_custom(f"custom:vram={vram},bandwidth=100GB/s,fp16=10TFLOPS,backend=metal")
    assert e.value.exit_code == 2 and "\n" not in str(e.value)


def test_a_unified_spec_sheet_at_the_os_reserve_is_accepted_and_every_sold_mac_clears_it():
    from selfhost_advisor.catalog.custom_hw import parse_custom
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.catalog.hw_names import apple_profiles

    floor = int(load("engines")["runtime"]["os_reserve_bytes"])
    p, _ = parse_custom(f"custom:vram={floor}B,bandwidth=100GB/s,fp16=10TFLOPS,backend=metal")
    assert p.memory_bytes == floor and p.unified
    assert min(a.memory_bytes for a in apple_profiles()) > floor  # 8 GB M1: the floor refuses no Mac ever sold
    with pytest.raises(Exception, match="kept for the OS"):  # an APU spec shares its memory with the OS the same way
        parse_custom(f"custom:vram={floor - 1}B,bandwidth=100GB/s,fp16=10TFLOPS,backend=vulkan,unified=true")
