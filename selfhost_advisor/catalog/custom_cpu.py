"""A CPU-only box from its spec sheet: `custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600`.

Why: llama.cpp's CPU backend is timed by the kernels' rate per cycle (estimate/cpu_kernels.py), which needs the
threads, the clock under load, the SIMD level and the RAM's bandwidth; a spec sheet states all four, and so a box
nobody has probed (a server to buy, a friend's desktop) can be named without a profile. Keys (the same in a YAML or
JSON file given to --hardware):

- cores (required): the threads llama.cpp runs, its default being the physical cores (SMT siblings do not count;
  on hybrid Intel under Linux the P-cores only: cpu_get_num_math skips E-cores; under Windows every physical core,
  the E-cores then named by e_cores; on macOS hw.perflevel0, the P-cores).
- clock (required): the all-core clock under load, GHz ('4.5GHz' or '4.5'); a laptop under a long load runs nearer
  its base clock than its maximum boost.
- simd (required): avx2 | avx_vnni (256-bit VNNI: Alder Lake and later client Intel, Zen 5 mobile without AVX-512
  counts as avx512) | avx512 (AVX-512 with VNNI) | neon (with dotprod: Apple M1, Cortex-A76/A78) | neon_i8mm (ARMv8.6
  int8 matrix multiply: Apple M2 and later, Neoverse V1/V2; tests/test_apple_cpu_i8mm.py cites the Apple sources).
- ram (required): the memory size.
- bandwidth, or channels and mts: the theoretical RAM bandwidth ('89.6GB/s'), or 64-bit channels x MT/s x 8 B
  (an LPDDR bus of 128 bits is 2 channels).
- optional: flops_per_cycle (FP32 FLOP per cycle of one core: 32 for two 256-bit FMA pipes or four 128-bit NEON
  pipes, the default; 64 for full-width AVX-512, two 512-bit FMA pipes: Xeon Scalable, Zen 5 desktop and EPYC 9005,
  also the default for simd=avx512 with such a `name`; 16 for two 128-bit NEON pipes: Cortex-A7x/A720), sockets (default 1: with more, llama.cpp's weights sit on the
  node that loaded them, so decode reads one socket's share of `bandwidth`), thread_bandwidth (one core's own read
  stream, GB/s, where measured; unset, a named ARM server core takes its published figure, estimate/cpu_core_bw.py),
  name.
- hybrid parts (optional): e_cores (how many of `cores` are efficiency / little cores, fewer than cores), e_clock
  (their all-core clock; default `clock`), e_flops_per_cycle (8, 16 or 32; default 16, two 128-bit pipes). ggml-cpu
  hands out mat-mul row chunks dynamically, so each core adds its own rate (docs/methodology.md 4e-cpu2).
- cpu_bandwidth (optional): the read bandwidth all the CPU cores reach together, GB/s, where a review measured it
  below the DRAM's theoretical rate (a SoC whose CPU cluster sits behind a slower fabric: Cix CD8180 ~44 GB/s of
  102); decode then reads the lower of the two (per socket), at the CPU family's share.
- build_date (optional): the date of the llama.cpp build that runs ('2024-11-08' or '2024-11', read as its first
  day); prompt processing then takes the kernels that build had (data/cpu_kernel_paths.yaml: Q4_0 before online
  repacking, K-quants before their GEMMs). Default: the newest kernels, those the rates were measured on.
"""
from __future__ import annotations

import math
import re

from ..domain import CpuInfo, Machine
from ..errors import BadOptionError
from .spec_fields import _HINT, CPU_HINT, _bad, _positive_int, _rate, _size, spec_keys, spec_name
from .profiles import Profile

KEYS_REQUIRED = ("cores", "clock", "simd", "ram")
KEYS_OPTIONAL = ("bandwidth", "channels", "mts", "flops_per_cycle", "sockets", "thread_bandwidth", "name",
                 "e_cores", "e_clock", "e_flops_per_cycle", "cpu_bandwidth", "build_date")
# py-cpuinfo's flag names for each level (estimate/cpu_kernels.py reads them as a probed host's)
SIMD_FLAGS = {
    "avx2": ("avx2", "fma"),
    "avx_vnni": ("avx2", "fma", "avx_vnni"),
    "avx512": ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni"),
    "neon": ("neon", "asimd", "dotprod", "asimddp"),
    "neon_i8mm": ("neon", "asimd", "dotprod", "asimddp", "i8mm"),
}
FLOPS_PER_CYCLE = (16, 32, 64)
E_FLOPS_PER_CYCLE = (8, 16, 32)
MAX_CORES = 4096
_CLOCK = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+)\s*(ghz|mhz)?\s*$", re.I)
_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")


def is_cpu_spec(fields: dict) -> bool:
    """A spec names a CPU box when it gives cores and no GPU memory."""
    keys = {str(k).lower() for k in fields}
    return "cores" in keys and "vram" not in keys


def cpu_profile(fields: dict, spec: str) -> Profile:
    """The Profile of a CPU-only box (kind cpu); its raw dict carries what estimate/cpu_kernels.py needs. A refusal
    shows a CPU box's spec as the example (the shared field parsers show a GPU's)."""
    try:
        return _cpu_profile(spec_keys(fields, spec), spec)
    except BadOptionError as err:
        if err.hint != _HINT:
            raise
        raise BadOptionError(err.message, CPU_HINT) from None


def _cpu_profile(fields: dict, spec: str) -> Profile:
    unknown = sorted(set(fields) - set(KEYS_REQUIRED) - set(KEYS_OPTIONAL))
    if unknown:
        raise _bad(spec, f"unknown key {unknown[0]!r} for a CPU box; keys: {', '.join(KEYS_REQUIRED + KEYS_OPTIONAL)}")
    for key in KEYS_REQUIRED:
        if fields.get(key) in (None, ""):
            raise _bad(spec, f"{key} is missing (a CPU box needs {', '.join(KEYS_REQUIRED)} and bandwidth)")
    cores = _positive_int(spec, "cores", fields["cores"], MAX_CORES)
    clock = _clock(spec, fields["clock"])
    simd = str(fields["simd"]).strip().lower()
    if simd not in SIMD_FLAGS:
        raise _bad(spec, f"simd {simd!r} is not one of {', '.join(SIMD_FLAGS)}")
    ram = _size(spec, "ram", fields["ram"])
    sockets = _positive_int(spec, "sockets", fields["sockets"], 16) if fields.get("sockets") is not None else 1
    bandwidth = _bandwidth(fields, spec)
    name = spec_name(fields, "custom CPU box")
    fpc = _one_of(spec, "flops_per_cycle", fields["flops_per_cycle"], FLOPS_PER_CYCLE) \
        if fields.get("flops_per_cycle") is not None else default_flops_per_cycle(simd, name)
    one = _rate(spec, "thread_bandwidth", fields["thread_bandwidth"], 1e9, "15GB/s") \
        if fields.get("thread_bandwidth") is not None else None
    hybrid = _hybrid(fields, spec, cores)
    if fields.get("cpu_bandwidth") is not None:
        cap = _rate(spec, "cpu_bandwidth", fields["cpu_bandwidth"], 1e9, "44GB/s")
        hybrid["cpu_bandwidth"] = cap
    if fields.get("build_date") is not None:
        hybrid["build_date"] = _build_date(spec, fields["build_date"])
    raw = {"id": "custom", "sources": {"spec": f"user spec sheet: {spec}"}, "ram_bytes": ram, "cpu_cores": cores,
           "cpu_clock_hz": clock, "simd": simd, "flops_per_cycle": fpc, "sockets": sockets,
           "thread_bandwidth": one, "bandwidth_total": bandwidth, **hybrid}
    per_socket = min(bandwidth / sockets, hybrid.get("cpu_bandwidth") or bandwidth)
    e = hybrid.get("e_cores") or 0
    flops = (cores - e) * clock * fpc + e * (hybrid.get("e_clock_hz") or clock) * (hybrid.get("e_flops_per_cycle") or 16)
    return Profile(id="custom", name=name, kind="cpu", vendor="generic", backend="cpu", memory_bytes=ram,
                   bandwidth_bytes_per_s=int(per_socket), fp16_flops=flops,
                   fp16_acc16_flops=None, tdp_watts=None, price_usd=None, unified=False, raw=raw)


def default_flops_per_cycle(simd: str, name: str) -> int:
    """flops_per_cycle where a spec states none: 64 for simd=avx512 on a CPU whose `name` is a full-width AVX-512 core
    (estimate/cpu_kernels.full_width_avx512, the rule a probed host of that name already takes: Xeon Scalable, Zen 5
    desktop and server), else 32. Why: a spec naming a Ryzen 7 9800X3D was priced as a 256-bit core (the vnni256
    prompt rates, 0.42-0.85 of the full-width ones) although the same name probed is full width (docs/methodology.md
    4e-cpu17)."""
    if simd != "avx512":
        return 32
    from ..estimate.cpu_kernels import full_width_avx512

    return 64 if full_width_avx512(name) else 32


def _hybrid(fields: dict, spec: str, cores: int) -> dict:
    """e_cores / e_clock / e_flops_per_cycle of a hybrid part (raw fields for cpu_machine), {} when not hybrid."""
    if fields.get("e_cores") is None:
        extra = [k for k in ("e_clock", "e_flops_per_cycle") if fields.get(k) is not None]
        if extra:
            raise _bad(spec, f"{extra[0]} needs e_cores (how many of the cores are efficiency cores)")
        return {}
    e = _positive_int(spec, "e_cores", fields["e_cores"], MAX_CORES)
    if e >= cores:
        raise _bad(spec, f"e_cores={e} must be fewer than cores={cores} (an all-efficiency-core part: give "
                         f"flops_per_cycle and clock of those cores instead)")
    out = {"e_cores": e, "e_clock_hz": None, "e_flops_per_cycle": None}
    if fields.get("e_clock") is not None:
        out["e_clock_hz"] = _clock(spec, fields["e_clock"], "e_clock")
    if fields.get("e_flops_per_cycle") is not None:
        out["e_flops_per_cycle"] = _one_of(spec, "e_flops_per_cycle", fields["e_flops_per_cycle"], E_FLOPS_PER_CYCLE)
    return out


def _build_date(spec: str, text: object) -> str:
    """'2024-11-08' or '2024-11' (its first day) -> 'YYYY-MM-DD': a llama.cpp build from 2023 (llama-bench's first
    year) to 2100."""
    import datetime

    m = _DATE.match(str(text))
    if not m:
        raise _bad(spec, f"build_date={text!r} is not a date such as 2024-11-08 or 2024-11")
    try:
        day = datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise _bad(spec, f"build_date={text!r} is not a calendar date") from None
    if not 2023 <= day.year <= 2100:
        raise _bad(spec, f"build_date={text!r} is not a llama.cpp build date (2023 or later)")
    return day.isoformat()


def _one_of(spec: str, key: str, text: object, allowed: tuple[int, ...]) -> int:
    v = _positive_int(spec, key, text, 1024)
    if v not in allowed:
        raise _bad(spec, f"{key} must be one of {', '.join(map(str, allowed))}, got {v}")
    return v


def _clock(spec: str, text: object, key: str = "clock") -> float:
    """'4.5GHz' -> 4.5e9, '4500MHz' -> 4.5e9, '4.5' -> GHz; a CPU clock, 0.1 to 10 GHz."""
    m = _CLOCK.match(str(text))
    if not m:
        raise _bad(spec, f"{key}={text!r} is not a clock such as 4.5GHz")
    value = float(m.group(1)) * (1e6 if (m.group(2) or "").lower() == "mhz" else 1e9)
    if not math.isfinite(value) or value <= 0:
        raise _bad(spec, f"{key} must be positive, got {text!r}")
    if not 0.1e9 <= value <= 10e9:
        raise _bad(spec, f"{key}={text!r} is not a CPU clock (give GHz, e.g. 4.5GHz)")
    return value


def _bandwidth(fields: dict, spec: str) -> float:
    if fields.get("bandwidth") is not None:
        if fields.get("channels") is not None or fields.get("mts") is not None:
            raise _bad(spec, "give bandwidth, or channels and mts, not both")
        return _rate(spec, "bandwidth", fields["bandwidth"], 1e9, "89.6GB/s")
    if fields.get("channels") is None or fields.get("mts") is None:
        raise _bad(spec, "bandwidth is missing: give bandwidth=89.6GB/s, or channels=2,mts=5600")
    channels = _positive_int(spec, "channels", fields["channels"], 64)
    mts = _positive_int(spec, "mts", fields["mts"], 20000)
    return channels * mts * 1e6 * 8.0


def _one_core_note(one: float | None, name: str) -> str:
    """Where decode's one-thread read stream comes from: the spec's thread_bandwidth, else the published figure of the
    core type the name names (estimate/cpu_core_bw.py), else nothing (a core may draw the whole stream)."""
    if one:
        return f"; one core streams {one / 1e9:.1f} GB/s (thread_bandwidth)"
    from ..estimate.cpu_core_bw import core_stream_by_name

    core = core_stream_by_name(name)
    return f"; one core streams {core / 1e9:.1f} GB/s (its core type's published figure)" if core else ""


def cpu_machine(profile: Profile, label: str, ram_bytes: int | None) -> Machine:
    """The Machine of a custom CPU box: the clocked path of estimate/speed.py (threads x clock x the kernels' rate)."""
    raw = profile.raw
    one = raw.get("thread_bandwidth")
    total = float(raw["bandwidth_total"])
    origin = raw.get("origin") or ("custom spec" if profile.id == "custom" else f"profile {profile.id} (data/hardware.yaml)")
    hyb = (f" ({raw['e_cores']} of them efficiency cores at "
           f"{(raw.get('e_clock_hz') or raw['cpu_clock_hz']) / 1e9:.2f} GHz)" if raw.get("e_cores") else "")
    src = (f"{origin}: {raw['cpu_cores']} cores x {raw['cpu_clock_hz'] / 1e9:.2f} GHz{hyb}, {raw['simd']}, "
           f"{total / 1e9:.1f} GB/s theoretical" + (f" over {raw['sockets']} sockets (decode reads one socket's "
                                                    f"{total / raw['sockets'] / 1e9:.1f})" if raw["sockets"] > 1 else "")
           + (f"; the CPU cores reach {raw['cpu_bandwidth'] / 1e9:.1f} GB/s (cpu_bandwidth)"
              if raw.get("cpu_bandwidth") else "")
           + (f"; llama.cpp build of {raw['build_date']} (its prompt kernels)" if raw.get("build_date") else "")
           + _one_core_note(one, profile.name))
    cpu = CpuInfo(name=profile.name, physical_cores=int(raw["cpu_cores"]), sockets=int(raw["sockets"]),
                  flags=SIMD_FLAGS[raw["simd"]], source="custom")
    return Machine(name=label, devices=(), ram_bytes=ram_bytes or profile.memory_bytes, cpu_name=profile.name,
                   ram_bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, source="profile",
                   cpu_flops=profile.fp16_flops, cpu=cpu, host_speed_source=src,
                   cpu_clock_hz=float(raw["cpu_clock_hz"]), cpu_threads=int(raw["cpu_cores"]),
                   cpu_thread_bandwidth_bytes_per_s=int(one) if one else None,
                   cpu_flops_per_cycle=int(raw["flops_per_cycle"]), cpu_e_cores=raw.get("e_cores"),
                   cpu_e_clock_hz=raw.get("e_clock_hz"), cpu_e_flops_per_cycle=raw.get("e_flops_per_cycle"),
                   cpu_kernel_date=raw.get("build_date"))


def curated_cpu_fields(profile: Profile) -> Profile:
    """A curated CPU profile (data/hardware.yaml kind cpu) that states `cpu_cores`, `cpu_clock_ghz` and `simd` (and
    optionally `flops_per_cycle`, `sockets`): the same raw fields a spec sheet gives, for cpu_machine."""
    e = profile.raw
    sockets = int(e.get("sockets") or 1)
    total = float(profile.bandwidth_bytes_per_s or 0)
    raw = {**e, "cpu_cores": int(e["cpu_cores"]), "cpu_clock_hz": float(e["cpu_clock_ghz"]) * 1e9,
           "simd": str(e["simd"]), "flops_per_cycle": int(e.get("flops_per_cycle") or 32), "sockets": sockets,
           "thread_bandwidth": None, "bandwidth_total": total}
    from ..record import replace

    return replace(profile, raw=raw, bandwidth_bytes_per_s=int(total / sockets))


def parse_custom_cpu(spec: str) -> Machine:
    """'custom:cores=...' -> the Machine (benchmarks and tests; the CLI goes through catalog/hardware.parse_spec)."""
    from .spec_fields import parse_pairs

    profile = cpu_profile(parse_pairs(spec), spec)
    return cpu_machine(profile, profile.name, None)
