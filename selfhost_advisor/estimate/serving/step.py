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
The terms this module adds up live beside it: attention.py (attention FLOPs, KV and state bytes), rates.py (the part's
tensor rates), collectives.py (tensor-parallel all-reduces), moe_step.py and kernels.py.
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Model, Quant
from ..speed import efficiency
from ..tensors import build_tensors
from ..moe_batch import touched_share
from ..vllm import _formats, kv_bytes_per_token, tensor_bytes
from ..vllm_weights import tp_whole
from .attention import attention_flops, dsa_attention_flops, kv_read_bytes, prompt_attention_flops, state_write_bytes
from .borrowed import compute_share
from .collectives import (allreduce_seconds, residual_blocks, tp_parallel_ffn_layers, tp_qk_norm_collectives,
                          tp_qk_norm_layers)
from .moe_step import (expert_flops_per_token, expert_kernels_seconds, expert_mma_share, fused_moe_gemm_flops,
                       moe_activation_bytes, moe_fixed_seconds, moe_padding_flops)
from .rates import attention_tensor_flops, matmul_flops
from .router import fp32_router_flops, fp32_router_seconds


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


@lru_cache(maxsize=1)
def sync_host_us_per_request() -> float:
    """Host microseconds per scheduled request that a synchronous vLLM engine core spends between GPU steps: the
    geometric mean over data/serving.yaml sync_scheduling_runs of (median ITL without - with --async-scheduling) /
    the requests a step ran (19.2 us on gpustack's two A100 pairs, vLLM 0.11.0: 17.0 and 21.7)."""
    import math

    rows = serving_data()["vllm"]["sync_scheduling_runs"]["rows"]
    xs = [(float(r["itl_ms"]) - float(r["itl_async_ms"])) * 1e3 / float(r["running"]) for r in rows]
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def sync_host_seconds(requests: float, release: str = "") -> float:
    """Per step: the engine core's CPU work that a vLLM release before async scheduling's default ran between GPU
    steps, sync_host_us_per_request() x the requests the step schedules (0 from data/serving.yaml
    sync_scheduling_before, 0.14.0, PR #27614, and for '' = the registry's current release). Without async scheduling
    (vllm PR #19970) the engine core's busy loop schedules, prepares the inputs, launches the step, waits for the
    sampled tokens and updates every request before the next step starts, so that work adds to the GPU's time instead
    of hiding behind it. The calibration rows of layer_overhead_us ran releases with it on (0.21, 0.23), so the fitted
    step holds none of it."""
    if requests <= 0 or not _synchronous(release):
        return 0.0
    return sync_host_us_per_request() * 1e-6 * requests


@lru_cache(maxsize=64)
def _synchronous(release: str) -> bool:
    """Whether the release ('' = the registry's current one) predates data/serving.yaml sync_scheduling_before; once
    per release (every step asks)."""
    from ..vllm import engine_version
    from ..vllm_graphs import version_tuple

    before = serving_data()["vllm"].get("sync_scheduling_before")
    return bool(before) and version_tuple(release or engine_version()) < version_tuple(str(before))


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
    # (borrowed.compute_share: on an Intel GPU data/serving.yaml xpu_compute_share, fitted on a published vLLM run, not
    # the 1.0 the SYCL family's compute_efficiency_f16 holds because no share is fitted there)
    share = compute_share(machine)
    fl = share * matmul_flops(machine, quant)
    dense, experts, flops = step_parts(model, quant, tp)
    tokens = batch + prefill_tokens
    lm = lm_head_flops(model, tp)
    work = tokens * (flops - lm) + logits_rows(batch, prefill_tokens, prefill_seqs) * lm
    if model.moe is None:
        linear = max(dense / bw, work / fl)
    else:  # the dense GEMMs and each fused-MoE kernel run one after the other: a roofline each
        router = fp32_router_seconds(model, machine, tokens)
        if router:  # an FP32 gate leaves the dense GEMMs' tensor-rate roofline for its own (fp32_router_seconds)
            work -= tokens * fp32_router_flops(model)
        routed = tokens * expert_flops_per_token(model, tp)
        expert_work = routed + moe_padding_flops(model, quant, machine, tp, tokens, release)  # padded tiles
        linear = (max(dense / bw, (work - routed) / fl)
                  + expert_kernels_seconds(model, quant, machine, tp, tokens, experts * _touched(model, tokens),
                                           expert_work, bw, fl * expert_mma_share(machine, quant, release),
                                           _grouped_gemm_flops(model, quant, machine, tp, release), release)
                  + moe_norm_seconds(model, machine, tokens) + router)
    kv = batch * (kv_read_bytes(model, tp, int(depth), kv_dtype_bytes) + state_write_bytes(model, tp))
    at = ((batch, depth), (prefill_tokens, prefill_depth))
    sparse = [dsa_attention_flops(model, machine, tp, at_depth) for _, at_depth in at]
    if sparse[0] is None:
        attn_work = (batch * attention_flops(model, tp, depth)
                     + prefill_tokens * prompt_attention_flops(model, tp, prefill_depth))
        fla = share * attention_tensor_flops(machine, quant, kv_dtype_bytes)
        return linear, max(kv / bw, attn_work / fla)
    # DeepSeek sparse attention: every token of the step, decoding or prompt, runs FlashMLA's sparse kernel (a BF16
    # one, dsa_attention_flops) and the indexer's FP8 logits (the format's rate here)
    fl16 = share * float(dev.fp16_flops or 0.0)
    seconds = 0.0
    for (tokens_at, _), flops in zip(at, sparse):
        if tokens_at > 0 and flops is not None:
            attention, logits = flops
            seconds += tokens_at * (attention / fl16 + logits / fl)
    return linear, max(kv / bw, seconds)


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
    kernels the step launches ('' = the registry's current one; tp_qk_norm_collectives) and whose engine core may run
    between GPU steps (sync_host_seconds: releases before 0.14.0, per scheduled request)."""
    linear, attention = _parts_seconds(model, quant, machine, tp, batch, depth, prefill_tokens, prefill_depth,
                                       kv_dtype_bytes, prefill_seqs, release)
    tokens = batch + prefill_tokens
    graph = (linear + attention + overhead_seconds(model, batch) + moe_fixed_seconds(model)
             + allreduce_seconds(model, machine, tp, tokens, release)
             + sync_host_seconds(logits_rows(batch, prefill_tokens, prefill_seqs), release))
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
