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


# --- the other commands that size a llama.cpp / Ollama request take --ubatch as fit does ---------------------------

def _fit_figures(o) -> tuple[int, float]:
    return o.memory.total_bytes, o.speed.prefill_tokens_per_s


@pytest.mark.parametrize("ubatch", [None, 2048])
def test_hardware_for_rows_are_fits_figures(ubatch, moe):
    rows = api.hardware_for("qwen3:30b", quant="Q4_K_M", ubatch=ubatch)
    (row,) = [c for c in rows.candidates if c.profile.id == "rtx-4090" and c.count == 1]
    assert _fit_figures(row.option) == _fit_figures(moe[ubatch])  # same default context (8192) and engine
    assert rows.request.n_ubatch == (ubatch or 512) and api.as_json(rows)["assumptions"]["n_ubatch"] == (ubatch or 512)


def test_models_fits_rows_are_fits_figures():
    got = {u: api.models_that_fit("rtx-4090", query="qwen3:30b", ubatch=u) for u in (None, 2048)}
    for u, r in got.items():
        row = next(m for m in r.models if m.model.id == "qwen3:30b")
        want = api.fit("qwen3:30b", "rtx-4090", quant=row.option.quant.name, context=8192, ubatch=u).options[0]
        assert _fit_figures(row.option) == _fit_figures(want)
        assert api.as_json(r)["n_ubatch"] == (u or 512)
    rows = [next(m for m in r.models if m.model.id == "qwen3:30b").option for r in got.values()]
    assert rows[1].speed.prefill_tokens_per_s > 1.5 * rows[0].speed.prefill_tokens_per_s


@pytest.fixture(scope="module")
def served():
    return {(e, u): api.serve("qwen3:30b", "rtx-4090", engine=e, quant="Q4_K_M", ubatch=u)
            for e in ("llamacpp", "ollama") for u in (None, 2048)}


@pytest.mark.parametrize("engine", ["llamacpp", "ollama"])
def test_serve_prefill_is_fits_at_the_slots_context(served, engine):
    # one slot holds prompt + output (1,200 tokens): llama.cpp caps -ub at the context, so fit at -c 1200 is the rate
    r = served[engine, 2048]
    one = api.fit("qwen3:30b", "rtx-4090", quant="Q4_K_M", context=1200, engine=engine, ubatch=2048).options[0]
    assert r.assumptions["prefill_tokens_per_s_alone"] == round(one.speed.prefill_tokens_per_s, 1)
    assert r.assumptions["n_ubatch"] == 2048 and served[engine, None].assumptions["n_ubatch"] is None
    assert r.single.ttft_s < served[engine, None].single.ttft_s  # MoE tiles fill up: the prompt runs faster


def test_serve_slots_share_one_compute_buffer_as_fit_sizes_it(served):
    # llama-server -np N -c N x 1200 reserves one -ub graph for all slots: the largest N is fit's at that -ub
    for u in (None, 2048):
        n = served["llamacpp", u].max_concurrency
        at = [api.fit("qwen3:30b", "rtx-4090", quant="Q4_K_M", context=k * 1200, parallel=k, ubatch=u).options[0]
              for k in (n, n + 1)]
        assert [o.placement.fit for o in at] == ["gpu", "no"], u
    assert served["llamacpp", 2048].max_concurrency < served["llamacpp", None].max_concurrency
    cmd = shlex.split(served["llamacpp", 2048].command)
    assert cmd[cmd.index("-ub") + 1] == "2048"
    assert "PARAMETER num_batch 2048" in served["ollama", 2048].command
    assert "num_batch" not in served["ollama", None].command


def test_a_serving_step_batches_the_commands_logical_batch():
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.engines import get_engine

    llama, ollama = get_engine("llamacpp"), get_engine("ollama")
    assert llama.step_batch(FitRequest(context=8192)) == LLAMA_SERVER_N_BATCH  # -b 2048, llama-server's default
    assert llama.step_batch(FitRequest(context=8192, n_ubatch=4096, n_ubatch_given=True)) == 4096  # the command's -b
    assert ollama.step_batch(FitRequest(context=8192, n_ubatch=256, n_ubatch_given=True)) == 256  # -b 256 -ub 256
