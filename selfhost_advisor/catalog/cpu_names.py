"""A CPU-only box named by its CPU and RAM: 'ryzen 9 7950x 64gb', '7950x 64gb ddr5-6000', 'i9-13900k 128gb ddr4',
'epyc 9654 2s 768gb', 'xeon platinum 8480+ 512gb', 'graviton4 192gb', 'raspberry pi 5 8gb'.

Why: a spec sheet (catalog/custom_cpu.py) is the way to price a box nobody has probed, but users know their CPU's name,
not its channels and boost clock. data/cpus.yaml holds each CPU's spec-sheet keys with their sources; a name becomes
the same fields a `custom:` spec gives, so the speed model is exactly the spec-sheet one (docs/methodology.md
4e-cpu16). The RAM size is the user's (the fit needs it; no CPU implies one), so a name without it is refused with an
example; 'ddr4' / 'ddr5-6000' picks another memory type or speed the CPU supports; '2s' a second socket.
catalog/hw_names.py asks `named_cpu` first, before the GPU names; a name that matches no CPU returns None there.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from ..errors import UnknownHardwareError
from ..lazy_re import lazy
from ..termsafe import clipped
from .data import load
from .profiles import Profile

GB = 10**9
# a memory size: the number, its unit (digits bounded later, so 5,000 digits are refused, not int()-ed)
_SIZE = lazy(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(gib|gb|tib|tb)\b", re.I)
# a memory type and optional speed: 'ddr5', 'ddr5-6000', 'ddr4 3200', 'lpddr5x-7500'
_MEM = lazy(r"\b(lp)?ddr\s*([45])(x)?(?:\s*[-_ ]\s*(\d+))?(?:\s*mt/?s)?\b", re.I)
# sockets: '2s', '2p', '2 sockets', '2-socket', 'dual socket', 'dual epyc 9654', '1s'
_SOCKETS = lazy(r"\b(?:([1-8])\s*-?\s*(?:s|p|sockets?)|(dual|single)(?:[\s-]*socket)?)\b", re.I)
# words a CPU's name carries that name no part: CPUID brand strings ('AMD Ryzen 9 7950X 16-Core Processor'),
# trademark marks, 'cpu'
_NOISE = lazy(r"\((?:r|tm)\)|[®™]|\b\d+\s*-\s*core\s+processor\b|\bprocessor\b|\bcpu\b|\bw/\s.*$", re.I)
_VENDOR = lazy(r"^\s*(?:amd|intel|aws|amazon|nvidia|ampere|arm)\s+", re.I)
# a name that says it is a GPU is never a CPU ('rx 7900 xt'): the GPU names keep their order
_GPU_WORDS = lazy(r"\b(?:rtx|gtx|rx|radeon|geforce|arc|quadro|tesla|instinct|gpu)\b", re.I)
# words that say a CPU is meant, for the suggestions of a name that matches none
_CPU_WORDS = lazy(r"\b(?:ryzen|threadripper|epyc|xeon|core\s+i[3579]|i[3579]-?\d{4,5}[a-z]*|graviton|altra|grace|"
                  r"raspberry|pi\s*5)\b", re.I)
_MAX_RAM_BYTES = 64 * 2**40  # 64 TiB: above any socket pair's maximum (a typo guard)
# A typo guard per segment and socket, about twice the largest maximum its parts are sold with, so that 'ryzen 9 7950x
# 64tb' is refused rather than priced as a 70 TB desktop: desktop 512 GiB (AM5 and LGA1700 boards top out at 192-256
# GB), single-board 64 GiB (the Pi 5 is sold with up to 16 GB), workstation 8 TiB (Threadripper PRO / Xeon W: 2-4 TB),
# server 12 TiB a socket (EPYC 9004: 6 TB a socket). Not a spec figure: a name past it is refused, one below it is the
# user's box.
_SEGMENT_RAM_CAP = {"desktop": 512 * 2**30, "sbc": 64 * 2**30, "workstation": 8 * 2**40, "server": 12 * 2**40}


class CpuNameError(UnknownHardwareError):
    """A CPU's name that cannot price a box as written: no RAM size, a memory type or speed the CPU cannot run, more
    sockets than the part has. The message names the CPU it matched."""


def _compact(text: str) -> str:
    return re.sub(r"[^a-z0-9+]", "", text.lower())


@lru_cache(maxsize=1)
def rows() -> tuple[dict, ...]:
    return tuple(load("cpus")["cpus"])


def _row_keys(row: dict) -> set[str]:
    """The compact forms a row is named by: its id, its name with and without the vendor, the family and model
    ('ryzen97950x', 'corei913900k', 'xeonplatinum8480+', 'epyc9654'), the model alone where it carries a letter
    or '+' ('7950x', '13900k', '8480+', '5995wx'), and its aliases (Intel's F / KF parts: 'i9-13900kf', '13900kf')."""
    name = row["name"]
    bare = _VENDOR.sub("", name)
    aliases = [str(a) for a in row.get("aliases", ())]
    keys = {_compact(row["id"]), _compact(name), _compact(bare), *(_compact(a) for a in aliases)}
    # an alias that is a model number ('i9-13900kf', the KF part ARK lists with the same figures) also without its
    # brand modifier ('13900kf'), as the row's own model is
    keys |= {_compact(re.sub(r"^[a-z]\d-", "", a.lower())) for a in aliases if re.match(r"^[a-z]\d-\d", a.lower())}
    words = bare.split()
    model = words[-1]
    if words[0].lower() == "core":  # 'Core i9-13900K': 'i9-13900k', '13900k'
        keys.add(_compact(" ".join(words[1:])))
    if words[0].lower() == "xeon":  # 'Xeon Platinum 8480+': 'xeon 8480+', 'platinum 8480+'
        keys |= {_compact(f"xeon {model}"), _compact(" ".join(words[1:]))}
    if words[0].lower() == "ryzen" and len(words) > 2:  # 'Ryzen Threadripper PRO 5995WX': 'threadripper pro 5995wx'
        keys.add(_compact(" ".join(words[1:])))
    if re.search(r"[a-z+]", model.lower()) and re.search(r"\d", model):
        keys.add(_compact(model))
        keys.add(_compact(re.sub(r"^[a-z]\d-", "", model.lower())))  # 'i9-13900K' -> '13900k', 'w9-3495X' -> '3495x'
    return {k for k in keys if k}


@lru_cache(maxsize=1)
def _index() -> dict[str, dict]:
    """Compact key -> row; a key two rows share names neither (tests/test_cpu_names.py checks every row still
    resolves by its own name)."""
    seen: dict[str, list[dict]] = {}
    for row in rows():
        for k in _row_keys(row):
            seen.setdefault(k, []).append(row)
    return {k: v[0] for k, v in seen.items() if len(v) == 1}


def _parts(name: str) -> tuple[str, list[re.Match], re.Match | None, re.Match | None]:
    """(the name without its size, memory and socket words; the sizes; the memory word; the socket word)."""
    text = " ".join(_NOISE.sub(" ", name).split())
    sizes = list(_SIZE.finditer(text))
    text = _SIZE.sub(" ", text)
    mem = _MEM.search(text)
    text = _MEM.sub(" ", text) if mem else text
    sock = _SOCKETS.search(text)
    text = _SOCKETS.sub(" ", text) if sock else text
    return " ".join(text.split()), sizes, mem, sock


def row_for(name: str) -> dict | None:
    """The data/cpus.yaml row `name` names (size, memory and socket words aside), else None."""
    if _GPU_WORDS.search(name):
        return None
    rest = _parts(name)[0]
    return _index().get(_compact(rest)) or _index().get(_compact(_VENDOR.sub("", rest)))


def is_cpu_name(name: str) -> bool:
    """Whether `name` names a CPU of the table (machine.py: a '+' inside it, 'xeon platinum 8480+', is not the
    separator of several GPUs)."""
    return row_for(name) is not None


def named_cpu(name: str) -> Profile | None:
    """The CPU box `name` names (its Profile, kind cpu, built as a spec sheet's), None when it names no CPU of the
    table; CpuNameError when it does but cannot be priced as written."""
    from .profiles import find_profile

    if find_profile(name) is not None:  # a curated profile keeps its name ('epyc-9654', 'genoa-1s')
        return None
    row = row_for(name)
    return None if row is None else cpu_profile_of(row, name)


def unknown_cpu(name: str, err: UnknownHardwareError) -> UnknownHardwareError:
    """`err` (the generic "unknown hardware" of the GPU names) said as an unknown CPU with CPU suggestions where `name` says it is a
    CPU ('i9-14900k 64gb': it offered a Radeon Instinct); `err` itself otherwise. Asked only after every other name
    rule failed, so 'ryzen ai max+ 395 128gb' (an APU) is never taken for a CPU."""
    generic = type(err) is UnknownHardwareError and err.message == f"unknown hardware {clipped(name)!r}"
    if not generic or not _CPU_WORDS.search(name) or _GPU_WORDS.search(name):  # 'ryzen ai max 380' keeps its own
        return err
    rest = _compact(_parts(name)[0])
    close = difflib.get_close_matches(rest, list(_index()), n=6, cutoff=0.6)
    ids = list(dict.fromkeys(_index()[k]["id"] for k in close))[:3]
    return UnknownHardwareError(
        f"unknown CPU {clipped(name)!r}" + (f"; did you mean {', '.join(ids)}?" if ids else ""),
        "CPUs with a sourced spec sheet are in data/cpus.yaml (e.g. 'ryzen 9 7950x 64gb'); describe another one: "
        "--hardware \"custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600\"")


# a RAM size for the example of a refusal, by the part's segment (a Raspberry Pi is not sold with 64 GB)
_EXAMPLE_GB = {"desktop": 64, "workstation": 256, "server": 512, "sbc": 8}


def example_name(row: dict) -> str:
    """How a user names `row` with a RAM size: 'ryzen 9 7950x 64gb', 'xeon platinum 8480+ 512gb'."""
    bare = _PAREN.sub(" ", _VENDOR.sub("", row["name"])).lower()
    return f"{' '.join(bare.split())} {_EXAMPLE_GB.get(row.get('segment'), 64)}gb"


_PAREN = lazy(r"\([^()]*\)")


def _ram(name: str, row: dict, sizes: list[re.Match]) -> tuple[str, float]:
    """The RAM size `name` states, as the custom: spec writes it and in bytes; refused where it states none, two, or
    one no CPU box has."""
    shown = clipped(name)
    example = example_name(row)
    if not sizes:
        raise CpuNameError(f"hardware {shown!r} names the {row['name']} but not the box's RAM size",
                           f"add it, e.g. '{example}'")
    if len({(m.group(1), m.group(2).lower()) for m in sizes}) > 1:
        raise CpuNameError(f"hardware {shown!r} states {len(sizes)} memory sizes", f"give one, e.g. '{example}'")
    number, unit = sizes[0].group(1), sizes[0].group(2).lower()
    if len(number) > 9 or float(number) <= 0:
        raise CpuNameError(f"hardware {shown!r}: {clipped(number, 20)}{unit} is not a RAM size", f"e.g. '{example}'")
    # A box's RAM in its name is the DIMMs' size, and a "64 GB" kit holds 64 GiB (DRAM capacity is binary): the name
    # means 2^30 bytes a GB, as a curated profile ('desktop-ddr5-64gb': 68,719,476,736 bytes), an Apple or APU name
    # ('m4 max 64gb', 'ryzen ai max+ 395 128gb') and a GPU's memory do. An explicit size (custom:...,ram=64GB, --ram)
    # keeps units.py's 10^9; this reading is the name's (methodology 4e-cpu18).
    scale = {"gb": 2**30, "gib": 2**30, "tb": 2**40, "tib": 2**40}[unit]
    size = float(number) * scale
    if not 2**29 <= size <= _MAX_RAM_BYTES:
        raise CpuNameError(f"hardware {shown!r}: {float(number):g} {unit.upper()} is not a RAM size of a CPU box",
                           f"e.g. '{example}'")
    return f"{float(number):g}{'GiB' if unit in ('gb', 'gib') else 'TiB'}", size


def _ram_within_segment(name: str, row: dict, typed: re.Match, size: float, sockets: int) -> None:
    """Refuse a RAM size (`typed` as the name states it, `size` its bytes from _ram) past what any box of the row's
    segment holds (_SEGMENT_RAM_CAP, per socket on servers)."""
    cap = _SEGMENT_RAM_CAP.get(row.get("segment", ""), _MAX_RAM_BYTES) * (sockets if row.get("segment") == "server" else 1)
    if size > cap:
        what = {"sbc": "single-board computer", "server": f"{sockets}-socket server"}.get(row.get("segment", ""),
                                                                                       row.get("segment") or "box")
        raise CpuNameError(f"hardware {clipped(name)!r}: {float(typed.group(1)):g} {typed.group(2).upper()} is more "
                           f"RAM than a {what} with "
                           f"the {row['name']} holds",
                           f"e.g. '{example_name(row)}'")


def _memory(name: str, row: dict, mem: re.Match | None) -> tuple[str, int | None, str]:
    """(memory type, MT/s or None for soldered memory of a fixed bandwidth, what the output says of it)."""
    shown = clipped(name)
    types = {m.split("-")[0]: m for m in row["memory"]}
    default = row["memory"][0]
    if mem is None:
        kind, _, speed = default.partition("-")
        rated = f"{default.upper()} (the {row['name']}'s rated speed"
        if len(types) > 1:
            other = [t for t in types if t != kind][0]
            return kind, int(speed) if speed else None, rated + f"; it also runs {other.upper()}: add '{types[other]}')"
        return kind, int(speed) if speed else None, rated + ")"
    typed = f"{'lp' if mem.group(1) else ''}ddr{mem.group(2)}{'x' if mem.group(3) else ''}".lower()
    if row.get("bandwidth_gbps"):
        raise CpuNameError(f"hardware {shown!r}: the {row['name']}'s memory is soldered {default.upper()}, fixed",
                           "drop the memory word")
    if typed not in types:
        raise CpuNameError(f"hardware {shown!r}: the {row['name']} does not run {typed.upper()}",
                           "it runs " + " or ".join(m.upper() for m in row["memory"]))
    rated = int(types[typed].split("-")[1])
    if mem.group(4) is None:
        return typed, rated, f"{types[typed].upper()} (its rated speed)"
    digits = mem.group(4)
    lo, hi = load("cpus")["memory_speeds"][typed]
    if len(digits) > 5 or not lo <= int(digits) <= hi:
        raise CpuNameError(f"hardware {shown!r}: {typed.upper()}-{clipped(digits, 12)} is not a {typed.upper()} speed",
                           f"{typed.upper()} runs {lo} to {hi} MT/s here (the {row['name']} is rated {rated})")
    mts = int(digits)
    return typed, mts, f"{typed.upper()}-{mts} (named; the {row['name']} is rated {types[typed].upper()})"


def _sockets(name: str, row: dict, sock: re.Match | None) -> int:
    if sock is None:
        return 1
    n = int(sock.group(1)) if sock.group(1) else (2 if sock.group(2).lower() == "dual" else 1)
    most = int(row.get("sockets_max") or 1)
    if n > most:
        raise CpuNameError(f"hardware {clipped(name)!r}: the {row['name']} runs in at most {most} socket"
                           + ("s" if most > 1 else ""), "drop the socket count" if most == 1 else f"give 1s to {most}s")
    return n


def spec_fields(row: dict, ram: str, mts: int | None = None, sockets: int = 1, threads: int | None = None) -> dict:
    """The `custom:` keys (catalog/custom_cpu.py) of `row` with `ram`: the same box a spec sheet describes. `mts`
    another memory speed; `threads` a thread count other than llama.cpp's default (benchmarks/cpu_published.py: a
    row's `-t`), counted over the P-cores first, then the E-cores."""
    cores = int(row["cores"]) * sockets
    fields: dict = {"cores": cores, "clock": f"{row['clock_ghz']}GHz", "simd": row["simd"], "ram": ram,
                    "flops_per_cycle": row["flops_per_cycle"], "name": row["name"]}
    if row.get("bandwidth_gbps"):
        fields["bandwidth"] = f"{float(row['bandwidth_gbps']) * sockets}GB/s"
    else:
        fields["channels"] = int(row["channels"]) * sockets
        fields["mts"] = mts or int(row["memory"][0].split("-")[1])
    if sockets > 1:
        fields["sockets"] = sockets
    if threads is not None and threads != cores:
        e = int(row.get("e_cores") or 0) * sockets
        fields["cores"] = threads
        if threads > cores and e:
            fields["e_cores"] = min(threads - cores, e)
            if row.get("e_clock_ghz"):  # unstated: the P-cores' clock (custom_cpu's default)
                fields["e_clock"] = f"{row['e_clock_ghz']}GHz"
    return fields


def cpu_profile_of(row: dict, name: str) -> Profile:
    """The Profile of `row` as `name` states its RAM, memory and sockets (custom_cpu.cpu_profile of its spec-sheet
    keys); raw `named_cpu` sends it down catalog/hardware.machine_from_profile's spec-sheet path, raw `origin` says
    where its figures came from (host_speed_source)."""
    from ..record import replace
    from .custom_cpu import cpu_profile

    _, sizes, mem, sock = _parts(name)
    ram, size = _ram(name, row, sizes)
    _, mts, mem_note = _memory(name, row, mem)
    sockets = _sockets(name, row, sock)
    _ram_within_segment(name, row, sizes[0], size, sockets)
    fields = spec_fields(row, ram, mts, sockets)
    profile = cpu_profile(fields, f"{row['id']} (data/cpus.yaml)")
    idle = (f"; its {row['e_cores']} E-cores idle (llama.cpp's default threads on Linux are the P-cores; a Windows "
            f"build runs all: custom:...,e_cores={row['e_cores']})" if row.get("e_cores") else "")
    origin = f"the {row['name']}'s spec sheet (data/cpus.yaml: its stated maximum clock; memory {mem_note}{idle})"
    raw = {**profile.raw, "id": row["id"], "named_cpu": True, "origin": origin, "as_of": row["as_of"],
           "sources": {"spec": row["source"], **({"memory": row["source_memory"]} if row.get("source_memory") else {})}}
    vendor = row["vendor"] if row["vendor"] in ("amd", "intel", "nvidia") else "generic"
    return replace(profile, id=row["id"], name=row["name"], vendor=vendor, raw=raw)
