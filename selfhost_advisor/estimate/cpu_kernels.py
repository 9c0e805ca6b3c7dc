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
  attention at the float rate (1 op per vector FLOP). A type with no prompt GEMM on the host's ISA runs its decode dot
  kernel per token (2 ops per weight at the decode rate); AVX-512 takes the full-width rates only on a core with two
  512-bit FMA pipes (docs/methodology.md 4e-cpu).
- A host of an older llama.cpp build (a spec's build_date) runs the prompt kernel that build had for each type
  (data/cpu_kernel_paths.yaml: tinyBLAS, the dot kernel, a 256-bit GEMM; kernel_path), and tinyBLAS's equal split of
  its tiles is paced by the slowest core of a hybrid part (static_split_pace; docs/methodology.md 4e-cpu3).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

from ..catalog.data import load
from ..domain import Machine
from ..lazy_re import lazy
from .cpu_core_bw import thread_stream_bytes_per_s, unloaded_core_stream

_FLOAT_TYPES = frozenset({"F64", "F32", "F16", "BF16"})


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("speed")


def vector_flops(machine: Machine) -> float | None:
    """threads x clock x FP32 FLOP per cycle of the kernels' vector width (32: two 256-bit FMA pipes, four 128-bit
    NEON pipes), when the probe or a spec gave clock and threads. A core of two 128-bit NEON pipes (a spec's
    flops_per_cycle=16) has half that; a full-width AVX-512 core (64) keeps 32, the unit its measured rates are in.
    On a hybrid part the efficiency cores (cpu_e_cores of the threads) add their own clock x FLOP per cycle."""
    if not machine.cpu_clock_hz or not machine.cpu_threads:
        return None
    unit = float(_data()["cpu_prefill"]["flop_per_cycle"])
    per_cycle = min(unit, float(flops_per_cycle(machine)))
    threads = int(machine.cpu_threads)
    e = min(int(machine.cpu_e_cores or 0), threads)
    total = float(threads - e) * float(machine.cpu_clock_hz) * per_cycle
    if e:
        # a hybrid part: ggml-cpu's mat-muls hand out row chunks dynamically (ggml-cpu.c ggml_compute_forward_mul_mat,
        # an atomic chunk counter since llama.cpp #6915), so each core adds its own rate (methodology 4e-cpu2)
        e_clock = float(machine.cpu_e_clock_hz or machine.cpu_clock_hz)
        e_per_cycle = min(unit, float(machine.cpu_e_flops_per_cycle or E_CORE_FLOPS_PER_CYCLE))
        total += float(e) * e_clock * e_per_cycle
    return total


def static_split_pace(machine: Machine) -> float:
    """The share of vector_flops a kernel that splits its tiles equally over the threads reaches: on a hybrid part the
    slowest core finishes last, so T x the slowest core's rate over the sum of the cores' rates (1 on equal cores).
    llamafile's tinyBLAS_Q0_AVX / tinyBLAS_Q0_ARM give each thread `duty = (tiles + nth - 1) / nth` tiles
    (ggml-cpu/llamafile/sgemm.cpp), unlike ggml's own mat-mul, whose chunks are handed out dynamically."""
    total = vector_flops(machine)
    e = min(int(machine.cpu_e_cores or 0), int(machine.cpu_threads or 0))
    if not total or not e:
        return 1.0
    unit = float(_data()["cpu_prefill"]["flop_per_cycle"])
    p_rate = float(machine.cpu_clock_hz) * min(unit, float(flops_per_cycle(machine)))
    e_rate = float(machine.cpu_e_clock_hz or machine.cpu_clock_hz) * min(
        unit, float(machine.cpu_e_flops_per_cycle or E_CORE_FLOPS_PER_CYCLE))
    return min(1.0, float(machine.cpu_threads) * min(p_rate, e_rate) / total)


# An efficiency / little core whose vector width nobody stated: two 128-bit pipes (Intel's Gracemont, Arm's
# Cortex-A7xx and Neoverse N), the class a spec's flops_per_cycle=16 names (docs/cli.md custom keys)
E_CORE_FLOPS_PER_CYCLE = 16


# AVX-512 cores that execute a 512-bit vector at full width (two 512-bit FMA pipes): Intel Xeon Scalable, Zen 5
# desktop and server (Ryzen 9000 desktop, Threadripper 9000, EPYC 9005 and 4005). Zen 4, Zen 5 mobile and client Intel's
# AVX-512 (Ice/Tiger/Rocket Lake) split a 512-bit operation over their 256-bit datapath.
_FULL_WIDTH_AVX512 = lazy(r"xeon|epyc\s*[49]\d\d5|ryzen\s*[3579]\s*9\d\d0|threadripper\s*(pro\s*)?9\d\d\d", re.I)


def full_width_avx512(name: str) -> bool:
    """Whether a CPU of this name executes a 512-bit vector at full width (_FULL_WIDTH_AVX512: Xeon Scalable, Zen 5
    desktop and server); the rule a probed host's name and a spec sheet's `name` both go through."""
    return bool(_FULL_WIDTH_AVX512.search(name or ""))


def flops_per_cycle(machine: Machine) -> int:
    """FP32 FLOP per cycle of one core: a spec's own figure, else 64 for a full-width AVX-512 core (by its name; an
    unnamed AVX-512 host counts as one, as the development VM's measurements were), 32 otherwise."""
    if machine.cpu_flops_per_cycle:
        return int(machine.cpu_flops_per_cycle)
    flags = set(machine.cpu.flags) if machine.cpu else set()
    if "avx512f" in flags or "avx512_vnni" in flags:
        name = machine.cpu.name if machine.cpu else ""
        return 64 if (not name.strip() or full_width_avx512(name)) else 32
    return 32


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
    """The family of llama.cpp's CPU prompt kernels on this host. As cpu_isa, but a VNNI host without full-width
    AVX-512 is vnni256: ggml-cpu's K-quant GEMMs have AVX-512 code that a host without AVX-512 cannot run, and its
    256-bit code reaches 0.4-0.85 of the AVX-512 rate per vector FLOP on the same core (data/speed.yaml cpu_prefill,
    docs/methodology.md 4e); a core that splits each 512-bit operation over a 256-bit datapath (Zen 4, client Intel)
    gets no more per cycle from that code than from the 256-bit one."""
    isa = cpu_isa(machine)
    flags = set(machine.cpu.flags) if machine.cpu else set()
    if isa == "vnni" and ("avx512_vnni" not in flags or flops_per_cycle(machine) < 64):
        return "vnni256"
    return isa


# Types with a prompt GEMM of their own in ggml-cpu (the rest run the decode dot kernel, ggml_vec_dot_*, once per
# token and row): x86 - llamafile tinyBLAS for Q8_0 Q4_0 Q5_0 IQ4_NL (ggml-cpu/llamafile/sgemm.cpp, AVX/AVX2/AVX-512),
# the repacked Q4_0 Q4_K IQ4_NL Q2_K and the K-quant tiles (repack.cpp; the types measured in cpu_prefill);
# ARM (ggml-cpu/repack.cpp ggml_repack_get_optimal_repack_type, 2026) - repacked Q4_0 Q4_K Q5_K Q6_K Q8_0 (i8mm 8x8 /
# 4x8, else dotprod 8x4 / 4x4) and IQ4_NL; tinyBLAS_Q0_ARM for Q8_0 before Q8_0 was repacked (data/cpu_kernel_paths.yaml).
_GEMM_X86_EXTRA = frozenset({"Q5_0", "IQ4_NL"})
# the types whose prompt GEMM is tinyBLAS on the newest build (the rest of the GEMMs are repacked or tiled kernels)
_TINYBLAS_X86 = frozenset({"Q8_0", "Q5_0"})
_TINYBLAS_NEON: frozenset = frozenset()  # ARM's Q8_0 is repacked since llama.cpp #18096 (2025-12-16): repack_q8_0
_GEMM_NEON = frozenset({"Q4_0", "Q8_0", "IQ4_NL", "Q4_K", "Q5_K", "Q6_K"})  # dotprod and i8mm cores alike (2026)


def has_gemm(ty: str, machine: Machine, measured: frozenset) -> bool:
    """Whether llama.cpp's CPU backend has a prompt GEMM for GGML type `ty` on this host (else vec_dot)."""
    if ty in _FLOAT_TYPES:
        return True
    if cpu_isa(machine) == "neon":
        return ty in _GEMM_NEON
    return ty in measured or ty in _GEMM_X86_EXTRA or ty in _x86_gemm_types()


@lru_cache(maxsize=1)
def _x86_gemm_types() -> frozenset:
    """Types data/cpu_kernel_paths.yaml gives an x86 GEMM in the newest build (their last entry is not the dot
    kernel): the i-quants of the tiled mul_mat (#27851) have one without a measured vnni256 / avx2 rate."""
    return frozenset(ty for ty, entries in _kernel_paths().get("x86", {}).items()
                     if entries and entries[-1]["path"] != "vec_dot")


def _median(values) -> float:
    """The median of `values` (the mean of the middle two for an even count): the rate of a type no kernel table
    lists, in prefill_rates, clocked_avx2_prefill_rates and decode_rates."""
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


@lru_cache(maxsize=8)
def prefill_rates(isa: str) -> tuple[dict[str, float], float, float]:
    """(ops per vector FLOP by GGML type, the median for quantized types not measured, the float-weight rate).
    A family nobody measured (avx2, neon) takes the 256-bit VNNI rates (vnni256; vnni where that is absent) scaled by
    cpu_matvec's published ISA ratio, as decode does: their kernels are 256-bit (or 4 x 128-bit NEON) code too. Float
    types measured (x86 tinyBLAS: F16C / FMA code, no int8 dot, so the same 256-bit kernel on an avx2 host) carry over
    unscaled to avx2; NEON runs other float kernels (sgemm.cpp's NEON tinyBLAS, or ggml_vec_dot_f16 where an i8mm
    build leaves llamafile out) and keeps the float-weight rate."""
    fams = _data()["cpu_prefill"]["families"]
    fam = fams.get(isa) or fams.get("vnni256") or fams["vnni"]
    scale = 1.0 if isa in fams else isa_scale(isa)
    rates = {str(k): float(v) * (1.0 if k in _FLOAT_TYPES else scale) for k, v in fam["ops_per_vector_flop"].items()
             if k not in _FLOAT_TYPES or isa in fams or isa != "neon"}
    median = _median(v for k, v in rates.items() if k not in _FLOAT_TYPES)
    # the i-quants timed in session 15 (their own family only: the median stays that of the types above)
    rates.update({ty: v for ty, v in _iquant_rates(isa, "prefill").items() if ty not in rates})
    return rates, median, float(fam.get("float_ops_per_vector_flop", 1.0))


def clock_is_measured(machine: Machine) -> bool:
    """Whether the host's core clock is one the probe timed (probe/hostrate.py's dependent adds, `advisor probe
    --measure`, a probe file saved from either: host_speed_source 'measured: ...'), not a stated figure (a spec sheet's
    clock=, a profile, a published row's maximum turbo, or the cpufreq maximum a probe falls back on where W^X forbids
    its timing code: host_speed_source then says "maximum clock (cpufreq sysfs)", probe/measure.py)."""
    source = str(machine.host_speed_source or "")
    return bool(machine.cpu_clock_hz) and source.startswith("measured") and "(cpufreq sysfs)" not in source


def host_prefill_rates(machine: Machine) -> tuple[dict[str, float], float, float]:
    """prefill_rates of the host's prompt-kernel family; an avx2 host whose clock the probe measured takes
    clocked_avx2_prefill_rates (the counted source difference, not cpu_matvec's ratio: docs/methodology.md 4e-cpu13)."""
    return clocked_avx2_prefill_rates() if _clocked_avx2(machine) else prefill_rates(prefill_isa(machine))


def _clocked_avx2(machine: Machine) -> bool:
    """An x86 host with AVX2, without VNNI and without AVX-512 (no avx2 prompt family measured) whose clock the probe
    measured. An AVX-512F core without VNNI (Skylake-SP) runs ggml's 512-bit code where there is some, which the
    256-bit count does not describe, and an ARM core without dotprod, which cpu_isa also files as avx2, runs other code:
    both keep the scale."""
    flags = set(machine.cpu.flags) if machine.cpu else set()
    return (prefill_isa(machine) == "avx2" and "avx2" in flags and "avx512f" not in flags and clock_is_measured(machine)
            and "avx2" not in _data()["cpu_prefill"]["families"])


@lru_cache(maxsize=1)
def clocked_avx2_prefill_rates() -> tuple[dict[str, float], float, float]:
    """prefill_rates for an x86 core without VNNI whose clock was measured: vnni256's timed rates x each prompt kernel's
    counted cycles with dpbusd / without (prompt_no_vnni_factor), the form decode's avx2 rates take (_no_vnni_factor).

    Why not isa_scale (0.65, cpu_matvec's avx2 / vnni ratio): it divides two published decode rows of other hosts (a
    Threadripper PRO 5975WX at 8 threads, a Ryzen 9 7950X at 4) solved in the profile form, without a stream term, at
    their stated maximum boost clocks: whatever held those tokens back (the clock under load, each core's stream) is
    in it, and none of it is a prompt kernel's. Where the probe timed the clock, what remains between the two builds
    is the instructions that differ (docs/methodology.md 4e-cpu13). Float types as prefill_rates gives avx2
    (tinyBLAS's F16C / FMA code, unscaled)."""
    rates, _, float_rate = prefill_rates("vnni256")
    out = {ty: r * (1.0 if ty in _FLOAT_TYPES else prompt_no_vnni_factor(ty)) for ty, r in rates.items()}
    measured = _data()["cpu_prefill"]["families"]["vnni256"]["ops_per_vector_flop"]
    return out, _median(v for k, v in out.items() if k in measured and k not in _FLOAT_TYPES), float_rate


def prompt_no_vnni_factor(ty: str) -> float:
    """How fast GGML type `ty`'s x86 prompt kernel runs on an AVX2 core without VNNI relative to vnni256's timed rate on
    the same clock: cycles(VNNI build) / cycles(AVX2 build) of the same 256-bit source, where only the int8 multiply-sum
    differs (_mm256_dpbusd_epi32 -> maddubs + madd + add). data/cpu_kernel_paths.yaml prompt_no_vnni counts the repacked
    Q4_0 GEMM (IQ4_NL, not counted, takes 1); tinyBLAS (Q8_0, Q5_0) is counted by tinyblas_x86 on the 4 x 2 tile of a build without
    AVX-512; the K-quant kernels (repacked Q4_K GEMM, the tiled K-quant microkernel) have no dpbusd there: 1."""
    paths = load("cpu_kernel_paths")
    spec = paths.get("prompt_no_vnni") or {}
    c = (spec.get("types") or {}).get(ty)
    if c:
        ports = float(spec["ports"])
        return x86_cycles(c["slots"], ports) / x86_cycles(c["slots"], ports, "avx2_vector")
    t = paths.get("tinyblas_x86")
    if t and ty in t["unpack"] and ty in _TINYBLAS_X86:
        return _tinyblas_cycles(t, ty, float(t["rn"]["other"]), "vnni") / _tinyblas_cycles(t, ty, float(t["rn"]["other"]), "avx2")
    return 1.0


def _tinyblas_cycles(t: dict, ty: str, rn: float, isa: str) -> float:
    """Vector slots of one k-step of an x86 tinyBLAS_Q0 tile of rm x rn (data/cpu_kernel_paths.yaml tinyblas_x86)."""
    return (float(t["per_step"]) + float(t["rm"]) * float(t["unpack"][ty]) + rn * float(t["per_column"])
            + float(t["rm"]) * rn * float(t["per_pair"][isa]))


def _iquant_rates(isa: str, kind: str) -> dict[str, float]:
    """data/cpu_kernel_paths.yaml measured_rates: the grid i-quants' kernels timed on the development VM (session 15,
    benchmarks/cpu_kernels.py), by family; kind 'decode' (weights per vector FLOP) or 'prefill' (ops per vector
    FLOP). Only the family they were timed on: a family nobody timed scales vnni's decode rates (decode_rates)."""
    fam = (load("cpu_kernel_paths").get("measured_rates") or {}).get(isa) or {}
    return {str(k): float(v) for k, v in (fam.get(kind) or {}).items()}


def isa_scale(isa: str) -> float:
    """The factor on vnni's kernel rates for a family nobody measured: speed.yaml cpu_decode isa_scale (neon: the
    one published NEON row solved in the clocked form), else cpu_matvec's published ISA ratio (avx2), else 1."""
    own = (_data()["cpu_decode"].get("isa_scale") or {}).get(isa)
    if own:
        return float(own)
    ratio = _data()["cpu_matvec"]
    return float(ratio[isa]["weights_per_flop"]) / float(ratio["vnni"]["weights_per_flop"]) if isa in ratio else 1.0


@lru_cache(maxsize=8)
def decode_rates(isa: str) -> tuple[dict[str, float], float]:
    """(weights per vector FLOP of the decode dot kernels by GGML type, the median for types not measured), from
    speed.yaml cpu_decode; avx2 (x86 without VNNI): vnni's, the multiply-sum counted without dpbusd (_no_vnni_factor);
    another family nobody measured (neon): vnni's scaled by its isa_scale."""
    fams = _data()["cpu_decode"]["families"]
    if isa == "avx2" and isa not in fams:
        vnni, median = decode_rates("vnni")
        return {ty: r * _no_vnni_factor(ty) for ty, r in vnni.items()}, median
    scale = 1.0 if isa in fams else isa_scale(isa)
    fam = fams.get(isa) or fams["vnni"]
    rates = {str(k): float(v) * scale for k, v in fam["weights_per_vector_flop"].items()}
    median = _median(rates.values())
    # the grid i-quants' dot kernels (session 15), scaled like the rest; the median stays that of the types above
    extra = _iquant_rates(isa if isa in fams else "vnni", "decode")
    rates.update({ty: v * scale for ty, v in extra.items() if ty not in rates})
    if isa == "neon" and isa not in fams:
        rates.update(_neon_dot_rates(rates.get(_neon_dots()["anchor"], median)))
    elif isa != "neon":
        # x86 types nobody timed, counted in the AVX2 source against a timed one (decode_dot x86)
        x86 = _x86_dot_rates(rates)
        rates.update({ty: v for ty, v in x86.items() if ty not in rates})
    return rates, median


@lru_cache(maxsize=8)
def prompt_dot_rates(isa: str) -> tuple[dict[str, float], float]:
    """decode_rates as a prompt runs the dot kernels: a type with no prompt GEMM runs ggml_vec_dot_* once per token and
    row (ggml_compute_forward_mul_mat), all cores busy on cached data, as the GEMMs are. x86 without VNNI (avx2, no
    measured family) takes vnni's timed rates x the same isa_scale its prompt GEMMs carry (prefill_rates): that scale,
    not decode's source count (_no_vnni_factor), is what the avx2 prompt rows read on identical maddubs code (the
    K-quant GEMMs and dot kernels have no dpbusd; docs/methodology.md 4e-cpu10, session 22 cpu7). Other families:
    decode_rates."""
    if isa == "avx2" and isa not in _data()["cpu_decode"]["families"]:
        scale = isa_scale(isa)
        vnni, median = decode_rates("vnni")
        return {ty: r * scale for ty, r in vnni.items()}, median * scale
    return decode_rates(isa)


def _no_vnni_factor(ty: str) -> float:
    """How fast GGML type `ty`'s x86 decode kernel runs on an AVX2 core without VNNI, relative to the VNNI development
    VM it was timed on: the same 256-bit source, except that an int8 multiply-sum written as _mm256_dpbusd_epi32 there
    is maddubs + madd (+ add) here. cycles(vnni) / cycles(avx2) from data/cpu_kernel_paths.yaml decode_dot x86 no_vnni
    (cycles = max(vector slots / ports, the accumulator chain)); 1 for a kernel without dpbusd (the K-quant kernels,
    the IQ4 lookups: identical code). docs/methodology.md 4e-cpu10."""
    dots = load("cpu_kernel_paths")["decode_dot"].get("x86") or {}
    c = (dots.get("no_vnni") or {}).get(ty)
    if not c:
        return 1.0
    s, ports = c["slots"], float(dots["ports"])
    return x86_cycles(s, ports) / x86_cycles(s, ports, "avx2_vector")


def x86_cycles(slots: dict, ports: float, key: str = "vector") -> float:
    """Cycles of an x86 kernel whose source issues slots[key] vector slots (`vector`: the VNNI build's, `avx2_vector`:
    the same source without dpbusd) on `ports` vector ports, or its accumulator chain where that is longer
    (data/cpu_kernel_paths.yaml decode_dot x86; the x86 twin of arm_cycles_per_weight, before dividing by weights)."""
    return max(float(slots[key]) / ports, float(slots.get("chain", 0.0)))


def _x86_dot_rates(rates: dict[str, float]) -> dict[str, float]:
    """The x86 dot kernels' rates by their counted vector slots (data/cpu_kernel_paths.yaml decode_dot x86): the anchor
    type's rate x cycles(anchor) / cycles(type) per weight, cycles = max(vector slots / ports, the accumulator chain)
    (docs/methodology.md 4e-cpu9). The timed types keep their own rates; the caller adds only the others."""
    dots = load("cpu_kernel_paths")["decode_dot"].get("x86")
    if not dots or dots["anchor"] not in rates:
        return {}
    ports = float(dots["ports"])

    def cycles_per_weight(c: dict) -> float:
        return x86_cycles(c, ports) / float(c["weights"])

    anchor = cycles_per_weight(dots["types"][dots["anchor"]]["slots"])
    return {str(ty): rates[dots["anchor"]] * anchor / cycles_per_weight(c["slots"]) for ty, c in dots["types"].items()}


def _neon_dot_rates(anchor_rate: float) -> dict[str, float]:
    """The NEON dot kernels' rates by their issue slots (data/cpu_kernel_paths.yaml decode_dot): the anchor type's
    rate (the one published NEON decode row, solved through isa_scale) x cycles(anchor) / cycles(type) per weight."""
    return {str(ty): _neon_slot_rate(anchor_rate, c["slots"]) for ty, c in _neon_dots()["types"].items()}


def _neon_slot_rate(anchor_rate: float, slots: dict) -> float:
    """The issue-slot rule of the NEON kernels: the anchor dot kernel's rate x its cycles per weight / the kernel's
    (arm_cycles_per_weight of `slots`); the dot kernels (_neon_dot_rates) and the counted GEMMs (arm_gemm_rate)."""
    dots = _neon_dots()
    return anchor_rate * arm_cycles_per_weight(dots["types"][dots["anchor"]]["slots"]) / arm_cycles_per_weight(slots)


@lru_cache(maxsize=1)
def _neon_dots() -> dict:
    return load("cpu_kernel_paths")["decode_dot"]["arm"]


def arm_cycles_per_weight(counts: dict) -> float:
    """Cycles per weight of an ARM kernel whose source issues `vector` vector slots and `load` loads per `weights`
    weights, on a core of data/cpu_kernel_paths.yaml arm_pipes (four 128-bit vector pipes, three loads a cycle): the
    busier of the two bounds it (docs/methodology.md 4e-cpu7), or its accumulator chain where it gives one (the float
    dot kernels, float_dot: 4e-cpu15)."""
    pipes = load("cpu_kernel_paths")["arm_pipes"]
    cycles = max(float(counts["vector"]) / float(pipes["vector"]), float(counts["load"]) / float(pipes["load"]),
                 float(counts.get("chain", 0.0)))  # a kernel whose accumulators wait on the FMA latency (float_dot)
    return cycles / float(counts["weights"])


def kernel_seconds(matrices, machine: Machine) -> float:
    """Seconds the decode dot kernels take over `matrices` ((type, weights) pairs) on this host's vector FLOPS;
    float weights (F16/BF16/F32 dot products) at the median rate; a type the host's build repacks runs its GEMV
    (gemv_speedup)."""
    vf = vector_flops(machine) or 1.0
    rates, median = decode_rates(cpu_isa(machine))
    return sum(n / (rates.get(ty, median) * gemv_speedup(ty, machine) * unrepacked_factor(ty, machine) * vf)
               for ty, n in matrices)


def unrepacked_factor(ty: str, machine: Machine) -> float:
    """On an x86 host whose llama.cpp build predates the type's repack (kernel_path: a dated build before the entry
    that made it 'measured'), the one-token kernel is ggml_vec_dot_*, not the repacked GEMV whose rate the development
    VM timed: cycles(GEMV) / cycles(dot kernel) per weight, both counted (data/cpu_kernel_paths.yaml decode_dot x86
    no_vnni / before_repack) on the host's VNNI or AVX2 code. 1 elsewhere (docs/methodology.md 4e-cpu10)."""
    isa = cpu_isa(machine)
    if isa == "neon":
        return 1.0
    dots = load("cpu_kernel_paths")["decode_dot"].get("x86") or {}
    dot = (dots.get("before_repack") or {}).get(ty)
    gemv = (dots.get("no_vnni") or {}).get(ty)
    if not dot or not gemv or kernel_path(ty, machine) in (None, "measured"):
        return 1.0
    key, ports = ("vector" if isa == "vnni" else "avx2_vector"), float(dots["ports"])

    def cycles_per_weight(s: dict) -> float:
        return x86_cycles(s, ports, key) / float(s["weights"])

    return cycles_per_weight(gemv["slots"]) / cycles_per_weight(dot["slots"])


def gemv_speedup(ty: str, machine: Machine) -> float:
    """How much faster than the type's dot kernel a one-token mat-vec of GGML type `ty` runs on this host: on an ARM
    core whose build repacks the type (Q4_0 and IQ4_NL from their repacks' dates; kernel_path), repack.cpp's GEMV
    over the interleaved rows (4x8 with i8mm, else 4x4) takes fewer issue slots per weight than ggml_vec_dot_*:
    cycles(dot) / cycles(GEMV), both counted in data/cpu_kernel_paths.yaml (decode_dot, decode_gemv; docs/methodology.md
    4e-cpu6, 4e-cpu7). 1 elsewhere."""
    if cpu_isa(machine) != "neon":
        return 1.0
    spec = _decode_gemv().get(ty)
    if not spec or kernel_path(ty, machine) not in (None, "measured"):
        return 1.0
    flags = set(machine.cpu.flags) if machine.cpu else set()
    layout = spec["i8mm" if "i8mm" in flags else "dotprod"]
    return arm_cycles_per_weight(_neon_dots()["types"][ty]["slots"]) / arm_cycles_per_weight(layout)


@lru_cache(maxsize=1)
def _decode_gemv() -> dict:
    return load("cpu_kernel_paths").get("decode_gemv", {}).get("arm", {})


def decode_seconds(nbytes: float, kernel_s: float, machine: Machine, bandwidth: float) -> float:
    """Seconds per decoded token of mat-vecs over `nbytes` whose dot kernels take `kernel_s` (kernel_seconds).

    Each of the T threads streams its share of the rows at the one-thread read rate and runs the dot kernel on them
    (stream_and_kernel: one after the other on the Intel development VM, where one thread's decode time is the stream
    time plus a kernel time proportional to the weights, within 15% whatever the GGML type, methodology 4e; partly
    overlapped on an AMD core, 4e-cpu12); the T-thread read stream (`bandwidth`) caps the whole when the socket, not
    the cores, is the limit. A host a spec sheet or profile describes with a one-core stream (its thread_bandwidth, or
    its core type's published figure: unloaded_core_stream) takes loaded_decode_seconds instead, in its vendor's form.
    """
    threads = float(machine.cpu_threads or 1)
    unloaded = unloaded_core_stream(machine, bandwidth)
    if unloaded:
        return loaded_decode_seconds(nbytes, kernel_s, threads, unloaded, bandwidth, overlap_form(machine) == "tandem")
    # a host whose one-thread stream nobody measured (a spec sheet): its core type's published one-core stream
    # (cpu_core_bw, ARM server cores), else a core alone can draw up to the whole stream
    per_thread = thread_stream_bytes_per_s(machine, bandwidth)
    return max(nbytes / bandwidth, stream_and_kernel(nbytes / (threads * per_thread), kernel_s, machine))


def stream_and_kernel(stream_s: float, kernel_s: float, machine: Machine) -> float:
    """One decode thread's time for its rows: the stream S at the one-thread read rate and the dot kernel K, combined
    as the CPU's vendor does (speed.yaml cpu_decode overlap): `sum`, S + K (the Intel development VM, the ARM servers),
    or `tandem`, S + K - S K / (S + K), two stages with exponential service times and one line waiting between them,
    between max(S, K) and the sum (the AMD EPYC of session 25: docs/methodology.md 4e-cpu12)."""
    return _combine(stream_s, kernel_s, overlap_form(machine) == "tandem")


def _combine(stream_s: float, kernel_s: float, tandem: bool) -> float:
    """S + K, or the tandem form S + K - S K / (S + K) (stream_and_kernel)."""
    if tandem and stream_s > 0 and kernel_s > 0:
        return stream_s + kernel_s - stream_s * kernel_s / (stream_s + kernel_s)
    return stream_s + kernel_s


def overlap_form(machine: Machine) -> str:
    """speed.yaml cpu_decode overlap form for this host's CPU: the vendor one of whose names (overlap `names`, any
    case) is a word of the CPU's name ("AMD EPYC", "Ryzen 9 5950X"), else `sum`."""
    overlap = _data()["cpu_decode"].get("overlap") or {}
    words = {w.lower() for w in re.split(r"[^0-9A-Za-z]+", machine.cpu.name if machine.cpu else "") if w}
    for vendor, form in (overlap.get("vendors") or {}).items():
        if words & {str(n).lower() for n in (overlap.get("names") or {}).get(vendor, (vendor,))}:
            return str(form)
    return "sum"


def loaded_decode_seconds(nbytes: float, kernel_s: float, threads: float, unloaded: float, bandwidth: float,
                          tandem: bool = False) -> float:
    """decode_seconds where each core's stream slows with the memory system's utilisation (docs/methodology.md 4e-cpu9).

    Each of the T threads streams its rows and runs the dot kernel on them, one after the other (`tandem`: in the
    vendor's overlapped form, stream_and_kernel, solved by bisection); its stream is latency-bound, and the latency at
    utilisation rho = (bytes / t) / bandwidth is L0 / (1 - rho)
    (M/M/1), so t = S0 / (1 - rho) + K with S0 = bytes / (T x the unloaded one-core stream) and K = kernel_s. With
    u = bytes / bandwidth: t^2 - (K + u + S0) t + K u = 0, whose larger root is never below max(u, K): the hard corner
    max(u, S0 + K) of decode_seconds becomes a curve that meets both bounds only far from the corner."""
    s0 = nbytes / (threads * unloaded)  # 0 for a core that alone saturates the memory: max(u, K)
    u = nbytes / bandwidth
    a = kernel_s + u + s0
    summed = (a + math.sqrt(max(a * a - 4.0 * kernel_s * u, 0.0))) / 2.0
    if not tandem or s0 <= 0 or kernel_s <= 0:
        return summed
    # the tandem form (stream_and_kernel) of the loaded stream S(t) = S0 / (1 - u / t): t - tandem(S(t), K) rises with
    # t from below 0 just above u to 0 at the root, which lies between max(u, K) and the sum's root
    lo, hi = max(u * (1.0 + 1e-12), kernel_s), summed
    for _ in range(100):
        t = (lo + hi) / 2.0
        if _combine(s0 / (1.0 - u / t), kernel_s, True) > t:
            lo = t
        else:
            hi = t
    return hi


def prefill_seconds(layers: tuple, attention_flops: float, machine: Machine) -> float | None:
    """Seconds per prompt token of `layers` ((type, weights, bytes) per matrix) plus `attention_flops` on this host's
    CPU; None when the probe gave no clock (the FLOPS-based estimate then applies)."""
    vf = vector_flops(machine)
    if not vf:
        return None
    rates = prefill_type_rates(machine)
    seen: dict[tuple, float] = {}
    total = 0.0
    for mats in layers:
        s = seen.get(mats)
        if s is None:
            s = seen[mats] = sum(2.0 * n / (rates(ty) * vf) for ty, n, _ in mats)
        total += s
    return total + attention_flops / (attention_rate() * vf)


def attention_rate() -> float:
    """Ops per vector FLOP of the prompt's attention on a CPU: ggml-cpu's tiled flash attention (data/speed.yaml
    cpu_prefill attention_ops_per_vector_flop, fitted on five hosts' pp4096 rows; docs/methodology.md 4e-cpu7)."""
    return float(_data()["cpu_prefill"].get("attention_ops_per_vector_flop", 1.0))


def prefill_type_rates(machine: Machine):
    """type -> ops per vector FLOP of the prompt kernel llama.cpp runs for it on this host: the GEMM's measured rate
    (the median where none was measured), float weights at the float rate, and a type with no GEMM on this ISA at its
    decode dot kernel's rate (2 ops per weight: the same ggml_vec_dot_* runs once per prompt token and row). A host
    of an older build (machine.cpu_kernel_date) runs the kernel that build had (kernel_path). The dot rate is the
    prompt's (prompt_dot_rates: on avx2 the prompt family's isa_scale, not decode's count), except on an avx2 host whose
    clock the probe measured, whose GEMMs and dot kernels both take the counted no-VNNI factors (host_prefill_rates). On an Apple P-core the
    repacked ARM GEMMs that were counted run at their issue-slot rate (arm_gemm_rate)."""
    isa = prefill_isa(machine)
    rates, median, float_rate = host_prefill_rates(machine)
    # the dot kernels: on a measured-clock avx2 host decode's counted rates (the same maddubs code), else the prompt's
    dot, dot_median = decode_rates("avx2") if _clocked_avx2(machine) else prompt_dot_rates(cpu_isa(machine))
    measured = frozenset(rates)
    pace = static_split_pace(machine)
    tinyblas_now = _TINYBLAS_NEON if cpu_isa(machine) == "neon" else _TINYBLAS_X86

    def rate(ty: str) -> float:
        if ty in _FLOAT_TYPES:
            counted = float_dot_rate(ty, machine)
            if counted:
                return 2.0 * counted  # a build that runs the type's vec_dot per token and row, not tinyBLAS
            return rates.get(ty, float_rate)  # the family's measured float GEMM (x86 tinyBLAS), else the float rate
        path = kernel_path(ty, machine)
        if path == "vec_dot" or (path is None and not has_gemm(ty, machine, measured)):
            return 2.0 * dot.get(ty, dot_median) * unrepacked_factor(ty, machine)
        if path == "tinyblas" or (path is None and ty in tinyblas_now):
            # tinyBLAS_Q0: one template for Q8_0 and Q4_0, timed on Q8_0; its static split is paced by the slowest core
            return rates.get("Q8_0", median) * pace * tinyblas_unpack_factor(ty, machine)
        if path == "repack_q8_0" or (path is None and ty == "Q8_0" and cpu_isa(machine) == "neon"):
            return arm_repack_q8_0_rate()  # ARM's repacked Q8_0 GEMM: chunks handed out dynamically, no pacing
        if path == "repack_256" and isa == "vnni":  # the 256-bit GEMM, before its AVX-512 version existed
            r256, m256, _ = prefill_rates("vnni256")
            return r256.get(ty, m256)
        counted = arm_gemm_rate(ty, machine) if path in (None, "measured") else None
        return counted or rates.get(ty, median)

    return rate


def float_dot_rate(ty: str, machine: Machine) -> float | None:
    """Weights per vector FLOP of float type `ty`'s dot kernel where the host's build runs it once per prompt token and
    row instead of tinyBLAS (data/cpu_kernel_paths.yaml float_dot; docs/methodology.md 4e-cpu15); None where the build
    runs tinyBLAS or the kernel is not counted.

    x86: BF16 before llama.cpp #10714 (kernel_path 'vec_dot', 2024-12-24) ran ggml_vec_dot_bf16, priced as the counted
    x86 dot kernels are (_x86_dot_rates: the anchor's timed vnni rate x cycles(anchor) / cycles(kernel) per weight),
    then x the avx2 prompt scale on a stated-clock avx2 host (prompt_dot_rates), unscaled on a measured-clock one;
    a host with AVX-512 is not priced (its build may have run the AVX512_BF16 branch, which the count does not cover).
    ARM: a build for a core with i8mm drops llamafile (ggml-cpu.c: `#undef GGML_USE_LLAMAFILE` under
    __ARM_FEATURE_MATMUL_INT8, since llama.cpp #6710, 2024-04-16), so F16 / F32 run ggml_vec_dot_f16 / _f32 on every
    date, priced by the NEON dot kernels' rule (_neon_slot_rate) with their accumulator chain, on the cores whose FMLA
    latency that chain was read from (Apple P-cores, the prompt_gemm `cores` name); an SVE build (Neoverse V1 / V2)
    runs the SVE loops instead, not counted."""
    spec_all = load("cpu_kernel_paths").get("float_dot") or {}
    flags = set(machine.cpu.flags) if machine.cpu else set()
    if cpu_isa(machine) == "neon":
        spec = (spec_all.get("arm") or {}).get(ty)
        if not spec or "i8mm" not in flags or "sve" in flags or not _counted_gemm_cores().search(machine.cpu.name):
            return None
        rates, median = decode_rates("neon")
        return _neon_slot_rate(rates.get(_neon_dots()["anchor"], median), spec["slots"])
    spec = (spec_all.get("x86") or {}).get(ty)
    if not spec or "avx512f" in flags or kernel_path(ty, machine) != "vec_dot":
        return None
    dots = load("cpu_kernel_paths")["decode_dot"]["x86"]
    ports = float(dots["ports"])
    anchor = dots["types"][dots["anchor"]]["slots"]
    anchor_rate = decode_rates("vnni")[0][dots["anchor"]]
    rate = anchor_rate * (x86_cycles(anchor, ports) / float(anchor["weights"])) / (
        x86_cycles(spec["slots"], ports) / float(spec["slots"]["weights"]))
    if cpu_isa(machine) == "avx2" and not _clocked_avx2(machine):
        rate *= isa_scale("avx2")
    return rate


@lru_cache(maxsize=1)
def _prompt_gemm() -> dict:
    return load("cpu_kernel_paths").get("prompt_gemm", {}).get("arm", {})


@lru_cache(maxsize=1)
def _counted_gemm_cores() -> re.Pattern:
    return re.compile(str(_prompt_gemm().get("cores") or "(?!)"), re.I)


def arm_gemm_rate(ty: str, machine: Machine) -> float | None:
    """Ops per vector FLOP of ARM's repacked prompt GEMM for GGML type `ty` on a core whose GEMMs run at their
    issue-slot count (data/cpu_kernel_paths.yaml prompt_gemm arm: Apple P-cores, by the CPU name): the i8mm layout on a
    core with i8mm, else the dotprod one, priced as the NEON dot kernels are (_neon_dot_rates): 2 x the anchor dot
    kernel's rate x its cycles per weight / the GEMM's cycles per multiply-add, an SMMLA taking smmla_slots vector
    slots. None for other cores, other ISAs and types not counted (cpu_prefill's rates apply; methodology 4e-cpu11)."""
    spec = _prompt_gemm().get("types", {}).get(ty)
    if not spec or cpu_isa(machine) != "neon" or not machine.cpu or not _counted_gemm_cores().search(machine.cpu.name):
        return None
    layout = spec["i8mm" if "i8mm" in set(machine.cpu.flags) else "dotprod"]
    slots = {"weights": layout["macs"], "load": layout["load"],
             "vector": layout["vector"] + float(_prompt_gemm().get("smmla_slots", 1)) * layout.get("smmla", 0)}
    rates, median = decode_rates("neon")
    return 2.0 * _neon_slot_rate(rates.get(_neon_dots()["anchor"], median), slots)


def tinyblas_unpack_factor(ty: str, machine: Machine) -> float:
    """How fast x86 tinyBLAS_Q0 runs GGML type `ty` against the Q8_0 its rate was timed on: cycles of a tile's k-step
    for Q8_0 / for `ty`, whose weights are unpacked once per block and row and shared by the tile's token columns
    (data/cpu_kernel_paths.yaml tinyblas_x86; 4 x 4 tiles with AVX-512's 32 registers, else 4 x 2). 1 on ARM
    (tinyBLAS_Q0_ARM is another kernel) and for a type not counted."""
    t = load("cpu_kernel_paths").get("tinyblas_x86")
    if not t or cpu_isa(machine) == "neon" or ty not in t["unpack"]:
        return 1.0
    flags = set(machine.cpu.flags) if machine.cpu else set()
    rn = float(t["rn"]["avx512" if "avx512f" in flags else "other"])
    isa = "avx2" if cpu_isa(machine) == "avx2" else "vnni"
    return _tinyblas_cycles(t, "Q8_0", rn, isa) / _tinyblas_cycles(t, ty, rn, isa)


@lru_cache(maxsize=1)
def _kernel_paths() -> dict:
    return load("cpu_kernel_paths")["families"]


@lru_cache(maxsize=1)
def arm_repack_q8_0_rate() -> float:
    """Ops per vector FLOP of ARM's repacked Q8_0 GEMM (repack.cpp ggml_gemm_q8_0_4x8_q8_0 / _4x4_, llama.cpp #18096):
    data/cpu_kernel_paths.yaml path_rates, with what it was fitted on (docs/methodology.md 4e-cpu5)."""
    return float(load("cpu_kernel_paths")["path_rates"]["repack_q8_0"]["ops_per_vector_flop"])


def kernel_path(ty: str, machine: Machine) -> str | None:
    """The prompt kernel GGML type `ty` ran on the host's llama.cpp build (data/cpu_kernel_paths.yaml): the path of
    the last entry dated on or before machine.cpu_kernel_date whose required flag the host has, 'vec_dot' before the
    first; None when no build date is given or the type's path is the same on every date (the present one applies)."""
    date = machine.cpu_kernel_date
    if not date:
        return None
    entries = _kernel_paths().get("arm" if cpu_isa(machine) == "neon" else "x86", {}).get(ty)
    if not entries:
        return None
    flags = set(machine.cpu.flags) if machine.cpu else set()
    path = "vec_dot"
    for entry in entries:
        if str(entry["since"]) <= date and (not entry.get("requires") or entry["requires"] in flags):
            path = str(entry["path"])
    return path
