"""Monotonic laws the estimates must obey, checked over the whole catalog and random inputs.

More context never needs less memory (nor places better); a smaller quant never needs more weights; more VRAM
never places fewer layers; more bandwidth never decodes slower; more monthly tokens never costs less.
"""

from hypothesis import example, given, settings, strategies as st

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import generic_machine, machine_from_profile, profiles
from selfhost_advisor.catalog.models import all_models
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.cost import tco
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.capacity import measured_capacity
from selfhost_advisor.cost.cloud import cloud_monthly_usd, contract_price, resolve_cloud
from selfhost_advisor.cost.types import CostParams, Workload
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines.ollama_launch import launch
from selfhost_advisor.estimate.fit import fit
from selfhost_advisor.estimate.memory import bytes_per_type, estimate_memory
from selfhost_advisor.estimate.placement import place
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.estimate.vllm import vllm_quants, vllm_weights
from selfhost_advisor.record import replace

MODELS = all_models()
# embedding models have no decode (estimate_speed gives decode_tokens_per_s None for them): the decode laws skip them
GENERATIVE = [m for m in MODELS if "embedding" not in m.use_cases]
# Within one family, fewer bits per weight never means more bytes.
K_LADDER = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q2_K"]
IQ_LADDER = ["IQ4_NL", "IQ4_XS", "IQ3_M", "IQ3_XXS", "IQ2_M", "IQ2_XXS"]


def test_smaller_quant_never_needs_more_weights_for_any_catalog_model():
    # Exact for models whose row lengths are multiples of 256. Otherwise llama.cpp's shape fallbacks
    # (Q2_K -> Q4_0, Q4_K -> Q5_0 ...) can make a lower file type a few MB larger (gpt-oss, width 2880: Q2_K is
    # 0.04% above Q3_K_S), so the law holds within 0.5%.
    # Where most rows fall back (Nemotron 3 Nano: width 2688 and expert width 1856, neither a multiple of 256), the
    # ladder itself breaks: Q4_K_M's Q6_K bumps become Q8_0 while Q5_K_S's Q5_K becomes Q5_1, so Q4_K_M is the larger
    # file (bartowski's Q4_K_M, 24,655,899,872 B, is within 0.6% of our Q4_K_M). Such a pair is exempt only when
    # fallback types hold most of the bytes of the file that came out larger.
    # The same happens without fallbacks when the bumped tensors are most of the model: StarCoder 15B's Q3_K_L puts
    # attn_qkv (attn_v rules), attn_output and ffn_down, 59% of its parameters, at Q5_K in every layer, so it outweighs
    # Q4_K_S (mradermacher's starcoder table lists both at 9.4 GB). Exempt when types other than the file type's
    # default type hold most of the bytes.
    for m in MODELS:
        for ladder in (K_LADDER, IQ_LADDER):
            sizes = [estimate_memory(m, get_quant(q), FitRequest(context=4096)).weights_bytes for q in ladder]
            for bigger, smaller, q in zip(sizes, sizes[1:], ladder[1:]):
                if smaller > bigger * 1.005:
                    assert _inversion_explained(m, q, smaller), (m.id, q)


_FALLBACK_TYPES = frozenset({"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"})


def _inversion_explained(m, q, smaller):
    """A lower file type may come out larger only when fallback types or types other than its default type (the
    bumps of llama-quantize's rules) hold most of its bytes (see the test above)."""
    by_type = bytes_per_type(m, get_quant(q))
    bumped = sum(b for t, b in by_type.items() if t not in (get_quant(q).default_type, "F32"))
    fallback = sum(b for t, b in by_type.items() if t in _FALLBACK_TYPES)
    return max(fallback, bumped) > 0.5 * smaller


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.integers(1, 200_000), st.integers(1, 200_000),
       st.sampled_from(["f16", "q8_0", "q4_0"]), st.booleans())
def test_more_context_never_needs_less_memory(model, a, b, kv, fa):
    lo, hi = sorted((a, b))
    q = get_quant("Q4_K_M")
    m_lo = estimate_memory(model, q, FitRequest(context=lo, kv_cache_type=kv, flash_attention=fa))
    m_hi = estimate_memory(model, q, FitRequest(context=hi, kv_cache_type=kv, flash_attention=fa))
    assert m_hi.kv_cache_bytes >= m_lo.kv_cache_bytes
    assert m_hi.total_bytes >= m_lo.total_bytes


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.integers(4, 200), st.integers(4, 200), st.integers(1, 4))
def test_more_vram_never_places_fewer_layers(model, a, b, n_gpus):
    lo, hi = sorted((a, b))
    mem = estimate_memory(model, get_quant("Q4_K_M"), FitRequest(context=8192), n_gpus=n_gpus)
    p_lo = place(mem, generic_machine(lo * 10**9, n_gpus, 512 * 10**9), margin_bytes=2**30)
    p_hi = place(mem, generic_machine(hi * 10**9, n_gpus, 512 * 10**9), margin_bytes=2**30)
    assert p_hi.gpu_layers >= p_lo.gpu_layers
    order = ["no", "cpu", "partial", "gpu"]
    assert order.index(p_hi.fit) >= order.index(p_lo.fit) or p_lo.fit == "cpu"


def test_sliding_window_caps_kv_growth():
    from selfhost_advisor.record import replace

    gemma = next(m for m in MODELS if m.id == "gemma3:27b")
    q = get_quant("Q4_K_M")
    k32 = estimate_memory(gemma, q, FitRequest(context=32768)).kv_cache_bytes
    k64 = estimate_memory(gemma, q, FitRequest(context=65536)).kv_cache_bytes
    full64 = estimate_memory(replace(gemma, sliding_window=None), q, FitRequest(context=65536)).kv_cache_bytes
    # only the 1-in-6 global layers grow with context; the 5-in-6 local layers hold 1024 + 512 cells
    assert k32 < k64 < 2 * k32
    assert k64 < 0.25 * full64


def test_mla_caches_a_compressed_latent():
    # DeepSeek-V3 caches kv_lora_rank + rope dim (576) values per token per layer, not 128 heads x 2 x 128.
    ds = next(m for m in MODELS if m.id == "deepseek-v3:671b")
    kv = estimate_memory(ds, get_quant("Q4_K_M"), FitRequest(context=8192)).kv_cache_bytes
    assert kv == 61 * 8192 * 576 * 2


# --- the same laws over the whole input space: any catalog model, engine, device count and hardware ------------------

TIERS = ["no", "cpu", "partial", "gpu"]
GPUS = [p for p in profiles() if p.kind == "gpu" and p.bandwidth_bytes_per_s]
PRICE_IDS = sorted(e["id"] for e in load("prices")["candidates"])


def _tier_index(option) -> int:
    return TIERS.index(option.placement.fit)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.sampled_from(K_LADDER + IQ_LADDER), st.integers(1, 131_072),
       st.integers(1, 131_072), st.sampled_from(["llamacpp", "ollama"]), st.integers(1, 4),
       st.sampled_from(GPUS), st.integers(1, 4), st.integers(16, 512))
@example(next(m for m in MODELS if m.id == "mixtral:8x22b"), "Q5_K_S", 128, 145, "llamacpp", 4,
         next(p for p in GPUS if p.id == "rtx-3090"), 4, 16)  # the --n-cpu-moe cases below (hypothesis, session 32)
@example(next(m for m in MODELS if m.id == "mixtral:8x7b"), "Q8_0", 1, 323, "llamacpp", 1,
         next(p for p in GPUS if p.id == "rtx-4060-ti-16gb"), 2, 22)
def test_more_context_never_needs_less_memory_nor_places_better(model, quant, a, b, engine, parallel, gpu, n, ram_gb):
    lo, hi = sorted((a, b))
    q = get_quant(quant)
    box = machine_from_profile(gpu, n, ram_gb * 10**9)

    # Ollama 0.30+ picks its micro-batch from the predicted VRAM (automaticGenerationBatch: 2048 -> 1024 -> 512 as a
    # longer context leaves less room), which shrinks the compute buffer: its total may fall with more context, by
    # design (test_ollama_auto_batch_can_make_more_context_cheaper). The law is about the context alone: num_batch set.
    pinned = {"n_ubatch": 512, "n_ubatch_given": True} if engine == "ollama" else {}

    def at(ctx):
        return fit(model, box, FitRequest(context=ctx, engine=engine, n_parallel=parallel, **pinned), (q,)).options[0]

    small, big = at(lo), at(hi)
    assert big.memory.kv_cache_bytes >= small.memory.kv_cache_bytes
    assert big.memory.total_bytes >= small.memory.total_bytes
    if engine == "ollama" and len(box.devices) > 1 and len({_ollama_gpu(model, q, box, c, parallel) for c in (lo, hi)}) > 1:
        return  # Ollama's one-GPU pick changed between the two: placement laws do not hold across it (below)
    assert _tier_index(big) <= _tier_index(small)
    # "places better" is read as the decode rate the placement gives (both at half their context, so the longer one
    # also reads more KV): a count of GPU layers is no measure once --n-cpu-moe moves routed experts out of layers that
    # still count as offloaded, and bytes left in RAM are none either, as expert offload is kept where it decodes
    # faster (moe_offload.with_expert_offload). Hypothesis, session 32: Mixtral 8x22B Q5_K_S on 4x RTX 3090, 16 GB RAM,
    # parallel 4: up to 128 tokens 56 of 57 layers, from 145 all 57 with --n-cpu-moe 4 (more "layers", slower); Mixtral
    # 8x7B Q8_0 on 2x RTX 4060 Ti 16GB, 22 GB RAM: --n-cpu-moe 13 up to 256 tokens, 20 layers from 323 (fewer bytes
    # in RAM, slower).
    if _tier_index(big) == _tier_index(small) and big.speed and small.speed:
        assert (big.speed.decode_tokens_per_s or 0.0) <= (small.speed.decode_tokens_per_s or 0.0) * (1 + 1e-9)
    if not (big.placement.cpu_moe_layers or small.placement.cpu_moe_layers):
        assert big.placement.gpu_layers <= small.placement.gpu_layers


def _ollama_gpu(model, q, box, context, parallel):
    request = FitRequest(context=context, engine="ollama", n_parallel=parallel, n_ubatch=512, n_ubatch_given=True)
    return launch(model, q, box, request, int(load("engines")["runtime"]["cuda_context_bytes"]))[0]


def test_ollama_one_gpu_pick_can_make_more_context_place_better():
    """The case the law above found (session 32): Ollama 0.30+ runs a model on one GPU alone when its own rough VRAM
    prediction fits 80 % of that GPU's free memory (sched.go bestSingleGPUFit; PredictServerVRAM takes head_dim as
    n_embd / n_head, 64 for Qwen3 0.6B whose heads are 128 wide, so it predicts half the KV cache). At 62,686 tokens x 2
    slots the prediction fits one RTX 3060 and llama-server then spills layers to RAM there; at 96,550 it does not, so
    Ollama spreads the model over all four GPUs and every layer fits: more context, a better tier, by Ollama's design."""
    model = next(m for m in MODELS if m.id == "qwen3:0.6b")
    q = get_quant("Q2_K")
    box = machine_from_profile(next(p for p in GPUS if p.id == "rtx-3060-12gb"), 4, 212 * 10**9)
    assert model.head_dim > model.hidden_size // model.n_heads  # why Ollama's prediction is low
    assert _ollama_gpu(model, q, box, 62_686, 2) is not None and _ollama_gpu(model, q, box, 96_550, 2) is None

    def at(ctx):
        request = FitRequest(context=ctx, engine="ollama", n_parallel=2, n_ubatch=512, n_ubatch_given=True)
        return fit(model, box, request, (q,)).options[0]

    small, big = at(62_686), at(96_550)
    assert small.placement.fit == "partial" and sum(1 for n in small.placement.per_device_layers if n) == 1
    assert big.placement.fit == "gpu" and all(big.placement.per_device_layers)


def test_ollama_auto_batch_can_make_more_context_cheaper():
    """The case hypothesis found (nemotron-3-super:120b Q3_K_L, 4 x RTX 3090, parallel 2): at 20,000 tokens Ollama's
    automatic batch is 1024 (2048 did not fit); at 30,031 the predicted VRAM leaves too little headroom for it (sched.go
    generationBatchFits), the batch drops to 512 and the compute buffer with it, more than the KV cache grows. With num_batch
    set, the same pair obeys the law."""
    model = next(m for m in MODELS if m.id == "nemotron-3-super:120b")
    q = get_quant("Q3_K_L")
    box = machine_from_profile(next(p for p in GPUS if p.id == "rtx-3090"), 4, 64 * 10**9)

    def at(ctx, **kw):
        return fit(model, box, FitRequest(context=ctx, engine="ollama", n_parallel=2, **kw), (q,)).options[0]

    small, big = at(20_000), at(30_031)
    context_bytes = int(load("engines")["runtime"]["cuda_context_bytes"])
    batches = [launch(model, q, box, FitRequest(context=c, engine="ollama", n_parallel=2), context_bytes)[1]
               for c in (20_000, 30_031)]
    assert batches[0] > batches[1]
    assert big.memory.kv_cache_bytes > small.memory.kv_cache_bytes
    assert big.memory.compute_buffer_bytes < small.memory.compute_buffer_bytes
    assert big.memory.total_bytes < small.memory.total_bytes
    pin = {"n_ubatch": batches[0], "n_ubatch_given": True}
    fixed_small, fixed_big = at(20_000, **pin), at(30_031, **pin)
    assert fixed_big.memory.total_bytes >= fixed_small.memory.total_bytes


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(MODELS), st.sampled_from([K_LADDER, IQ_LADDER]), st.data())
def test_a_smaller_quant_never_needs_more_weights_for_any_pair_of_a_ladder(model, ladder, data):
    i, j = sorted((data.draw(st.integers(0, len(ladder) - 1)), data.draw(st.integers(0, len(ladder) - 1))))
    bigger, smaller = (estimate_memory(model, get_quant(ladder[k]), FitRequest(context=4096)).weights_bytes for k in (i, j))
    # llama.cpp's shape fallbacks make a lower type up to ~0.04% larger on rows not a multiple of 256; where fallbacks
    # or llama-quantize's bumps hold most of the bytes the ladder itself breaks (see above: fused-qkv layouts such as
    # Phi-2 / moondream, StarCoder and Falcon at Q3_K_L, Nemotron 3 Nano's IQ3_M and Q4_K_M)
    assert smaller <= bigger * 1.005 or _inversion_explained(model, ladder[j], smaller)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(MODELS))
def test_vllm_formats_never_need_more_weights_as_they_get_smaller(model):
    sizes = [vllm_weights(model, q).total for q in vllm_quants()]  # best quality first: BF16, FP8, INT4 ...
    assert sizes[1] <= sizes[0] and max(sizes[2:]) <= sizes[1]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(GENERATIVE), st.sampled_from(["Q8_0", "Q4_K_M", "Q2_K"]), st.sampled_from(GPUS), st.integers(1, 4),
       st.floats(0.05, 1.0), st.floats(0.05, 1.0), st.integers(16, 256), st.integers(0, 32_768))
def test_more_bandwidth_never_lowers_decode_speed(model, quant, gpu, n, f1, f2, ram_gb, depth):
    """Machines that differ only in memory bandwidth (devices and host RAM scaled alike), same placement."""
    lo, hi = sorted((f1, f2))
    q = get_quant(quant)
    base = machine_from_profile(gpu, n, ram_gb * 10**9)

    def scaled(f):
        return replace(base, devices=tuple(replace(d, bandwidth_bytes_per_s=int(d.bandwidth_bytes_per_s * f))
                                           for d in base.devices),
                       ram_bandwidth_bytes_per_s=int(90e9 * f))

    slow_box, fast_box = scaled(lo), scaled(hi)
    placement = fit(model, slow_box, FitRequest(context=8192), (q,)).options[0].placement
    if placement.fit == "no":
        return
    slow = estimate_speed(model, q, placement, slow_box, decode_depth=depth).decode_tokens_per_s
    fast = estimate_speed(model, q, placement, fast_box, decode_depth=depth).decode_tokens_per_s
    assert fast >= slow > 0


def _work(tokens: int, share: float) -> Workload:
    return Workload(monthly_tokens=tokens, output_share=share, peak_to_average=2.0, active_hours_per_month=176.0)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PRICE_IDS), st.integers(1, 10**13), st.integers(1, 10**13), st.floats(0.01, 0.99))
def test_more_monthly_tokens_never_lowers_any_listed_cloud_cost(price_id, a, b, share):
    lo, hi = sorted((a, b))
    price = resolve_cloud(price_id, _work(lo, share))  # the real entry (genai-prices when installed)
    assert cloud_monthly_usd(price, _work(hi, share)) >= cloud_monthly_usd(price, _work(lo, share)) >= 0


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 100), st.floats(0, 100), st.integers(1, 10**13), st.integers(1, 10**13), st.floats(0.01, 0.99))
def test_more_monthly_tokens_never_lowers_a_contract_price_bill(p_in, p_out, a, b, share):
    lo, hi = sorted((a, b))
    price = contract_price(p_in, p_out)
    assert cloud_monthly_usd(price, _work(hi, share)) >= cloud_monthly_usd(price, _work(lo, share))


PRICED = [s for s in ("rtx3090", "rtx4090", "2x rtx4090", "rtx5090", "a100-80gb", "2x h100-sxm", "m2-ultra-192gb", "dgx-spark")
          if box_from_spec(s).gpu_price_usd]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PRICED),
       st.integers(1, 10**12), st.integers(1, 10**12), st.floats(50, 5000), st.floats(200, 20000))
def test_more_monthly_tokens_never_lowers_self_host_cost(spec, a, b, decode, prefill):
    lo, hi = sorted((a, b))
    box = box_from_spec(spec)
    cap = measured_capacity(decode, prefill, _work(lo, 0.25), "vllm")
    p = CostParams()
    assert tco.monthly_total(box, cap, _work(hi, 0.25), p) >= tco.monthly_total(box, cap, _work(lo, 0.25), p)
