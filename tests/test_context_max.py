"""fit's context never passes the model's maximum by default; an explicit one above it does what the engine does.

Sources: llama.cpp tools/server/server-context.cpp ("the slot context (N) exceeds the training context of the model
(M) - capping": it runs, KV cache allocated for -c); Ollama llm/server.go ("requested context size too large for
model": num_ctx lowered to the trained context); vLLM config _get_and_verify_max_len ("User-specified max_model_len
(N) is greater than the derived max_model_len ... set the env var VLLM_ALLOW_LONG_MAX_MODEL_LEN=1": refused).
"""
from __future__ import annotations

import json

import pytest

from cliproc import isolated_env, run_inprocess
from selfhost_advisor import api
from selfhost_advisor.errors import AdvisorError


@pytest.mark.parametrize(("model", "maximum"), [("mxbai-embed-large", 512), ("llama2", 4096), ("bge-m3", 8192)])
def test_default_context_is_capped_at_the_models_maximum(model, maximum):
    r = api.fit(model, "rtx-4090", quant="Q8_0")
    assert r.request.context == maximum == r.model.max_context
    assert r.assumptions["context_source"] == "default, the model's maximum"
    assert r.assumptions["max_context"] == maximum
    assert not any("exceeds" in w for w in r.warnings)


def test_default_context_below_the_maximum_is_8192():
    r = api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M")
    assert r.request.context == 8192 and r.assumptions["context_source"] == "default"


def test_kv_cache_follows_the_capped_context():
    # Llama 2 7B: 32 layers x 2 x 4096 x 4096 (32 KV heads x 128) x 2 bytes = 2 GiB at 4096 tokens, 4 GiB at 8192
    capped = api.fit("llama2", "rtx-4090", quant="Q4_K_M").options[0].memory.kv_cache_bytes
    asked = api.fit("llama2", "rtx-4090", quant="Q4_K_M", context=8192).options[0].memory.kv_cache_bytes
    assert capped == 32 * 2 * 4096 * 4096 * 2 and asked == 2 * capped


def test_llamacpp_runs_above_the_maximum_and_warns():
    r = api.fit("llama2", "rtx-4090", quant="Q4_K_M", context=8192)
    assert r.request.context == 8192
    assert r.assumptions["context_source"] == "--context, above the model's maximum"
    assert any("exceeds llama2:7b's maximum 4,096" in w and "caps each slot at 4,096" in w for w in r.warnings)


def test_ollama_lowers_num_ctx_to_the_maximum_and_warns():
    r = api.fit("llama2", "rtx-4090", quant="Q4_K_M", context=8192, engine="ollama")
    assert r.request.context == 4096
    assert any("requested context size too large for model" in w for w in r.warnings)


def test_vllm_refuses_above_the_maximum_naming_it(monkeypatch):
    monkeypatch.delenv("VLLM_ALLOW_LONG_MAX_MODEL_LEN", raising=False)
    with pytest.raises(AdvisorError) as e:
        api.fit("llama2", "rtx-4090", context=8192, engine="vllm")
    assert e.value.exit_code == 2 and "maximum 4,096" in str(e.value) and "VLLM_ALLOW_LONG_MAX_MODEL_LEN" in e.value.hint
    monkeypatch.setenv("VLLM_ALLOW_LONG_MAX_MODEL_LEN", "1")  # vLLM then warns and runs
    r = api.fit("llama2", "rtx-4090", context=8192, engine="vllm")
    assert r.request.context == 8192 and any("VLLM_ALLOW_LONG_MAX_MODEL_LEN" in w for w in r.warnings)


def test_vllm_accepts_the_maximum_itself():
    assert api.fit("llama2", "rtx-4090", context=4096, engine="vllm").request.context == 4096


def test_serve_and_cost_and_hardware_for_follow_the_same_rule(monkeypatch):
    monkeypatch.delenv("VLLM_ALLOW_LONG_MAX_MODEL_LEN", raising=False)
    with pytest.raises(AdvisorError) as e:
        api.serve("llama2", "rtx-4090", prompt_tokens=4000, output_tokens=200)
    assert e.value.exit_code == 2 and "maximum 4,096" in str(e.value)
    c = api.cost("1e9", model="llama2", hardware=["rtx-4090"])
    assert c.assumptions["context"]["value"] == 4096 and "maximum" in c.assumptions["context"]["source"]
    with pytest.raises(AdvisorError):
        api.cost("1e9", model="llama2", hardware=["rtx-4090"], context="8192")  # served by vLLM: refused
    assert api.hardware_for("mxbai-embed-large").request.context == 512


def test_cli_text_and_json_say_the_context_is_the_maximum(tmp_path):
    env = isolated_env(tmp_path / "home", tmp_path / "no-ollama")
    text, js, vllm = run_inprocess([
        (["fit", "mxbai-embed-large", "--hardware", "rtx-4090", "-q", "F16"], env),
        (["fit", "mxbai-embed-large", "--hardware", "rtx-4090", "-q", "F16", "--json"], env),
        (["fit", "mxbai-embed-large", "--hardware", "rtx-4090", "--engine", "vllm", "--context", "8192"], env),
    ], tmp_path)
    assert text.returncode == 0 and "context 512 tokens (the model's maximum)" in text.stdout
    doc = json.loads(js.stdout)
    assert doc["context"] == 512 and doc["assumptions"]["context_source"] == "default, the model's maximum"
    assert vllm.returncode == 2 and vllm.stdout == "" and len(vllm.stderr.strip().splitlines()) == 1
    assert "maximum 512" in vllm.stderr
