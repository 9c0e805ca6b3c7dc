"""`fit --ubatch`: llama.cpp's physical batch -ub (Ollama's num_batch) reaches the memory, the speed and the command.

The micro-batch sizes the compute buffer (llama.cpp reserves the graph of n_ubatch tokens at start-up) and, for MoE
models, how many tokens share each expert's weights in prefill (estimate/moe_tiles.py), while decode (one token per
step) does not depend on it. llama.cpp runs min(-b, -ub) (src/llama-context.cpp) and llama-server's -b defaults to
2048 (common/common.h), so the printed command needs -b above that.
"""
from __future__ import annotations

import shlex

import pytest

from selfhost_advisor import api
from selfhost_advisor.engines.llamacpp import LLAMA_SERVER_N_BATCH


def _opt(model: str, **kw):
    return api.fit(model, "rtx-4090", quant="Q4_K_M", **kw).options[0]


@pytest.fixture(scope="module")
def moe():
    return {u: _opt("qwen3:30b", ubatch=u) for u in (None, 2048, 4096)}


def test_memory_rises_with_the_micro_batch(moe):
    base, big = moe[None], moe[2048]
    assert big.memory.compute_buffer_bytes > 2 * base.memory.compute_buffer_bytes
    assert big.memory.total_bytes > base.memory.total_bytes
    assert big.memory.weights_bytes == base.memory.weights_bytes


def test_moe_prefill_rises_decode_does_not(moe):
    base, big = moe[None].speed, moe[2048].speed
    assert big.prefill_tokens_per_s > 1.5 * base.prefill_tokens_per_s  # the expert tiles fill up (moe_tiles.py)
    assert big.decode_tokens_per_s == pytest.approx(base.decode_tokens_per_s)


def test_dense_decode_unchanged():
    base, big = _opt("llama3.1:8b"), _opt("llama3.1:8b", ubatch=2048)
    assert big.speed.decode_tokens_per_s == pytest.approx(base.speed.decode_tokens_per_s)
    assert big.memory.compute_buffer_bytes > base.memory.compute_buffer_bytes


def test_command_carries_ub_and_b_above_llama_servers_default(moe):
    at_default = shlex.split(moe[2048].command)
    assert at_default[at_default.index("-ub") + 1] == "2048" and "-b" not in at_default
    above = shlex.split(moe[4096].command)
    assert 4096 > LLAMA_SERVER_N_BATCH
    assert above[above.index("-ub") + 1] == "4096" and above[above.index("-b") + 1] == "4096"
    assert "-b" not in shlex.split(moe[None].command)


def test_assumptions_echo_the_value_and_above_context_is_capped():
    r = api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M", context=1024, ubatch=4096)
    assert r.assumptions["n_ubatch"] == 1024 and r.request.n_ubatch == 1024
    assert any("--ubatch 4,096" in w for w in r.warnings)
    assert "-ub 1024" in r.options[0].command and "-b " not in r.options[0].command


def test_ollama_num_batch_replaces_the_automatic_batch():
    # 32k context on a 24 GB card: Ollama's own batch would be 2048 or 1024 (server/sched.go automaticGenerationBatch)
    r = api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M", engine="ollama", context=32768, ubatch=256)
    o = r.options[0]
    assert r.assumptions["n_ubatch"] == 256
    assert "-b/-ub 256 from num_batch" in o.placement.note
    assert "PARAMETER num_batch 256" in o.command and "ollama create" in o.command
    auto = api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M", engine="ollama", context=32768).options[0]
    assert "num_batch" not in auto.command
    assert o.memory.compute_buffer_bytes < auto.memory.compute_buffer_bytes
