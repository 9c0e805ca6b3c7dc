"""`advisor probe --measure`: this machine's own memory bandwidth, core clock and matrix-multiply rate, in seconds.

Why: a spec sheet says what the RAM could do; a shared VM, a container's CPU quota or one populated channel says
otherwise. llama.cpp's CPU decode streams every weight once per token (memory-bound, or bound by its dot kernels'
rate per cycle) and its prefill is a matrix multiply, so these are what the speed model needs for CPU layers.

- Bandwidth: a read-only stream, as decode reads its weights: T threads, then one, scan a buffer 4x the last-level
  cache with memchr (probe/hostrate.py), per CPU-second, best of the repetitions. A STREAM "copy" (McCalpin,
  https://www.cs.virginia.edu/stream/ref.html) is kept beside it for reference: on this 2-vCPU VM its 256 MiB
  arrays sat partly in the 300 MiB L3 and its rate varied 2x with the neighbours' use of that cache.
- Core clock: a dependent-add chain (probe/hostrate.py); with T it gives the kernels' rate (estimate/cpu_kernels.py).
- Matrix multiply: float32 GEMM through numpy's BLAS (all cores), 2 n^3 FLOPs per product, best of the repetitions:
  the rate of float-weight prefill.
T is the threads llama.cpp runs: the physical cores, within the CPUs this process may use (its affinity mask, capped
by the cgroup CPU quota, cpu.max).
numpy is imported here only (the measurement is the one place it is allowed); progress goes to stderr.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

from ..record import record

ARRAY_BYTES = 256 * 2**20
GEMM_N = 1024


@record
class Measurement:
    ram_bandwidth_bytes_per_s: int
    matmul_flops: float
    threads: int
    seconds: float
    method: str
    clock_hz: float | None = None
    copy_bandwidth_bytes_per_s: int | None = None
    thread_bandwidth_bytes_per_s: int | None = None  # one thread's read stream


def usable_cpus(root: str = "/") -> int:
    """CPUs this process may run on: the affinity mask, capped by the cgroup v2 cpu.max (or v1 cfs) quota."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    return max(1, min(n, int(quota)) if quota else n)


def llama_threads(root: str = "/", physical_cores: int | None = None) -> int:
    """Threads llama.cpp runs by default: its physical cores (llama-bench default -t: common/common.cpp common_cpu_get_num_math, which skips SMT siblings,
    which share one core's vector units, and on hybrid Intel under Linux the E-cores), within what this process may
    use (usable_cpus)."""
    if physical_cores is None:
        try:
            import psutil

            physical_cores = psutil.cpu_count(logical=False)
        except Exception:  # noqa: BLE001 - unknown: the usable CPUs alone
            physical_cores = None
    from .cpufreq import intel_p_cores

    p_cores = intel_p_cores(root)  # hybrid Intel: llama.cpp runs the P-cores only (probe/cpufreq.py)
    if p_cores:
        physical_cores = min(physical_cores or p_cores, p_cores)
    n = usable_cpus(root)
    return max(1, min(n, physical_cores)) if physical_cores else n


def cgroup_cpu_quota(root: str = "/") -> float | None:
    """CPUs' worth of time the cgroup may use (cpu.max 'quota period'; v1 cfs_quota_us / cfs_period_us), or None."""
    def read(path: str) -> str | None:
        try:
            with open(os.path.join(root, path), encoding="ascii", errors="replace") as fh:
                return fh.read().strip()
        except OSError:
            return None

    v2 = read("sys/fs/cgroup/cpu.max")
    if v2:
        parts = v2.split()
        if len(parts) == 2 and parts[0] != "max" and parts[0].isascii() and parts[0].isdigit() and parts[1].isascii() and parts[1].isdigit() and int(parts[1]):
            return int(parts[0]) / int(parts[1])
        return None
    q, p = read("sys/fs/cgroup/cpu/cpu.cfs_quota_us"), read("sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if q and p and q.isascii() and q.lstrip("-").isdigit() and p.isascii() and p.isdigit() and int(q) > 0 and int(p):
        return int(q) / int(p)
    return None


def _copy_rate(np, threads: int, reps: int, progress: Callable[[str], None]) -> float:
    from .hostrate import at_barrier, run_threads

    n = ARRAY_BYTES // 4
    src = np.ones(n, dtype=np.float32)
    dst = np.empty_like(src)
    bounds = [(i * n // threads, (i + 1) * n // threads) for i in range(threads)]
    best = 0.0
    for r in range(reps):
        barrier = threading.Barrier(threads + 1)

        def work(lo: int, hi: int) -> None:
            if not at_barrier(barrier):
                return
            for _ in range(4):
                np.copyto(dst[lo:hi], src[lo:hi])

        started = []
        run_threads([threading.Thread(target=work, args=b) for b in bounds], barrier,
                    timed=lambda: started.append(time.perf_counter()))
        dt = time.perf_counter() - started[0]
        best = max(best, 2 * 4 * src.nbytes / dt)
        # the reference copy, not the figure fit uses: a bare 'memory bandwidth 5/5: 17.6 GB/s' after the read
        # stream's 24.5 read as the final figure of the same measurement
        progress(f"STREAM copy (reference) {r + 1}/{reps}: {best / 1e9:.1f} GB/s")
    return best


def _gemm_rate(np, reps: int, progress: Callable[[str], None]) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    b = rng.standard_normal((GEMM_N, GEMM_N), dtype=np.float32)
    a @ b  # warm the BLAS threads
    best = 0.0
    for r in range(reps):
        t0 = time.perf_counter()
        for _ in range(2):
            a @ b
        dt = time.perf_counter() - t0
        best = max(best, 2 * 2 * GEMM_N**3 / dt)
        progress(f"matrix multiply {r + 1}/{reps}: {best / 1e9:.1f} GFLOPS")
    return best


def measure(progress: Callable[[str], None] = lambda s: None, reps: int = 5, root: str = "/") -> Measurement:
    """Run both measurements (a few seconds); raises ImportError when numpy is missing."""
    import numpy as np

    from . import hostrate

    t0 = time.perf_counter()
    threads = llama_threads(root)
    clock = hostrate.core_clock_hz()
    how = "dependent-add clock"
    if clock is None:  # ARM (or W^X): the fastest cluster's maximum clock from cpufreq sysfs (probe/cpufreq.py)
        clock = hostrate.sysfs_clock(root, threads)[0]
        how = hostrate.SYSFS_CLOCK if clock else "no clock"
    progress(f"{hostrate.clock_words(how)}: {clock / 1e9:.2f} GHz" if clock else "core clock: not measurable here")
    try:
        import psutil

        avail = int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - no figure: the cache-sized buffer alone
        avail = None
    stream_bytes = hostrate.stream_bytes(root, avail)
    got = hostrate.read_bandwidths((threads, 1) if threads > 1 else (1,), stream_bytes, reps) or [None]
    read, one = got[0] or 0.0, got[-1]
    progress(f"memory bandwidth (read): {read / 1e9:.1f} GB/s on {threads} threads, "
             f"{(one or 0) / 1e9:.1f} GB/s on one")
    copy = _copy_rate(np, threads, reps, progress)
    flops = _gemm_rate(np, reps, progress)
    return Measurement(ram_bandwidth_bytes_per_s=int(read or copy), matmul_flops=float(flops), threads=threads,
                       seconds=round(time.perf_counter() - t0, 2),
                       method=f"memchr read stream, {threads} threads, {stream_bytes >> 20} MiB, best of {reps}; "
                              f"{how}; STREAM copy {ARRAY_BYTES >> 20} MiB; "
                              f"float32 GEMM n={GEMM_N} (numpy BLAS), best of {reps}",
                       clock_hz=clock, copy_bandwidth_bytes_per_s=int(copy),
                       thread_bandwidth_bytes_per_s=int(one) if one else None)


def as_dict(m: Measurement) -> dict:
    return {"ram_bandwidth_bytes_per_s": m.ram_bandwidth_bytes_per_s, "matmul_flops": round(m.matmul_flops),
            "threads": m.threads, "seconds": m.seconds, "method": m.method, "clock_hz": m.clock_hz,
            "copy_bandwidth_bytes_per_s": m.copy_bandwidth_bytes_per_s,
            "thread_bandwidth_bytes_per_s": m.thread_bandwidth_bytes_per_s}


def with_measurement(report, m: Measurement):
    """A ProbeReport whose machine uses the measured figures for CPU-resident work (fit says so)."""
    from ..record import replace
    from .hostrate import clock_words

    clock = f", {m.clock_hz / 1e9:.2f} GHz {clock_words(m.method)}" if m.clock_hz else ""
    source = (f"measured: {m.ram_bandwidth_bytes_per_s / 1e9:.1f} GB/s read stream{clock}, {m.matmul_flops / 1e9:.0f} "
              f"GFLOPS float32 GEMM on {m.threads} threads (advisor probe --measure)")
    machine = replace(report.machine, ram_bandwidth_bytes_per_s=m.ram_bandwidth_bytes_per_s, cpu_flops=m.matmul_flops,
                      host_speed_source=source, measured_host=as_dict(m), cpu_clock_hz=m.clock_hz,
                      cpu_threads=m.threads if m.clock_hz else None,
                      cpu_thread_bandwidth_bytes_per_s=m.thread_bandwidth_bytes_per_s)
    return replace(report, machine=machine)
