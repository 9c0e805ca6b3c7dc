"""The engine registry (selfhost_advisor/engines): every engine is a record in data/engines.yaml plus one module,
and nothing outside the registry asks for an engine by name."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines import engine_names, get_engine
from selfhost_advisor.engines.interface import Engine
from selfhost_advisor.errors import BadOptionError

PACKAGE = Path(__file__).resolve().parents[1] / "selfhost_advisor"


def test_every_engine_record_has_a_module_and_capabilities():
    for name in engine_names():
        e = get_engine(name)
        assert isinstance(e, Engine) and e.name == name
        assert e.weight_formats in ("gguf", "serving", "mlx"), name
        assert e.kv_cache_types, name
        assert e.params.get("version") and e.params.get("source_capabilities"), name
        assert e.quants(), name  # it offers weight formats


def test_engine_names_are_case_insensitive_and_unknown_ones_name_the_choices():
    assert get_engine("VLLM") is get_engine("vllm")
    with pytest.raises(BadOptionError) as err:
        get_engine("tgi")
    assert "llamacpp" in str(err.value.hint) and "vllm" in str(err.value.hint)


def test_capabilities_drive_the_estimate():
    """partial offload is a capability: llama.cpp offloads layers of a 70B to RAM, vLLM refuses the same box."""
    m = get_model("llama3.1:70b")
    machine = machine_from_profile(find_profile("rtx4090"), 1, ram_bytes=128 * 10**9)
    for name in ("llamacpp", "vllm"):
        e = get_engine(name)
        q = e.quants()[0]  # 16-bit: 141 GB, more than the 4090 holds
        opt = e.option(m, q, machine, FitRequest(context=8192, engine=name))
        assert (opt.placement.fit == "partial") == e.partial_offload, name
        assert (opt.max_concurrency is not None) == e.kv_pool, name


def test_a_new_engine_is_one_record(monkeypatch):
    """Adding an engine is data plus a module: a record reusing llama.cpp's module runs through fit unchanged."""
    import selfhost_advisor.engines as reg
    from selfhost_advisor.estimate.fit import fit

    real = load("engines")
    data = {**real, "engines": {**real["engines"], "myengine": {**real["engines"]["llamacpp"], "name": "test"}}}
    monkeypatch.setattr(reg, "load", lambda name: data if name == "engines" else load(name))
    monkeypatch.setattr("selfhost_advisor.estimate.memory_engine._engines", lambda: data)  # every reader of engines.yaml
    reg._engine.cache_clear()
    try:
        e = get_engine("myengine")
        m = get_model("llama3.1:8b")
        machine = machine_from_profile(find_profile("rtx4090"), 1)
        res = fit(m, machine, FitRequest(context=4096, engine="myengine"), e.quants(["Q4_K_M"]))
        assert res.recommended == "Q4_K_M" and res.assumptions["engine"] == "myengine"
    finally:
        reg._engine.cache_clear()


_NAME_TEST = re.compile(r"""(==|!=|\bin)\s*\(?\s*["'](vllm|ollama|llamacpp|mlx|sglang)["']""")


def test_nothing_outside_the_registry_compares_engine_names():
    hits = []
    for path in PACKAGE.rglob("*.py"):
        if "engines" in path.relative_to(PACKAGE).parts:
            continue
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if _NAME_TEST.search(line):
                hits.append(f"{path.relative_to(PACKAGE)}:{i}: {line.strip()}")
    assert not hits, "ask the engine's capabilities instead:\n" + "\n".join(hits)
