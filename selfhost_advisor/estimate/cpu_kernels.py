"""CPU-resident layers on a host whose core clock and thread count are known (probed or measured): time by the rate
of llama.cpp's CPU kernels per cycle, not by a FLOPS figure of another kind of code.

Why: ggml-cpu's quantized dot and matmul kernels on x86 are 256-bit code (AVX2, with AVX-VNNI/AVX512-VNNI's
`vpdpbusd` on 256-bit registers: ggml/src/ggml-cpu/arch/x86/quants.c `mul_sum_us8_pairs_float`, repack.cpp), so on
an AVX-512 server core a float32 GEMM (OpenBLAS's SkylakeX kernel) runs twice as fast per cycle as anything llama.cpp
does with quantized weights. The rate that carries from one host to another is operations per cycle per thread, by
kernel; the clock and the threads are this host's (probe/hostrate.py).

- Vector FLOPS = threads x clock x 32 (FP32 FLOP per cycle of two 256-bit FMA pipes; NEON: 4 x 128-bit), the unit
  of data/speed.yaml `cpu_matvec` (decode: the dot kernels' weights per FLOP) and `cpu_prefill` (prefill: operations
  per vector FLOP by GGML type, measured by benchmarks/cpu_kernels.py).
- Prefill seconds per token = sum over matrices 2 x weights / (ops_per_vector_flop[type] x vector FLOPS), plus
  attention at the float rate (1 op per vector FLOP).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Machine

_FLOAT_TYPES = frozenset({"F64", "F32", "F16", "BF16"})


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("speed")


def vector_flops(machine: Machine) -> float | None:
    """threads x clock x FP32 FLOP per cycle of the kernels' vector width, when the probe gave clock and threads."""
    if not machine.cpu_clock_hz or not machine.cpu_threads:
        return None
    per_cycle = float(_data()["cpu_prefill"]["flop_per_cycle"])
    return float(machine.cpu_threads) * float(machine.cpu_clock_hz) * per_cycle


def cpu_isa(machine: Machine) -> str:
    """The ISA family of llama.cpp's CPU dot kernels on this host: vnni (an int8 dot instruction: AVX512-VNNI or
    AVX-VNNI), neon (with dotprod), else avx2 (also for hosts described by a profile, which list no flags)."""
    flags = set(machine.cpu.flags) if machine.cpu else set()
    if "avx512_vnni" in flags or "avx_vnni" in flags:
        return "vnni"
    if "neon" in flags and "dotprod" in flags:
        return "neon"
    return "avx2"


def prefill_isa(machine: Machine) -> str:
    """The family of llama.cpp's CPU prompt kernels on this host. As cpu_isa, but a VNNI host without AVX-512 is
    vnni256: ggml-cpu's K-quant GEMMs have AVX-512 code that such a host cannot run, and its 256-bit code reaches
    0.4-0.85 of the AVX-512 rate per vector FLOP on the same core (data/speed.yaml cpu_prefill, docs/methodology.md 4e)."""
    isa = cpu_isa(machine)
    flags = set(machine.cpu.flags) if machine.cpu else set()
    return "vnni256" if isa == "vnni" and "avx512_vnni" not in flags else isa


@lru_cache(maxsize=8)
def prefill_rates(isa: str) -> tuple[dict[str, float], float, float]:
    """(ops per vector FLOP by GGML type, the median for quantized types not measured, the float-weight rate).
    A family nobody measured (avx2, neon) takes the 256-bit VNNI rates (vnni256; vnni where that is absent) scaled by
    cpu_matvec's published ISA ratio, as decode does: their kernels are 256-bit (or 4 x 128-bit NEON) code too."""
    fams = _data()["cpu_prefill"]["families"]
    fam = fams.get(isa) or fams.get("vnni256") or fams["vnni"]
    scale = 1.0
    if isa not in fams:
        ratio = _data()["cpu_matvec"]
        scale = float(ratio[isa]["weights_per_flop"]) / float(ratio["vnni"]["weights_per_flop"]) if isa in ratio else 1.0
    rates = {str(k): float(v) * (1.0 if k in _FLOAT_TYPES else scale) for k, v in fam["ops_per_vector_flop"].items()}
    quant = sorted(v for k, v in rates.items() if k not in _FLOAT_TYPES)
    mid = len(quant) // 2
    median = quant[mid] if len(quant) % 2 else (quant[mid - 1] + quant[mid]) / 2
    return rates, median, float(fam.get("float_ops_per_vector_flop", 1.0))


@lru_cache(maxsize=8)
def decode_rates(isa: str) -> tuple[dict[str, float], float]:
    """(weights per vector FLOP of the decode dot kernels by GGML type, the median for types not measured), from
    speed.yaml cpu_decode; a family nobody measured: vnni's, scaled by cpu_matvec's published ISA ratio."""
    fams = _data()["cpu_decode"]["families"]
    scale = 1.0
    if isa not in fams:
        ratio = _data()["cpu_matvec"]
        scale = float(ratio[isa]["weights_per_flop"]) / float(ratio["vnni"]["weights_per_flop"]) if isa in ratio else 1.0
    fam = fams.get(isa) or fams["vnni"]
    rates = {str(k): float(v) * scale for k, v in fam["weights_per_vector_flop"].items()}
    values = sorted(rates.values())
    mid = len(values) // 2
    return rates, values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def kernel_seconds(matrices, machine: Machine) -> float:
    """Seconds the decode dot kernels take over `matrices` ((type, weights) pairs) on this host's vector FLOPS;
    float weights (F16/BF16/F32 dot products) at the median rate."""
    vf = vector_flops(machine) or 1.0
    rates, median = decode_rates(cpu_isa(machine))
    return sum(n / (rates.get(ty, median) * vf) for ty, n in matrices)


def decode_seconds(nbytes: float, kernel_s: float, machine: Machine, bandwidth: float) -> float:
    """Seconds per decoded token of mat-vecs over `nbytes` whose dot kernels take `kernel_s` (kernel_seconds).

    Each of the T threads streams its share of the rows at the one-thread read rate and runs the dot kernel on them,
    one after the other (a core does not overlap the two: on the development VM one thread's decode time is the
    stream time plus a kernel time proportional to the weights, within 15% whatever the GGML type; methodology 4e);
    the T-thread read stream (`bandwidth`) caps the whole when the socket, not the cores, is the limit.
    """
    threads = float(machine.cpu_threads or 1)
    per_thread = float(machine.cpu_thread_bandwidth_bytes_per_s or bandwidth / threads)
    return max(nbytes / bandwidth, nbytes / (threads * per_thread) + kernel_s)


def prefill_seconds(layers: tuple, attention_flops: float, machine: Machine) -> float | None:
    """Seconds per prompt token of `layers` ((type, weights, bytes) per matrix) plus `attention_flops` on this host's
    CPU; None when the probe gave no clock (the FLOPS-based estimate then applies)."""
    vf = vector_flops(machine)
    if not vf:
        return None
    rates, median, float_rate = prefill_rates(prefill_isa(machine))
    seen: dict[tuple, float] = {}
    total = 0.0
    for mats in layers:
        s = seen.get(mats)
        if s is None:
            s = seen[mats] = sum(2.0 * n / ((float_rate if ty in _FLOAT_TYPES else rates.get(ty, median)) * vf)
                                 for ty, n, _ in mats)
        total += s
    return total + attention_flops / (float_rate * vf)
