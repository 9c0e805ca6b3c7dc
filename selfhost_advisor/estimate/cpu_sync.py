"""The part of a CPU-decoded token that more threads do not shorten: ggml-cpu's barrier after every graph node and
the activation row that one thread quantizes alone for some mat-vecs (docs/methodology.md 4e-cpusync).

Why: the clocked decode model (cpu_kernels.decode_seconds) divides all work by the threads, so on a 32-64 thread
server it predicted tokens 1.3-2x faster than llama-bench measured. From the source (ggml-cpu.c, repack.cpp):
- ggml_graph_compute_thread calls ggml_barrier after each non-empty node, and ggml_compute_forward_mul_mat once more
  inside; ggml_barrier is one atomic counter every thread increments, so a barrier costs about threads x the chip's
  core-to-core cache-line latency (data/cpu_sync.yaml: barriers per layer, latencies with their sources);
- for one token (ne11 = 1) repack.cpp's forward_mul_mat converts src1 by rows, so thread 0 alone runs the scalar
  quantize_row_q8_K over the whole activation of every repacked K-quant mat-vec (and ggml's own mul_mat did the same
  for every type before llama.cpp PR #11666, 2025-02-13), at the cycles per element measured on the development VM.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..catalog.data import load
from ..domain import Machine, Model
from .cpu_kernels import cpu_isa, kernel_path

# GGML types whose dot product takes a Q8_K activation (vec_dot_type GGML_TYPE_Q8_K in ggml-cpu's type traits)
_Q8_K_TYPES = frozenset({"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S",
                         "IQ1_S", "IQ1_M", "IQ4_XS", "TQ1_0", "TQ2_0"})
# the Q8_K types repack.cpp repacks at load on the newest build (ggml_repack_get_optimal_repack_type, as stored)
_REPACKED_Q8_K = {"neon": frozenset({"Q4_K", "Q5_K", "Q6_K"}), "x86": frozenset({"Q4_K"})}


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("cpu_sync")


def core_latency_s(machine: Machine) -> float:
    """The chip's median core-to-core cache-line latency, by the CPU's name (data/cpu_sync.yaml latency_ns)."""
    return _latency_s((machine.cpu.name if machine.cpu else "") or machine.name or "")


@lru_cache(maxsize=256)
def _latency_s(name: str) -> float:
    """core_latency_s by name, kept: `models --fits` on a CPU box asked ~25 times per option, each a regex per row."""
    table = _data()["latency_ns"]
    for entry in table["by_name"]:
        if re.search(str(entry["match"]), name, re.I):
            return float(entry["ns"]) * 1e-9
    return float(table["default"]) * 1e-9


def barrier_seconds(n_layers: int, machine: Machine) -> float:
    """Seconds per token the barriers of `n_layers` CPU layers take: barriers x threads x core-to-core latency."""
    threads = int(machine.cpu_threads or 1)
    if threads <= 1 or n_layers <= 0:
        return 0.0
    return n_layers * float(_data()["barriers_per_layer"]) * threads * core_latency_s(machine)


def serial_quant(ty: str, machine: Machine) -> bool:
    """Whether one thread alone converts a decoded token's activation to Q8_K for a mat-vec of GGML type `ty` on this
    host's llama.cpp build (machine.cpu_kernel_date; none = the newest)."""
    if ty not in _Q8_K_TYPES:
        return False
    date = machine.cpu_kernel_date
    if date and str(date) < str(_data()["parallel_quant_since"]):
        return True  # ggml_compute_forward_mul_mat split src1 by rows: one row, one thread
    family = "neon" if cpu_isa(machine) == "neon" else "x86"
    if ty not in _REPACKED_Q8_K[family]:
        return False
    return kernel_path(ty, machine) != "vec_dot"


def quant_seconds(inputs: tuple, model: Model, machine: Machine) -> float:
    """Seconds per token thread 0 spends quantizing activations alone over layers whose dense mat-vecs take `inputs`
    ((type, input elements) per layer: TokenWork.layer_inputs, each matrix's row length once, since every mat-mul
    converts its own src1). An MoE layer's attention and shared-expert mat-vecs are dense mat-muls like any other and
    count; its routed experts (MUL_MAT_ID, not in layer_inputs) are not counted: ggml's own mul_mat_id splits src1's
    conversion over the threads since #11666, and repack.cpp's forward_mul_mat_id hands src1 rows to threads (gate /
    up: one row, one thread) - not modelled."""
    clock = float(machine.cpu_clock_hz or 0)
    if not clock or int(machine.cpu_threads or 1) <= 1:
        return 0.0  # one thread: the measured kernel rates already hold the conversion
    # serial_quant reads only the type and the machine: asked once per type, not per layer
    serial = {ty: serial_quant(ty, machine) for ty in {ty for layer in inputs for ty, _ in layer}}
    elements = sum(n for layer in inputs for ty, n in layer if serial[ty])
    return elements * float(_data()["q8_k_cycles_per_element"]) / clock


def moe_extra_barriers(model: Model, layer: int) -> int:
    """Barriers an MoE feed-forward adds over the dense one that barriers_per_layer counts (data/cpu_sync.yaml
    moe_ffn): llama-graph.cpp build_moe_ffn's router, softmax, top-k, get_rows, weight normalization, three
    MUL_MAT_ID (each with its inner barrier after src1's conversion), GLU, the weighting MUL and n_used - 1 ADDs that
    sum the experts' outputs, plus a shared expert's FFN where the model has one; 0 for a dense layer. A GGUF with one
    ffn_gate_up_exps tensor (Gemma 4) runs two MUL_MAT_ID, not three: 2 barriers fewer (the node and its inner one;
    tensors.fused_gate_up_experts)."""
    if model.moe is None or not model.is_moe_layer(layer):
        return 0
    from .tensors import fused_gate_up_experts

    table = _data()["moe_ffn"]
    shared = int(table["shared_expert"]) if model.moe.shared_experts else 0
    fused = 2 if fused_gate_up_experts(model) else 0
    return int(table["routed"]) - fused + (model.moe.active - 1) + shared - int(table["dense_ffn"])


def decode_sync_seconds(layers: tuple, model: Model, machine: Machine, inputs: tuple = ()) -> float:
    """The serial part of a decoded token on the CPU for `layers` (the model's last len(layers) layers): barriers,
    MoE layers' extra ones, plus the one-thread quantization of the same layers' mat-vec `inputs`
    (TokenWork.layer_inputs)."""
    first = model.n_layers - len(layers)
    extra = sum(moe_extra_barriers(model, i) for i in range(max(0, first), model.n_layers))
    threads = int(machine.cpu_threads or 1)
    moe = extra * threads * core_latency_s(machine) if threads > 1 else 0.0
    return barrier_seconds(len(layers), machine) + moe + quant_seconds(inputs, model, machine)
