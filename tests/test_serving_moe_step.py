"""The fused-MoE terms of the vLLM step (estimate/serving/moe_step.py): the kernel vLLM picks, its BLOCK_SIZE_M, the
expected padded GEMM rows, and the fixed cost per MoE layer from published kernel timings."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving import step_seconds
from selfhost_advisor.estimate.serving.moe_step import (block_m, kernel_timing_residuals_us, moe_fixed_seconds,
                                                        moe_kernel, moe_layer_fixed_us, moe_layers, padded_rows,
                                                        padding_share)
from selfhost_advisor.estimate.vllm import get_vllm_quant


def test_kernel_per_format_and_platform_as_vllm_picks_it():
    # quantization/mxfp4.py get_mxfp4_backend: Marlin under compute capability 9, triton_kernels on Hopper and ROCm
    mx, bf16, awq = get_vllm_quant("MXFP4"), get_vllm_quant("BF16"), get_vllm_quant("AWQ-INT4")
    assert moe_kernel("nvidia-a100", "cuda", mx) == "marlin"
    assert moe_kernel("nvidia-rtx-40", "cuda", mx) == "marlin"
    assert moe_kernel("nvidia-h100", "cuda", mx) == "triton_kernels"
    assert moe_kernel("amd-cdna3", "rocm", mx) == "triton_kernels"
    assert moe_kernel("nvidia-h100", "cuda", bf16) == "fused_moe"
    assert moe_kernel("nvidia-h100", "cuda", awq) == "marlin"


def test_block_sizes_follow_each_kernels_rule():
    # fused_marlin_moe: first block with M x topk / E / block < 0.9
    assert block_m("marlin", 4, 4, 128) == 8
    assert block_m("marlin", 512, 4, 128) == 32  # 16 per expert: 16/16 = 1.0 >= 0.9, 16/32 = 0.5
    assert block_m("marlin", 2048, 4, 128) == 64  # 64 per expert: no block passes, the last is kept
    # triton_kernels: max(16, min(next_pow2(M x topk // E), 128))
    assert block_m("triton_kernels", 256, 4, 128) == 16
    assert block_m("triton_kernels", 2048, 4, 128) == 64
    assert block_m("triton_kernels", 3000, 4, 128) == 128
    assert block_m("triton_kernels", 100000, 4, 128) == 128
    # fused_moe get_default_config: 16 when M <= E, else 64
    assert block_m("fused_moe", 128, 8, 128) == 16
    assert block_m("fused_moe", 129, 8, 128) == 64


def test_padded_rows_by_hand():
    # one token, top-4 of 128: four experts hold one token each, each padded to a 16-row block
    assert padded_rows(1, 4, 128, 16) == pytest.approx(64, rel=1e-9)
    # two tokens, top-2 of 4 experts: n ~ Binomial(2, 1/2); block 1 -> the real 4 rows; block 2 -> 4 x 2 x P(n > 0)
    assert padded_rows(2, 2, 4, 1) == pytest.approx(4, rel=1e-9)
    assert padded_rows(2, 2, 4, 2) == pytest.approx(4 * 2 * 0.75, rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.sampled_from([(1, 8), (2, 8), (4, 128), (8, 128), (10, 512)]))
def test_block_one_is_exact_and_padding_never_saves(tokens, routing):
    topk, experts = routing
    assert padded_rows(tokens, topk, experts, 1) == pytest.approx(tokens * topk, rel=1e-6)
    for kernel in ("marlin", "triton_kernels", "fused_moe"):
        assert padding_share(kernel, tokens, topk, experts) >= 1 - 1e-6


def test_padding_at_the_mean_block_is_about_half():
    # 2048 tokens top-4 of 128 on triton_kernels: 64 tokens an expert in 64-row blocks; n ~ Binomial(2048, 1/32) is
    # over 64 a little under half the time, so about 1.47 blocks an expert
    assert padding_share("triton_kernels", 2048, 4, 128) == pytest.approx(1.47, abs=0.02)


def _timing_rows() -> list[dict]:
    import yamlkit

    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    return yamlkit.safe_load((root / "data" / "serving.yaml").read_text())["vllm"]["moe_kernel_timings"]["rows"]


def test_each_timing_row_carries_the_expert_bytes_its_shape_touches():
    # every row's expert_bytes from the shape it states, recomputed here: E x (1 - (1 - k/E)^M) touched experts of
    # 3 x N x hidden weights (w13: 2N x hidden, w2: N x hidden) at 2 bytes (BF16) or 1 (FP8); stored to 3 significant
    # figures, so within 0.5% (session 28: sglang's DeepSeek-R1 shape is E=257, top-9 in its tuning script)
    import re

    rows = _timing_rows()
    assert len(rows) == 32
    for r in rows:
        shape = r["shape"]
        e = int(re.search(r"E=(\d+)", shape).group(1))
        n = int(re.search(r"N=(\d+)", shape).group(1))
        hidden = int(re.search(r"hidden (\d+)", shape).group(1))
        k = int(re.search(r"top-(\d+)", shape).group(1))
        width = 2 if "BF16" in shape else 1
        assert ("FP8" in shape) != (width == 2), shape
        touched = e * (1 - (1 - k / e) ** int(r["tokens"]))
        assert float(r["expert_bytes"]) == pytest.approx(touched * 3 * n * hidden * width, rel=0.005), shape
        assert 1 <= int(r["tokens"]) <= 64


def test_fixed_cost_is_the_median_of_the_published_timings_residuals():
    # data/serving.yaml moe_kernel_timings: kernel time - expert bytes / (CUDA bandwidth share x spec bandwidth),
    # recomputed here from the rows with the share 0.86 (data/speed.yaml, CUDA): 32 residuals of 19-63 us whose
    # median is 45.2 us. Per source the residuals' medians are 29.5 (A100 PCIe BF16, vllm #19049), 37.3 (H200 FP8 TP 8,
    # sglang #11730), 26.7 (H100 FP8 E=512, vllm #44830), 50.4 (H100 FP8, vllm #24700) and 47.8 us (B200 block FP8,
    # sglang #11816): the median of all rows sits inside their spread.
    import statistics

    rows = _timing_rows()
    by_hand = [float(r["kernel_us"]) - float(r["expert_bytes"]) / (0.86 * float(r["bandwidth_gbps"]) * 1e3)
               for r in rows]
    res = sorted(kernel_timing_residuals_us())
    assert len(res) == 32 and all(r > 0 for r in res)
    assert res == pytest.approx(sorted(by_hand), abs=0.3)
    assert moe_layer_fixed_us() == pytest.approx(45.2, abs=0.6)
    per_source: dict[str, list[float]] = {}
    for r, x in zip(rows, by_hand):
        per_source.setdefault(r["source"], []).append(x)
    medians = [statistics.median(v) for v in per_source.values()]
    assert len(medians) == 5 and min(medians) < moe_layer_fixed_us() < max(medians)


def test_moe_layers_and_the_step_carry_the_fixed_cost(monkeypatch):
    import selfhost_advisor.estimate.serving.step as step

    oss, dense = get("gpt-oss:120b"), get("qwen3:8b")
    assert moe_layers(oss) == 36 and moe_layers(dense) == 0 and moe_fixed_seconds(dense) == 0
    assert moe_fixed_seconds(oss) == pytest.approx(36 * moe_layer_fixed_us() * 1e-6)
    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    mx = get_vllm_quant("MXFP4")
    monkeypatch.setattr(step, "moe_activation_bytes", lambda *a: 0.0)  # compute_bound's caches: their own test below
    with_terms = step_seconds(oss, mx, h100, 1, 4, 300)
    monkeypatch.setattr(step, "moe_fixed_seconds", lambda model: 0.0)
    monkeypatch.setattr(step, "moe_padding_flops", lambda *a: 0.0)
    without = step_seconds(oss, mx, h100, 1, 4, 300)
    # the 4-client decode step is memory-bound: padding adds no time, the 36 layers' fixed cost is the difference
    assert with_terms - without == pytest.approx(36 * moe_layer_fixed_us() * 1e-6, rel=1e-6)


def test_padding_slows_a_compute_bound_prefill_chunk(monkeypatch):
    import selfhost_advisor.estimate.serving.step as step

    oss = get("gpt-oss:120b")
    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    mx = get_vllm_quant("MXFP4")
    padded = step_seconds(oss, mx, h100, 1, 0, 0, 2048, 1024) - moe_fixed_seconds(oss)
    monkeypatch.setattr(step, "moe_padding_flops", lambda *a: 0.0)
    plain = step_seconds(oss, mx, h100, 1, 0, 0, 2048, 1024) - moe_fixed_seconds(oss)
    # a 2,048-token chunk is compute-bound and its expert GEMMs run ~1.47x their rows: the chunk is slower, by less
    # than 1.47x (attention, dense layers and the overhead are not padded)
    assert 1.05 < padded / plain < 1.47


def test_mxfp4_is_refused_where_vllm_has_no_kernel_for_it():
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.serving.moe_step import mxfp4_refusal
    from selfhost_advisor.estimate.vllm import plan

    assert mxfp4_refusal("amd-rdna3", "rocm") and mxfp4_refusal("nvidia-turing", "cuda")
    assert mxfp4_refusal("amd-cdna3", "rocm") is None and mxfp4_refusal("nvidia-a100", "cuda") is None
    oss, mx = get("gpt-oss:120b"), get_vllm_quant("MXFP4")
    req = FitRequest(context=8192, engine="vllm")
    rdna3 = plan(oss, mx, machine_from_profile(get_profile("rx-7900-xtx"), 8), req)
    assert rdna3.placement.fit == "no" and "RDNA3" in rdna3.placement.note
    assert plan(oss, mx, machine_from_profile(get_profile("mi300x"), 1), req).placement.fit == "gpu"
    assert plan(oss, mx, machine_from_profile(get_profile("a100-80gb"), 1), req).placement.fit == "gpu"


def test_intermediate_caches_by_hand_for_qwen3_235b_at_tp8():
    # fused_experts_impl: T x H read, T x k x 2I/tp written and read (silu_and_mul), T x k x I/tp written and read,
    # T x k x H written (w2) and read (moe_sum), T x H written; 16-bit. Qwen3-235B-A22B: H 4096, k 8, I 1536, 94
    # MoE layers; TP 8 -> I/tp 192. Per token and layer 4 x (4096 + 8 x (576 + 4096)) = 165,888 B
    from selfhost_advisor.estimate.serving.moe_step import moe_activation_bytes

    q235 = get("qwen3:235b")
    h100x8 = machine_from_profile(get_profile("h100-sxm"), 8)
    bf16 = get_vllm_quant("BF16")
    assert moe_layers(q235) == 94
    assert moe_activation_bytes(q235, bf16, h100x8, 8, 1000) == pytest.approx(94 * 1000 * 165_888, rel=1e-12)
    assert moe_activation_bytes(get("qwen3:8b"), bf16, h100x8, 8, 1000) == 0.0
    # triton_kernels (MXFP4 on Hopper) fuses the activation and the top-k sum: 4 x (H + k x I) for gpt-oss-20b,
    # H = I = 2880, k 4, 24 layers
    oss = get("gpt-oss:20b")
    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    assert moe_activation_bytes(oss, get_vllm_quant("MXFP4"), h100, 1, 10) == pytest.approx(
        24 * 10 * 4 * (2880 + 4 * 2880), rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 1500), st.integers(0, 4096))
def test_the_caches_and_the_split_roofline_never_make_a_step_faster(batch, chunk):
    # the caches add bytes, and max(a, b) + max(c, d) >= max(a + c, b + d): a MoE step with both is never shorter
    # than the single roofline over the experts' bytes alone
    import selfhost_advisor.estimate.serving.step as step

    q235 = get("qwen3:235b")
    h100x8 = machine_from_profile(get_profile("h100-sxm"), 8)
    bf16 = get_vllm_quant("BF16")
    now = step_seconds(q235, bf16, h100x8, 8, batch, 500, chunk, chunk / 2)
    dense, experts, flops = step.step_parts(q235, bf16, 8)
    tokens = batch + chunk
    eff = step.efficiency("cuda")
    dev = h100x8.devices[0]
    lm = step.lm_head_flops(q235, 8)
    work = tokens * (flops - lm) + step.logits_rows(batch, chunk) * lm + step.moe_padding_flops(
        q235, bf16, h100x8, 8, tokens)
    single = max((dense + experts * step._touched(q235, tokens)) / (eff.bandwidth * dev.bandwidth_bytes_per_s),
                 work / (eff.prefill_f16_all_in * step.matmul_flops(h100x8, bf16)))
    linear, _ = step._parts_seconds(q235, bf16, h100x8, 8, batch, 500, chunk, chunk / 2, 2)
    assert linear >= single * (1 - 1e-9)
    assert now > 0


def test_a_dense_step_is_unchanged_by_the_moe_terms(monkeypatch):
    import selfhost_advisor.estimate.serving.step as step

    q8 = get("qwen3:8b")
    h100 = machine_from_profile(get_profile("h100-sxm"), 1)
    bf16 = get_vllm_quant("BF16")
    before = [step_seconds(q8, bf16, h100, 1, b, 600, c, c / 2) for b, c in ((1, 0), (64, 0), (512, 2048))]
    monkeypatch.setattr(step, "moe_activation_bytes", lambda *a: 1e12)
    assert [step_seconds(q8, bf16, h100, 1, b, 600, c, c / 2) for b, c in ((1, 0), (64, 0), (512, 2048))] == before


def test_each_fused_moe_kernel_moves_its_own_bytes_by_hand():
    # vllm fused_moe.py fused_experts_impl, 16-bit, per token and MoE layer (Qwen3-235B-A22B at TP 8: H 4096, k 8,
    # I/tp 192, gated): w13 GEMM 2 x (4096 + 8 x 384) = 14,336 B; silu_and_mul 2 x 8 x (384 + 192) = 9,216;
    # w2 GEMM 2 x 8 x (192 + 4096) = 68,608; moe_sum 2 x (8 x 4096 + 4096) = 73,728; together 165,888 (the caches)
    from selfhost_advisor.estimate.serving.moe_step import gate_up_ratio, moe_activation_bytes, moe_kernel_bytes

    q235 = get("qwen3:235b")
    h100x8 = machine_from_profile(get_profile("h100-sxm"), 8)
    bf16 = get_vllm_quant("BF16")
    parts = moe_kernel_bytes(q235, bf16, h100x8, 8, 1000)
    assert parts == pytest.approx(tuple(94 * 1000 * b for b in (14_336, 9_216, 68_608, 73_728)), rel=1e-12)
    assert sum(parts) == pytest.approx(moe_activation_bytes(q235, bf16, h100x8, 8, 1000), rel=1e-12)
    assert gate_up_ratio(q235) == 2.0
    # Nemotron-H's experts are ungated (up_exps, ReLU^2, down_exps): the first GEMM writes I/tp, not 2 I/tp
    assert gate_up_ratio(get("nemotron-3-nano:30b")) == 1.0
    # triton_kernels (MXFP4 on Hopper) fuses the activation and the sum: only the two GEMMs move bytes
    g1, act, g2, red = moe_kernel_bytes(get("gpt-oss:20b"), get_vllm_quant("MXFP4"),
                                         machine_from_profile(get_profile("h100-sxm"), 1), 1, 10)
    assert act == red == 0.0 and g1 == g2 == pytest.approx(24 * 10 * 2 * (2880 + 4 * 2880), rel=1e-12)


def test_serial_kernels_cost_a_narrow_shard_more_than_a_wide_one():
    # A compute-bound chunk of 8,192 tokens: the four kernels against one roofline over all bytes and FLOPs. At
    # Qwen3-235B's TP-8 shard (I/tp 192) the w2 GEMM's output and moe_sum's read, ~142 kB a token a layer, add about a
    # third to the experts' FLOP time (by hand at H100 rates: 85.8 ns of FLOPs + 25.6 ns moe_sum + 3.2 ns silu a
    # token-layer); at Mixtral's TP-2 shard (7,168 wide, top-2) they add a few percent
    from selfhost_advisor.estimate.serving.moe_step import (expert_flops_per_token, expert_kernels_seconds,
                                                            moe_activation_bytes, moe_padding_flops)
    import selfhost_advisor.estimate.serving.step as step

    def ratio(name, tp):
        m = get(name)
        mach = machine_from_profile(get_profile("h100-sxm"), tp)
        bf16 = get_vllm_quant("BF16")
        eff = step.efficiency("cuda")
        bw = eff.bandwidth * mach.devices[0].bandwidth_bytes_per_s
        fl = eff.prefill_f16_all_in * step.matmul_flops(mach, bf16)
        tokens = 8192
        _, experts, _ = step.step_parts(m, bf16, tp)
        weights = experts * step._touched(m, tokens)
        work = tokens * expert_flops_per_token(m, tp) + moe_padding_flops(m, bf16, mach, tp, tokens)
        split = expert_kernels_seconds(m, bf16, mach, tp, tokens, weights, work, bw, fl)
        single = max((weights + moe_activation_bytes(m, bf16, mach, tp, tokens)) / bw, work / fl)
        memory_only = expert_kernels_seconds(m, bf16, mach, tp, tokens, weights, work, bw, float("inf"))
        assert memory_only == pytest.approx((weights + moe_activation_bytes(m, bf16, mach, tp, tokens)) / bw)
        return split / single

    assert 1.25 < ratio("qwen3:235b", 8) < 1.45
    assert 1.0 <= ratio("mixtral:8x7b", 2) < 1.08


def test_the_tile_law_is_fitted_on_the_stored_fused_moe_rates_and_reproduces_them():
    # data/serving.yaml fused_moe_rates: Mixtral TP 2 on H100 0.63, E=64 N=1408 on A100 0.60, Gemma 4 N=704 on H200
    # 0.43 (published large-batch rates of Triton fused_moe, tuned). One constant, K0, fitted on them: 810
    import math

    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.estimate.serving.moe_step import _family_gemm_share, _tile_rate, fused_moe_k0

    k0 = fused_moe_k0()
    assert k0 == 810
    rows = load("serving")["vllm"]["fused_moe_rates"]["rows"]
    got = [_tile_rate(r["hidden"], r["n"], r["topk"], r["spec_tflops"] * 1e12, _family_gemm_share(r["family"]),
                      r["bandwidth_gbps"] * 1e9, k0, 0.8612) for r in rows]
    assert len(rows) == 3 and all(abs(math.log(g / r["rate"])) < 0.12 for g, r in zip(got, rows))
    # the narrower the shard, the lower the rate: the law is monotonic in N
    assert _tile_rate(4096, 192, 8, 989e12, 0.8, 3.35e12, k0, 0.86) < _tile_rate(4096, 768, 8, 989e12, 0.8, 3.35e12,
                                                                                  k0, 0.86)


def test_grouped_gemm_rates_by_hand_and_where_the_law_does_not_apply():
    # Qwen3-235B at TP 8 on H100 (Triton fused_moe, BF16): share 794.5 / 989 of the spec rate, w13 x 4096 / (4096 +
    # 810), w2 x 192 / (192 + 810)
    from selfhost_advisor.estimate.serving.moe_step import fused_moe_gemm_flops, moe_kernel

    q235, bf16, fp8 = get("qwen3:235b"), get_vllm_quant("BF16"), get_vllm_quant("FP8")
    h100x8 = machine_from_profile(get_profile("h100-sxm"), 8)
    w13, w2 = fused_moe_gemm_flops(q235, bf16, h100x8, 8, 1e15)
    share = 794.5 / 989
    assert w13 == pytest.approx(1e15 * share * 4096 / 4906) and w2 == pytest.approx(1e15 * share * 192 / 1002)
    # Marlin (FP8 on an A100: no FP8 tensor cores, vllm fp8.py use_marlin), triton_kernels (MXFP4 on Hopper), a dense
    # model and a family without a measured GEMM share keep the step's all-in share
    a100x4 = machine_from_profile(get_profile("a100-80gb"), 4)
    assert moe_kernel("nvidia-a100", "cuda", fp8) == "marlin" and moe_kernel("nvidia-h100", "cuda", fp8) == "fused_moe"
    assert fused_moe_gemm_flops(q235, fp8, a100x4, 4, 1e15) is None
    assert fused_moe_gemm_flops(get("gpt-oss:120b"), get_vllm_quant("MXFP4"),
                                machine_from_profile(get_profile("h100-sxm"), 1), 1, 1e15) is None
    assert fused_moe_gemm_flops(get("qwen3:8b"), bf16, h100x8, 8, 1e15) is None
    assert fused_moe_gemm_flops(q235, bf16, machine_from_profile(get_profile("rtx-4090"), 8), 8, 1e15) is None


def test_block_fp8_fused_moe_gains_what_vllm_pr_35457_measured_over_bf16():
    # vllm PR #35457 (Qwen3-30B-A3B shapes at TP 8 on H200: E=128, N=96, hidden 2048, top-8; both dtypes tuned): FP8
    # "10-17% faster at batch sizes 4+". Under the tile law each tile's fixed part (K0, fitted on BF16 rates) takes
    # the same time in FP8, only the MMAs run at the FP8 rate (H100 family: 1979 x 0.882); the whole layer, with its
    # activation and top-k sum kernels, then gains ~1.10x. Scaling the fixed part with the FP8 rate gave 1.56x.
    from selfhost_advisor.estimate.serving.moe_step import _family_gemm_share, _tile_rate, fused_moe_k0, tile_law_flops
    from selfhost_advisor.estimate.serving.rates import fp8_gemm_gain

    k0, share = fused_moe_k0(), _family_gemm_share("nvidia-h100")
    h200 = machine_from_profile(get_profile("h200"), 8)
    fp8 = 1979e12 * fp8_gemm_gain(h200)
    bf16_rate = _tile_rate(2048, 96, 8, 989e12, share, 4.8e12, k0, 0.8601)
    fp8_rate = _tile_rate(2048, 96, 8, 989e12, share, 4.8e12, k0, 0.8601, peak=fp8)
    all_fp8 = _tile_rate(2048, 96, 8, 989e12 * fp8 / 989e12, share, 4.8e12, k0, 0.8601) * fp8 / 989e12
    assert 1.05 < fp8_rate / bf16_rate < 1.17
    assert all_fp8 / bf16_rate > 1.4
    # a 16-bit GEMM is the law as fitted: share x peak x K / (K + K0)
    assert tile_law_flops(4096, 989e12, share, k0) == pytest.approx(989e12 * share * 4096 / (4096 + k0))
    assert tile_law_flops(4096, 989e12, share, k0, 989e12) == pytest.approx(tile_law_flops(4096, 989e12, share, k0))
    # the wider the reduction, the closer the FP8 GEMM comes to its full gain
    gain = [tile_law_flops(k, fp8, share, k0, 989e12) / tile_law_flops(k, 989e12, share, k0) for k in (96, 768, 7168)]
    assert gain == sorted(gain) and gain[-1] < fp8 / 989e12


def test_each_fused_moe_rate_is_the_slope_between_its_two_stored_timings():
    # data/serving.yaml fused_moe_rates (session 28): the two published timings each rate was read between, and the
    # FLOPs between them (tokens x top-k x 2 x 3 x N x hidden) over the time between them, as a share of the BF16
    # spec, give back the stored rate (to its two digits); expert_bytes is all E experts' w13 + w2 in 16 bits
    from selfhost_advisor.catalog.data import load

    experts = {"Mixtral": 8, "E=64": 64, "Gemma 4": 128}
    for r in load("serving")["vllm"]["fused_moe_rates"]["rows"]:
        per_token = r["topk"] * 2 * 3 * r["n"] * r["hidden"]
        slope = per_token * (r["tokens"] - r["tokens_lo"]) / ((r["kernel_us"] - r["us_lo"]) * 1e-6)
        assert slope / (r["spec_tflops"] * 1e12) == pytest.approx(r["rate"], abs=0.006), r["shape"]
        e = next(v for k, v in experts.items() if r["shape"].startswith(k))
        assert r["expert_bytes"] == e * 3 * r["n"] * r["hidden"] * 2


def test_the_unhidden_weight_share_is_the_published_curves_intercept():
    # By hand, with the share 0.8601 and the fixed cost 45.2 us: Mixtral TP 2 on H100, 833.72 us at 1,024 and 1122.93
    # at 1,536 tokens: the line meets M = 0 at 255.3 us; less 45.2 over 1.409 GB at 2.881 TB/s (489.1 us): 0.43.
    # E=64 N=1408 on A100 SXM (929.9 / 2636.6 us at 1,024 / 4,096): 361.0 -> 0.50. Gemma 4 on H200 (728.2 / 1189.6
    # at 2,048 / 4,096): 266.8 -> 0.60. The median, 0.50: half of a compute-bound grouped GEMM's weight read is not
    # hidden under its MMAs.
    from selfhost_advisor.estimate.serving.moe_step import fused_moe_unhidden_share, fused_moe_unhidden_shares

    assert fused_moe_unhidden_shares() == pytest.approx([0.43, 0.50, 0.60], abs=0.01)
    assert fused_moe_unhidden_share() == pytest.approx(0.50, abs=0.01)


def _layer_us(model, quant, machine, tp, tokens):
    """The step's time for one MoE layer of `tokens` tokens: its fused-MoE kernels and fixed cost."""
    import selfhost_advisor.estimate.serving.step as step
    from selfhost_advisor.estimate.serving.moe_step import (expert_flops_per_token, expert_kernels_seconds,
                                                            expert_mma_share, moe_padding_flops)
    from selfhost_advisor.estimate.speed import efficiency

    dev = machine.devices[0]
    eff = efficiency(dev.backend)
    bw = eff.bandwidth * dev.bandwidth_bytes_per_s
    fl = eff.prefill_f16_all_in * step.matmul_flops(machine, quant)
    _, experts, _ = step.step_parts(model, quant, tp)
    work = tokens * expert_flops_per_token(model, tp) + moe_padding_flops(model, quant, machine, tp, tokens)
    seconds = expert_kernels_seconds(model, quant, machine, tp, tokens, experts * step._touched(model, tokens), work,
                                     bw, fl * expert_mma_share(machine, quant),
                                     step._grouped_gemm_flops(model, quant, machine, tp))
    return seconds / moe_layers(model) * 1e6 + moe_layer_fixed_us()


def test_a_prefill_sized_mixtral_layer_takes_the_published_tuned_kernel_time(monkeypatch):
    # vllm PR #24700, Mixtral-8x7B BF16 at TP 2 on an H100, tuned config: 662.33 / 833.72 / 1122.93 us at 512 / 1,024
    # / 1,536 tokens. The step's layer is within 12% of each; without the unhidden weight share it was 0.82-0.87 of
    # them, under at every size (the slope rate alone drops the curve's intercept). Decode-sized layers are
    # memory-bound and do not move.
    import selfhost_advisor.estimate.serving.moe_step as moe_step

    mixtral, bf16 = get("mixtral:8x7b"), get_vllm_quant("BF16")
    h100x2 = machine_from_profile(get_profile("h100-sxm"), 2)
    published = {512: 662.33, 1024: 833.72, 1536: 1122.93}
    with_term = {m: _layer_us(mixtral, bf16, h100x2, 2, m) for m in (*published, 64)}
    for m, us in published.items():
        assert with_term[m] / us == pytest.approx(1.0, abs=0.12), (m, with_term[m])
    monkeypatch.setattr(moe_step, "fused_moe_unhidden_share", lambda: 0.0)
    for m, us in published.items():
        assert _layer_us(mixtral, bf16, h100x2, 2, m) / us < 0.9
    assert _layer_us(mixtral, bf16, h100x2, 2, 64) == pytest.approx(with_term[64])
