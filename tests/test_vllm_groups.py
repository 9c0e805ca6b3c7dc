"""vLLM's KV-cache groups for sliding-window / chunked / full-attention mixes and unequal page sizes (estimate/
vllm_groups.py; vllm/v1/core/kv_cache_utils.py get_kv_cache_groups, kv_cache_interface.py max_memory_usage_bytes).

The gpt-oss-120b figures are a vLLM 0.10.1.1 start-up log (github.com/dennislee22/vLLM-benchmarking,
log/vllm-120B-4gpuA10080GB-0.8GRAM-diff-nodes.log: TP 4, max_model_len 16384, max_num_batched_tokens 2048, "Available KV
cache memory: 45.32 GiB", "num_gpu_blocks is: 330018", "GPU KV cache size: 2,640,144 tokens", "Maximum concurrency for
16,384 tokens per request: 284.25x"); the Gemma 4 figures are vLLM's rules worked by hand.
"""
from __future__ import annotations

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate import vllm, vllm_groups

GIB = 2**30


def test_gpt_oss_120b_blocks_and_concurrency_match_the_vllm_log():
    m = get("gpt-oss:120b")
    size, page, groups = vllm_groups.group_layout(m, 4, 2)
    # 18 sliding + 18 full layers -> one group of each, 18 layers; page = 16 tokens x 2 KV heads per rank x 64 x 2 x 2 B
    assert size == 18 and page == 16 * 2 * 64 * 2 * 2 and sorted(n for _, n in groups) == [1, 1]
    # "Available KV cache memory: 45.32 GiB" (rounded to 0.005 GiB, +-36 blocks) -> num_gpu_blocks 330018
    assert abs(int(45.32 * GIB) // (size * page) - 330018) <= 36
    # full: 16384 / 16 = 1024 blocks; sliding: cdiv(128 - 1 + 2048, 16) + 1 = 137 blocks
    blocks = vllm_groups.request_blocks(m, 4, 16384, 2, max_batched=2048)
    assert blocks == 1024 + 137
    assert round(330018 / blocks, 2) == 284.25
    # 0.10.1.1 reported num_blocks // groups x block size as "GPU KV cache size"
    assert 330018 // len(groups) * 16 == 2_640_144


def test_gemma4_31b_full_layers_get_double_blocks_to_match_the_sliding_page():
    m = get("gemma4:31b")
    size, page, groups = vllm_groups.group_layout(m, 1, 2)
    # sliding: 16 KV heads x 256 x (K+V) x 2 B = 16 KiB a token -> 256 KiB pages; full: 4 x 512 x 2 x 2 B = 8 KiB a token,
    # so its block grows to 32 tokens (unify_kv_cache_spec_page_size); 50 sliding : 10 full -> groups of 10
    assert page == 16 * 16 * 1024 and size == 10
    by_kind = {s.kind: (s.block, n) for s, n in groups}
    assert by_kind == {"sliding": (16, 5), "full": (32, 1)}
    # one 32,768-token request at admission (8192 batched tokens): 5 x (cdiv(1023 + 8192, 16) + 1) + 32768 / 32
    assert vllm_groups.request_blocks(m, 1, 32768, 2, max_batched=8192) == 5 * 577 + 1024
    assert vllm.sequence_kv_bytes(m, 1, 32768, 2, 8192) == (5 * 577 + 1024) * 10 * page


def test_gemma4_e2b_sliding_blocks_grow_instead():
    # E2B: one KV head; sliding 256-wide heads (1 KiB a token), full 512-wide (2 KiB): the sliding block doubles
    m = get("gemma4:e2b")
    size, page, groups = vllm_groups.group_layout(m, 1, 2)
    assert page == 16 * 2048 and {s.kind: (s.block, n) for s, n in groups} == {"sliding": (32, 4), "full": (16, 1)}
    assert size == 3  # 12 sliding : 3 full of the 15 layers that keep KV (the last 20 share it)


def test_pool_tokens_are_concurrency_times_the_context():
    m = get("gemma4:31b")
    p = vllm.plan(m, vllm.get_vllm_quant("FP8"), machine_from_profile(find_profile("h100-sxm")), FitRequest(context=32768, engine="vllm"))
    size, page, _ = vllm_groups.group_layout(m, 1, 2)
    blocks = vllm_groups.request_blocks(m, 1, 32768, 2, max_batched=8192)
    assert p.pool_tokens == int((p.pool_bytes_per_gpu // (size * page)) / blocks * 32768)
    assert p.max_concurrency == p.pool_bytes_per_gpu // ((size * page) * blocks)


def test_admission_never_asks_less_than_a_decoding_request_holds():
    for cid in ("gemma4:31b", "gemma4:e4b", "gemma3:27b", "gpt-oss:20b", "llama4:scout"):
        m = get(cid)
        for ctx in (512, 4096, 32768, 131072):
            assert (vllm_groups.request_blocks(m, 1, ctx, 2, max_batched=2048)
                    >= vllm_groups.request_blocks(m, 1, ctx, 2)), (cid, ctx)


def test_kolibri_pool_tokens_match_the_spark_deployment_at_three_pool_sizes():
    # A stock vLLM 0.30.0 deployment of Kolibri-1 FP8 on one DGX Spark (stored README, code-index file id 70200074809):
    # --kv-cache-memory-bytes 8 / 20 / 22 GiB, fp8 KV, max_model_len 262144 -> "reported tokens (262k)" 666,780 /
    # 1,666,977 / 1,833,672, "each 262k request is charged 16,384 full + 4,228 sliding blocks". 10 full + 40 sliding
    # (513-token window) layers: one full group and four sliding groups of 10; a block = 16 tokens x 10 layers x 1 KiB.
    # 4,228 = 4 x (cdiv(512 + 16,384, 16) + 1): the run's step budget was 16,384 tokens. Session 16 compared fit's
    # figure at the defaults (2,035,965, +11%), i.e. at 8,192 tokens a step (the README's .env.sample default):
    # 4 x (cdiv(512 + 8,192, 16) + 1) = 2,180 sliding blocks. The pool law was right; the step budget differed.
    m = get("kolibri-1:78b")
    size, page, groups = vllm_groups.group_layout(m, 1, 1)
    assert size == 10 and page == 16 * 1024 and sorted(n for _, n in groups) == [1, 4]
    assert vllm_groups.request_blocks(m, 1, 262144, 1, max_batched=16384) == 16384 + 4228
    spark = machine_from_profile(find_profile("dgx-spark"), 1)
    q = vllm.get_vllm_quant("FP8")
    for gib, published in ((8, 666_780), (20, 1_666_977), (22, 1_833_672)):
        p = vllm.plan(m, q, spark, FitRequest(262144, "vllm", kv_cache_type="fp8", kv_cache_memory_bytes=gib * GIB,
                                              max_num_batched_tokens=16384))
        assert p.placement.fit == "gpu" and p.pool_tokens == published, (gib, p.pool_tokens)
    at_8192 = vllm.plan(m, q, spark, FitRequest(262144, "vllm", kv_cache_type="fp8", kv_cache_memory_bytes=22 * GIB,
                                                max_num_batched_tokens=8192))
    assert at_8192.pool_tokens == 2_035_965
