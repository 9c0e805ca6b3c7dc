"""MoE expert offload: every layer on the GPU except the routed experts of the first N layers, which stay in RAM.

llama.cpp: `--n-cpu-moe N` (common/arg.cpp) is `-ot "blk\\.(0|...|N-1)\\.ffn_(up|down|gate)_exps=CPU"` with `-ngl 99`:
attention, norms, the router and shared experts (`*_shexp`) of every layer go to the GPU with the KV cache; the
routed-expert tensors (`*_exps`) of layers 0..N-1 are loaded into host memory and their mat-vecs run on the CPU.
Why it wins over layer offload: a decoded token reads only active/experts of the routed experts, so moving them to
RAM moves most of the bytes but little of the traffic, while layer offload moves attention and KV reads too.

Speed (estimate/speed.py reads `Placement.cpu_moe_layers`): the routed experts' active share of those layers is read
at RAM bandwidth, the rest at GPU bandwidth; prefill copies the experts a micro-batch uses to the GPU once per
micro-batch (ggml-backend op offload for batches of 32+ tokens, only the used experts), at PCIe speed, and below 32
tokens the CPU reads them (moe_batch.prefill_expert_seconds).
"""
from __future__ import annotations

from ..catalog.data import load
from ..domain import FitOption, FitRequest, Machine, MemoryBreakdown, Model, Placement, Quant
from ..errors import BadOptionError
from ..record import replace
from .memory import weights
from .placement import place
from .speed import estimate_speed


def has_routed_experts(model: Model) -> bool:
    return model.moe is not None and model.moe.experts > 1


def check_n_cpu_moe(model: Model, engine: str, n_cpu_moe: int) -> None:
    """Bad input for --n-cpu-moe: negative, more layers than the model has, a dense model, an engine without it."""
    from ..engines import get_engine

    if n_cpu_moe < 0 or n_cpu_moe > model.n_layers:
        raise BadOptionError(f"--n-cpu-moe {n_cpu_moe} is not between 0 and {model.id}'s {model.n_layers} layers",
                             f"give 0-{model.n_layers}")
    if n_cpu_moe and not has_routed_experts(model):
        raise BadOptionError(f"--n-cpu-moe: {model.id} is a dense model, it has no experts to keep in RAM",
                             "drop --n-cpu-moe (layer offload applies)")
    if n_cpu_moe and not get_engine(engine).expert_offload:
        raise BadOptionError(f"--n-cpu-moe is a llama.cpp option; engine {engine} has no expert offload",
                             "use --engine llamacpp or drop --n-cpu-moe")


def expert_offload(
    model: Model, quant: Quant, mem: MemoryBreakdown, machine: Machine, n_cpu_moe: int, *,
    margin_bytes: int, os_reserve_bytes: int, host_ram_known: bool,
) -> Placement:
    """Placement of `mem` with the routed experts of layers 0..n_cpu_moe-1 in RAM and everything else offloaded.

    RAM holds those experts, the input embedding, the host buffers and a CPU compute buffer for the expert
    mat-muls (taken as large as the GPU's: the same micro-batch runs through them; an upper bound).
    """
    w = weights(model, quant)
    exps = w.layer_expert_bytes or (0,) * len(mem.layer_bytes)
    n = max(0, min(n_cpu_moe, len(mem.layer_bytes)))
    in_ram = sum(exps[:n])
    gpu_side = replace(mem, layer_bytes=tuple(b - (exps[i] if i < n else 0) for i, b in enumerate(mem.layer_bytes)))
    p = place(gpu_side, machine, margin_bytes=margin_bytes, host_ram_known=False)
    host_fixed = mem.input_embedding_bytes + mem.host_bytes
    cpu_need = in_ram + host_fixed + (mem.compute_buffer_bytes if n else 0)
    note = f"--n-cpu-moe {n}: routed experts of layers 0-{n - 1} in RAM, the rest on GPU" if n else ""
    if p.fit != "gpu":
        return replace(p, cpu_moe_layers=n, note=note + ("; " if note else "") + "the GPU part does not fit")
    ram = max(0, machine.ram_bytes - os_reserve_bytes) if host_ram_known else 0
    if all(d.unified for d in machine.devices):
        ram = max(0, ram - p.gpu_bytes)
    if not n:
        return p
    if not host_ram_known:
        return replace(p, fit="no", cpu_bytes=cpu_need, missing_bytes=cpu_need, cpu_moe_layers=n,
                       note=note + "; host RAM not given: add --ram")
    fit = "partial" if cpu_need <= ram else "no"
    return replace(p, fit=fit, cpu_bytes=cpu_need, missing_bytes=max(0, cpu_need - ram), cpu_moe_layers=n, note=note)


def smallest_expert_offload(
    model: Model, quant: Quant, mem: MemoryBreakdown, machine: Machine, *,
    margin_bytes: int, os_reserve_bytes: int, host_ram_known: bool,
) -> Placement | None:
    """The expert-offload placement with the fewest layers' experts in RAM whose GPU part fits, or None.

    Fewest, because every layer moved to RAM adds its expert reads at RAM speed; the GPU part shrinks as N grows,
    so the smallest N is found by bisection.
    """
    if not has_routed_experts(model) or not machine.devices:
        return None
    kw = dict(margin_bytes=margin_bytes, os_reserve_bytes=os_reserve_bytes, host_ram_known=host_ram_known)
    n_layers = len(mem.layer_bytes)
    last = expert_offload(model, quant, mem, machine, n_layers, **kw)
    if last.gpu_layers < last.total_layers:
        return None  # even with every expert in RAM the rest does not fit
    lo, hi = 1, n_layers
    while lo < hi:
        mid = (lo + hi) // 2
        if expert_offload(model, quant, mem, machine, mid, **kw).gpu_layers == last.total_layers:
            hi = mid
        else:
            lo = mid + 1
    return expert_offload(model, quant, mem, machine, lo, **kw)


def with_expert_offload(model: Model, q: Quant, machine: Machine, request: FitRequest, plain: FitOption, *,
                        host_ram_known: bool) -> FitOption:
    """The option an engine with expert offload gives: --n-cpu-moe N as asked, or (not asked) the smallest N whose
    GPU part fits, kept when it decodes faster than plain layer offload (`plain`)."""
    if not has_routed_experts(model) or not machine.devices:
        return plain
    if request.n_cpu_moe == 0 or (request.n_cpu_moe is None and plain.placement.fit in ("gpu", "cpu")):
        return plain
    if request.n_cpu_moe is None and not host_ram_known:
        # Host RAM unknown: every N >= 1 puts experts in RAM, which expert_offload rates "no" (and its GPU part, placed
        # without RAM, is "gpu" or "no"), and a "no" alternative is never kept below: plain is the answer, so the
        # search and its speed estimate are skipped (models --fits on a bare profile evaluates hundreds of options).
        return plain
    runtime = load("engines")["runtime"]
    kw = dict(margin_bytes=int(runtime["gpu_margin_bytes"]), os_reserve_bytes=int(runtime["os_reserve_bytes"]),
              host_ram_known=host_ram_known)
    if request.n_cpu_moe is None:
        alt = smallest_expert_offload(model, q, plain.memory, machine, **kw)
    else:
        alt = expert_offload(model, q, plain.memory, machine, request.n_cpu_moe, **kw)
    if alt is None:
        return plain
    depth = request.context // 2
    speed = estimate_speed(model, q, alt, machine, kv_cache_type=request.kv_cache_type,
                           decode_depth=depth, prefill_depth=min(depth, 256), n_ubatch=request.n_ubatch)
    option = FitOption(quant=q, memory=plain.memory, placement=alt, speed=speed)
    if request.n_cpu_moe is not None:
        return option
    if plain.placement.fit == "no":
        return option if alt.fit != "no" else plain
    faster = (speed.decode_tokens_per_s or 0.0) > ((plain.speed.decode_tokens_per_s if plain.speed else 0.0) or 0.0)
    return option if alt.fit == "partial" and faster else plain

