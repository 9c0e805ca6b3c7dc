"""vLLM: weights in serving formats (BF16, FP8, AWQ/GPTQ int4), the paged KV pool, tensor parallelism.

Why apart from llama.cpp: vLLM takes a fixed share of every GPU (gpu_memory_utilization x the memory CUDA reports),
loads the weights sharded over the GPUs, profiles one forward pass of max_num_batched_tokens tokens plus the sampler
over max_num_seqs rows, and turns everything left into KV blocks shared by all sequences. It refuses to start when
one sequence of max_model_len does not fit, and it has no partial offload. Sources: vLLM v1/worker/gpu_worker.py
determine_available_memory (KV budget), v1/worker/gpu_model_runner.py profile_run / _dummy_sampler_run (activation
peak), v1/sample/ops/topk_topp_sampler.py (sampler tensors), engine/arg_utils.py get_batch_defaults (batch
defaults); the constants are in data/engines.yaml with their sources. Weights: vllm_weights.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from ..catalog.data import load
from ..domain import Device, FitRequest, Machine, MemoryBreakdown, Model, Placement, Quant
from ..errors import BadOptionError, NotSizedModelError
from ..limits import MAX_BATCHED_TOKENS, MAX_SEQS
from ..record import record
from . import vllm_graphs, vllm_groups, vllm_hybrid
from .cuda_path import compute_capability
from .memory import caches_kv, indexer_bytes_per_token_fp8, uses_window
from .vllm_mxfp4 import mxfp4_kernel
from .vllm_weights import (  # noqa: F401  (re-exported)
    VllmWeights, _formats, check_format, check_platform, get_vllm_quant, per_gpu_bytes, platform_refusal, tensor_bytes,
    bf16_fallback, capability_refusal, engine_version,
    vllm_quants, vllm_quants_for, vllm_weights,
)

__all__ = ["VllmPlan", "VllmWeights", "_formats", "activation_bytes", "batch_defaults", "cuda_total_bytes",
           "get_vllm_quant", "kv_bytes_per_token", "kv_pool_tokens", "mxfp4_kernel", "plan", "sampler_path", "sequence_kv_bytes",
           "tensor_bytes", "tensor_parallel_size", "vllm_quants", "vllm_weights"]

_SIXTEEN_BIT = 2  # bytes of a bf16/fp16 value
GIB = 2**30


def _engine() -> dict:
    return load("engines")["engines"]["vllm"]


def kv_dtype_bytes(kv_cache_type: str) -> int:
    """Bytes per cached K or V element: 'auto' (and f16/bf16, the model dtype) 2, 'fp8' 1 (vllm --kv-cache-dtype)."""
    return 1 if kv_cache_type.lower().startswith("fp8") else _SIXTEEN_BIT


def check_layers(model: Model) -> None:
    """Refuse a layer kind vLLM (or our model of it) does not size, as NotSizedModelError, so `models --fits
    --engine vllm` leaves the model out (Engine.runs) while fit / serve / cost say why (exit 2)."""
    if "L" in model.layer_pattern:
        # vllm/model_executor/models/nemotron_nas.py builds DeciLMAttention for every block that is not no_op, with
        # num_attention_heads // n_heads_in_group KV heads: a replace_with_linear block (n_heads_in_group null) fails
        raise NotSizedModelError(f"{model.id}: vLLM's DeciLM implementation has no linear-attention blocks "
                                 "(replace_with_linear)", "size it with --engine llamacpp (GGUF) instead")
    if model.dsa is not None and model.dsa.indexer_layers is not None and model.mla is None:
        # MiniMax-M3's MSA indexer keys beside a GQA cache: vLLM's cache for them is not read from its source yet
        # (GLM-5.2's shared indexers on MLA layers are sized: kv_bytes_per_token)
        raise NotSizedModelError(f"{model.id}: vLLM's cache for its indexer keys beside a GQA cache (MSA) is not "
                                 "modelled", "size it with --engine llamacpp (GGUF) instead")


def check_request(model: Model, request: FitRequest, n_gpus: int | None = None) -> None:
    """Refuse what vLLM itself refuses: a utilisation outside (0, 1], a KV type it has no kernel for, a TP size
    that does not divide the attention heads (vllm/config/parallel.py verify_with_model_config)."""
    check_layers(model)
    util = request.gpu_memory_utilization
    if util is not None and not 0 < util <= 1:
        raise BadOptionError(f"--gpu-memory-utilization {util:g} is outside (0, 1]",
                             "give the share of each GPU vLLM may use, e.g. 0.9")
    kv = request.kv_cache_type.lower()
    if kv not in ("f16", "bf16", "auto", "fp8", "fp8_e4m3", "fp8_e5m2"):
        raise BadOptionError(f"vLLM has no {kv} KV cache", "with --engine vllm use --kv-cache auto or fp8")

    for name, top in (("max_num_seqs", MAX_SEQS), ("max_num_batched_tokens", MAX_BATCHED_TOKENS)):
        v = getattr(request, name)
        if v is not None and not 1 <= v <= top:
            raise BadOptionError(f"--{name.replace('_', '-')} {v} is out of range", f"give 1 to {top} (docs/cli.md, Limits)")
    if request.nodes is not None and not 1 <= request.nodes <= 64:
        raise BadOptionError(f"--nodes {request.nodes} is not between 1 and 64", "give the number of boxes, e.g. --nodes 2")
    tp = request.tensor_parallel
    if tp is not None:
        if tp < 1:  # '--tp 0' said 'size 0 does not divide ... heads' (audit33b)
            raise BadOptionError(f"--tp {tp} is not a tensor parallel size (at least 1)",
                                 f"use one of: {', '.join(str(t) for t in range(1, 9) if model.n_heads % t == 0)}")
        if model.n_heads % tp:
            raise BadOptionError(f"tensor parallel size {tp} does not divide {model.id}'s {model.n_heads} attention heads",
                                 f"use one of: {', '.join(str(t) for t in range(1, 9) if model.n_heads % t == 0)}")
        if n_gpus is not None and tp > n_gpus:
            raise BadOptionError(f"tensor parallel size {tp} needs {tp} GPUs, the hardware has {n_gpus}",
                                 f"give --gpus {tp} or a smaller --tp")


def serving_gpus(machine: Machine) -> list[Device]:
    """The devices vLLM serves from: discrete GPUs (a GH200's Hopper GPU among them: it serves from its own HBM, the
    Grace LPDDR5X is the host's RAM), and CUDA unified-memory GPUs (DGX Spark / GB10); none named with a backend vLLM
    has no platform for (a 'vulkan' GPU: Engine.refused_device, engines/interface.py)."""
    refused = _engine().get("refused_backends") or ()
    return [d for d in machine.devices if d.vendor != "apple" and (not d.unified or d.backend == "cuda")
            and d.backend not in refused]


def no_serving_gpu(machine: Machine) -> str:
    """Why vLLM serves no GPU of `machine` ("" where serving_gpus finds one): fit's placement note under --engine vllm,
    and the hint that drops a vLLM option given to another engine on such a machine (engines/interface.py)."""
    if serving_gpus(machine):
        return ""
    if not machine.devices:
        return "vLLM serves from discrete GPUs (CUDA/ROCm); none here"
    return "vLLM does not run on Apple GPUs or non-CUDA unified memory"


def default_serving_engine(machines: Sequence[Machine]) -> str:
    """The engine `serve` and `cost` size a box with when --engine is not given: vLLM, unless no machine has a GPU
    vLLM serves from (serving_gpus: a Mac, an AMD APU, a CPU-only box, a GPU named with 'vulkan'), then llama.cpp.
    A mix keeps vLLM (cost excludes the others with vLLM's reason)."""
    return "llamacpp" if machines and not any(serving_gpus(m) for m in machines) else "vllm"


def tensor_parallel_size(model: Model, n_gpus: int) -> int:
    """Largest TP size <= n_gpus that divides the attention heads (vLLM requires heads % tp == 0)."""
    for tp in range(max(1, n_gpus), 0, -1):
        if model.n_heads % tp == 0:
            return tp
    return 1


@lru_cache(maxsize=1024)  # a pure function the serving solver asks ~2,000 times per `cost` (a fifth of its CPU)
def kv_bytes_per_token(model: Model, tp: int, dtype_bytes: int = _SIXTEEN_BIT) -> int:
    """K+V bytes per token on one GPU: KV heads are split over TP ranks (replicated when fewer than ranks);
    MLA caches kv_lora_rank + rope dims once, on every rank (vllm/v1/kv_cache_interface.py). Only attention layers
    cache KV (a hybrid's recurrent layers keep a fixed state: vllm_hybrid.py).

    DeepSeek-V3.2 (DSA) adds its lightning indexer's keys: every layer registers a DeepseekV32IndexerCache whose spec
    is a second MLAAttentionSpec of one head of index_head_dim + 4 bytes per 128 (fp8 values + fp32 scale, uint8:
    132 B; vllm/model_executor/models/deepseek_v2.py), whatever --kv-cache-dtype. Both specs are MLA attention specs
    of different sizes, so kv_cache_utils merges them into one UniformTypeKVCacheSpecs group: a block holds its tokens
    in every layer's latent and indexer pages, and a token costs both (memory.indexer_bytes_per_token_fp8).
    GLM-5.2 (IndexCache, index_topk_freq 4): vLLM's DeepseekV2MLAAttention builds an Indexer, and so its cache, only
    on layers that compute their own top-k (_skip_topk = max(layer_id - index_skip_topk_offset + 1, 0) %
    index_topk_freq != 0 skips the rest, which reuse the previous top-k; the checkpoint has indexer weights on those
    21 of 78 layers only), so the indexer keys cost 21 layers a token, the latent all 78."""
    if model.mla is not None:
        latent = (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim) * dtype_bytes
        indexers = (model.n_layers if model.dsa is None or model.dsa.indexer_layers is None
                    else sum(model.dsa.has_indexer(i, model.n_layers) for i in range(model.n_layers)))
        return model.n_layers * latent + indexers * indexer_bytes_per_token_fp8(model)
    # Gemma 3n's KV-sharing layers name an earlier layer as kv_sharing_target_layer_name and get no cache of their own
    return sum(_layer_token_bytes(model, i, tp, dtype_bytes) for i in range(model.n_layers) if caches_kv(model, i))


def _layer_token_bytes(model: Model, layer: int, tp: int, dtype_bytes: int) -> int:
    """K + V bytes of one token in one layer on one GPU: the layer's KV heads split over TP (at least one each) x its
    head size (Gemma 4: full layers global_head_dim and their own KV heads; vllm/model_executor/models/gemma4.py
    builds each Attention with the layer's head_dim and num_kv_heads)."""
    return max(1, model.layer_kv_heads(layer) // tp) * 2 * model.layer_head_dim(layer) * dtype_bytes


def sequence_kv_bytes(model: Model, tp: int, context: int, dtype_bytes: int = _SIXTEEN_BIT,
                      max_batched: int | None = None) -> int:
    """One sequence of `context` tokens, in whole 16-token blocks; sliding-window layers keep only the window, in
    vLLM's page-size-unified groups (vllm_groups.py; with max_batched, the admission figure that also counts a
    chunked-prefill step); hybrids in their grown blocks plus one padded state page per recurrent layer
    (vllm_hybrid.py)."""
    if vllm_hybrid.is_hybrid(model):
        return vllm_hybrid.sequence_bytes(model, tp, context, dtype_bytes)
    if vllm_groups.grouped(model):
        return vllm_groups.sequence_bytes(model, tp, context, dtype_bytes, max_batched)
    block = int(_engine()["kv_pad"])
    blocks_full = -(-context // block)
    if model.mla is None and any(uses_window(model, i) for i in range(model.n_layers)):
        window_blocks = -(-min(context, model.sliding_window) // block) + 1
        total = 0
        for i in range(model.n_layers):
            if caches_kv(model, i):
                total += ((window_blocks if uses_window(model, i) else blocks_full) * block
                          * _layer_token_bytes(model, i, tp, dtype_bytes))
        return total
    return blocks_full * block * kv_bytes_per_token(model, tp, dtype_bytes)


def kv_pool_tokens(model: Model, tp: int, pool_bytes: int, dtype_bytes: int = _SIXTEEN_BIT) -> int:
    """Tokens the KV pool holds: whole blocks of 16 tokens (vLLM logs this as 'GPU KV cache size: N tokens')."""
    block = int(_engine()["kv_pad"])
    return max(0, pool_bytes // (block * kv_bytes_per_token(model, tp, dtype_bytes))) * block


def cuda_total_bytes(dev: Device) -> int:
    """Memory CUDA reports for the GPU (torch.cuda.mem_get_info total), which vLLM multiplies by the utilisation:
    less than the marketed size (ECC, reserved pages). From vLLM logs per profile (data/engines.yaml
    cuda_total_memory); the nominal size for GPUs without a logged figure."""
    table = load("engines")["cuda_total_memory"]["profiles"]
    gib = table.get(dev.matched_profile or "")
    return int(float(gib) * GIB) if gib is not None else dev.memory_bytes


def batch_defaults(device_bytes: int, device_name: str = "") -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs) of `vllm serve` for a GPU of this size and name: the large defaults
    only for >= 70 GiB GPUs that are not A100s (arg_utils.get_batch_defaults, PR #17885)."""
    e = _engine()
    if device_bytes >= int(e["large_gpu_bytes"]) and "a100" not in device_name.lower():
        return int(e["max_num_batched_tokens_large"]), int(e["max_num_seqs_large"])
    return int(e["max_num_batched_tokens_small"]), int(e["max_num_seqs_small"])


def _vocab(model: Model) -> int:
    """The LM head's rows as vLLM pads them (VocabParallelEmbedding pads to a multiple of 64)."""
    return -(-model.vocab_size // 64) * 64


def forward_peak_bytes(model: Model, tp: int, tokens: int) -> int:
    """Peak of one forward pass over `tokens` tokens on one GPU: 16-bit hidden states and residual, and the widest
    transient (QKV, or gate+up with the activated half)."""
    d = model.hidden_size
    if model.moe is not None:
        ff = max(model.moe.expert_intermediate_size * model.moe.active, model.intermediate_size)
    else:
        ff = model.intermediate_size
    qkv = (model.n_heads + 2 * model.n_kv_heads) * max(model.head_dim, model.global_head_dim)
    widest = max(3 * ff // tp, qkv // tp) + 4 * d
    return tokens * widest * _SIXTEEN_BIT


_version = vllm_graphs.version_tuple


def sampler_path(model: Model, version: str | None = None) -> str:
    """Which sampler vLLM's profile run takes for this model in this release (data/engines.yaml sampler_paths):
    'mrv2_profile' (Model Runner V2, top-k/top-p skipped), 'flashinfer' or 'torch_sort' (V1 runner)."""
    v = _version(version or engine_version())
    dense = model.moe is None and model.ssm is None
    for rule in _engine()["sampler_paths"]:
        if v >= _version(rule["since"]) and (rule["models"] == "all" or dense):
            return str(rule["path"])
    return "torch_sort"


def graphs_in_budget(model: Model, version: str | None = None) -> bool:
    """Whether this release takes its CUDA-graph estimate out of the KV budget for this model (data/engines.yaml
    cudagraph_in_kv_budget_since, and cudagraph_not_in_budget: Model Runner V2 reserved nothing for dense models
    from 0.25 until PR #53306 in 0.29)."""
    e = _engine()
    v = _version(version or engine_version())
    if v < _version(str(e["cudagraph_in_kv_budget_since"])):
        return False
    dense = model.moe is None and model.ssm is None
    return not any(_version(r["since"]) <= v < _version(r["until"]) and (r["models"] == "all" or dense)
                   for r in e.get("cudagraph_not_in_budget", ()))


def sampler_peak_bytes(model: Model, seqs: int, path: str = "torch_sort") -> int:
    """Peak of vLLM's dummy sampler run over `seqs` rows of the full vocabulary, on every GPU (each TP rank samples).

    Bytes alive per logit by path (data/engines.yaml sampler_bytes_per_logit, derived from vLLM's code): the native
    sampler sorts for top-k/top-p (38 B: 16-bit logits, fp32 copy, sort values and int64 indices, int64 iota, radix
    buffers); FlashInfer masks and softmaxes without sorting (14 B); Model Runner V2's profile skips top-k/top-p and
    keeps the logits and their fp32 copy (6 B).
    """
    return seqs * _vocab(model) * int(_engine()["sampler_bytes_per_logit"][path])


def activation_bytes(model: Model, tp: int, tokens: int, seqs: int, path: str = "torch_sort") -> int:
    """vLLM's profiled activation peak on one GPU: the forward pass over `tokens` (max_num_batched_tokens), then the
    sampler (on `path`) over min(seqs, tokens) rows, with the forward's 16-bit hidden states still held."""
    rows = min(seqs, tokens)
    held = tokens * model.hidden_size * _SIXTEEN_BIT
    return max(forward_peak_bytes(model, tp, tokens), held + sampler_peak_bytes(model, rows, path))


def non_torch_bytes(tp: int, interconnect: str = "", version: str | None = None) -> int:
    """Memory outside torch's allocator that vLLM's profile counts against the budget: cuBLAS/attention workspaces,
    and at TP >= 2 over NVLink what NCCL and the custom all-reduce add by release (data/engines.yaml
    nccl_in_budget_bytes): the whole communicator workspace while the start-up memory snapshot came before the
    distributed init, only what the profile run adds once the snapshot followed it (the init-time workspace then
    comes out of the 1 - utilisation headroom, vllm PR #45517). Over PCIe the custom all-reduce is off and NCCL's
    per-peer buffers are small."""
    e = _engine()
    nvlink = tp > 1 and "nvlink" in interconnect.lower()
    if not nvlink:
        return int(e["non_torch_bytes"])
    v = _version(version or engine_version())
    rule = next(r for r in e["nccl_in_budget_bytes"] if v >= _version(str(r["since"])))
    return int(e["non_torch_bytes"]) + int(rule["bytes"])


@record
class VllmPlan:
    memory: MemoryBreakdown
    placement: Placement
    tp: int
    pool_bytes_per_gpu: int
    max_concurrency: int
    seq_kv_bytes_per_gpu: int
    pool_tokens: int = 0
    max_num_seqs: int = 0
    max_num_batched_tokens: int = 0
    gpu_memory_utilization: float = 0.0
    pp: int = 1  # pipeline parallel stages (nodes)


def plan(model: Model, quant: Quant, machine: Machine, request: FitRequest) -> VllmPlan:
    """Memory per GPU under vLLM and how many sequences of `request.context` the KV pool holds."""
    e = _engine()
    gpus = serving_gpus(machine)
    check_request(model, request, len(gpus) if gpus else None)
    check_format(model, quant)
    # MXFP4 experts as the release's MoE kernel holds them on this GPU (estimate/vllm_mxfp4.py)
    w = vllm_weights(model, quant, mxfp4_kernel(model, quant, machine, request.engine_version))
    n_total = model.n_layers + 1
    tp = request.tensor_parallel or (tensor_parallel_size(model, len(gpus)) if gpus else 1)
    kvb = kv_dtype_bytes(request.kv_cache_type)
    seq_kv = sequence_kv_bytes(model, tp, request.context, kvb, request.max_num_batched_tokens)
    util = request.gpu_memory_utilization or float(e["gpu_memory_utilization"])

    def refused(why: str) -> VllmPlan:
        """The plan of a box or format vLLM does not run: the weights and one request's KV, placed nowhere."""
        mem = MemoryBreakdown(w.total, seq_kv * request.n_parallel, 0, 0, bits_per_weight=_bpw(w))
        return VllmPlan(mem, Placement("no", 0, n_total, 0, 0, w.total, note=why, unsupported=True), tp, 0, 0,
                        seq_kv, gpu_memory_utilization=util)

    if not gpus:
        return refused(no_serving_gpu(machine) + ": use --engine llamacpp")  # a CPU-only box too (audit33b)
    dev = gpus[0]
    why = platform_refusal(quant.name, dev.vendor)  # GPTQ on Intel's XPU platform (data/engines.yaml)
    if why:
        return refused(why)
    cap = compute_capability(dev) if dev.vendor == "nvidia" and dev.backend == "cuda" else None
    # a format whose quantization config's get_min_capability is above the GPU's (data/engines.yaml
    # vllm_min_capability: AWQ below 7.5, FP8 below 7.5 (8.0 before 0.14.0), GPTQ below 6.0, MXFP4 below 8.0)
    why = capability_refusal(quant.name, cap, request.engine_version)
    if why:
        return refused(why)
    if quant.name == "MXFP4":  # a released format with per-platform kernels (estimate/serving/moe_step.py)
        from .serving.moe_step import gpu_family, mxfp4_refusal

        why = mxfp4_refusal(gpu_family(machine), dev.backend,
                            compute_capability(dev) if dev.vendor == "nvidia" else None)
        if why:
            return refused(why)
    total = cuda_total_bytes(dev)
    # GB10 (unified): NVML reports no memory, so get_batch_defaults falls back to device_memory 0 (small defaults)
    tokens, seqs = batch_defaults(0 if dev.unified else total, dev.name)
    tokens = request.max_num_batched_tokens or tokens
    seqs = request.max_num_seqs or seqs
    if vllm_groups.grouped(model):  # the admission figure counts a chunked-prefill step in the sliding groups
        seq_kv = sequence_kv_bytes(model, tp, request.context, kvb, tokens)
    budget = int(total * util)
    if dev.unified:
        # vLLM reads free memory from the OS on unified GPUs (psutil available) and stops when the requested share
        # exceeds it (gpu_worker.init_device); the OS keeps os_reserve_bytes (data/engines.yaml runtime)
        used = int(load("engines")["runtime"]["os_reserve_bytes"])
    else:
        # vLLM stops at start when the free memory it reads is below the requested share (gpu_worker.init_device):
        # the CUDA context is already there, and NCCL's init workspace at TP >= 2 over NVLink (data/engines.yaml
        # startup_used_bytes)
        used = int(e["startup_used_bytes"])
        since = _version(str(e["startup_nccl_nvlink_since"]))
        if tp > 1 and "nvlink" in machine.interconnect.lower() and _version(request.engine_version or engine_version()) >= since:
            used += int(e["startup_nccl_nvlink_bytes"])
    free = total - used
    if budget > free and not request.kv_cache_memory_bytes:
        return _startup_refusal(model, request, w, seq_kv, n_total, tp, util, budget, used, total)
    pp = request.nodes or 1
    # the release's rules (request.engine_version; "" = the current release): its profile sampler, and whether its
    # CUDA graphs are sized before the pool (>= cudagraph_in_kv_budget_since) or captured afterwards from the headroom
    version = request.engine_version or None
    act = activation_bytes(model, tp, tokens, seqs, sampler_path(model, version))
    graphs_before_pool = graphs_in_budget(model, version)
    graphs = 0 if request.enforce_eager or not graphs_before_pool else \
        vllm_graphs.graph_bytes(lambda n: forward_peak_bytes(model, tp, n), tokens, seqs, version or engine_version(),
                                 device=machine.devices[0])
    other = non_torch_bytes(tp, machine.interconnect, version)
    # Each pipeline stage (one node with --nodes) holds its layers' weights and KV; the last one also the LM head
    # and the sampler. vLLM sizes every worker's pool and keeps the smallest block count.
    stages = []
    for i, layers in enumerate(pp_partition(model.n_layers, pp)):
        first = sum(pp_partition(model.n_layers, pp)[:i])
        wbytes = sum(w.per_layer[first:first + layers]) + (w.embedding if i == 0 else 0)
        wbytes += (w.output or (w.embedding if model.tied_embeddings and pp > 1 else 0)) if i == pp - 1 else 0
        # the matrices vLLM keeps whole on every TP rank (MLA's q_a / kv_a, the DSA indexer, the router gate:
        # vllm_weights.tp_whole, the step time's rule too) are not divided; split like the rest before session 29
        wgpu = per_gpu_bytes(wbytes, sum(w.whole[first:first + layers]), tp)
        stage_act = act if i == pp - 1 else forward_peak_bytes(model, tp, tokens)
        stage_pool = budget - wgpu - stage_act - graphs - other
        if request.kv_cache_memory_bytes:
            # --kv-cache-memory-bytes: the pool is that, utilisation ignored (gpu_worker.determine_available_memory:
            # "This does not respect the gpu_memory_utilization config"); what is left of the free memory after it
            # must still hold the weights, the profile's peak, the graphs and the non-torch memory
            left = free - wgpu - stage_act - graphs - other
            stage_pool = int(request.kv_cache_memory_bytes) if left >= request.kv_cache_memory_bytes else \
                -(int(request.kv_cache_memory_bytes) - left)
        per_token = kv_bytes_per_token(model, tp, kvb) * layers // model.n_layers
        stages.append((wgpu, stage_act, stage_pool, per_token, layers))
    block = int(e["kv_pad"])
    # an encoder-only model (BERT embedders: EncoderOnlyAttention) caches no KV, so it has no blocks to count
    blocks = min((max(0, sp) // (block * pt) if pt else 0) for _, _, sp, pt, _ in stages)
    limiting = min(stages, key=lambda st: max(0, st[2]) // (block * st[3]) if st[3] else st[2])
    pool = limiting[2]
    pool_tokens = blocks * block
    if vllm_hybrid.is_hybrid(model) and pp == 1:
        pool_tokens = vllm_hybrid.pool_tokens(model, tp, limiting[2], request.context, kvb)
    elif vllm_groups.grouped(model) and pp == 1:
        pool_tokens = vllm_groups.pool_tokens(model, tp, limiting[2], request.context, kvb, tokens)
    need = seq_kv * request.n_parallel  # whole-model KV per TP rank of one sequence set
    seq_tokens = -(-request.context // block) * block
    conc = pool_tokens // seq_tokens if pp > 1 else (max(0, pool // seq_kv) if seq_kv else (seqs if pool >= 0 else 0))
    mem = MemoryBreakdown(
        weights_bytes=w.total,
        kv_cache_bytes=need * tp,
        compute_buffer_bytes=sum(st[1] for st in stages) * tp,
        runtime_bytes=(graphs + other) * tp * pp,
        layer_bytes=w.per_layer,
        input_embedding_bytes=w.embedding,
        output_bytes=w.output,
        bits_per_weight=_bpw(w),
        kv_pool_bytes=max(0, pool),
        kv_pool_tokens=pool_tokens,
    )
    per_gpu = tuple(wg + a + graphs + other + need * layers // model.n_layers
                    for wg, a, _, _, layers in stages for _ in range(tp))
    note = f"vLLM tensor parallel {tp} of {len(gpus)} GPUs" if tp != len(gpus) else ""
    fallback = bf16_fallback(quant.name, cap)  # BF16 -> FP16 below compute capability 8.0 (same bytes)
    if fallback:
        note = (note + "; " if note else "") + fallback
    if pp > 1:
        note = (note + "; " if note else "") + f"pipeline parallel over {pp} nodes ({tp * pp} GPUs)"
    fits = conc >= request.n_parallel if pp > 1 else pool >= need
    if fits:
        pl = Placement("gpu", n_total, n_total, sum(per_gpu), 0, 0, per_gpu, note=note)
    else:
        # vLLM's own refusal (v1/core/kv_cache_utils.py check_enough_kv_cache_memory). Weights larger than a GPU's
        # free memory never reach it: the worker loads them before it profiles the pool (gpu_worker.load_model, then
        # determine_available_memory), and torch's allocator stops the load (CUDA out of memory). That refusal read
        # "Try increasing `gpu_memory_utilization`", which no share up to 1.0 could meet (a 70B on one RTX 3090).
        heaviest = max(st[0] for st in stages)
        why = (f"--kv-cache-memory-bytes {request.kv_cache_memory_bytes} leaves {-pool / GIB:.2f} GiB too little for "
               "the weights, the profile's peak and the CUDA graphs: CUDA out of memory"
               if request.kv_cache_memory_bytes and pool < 0 else
               f"CUDA out of memory while loading the weights: {quant.name} puts {heaviest / GIB:.1f} GiB of weights "
               f"on a GPU that has {free / GIB:.1f} GiB free (of {total / GIB:.1f} GiB); no "
               "--gpu-memory-utilization helps: more GPUs, a smaller format, or llama.cpp with layers in RAM"
               if heaviest > free else
               "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing "
               "the engine." if pool <= 0 else
               f"To serve at least one request with the models's max seq len ({request.context}), "
               f"({need / GIB:.2f} GiB KV cache is needed, which is larger than the available KV cache memory "
               f"({pool / GIB:.2f} GiB). Based on the available memory, the estimated maximum model length is "
               f"{pool_tokens}. Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when "
               "initializing the engine.")
        # short by the KV one sequence set needs less the pool; a negative pool (the weights and the profile's peak
        # alone exceed the budget) adds to it: at 0.05 of an H100 the BF16 8B read '1.1 GB short' (the KV only)
        short = need - pool
        if request.kv_cache_memory_bytes and pool < 0:  # pool = what is left - the fixed pool asked for
            short = max(0, need - int(request.kv_cache_memory_bytes)) - pool
        pl = Placement("no", 0, n_total, 0, 0, max(1, short * tp),
                       note=(note + "; " if note else "") + (f"kv_cache_memory_bytes {request.kv_cache_memory_bytes}"
                             if request.kv_cache_memory_bytes else f"gpu_memory_utilization {util:g}")
                       + f": vLLM would stop: {why}")
    return VllmPlan(mem, pl, tp, max(0, pool), int(conc), seq_kv, pool_tokens, seqs, tokens, util, pp)


def _startup_refusal(model: Model, request: FitRequest, w: VllmWeights, seq_kv: int, n_total: int, tp: int,
                     util: float, budget: int, used: int, total: int) -> VllmPlan:
    """vLLM's own start-up stop when the requested share exceeds the free memory it reads (gpu_worker.init_device).
    `used`: what is taken before vLLM reads free memory (the CUDA context and torch, NCCL's workspace; on a unified
    GPU the OS's share). A GPU smaller than that (a spec sheet's 'vram=1MB') never reaches the check: the CUDA
    context itself does not fit, so free memory is not a negative number but out of memory, and what is missing is
    that context plus the weights and one request's KV, not the utilisation's share."""
    w_gib = lambda b: round(b / GIB, 2)  # noqa: E731
    free = total - used
    if free <= 0:
        from ..units import gb

        note = (f"vLLM cannot start: the GPU's {gb(total)} is less than the {gb(used)} the CUDA context and torch hold "
                "before vLLM loads anything (CUDA out of memory)")
        need = used + w.per_gpu(tp) + seq_kv * request.n_parallel
        mem = MemoryBreakdown(w.total, seq_kv * request.n_parallel * tp, 0, used * tp, bits_per_weight=_bpw(w))
        return VllmPlan(mem, Placement("no", 0, n_total, 0, 0, (need - total) * tp, note=note), tp, 0, 0, seq_kv,
                        gpu_memory_utilization=util)
    note = (f"vLLM would stop: Free memory on device ({w_gib(free)}/{w_gib(total)} GiB) on startup is less "
            f"than desired GPU memory utilization ({util:g}, {w_gib(budget)} GiB). Decrease GPU memory "
            "utilization or reduce GPU memory used by other processes.")
    mem = MemoryBreakdown(w.total, seq_kv * request.n_parallel, 0, 0, bits_per_weight=_bpw(w))
    return VllmPlan(mem, Placement("no", 0, n_total, 0, 0, budget - free, note=note), tp, 0, 0, seq_kv,
                    gpu_memory_utilization=util)


def pp_partition(n_layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage as vLLM assigns them (vllm/distributed/utils.py get_pp_indices): an even split; the
    remainder goes to the middle stages when it fits there (pp > 2), else to all stages but the last."""
    parts = [n_layers // pp] * pp
    rem = n_layers % pp
    if rem and pp > 2 and rem <= pp - 2:
        for i in range(rem):
            parts[1 + i] += 1
    else:
        for i in range(2, rem + 2):
            parts[-i] += 1
    return parts


def _bpw(w: VllmWeights) -> float:
    return 8.0 * w.total / w.params if w.params else 0.0
