"""Session 33 (ollama33): the Ollama engine's own memory in the layout releases (0.11.11-0.29), from its source.

- kvcache/recurrent.go: a hybrid model's recurrent layers hold each slot's state plus DefaultCheckpointCount
  checkpoint copies (24 from v0.17.1; qwen3next's own 32 in v0.15.5-v0.17.0), all reserved at load.
- runner/ollamarunner reserveWorstCaseGraph: batch.Outputs has s.parallel rows, so the Ollama engine's graph holds
  n_parallel rows of logits; the llama.cpp runner reserves a micro-batch of them.
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import compute_buffer_bytes, kv_cache_bytes
from selfhost_advisor.estimate.memory_kv import recurrent_state_copies
from selfhost_advisor.estimate.memory_overhead import ollama_engine_runs

MIB = 2**20


def _req(version: str, engine: str = "ollama", **kw) -> FitRequest:
    return FitRequest(context=kw.pop("context", 32768), engine=engine, engine_version=version, **kw)


@pytest.mark.parametrize(("model", "version", "copies"), [
    ("qwen3-coder-next", "0.20.0", 25),   # 1 + kvcache DefaultCheckpointCount 24
    ("qwen3-coder-next", "0.17.0", 33),   # 1 + qwen3next checkpointCountDefault 32
    ("qwen3-coder-next", "0.15.4", 1),    # before Ollama ran qwen3next
    ("qwen3-coder-next", "0.30.0", 1),    # llama-server: llama.cpp's one state per sequence
    ("qwen3-coder-next", "", 1),          # the current release (llama-server)
])
def test_recurrent_checkpoints_by_release(model, version, copies):
    assert recurrent_state_copies(get(model), _req(version)) == copies


def test_recurrent_checkpoints_only_on_ollama_and_hybrid_models():
    assert recurrent_state_copies(get("qwen3-coder-next"), _req("0.20.0", engine="llamacpp")) == 1
    assert recurrent_state_copies(get("llama3.1:8b"), _req("0.20.0")) == 1


def test_gpu_kv_of_the_logged_qwen3_coder_next_split():
    # code-index file id 55579426224: OLLAMA_KV_CACHE_TYPE=q8_0, KvSize 32768, 'GPULayers:20 (28..47)',
    # 'msg="kv cache" device=CUDA0 size="955.2 MiB"' (q4_0: 875.2 MiB): the per-layer split of those 20 layers
    m = get("qwen3-coder-next")
    for kv, logged in (("q8_0", 955.2), ("q4_0", 875.2)):
        _, per_layer = kv_cache_bytes(m, _req("0.20.0", kv_cache_type=kv, n_ubatch=1024))
        assert sum(per_layer[28:48]) / MIB == pytest.approx(logged, abs=0.05)


@pytest.mark.parametrize(("model", "version", "runs"), [
    ("gemma3:1b", "0.12.11", True),
    ("qwen3:30b-a3b-thinking-2507", "0.12.6", True),   # qwen3moe from 0.12.2
    ("qwen3:8b", "0.12.5", False),                     # 0.12.5's OllamaEngineRequired dropped qwen3 ...
    ("qwen3:8b", "0.12.6", True),                      # ... and 0.12.6 brought it back
    ("qwen2.5-coder:7b", "0.20.2", False),             # qwen2: the llama.cpp runner (the log's 'runner --model')
    ("gpt-oss:20b", "0.12.0", True),
    ("gemma3:1b", "0.11.10", False),                   # the estimate releases
    ("gemma3:1b", "0.30.0", False),                    # llama-server
])
def test_which_models_ollama_runs_on_its_own_engine(model, version, runs):
    assert ollama_engine_runs(get(model), _req(version)) is runs


def test_ollama_engine_graph_has_no_micro_batch_of_logits():
    # gemma3:1b (262,144-token vocabulary) at num_ctx 4096, one slot: a micro-batch of 512 f32 logit rows is 512 MiB
    # alone; Ollama 0.12.11's engine logged 'msg="compute graph" device=CUDA0 size="80.0 MiB"' (code-index file id
    # 43309465874); Ollama's llama.cpp runner (n_outputs_max unset) would reserve the 512 rows
    m = get("gemma3:1b")
    req = _req("0.12.11", context=4096)
    ollama_engine = compute_buffer_bytes(m, req) / MIB
    llama_runner = compute_buffer_bytes(m, req, n_outputs=512) / MIB
    assert ollama_engine < 80.0 < 512 < llama_runner
