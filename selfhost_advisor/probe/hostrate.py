"""This host's core clock and read-stream bandwidth, without numpy, in well under a second (cached per boot).

Why: llama.cpp's CPU decode streams every weight once per token from RAM (read only), each thread its own rows, and
its dot kernels run at a rate set by the core clock (ggml-cpu's x86 kernels are 256-bit AVX2/AVX-VNNI code whatever
the widest vector unit). A spec sheet gives neither figure for a VM or a container: this 2-vCPU KVM guest reports
2.1 GHz (the TSC rate) and runs at 3.4, and one core streams about 8 GB/s of its host's hundreds.

- Clock: a chain of dependent register adds (`add rax, rax`, one cycle each on every x86-64 core since the P6;
  Agner Fog, instruction tables) timed over a few milliseconds, the method of lmbench's `mhz`
  (https://lmbench.sourceforge.net/man/mhz.8.html). x86-64 only; elsewhere None. An add of an immediate is not used:
  Golden Cove's renamer folds those chains (https://chipsandcheese.com/p/popping-the-hood-on-golden-cove).
  Elsewhere (ARM, or where W^X forbids the code page): each cluster's maximum clock from cpufreq sysfs
  (probe/cpufreq.py), the slower clusters' CPUs counted as efficiency cores.
- Read stream: T threads each scan their slice of a buffer larger than the last-level cache with libc memchr for a
  byte that is not there (vector loads, read only, as a mat-vec reads its rows); ctypes releases the GIL during the
  call, so the threads run in parallel. The sum over threads of bytes / the thread's CPU time, best of the
  repetitions.
Both divide by CPU time, not wall time (a stall on memory is CPU time; being preempted is not): on a shared machine a
neighbour's process would otherwise halve the figures at random, and what fit predicts is the machine running the
model, not the neighbour.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
import platform
import struct
import threading
import time
from typing import Callable

from ..record import record

MIN_STREAM_BYTES = 256 << 20  # at least 256 MiB, and 4 x the last-level cache (this VM: 300 MiB of L3, so 1.2 GiB)
# how a clock read from cpufreq sysfs (a stated maximum, not a timed one) is named in a method string
SYSFS_CLOCK = "cpufreq sysfs maximum clock per cluster"


def clock_words(method: str) -> str:
    """How a measurement's clock reads in host_speed_source (the quick probe's and probe --measure's): "core clock"
    where the probe timed it (dependent adds), "maximum clock (cpufreq sysfs)" where `method` says it is the kernel's
    stated maximum (ARM, or an x86 host whose W^X policy forbids the timing code): estimate/cpu_kernels.py
    clock_is_measured reads the difference."""
    return "maximum clock (cpufreq sysfs)" if SYSFS_CLOCK in method else "core clock"


def stream_bytes(root: str = "/", available_ram: int | None = None) -> int:
    """The read-stream buffer: 4 x the last-level cache (a stream that fits in cache measures the cache), at least
    MIN_STREAM_BYTES, and never more than a quarter of the RAM available now (a small board must not swap for it)."""
    n = max(MIN_STREAM_BYTES, 4 * last_level_cache_bytes(root))
    if available_ram:
        n = min(n, max(16 << 20, available_ram // 4))
    return n


@record
class HostRates:
    clock_hz: float | None
    read_bandwidth_bytes_per_s: int | None  # `threads` threads together
    threads: int
    seconds: float
    method: str
    thread_bandwidth_bytes_per_s: int | None = None  # one thread alone
    e_cores: int | None = None  # of `threads`, how many run on slower (efficiency / little) clusters (probe/cpufreq.py)
    e_clock_hz: float | None = None


def _add_chain() -> Callable[[int], int] | None:
    """A native function running `n` iterations of 16 dependent `add rax, rax` (x86-64 SysV/Win64 both pass the count
    in a register we read: rdi on SysV; this is only built on Linux/macOS x86-64)."""
    if platform.machine().lower() not in ("x86_64", "amd64") or os.name != "posix":
        return None
    code = bytearray.fromhex("b801000000")  # mov eax, 1
    top = len(code)
    code += bytes.fromhex("4801c0") * 16  # add rax, rax (x16, each waits for the previous)
    code += bytes.fromhex("48ffcf")  # dec rdi
    code += b"\x0f\x85" + struct.pack("<i", top - (len(code) + 6))  # jnz top
    code += b"\xc3"  # ret
    try:
        buf = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError, AttributeError):  # W^X policy (SELinux execmem, hardened kernels): no clock
        return None
    buf.write(bytes(code))
    fn = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
    fn._keep = buf  # type: ignore[attr-defined]  # the page lives as long as the function
    return fn


def core_clock_hz(reps: int = 7, iterations: int = 400_000) -> float | None:
    """Cycles per second of one core under load (turbo included): 16 x iterations adds / best time."""
    fn = _add_chain()
    if fn is None:
        return None
    fn(1000)
    best = 0.0
    for _ in range(reps):
        t0 = time.thread_time()  # CPU time of this thread: a neighbour that preempts us does not count
        fn(iterations)
        dt = time.thread_time() - t0
        if dt > 0:
            best = max(best, 16 * iterations / dt)
    return best or None


def last_level_cache_bytes(root: str = "/") -> int:
    """The largest cache sysfs lists for cpu0 (Linux), else 0."""
    base = os.path.join(root, "sys", "devices", "system", "cpu", "cpu0", "cache")
    best = 0
    try:
        names = os.listdir(base)
    except OSError:
        return 0
    for n in names:
        try:
            with open(os.path.join(base, n, "size"), encoding="ascii") as fh:
                s = fh.read().strip().upper()
        except OSError:
            continue
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:], 1)
        digits = s[:-1] if s[-1:] in "KMG" else s
        if digits.isascii() and digits.isdigit():
            best = max(best, int(digits) * mult)
    return best


def read_bandwidth(threads: int, nbytes: int, reps: int = 3) -> float | None:
    """Bytes per second `threads` threads read from a `nbytes` buffer (memchr scans, best of `reps`)."""
    got = read_bandwidths((threads,), nbytes, reps)
    return got[0] if got else None


def read_bandwidths(thread_counts: tuple[int, ...], nbytes: int, reps: int = 3) -> list[float | None] | None:
    """read_bandwidth for each thread count, over one buffer (allocating and touching it costs more than a scan)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else ctypes.CDLL(None)
        memchr = libc.memchr
    except (OSError, AttributeError):
        return None
    memchr.restype = ctypes.c_void_p
    memchr.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t)
    buf = (ctypes.c_char * nbytes)()
    ctypes.memset(buf, 7, nbytes)  # touch every page: an untouched one reads the shared zero page, not RAM
    out = [_scan_rate(memchr, buf, nbytes, t, reps) for t in thread_counts]
    del buf
    return out


def run_threads(pool: list[threading.Thread], barrier: threading.Barrier, timed: Callable[[], None] | None = None) -> None:
    """Start and join `pool`, whose threads meet at `barrier` (the caller too when `timed` is given: it is called once
    all are there, before the joins). On Ctrl-C, or any error, the barrier is broken so that no thread waits forever
    and every started thread is joined before the caller unwinds: they read buffers the caller frees. A Ctrl-C during
    the memchr scans freed the ctypes buffer under them: exit 139 (SIGSEGV) after 'measurement interrupted', about
    one run in three; a thread left at the barrier kept the process alive at exit."""
    try:
        for t in pool:
            t.start()
        if timed is not None:
            barrier.wait()
            timed()
        for t in pool:
            t.join()
    except BaseException:
        barrier.abort()  # a worker still waiting returns (BrokenBarrierError, caught by at_barrier)
        for t in pool:
            while t.is_alive():  # started and running: a scan ends in well under a second
                try:
                    t.join()
                except KeyboardInterrupt:  # a second Ctrl-C does not skip the wait: the buffer must outlive the scan
                    pass
        raise


def at_barrier(barrier: threading.Barrier) -> bool:
    """Wait at `barrier`; False when it was broken (the measurement was interrupted): the thread returns quietly."""
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return False
    return True


def _scan_rate(memchr, buf, nbytes: int, threads: int, reps: int) -> float | None:
    """`buf` itself, not its address, is what each thread holds: the buffer lives until the last scan returns."""
    chunk = nbytes // threads
    best = 0.0
    for _ in range(reps):
        barrier = threading.Barrier(threads)
        cpu = [0.0] * threads

        def scan(i: int, held=buf) -> None:
            if not at_barrier(barrier):
                return
            t0 = time.thread_time()
            memchr(ctypes.addressof(held) + i * chunk, 1, chunk)
            cpu[i] = time.thread_time() - t0

        run_threads([threading.Thread(target=scan, args=(i,)) for i in range(threads)], barrier)
        if all(c > 0 for c in cpu):
            best = max(best, sum(chunk / c for c in cpu))
    return best or None


def measure_host_rates(threads: int, root: str = "/", reps: int = 2, available_ram: int | None = None,
                       arch: str | None = None) -> HostRates:
    """Clock, the `threads`-thread read stream and one thread's (the speed model needs both: estimate/cpu_kernels.py)."""
    t0 = time.perf_counter()
    clock = core_clock_hz()
    how = "dependent-add clock"
    e_cores = e_clock = None
    if clock is None:  # ARM (or W^X): the clusters' maximum clocks from cpufreq sysfs (probe/cpufreq.py)
        clock, e_cores, e_clock, how = sysfs_clock(root, threads, arch)
    if clock is None:  # the clocked model cannot run: do not spend a second streaming RAM for nothing
        return HostRates(clock_hz=None, read_bandwidth_bytes_per_s=None, threads=threads, seconds=0.0,
                         method="no clock measurable here (x86-64 dependent adds, or Linux cpufreq sysfs)")
    nbytes = stream_bytes(root, available_ram)
    got = read_bandwidths((threads, 1) if threads > 1 else (1,), nbytes, reps) or [None]
    bw, one = got[0], got[-1]
    return HostRates(clock_hz=clock, read_bandwidth_bytes_per_s=int(bw) if bw else None, threads=threads,
                     seconds=round(time.perf_counter() - t0, 2), thread_bandwidth_bytes_per_s=int(one) if one else None,
                     method=f"{how}; memchr read stream, {threads} and 1 threads, {nbytes >> 20} MiB, "
                            f"best of {reps}, per CPU-second", e_cores=e_cores, e_clock_hz=e_clock)


def sysfs_clock(root: str, threads: int, arch: str | None = None) -> tuple[float | None, int | None, float | None, str]:
    """(clock, efficiency cores among `threads`, their clock, how) from cpufreq sysfs over the CPUs this process may
    use (probe/cpufreq.py); (None, None, None, '') when sysfs states no frequency. Only an ARM host's slower clusters
    count as efficiency cores: on x86 (an add chain W^X forbade) llama.cpp's threads are the P-cores of a hybrid part
    (probe/cpufreq.py intel_p_cores), and a few favoured cores with a higher turbo bin are not a cluster."""
    from .cpufreq import arm_clusters

    cpus = None
    if root == "/" and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
    got = arm_clusters(root, cpus)
    if got is None:
        return None, None, None, ""
    clock, slow, slow_clock = got
    arm = (arch or platform.machine()).lower() in ("aarch64", "arm64")
    e = (min(slow, max(0, threads - 1)) or None) if arm else None
    return clock, e, slow_clock if e else None, SYSFS_CLOCK


host_rates = measure_host_rates  # what the probe calls (tests replace this name, never the function)


UNSTORED_METHOD = "not measured: the cache directory is not writable"


def cached_host_rates(threads: int, boot_time: float | None, directory: str | None,
                      measure: Callable[[int], HostRates] | None = None) -> HostRates:
    """host_rates, reused while the machine has not rebooted and the usable CPU count is unchanged.

    Not measured at all (no clock, no stream: method UNSTORED_METHOD) when `directory` is not a writable directory:
    the stream buffer is 4 x the last-level cache (1.2 GiB on a 300 MiB-L3 server) and about a second, which a cache
    that cannot keep the answer would cost on every call (ADVISOR_HOME=/dev/null took 1.2 GB per `fit`)."""
    from .cpu import boot_cached

    def decode(d: dict) -> HostRates:
        # a figure anyone may have edited is dropped, as tampered figures are (_pos): a clock outside 0.1-10 GHz, or
        # efficiency cores not fewer than the threads (1e9 e_cores or a 1e-300 Hz clock priced this host at 0.0 tok/s)
        e_cores = _pos_int(d.get("e_cores"))
        return HostRates(clock_hz=_clock(d.get("clock_hz")), read_bandwidth_bytes_per_s=_pos_int(d.get("bw")),
                         threads=threads, seconds=0.0, method=str(d.get("method", ""))[:200],
                         thread_bandwidth_bytes_per_s=_pos_int(d.get("bw1")),
                         e_cores=e_cores if e_cores and e_cores < threads else None,
                         e_clock_hz=_clock(d.get("e_clock_hz")))

    def encode(r: HostRates) -> dict:
        return {"clock_hz": r.clock_hz, "bw": r.read_bandwidth_bytes_per_s, "bw1": r.thread_bandwidth_bytes_per_s,
                "method": r.method, "measured_at": time.time(), "e_cores": r.e_cores, "e_clock_hz": r.e_clock_hz}

    return boot_cached(directory, "host_rates.json", {"boot_time": boot_time, "threads": threads},
                       lambda: (measure or host_rates)(threads), decode, encode,
                       unstored=lambda: HostRates(clock_hz=None, read_bandwidth_bytes_per_s=None, threads=threads,
                                                  seconds=0.0, method=UNSTORED_METHOD))


def _pos(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x < 1e12 else None


def _clock(x) -> float | None:
    v = _pos(x)
    return v if v and 1e8 <= v <= 1e10 else None


def _pos_int(x) -> int | None:
    v = _pos(x)
    return int(v) if v else None
