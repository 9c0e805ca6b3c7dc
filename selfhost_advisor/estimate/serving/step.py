"""One engine step of a continuously batched server (vLLM): B sequences decode one token each, and a prefill chunk
of C prompt tokens may ride along (chunked prefill).

Why a roofline per step: a step reads the weights once whatever B is (MoE: the experts B tokens touch), reads each
sequence's KV at its own depth, and does (B + C) tokens of matmuls; whichever of memory and compute takes longer
sets the step, and a fixed launch/schedule/sample cost comes on top:
    step = max(weight bytes / BW, GEMM FLOPs / FLOPS) + max(KV bytes / BW, attention FLOPs / FLOPS)
           + overhead(B) + MoE layers' fixed cost + TP all-reduces
(MoE: the dense GEMMs' roofline plus one per fused-MoE kernel, w13 GEMM, activation, w2 GEMM, top-k sum, whose
bytes are the touched experts and the intermediate caches: moe_step.expert_kernels_seconds)
(BW = eff_bw x bandwidth, FLOPS = eff_c x peak: the GEMMs and the attention kernels run one after the other, so each
is its own roofline and their times add)
eff_bw and eff_c are the CUDA family's llama-bench fit (data/speed.yaml). Serving terms (data/serving.yaml): the
per-layer overhead, fitted by scripts/fit_serving.py on published single-stream vLLM runs; the W4A16 kernel's tensor
rate (mma_sync_share, from Marlin's instruction) and the all-reduce times (vLLM's published custom all-reduce
latencies), each from its source, not fitted. MoE: the experts' GEMM rows padded to the kernel's block and a fixed
cost per MoE layer from published fused-MoE kernel timings (moe_step.py).
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Model, Quant
from ..speed import efficiency
from ..tensors import build_tensors
from ..moe_batch import touched_share
from ..vllm import _formats, kv_bytes_per_token, sequence_kv_bytes, tensor_bytes
from ..vllm_weights import tp_whole
from .moe_step import (expert_flops_per_token, expert_kernels_seconds, expert_mma_share, fused_moe_gemm_flops,
                       gpu_family, moe_activation_bytes, moe_fixed_seconds, moe_padding_flops)


# --enforce-eager frees the CUDA graphs' memory (estimate/vllm.py) and launches every kernel of a step from the host:
# step_seconds(eager=True) takes the longer of the graph step and the host's launches (eager_host_seconds,
# the kernel count times a host time per launch fitted on two published eager runs, data/serving.yaml
# eager_decode_runs). The host's speed varies by machine and release (the two runs: 52 and 80 us a kernel).
EAGER_CAVEAT = ("--enforce-eager: each decode step launches its kernels from the host, priced at 64 us a kernel "
                "(two published eager runs, 52-80 us: the host's CPU and vLLM release move it; docs/methodology.md 6c)")


@lru_cache(maxsize=1)
def serving_data() -> dict:
    return load("serving")


@lru_cache(maxsize=256)
def step_parts(model: Model, quant: Quant, tp: int) -> tuple[int, int, int]:
    """(dense bytes per GPU, expert bytes per GPU, matmul FLOPs per token per GPU) in a vLLM weight format. Every
    matrix is split over the tp ranks except those vLLM replicates (vllm_weights.tp_whole, the memory side's rule too:
    each rank reads and multiplies the whole of them; split like the rest before session 29, serve31, which gave
    DeepSeek-R1 at TP 8 1/8 of its 0.92 G replicated q_a / kv_a parameters)."""
    fmt = _formats()[quant.name]
    dense = experts = flops = 0
    whole_bytes = whole_flops = 0
    share = model.moe.active / model.moe.experts if model.moe else 1.0
    for t in build_tensors(model):
        b = tensor_bytes(t, fmt)
        if t.name == "token_embd.weight":
            if model.tied_embeddings:  # the same matrix is the LM head: read and multiplied every step
                dense += b
                flops += 2 * t.n_elements
            continue
        if "_exps" in t.name:
            experts += b
            flops += int(2 * t.n_elements * share)
        elif tp > 1 and tp_whole(t):
            whole_bytes += b
            whole_flops += 2 * t.n_elements
        else:
            dense += b
            flops += 2 * t.n_elements if t.n_dims >= 2 else 0
    return dense // tp + whole_bytes, experts // tp, flops // tp + whole_flops


@lru_cache(maxsize=256)
def lm_head_flops(model: Model, tp: int) -> int:
    """FLOPs per GPU of one row of logits: the LM head (output.weight, or the tied token_embd) is vocab x hidden,
    split over the tensor-parallel ranks (vLLM's ParallelLMHead)."""
    name = "token_embd.weight" if model.tied_embeddings else "output.weight"
    return sum(2 * t.n_elements for t in build_tensors(model) if t.name == name) // tp


@lru_cache(maxsize=1024)
def _attention_terms(model: Model) -> tuple[float, tuple[tuple[int, float], ...]]:
    """(FLOPs per attended token summed over the layers that attend to every cached token; per sliding window, the
    same sum over the layers that attend only to their window), per layer as speed_work._attention_flops counts it
    for llama.cpp: a recurrent layer (Gated DeltaNet, Mamba-2) or a feed-forward-only one attends to no cached token,
    and a sliding-window layer to at most its window. vLLM's attention backends skip the KV tiles outside the window
    (FlashAttention's local attention; the Triton unified kernel since vllm PR #24390, 2025-09, whose description
    says gpt-oss "was spending equal amount of time between global and local attention" before it), and its KV
    groups keep only the window (vllm_groups.py)."""
    from ..memory_kv import uses_window
    from ..speed_work import _attention_flops

    full, windows = 0.0, {}
    for i in range(model.n_layers):
        per_token = float(_attention_flops(model, i, 1))
        if not per_token:
            continue
        if uses_window(model, i):
            windows[model.sliding_window] = windows.get(model.sliding_window, 0.0) + per_token
        else:
            full += per_token
    return full, tuple(sorted(windows.items()))


def prompt_attention_flops(model: Model, tp: int, depth: float) -> float:
    """attention_flops of a prompt token: vLLM's MLA backends run a prompt chunk as ordinary multi-head attention over
    the up-projected latent (v1/attention/backends/mla/common.py, the module docstring's "compute friendly approach"
    and _forward_prefill: QK head dim qk_nope + qk_rope, 128 + 64, V head dim v_head_dim, 128), and only decode runs
    the MQA over the kv_lora_rank + rope latent that attention_flops counts; so a prompt token of an MLA model costs
    2 x heads x (qk_nope + qk_rope + v_head) FLOPs per cached token and layer, 640 for DeepSeek-V3 / R1 against the
    latent's 4 x (512 + 64) = 2,304. The cached context's up-projection (kv_b_proj over the context once per chunk,
    ~5 % of it at 8,192-token chunks) is not counted. DeepSeek sparse attention (model.dsa) runs its own sparse kernel
    for prompts too (dsa_attention_flops). Every other model: attention_flops."""
    flops = attention_flops(model, tp, depth)
    m = model.mla
    if m is None or getattr(model, "dsa", None) is not None:
        return flops
    return flops * 2 * (m.qk_nope_head_dim + m.qk_rope_head_dim + m.v_head_dim) / (4 * (m.kv_lora_rank
                                                                                         + m.qk_rope_head_dim))


def attention_tensor_flops(machine: Machine, quant: Quant, kv_dtype_bytes: int = 2) -> float:
    """Tensor FLOPS vLLM's attention kernels compute at (before the step's achieved share): the 16-bit rate whatever
    the weights' format, since the activations, the query and a 16-bit KV cache are BF16 / FP16 and vLLM's
    FlashAttention and FlashInfer backends take those (v1/attention/backends/flash_attn.py supported_dtypes float16 /
    bfloat16; an FP8 weight format quantizes only the GEMMs' inputs). With an FP8 KV cache on compute capability 9.x,
    FlashAttention 3 computes in FP8 ("When using the Flash Attention 3 backend with FP8 KV cache, attention operations
    are also performed in the quantized (FP8) domain. In this configuration, queries are quantized to FP8", vLLM docs,
    Quantized KV Cache): the part's FP8 rate with fp8_gemm_gain. Before session 29 (serve31) every attention FLOP of an
    FP8 model ran at the FP8 GEMM rate (matmul_flops)."""
    dev = machine.devices[0]
    if kv_dtype_bytes == 1 and cuda_major(machine) == 9:
        fp8 = _profile_raw(machine).get("fp8_tflops")
        if fp8:
            return float(fp8) * 1e12 * fp8_gemm_gain(machine)
    return float(dev.fp16_flops or 0.0)


def moe_norm_seconds(model: Model, machine: Machine, tokens: float) -> float:
    """Per step, per GPU: the two fused residual-add RMSNorms of every MoE layer, over every token of the step.
    vLLM's fused_add_rms_norm (csrc/layernorm_kernels.cu) reads the input and the residual, writes the sum back to
    the residual and the normed input over the input: 4 x 2 bytes an element (its second pass re-reads the token's
    residual row it has just written, which a block of one token keeps on chip), data/serving.yaml
    add_rms_norm_bytes_per_element, at the part's streaming bandwidth. The hidden state is whole on every GPU under
    tensor parallelism, so the norms do not shrink with TP. A dense layer's norms ride in the all-in share its GEMMs are
    priced at (llama.cpp's prefill all in, matmuls and the per-token rest); a MoE layer's feed-forward is priced from
    the fused-MoE kernels' own rates (moe_step.expert_kernels_seconds), which carry none. 0 for a dense model."""
    if model.moe is None or tokens <= 0:
        return 0.0
    from .moe_step import moe_layers

    dev = machine.devices[0]
    bw = efficiency(dev.backend).bandwidth * dev.bandwidth_bytes_per_s
    per_element = float(serving_data()["vllm"]["add_rms_norm_bytes_per_element"])
    return tokens * 2 * per_element * model.hidden_size * moe_layers(model) / bw


def attention_flops(model: Model, tp: int, depth: float) -> float:
    """QK^T and PV of one token attending to `depth` cached tokens, per GPU, over the layers that attend (MLA: the
    latent width): a full-attention layer over all `depth` tokens, a sliding-window layer over min(depth, window), a
    recurrent or feed-forward-only layer of a hybrid over none (_attention_terms). Every layer at `depth` before
    session 20: 4x the attention of Qwen3.5 (1 layer in 4 attends), 2x gpt-oss's at long prompts (half its layers
    slide over 128 tokens)."""
    full, windows = _attention_terms(model)
    return (full * depth + sum(c * min(depth, w) for w, c in windows)) / tp


@lru_cache(maxsize=4096)
def kv_read_bytes(model: Model, tp: int, depth: int, dtype_bytes: int = 2) -> int:
    """KV bytes one sequence at `depth` tokens reads per step, per GPU (sliding-window layers only their window)."""
    return sequence_kv_bytes(model, tp, max(1, depth), dtype_bytes) if depth > 0 else 0


@lru_cache(maxsize=1024)
def state_write_bytes(model: Model, tp: int) -> int:
    """Bytes per GPU one decoding sequence writes back to its recurrent states each step (0 without recurrent layers).

    vLLM's recurrent kernels update each recurrent layer's state in place: Gated DeltaNet's decode kernel loads the
    state and stores the final one over it (fused_recurrent_gated_delta_rule, inplace_final_state), Mamba-2's
    selective_state_update likewise. kv_read_bytes counts the read (the state's pool page); this is the write, the
    whole state again: 24 Gated DeltaNet layers x 2 MiB (fp32 temporal state) = 48 MiB a sequence a step for Qwen3.5-9B
    at TP 1, as much as its KV at 100k tokens."""
    from ..vllm_hybrid import is_hybrid, state_page_bytes

    if not is_hybrid(model):
        return 0
    return sum(model.is_recurrent(i) for i in range(model.n_layers)) * state_page_bytes(model, tp)


def _profile_raw(machine: Machine) -> dict:
    dev = machine.devices[0]
    if not dev.matched_profile:
        return {}
    return _raw_of(dev.matched_profile)


@lru_cache(maxsize=256)
def _raw_of(profile_id: str) -> dict:
    """The profile's data row, a curated profile's or a spec-table row's (profile_by_id: the table's datacenter rows
    carry fp8_tflops and their NVLink where data/gpu_overrides.yaml sets them, B300 and H20; before session 23 only
    curated rows were read, so an 8x B300 ran its all-reduces over PCIe and its FP8 at the 16-bit rate), once per id: a
    step asks for it up to three times (matmul_flops, allreduce_seconds) and a serving curve takes thousands of steps."""
    from ...catalog.hardware import profile_by_id

    p = profile_by_id(profile_id)
    return p.raw if p is not None else {}


def _family(machine: Machine) -> str:
    """The profile's hardware family as data/speed.yaml hardware_families names it ('' when unmatched)."""
    return gpu_family(machine)


def mma_sync_share(machine: Machine, quant: Quant) -> float:
    """Share of the 16-bit tensor rate a W4A16 format's vLLM kernel reaches once it is compute-bound.

    Marlin (AWQ through awq_marlin, and GPTQ where Machete is not chosen) issues only warp-level mma.sync m16n8k16
    (vllm csrc/quantization/marlin/marlin_mma.h) and, per its README, stays near its ideal roofline: int4 bytes over
    bandwidth until the FP16 tensor rate binds (dequantization overlapped with the MMA; ~16-32 tokens). On families
    whose spec rate needs another instruction (Hopper: wgmma) mma.sync reaches data/speed.yaml mmq_tensor_share of it.
    GPTQ on compute capability 9.0 goes to Machete first (choose_mp_linear_kernel), which uses wgmma: full rate."""
    if quant.name not in serving_data()["vllm"].get("mma_sync_formats", ()):
        return 1.0
    share = load("speed").get("mmq_tensor_share", {}).get(_family(machine))
    return float(share["share"]) if share else 1.0


def fp8_gemm_gain(machine: Machine) -> float:
    """Share of the spec FP8 rate an FP8 GEMM reaches, relative to the share a 16-bit GEMM reaches on the same part:
    (achieved FP8 / spec FP8) / (achieved BF16 / spec BF16), from the family's measured maximum achievable matmul
    rates (data/serving.yaml gemm_achieved_tflops; H100 SXM: 1402.6 / 1979 over 794.5 / 989 = 0.882, so an FP8 GEMM
    runs 1.77x a BF16 one, not the spec's 2x). 1.0 for families without both measurements."""
    row = serving_data()["vllm"].get("gemm_achieved_tflops", {}).get(_family(machine))
    if not row or not row.get("fp8"):
        return 1.0
    return (float(row["fp8"]) / float(row["fp8_spec"])) / (float(row["bf16"]) / float(row["bf16_spec"]))


def matmul_flops(machine: Machine, quant: Quant, spec: bool = False) -> float:
    """Dense tensor FLOPS the format's GEMMs run at: FP8 W8A8 on parts with FP8 tensor cores at the FP8 rate
    (vLLM's cutlass scaled_mm) times the share of it an FP8 GEMM reaches against a 16-bit one (fp8_gemm_gain),
    everything else (BF16, W4A16 Marlin/Machete kernels) at the 16-bit rate, times the share an mma.sync-only kernel
    reaches on the part (mma_sync_share). spec: the format's spec rate, without the FP8 gain (a hard floor's rate)."""
    dev = machine.devices[0]
    if quant.name == "FP8":
        fp8 = _profile_raw(machine).get("fp8_tflops")
        if fp8:
            return float(fp8) * 1e12 * (1.0 if spec else fp8_gemm_gain(machine))
    return float(dev.fp16_flops or 0.0) * mma_sync_share(machine, quant)


def _link(machine: Machine) -> str:
    text = (machine.interconnect or "").lower()
    # NVLink / NVSwitch / AMD Infinity Fabric: a GPU-to-GPU fabric; anything else goes over PCIe
    return "nvlink" if any(w in text for w in ("nvlink", "nvswitch", "infinity")) else "pcie"


@lru_cache(maxsize=None)
def _allreduce_points(tp: int) -> tuple[tuple[float, float], ...]:
    """The published (size, microseconds) points of vLLM's custom all-reduce for `tp` GPUs (data/serving.yaml
    custom_allreduce_us: the least count listed at or above it, else the largest), made non-decreasing in size; once
    per count (every TP step of a serving curve asks; serving_data is read once per process)."""
    rows = serving_data()["vllm"]["custom_allreduce_us"]
    key = min((int(k) for k in rows if int(k) >= tp), default=max(int(k) for k in rows))
    level, mono = 0.0, []
    for x, y in rows[key] if key in rows else rows[str(key)]:  # made non-decreasing in size
        level = max(level, float(y))
        mono.append((float(x), level))
    return tuple(mono)


def _custom_allreduce_us(tp: int, elements: float) -> float:
    """vLLM's custom all-reduce, microseconds, from its published per-size table (data/serving.yaml)."""
    mono = _allreduce_points(tp)
    if elements <= mono[0][0]:
        return mono[0][1]
    for (x0, y0), (x1, y1) in zip(mono, mono[1:]):
        if elements <= x1:
            return y0 + (y1 - y0) * (elements - x0) / (x1 - x0)
    (x0, y0), (x1, y1) = mono[-2], mono[-1]
    return y1 + (y1 - y0) / (x1 - x0) * (elements - x1)


def allreduce_seconds(model: Model, machine: Machine, tp: int, tokens: float, release: str = "") -> float:
    """Two all-reduces per layer per step (after attention and after the MLP; three in a Gemma 4 MoE layer,
    tp_parallel_ffn_layers) of tokens x hidden 16-bit values.

    NVLink: vLLM's custom all-reduce (published per-size latencies) up to its 8 MiB limit; above it NCCL, a fixed
    latency plus the ring's 2 (tp-1)/tp share of the message over the link, never below the custom kernel's figure at
    the limit (so the time never falls as messages grow). PCIe: NCCL. release: the vLLM release ('' = the registry's
    current one), which sets how many q/k-norm collectives a tp_qk_norm layer runs (tp_qk_norm_collectives)."""
    if tp <= 1:
        return 0.0
    c = serving_data()["vllm"]
    link = _link(machine)
    gbps = float(c["pcie_gbps"])
    raw = _profile_raw(machine)
    if link == "nvlink" and raw.get("interconnect_gbps"):
        gbps = float(raw["interconnect_gbps"]) / 2  # NVLink figures are both directions summed
    message = tokens * model.hidden_size * 2
    nccl = float(c["allreduce_latency_us"][link]) * 1e-6 + 2 * (tp - 1) / tp * message / (gbps * 1e9)
    one = nccl
    if link == "nvlink" and c.get("custom_allreduce_us"):
        limit = float(c["custom_allreduce_max_bytes"])
        custom = _custom_allreduce_us(tp, min(message, limit) / 2) * 1e-6
        one = custom if message <= limit else max(custom, nccl)
    return (residual_blocks(model) + tp_parallel_ffn_layers(model, tp)) * one + tp_qk_norm_seconds(model, machine,
                                                                                                 tp, tokens, release)


def tp_parallel_ffn_layers(model: Model, tp: int) -> int:
    """MoE layers whose feed-forward block all-reduces twice under tensor parallelism (data/serving.yaml
    kernel_counts.tp_parallel_ffn: Gemma 4's dense MLP beside its experts, vllm models/gemma4.py: the MLP's
    down_proj is a RowParallelLinear that reduces its own output and the FusedMoE is built with reduce_results=True,
    so the block reduces the MLP and the experts apart before adding them); 0 at TP 1."""
    if not _listed_under_tp(model, tp, "tp_parallel_ffn"):
        return 0
    from .moe_step import moe_layers

    return moe_layers(model)


def tp_qk_norm_layers(model: Model, tp: int) -> int:
    """Layers whose attention block all-reduces its q/k norm variances under tensor parallelism (data/serving.yaml
    kernel_counts.tp_qk_norm: MiniMax-M2's MiniMaxText01RMSNormTP over the full width); 0 at TP 1."""
    return model.n_layers if _listed_under_tp(model, tp, "tp_qk_norm") else 0


def _listed_under_tp(model: Model, tp: int, key: str) -> bool:
    """Whether the step runs tensor-parallel and the model's arch is in data/serving.yaml kernel_counts[key] (the
    arches whose layers add a collective under TP: tp_qk_norm, tp_parallel_ffn)."""
    return tp > 1 and model.arch in serving_data()["vllm"]["kernel_counts"].get(key, ())


@lru_cache(maxsize=64)
def tp_qk_norm_collectives(release: str = "") -> int:
    """Variance all-reduces a tp_qk_norm layer runs under tensor parallelism in this vLLM release ('' = the registry's
    current one): 2 before data/serving.yaml kernel_counts.tp_qk_norm_apart_before (vllm PR #31493, first in 0.14.0:
    until then q_norm and k_norm were two MiniMaxText01RMSNormTP calls, each variance -> all-reduce -> normalise),
    1 from it (forward_qk concatenates the q and k variances and all-reduces them once)."""
    from ..vllm import engine_version
    from ..vllm_graphs import version_tuple

    before = serving_data()["vllm"]["kernel_counts"].get("tp_qk_norm_apart_before")
    if before and version_tuple(release or engine_version()) < version_tuple(str(before)):
        return 2
    return 1


def chat_render_on_loop(release: str = "") -> bool:
    """Whether this vLLM release ('' = the registry's current one) renders a chat request's template on the API
    server's event loop itself, with the request's first real suspension after the render (the tokenizer call in a
    thread: serving_engine.py `_tokenize_prompt_input_async`, make_async over a one-worker ThreadPoolExecutor, or the
    AsyncMicrobatchTokenizer's queue). asyncio runs every callback that is ready at the start of a loop turn before
    any that became ready during it, so when a burst's requests arrive together their renders run back to back, and
    each one's continuation (its tokens, process_inputs, the hand-off to the engine core) waits behind all of them:
    the engine sees the burst only after the whole intake, not one intake apart. data/serving.yaml
    chat_render_on_loop_before: vllm PR #34789 moved the render into the renderer's thread pool (one worker), after
    which the renders run one after another off the loop and each request reaches the engine as its own ends."""
    from ..vllm import engine_version
    from ..vllm_graphs import version_tuple

    before = serving_data()["vllm"].get("chat_render_on_loop_before")
    return bool(before) and version_tuple(release or engine_version()) < version_tuple(str(before))


def tp_qk_norm_seconds(model: Model, machine: Machine, tp: int, tokens: float, release: str = "") -> float:
    """Per step: each such layer's variance all-reduces (2 fp32 values a token: 4 16-bit elements, at vLLM's custom
    all-reduce latency over NVLink, NCCL's fixed latency over PCIe) and the normalise kernel each collective splits
    from its variance kernel (the fitted time a kernel, kernels.kernel_us); one collective a layer in current vLLM,
    two before 0.14.0 (tp_qk_norm_collectives)."""
    layers = tp_qk_norm_layers(model, tp)
    if not layers:
        return 0.0
    layers *= tp_qk_norm_collectives(release)
    from .kernels import kernel_us

    c = serving_data()["vllm"]
    if _link(machine) == "nvlink" and c.get("custom_allreduce_us"):
        collective = _custom_allreduce_us(tp, 4.0 * tokens) * 1e-6
    else:
        collective = float(c["allreduce_latency_us"][_link(machine)]) * 1e-6
    return layers * (collective + kernel_us() * 1e-6)


@lru_cache(maxsize=1024)
def residual_blocks(model: Model) -> int:
    """Residual blocks a step runs: each ends in one row-parallel projection whose output is all-reduced, and each is
    one norm, one mixer and one residual add of kernels. A transformer layer has two (attention, then the MLP or MoE);
    a Nemotron-H layer has one, Mamba-2 or attention or MLP or MoE (vllm/model_executor/models/nemotron_h.py: each
    NemotronH*DecoderLayer is norm -> mixer; the MoE's shared expert is built with reduce_results=False and the fused
    experts reduce once for both). A DeciLM layer (Nemotron Super / Ultra) runs only the blocks it has: vLLM's
    nemotron_nas.py DeciLMDecoderLayer skips a no-op attention (and its norm) and a no-op FFN. Cached per model: each
    step asks twice (overhead_seconds, allreduce_seconds), ~1% of the suite's CPU time in its two imports."""
    from ..arch_traits import SINGLE_KIND_ARCHS
    from ..deci import DECI_ARCHS

    if model.arch in SINGLE_KIND_ARCHS:
        return model.n_layers
    if model.arch in DECI_ARCHS:
        return sum((model.layer_kind(i) in "*L") + (model.layer_intermediate_size(i) > 0)
                   for i in range(model.n_layers))
    return 2 * model.n_layers


@lru_cache(maxsize=256)
def step_kernels(model: Model, tp: int, release: str = "") -> int:
    """Kernels one decode step launches per GPU, as the graph step counts them: kernel_counts.llama_layer for every two
    residual blocks (residual_blocks), the attention and MoE blocks' surplus (extra_kernels, moe_extra_kernels),
    each MoE layer's fused_moe call (data/serving.yaml fused_moe_kernels) and, under tensor parallelism, one
    all-reduce a residual block (two in a Gemma 4 MoE block: tp_parallel_ffn_layers), and a tp_qk_norm layer's
    collectives with their normalise kernels (two of each before vLLM 0.14.0: `release`). The step's few kernels outside
    the layers (embedding, final norm, LM head, sampler) are left out here and in the fit alike (eager_kernel_us
    divides by this count)."""
    from .kernels import extra_kernels, kernel_counts, moe_extra_kernels
    from .moe_step import moe_layers

    c = kernel_counts()
    blocks = residual_blocks(model)
    n = blocks * int(c["llama_layer"]) // 2 + extra_kernels(model) + moe_extra_kernels(model)
    n += moe_layers(model) * int(serving_data()["vllm"]["fused_moe_kernels"])
    qk = tp_qk_norm_layers(model, tp)
    return (n + (blocks if tp > 1 else 0) + tp_parallel_ffn_layers(model, tp)
            + (2 * qk * tp_qk_norm_collectives(release) if qk else 0))


def eager_run_kernel_us() -> list[tuple[str, float]]:
    """(source, host microseconds per kernel) of each published eager run (data/serving.yaml eager_decode_runs): its
    time per output token over its decode step's kernels (step_kernels)."""
    from ...catalog.models import get

    out = []
    for row in serving_data()["vllm"]["eager_decode_runs"]["rows"]:
        kernels = step_kernels(get(row["model"]), int(row["tp"]))
        out.append((str(row["source"]), float(row["tpot_ms"]) * 1e3 / kernels))
    return out


@lru_cache(maxsize=1)
def eager_kernel_us() -> float:
    """Host time per kernel launch of an eager vLLM step: the geometric mean of eager_run_kernel_us() (64.4 us on the
    two runs stored in session 22: 51.6 and 80.4)."""
    import math

    xs = [x for _, x in eager_run_kernel_us()]
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def eager_host_seconds(model: Model, tp: int, release: str = "") -> float:
    """Per step under --enforce-eager: the host's launches, step_kernels x eager_kernel_us. Without CUDA graphs each
    kernel of a step is launched from Python (module call, custom-op dispatch, cudaLaunchKernel) one after the other
    while the GPU runs the previous ones, so a step takes whichever is longer, this or the GPU's own time
    (step_seconds eager=)."""
    return step_kernels(model, tp, release) * eager_kernel_us() * 1e-6


def overhead_seconds(model: Model, batch: float) -> float:
    """Per step: the engine's own work per layer it launches kernels for (fitted on published single-stream runs,
    scripts/fit_serving.py, of Llama layers: two residual blocks each), counted per residual block (half a fitted
    layer; residual_blocks), the kernels an attention block other than Llama's launches beyond it (kernels.py: MLA,
    the DSA indexer), and a cost per sequence (scheduler and sampler work per request)."""
    from .kernels import extra_kernel_seconds

    c = serving_data()["vllm"]
    return (residual_blocks(model) / 2.0 * float(c["layer_overhead_us"]) * 1e-6 + extra_kernel_seconds(model)
            + float(c["per_sequence_us"]) * 1e-6 * batch)


def logits_rows(batch: float, prefill_tokens: float, prefill_seqs: float | None = None) -> float:
    """Rows of logits one step computes: vLLM runs the LM head only at each scheduled request's last token
    (vllm/v1/worker/gpu_model_runner.py: sample_hidden_states = hidden_states[logits_indices], logits_indices =
    query_start_loc[1:] - 1, then compute_logits), so a decoding sequence costs one row and a prompt chunk one row
    whatever its length (a partial prefill's row is computed and discarded). prefill_seqs: the requests with a prompt
    chunk in the step; one when not given and a chunk runs."""
    if prefill_tokens <= 0:
        return batch
    return batch + (max(1.0, prefill_seqs) if prefill_seqs is not None else 1.0)


def _parts_seconds(model: Model, quant: Quant, machine: Machine, tp: int, batch: float, depth: float,
                   prefill_tokens: float, prefill_depth: float, kv_dtype_bytes: int,
                   prefill_seqs: float | None = None, release: str = "") -> tuple[float, float]:
    """(linear layers, attention) seconds of one step, each its own roofline: the weight GEMMs and the attention
    kernels run one after the other in the step's single CUDA stream (vLLM's decoder layer: qkv_proj, attention,
    o_proj, MLP), so a step whose GEMMs are compute-bound still waits for attention's KV reads, and the reverse.
    Matmul FLOPs: every scheduled token through the layers, the LM head only for logits_rows(). release: the vLLM
    release, which picks the MoE kernel (moe_step.moe_kernel: gpt-oss's experts on Hopper ran Marlin before 0.11.1)."""
    dev = machine.devices[0]
    eff = efficiency(dev.backend)
    bw = eff.bandwidth * dev.bandwidth_bytes_per_s
    # llama.cpp's 16-bit prefill reaches this share of FLOPS all in (matmuls and the per-token rest); vLLM borrows it
    fl = eff.prefill_f16_all_in * matmul_flops(machine, quant)
    dense, experts, flops = step_parts(model, quant, tp)
    tokens = batch + prefill_tokens
    lm = lm_head_flops(model, tp)
    work = tokens * (flops - lm) + logits_rows(batch, prefill_tokens, prefill_seqs) * lm
    if model.moe is None:
        linear = max(dense / bw, work / fl)
    else:  # the dense GEMMs and each fused-MoE kernel run one after the other: a roofline each
        routed = tokens * expert_flops_per_token(model, tp)
        expert_work = routed + moe_padding_flops(model, quant, machine, tp, tokens, release)  # padded tiles
        linear = (max(dense / bw, (work - routed) / fl)
                  + expert_kernels_seconds(model, quant, machine, tp, tokens, experts * _touched(model, tokens),
                                           expert_work, bw, fl * expert_mma_share(machine, quant, release),
                                           _grouped_gemm_flops(model, quant, machine, tp, release), release)
                  + moe_norm_seconds(model, machine, tokens))
    kv = batch * (kv_read_bytes(model, tp, int(depth), kv_dtype_bytes) + state_write_bytes(model, tp))
    at = ((batch, depth), (prefill_tokens, prefill_depth))
    sparse = [dsa_attention_flops(model, machine, tp, at_depth) for _, at_depth in at]
    if sparse[0] is None:
        attn_work = (batch * attention_flops(model, tp, depth)
                     + prefill_tokens * prompt_attention_flops(model, tp, prefill_depth))
        fla = eff.prefill_f16_all_in * attention_tensor_flops(machine, quant, kv_dtype_bytes)
        return linear, max(kv / bw, attn_work / fla)
    # DeepSeek sparse attention: every token of the step, decoding or prompt, runs FlashMLA's sparse kernel (a BF16
    # one, dsa_attention_flops) and the indexer's FP8 logits (the format's rate here)
    fl16 = eff.prefill_f16_all_in * float(dev.fp16_flops or 0.0)
    seconds = 0.0
    for (tokens_at, _), flops in zip(at, sparse):
        if tokens_at > 0 and flops is not None:
            attention, logits = flops
            seconds += tokens_at * (attention / fl16 + logits / fl)
    return linear, max(kv / bw, seconds)


def dsa_attention_flops(model: Model, machine: Machine, tp: int, depth: float) -> tuple[float, float] | None:
    """(sparse attention FLOPs, indexer logits FLOPs) per token per GPU, prompt or decoding, of a DeepSeek-sparse-
    attention model (DeepSeek-V3.2, GLM-5.x: model.dsa) in vLLM at `depth` cached tokens; None for any other model.

    Read in vllm v1/attention/backends/mla/flashmla_sparse.py (FlashMLASparseImpl, stored copies 2026-12-06): the sparse
    FlashMLA kernels "use MQA 576/512 approach for both prefill and decode" (the query absorbed into the kv_lora_rank
    latent: QK over kv_lora_rank + qk_rope_head_dim, PV over kv_lora_rank), and the kernel "requires num_local_head to
    be a multiple of 64 on hopper and 128 on blackwell": the query is padded with empty heads up to 64 (128 on
    Blackwell), so at TP 8 DeepSeek's 16 heads a GPU compute as 64. FlashMLA's sparse prefill kernel
    (csrc/sm90/prefill/sparse/fwd.cu: B_H = 64, num_topk_blocks = topk / B_TOPK) walks all index_topk candidates of
    every query, masking the invalid ones, so a prompt token costs 2 x padded heads x index_topk x (2 kv_lora_rank +
    rope) in every layer, whatever its depth: 285 MFLOP a layer for DeepSeek-V3.2 at TP 8 on Hopper, where the dense
    form at 1,024 tokens of depth is 38. BF16 (an FP8 cache is gathered and up-converted to BF16 first). The
    lightning indexer is replicated on every GPU ("no tensor parallel, just replicated", vllm models/deepseek_v2.py
    Indexer): its FP8 MQA logits are 2 x index_n_heads x index_head_dim FLOPs a cached token, in the layers that own
    an indexer (GLM-5.2's shared layers reuse the previous top-k). Decoding tokens pay the same: with a BF16 cache
    _forward_bf16_kv sends every token of the step through flash_mla_sparse_prefill, and the FP8 cache's sparse
    decode kernel is built for 64 or 128 heads only (FlashMLA csrc/sm90/decode/sparse_fp8/config.h: static_assert
    NUM_HEADS == 64 || NUM_HEADS == 128, BLOCK_M 64) over the index_topk candidates the indexer hands it."""
    dsa = getattr(model, "dsa", None)
    if dsa is None or model.mla is None:
        return None
    pad = dsa_head_padding(machine)
    heads = -(-model.n_heads // tp)
    heads = -(-heads // pad) * pad
    m = model.mla
    attention = 2.0 * heads * dsa.index_topk * (2 * m.kv_lora_rank + m.qk_rope_head_dim) * model.n_layers
    owners = sum(dsa.has_indexer(i, model.n_layers) for i in range(model.n_layers))
    logits = 2.0 * dsa.index_n_heads * dsa.index_head_dim * depth * owners
    return attention, logits


# compute capability major by GPU architecture (data/gpu_specs.yaml `architecture`) and by curated family, for the
# parts cuda_path.compute_capability leaves out (Ampere and later; it reads NVML's figure and Pascal..Turing): Ampere /
# Ada 8, Hopper sm_90; datacenter Blackwell sm_100 / sm_103 (B200, B300, GB200); Blackwell 2.0 (GeForce RTX 50, RTX
# PRO 6000) sm_120 and GB10 (DGX Spark) sm_121; Jetson Thor (chip GB10B) sm_110
_CC_MAJOR_BY_ARCH = {"ampere": 8, "ada lovelace": 8, "hopper": 9, "blackwell": 10, "blackwell ultra": 10,
                     "blackwell 2.0": 12}
_CC_MAJOR_BY_FAMILY = {"nvidia-turing": 7, "nvidia-a100": 8, "nvidia-rtx-30": 8, "nvidia-rtx-40": 8, "nvidia-h100": 9,
                       "nvidia-b200": 10, "nvidia-rtx-50": 12, "nvidia-gb10": 12}


def cuda_major(machine: Machine) -> int | None:
    """The first GPU's CUDA compute capability major: cuda_path.compute_capability's (what the probe read from NVML,
    else Pascal..Turing by the spec-table row's architecture), else a later architecture's (the spec-table row's
    `architecture`, then the curated profile's family); None for other vendors or unknown parts."""
    from ..cuda_path import compute_capability

    dev = machine.devices[0]
    if dev.vendor != "nvidia":
        return None
    cc = compute_capability(dev)
    if cc is not None:
        return int(cc)
    from ...catalog.hardware import profile_by_id

    p = profile_by_id(dev.matched_profile) if dev.matched_profile else None  # curated or spec-table row
    raw = p.raw if p is not None else {}
    if str(raw.get("chip") or "").startswith("GB10B"):
        return 11
    arch = str(raw.get("architecture") or "").lower()
    return _CC_MAJOR_BY_ARCH.get(arch) or _CC_MAJOR_BY_FAMILY.get(_family(machine))


def dsa_head_padding(machine: Machine) -> int:
    """Heads a GPU's query is padded to in vLLM's sparse FlashMLA kernels, by the kernel's own rule
    (v1/attention/backends/mla/flashmla_sparse.py FlashMLASparseImpl: `prefill_padding = 128 if
    current_platform.is_device_capability_family(100) else 64`, "Prefill BF16 kernel requires 64 on Hopper, 128 on
    Blackwell"; FlashMLA's kernels are built for compute capability 9.x and 10.x): 128 on every sm_10x part (B200,
    B300, GB200), 64 on every sm_90 one (H100, H200, H20, GH200), whatever profile names it; 1 (no padding) elsewhere
    (the backend's later sm_12x path runs portable Triton kernels whose padding is not read here). Keyed on a family
    string before session 23, which left the spec table's B300 and H20 unpadded."""
    major = cuda_major(machine)
    return 128 if major == 10 else 64 if major == 9 else 1


@lru_cache(maxsize=1024)
def _grouped_gemm_flops(model: Model, quant: Quant, machine: Machine, tp: int,
                        release: str = "") -> tuple[float, float] | None:
    """The fused-MoE GEMMs' own rates (moe_step.fused_moe_gemm_flops) from the format's tensor rate, each tile's fixed
    part at the part's 16-bit rate (moe_step.tile_law_flops); once per configuration (a serving curve asks every
    step)."""
    peak16 = float(machine.devices[0].fp16_flops or 0.0) or None
    return fused_moe_gemm_flops(model, quant, machine, tp, matmul_flops(machine, quant), peak16, release)


def step_seconds(model: Model, quant: Quant, machine: Machine, tp: int, batch: float, depth: float,
                 prefill_tokens: float = 0.0, prefill_depth: float = 0.0, kv_dtype_bytes: int = 2,
                 prefill_seqs: float | None = None, eager: bool = False, release: str = "") -> float:
    """One step: `batch` sequences decoding at average `depth` cached tokens, plus a chunk of `prefill_tokens` prompt
    tokens of `prefill_seqs` requests (one when not given) attending on average to `prefill_depth` tokens. eager:
    --enforce-eager, no CUDA graphs: the host launches the step's kernels one by one while the GPU runs them, so the
    step is the longer of the graph step and the launches (eager_host_seconds). release: the vLLM release whose
    kernels the step launches ('' = the registry's current one; tp_qk_norm_collectives)."""
    linear, attention = _parts_seconds(model, quant, machine, tp, batch, depth, prefill_tokens, prefill_depth,
                                       kv_dtype_bytes, prefill_seqs, release)
    tokens = batch + prefill_tokens
    graph = (linear + attention + overhead_seconds(model, batch) + moe_fixed_seconds(model)
             + allreduce_seconds(model, machine, tp, tokens, release))
    if not eager:
        return graph
    return max(graph, eager_host_seconds(model, tp, release))


def _expert_bytes(model: Model, quant: Quant, machine: Machine, tp: int, tokens: float, experts: float,
                  release: str = "") -> float:
    """Bytes per GPU the routed experts' kernels move in a step of `tokens`: the touched experts' weights (`experts`:
    all of them, step_parts) and the fused-MoE kernels' intermediate caches (moe_step.moe_activation_bytes); 0 for a
    dense model. One function for the step's roofline (_parts_seconds) and compute_bound's byte side, which must agree."""
    return experts * _touched(model, tokens) + moe_activation_bytes(model, quant, machine, tp, tokens, release)


def _touched(model: Model, tokens: float) -> float:
    """Share of an MoE layer's experts a step of `tokens` tokens routes to (moe_batch.touched_share, the one formula
    llama.cpp's micro-batch floor uses too); 1.0 for a dense model."""
    return 1.0 if model.moe is None else touched_share(tokens, model.moe.experts, model.moe.active)


def compute_bound(model: Model, quant: Quant, machine: Machine, tp: int, batch: float, depth: float,
                  kv_dtype_bytes: int = 2, release: str = "") -> bool:
    """Whether a pure decode step of `batch` sequences spends longer on FLOPs than on bytes (its weight GEMMs are
    compute-bound and take longer than the attention kernels' KV reads)."""
    dev = machine.devices[0]
    eff = efficiency(dev.backend)
    dense, experts, flops = step_parts(model, quant, tp)
    moved = dense + _expert_bytes(model, quant, machine, tp, batch, experts, release)
    w = moved / (eff.bandwidth * dev.bandwidth_bytes_per_s)
    linear, attention = _parts_seconds(model, quant, machine, tp, batch, depth, 0.0, 0.0, kv_dtype_bytes,
                                       release=release)
    return linear > w * (1 + 1e-9) and linear > attention


def prefill_tokens_per_s(model: Model, quant: Quant, machine: Machine, tp: int, depth: int) -> float:
    """Prompt tokens/s of one long prefill on its own (compute-bound)."""
    chunk = 2048.0
    return chunk / step_seconds(model, quant, machine, tp, 0, 0, chunk, depth)


def kv_token_bytes(model: Model, tp: int) -> int:
    return kv_bytes_per_token(model, tp)
