"""What a micro-batch of an MoE model must read: the experts its tokens route to, at least once each.

Why: llama.cpp multiplies each expert's weights by the tokens routed to it (ggml mul_mat_id). Whatever the kernel (CUDA
MMVQ with expert ids for a few tokens, MMQ with expert grouping for many, Metal's mul_mv_id / mul_mm_id, Vulkan's
mul_mat_vec_id / mul_mm_id), an expert that gets at least one token of the micro-batch has its rows read from memory
once; one that gets none is skipped (the CUDA MMQ path launches no tile for it, mmvq reads only the ids' rows). Each
token picks n_used distinct experts of n_expert, so one expert is missed by one token with probability 1 - n_used /
n_expert, and by all u tokens of a micro-batch with that to the power u (tokens routed independently, balanced routers):

    touched share f(u) = 1 - (1 - n_used / n_expert) ** u      (f(1) = n_used / n_expert: decode's active share)

Qwen3-30B-A3B (128 experts, 8 used): f(16) = 0.64, f(64) = 0.98; gpt-oss-20b (32, 4): f(16) = 0.88. A micro-batch then
costs at least one decode step whose expert reads are f(u) of the expert tensors instead of the active share: the same
kernels launch, the same per-layer fixed time is paid (estimate/speed_decode.py), once for the u tokens. At u = 1 that is
decode itself (llama-bench pp with -ub 1 runs at the tg rate); by u ~ 64 on a GPU the matmul FLOPs bind instead.
"""
from __future__ import annotations

from ..domain import Machine, Model, Placement
from ..record import replace
from .speed_work import TokenWork
# the graph rules live in moe_graphs (the decode path imports them without moe_batch's decode-step import)
from .moe_graphs import float_experts, graphs_off_seconds, layer_nodes, mmvq_ids_path  # noqa: F401


def touched_share(n_tokens: float, n_expert: int, n_used: int) -> float:
    """Expected share of a layer's routed experts that a micro-batch of n_tokens routes at least one token to. The one
    formula for llama.cpp's micro-batches (here, speed_terms) and vLLM's engine steps (serving/step.py), whose token
    count per step is an average and so may be fractional."""
    if n_expert <= 0 or n_used <= 0:
        return 0.0
    if n_used >= n_expert:
        return 1.0
    return 1.0 - (1.0 - n_used / n_expert) ** max(1, n_tokens)


def union_work(work: TokenWork, share: float) -> TokenWork:
    """`work` with each layer's routed-expert reads at `share` of its expert tensors instead of the active share."""
    if not work.layer_expert_bytes:
        return work
    reads = tuple(max(0, r - er) + int(round(share * eb)) for r, er, eb in
                  zip(work.layer_read_bytes, work.layer_expert_read_bytes, work.layer_expert_bytes))
    return replace(work, layer_read_bytes=reads)


def microbatch_floor_seconds(model: Model, work: TokenWork, placement: Placement, machine: Machine, depth: int,
                             n_ubatch: int, table=None) -> float | None:
    """Seconds per prompt token that no kernel beats: one decode step reading the experts the micro-batch touches,
    shared by its n_ubatch tokens. None where it does not apply (a dense model, layers or experts on the CPU)."""
    if model.moe is None or not work.layer_expert_bytes or placement.fit != "gpu" or placement.cpu_moe_layers:
        return None
    if placement.gpu_layers < model.n_layers or not machine.devices:
        return None
    from .speed_decode import _decode_seconds

    share = touched_share(n_ubatch, model.moe.experts, model.moe.active)
    if mmvq_ids_path(work, machine.devices[0], n_ubatch):
        share = slot_read_share(n_ubatch, model.moe.experts, model.moe.active)
    step = _decode_seconds(model, union_work(work, share), placement, machine, depth, table)
    if not step:
        return None
    step += graphs_off_seconds(model, machine.devices[0], n_ubatch, work) * min(placement.gpu_layers, model.n_layers)
    return step / max(1, n_ubatch)


def slot_read_share(n_tokens: int, n_expert: int, n_used: int) -> float:
    """Share of a layer's routed-expert bytes that ggml-cuda's multi-token MoE mat-vec kernel reads for a micro-batch
    of n_tokens: n_used x (1 - (1 - 1 / n_expert) ** n_tokens).

    mmvq.cu mul_mat_vec_q_moe launches one block column per expert slot (blockIdx.y = channel_dst, 0..n_used-1) and
    one warp per token in each block (threadIdx.y = token_idx); each warp reads the rows of ids[slot, token], its own
    expert. Warps of a block run together, so the tokens that put the same expert in the same slot read its rows once;
    the same expert in two slots is read by two blocks. A slot holds n_expert(1 - (1 - 1/n_expert)^u) distinct experts
    (routing balanced, slots independent), so the reads are n_used times that over n_expert, against MMQ's touched
    share f(u) (each touched expert once per tile): Qwen3-30B-A3B (128, 8) at 8 tokens 0.489 vs 0.403, gpt-oss-20b
    (32, 4) 0.901 vs 0.656. f(1) = n_used / n_expert either way."""
    if n_expert <= 0 or n_used <= 0:
        return 0.0
    return min(float(n_used), n_used * (1.0 - (1.0 - 1.0 / n_expert) ** max(1, n_tokens)))


def prefill_expert_seconds(model: Model, expert_bytes: tuple, n_ubatch: int, link_bytes_per_s: float,
                           cpu_bytes_per_s: float) -> float:
    """Seconds per prompt token for the routed experts that --n-cpu-moe keeps in RAM (`expert_bytes`: those layers').

    ggml-backend's scheduler offloads an op whose weights sit in host memory to the GPU when the GPU backend asks for
    it (ggml_backend_sched_backend_id_from_cur: `sched->op_offload`, ggml_backend_offload_op), and ggml-cuda asks for a
    MUL_MAT_ID of at least op_offload_min_batch tokens (ggml-cuda.cu get_op_batch_size: ne[2];
    GGML_OP_OFFLOAD_MIN_BATCH, 32 by default; data/speed.yaml moe_offload). The copy then moves only the experts the
    micro-batch routes a token to (ggml_backend_sched_compute_splits: "copying only the experts that are used", grouped
    into runs of consecutive ids): touched_share(n_ubatch) of the expert bytes, over the link, shared by n_ubatch
    tokens. A smaller micro-batch stays on the CPU, which reads each expert it routes a token to once from RAM (the
    decode kernels, one token column at a time): the same touched bytes at the CPU's streaming rate."""
    from ..catalog.data import load

    if model.moe is None or not expert_bytes:
        return 0.0
    u = max(1, n_ubatch)
    touched = touched_share(u, model.moe.experts, model.moe.active) * float(sum(expert_bytes)) / u
    rule = load("speed").get("moe_offload") or {}
    if u >= int(rule.get("op_offload_min_batch", 32)):
        return touched / link_bytes_per_s
    return touched / cpu_bytes_per_s if cpu_bytes_per_s else 0.0
