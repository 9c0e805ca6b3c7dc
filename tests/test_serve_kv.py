"""`serve --kv-cache` on the slot engines (llama.cpp -ctk/-ctv, Ollama OLLAMA_KV_CACHE_TYPE): every slot's KV is
allocated at the asked type, so a quantized cache holds more slots, and the printed command says the type.

Before, serving/slots.py sized every slot count with f16 whatever --kv-cache said (94 slots of llama3.1:8b Q8_0 on an
RTX 4090 with f16 and with q8_0, and `-ctk f16 -ctv f16` in the command).
"""
from __future__ import annotations

import shlex

import pytest

from selfhost_advisor import api

MODEL, HW, QUANT = "llama3.1:8b", "rtx-4090", "Q8_0"


@pytest.fixture(scope="module")
def served():
    return {(e, kv): api.serve(MODEL, HW, engine=e, quant=QUANT, kv_cache=kv)
            for e in ("llamacpp", "ollama") for kv in (None, "q8_0")}


@pytest.mark.parametrize("engine", ["llamacpp", "ollama"])
def test_q8_0_kv_is_ggmls_block_size_and_holds_more_slots(served, engine):
    f16, q8 = served[engine, None], served[engine, "q8_0"]
    # ggml block_q8_0: 32 values in an f16 scale + 32 int8 (34 B) against 64 B of f16 (ggml/src/ggml-common.h)
    assert q8.kv_bytes_per_request * 64 == f16.kv_bytes_per_request * 34
    assert q8.max_concurrency > 1.5 * f16.max_concurrency
    # each further slot's KV is read at q8_0's bytes: the same number of slots decodes faster
    at = {p.concurrency: p for p in f16.points}
    common = [p for p in q8.points if 1 < p.concurrency in at]
    assert common and all(p.output_tokens_per_s > at[p.concurrency].output_tokens_per_s for p in common)


def test_the_largest_slot_count_is_fits_with_that_kv_type(served):
    # llama-server -np N -c N x 1200 -ctk q8_0 -ctv q8_0: fit with the same options fits N slots on the GPU, not N + 1
    n = served["llamacpp", "q8_0"].max_concurrency
    at = [api.fit(MODEL, HW, quant=QUANT, context=k * 1200, parallel=k, kv_cache="q8_0").options[0] for k in (n, n + 1)]
    assert [o.placement.fit for o in at] == ["gpu", "no"]
    # Ollama: -c num_ctx x OLLAMA_NUM_PARALLEL
    n = served["ollama", "q8_0"].max_concurrency
    at = [api.fit(MODEL, HW, quant=QUANT, context=1200, parallel=k, kv_cache="q8_0", engine="ollama").options[0]
          for k in (n, n + 1)]
    assert [o.placement.fit for o in at] == ["gpu", "no"]


def test_the_commands_carry_the_kv_type(served):
    cmd = shlex.split(served["llamacpp", "q8_0"].command)
    assert cmd[cmd.index("-ctk") + 1] == cmd[cmd.index("-ctv") + 1] == "q8_0"
    assert "-ctk f16 -ctv f16" in served["llamacpp", None].command
    ollama = served["ollama", "q8_0"].command
    # Ollama quantizes the cache only with flash attention on (engines/ollama_estimate.py; an Ollama 0.20.3 run: q8_0
    # without FA 12.00 KiB/token = f16's, with OLLAMA_FLASH_ATTENTION=1 6.37: https://raw.githubusercontent.com/baeseokjae/
    # baeseokjae.github.io/main/research/evidence/local-llm-vram-kv-cache-budget-2026/kv-budget-formula-check.md)
    assert "OLLAMA_KV_CACHE_TYPE=q8_0" in ollama and "OLLAMA_FLASH_ATTENTION=1" in ollama
    assert "OLLAMA_KV_CACHE_TYPE=f16" in served["ollama", None].command


def test_vllm_fp8_kv_doubles_the_pool_tokens():
    auto = api.serve(MODEL, "h100-sxm", quant="FP8")
    fp8 = api.serve(MODEL, "h100-sxm", quant="FP8", kv_cache="fp8")
    assert fp8.kv_bytes_per_request * 2 == auto.kv_bytes_per_request  # 1 byte per value against bf16's 2
    assert fp8.max_concurrency > auto.max_concurrency and "--kv-cache-dtype fp8" in fp8.command


def test_serve_default_engine_follows_the_box():
    """No --engine: vLLM where the box has a GPU vLLM serves from, llama.cpp on a Mac (before: 'does not serve', exit 1,
    for an engine the user never named); naming vllm on the Mac is bad input naming what runs there (audit33b: it was
    exit 1, 'does not serve', a failed check)."""
    import pytest

    from selfhost_advisor.api import serve
    from selfhost_advisor.errors import BadOptionError

    mac = serve("llama3.1:8b", "m4 max 64gb", concurrency=(1,))
    assert mac.engine == "llamacpp" and mac.fits
    assert serve("llama3.1:8b", "rtx4090", concurrency=(1,)).engine == "vllm"
    with pytest.raises(BadOptionError, match="--engine llamacpp"):
        serve("llama3.1:8b", "m4 max 64gb", engine="vllm", concurrency=(1,))


def test_a_peak_that_is_also_the_recommended_point_is_one_row():
    """--concurrency 1,4 on an RTX 4090: the peak (92 users) is also the recommended point and was printed twice."""
    from selfhost_advisor.api import serve
    from selfhost_advisor.render.text_serve import _table

    r = serve("llama3.1:8b", "rtx4090", concurrency=(1, 4))
    assert r.recommended is not None and r.recommended.concurrency == r.peak.concurrency
    users = list(_table(r).columns[0].cells)
    assert len(users) == len(set(users)) == 3
