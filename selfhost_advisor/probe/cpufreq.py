"""Core clocks and core types from Linux sysfs, where the dependent-add clock (probe/hostrate.py) cannot run.

Why: the clocked CPU model (estimate/cpu_kernels.py) needs the clock the threads run at. On x86-64 the probe times a
chain of dependent adds; elsewhere (ARM boards, Apple silicon under Linux) /proc/cpuinfo carries no clock at all, and
the probe fell back to the FLOPS estimate of a desktop. Linux's cpufreq sysfs states each CPU's maximum frequency
(`/sys/devices/system/cpu/cpuN/cpufreq/cpuinfo_max_freq`, kHz; Documentation/admin-guide/pm/cpufreq.rst), and its
distinct values are the clusters of a big.LITTLE part (sbc-bench's "CPU sysfs topology" table reads the same files:
Snapdragon 8cx Gen 3, 4 x 2438 MHz Cortex-A78C + 4 x 2995 MHz Cortex-X1C, ThomasKaiser/sbc-bench#141).

- clock: the highest cluster's maximum (what a core of that cluster runs at under llama.cpp's load on a board that
  does not throttle; like a spec sheet's maximum, an upper bound where it does);
- efficiency cores: the CPUs of every lower cluster (llama.cpp's default threads on ARM are all physical cores,
  common/common.cpp cpu_get_num_physical_cores), with their mean maximum clock; ggml-cpu hands out mat-mul chunks
  dynamically, so they add their own rate (estimate/cpu_kernels.py vector_flops);
- hybrid Intel under Linux: /sys/devices/cpu_atom/cpus lists the E-cores (the perf PMU of the Atom core type) and
  /sys/devices/cpu_core/cpus the P-cores; llama.cpp's default threads there are the P-cores only, one per core
  (common/common.cpp cpu_get_num_math skips `is_running_on_efficiency_core` CPUs and SMT siblings).
"""
from __future__ import annotations

import os
from typing import Iterable

MAX_CPUS = 4096


def _read(root: str, *parts: str) -> str | None:
    try:
        with open(os.path.join(root, *parts), encoding="ascii", errors="replace") as fh:
            return fh.read(4096).strip()
    except OSError:
        return None


def parse_cpu_list(text: str | None) -> list[int]:
    """'0-3,8,10-11' -> [0, 1, 2, 3, 8, 10, 11] (the kernel's cpulist format); [] when unreadable."""
    out: list[int] = []
    for part in (text or "").split(","):
        a, sep, b = part.strip().partition("-")
        if not (a.isascii() and a.isdigit()) or (sep and not (b.isascii() and b.isdigit())):
            continue
        lo, hi = int(a), int(b) if sep else int(a)
        if lo <= hi < MAX_CPUS:
            out.extend(range(lo, hi + 1))
    return out


def max_freqs_hz(root: str = "/", cpus: Iterable[int] | None = None) -> dict[int, float]:
    """cpu -> cpuinfo_max_freq in Hz, for the CPUs that state one (kHz values of 100 MHz - 10 GHz only)."""
    base = ("sys", "devices", "system", "cpu")
    if cpus is None:
        present = parse_cpu_list(_read(root, *base, "present")) or parse_cpu_list(_read(root, *base, "online"))
        cpus = present
    out: dict[int, float] = {}
    for cpu in cpus:
        text = _read(root, *base, f"cpu{cpu}", "cpufreq", "cpuinfo_max_freq")
        if text and text.isascii() and text.isdigit() and 100_000 <= int(text) <= 10_000_000:
            out[cpu] = int(text) * 1e3
    return out


def arm_clusters(root: str = "/", cpus: Iterable[int] | None = None) -> tuple[float, int, float | None] | None:
    """(clock of the fastest cluster, how many CPUs are in slower clusters, their mean maximum clock or None), from
    cpufreq sysfs; None when no CPU states a maximum frequency."""
    freqs = max_freqs_hz(root, cpus)
    if not freqs:
        return None
    top = max(freqs.values())
    # clusters within 2% of the top are the same cluster (a board's OPP tables differ by a few MHz per core)
    slow = [f for f in freqs.values() if f < 0.98 * top]
    return top, len(slow), (sum(slow) / len(slow) if slow else None)


def intel_p_cores(root: str = "/", cpus: Iterable[int] | None = None) -> int | None:
    """Physical P-cores of a hybrid Intel part (cpu_core PMU's CPUs, one per core), when cpu_atom exists; else None."""
    atom = parse_cpu_list(_read(root, "sys", "devices", "cpu_atom", "cpus"))
    core = parse_cpu_list(_read(root, "sys", "devices", "cpu_core", "cpus"))
    if not atom or not core:
        return None
    allowed = set(cpus) if cpus is not None else None
    seen = set()
    for cpu in core:
        if allowed is not None and cpu not in allowed:
            continue
        topo = ("sys", "devices", "system", "cpu", f"cpu{cpu}", "topology")
        key = (_read(root, *topo, "physical_package_id"), _read(root, *topo, "core_id"))
        seen.add(key if key[1] is not None else ("cpu", cpu))
    return len(seen) or None


# FP32 FLOP per cycle of Arm cores by MIDR part number (Linux arch/arm64/include/asm/cputype.h ARM_CPU_PART_*), where
# the core's vector pipes were read: Cortex-X1 has four 128-bit Neon units, its base Cortex-A77/A78 two ("Two new Neon
# units (for a total of four)", Linley Group, "Cortex-X1: A Bigger Arm", 2020-06-02), or measured: one-core FP32 FMLA
# peaks of pigirons/cpufp (benchmark_result/arm64/, 24 independent accumulators): Cortex-A76 38.37 GFLOPS at 2.4 GHz
# (Broadcom_BCM2712, Raspberry Pi 5) and Cortex-A720 41.56 at 2.6 GHz (CIX_P1_CD8180) = 16 per cycle, Cortex-A520
# 14.34 at 1.8 GHz = 8 (docs/methodology.md 4e-cpu4). Other parts: not stated, so the defaults stay (32 for the
# fastest cluster, 16 for slower ones).
ARM_PART_FLOPS_PER_CYCLE = {
    0xD44: 32, 0xD4C: 32,  # Cortex-X1, X1C: 4 x 128-bit
    0xD0D: 16, 0xD41: 16, 0xD42: 16, 0xD4B: 16,  # Cortex-A77, A78, A78AE, A78C: 2 x 128-bit
    0xD0B: 16, 0xD81: 16, 0xD80: 8,  # Cortex-A76, A720, A520: cpufp's measured FMLA rate
}


def cpu_parts(root: str = "/") -> dict[int, int]:
    """cpu -> MIDR part number from /proc/cpuinfo's `processor` / `CPU part` lines (ARM layout); {} elsewhere."""
    text = _read_all(root, "proc", "cpuinfo")
    out: dict[int, int] = {}
    cpu = None
    for line in (text or "").splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "processor" and value.isascii() and value.isdigit():
            cpu = int(value)
        elif key == "cpu part" and cpu is not None:
            try:
                out[cpu] = int(value, 16)
            except ValueError:
                pass
    return out


def arm_flops_per_cycle(root: str = "/", cpus: Iterable[int] | None = None) -> tuple[int | None, int | None]:
    """(FLOP per cycle of the fastest cluster's cores, of the slower clusters' cores), each None where the part is not
    in ARM_PART_FLOPS_PER_CYCLE or the clusters' parts disagree."""
    freqs = max_freqs_hz(root, cpus)
    parts = cpu_parts(root)
    if not freqs or not parts:
        return None, None
    top = max(freqs.values())

    def width(sel: list[int]) -> int | None:
        got = {ARM_PART_FLOPS_PER_CYCLE.get(parts.get(c, -1)) for c in sel}
        return got.pop() if len(got) == 1 else None

    fast = [c for c, f in freqs.items() if f >= 0.98 * top]
    slow = [c for c, f in freqs.items() if f < 0.98 * top]
    return width(fast), (width(slow) if slow else None)


def _read_all(root: str, *parts: str) -> str | None:
    try:
        with open(os.path.join(root, *parts), encoding="utf-8", errors="replace") as fh:
            return fh.read(1 << 20)
    except OSError:
        return None
