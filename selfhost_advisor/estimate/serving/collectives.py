"""The tensor-parallel collectives of a vLLM step: the all-reduce that ends each residual block, Gemma 4's second one
in a MoE block, and MiniMax-M2's q/k-norm variance all-reduces, each at vLLM's custom all-reduce latency over NVLink
(its published per-size table) or NCCL's over PCIe.

Why its own module: the collectives' time (allreduce_seconds, tp_qk_norm_seconds) and the kernels they add to a step's
count (step.step_kernels) read the same block count (residual_blocks) and the same per-arch lists (data/serving.yaml
kernel_counts tp_parallel_ffn, tp_qk_norm); the latencies are data/serving.yaml custom_allreduce_us and
allreduce_latency_us, from their sources, not fitted.
"""
from __future__ import annotations

from functools import lru_cache

from ...catalog.data import load
from ...domain import Machine, Model
from .rates import _profile_raw


def _link(machine: Machine) -> str:
    text = (machine.interconnect or "").lower()
    # NVLink / NVSwitch / AMD Infinity Fabric: a GPU-to-GPU fabric; anything else goes over PCIe
    return "nvlink" if any(w in text for w in ("nvlink", "nvswitch", "infinity")) else "pcie"


@lru_cache(maxsize=None)
def _allreduce_points(tp: int) -> tuple[tuple[float, float], ...]:
    """The published (size, microseconds) points of vLLM's custom all-reduce for `tp` GPUs (data/serving.yaml
    custom_allreduce_us: the least count listed at or above it, else the largest), made non-decreasing in size; once
    per count (every TP step of a serving curve asks; serving_data is read once per process)."""
    rows = load("serving")["vllm"]["custom_allreduce_us"]
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
    c = load("serving")["vllm"]
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
    return tp > 1 and model.arch in load("serving")["vllm"]["kernel_counts"].get(key, ())


@lru_cache(maxsize=64)
def tp_qk_norm_collectives(release: str = "") -> int:
    """Variance all-reduces a tp_qk_norm layer runs under tensor parallelism in this vLLM release ('' = the registry's
    current one): 2 before data/serving.yaml kernel_counts.tp_qk_norm_apart_before (vllm PR #31493, first in 0.14.0:
    until then q_norm and k_norm were two MiniMaxText01RMSNormTP calls, each variance -> all-reduce -> normalise),
    1 from it (forward_qk concatenates the q and k variances and all-reduces them once)."""
    from ..vllm import engine_version
    from ..vllm_graphs import version_tuple

    before = load("serving")["vllm"]["kernel_counts"].get("tp_qk_norm_apart_before")
    if before and version_tuple(release or engine_version()) < version_tuple(str(before)):
        return 2
    return 1


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

    c = load("serving")["vllm"]
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
