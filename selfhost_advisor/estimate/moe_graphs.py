"""Whether ggml-cuda runs an MoE micro-batch (or a decoded token) as a CUDA graph, by build, and what it costs when not.

Why: its own module because both the decode path (estimate/speed_decode.py: F16 / BF16 experts decoded without graphs
from PR #19645 to PR #26802) and the micro-batch floor (estimate/moe_batch.py, which itself prices one decode step)
use it; moe_batch re-exports these names.
"""
from __future__ import annotations

from ..domain import Model
from .speed_work import TokenWork


def mmvq_ids_path(work: TokenWork, device, n_tokens: int) -> bool:
    """Whether a CUDA micro-batch of n_tokens >= 2 runs its quantized experts through the multi-token MoE mat-vec
    kernel (ggml-cuda.cu ggml_cuda_mul_mat_id: ne2 <= get_mmvq_mmid_max_batch(type, cc)) in the build of
    kernel_path.at_build's date: from llama.cpp PR #18958 on (data/speed.yaml moe_mmvq_ids.since), up to the
    type's and architecture's limit (mmvq.cu tables; 8 on Volta, Ada and later, per type on Turing / Ampere and
    Pascal). NVIDIA only: the ROCm limits are read but not applied (no held-out row checks them)."""
    from .kernel_path import _build_date, architecture

    rule = _mmvq_rule()
    if n_tokens < 2 or not rule or device.backend != "cuda" or device.vendor != "nvidia":
        return False
    if _build_date() < str(rule["since"]):
        return False
    # the quantized expert matrices (gpt-oss's F32 expert biases are ADD_ID operands, not matmuls); float experts
    # take the mmvf path, not modelled here
    types = {ty.upper() for mats in work.layer_expert_matrices for ty, _, _ in mats} - {"F32"}
    if not types or types & {"F16", "BF16"}:
        return False
    arch = architecture(device) or ""
    table = (rule.get("turing_ampere") if arch in ("Turing", "Ampere")
             else rule.get("pascal_older") if arch in ("Pascal", "Maxwell", "Maxwell 2.0", "Kepler", "Kepler 2.0")
             else {})
    limit = min(int((table or {}).get(ty, rule["max_batch"])) for ty in types)
    return n_tokens <= limit


def _mmvq_rule() -> dict:
    from .speed_factors import _speed_data

    return _speed_data().get("moe_mmvq_ids") or {}


def layer_nodes(model: Model, layer: int) -> int:
    """Graph nodes of one layer: a dense llama layer's 22 (data/cpu_sync.yaml) with an MoE feed-forward's in place of
    the dense one, each count less its mat-mul inner barriers (the router and three MUL_MAT_ID, two where one
    ffn_gate_up_exps tensor holds gate and up; the dense FFN's three)."""
    from .cpu_sync import moe_extra_barriers
    from .tensors import fused_gate_up_experts

    dense = int(_graph_rule().get("dense_layer_nodes", 22))
    extra = moe_extra_barriers(model, layer)
    if not extra:
        return dense
    shared_inner = 3 if model.moe.shared_experts else 0
    mul_mat_ids = 2 if fused_gate_up_experts(model) else 3
    return dense + extra - (1 + mul_mat_ids - 3) - shared_inner  # routed: router + MUL_MAT_ID inner; dense FFN had 3


def _graph_rule() -> dict:
    from .speed_factors import _speed_data

    return _speed_data().get("moe_microbatch_graphs") or {}


def graphs_off_seconds(model: Model, device, n_tokens: int, work: TokenWork | None = None) -> float:
    """Seconds per layer a micro-batch of n_tokens adds on an NVIDIA GPU whose llama.cpp build runs it without CUDA
    graphs because of its MUL_MAT_ID (data/speed.yaml moe_microbatch_graphs): the graphs-off launch time that
    cuda_graphs.layer_s measured for a dense layer, per graph node, times the MoE layer's nodes (mean over layers).
    ggml-cuda's graph check, by build (ggml_cuda_graph_check_compability):

    - before PR #19645 (graphs_since): any MUL_MAT_ID of ne[2] != 1 turns graphs off: every micro-batch of 2+ tokens;
    - from it to PR #26802 (sync_predicate_since): `!ggml_is_quantized(src0->type) || ne[2] > mmvq_mmid_max`: float
      (F16 / BF16) experts at every batch size, one-token decode included, and quantized ones beyond the MoE mat-vec's
      limit (mmvq_ids_path);
    - from PR #26802 on only where ggml_cuda_mul_mat_id_needs_sync, which MMQ / MMF leave unreached here: none.

    `work` gives the expert types (None: quantized experts). 0 for other vendors and for GPUs that run no graphs at all
    (their decode already pays the launches: cuda_path.graph_launch_seconds)."""
    from . import cuda_path
    from .kernel_path import _build_date

    rule = _graph_rule()
    if not rule or device.backend != "cuda" or device.vendor != "nvidia" or not cuda_path.uses_graphs(device):
        return 0.0
    date = _build_date()
    if date < str(rule["graphs_since"]):
        off = n_tokens >= 2
    elif date < str(rule.get("sync_predicate_since") or "0"):
        off = float_experts(work) or (n_tokens >= 2 and work is not None and not mmvq_ids_path(work, device, n_tokens))
    else:
        off = False
    if not off:
        return 0.0
    per_layer = float(cuda_path._older_rules()[0].get("layer_s", 0.0))
    dense = int(rule.get("dense_layer_nodes", 22))
    nodes = sum(layer_nodes(model, i) for i in range(model.n_layers)) / max(1, model.n_layers)
    return per_layer * nodes / dense


def float_experts(work: TokenWork | None) -> bool:
    """Whether the routed experts' matrices are 16-bit floats (F16 / BF16): ggml_is_quantized is false for them."""
    if work is None:
        return False
    types = {ty.upper() for mats in work.layer_expert_matrices for ty, _, _ in mats} - {"F32"}
    return bool(types) and types <= {"F16", "BF16"}
