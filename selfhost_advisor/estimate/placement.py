"""Where a model runs: fully on GPU, partly offloaded (whole layers), on CPU, or not at all.

llama.cpp semantics (src/llama-model.cpp load_tensors, -ngl): the n_layers repeating blocks plus the output
head count as n_layers + 1 offloadable layers; the input token embedding always stays in host memory;
with several GPUs, layers are split across devices (memory adds up), and each device also holds its GPU
context and a compute buffer. Full offload over several GPUs follows llama.cpp's default tensor split, proportional to each GPU's free memory
(mixed cards included); when that overflows a card, or for partial offload, layers are placed whole, in order,
filling each device before the next, as llama.cpp's --fit ends up doing.
Each device keeps `margin_bytes` free, as llama.cpp's --fit does (data/engines.yaml).
"""
from __future__ import annotations

from bisect import bisect_right
from itertools import accumulate

from ..domain import Machine, MemoryBreakdown, Placement


def device_budgets(machine: Machine, margin_bytes: int) -> list[int]:
    """Memory per device a model may use: the Metal working-set limit on Apple, else VRAM; minus the margin."""
    out = []
    for d in machine.devices:
        base = d.usable_memory_bytes if d.usable_memory_bytes is not None else d.memory_bytes
        out.append(max(0, base - margin_bytes))
    return out


def place(
    mem: MemoryBreakdown,
    machine: Machine,
    *,
    margin_bytes: int = 0,
    os_reserve_bytes: int = 0,
    host_ram_known: bool = True,
) -> Placement:
    """Place `mem` on `machine` the way llama.cpp offloads layers."""
    total_layers = len(mem.layer_bytes) + 1
    ram = max(0, machine.ram_bytes - os_reserve_bytes) if host_ram_known else 0
    n_dev = len(machine.devices)
    host_fixed = mem.input_embedding_bytes + mem.host_bytes
    cpu_only_need = mem.weights_bytes + mem.kv_cache_bytes + mem.compute_buffer_bytes + mem.host_bytes + mem.projector_bytes
    if n_dev == 0:
        return _cpu_or_no(cpu_only_need, ram, total_layers)

    gpu_runtime_per_device = (mem.runtime_bytes - mem.host_bytes) // n_dev
    per_device_fixed = mem.compute_buffer_bytes + gpu_runtime_per_device
    free = [max(0, b - per_device_fixed) for b in device_budgets(machine, margin_bytes)]
    # a vision projector (--mmproj) loads on the main GPU (llama.cpp clip: the first GPU backend), beside the layers
    free[0] = max(0, free[0] - mem.projector_bytes)
    per_device_fixed_total = per_device_fixed * n_dev + mem.projector_bytes
    if n_dev > 1:
        split = _proportional_split(mem, machine, free)
        if split is not None:
            used, layers = split
            return Placement("gpu", total_layers, total_layers, sum(used) + per_device_fixed_total, host_fixed, 0,
                             tuple(used), per_device_layers=tuple(layers))
    items = [*mem.layer_bytes, mem.output_bytes]
    used, layers, placed = _fill_in_order(items, free, len(mem.layer_bytes))
    split = tuple(layers)
    gpu_bytes = sum(used) + per_device_fixed_total
    remaining = sum(items[placed:]) + host_fixed
    if placed == total_layers:
        return Placement("gpu", placed, total_layers, gpu_bytes, host_fixed, 0, tuple(used), per_device_layers=split)
    if not host_ram_known:
        short = sum(items) - sum(free)
        return Placement(
            "no", placed, total_layers, gpu_bytes, 0, max(short, 1), tuple(used),
            note="host RAM not given: add --ram to consider partial offload to system memory", per_device_layers=split,
        )
    if all(d.unified for d in machine.devices):
        # Unified memory: what the GPU holds comes out of the same RAM.
        ram = max(0, ram - gpu_bytes)
    if placed == 0:
        return _cpu_or_no(cpu_only_need, ram, total_layers)
    if remaining <= ram:
        return Placement("partial", placed, total_layers, gpu_bytes, remaining, 0, tuple(used), per_device_layers=split)
    return Placement("no", placed, total_layers, gpu_bytes, remaining, remaining - ram, tuple(used), per_device_layers=split)


def _fill_in_order(items: list[int], free: list[int], n_layers: int) -> tuple[list[int], list[int], int]:
    """Items (the layers' bytes, then the output head's) placed whole and in order, each device filled before the
    next: an item goes to the current device if it fits in what is left there, else to the next device it fits on;
    placing stops at the first item no later device holds. Returns the bytes and the repeating layers on each device
    and the items placed.

    Each device takes the longest run of the next items whose sum fits (the bytes are non-negative, so their running
    totals never fall): found by bisection over the running totals, not item by item (fit evaluates a placement for
    every option of every catalog model: ~20% of `models --fits`' CPU went to the item loop)."""
    totals = list(accumulate(items))
    used, layers = [0] * len(free), [0] * len(free)
    start = 0
    for dev, room in enumerate(free):
        if start == len(items):
            break
        base = totals[start - 1] if start else 0
        end = bisect_right(totals, base + room, lo=start)  # items start..end-1 fit: their sum is totals[end-1] - base
        if end > start:
            used[dev] = totals[end - 1] - base
            layers[dev] = max(0, min(end, n_layers) - start)
        start = end
    return used, layers, start


def _cpu_or_no(need: int, ram: int, total_layers: int) -> Placement:
    if need <= ram:
        return Placement("cpu", 0, total_layers, 0, need)
    return Placement("no", 0, total_layers, 0, need, need - ram)


def tensor_split(machine: Machine) -> list[float]:
    """llama.cpp's default --tensor-split: each GPU's share of the summed free memory (llama-model.cpp load_tensors:
    "default split, by free memory", ggml_backend_dev_memory). Free memory is the probed figure where known, else the
    card's total."""
    free = [float(d.free_memory_bytes or d.usable_memory_bytes or d.memory_bytes) for d in machine.devices]
    total = sum(free) or 1.0
    return [f / total for f in free]


def _proportional_split(mem: MemoryBreakdown, machine: Machine, free: list[int]) -> tuple[list[int], list[int]] | None:
    """Full offload laid out as llama.cpp does by default, or None when a device would overflow.

    Offloaded layer il (the n repeating layers, then the output head as layer n) goes to the first device whose
    cumulative split exceeds il / (n + 1) (std::upper_bound over the cumulative splits). When a device overflows,
    llama.cpp's --fit (on by default) moves layers to where they fit; the in-order fill of `place` stands for it.
    """
    items = list(mem.layer_bytes) + [mem.output_bytes]
    n_items = len(items)
    cum, acc = [], 0.0
    for share in tensor_split(machine):
        acc += share
        cum.append(acc)
    used = [0] * len(free)
    layers = [0] * len(free)
    last = len(cum) - 1
    for il, size in enumerate(items):
        dev = min(bisect_right(cum, il / n_items), last)  # the first device whose cumulative split exceeds il / n
        used[dev] += size
        if il < n_items - 1:
            layers[dev] += 1
    if any(u > f for u, f in zip(used, free)):
        return None
    return used, layers
