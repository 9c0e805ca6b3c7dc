"""vLLM's memory laws (estimate/vllm.py): the budget, batch defaults, the profile's activation, the KV pool, refusals."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate import vllm as V

GIB = 2**30
M8 = get_model("llama3.1:8b")


def _m(profile, n=1):
    return machine_from_profile(find_profile(profile), n)


def test_a100_keeps_the_small_batch_defaults_h100_gets_the_large_ones():
    # arg_utils.get_batch_defaults: >= 70 GiB and "a100" not in the device name (PR #17885)
    a100 = V.plan(M8, V.get_vllm_quant("BF16"), _m("a100-80gb"), FitRequest(8192, "vllm"))
    h100 = V.plan(M8, V.get_vllm_quant("BF16"), _m("h100-sxm"), FitRequest(8192, "vllm"))
    assert (a100.max_num_batched_tokens, a100.max_num_seqs) == (2048, 256)
    assert (h100.max_num_batched_tokens, h100.max_num_seqs) == (8192, 1024)


def test_the_budget_is_utilisation_times_what_cuda_reports():
    q = V.get_vllm_quant("BF16")
    base = FitRequest(8192, "vllm", gpu_memory_utilization=0.9, enforce_eager=True, max_num_seqs=256,
                      max_num_batched_tokens=2048)
    p = V.plan(M8, q, _m("h100-sxm"), base)
    w = V.vllm_weights(M8, q).total
    expect = int(79.22 * GIB * 0.9) - w - V.activation_bytes(M8, 1, 2048, 256, V.sampler_path(M8)) - V.non_torch_bytes(1)
    assert p.pool_bytes_per_gpu == expect
    assert p.pool_tokens == expect // (16 * 131072) * 16  # 128 KiB per token in 16-token blocks


def test_the_sorting_sampler_dominates_the_profile_at_1024_sequences():
    # V1 runner, native sort: 1024 rows x 128,256 (padded) vocabulary x 38 B = 4.65 GiB, the 4.8-5.6 GiB issue 15
    # saw on H100-class runs of 0.10-0.16
    act = V.activation_bytes(M8, 1, 8192, 1024)
    assert 4.6 * GIB < act < 4.8 * GIB
    assert V.activation_bytes(M8, 1, 8192, 256) < act / 3


def test_fp8_kv_holds_twice_the_tokens():
    q = V.get_vllm_quant("FP8")
    auto = V.plan(M8, q, _m("h100-sxm"), FitRequest(8192, "vllm"))
    fp8 = V.plan(M8, q, _m("h100-sxm"), FitRequest(8192, "vllm", kv_cache_type="fp8"))
    assert abs(fp8.pool_tokens - 2 * auto.pool_tokens) <= 16
    assert fp8.max_concurrency >= 2 * auto.max_concurrency


@settings(max_examples=25, deadline=None)
@given(st.floats(0.3, 0.98), st.floats(0.01, 0.02))
def test_more_utilisation_never_shrinks_the_pool(u, du):
    q = V.get_vllm_quant("AWQ-INT4")
    lo = V.plan(M8, q, _m("rtx-4090"), FitRequest(8192, "vllm", gpu_memory_utilization=u))
    hi = V.plan(M8, q, _m("rtx-4090"), FitRequest(8192, "vllm", gpu_memory_utilization=min(1.0, u + du)))
    if "on startup is less than desired" not in hi.placement.note:  # vLLM's start-up stop (test below)
        assert hi.pool_bytes_per_gpu >= lo.pool_bytes_per_gpu


def test_a_context_the_pool_cannot_hold_is_refused_with_vllms_message():
    p = V.plan(M8, V.get_vllm_quant("BF16"), _m("rtx-4090"), FitRequest(131072, "vllm"))
    assert p.placement.fit == "no"
    assert "estimated maximum model length is" in p.placement.note
    assert str(p.pool_tokens) in p.placement.note


def test_dgx_spark_runs_vllm_with_its_unified_memory_limits():
    m70 = get_model("llama3.1:70b")
    ok = V.plan(m70, V.get_vllm_quant("FP8"), _m("dgx-spark"), FitRequest(8192, "vllm"))
    assert ok.placement.fit == "gpu" and (ok.max_num_batched_tokens, ok.max_num_seqs) == (2048, 256)
    greedy = V.plan(m70, V.get_vllm_quant("FP8"), _m("dgx-spark"), FitRequest(8192, "vllm", gpu_memory_utilization=0.99))
    assert greedy.placement.fit == "no" and "Free memory on device" in greedy.placement.note


def test_nvlink_tensor_parallel_reserves_nccl_buffers_pcie_does_not():
    assert V.non_torch_bytes(2, "nvlink") - V.non_torch_bytes(2, "pcie") == V.non_torch_bytes(2, "nvlink") - V.non_torch_bytes(1)
    assert V.non_torch_bytes(2, "pcie") == V.non_torch_bytes(1)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 200), st.integers(1, 16))
def test_pipeline_stages_hold_every_layer_and_the_last_stage_is_never_the_largest(layers, pp):
    # vllm/distributed/utils.py get_pp_indices: the remainder goes to the middle stages, or all but the last
    parts = V.pp_partition(layers, pp)
    assert sum(parts) == layers and len(parts) == pp
    assert max(parts) - min(parts) <= 1
    if pp > 1 and layers % pp:
        assert parts[-1] == layers // pp


def test_two_nodes_hold_what_one_box_cannot_and_the_command_says_so():
    import shlex

    from selfhost_advisor.engines import get_engine

    m = get_model("llama3.1:405b")
    q = V.get_vllm_quant("BF16")
    box = _m("h100-sxm", 8)
    one = V.plan(m, q, box, FitRequest(8192, "vllm"))
    two = V.plan(m, q, box, FitRequest(8192, "vllm", nodes=2))
    assert one.placement.fit == "no" and two.placement.fit == "gpu" and two.pp == 2
    assert len(two.placement.per_device_bytes) == 16
    words = shlex.split(get_engine("vllm").option(m, q, box, FitRequest(8192, "vllm", nodes=2)).command)
    assert words[words.index("--pipeline-parallel-size") + 1] == "2"
    assert words[words.index("--tensor-parallel-size") + 1] == "8"


def test_vllm_loads_the_vision_tower_of_a_multimodal_checkpoint():
    # Gemma3ForConditionalGeneration builds the SigLIP encoder and projector with the text model: the catalog's params
    # beyond text_params, in 16 bits, on the first pipeline stage; gemma3:1b is text-only
    from selfhost_advisor.estimate.vllm_weights import vision_bytes

    g27, g1 = get_model("gemma3:27b"), get_model("gemma3:1b")
    for quant in ("BF16", "FP8"):
        w = V.vllm_weights(g27, V.get_vllm_quant(quant))
        assert w.vision == (g27.params - g27.text_params) * 2 == vision_bytes(g27)
        assert 0.7 * GIB < w.vision < 0.9 * GIB and w.total == w.embedding + w.output + sum(w.per_layer)
    assert vision_bytes(g1) == 0 and V.vllm_weights(g1, V.get_vllm_quant("BF16")).vision == 0


def test_a_share_above_the_free_memory_at_start_stops_vllm():
    # llm-d's H100 logs: "Free memory on device: 78.57/79.18 GiB on startup" at TP 1, 77.64 at TP 2 (NVLink, NCCL's init
    # workspace outside the budget): utilisation 1 never starts, 0.99 starts alone but not at TP 2
    q = V.get_vllm_quant("FP8")
    one, two = _m("h100-sxm"), machine_from_profile(find_profile("h100-sxm"), 2)
    full = V.plan(M8, q, one, FitRequest(8192, "vllm", gpu_memory_utilization=1.0))
    assert full.placement.fit == "no" and "on startup is less than desired GPU memory utilization (1, " in full.placement.note
    assert V.plan(M8, q, one, FitRequest(8192, "vllm", gpu_memory_utilization=0.99)).placement.fit == "gpu"
    assert "nvlink" in two.interconnect.lower()
    assert V.plan(M8, q, two, FitRequest(8192, "vllm", gpu_memory_utilization=0.99)).placement.fit == "no"
    assert V.plan(M8, q, two, FitRequest(8192, "vllm", gpu_memory_utilization=0.97)).placement.fit == "gpu"
    # releases that took the snapshot before the distributed init counted that workspace in the budget instead
    old = V.plan(M8, q, two, FitRequest(8192, "vllm", gpu_memory_utilization=0.99, engine_version="0.10.1"))
    assert old.placement.fit == "gpu"


def test_encoder_only_embedders_cache_no_kv_and_do_not_crash_the_plan():
    # BERT embedders run EncoderOnlyAttention in vLLM: no KV cache, so no blocks; `advisor models --fits "2x rtx3090"
    # --engine vllm` divided by their zero bytes per token (exit 3) before
    from selfhost_advisor.api import fit

    r = fit("all-minilm:l6-v2", "2x rtx3090", engine="vllm", context=512)
    assert r.options and all(o.placement.fit == "gpu" for o in r.options)
    assert all(o.memory.kv_pool_tokens == 0 and o.memory.kv_cache_bytes == 0 for o in r.options)


def test_kv_cache_memory_bytes_fixes_the_pool_and_ignores_utilisation():
    # vllm/config/cache.py kv_cache_memory_bytes "(when not-None) ignores gpu_memory_utilization"; gpu_worker returns it
    # as the pool after one profile run. Too large for what the weights, peak, graphs and non-torch leave: CUDA OOM
    from selfhost_advisor.engines import get_engine

    h100, q = _m("h100-sxm"), V.get_vllm_quant("BF16")
    fixed = V.plan(M8, q, h100, FitRequest(8192, "vllm", kv_cache_memory_bytes=20 * GIB, gpu_memory_utilization=0.3))
    assert fixed.placement.fit == "gpu" and fixed.pool_bytes_per_gpu == 20 * GIB
    assert fixed.memory.kv_pool_tokens == 20 * GIB // V.kv_bytes_per_token(M8, 1, 2) // 16 * 16
    too_big = V.plan(M8, q, h100, FitRequest(8192, "vllm", kv_cache_memory_bytes=70 * GIB))
    assert too_big.placement.fit == "no" and "CUDA out of memory" in too_big.placement.note
    cmd = get_engine("vllm").option(M8, q, h100, FitRequest(8192, "vllm", kv_cache_memory_bytes=20 * GIB)).command
    assert f"--kv-cache-memory-bytes {20 * GIB}" in cmd and "--gpu-memory-utilization" not in cmd


def test_enforce_eager_frees_the_graphs_memory_and_slows_decode():
    """--enforce-eager frees the graphs' memory (a larger pool) and launches each step's kernels from the host
    (priced: tests/test_serving_eager.py): fit's vLLM option carries the caveat (text note and --json note), a slower
    decode, and the command has the flag."""
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.catalog.models import get
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.estimate.serving.step import EAGER_CAVEAT
    from selfhost_advisor.estimate.vllm import get_vllm_quant

    eng = get_engine("vllm")
    m, q = get("qwen3:14b"), get_vllm_quant("BF16")
    a100 = machine_from_profile(get_profile("a100-80gb"), 1)
    graphs = eng.option(m, q, a100, FitRequest(context=8192, engine="vllm"))
    eager = eng.option(m, q, a100, FitRequest(context=8192, engine="vllm", enforce_eager=True))
    assert eager.speed.caveats == (EAGER_CAVEAT,) and EAGER_CAVEAT not in eager.speed.note  # once: --json listed it twice
    assert not graphs.speed.caveats and EAGER_CAVEAT not in graphs.speed.note
    assert eager.speed.decode_tokens_per_s < graphs.speed.decode_tokens_per_s
    assert eager.memory.kv_pool_bytes >= graphs.memory.kv_pool_bytes and "--enforce-eager" in eager.command
