"""One core's DRAM read stream on a host described by a spec sheet: the published single-core figure of its core type
(data/cpu_core_bandwidth.yaml; docs/methodology.md 4e-cpu5).

Why: CPU decode streams each thread's share of the weights and runs the dot kernel on it, one after the other
(cpu_kernels.decode_seconds); on a spec-sheet host nobody measured the one-thread stream, and taking the socket's
whole bandwidth for it made a 4-16 thread Graviton or Grace decode 1.5-2x too fast: a server core's own stream is
bounded by the misses it keeps in flight (Graviton4's Neoverse V2: 37 GB/s of the socket's 537.6 GB/s, learn.arm.com
ASCT bandwidth-sweep).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from ..catalog.data import load
from ..domain import Machine


@lru_cache(maxsize=1)
def _table() -> tuple:
    return tuple((re.compile(str(e["match"]), re.I), float(e["gbps"]) * 1e9)
                 for e in load("cpu_core_bandwidth")["by_name"])


def core_stream_by_name(name: str) -> float | None:
    """The published one-core DRAM read bandwidth (bytes/s) of the core type a CPU's name names; None when unlisted."""
    for pattern, rate in _table():
        if pattern.search(name or ""):
            return rate
    return None


def core_stream_bytes_per_s(machine: Machine) -> float | None:
    """The published one-core DRAM read bandwidth of the host's core type, by the CPU's name; None when unlisted."""
    return core_stream_by_name((machine.cpu.name if machine.cpu else "") or machine.name or "")


def unloaded_core_stream(machine: Machine, bandwidth: float) -> float | None:
    """One core's read stream with the memory system otherwise idle, on a host described by a spec sheet that gives a
    one-core figure (its thread_bandwidth, else its core type's published figure), against `bandwidth`, the stream all
    its cores reach together; infinite where the figure reaches `bandwidth` (the core alone saturates the memory);
    None for a probed or measured host and for a core nobody gave a figure for.

    Why: a core's stream is latency-bound (Little's law: the lines it keeps in flight x 64 B / the DRAM latency), and
    the latency grows with the memory system's utilisation rho as L0 / (1 - rho) (M/M/1, docs/methodology.md 4e-cpu9).
    A single-core figure was measured with that core alone loading the memory, at rho1 = figure / bandwidth, so its
    unloaded rate is figure / (1 - rho1): one core streaming alone then reproduces the figure exactly."""
    if machine.source != "profile":
        return None  # a probed host's streams were measured under the load its own threads make
    one = machine.cpu_thread_bandwidth_bytes_per_s or core_stream_bytes_per_s(machine)
    if not one or not bandwidth:
        return None
    if one >= bandwidth:
        return math.inf
    return float(one) / (1.0 - float(one) / bandwidth)


def thread_stream_bytes_per_s(machine: Machine, bandwidth: float) -> float:
    """One decode thread's read stream: the host's measured one-thread stream, else its core type's published figure
    (never above the whole stream), else the whole stream (a core alone may draw it: a desktop's or laptop's)."""
    if machine.cpu_thread_bandwidth_bytes_per_s:
        return float(machine.cpu_thread_bandwidth_bytes_per_s)
    core = core_stream_bytes_per_s(machine)
    return min(core, bandwidth) if core else bandwidth
