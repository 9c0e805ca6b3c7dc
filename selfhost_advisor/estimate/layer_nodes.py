"""Graph nodes of one decoded layer, and the fixed decode time they scale on GPUs that pay a time per kernel (ROCm,
Vulkan, SYCL).

Why: a decoded token runs each layer as a chain of kernels, one per ggml graph node (ggml-cuda compiled by HIP,
ggml-vulkan). The fitted fixed decode time per layer (data/speed.yaml efficiency.<family>.layer_cycles) was fitted on
dense llama-style layers of 22 nodes (data/cpu_sync.yaml: attention 15, feed-forward 7), so on the families listed in
data/speed.yaml decode_layer_nodes an MoE or hybrid layer that runs more kernels pays it in proportion: the layer's
nodes over 22. That time is spent per kernel on the GPU, not in the host's launches: llama.cpp PR #22254's HIP-graph
pairs save only about 0.55 us a node, so builds with and without HIP graphs scale alike. The counts are read off
llama.cpp's graph builders (decode_layer_nodes has them and their sources); that the fitted time is per kernel is an
assumption checked on the held-out MoE decode rows (docs/methodology.md 5c-s17). Dense models keep exactly the fitted
time (ratio 1), so no fit moves. Where the fitted time is charged per layer instead (CUDA Volta and later), a layer
that holds one block (Nemotron-H) pays that block's share of it (one_block_share; docs/methodology.md 5c-s28c), and a
Gemma 4 MoE layer, which holds two feed-forward blocks, one dense feed-forward's share more (two_ffn_share; 5c-s29g).
"""
from __future__ import annotations

from ..domain import Model
from .arch_traits import GEMMA4_ARCHS, QWEN_NEXT_ARCHS, SINGLE_KIND_ARCHS
from .tensors import fused_gate_up_experts
from . import cuda_path, kernel_path, speed_factors  # speed_factors by attribute: tests patch speed_factors._speed_data


def _rule() -> dict:
    return speed_factors._speed_data().get("decode_layer_nodes") or {}


# ggml-cuda (CUDA, and ROCm through HIP) runs a decoded token's gate MUL_MAT, up MUL_MAT and GLU as ONE fused mat-vec
# kernel, MUL_MAT_ID experts included (ggml-cuda.cu ggml_cuda_can_fuse mul_mat_id_glu_ops, "CUDA: General GEMV fusion",
# llama.cpp PR #16715, ggml d8ba8a34, 2025-11-01, before any Gemma 4 build); a fused ffn_gate_up_exps tensor's
# MUL_MAT_ID and its GLU over two views are two kernels there, so it saves none: the count keeps three MUL_MAT_ID.
_GEMV_GLU_FUSED = frozenset({"cuda", "rocm"})


def graph_nodes(model: Model, layer: int, backend: str | None = None) -> int:
    """Decode graph nodes of `layer`: its mixer block (attention, MLA attention, Gated DeltaNet or Mamba-2, with the
    pre-norm and the residual ADD) and its feed-forward block (dense, or MoE: router, top-k, weights, three MUL_MAT_ID, the n_used - 1
    ADDs that sum the experts and a shared expert's FFN). Nemotron-H layers hold one block each. A GGUF that fuses gate
    and up experts into one ffn_gate_up_exps tensor (Gemma 4) runs one MUL_MAT_ID fewer: build_moe_ffn takes gate and
    up as views of its output (tensors.fused_gate_up_experts); not on `backend` cuda / rocm, whose GEMV fusion already
    runs the split gate, up and GLU as one kernel (_GEMV_GLU_FUSED)."""
    r = _rule()
    kind = model.layer_kind(layer)
    if kind == "M":
        mixer = (int(r["gated_deltanet"]) + unfused_delta_net_nodes(backend)) if model.arch in QWEN_NEXT_ARCHS \
            else int(r["mamba2"])
    elif kind in "-E":
        mixer = 0
    elif model.mla is not None and r.get("mla_attention"):  # absorbed MLA (llm_build_deepseek2's is_mla branch)
        mixer = int(r["mla_attention"]) + (int(r["mla_q_lora"]) if model.mla.q_lora_rank else 0)
    else:
        mixer = int(r["attention"])
    if model.arch in SINGLE_KIND_ARCHS and kind in "*M":
        return mixer
    if model.is_moe_layer(layer):
        ffn = int(r["moe_ffn"]) + model.moe.active - 1 + (int(r["shared_expert"]) if model.moe.shared_experts else 0)
        if backend not in _GEMV_GLU_FUSED and fused_gate_up_experts(model):  # gate_up: one MUL_MAT_ID for two
            ffn -= 1
        if model.arch in GEMMA4_ARCHS:  # Gemma 4's MoE layers keep a dense FFN beside the routed experts
            ffn += int(r["dense_ffn"])
    else:
        ffn = int(r["dense_ffn"])
    return mixer + ffn


def unfused_delta_net_nodes(backend: str | None) -> int:
    """Graph nodes a Gated DeltaNet layer's decode runs beyond the fused GATED_DELTA_NET node's one, on `backend` at
    the current build: decode_layer_nodes `gated_deltanet_unfused.extra` (the 12 nodes of llama.cpp's
    build_delta_net_autoregressive less the fused op's 1) before that family's `fused_since` date (the day its backend
    got the op, so llama-context's fused-GDN check kept the autoregressive path on the GPU), else 0.

    Why: before the op reached a backend, each decoded token ran the unfused chain of ggml ops per delta-net layer, one
    kernel each; on the families that pay the fitted layer time per node (ROCm, Vulkan, SYCL) that is 11 nodes more
    (docs/methodology.md 5h-gdn34). Dated from the PRs, sized from the graph builder: nothing fitted."""
    rule = _rule().get("gated_deltanet_unfused") or {}
    since = (rule.get("fused_since") or {}).get(backend or "")
    if not since:
        return 0
    return int(rule.get("extra") or 0) if kernel_path._build_date() < str(since) else 0


def node_ratio(model: Model, start: int, count: int, device) -> float:
    """Sum over layers start..start+count-1 of graph_nodes / the dense layer's 22 on a backend listed in
    decode_layer_nodes.families or on a Pascal GPU under CUDA (data/speed.yaml cuda_pascal per_node), for an MoE or
    hybrid model; on a family listed in one_block_layers (CUDA Volta and later) each layer's blocks' share
    (block_share: one_block_share, two_ffn_share); `count` (every layer at the fitted time) otherwise.
    An integrated Intel GPU under Vulkan is left out: vulkan_intel.layer_seconds prices its dispatches per layer
    itself; a discrete one (Arc A / B, no such term) scales as AMD and NVIDIA do (session 34, 5b-vk34). On SYCL a dense
    hybrid's Gated DeltaNet layer scales (26 + 7 nodes: 1.5x); an MoE model keeps the fitted time (`moe_apart`): its
    extra submissions are sycl_path.moe_layer_seconds', checked on the Qwen3.6-35B-A3B rows it was written for, which
    the mixer's nodes on top put 10-18% slow on Xe2 (docs/methodology.md 5b-sycl12; as the UD-Q4_K_M file they ran,
    30-43% slow: 5c-s28d). On SYCL, at a build that runs
    flash attention, each attention layer counts 3 nodes fewer, dense models included (fa_nodes_saved, 5b-sycl15)."""
    r = _rule()
    by_block = device.backend in ((r.get("one_block_layers") or {}).get("families") or ())
    if not r or (device.backend not in (r.get("families") or ()) and not cuda_path.per_node_layers(device)):
        # CUDA Volta and later: the fitted time per layer, each layer at its blocks' share (block_share)
        if by_block:
            return sum(block_share(model, i) for i in range(start, start + count))
        return float(count)
    if device.backend == "vulkan" and device.vendor == "intel" and device.unified:  # iGPU: its own dispatch count
        return float(count)
    fa, norm = fa_nodes_saved(model, device), norm_nodes_saved(device)
    if model.moe is None and not model.layer_pattern and not fa and not norm:
        return float(count)
    dense = float(r["dense_layer"])
    layers = range(start, start + count)

    def saved(i: int) -> int:  # kernels the build runs fewer than graph nodes: flash attention, fused pre-norms
        return (fa if model.has_attention(i) else 0) + norm * _blocks(model, i)

    if model.moe is not None and device.backend in (r.get("moe_apart") or ()):  # SYCL: sycl_path.moe_layer_seconds
        return sum((block_share(model, i) if by_block else 1.0) - saved(i) / dense for i in layers)
    return sum(graph_nodes(model, i, device.backend) - saved(i) for i in layers) / dense


def block_share(model: Model, layer: int) -> float:
    """The share of the fitted per-layer decode time `layer` pays on a family listed in
    decode_layer_nodes.one_block_layers: one_block_share for an architecture whose layers hold one block (Nemotron-H),
    two_ffn_share for Gemma 4 (an MoE layer holds two feed-forward blocks), 1 for every other layer."""
    if model.arch in SINGLE_KIND_ARCHS:
        return one_block_share(model, layer)
    if model.arch in GEMMA4_ARCHS:
        return two_ffn_share(model, layer)
    return 1.0


def one_block_share(model: Model, layer: int) -> float:
    """The share of the fitted per-layer decode time that `layer` pays on a family that charges it per layer, not per
    node, and is listed in decode_layer_nodes.one_block_layers (CUDA Volta and later; SYCL's MoE models, charged the
    same way, are not listed): 1 for a layer of a mixer and a feed-forward block; for a layer that
    holds one block (Nemotron-H: llm_build_nemotron_h builds a pre-norm, ONE of Mamba-2 / attention / MLP or MoE, and
    the residual add), its block's graph nodes over the dense layer's 22, a feed-forward block at the dense
    feed-forward's 7 whether MoE or not (on these families a two-block MoE layer pays exactly the dense layer's time).
    data/speed.yaml decode_layer_nodes.one_block_layers; docs/methodology.md 5c-s28c."""
    if _blocks(model, layer) != 1:
        return 1.0
    r = _rule()
    nodes = int(r["dense_ffn"]) if model.is_moe_layer(layer) else graph_nodes(model, layer)
    return nodes / float(r["dense_layer"])


def two_ffn_share(model: Model, layer: int) -> float:
    """The share of the fitted per-layer decode time that a Gemma 4 MoE layer pays on a family listed in
    decode_layer_nodes.one_block_layers (CUDA Volta and later): 1 + the dense feed-forward's 7 / 22. Why: llama.cpp's
    llm_build_gemma4_iswa builds, in every layer with ffn_gate_inp, the dense GeGLU MLP (its own pre- and post-norm)
    AND build_moe_ffn (its own pre- and post-norm), then adds them: an attention block and two feed-forward blocks,
    where the fitted time stands for one of each. The MoE block is priced at the dense feed-forward's share, as
    one_block_share prices it (on this family a two-block MoE layer costs one dense layer); 1 for every other layer.
    docs/methodology.md 5c-s29g."""
    if model.arch not in GEMMA4_ARCHS or not model.is_moe_layer(layer):
        return 1.0
    r = _rule()
    return 1.0 + int(r["dense_ffn"]) / float(r["dense_layer"])


def _blocks(model: Model, layer: int) -> int:
    """Pre-normed blocks of `layer`, as graph_nodes counts them: a mixer and a feed-forward, one of them where the layer
    holds one block (Nemotron-H, a feed-forward-only layer)."""
    kind = model.layer_kind(layer)
    if kind in "-E" or (model.arch in SINGLE_KIND_ARCHS and kind in "*M"):
        return 1
    return 2


def norm_nodes_saved(device) -> int:
    """Kernels fewer per pre-normed block of a decoded layer on `device` at the current build: 1 where ggml-sycl runs
    RMS_NORM and its MUL as one kernel (decode_layer_nodes `norm_mul_fused`, from PR #26015 of 2026-07-30), else 0."""
    rule = _rule().get("norm_mul_fused") or {}
    return int(rule.get("saves_per_block") or 0) if _built(rule, device, "norm_mul_fused") else 0


def fa_nodes_saved(model: Model, device) -> int:
    """Graph nodes flash attention takes off each attention layer of a decoded token on `device` (decode_layer_nodes
    `flash_attention`: FLASH_ATTN_EXT for KQ, SOFT_MAX, KQV and CONT), on the families listed there at a build that runs
    it for this model (SYCL: sycl_path.fa_decode, from PR #20190 of 2026-03-08); 0 elsewhere.

    Why: the SYCL per-layer time was fitted on 2025 builds, which had no flash attention on SYCL, so it stands for the
    22-node layer; a 2026 build with flash attention runs 19 (docs/methodology.md 5b-sycl14)."""
    rule = _rule().get("flash_attention") or {}
    return int(rule.get("saves") or 0) if _built(rule, device, "flash_attention", model) else 0


def build_tests() -> dict:
    """Per family, the test of whether its current build runs each of decode_layer_nodes' fewer-kernel rules (the
    families a rule lists; tests/test_review_s23.py checks every listed family has one). SYCL's builds are dated by
    sycl_path (its fused RMS_NORM + MUL from PR #26015, its flash attention per head size from PR #20190)."""
    from . import sycl_path

    return {"sycl": {"norm_mul_fused": lambda model: sycl_path.norm_mul_fused(),
                     "flash_attention": sycl_path.fa_decode}}


def _built(rule: dict, device, name: str, model: Model | None = None) -> bool:
    """Whether `device`'s family is listed in `rule` and its current build runs it (build_tests)."""
    if device.backend not in (rule.get("families") or ()):
        return False
    return bool(build_tests()[device.backend][name](model))
