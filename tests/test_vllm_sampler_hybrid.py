"""vLLM's profile-run sampler by release and runner, and its KV pool for hybrid (recurrent + attention) models."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.domain import SSM, FitRequest
from selfhost_advisor.estimate import vllm as V
from selfhost_advisor.estimate import vllm_graphs as VG
from selfhost_advisor.estimate import vllm_hybrid as H
from selfhost_advisor.record import replace


def _peak(model, tp):
    return lambda n: V.forward_peak_bytes(model, tp, n)

GIB = 2**30
M8 = get_model("llama3.1:8b")


@pytest.mark.parametrize("model,version,path", [
    ("llama3.1:8b", "0.9.2", "torch_sort"),  # no release of ours before 0.10 shows FlashInfer's sampler
    ("llama3.1:8b", "0.10.1.1", "flashinfer"),  # V1 took FlashInfer where installed (docker images); logs say so
    ("mistral-small:24b", "0.11.0", "flashinfer"),  # the last release before PR #26859 turned it off
    ("llama3.1:8b", "0.11.1", "torch_sort"),
    ("llama3.1:8b", "0.16.0", "torch_sort"),  # V1 runner, FlashInfer sampler off by default (PR #26859)
    ("llama3.1:8b", "0.24.0", "flashinfer"),  # V1 runner, FlashInfer on by default (PR #40376)
    ("llama3.1:8b", "0.33.0", "mrv2_profile"),  # Model Runner V2 default for dense models since 0.25.0
    ("qwen3:30b", "0.28.0", "flashinfer"),  # MoE: V1 runner kept until PR #53183
    ("qwen3-next:80b", "0.28.0", "flashinfer"),  # hybrid likewise
    ("qwen3:30b", "0.29.0", "mrv2_profile"),  # PR #53183 "Use MRV2 for all models by default", in v0.29.0
    ("qwen3-next:80b", "0.33.0", "mrv2_profile"),
])
def test_the_profiled_sampler_follows_the_release(model, version, path):
    assert V.sampler_path(get_model(model), version) == path


def test_bytes_per_logit_by_sampler_path():
    rows, vocab = 1024, 128256  # Llama 3 vocabulary, already a multiple of 64
    assert V.sampler_peak_bytes(M8, rows, "torch_sort") == rows * vocab * 38
    assert V.sampler_peak_bytes(M8, rows, "flashinfer") == rows * vocab * 14
    assert V.sampler_peak_bytes(M8, rows, "mrv2_profile") == rows * vocab * 6
    # MRv2's profile sampler (0.73 GiB + 0.06 held) is below the 8192-token forward pass, so the forward sets the peak
    assert V.activation_bytes(M8, 1, 8192, 1024, "mrv2_profile") == V.forward_peak_bytes(M8, 1, 8192)


def test_llama_70b_fp8_starts_on_one_h100_in_current_vllm_with_a_short_context():
    m, q = get_model("llama3.1:70b"), V.get_vllm_quant("FP8")
    h100 = machine_from_profile(find_profile("h100-sxm"), 1)
    ok = V.plan(m, q, h100, FitRequest(4096, "vllm"))
    assert ok.placement.fit == "gpu" and 2.0 * GIB < ok.pool_bytes_per_gpu < 3.0 * GIB
    fp8 = V.plan(m, q, h100, FitRequest(8192, "vllm", kv_cache_type="fp8"))
    assert fp8.placement.fit == "gpu"
    # with the V1 runner's sorting sampler at 1024 sequences the same budget has no room for a pool at all
    budget = int(V.cuda_total_bytes(h100.devices[0]) * 0.92)
    rest = budget - V.vllm_weights(m, q).total - V.non_torch_bytes(1) - VG.graph_bytes(_peak(m, 1), 8192, 1024, "0.33.0")
    assert rest - V.activation_bytes(m, 1, 8192, 1024, "torch_sort") < 0 < rest - V.activation_bytes(
        m, 1, 8192, 1024, "mrv2_profile")
    # the full 128k context does not fit: vLLM's own refusal with the longest length that would
    full = V.plan(m, q, h100, FitRequest(131072, "vllm"))
    assert full.placement.fit == "no" and "estimated maximum model length is" in full.placement.note


def test_hybrid_block_and_padding_match_vllm_logs():
    # vllm PR #37467 log (Qwen3.5-9B shapes at TP 2, 16-bit KV): "Setting attention block size to 528 tokens ...
    # Padding mamba page size by 0.76%"
    m = get_model("qwen3.5:9b")
    assert H.block_tokens(m, 2, 2) == 528
    assert round(100 * (H.page_bytes(m, 2, 2) / H.state_page_bytes(m, 2) - 1), 2) == 0.76
    # noonghunna/club-3090 issue #1047: Qwen3.8-27B (the Qwen3.5 27B layout: THUDM/slime scripts/models/qwen3.5-27B.sh)
    # at TP 1 with fp8 KV: 1568 tokens, 0.13%
    big = replace(m, n_layers=64, hidden_size=5120, intermediate_size=17408, n_heads=24, n_kv_heads=4, head_dim=256,
                  ssm=SSM("gated_deltanet", 4, 6144, 128, 16, 48), layer_pattern="MMM*" * 16)
    assert H.block_tokens(big, 1, 1) == 1568
    assert round(100 * (H.page_bytes(big, 1, 1) / H.state_page_bytes(big, 1) - 1), 2) == 0.13


def test_hybrid_kv_counts_attention_layers_and_one_state_per_recurrent_layer():
    m = get_model("qwen3-next:80b")  # 12 attention + 36 Gated DeltaNet layers: groups of 12, 1 + 3 groups
    assert H.group_counts(m) == (12, 1, 3)
    assert V.kv_bytes_per_token(m, 1) == 12 * 2 * 2 * 256 * 2  # only attention layers cache KV
    seq = V.sequence_kv_bytes(m, 4, 32768)
    blocks = -(-32768 // H.block_tokens(m, 4, 2)) + 3
    assert seq == blocks * 12 * H.page_bytes(m, 4, 2)
    # a fixed cost per sequence: the three recurrent groups' pages, whatever the length
    assert V.sequence_kv_bytes(m, 4, 16) == 4 * 12 * H.page_bytes(m, 4, 2)
    # far below counting all 48 layers as attention (one KV head per rank at TP 4)
    assert seq < 48 * 32768 * 2 * 1 * 256 * 2 // 3


def test_hybrid_pool_tokens_are_concurrency_times_context():
    m = get_model("qwen3-next:80b")
    q = V.get_vllm_quant("FP8")
    p = V.plan(m, q, machine_from_profile(find_profile("h100-sxm"), 4), FitRequest(32768, "vllm"))
    assert p.placement.fit == "gpu" and p.tp == 4
    per_seq = V.sequence_kv_bytes(m, 4, 32768)
    assert p.max_concurrency == p.pool_bytes_per_gpu // per_seq
    assert abs(p.pool_tokens - p.pool_bytes_per_gpu / per_seq * 32768) <= 32768


def test_a_plan_follows_its_release_sampler_and_graph_order():
    """plan() sizes the pool with request.engine_version's rules. Qwen3-32B BF16 on one H100 with a 32K context:
    llm-d's sorting build (0.11.1+) stopped at --max-model-len 32000, while GPUStack served 32000 + 100 tokens on
    vLLM 0.11.0, whose FlashInfer profile peak is 3.5 GiB smaller (data/engine_logs.yaml, data/serving_benchmarks.yaml)."""
    m, q = get_model("qwen3:32b"), V.get_vllm_quant("BF16")
    h100 = machine_from_profile(find_profile("h100-sxm"), 1)
    old = V.plan(m, q, h100, FitRequest(32100, "vllm", gpu_memory_utilization=0.9, engine_version="0.11.0"))
    sort = V.plan(m, q, h100, FitRequest(32100, "vllm", gpu_memory_utilization=0.9, engine_version="0.11.1"))
    assert old.placement.fit == "gpu" and sort.placement.fit == "no"
    gap = (38 - 14) * 1024 * 151936
    assert old.pool_bytes_per_gpu - sort.pool_bytes_per_gpu == gap
    # graphs are captured after the pool before 0.21 and sized before it since: the same sampler, the graph law apart
    before = V.plan(m, q, h100, FitRequest(16000, "vllm", engine_version="0.20.0"))
    since = V.plan(m, q, h100, FitRequest(16000, "vllm", engine_version="0.21.0"))
    assert before.pool_bytes_per_gpu - since.pool_bytes_per_gpu == VG.graph_bytes(_peak(m, 1), 8192, 1024, "0.21.0")


def test_mrv2_reserved_no_cuda_graph_memory_for_dense_models_until_0_29():
    # vllm issue #49224: Model Runner V2 (dense default from 0.25) returned 0 from profile_cudagraph_memory(), so the
    # pool took the graphs' share too; PR #53306 restored the estimate (in 0.29.0). MoE models stayed on the V1 runner
    moe = get_model("qwen3:30b")
    assert V.graphs_in_budget(M8, "0.24.0") and not V.graphs_in_budget(M8, "0.25.0")
    assert not V.graphs_in_budget(M8, "0.28.0") and V.graphs_in_budget(M8, "0.29.0") and V.graphs_in_budget(M8)
    assert V.graphs_in_budget(moe, "0.26.0") and not V.graphs_in_budget(M8, "0.20.0")
    h100 = machine_from_profile(find_profile("h100-sxm"), 1)
    q = V.get_vllm_quant("BF16")
    pools = {v: V.plan(M8, q, h100, FitRequest(8192, "vllm", engine_version=v)).pool_bytes_per_gpu
             for v in ("0.28.0", "0.29.0")}
    assert pools["0.28.0"] - pools["0.29.0"] == VG.graph_bytes(_peak(M8, 1), 8192, 1024, "0.29.0")
