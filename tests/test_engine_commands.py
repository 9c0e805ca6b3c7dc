"""The `command` of each option: the engine's own command line carries exactly the settings the estimate assumed.

Each test parses the command back (shlex) and compares its flags with the request and the estimate's own results
(placement, TP size, batch limits), not with a stored string."""
from __future__ import annotations

import shlex

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines import get_engine
from selfhost_advisor.errors import BadOptionError
from selfhost_advisor.estimate.fit import fit
from selfhost_advisor.estimate.vllm import plan


def _flags(cmd: str) -> dict[str, str]:
    words = shlex.split(cmd)
    out = {}
    for i, w in enumerate(words):
        if w.startswith("-"):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            out[w] = "" if nxt.startswith("-") else nxt
    return out


def _machine(profile: str, count: int = 1, ram_gb: int = 128):
    return machine_from_profile(find_profile(profile), count, ram_bytes=ram_gb * 10**9)


@pytest.mark.parametrize("kv,fa,ctx,par", [("f16", True, 8192, 1), ("q8_0", False, 32768, 4)])
def test_llama_server_command_carries_the_requests_settings_and_the_offload(kv, fa, ctx, par):
    m = get_model("llama3.1:70b")
    req = FitRequest(context=ctx, kv_cache_type=kv, flash_attention=fa, n_parallel=par)
    e = get_engine("llamacpp")
    res = fit(m, _machine("rtx-4090", 2), req, e.quants(["Q4_K_M", "Q8_0"]))
    for opt in res.options:
        f = _flags(opt.command)
        assert shlex.split(opt.command)[0] == "llama-server"
        assert f["-c"] == str(ctx) and f["-np"] == str(par) and f["-ub"] == str(req.n_ubatch)
        assert f["-ctk"] == kv and f["-ctv"] == kv and f["-fa"] == ("on" if fa else "off")
        assert int(f["-ngl"]) == opt.placement.gpu_layers
        assert f["--tensor-split"] == ",".join(map(str, opt.placement.per_device_layers))
        assert f["-m"].endswith(f"-{opt.quant.name}.gguf")


def test_vllm_command_carries_the_plans_tp_batch_limits_utilisation_and_kv_type():
    m = get_model("llama3.1:70b")
    machine = _machine("h100-sxm", 4)
    req = FitRequest(context=16384, engine="vllm", kv_cache_type="fp8", gpu_memory_utilization=0.85,
                     enforce_eager=True, max_num_seqs=64)
    e = get_engine("vllm")
    for q in e.quants():
        opt = e.option(m, q, machine, req)
        p = plan(m, q, machine, req)
        f = _flags(opt.command)
        assert shlex.split(opt.command)[:2] == ["vllm", "serve"]
        assert f["--max-model-len"] == "16384" and float(f["--gpu-memory-utilization"]) == 0.85
        assert f["--tensor-parallel-size"] == str(p.tp) == "4"
        assert f["--kv-cache-dtype"] == "fp8" and "--enforce-eager" in f
        assert f["--max-num-seqs"] == "64" and f["--max-num-batched-tokens"] == str(p.max_num_batched_tokens)
        assert ("--quantization" in f) == (q.name == "FP8")


def test_nothing_that_does_not_run_gets_a_command():
    m = get_model("llama3.1:70b")
    opt = get_engine("vllm").option(m, get_engine("vllm").quant("BF16"), _machine("rtx-4090"), FitRequest(8192, "vllm"))
    assert opt.placement.fit == "no" and opt.command == ""


def test_a_hostile_file_path_is_quoted_not_executed():
    m = get_model("llama3.1:8b")
    ref = "/tmp/x; rm -rf ~ $(reboot).gguf"
    req = FitRequest(context=4096, model_ref=ref)
    for name in ("llamacpp", "ollama"):
        e = get_engine(name)
        opt = e.option(m, e.quant("Q4_K_M"), _machine("rtx-4090"), FitRequest(4096, name, model_ref=ref))
        assert ref in " ".join(shlex.split(opt.command)), name  # one word after unquoting
        assert "; rm" not in opt.command.replace(shlex.quote(ref), "").replace(shlex.quote("FROM " + ref), ""), name
    assert req.model_ref == ref


def test_ollama_command_sets_the_server_environment_the_estimate_used():
    m = get_model("llama3.1:8b")
    e = get_engine("ollama")
    req = FitRequest(context=16384, engine="ollama", n_parallel=2, kv_cache_type="q8_0", model_ref="llama3.1:8b")
    opt = e.option(m, e.quant("Q4_K_M"), _machine("rtx-4090"), req)
    env = dict(w.split("=", 1) for w in shlex.split(opt.command) if "=" in w and w.isascii() and w[0].isupper())
    assert env == {"OLLAMA_CONTEXT_LENGTH": "16384", "OLLAMA_NUM_PARALLEL": "2", "OLLAMA_FLASH_ATTENTION": "1",
                   "OLLAMA_KV_CACHE_TYPE": "q8_0"}
    assert opt.command.endswith("ollama run llama3.1:8b")


@pytest.mark.parametrize("engine,changes,words", [
    ("vllm", {"kv_cache_type": "q8_0"}, "fp8"),
    ("llamacpp", {"kv_cache_type": "fp8"}, "q8_0"),
    ("vllm", {"gpu_memory_utilization": 1.2}, "(0, 1]"),
    ("vllm", {"gpu_memory_utilization": 0.0}, "(0, 1]"),
    ("vllm", {"tensor_parallel": 3}, "divide"),
    ("llamacpp", {"gpu_memory_utilization": 0.5}, "--engine vllm"),
    ("ollama", {"enforce_eager": True}, "--engine vllm"),
])
def test_options_an_engine_does_not_have_are_refused_naming_the_fix(engine, changes, words):
    m = get_model("llama3.1:8b")
    req = FitRequest(context=4096, engine=engine, **changes)
    with pytest.raises(BadOptionError) as err:
        get_engine(engine).check_request(m, req, _machine("h100-sxm", 4))
    assert words in str(err.value)
