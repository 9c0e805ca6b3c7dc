"""--cached-prompt-tokens (estimate/serving/prefix.py): a prompt prefix shared with earlier requests, served from the
engine's prefix cache. vLLM (automatic prefix caching, V1 default): whole 16-token blocks hit, at most prompt - 1
tokens (vllm/v1/core/kv_cache_manager.py get_computed_blocks, max_cache_hit_length = num_tokens - 1), the shared
blocks held once in the pool (block_pool ref_cnt). llama.cpp / Ollama: each slot reuses its own previous prompt
(cache_prompt); slots share no KV. docs/methodology.md 6c, "Prompts with a shared prefix"."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from clikit import one_line_exit_2, run
from schemakit import validate
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving import ServeWorkload, serve
from selfhost_advisor.estimate.serving.prefix import slot_hit_tokens, vllm_hit_tokens

H100 = machine_from_profile(get_profile("h100-sxm"), 1)
RTX4090 = machine_from_profile(get_profile("rtx-4090"), 1)
SCHEMAS = Path(__file__).parents[1] / "docs" / "schema"
P, O = 1000, 200


def _serve(cached, engine="vllm", model="llama3.1:8b", machine=None, quant=None, P=P, O=O):
    machine = machine or (H100 if engine == "vllm" else RTX4090)
    quant = quant or ("FP8" if engine == "vllm" else "Q4_K_M")
    return serve(get(model), machine, ServeWorkload(P, O, cached_prompt_tokens=cached), engine=engine, quant=quant)


@pytest.mark.parametrize("engine", ["vllm", "llamacpp", "ollama"])
def test_more_cached_tokens_never_lower_throughput_nor_raise_time_to_first_token(engine):
    reports = [_serve(c, engine) for c in (0, 256, 600, 992)]
    for a, b in zip(reports, reports[1:]):
        assert b.peak.total_tokens_per_s >= a.peak.total_tokens_per_s
        assert b.single.ttft_s <= a.single.ttft_s
    # and they change something: most of the prompt cached cuts one request's wait and lifts the peak
    assert reports[-1].single.ttft_s < 0.5 * reports[0].single.ttft_s
    assert reports[-1].peak.total_tokens_per_s > 1.2 * reports[0].peak.total_tokens_per_s


def test_vllm_holds_the_shared_blocks_once_so_more_requests_fit():
    none, half, most = (_serve(c) for c in (0, 512, 992))
    assert none.max_concurrency < half.max_concurrency <= most.max_concurrency
    assert most.kv_bytes_per_request < half.kv_bytes_per_request < none.kv_bytes_per_request
    shared = half.assumptions["prefix_cache"]["shared_kv_bytes_per_gpu"]
    assert shared > 0
    # what a request holds alone is unchanged: its own blocks plus the shared ones
    assert half.single.kv_bytes_per_gpu == pytest.approx(none.single.kv_bytes_per_gpu, abs=1)


@pytest.mark.parametrize("engine", ["llamacpp", "ollama"])
def test_slots_keep_their_own_copy_of_the_prefix(engine):
    none, most = _serve(0, engine), _serve(992, engine)
    assert most.max_concurrency == none.max_concurrency
    assert most.kv_bytes_per_request == none.kv_bytes_per_request
    assert most.assumptions["prefix_cache"]["shared_kv_bytes_per_gpu"] == 0


def test_zero_cached_tokens_is_the_report_without_the_option():
    for engine in ("vllm", "llamacpp"):
        machine = H100 if engine == "vllm" else RTX4090
        q = "FP8" if engine == "vllm" else "Q4_K_M"
        plain = serve(get("llama3.1:8b"), machine, ServeWorkload(P, O), engine=engine, quant=q)
        assert _serve(0, engine) == plain
        assert "prefix_cache" not in plain.assumptions


def test_vllm_hits_whole_blocks_below_the_last_token():
    m = get("llama3.1:8b")
    assert vllm_hit_tokens(m, 1000, 15) == 0  # less than one block
    assert vllm_hit_tokens(m, 1000, 600) == 592  # 37 whole blocks
    assert vllm_hit_tokens(m, 1000, 1000) == 992  # the last token is recomputed: 999 -> 62 blocks
    assert vllm_hit_tokens(m, 1024, 1024) == 1008  # 1023 tokens -> 63 blocks, not 64
    assert slot_hit_tokens(m, 1000, 200, 1000) == 999  # llama-server: token-granular, the last token recomputed


def test_under_one_block_is_said_and_changes_nothing():
    r = _serve(15)
    assert r.assumptions["prefix_cache"]["hit_tokens"] == 0
    assert any("16-token" in w for w in r.warnings)
    assert r.peak == _serve(0).peak


@pytest.mark.parametrize("engine", ["vllm", "llamacpp"])
def test_a_recurrent_hybrid_gets_no_credit_and_a_warning(engine):
    kw = dict(model="qwen3.5:9b", quant="BF16" if engine == "vllm" else "Q4_K_M")
    none, most = _serve(0, engine, **kw), _serve(900, engine, **kw)
    assert most.assumptions["prefix_cache"]["hit_tokens"] == 0
    assert any("recurrent" in w for w in most.warnings)
    assert most.peak == none.peak and most.max_concurrency == none.max_concurrency


def test_llamacpp_gets_no_reuse_when_the_sliding_window_is_outgrown():
    # gemma3:12b slides over 1,024 tokens in most layers: a 1,000 + 200-token request outgrows it and the slot cannot
    # go back to the prefix (llama-server forces a full re-processing)
    r = _serve(600, "llamacpp", model="gemma3:12b")
    assert r.assumptions["prefix_cache"]["hit_tokens"] == 0
    assert any("sliding window" in w for w in r.warnings)
    # a request inside the window keeps its prefix
    assert _serve(300, "llamacpp", model="gemma3:12b", P=600, O=100).assumptions["prefix_cache"]["hit_tokens"] == 300


@pytest.mark.parametrize("command", [["serve", "llama3.1:8b", "-H", "h100-sxm"],
                                     ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "h100-sxm"]])
@pytest.mark.parametrize("bad", ["-1", "1001"])
def test_a_cached_count_outside_zero_to_the_prompt_is_exit_2(capsys, command, bad):
    code, out, err = run(capsys, *command, "--prompt-tokens", "1000", "--cached-prompt-tokens", bad)
    one_line_exit_2(code, out, err, "--cached-prompt-tokens", "--prompt-tokens")


def test_the_whole_prompt_cached_is_accepted(capsys):
    code, out, err = run(capsys, "serve", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "1000",
                         "--cached-prompt-tokens", "1000", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["assumptions"]["prefix_cache"]["prefilled_tokens"] == 8  # the last, partial block is computed


def test_zero_cached_text_and_json_equal_the_command_without_it(capsys):
    base = ["serve", "llama3.1:8b", "-H", "h100-sxm", "--min-stream-tps", "30"]
    _, text, _ = run(capsys, *base)
    _, text0, _ = run(capsys, *base, "--cached-prompt-tokens", "0")
    assert text0 == text and "Prefix" not in text
    _, j, _ = run(capsys, *base, "--json")
    _, j0, _ = run(capsys, *base, "--json", "--cached-prompt-tokens", "0")
    assert j0 == j and json.loads(j)["workload"]["cached_prompt_tokens"] == 0


def test_serve_says_what_it_assumed_in_text_and_json(capsys):
    base = ["serve", "llama3.1:8b", "-H", "h100-sxm", "--cached-prompt-tokens", "600"]
    code, text, err = run(capsys, *base)
    assert code == 0, err
    assert "600 a shared prefix" in text and "592 of 1,000 prompt tokens" in text
    code, out, err = run(capsys, *base, "--json")
    d = json.loads(out)
    schema = json.loads((SCHEMAS / "serve.schema.json").read_text())["properties"]  # (the rest $refs fit's schema)
    validate(d["workload"], schema["workload"])
    validate(d["assumptions"], schema["assumptions"])
    pc = d["assumptions"]["prefix_cache"]
    assert (pc["cached_prompt_tokens"], pc["hit_tokens"], pc["prefilled_tokens"]) == (600, 592, 408)
    assert d["workload"]["cached_prompt_tokens"] == 600


def test_cost_sizes_its_boxes_with_the_cached_prefix(capsys):
    base = ["cost", "-t", "3e10", "-m", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "2000",
            "--output-tokens", "200", "--json"]
    _, out0, _ = run(capsys, *base)
    code, out, err = run(capsys, *base, "--cached-prompt-tokens", "1500")
    assert code == 0, err
    d0, d = json.loads(out0), json.loads(out)
    validate(d, json.loads((SCHEMAS / "cost.schema.json").read_text()))
    assert d["workload"]["cached_prompt_tokens"] == 1500 and d0["workload"]["cached_prompt_tokens"] == 0
    assert d["assumptions"]["cached_prompt_tokens"]["source"] == "given with --cached-prompt-tokens"
    buy0, buy = d0["self_host"][0], d["self_host"][0]
    # the box carries more of the month: fewer boxes (never more) and a lower bill
    assert buy["capacity_tokens_per_month"] > buy0["capacity_tokens_per_month"]
    assert buy["units"] <= buy0["units"]
    assert buy["monthly_usd"]["total"] < buy0["monthly_usd"]["total"]
    # the APIs are billed for the same prefix only through --cached-input-share, and a warning says so
    assert any("--cached-input-share 0.75" in w for w in d["warnings"])


def test_cost_says_when_the_prefix_changes_no_box(capsys):
    # a recurrent hybrid gets no credit (as serve warns), and measured rates are taken as given
    base = ["cost", "-t", "3e10", "-m", "qwen3.5:9b", "-H", "h100-sxm", "--json"]
    _, out0, _ = run(capsys, *base)
    _, out, _ = run(capsys, *base, "--cached-prompt-tokens", "900")
    d0, d = json.loads(out0), json.loads(out)
    assert d["self_host"][0]["monthly_usd"] == d0["self_host"][0]["monthly_usd"]
    assert any("recurrent" in w for w in d["warnings"]) and not any("recurrent" in w for w in d0["warnings"])
    _, out, _ = run(capsys, "cost", "-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "900", "--prefill-tps", "6000",
                    "--cached-prompt-tokens", "500", "--json")
    assert any("not applied to --decode-tps" in w for w in json.loads(out)["warnings"])
