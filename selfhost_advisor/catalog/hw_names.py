"""Any GPU or Apple configuration name a user types -> one hardware profile, or a refusal listing the choices.

Order: a curated profile (data/hardware.yaml, priced and calibrated), an Apple M-series configuration
(data/apple.yaml), then the GPU spec table (data/gpu_specs.yaml, every discrete/datacenter GPU since 2016). A name
that fits several configurations differing in memory ("rtx 3060": 12 GB and 8 GB; "m4 max": 36 to 128 GB) is
refused with the choices, never silently picked. The two data files are read only when the curated profiles do not
settle the name, so `fit --hardware rtx4090 --json` never parses them.
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

from ..errors import UnknownHardwareError
from ..termsafe import clipped
from ..lazy_re import lazy
from . import gpu_table
from .apu_names import _GB, _VENDOR_NAME, GIB, SizeNotSoldError, _apu, _igpu, apu_profiles, chip_label
from .data import load
from .profiles import Profile, find_profile, profiles

_HAS_MEMORY = lazy(r"\d\s*gi?b\b", re.I)
_MEMORY_ID = lazy(r"-\d+gb")
_APPLE_CHIP = lazy(r"^(?:apple\s+|mac\s*(?:mini|studio|book\s*(?:pro|air))?\s+)?m([1-5])(?:\s*(pro|max|ultra))?\b(.*)$")
_CORES = lazy(r"\(?\s*(?<!\d)(\d{1,4})\s*-?\s*c(?:ore)?s?\b(?:\s*gpu)?\s*\)?")


class AmbiguousHardwareError(UnknownHardwareError):
    """The name fits several configurations (memory sizes, GPU bins); the message lists them."""

    candidates: tuple = ()


class VendorMismatchError(UnknownHardwareError):
    """The name's vendor word contradicts the card its number found ('rtx 6800s'); the message offers that vendor's
    cards. A count split ('rtx 6800s x2') treats the name as known, so the part is refused with this message."""


def table_profile(row: dict) -> Profile:
    """A spec-table row as a Profile: no price; cores and boost clock for the CUDA kernel-rate term (speed.py)."""
    vendor = row["vendor"]
    brand = _VENDOR_NAME.get(vendor, vendor)
    raw = dict(row)
    raw["sm_count"] = row.get("units")
    if vendor == "nvidia":
        raw["cuda_cores"] = row.get("shaders")
    raw["sources"] = {"spec": row["source"]}
    if row.get("correction"):  # a sourced fix from data/gpu_overrides.yaml
        raw["sources"]["correction"] = f"{', '.join(row.get('corrected') or ())}: {row['correction']}"
    return Profile(
        id=row["id"], name=row["name"] if row["name"].startswith(brand) else f"{brand} {row['name']}", kind="gpu",
        vendor=vendor, backend=row["backend"], memory_bytes=int(round(row["memory_gib"] * GIB)),
        bandwidth_bytes_per_s=int(row["bandwidth_gbps"] * 1e9),
        fp16_flops=row["fp16_tflops"] * 1e12 if row.get("fp16_tflops") else None,
        fp16_acc16_flops=row["fp16_acc16_tflops"] * 1e12 if row.get("fp16_acc16_tflops") else None,
        tdp_watts=float(row["tdp_watts"]) if row.get("tdp_watts") else None, price_usd=None, unified=False, raw=raw,
    )


@lru_cache(maxsize=1)
def apple_profiles() -> tuple[Profile, ...]:
    """Every M-series chip x GPU bin x memory configuration sold (data/apple.yaml)."""
    curated = {p.id: p for p in profiles()}
    out = []
    for chip in load("apple")["chips"]:
        ref = curated[chip["per_core_from"]] if chip.get("per_core_from") else None
        per_core = ref.fp16_flops / ref.raw["gpu_cores"] if ref else (
            float(chip["fp16_per_core_tflops"]) * 1e12 if chip.get("fp16_per_core_tflops") else None)
        for b in chip["bins"]:
            for gb in b["memory_gb"]:
                pid = f"{chip['chip']}-{b['gpu_cores']}c-{gb}gb"
                out.append(Profile(
                    id=pid, name=f"Apple {chip['name']} {gb}GB ({b['gpu_cores']}-core GPU)", kind="apple",
                    vendor="apple", backend="metal", memory_bytes=gb * GIB,
                    bandwidth_bytes_per_s=int(b["bandwidth_gbps"] * 1e9),
                    fp16_flops=per_core * b["gpu_cores"] if per_core else None,
                    fp16_acc16_flops=None, tdp_watts=None, price_usd=None, unified=True,
                    raw={"id": pid, "gpu_cores": b["gpu_cores"], "chip": chip["chip"], "memory_gb": gb,
                         "sources": {"configuration": "data/apple.yaml",
                                     "fp16": f"derived: {ref.id} per-core rate x {b['gpu_cores']} cores" if ref
                                     else f"data/apple.yaml fp16_per_core_tflops x {b['gpu_cores']} cores" if per_core
                                     else "not sourced (prefill unknown)"}},
                ))
    return tuple(out)


def _curated_twin(p: Profile) -> Profile:
    """The curated profile describing the same configuration, when there is one (it carries price and calibration):
    same id (TechPowerUp's pre-launch 90 GB 'B200' row is the curated 180 GB B200; data/apu.yaml's Ryzen AI Max+ 395
    128 GB is the curated, priced ryzen-ai-max-395-128gb, which 'ai max+ 395 128gb' gave without its price and TDP, so
    cost excluded the box that fit had planned on), or the same TechPowerUp page."""
    same = find_profile(p.id) if p.kind in ("gpu", "apu") else None
    if same is not None and same.kind == p.kind:
        return same
    for c in profiles():
        if p.kind == "apple" and c.kind == "apple":
            if c.raw.get("gpu_cores") == p.raw["gpu_cores"] and c.memory_bytes == p.memory_bytes and \
                    c.id.startswith(p.raw["chip"] + "-") and c.id[len(p.raw["chip"]) + 1:][:1].isdigit():
                return c
        elif p.kind == "gpu" and c.kind == "gpu" and c.vendor == p.vendor and c.memory_bytes == p.memory_bytes:
            spec = str(p.raw.get("source", ""))
            if spec and any(spec in str(v) for v in (c.raw.get("sources") or {}).values()):
                return c
    return p


def _choices(cands: list[Profile]) -> str:
    shown = sorted(cands, key=lambda p: (p.memory_bytes, p.id))[:8]
    more = f" and {len(cands) - 8} more" if len(cands) > 8 else ""
    return ", ".join(f"{p.id} ({p.memory_bytes / GIB:g} GiB)" for p in shown) + more


def _near_size(stated: float, memory_bytes: float) -> bool:
    """Whether a stated memory size (bytes) names a card of `memory_bytes`: within 8% of it, so that a size in GB or
    in GiB reads alike (128 GB is 119 GiB); every size check of a typed name uses this one tolerance."""
    return abs(stated - memory_bytes) <= 0.08 * memory_bytes


def _refuse(name: str, cands: list[Profile]) -> AmbiguousHardwareError:
    sizes = {p.memory_bytes for p in cands}
    what = "memory sizes" if len(sizes) > 1 else "configurations"
    cores = sorted({c.raw.get("gpu_cores") for c in cands if c.kind == "apple" and c.raw.get("gpu_cores")})
    how = "its memory size" if len(sizes) > 1 else (f"its GPU core count, e.g. '{cores[-1]}-core'" if cores
                                                     else "its full id")
    stated = _stated_memory(name)
    if stated and not any(_near_size(stated, c.memory_bytes) for c in cands):
        # 'rtx 3060 16gb' said it "names several memory sizes ... name one of them, e.g. with its memory size": the user
        # had given one, which no variant has (as _memory_checked says of a card sold in one size)
        m = re.search(r"(?<![\d.])(\d{1,4}(?:\.\d{1,3})?)\s*(gi?b)\b", name, re.I)
        size = f" {float(m.group(1)):g} {'GiB' if m.group(2).lower() == 'gib' else 'GB'}" if m else " that size"
        err = AmbiguousHardwareError(f"hardware {name!r}: none of the cards it names has{size}; they come as "
                                     f"{_choices(cands)}", "name one of them" + _count_hint(name, cands))
        err.candidates = tuple(cands)
        return err
    err = AmbiguousHardwareError(f"hardware {name!r} names several {what}: {_choices(cands)}",
                                 f"name one of them, e.g. with {how}" + _count_hint(name, cands))
    err.candidates = tuple(cands)
    return err


def _count_hint(name: str, cands: list[Profile]) -> str:
    """'; or 8 GPUs of 80 GiB: --hardware "8x h100 pcie" (or "8x h100 sxm")' where the size `name` states matches no
    variant but is a whole number (2-8) of some variants' memory: a server named by its total ('h100 640gb'); only
    the variants it is closest to a whole number of (640 GB is 8 x 80, not ~7 x 94)."""
    stated = _stated_memory(name)
    if not stated or any(_near_size(stated, c.memory_bytes) for c in cands):
        return ""
    fits = [(abs(stated / c.memory_bytes - n), n, c) for c in cands if (n := _gpu_count(stated, c))]
    if not fits:
        return ""
    closest = min(miss for miss, _, _ in fits)
    fits = [(n, c) for miss, n, c in fits if miss <= closest + 0.01]
    n, first = fits[0]
    more = " (or " + ", ".join(f'"{_count_form(n, c)}"' for n, c in fits[1:3]) + ")" if len(fits) > 1 else ""
    return f"; or {n} GPUs of {first.memory_bytes / GIB:g} GiB: --hardware \"{_count_form(n, first)}\"" + more


def _apple(name: str) -> list[Profile] | None:
    """Configurations an Apple name fits, or None when it is not an M-series name."""
    text = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    m = _APPLE_CHIP.match(text)
    if not m:
        return None
    chip = f"m{m.group(1)}" + (f"-{m.group(2)}" if m.group(2) else "")
    rest = m.group(3)
    cores = _CORES.search(rest)
    rest_wo = _CORES.sub(" ", rest)
    gb = _GB.search(rest_wo)
    leftover = _GB.sub(" ", rest_wo).replace("gpu", " ").replace("(", " ").replace(")", " ").strip()
    if leftover:
        return None
    out = [p for p in apple_profiles() if p.raw["chip"] == chip]
    if cores:
        out = [p for p in out if p.raw["gpu_cores"] == int(cores.group(1))]
    if gb:
        out = [p for p in out if p.raw["memory_gb"] == int(gb.group(1))]
    if not any(p.raw["chip"] == chip for p in apple_profiles()):
        raise UnknownHardwareError(f"unknown hardware {name!r}: no sourced configurations of Apple {chip.upper()}",
                                   "describe it: --hardware \"custom:vram=32GB,bandwidth=153GB/s,backend=metal\"")
    entry = next(c for c in load("apple")["chips"] if c["chip"] == chip)
    partial = bool(entry.get("partial"))
    label = f"Apple {entry.get('name') or chip.upper().replace('-', ' ')}"  # 'Apple M5 Pro', not 'Apple M5 PRO'
    if not out:
        sold = sorted({(p.raw["gpu_cores"], p.raw["memory_gb"]) for p in apple_profiles() if p.raw["chip"] == chip})
        listing = "; ".join(f"{c}-core GPU {g}GB" for c, g in sold)
        if partial:
            raise UnknownHardwareError(f"hardware {name!r}: not among the sourced configurations of {label}",
                                       f"sourced: {listing}; describe yours with its spec sheet: --hardware "
                                       "\"custom:vram=...,bandwidth=...,fp16=...,backend=metal,unified=true\"")
        raise UnknownHardwareError(f"hardware {name!r}: {label} was not sold that way",
                                   f"configurations sold: {listing}")
    if partial and not gb:  # it listed the first sourced configuration only ('the sourced Apple M5 Max 36GB')
        named = "; ".join(f"{p.raw['gpu_cores']}-core GPU {p.raw['memory_gb']}GB" for p in out)
        raise AmbiguousHardwareError(f"hardware {name!r}: {label} was sold in more sizes than the sourced ones ({named})",
                                     "name the memory size (e.g. '" + f"{chip.replace('-', ' ')} {out[-1].raw['memory_gb']}gb'), "
                                     "or describe another one: --hardware \"custom:vram=...,bandwidth=...,fp16=...,"
                                     "backend=metal,unified=true\"")
    return out


def _apple_bins(p: Profile) -> list[Profile]:
    """The sold configurations (data/apple.yaml) of curated Apple profile `p`'s chip and memory size, one per GPU bin:
    two where the same memory was sold with two GPU core counts (an M4 Pro 48 GB has 16 or 20 cores)."""
    same = [q for q in apple_profiles() if q.memory_bytes == p.memory_bytes and p.id.startswith(q.raw["chip"] + "-")
            and p.id[len(q.raw["chip"]) + 1:][:1].isdigit()]
    return sorted(same, key=lambda q: q.raw["gpu_cores"])


def _refuse_bins(name: str, p: Profile, bins: list[Profile]) -> AmbiguousHardwareError:
    """'m4 pro 48gb' names an M4 Pro 48 GB with a 16- or a 20-core GPU: bandwidth or FLOPS differ by bin, so the
    name is refused with the bin ids; the curated id (priced, its bin in its name) is offered too."""
    listing = ", ".join(f"{q.id} ({q.raw['gpu_cores']}-core GPU)" for q in bins)
    return AmbiguousHardwareError(
        f"hardware {name!r} names {len(bins)} GPU bins of the {p.name.split(' (')[0]}: {listing}",
        f"name one of them, or the core count (e.g. '{bins[-1].raw['chip'].replace('-', ' ')} "
        f"{bins[-1].raw['gpu_cores']}-core {bins[-1].raw['memory_gb']}gb'); the priced profile {p.id} is the "
        f"{p.raw.get('gpu_cores')}-core one")


def _table(name: str) -> list[Profile]:
    return [table_profile(r) for r in gpu_table.lookup(name)]


def _memory_variants(name: str, p: Profile) -> list[Profile]:
    """Other sold configurations that `name` (which states no memory size) equally names, beside curated `p`."""
    if p.kind == "apple":
        cands = _apple(name) or []
    elif p.kind == "apu":
        # an alias that names no chip number ('strix halo', 'radeon 8060s') means the curated profile's chip
        cands = _apu(name) or [q for q in apu_profiles() if q.raw["chip"] == p.id.rsplit("-", 1)[0]]
    elif p.kind == "gpu" and _MEMORY_ID.search(p.id):
        cands = _table(name)
    else:
        return []
    twins = _of_stated_form(name, [_curated_twin(c) for c in cands])
    if len({c.memory_bytes for c in twins} | {p.memory_bytes}) > 1:
        return sorted({c.id: c for c in [p, *twins]}.values(), key=lambda c: c.id)
    return []


_MARKS = lazy(r"\((?:r|tm|c)\)|[®™]", re.I)
_PAREN = lazy(r"\([^()]*\)")
_PAREN_SIZE = lazy(r"\(\s*(\d+\s*gi?b)\s*\)", re.I)
_TRAILING_GRAPHICS = lazy(r"\s+(?:graphics|gpu)\s*$", re.I)


def driver_name_clean(name: str, keep_suffix: bool = False) -> str:
    """A device name as drivers print it -> the product name: 'Intel(R) Arc(TM) A770 Graphics' -> 'Intel Arc A770',
    'AMD Radeon RX 7900 XTX (RADV NAVI31)' -> 'AMD Radeon RX 7900 XTX', 'AMD Radeon (TM) Pro VII' -> 'AMD Radeon Pro
    VII' (ggml_vulkan, NVML, amdsmi and SYCL print such names; llama-bench rows carry them). A memory size in the
    parentheses is kept: 'Intel(R) Arc(TM) 140V GPU (16GB)' -> 'Intel Arc 140V 16GB'. keep_suffix keeps a trailing
    'Graphics' where it is the product's name ('Intel(R) Arc(TM) Graphics', Meteor Lake's iGPU)."""
    text = _MARKS.sub(" ", name)
    sizes = " ".join(m.group(1) for m in _PAREN_SIZE.finditer(text))
    text = _PAREN.sub(" ", text)
    text = " ".join(text.split()) if keep_suffix else _TRAILING_GRAPHICS.sub("", " ".join(text.split()))
    return " ".join(f"{text} {sizes}".split())


# Words scoreboard and driver names carry that no product key holds (docs/methodology.md 4c, name audit): a leading
# vendor ('NVIDIA DGX Spark', 'AMD Radeon 8060S'), the edition ('... Max-Q Workstation Edition', '... Server Edition',
# '... SFF Edition': NVML's "NVIDIA RTX PRO 4000 Blackwell SFF Edition", pci.ids 10de:2c33),
# Ada's 'Generation', RADV's 'RX 580 Series', an SR-IOV 'MI300X VF' (a virtual function of the same GPU).
_VENDOR_LEAD = lazy(r"^\s*(?:nvidia|amd|intel|apple)\s+", re.I)
_EDITION = lazy(r"\b(?:workstation\s+edition|generation|series|vf)\b|(?:(?<=\bserver)|(?<=\bsff))\s+edition\b", re.I)
# AMD's LLVM target as RADV prints Strix Halo's iGPU, whose marketing name the driver does not know ('AMD Radeon
# Graphics (RADV GFX1151)', Vulkan scoreboard #10879): gfx1151 is the Radeon 8060S (Ryzen AI Max+ 395 setups list
# "Radeon 8060S (integrated, gfx1151)"); it names three memory sizes, so it is refused with them. Session 32: gfx1151
# is the Max 390's and 385's Radeon 8050S too (ROCm gpu-specs.rst lists all three Ryzen AI Max chips as gfx1151), so
# it names the Strix Halo product (data/apu.yaml: every chip and size), not the 8060S alone
_GFX = {"gfx1151": "strix halo"}
_GFX_NOTE = lazy(r"\bgfx\d{3,4}[a-z]?\b", re.I)
# a chip a driver names alone: every table row built on it (its name's prefix, and a word the name must hold).
# llama-bench on a Jetson Orin prints 'Orin'. A Jetson Thor prints 'NVIDIA Thor' (CUDA and NVML: "Device 0: NVIDIA
# Thor, compute capability 11.0" on the AGX Thor developer kit, https://github.com/ggml-org/llama.cpp/issues/15969;
# "GPU 0: NVIDIA Thor", https://github.com/vllm-project/vllm/issues/34470); NVIDIA sells Thor as the numbered modules
# Jetson T4000 (64 GB) and T5000 (128 GB), and the Jetson AGX Thor Developer Kit carries the T5000 ("Jetson AGX Thor
# T5000 developer kit ... 128 GB LPDDR5X at 273 GB/s", https://github.com/antirez/ds4/pull/788; its devicetree model
# "NVIDIA Jetson AGX Thor Developer Kit", https://github.com/rbonghi/jetson_stats/issues/711)
_CHIP_ONLY = {"orin": ("Jetson", "orin"), "agxorin": ("Jetson AGX", "orin"), "thor": ("Jetson T", ""),
              "jetsonthor": ("Jetson T", ""), "agxthor": ("Jetson T5000", ""), "jetsonagxthor": ("Jetson T5000", ""),
              "jetsonagxthordeveloperkit": ("Jetson T5000", ""), "jetsonagxthordevkit": ("Jetson T5000", "")}
_SIZE_WORD = lazy(r"(?<![\d.])\d{1,4}(?:\.\d{1,3})?\s*gi?b\b", re.I)
# Device names NVML (and torch.cuda.get_device_name) print that the rules above do not read as the GPU they are, by
# their compacted form without marks and vendor word (gpu_table.compact). A Grace Hopper superchip's 96 GB HBM3 GPU (PCI
# id 0x2342) is named by its Grace CPU's LPDDR5X: "NVIDIA GH200 480GB" (Lambda, CoreWeave; mredenti/PowerCapping's
# OpenCL listing: 97280 MB VRAM) or "NVIDIA GH200 120GB" (CSCS Alps, Isambard-AI: 97,871 MiB), and the HBM3e GPU
# (0x2348) "NVIDIA GH200 144G HBM3e" (NVIDIA/mig-parted config-default.yaml, PR #139: 7g.96gb for 0x2342, 7g.144gb for
# "GH200 144G HBM3e"); the table's size rule refused '... 480GB' as a size no GH200 GPU has and offered '5x gh200 96 gb'.
# A B300 prints "NVIDIA B300 SXM6 AC" (NVIDIA/cosmos-framework PR #114: torch.cuda.get_device_name() returns it), whose
# trailing 'AC' no key holds. docs/methodology.md 4c-hw26.
_DRIVER_ALIASES = {"gh200480gb": "gh200 96gb", "gh200120gb": "gh200 96gb", "gh200144ghbm3e": "gh200 144gb",
                   "b300sxm6ac": "b300"}


def driver_alias(name: str) -> str | None:
    """The product name of a device name NVML prints that names its GPU otherwise (_DRIVER_ALIASES), else None:
    'NVIDIA GH200 480GB' -> 'gh200 96gb'. Read by resolve and by the probe's name match (probe/match.py)."""
    return _DRIVER_ALIASES.get(gpu_table.compact(_VENDOR_LEAD.sub("", driver_name_clean(name))))


# NVIDIA's SUPER cards as forums and shops shorten them ('4070S', 'RTX 4080 S', 'GTX 1660S'): tried only when the name
# names nothing as typed, so AMD's mobile 'RX 6800S' (a row of its own) is never read as a SUPER
_SUPER_SHORT = lazy(r"^((?:nvidia\s+)?(?:geforce\s+)?(?:[gr]tx\s*)?\d{4}(?:\s*ti)?)\s*s((?:\s+\d{1,3}\s*gi?b)?)$", re.I)


# how NVIDIA's driver names a Max-Q laptop GPU of the Turing generation ("GeForce RTX 2070 with Max-Q Design",
# llama-bench's CUDA device line in benchmarks/published/unseen_s27_b1_cuda.yaml); the table row is 'RTX 2070 Max-Q'
_MAX_Q_DESIGN = lazy(r"\bwith\s+(max-?q)\s+design\b", re.I)


def _fallbacks(name: str) -> list[str]:
    """Other spellings to try when `name` names nothing as typed, in order."""
    out = [driver_name_clean(name), driver_name_clean(name, keep_suffix=True)]
    short = _SUPER_SHORT.match(" ".join(name.replace("-", " ").replace("_", " ").split()))  # 'rtx-4070s' as an id
    if short:
        out.append(f"{short.group(1)} super{short.group(2)}")
    maxq = _MAX_Q_DESIGN.sub(r"\1", name)
    if maxq != name:  # NVML's 'NVIDIA GeForce RTX 2070 with Max-Q Design' is the RTX 2070 Max-Q
        out.append(driver_name_clean(maxq))
    gfx = _GFX_NOTE.search(name)
    if gfx and gfx.group(0).lower() in _GFX:
        size = re.search(r"(?<![\d.])\d{1,4}\s*gi?b\b", name, re.I)  # '... (RADV GFX1151) 128gb' keeps its size
        out.append(_GFX[gfx.group(0).lower()] + (f" {size.group(0)}" if size else ""))
    for text in list(out):
        bare = _VENDOR_LEAD.sub("", text)
        out.append(bare)
        out.append(" ".join(_EDITION.sub(" ", bare).split()))
    return out


# Intel's platform as Mesa's Vulkan driver appends it to a device name ('Intel(R) Graphics (LNL)'): data/probe.yaml
# intel_gpus rows carry it per PCI id (`mesa`), with the chips or cards of that id
_MESA_PLATFORM = lazy(r"\(\s*(LNL|MTL|ARL|PTL|BMG\s+G\d\d|DG2)\s*\)", re.I)
# what an Intel device name says besides its platform when it names no product ('Intel(R) Arc(tm) Graphics')
_INTEL_GENERIC = lazy(r"\b(?:intel|arc|graphics|gpu|igpu)\b|\d{1,4}\s*gi?b\b", re.I)
# Intel's platform codenames as users type them ('lunar lake', 'intel panther lake 32gb'): the GPUs of that platform,
# as a driver's '(LNL)' names them (session 32: the codenames were 'unknown hardware' with no suggestion)
_INTEL_CODENAME = lazy(r"^(?:intel\s+)?(lunar|meteor|arrow|panther)\s*lake(?:\s*-?\s*h)?((?:\s+\d{1,4}\s*gi?b)?)$")
_CODENAMES = {"lunar": "LNL", "meteor": "MTL", "arrow": "ARL", "panther": "PTL"}
_PLATFORM_NAMES = {"LNL": "Lunar Lake", "MTL": "Meteor Lake", "ARL": "Arrow Lake", "PTL": "Panther Lake",
                   "BMG G21": "Battlemage G21", "DG2": "Alchemist (DG2)"}
# a CPU of each iGPU platform with memory that names one configuration (data/apu.yaml `cpus`): the refusal's example
# must name the platform it refuses (a Lunar Lake CPU offered for 'Intel(R) Graphics (PTL)' resolves to Lunar Lake)
_PLATFORM_CPU = {"LNL": "core ultra 7 258v 32gb", "MTL": "core ultra 7 155h 32gb lpddr5x-7467",
                 "ARL": "core ultra 7 255h 32gb lpddr5x-8400", "PTL": "core ultra x7 358h 32gb lpddr5x-9600"}


def _mesa_platform(name: str) -> list[Profile] | None:
    """The configurations an Intel device name that gives only its platform names ('Intel(R) Graphics (LNL)': Lunar
    Lake's Arc 140V and 130V; 'Intel(R) Arc(tm) Graphics (MTL)': Meteor Lake's), from the PCI-id rows of data/probe.yaml
    with that `mesa` platform; None when the name carries no such platform or names a product beside it ('Intel(R)
    Arc(tm) A770 Graphics (DG2)' resolves by its product). Why: the product words alone mislead ('Arc Graphics' is
    Meteor Lake's alias), and Mesa prints only the platform for every Lunar, Arrow and Panther Lake iGPU."""
    m = _MESA_PLATFORM.search(name)
    if not m or _INTEL_GENERIC.sub(" ", _VENDOR_LEAD.sub("", driver_name_clean(name))).strip():
        return None
    code = " ".join(m.group(1).upper().split())
    rows = [r for r in load("probe")["intel_gpus"]["devices"] if str(r.get("mesa", "")).upper() == code]
    chips = {c for r in rows for c in r.get("chips", ())}
    cands = [p for p in apu_profiles() if p.raw["chip"] in chips]
    for card in dict.fromkeys(c for r in rows for c in r.get("cards", ())):
        cands += _table(card)
    stated = _stated_memory(name)
    if stated is not None:
        cands = [p for p in cands if abs(p.memory_bytes - stated) < GIB // 2] or cands
    return list({c.id: c for c in map(_curated_twin, cands)}.values())


def _platform_refusal(name: str, cands: list[Profile], typed_code: str = "") -> AmbiguousHardwareError:
    code = typed_code or " ".join(_MESA_PLATFORM.search(name).group(1).upper().split())
    note = ("; 'Intel Graphics' without 'Arc' on Meteor or Arrow Lake is the 4-Xe part or single-channel memory, "
            "which has no profile: describe it with custom:" if code in ("MTL", "ARL")
            and not re.search(r"\barc\b", name, re.I) else "")
    said = (f"the platform {_PLATFORM_NAMES[code]}" if typed_code
            else f"only Mesa's platform {code} ({_PLATFORM_NAMES[code]})")
    err = AmbiguousHardwareError(
        f"hardware {name!r} names {said}: {_choices(cands)}",
        (f"name one of them by its id, or the CPU and memory (e.g. '{_PLATFORM_CPU[code]}')"
         if any(c.kind == "apu" for c in cands) and code in _PLATFORM_CPU
         else "name one of them by its id" if any(c.kind == "apu" for c in cands) else f"name the card (e.g. '{cands[0].id.replace('-', ' ')}')") + note)
    err.candidates = tuple(cands)
    return err


# The vendor a word of a name commits to (session 20 review: 'rtx 6800s' ran as AMD's RX 6800S, 'rx 4090' as the RTX
# 4090, 'rtx b580' as Intel's Arc B580: the series-word strip of gpu_table.keys found the other vendor's card by its
# number). A word stands alone, or glued to the model number ('rtx4090', 'rx7900xtx', 'arcb580').
_VENDOR_WORDS = {"nvidia": "nvidia", "geforce": "nvidia", "rtx": "nvidia", "gtx": "nvidia", "quadro": "nvidia",
                 "amd": "amd", "radeon": "amd", "rx": "amd", "instinct": "amd", "ryzen": "amd",
                 "intel": "intel", "arc": "intel"}
_VENDOR_WORD = lazy(r"(?<![a-z0-9])(" + "|".join(_VENDOR_WORDS) + r")(?=\d|\s|$|[a-z]\d)")
_VENDOR_LABEL = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel"}


def named_vendors(name: str) -> set[str]:
    """The GPU vendors the words of `name` name ('rtx 6800s' -> {'nvidia'}); empty where none is named."""
    text = re.sub(r"[^a-z0-9]+", " ", name.lower())
    return {_VENDOR_WORDS[m.group(1)] for m in _VENDOR_WORD.finditer(text)}


def _vendor_refusal(name: str, named: set[str], found: list[Profile]) -> VendorMismatchError | None:
    """An UnknownHardwareError where `name` names a vendor (named_vendors) and no profile it matched is that vendor's:
    the words of the name contradict the card, so neither is taken at its word; None where they agree. Where a name
    names two vendors ('Intel Core i7-8809G Radeon RX Vega M') the card must be one of them."""
    if not named or not found or any(p.vendor in named or p.vendor in ("generic",) for p in found):
        return None
    which = " or ".join(sorted(_VENDOR_LABEL.get(v, v) for v in named))
    other = found[0]
    hint = suggestions(name, vendors=named)
    return VendorMismatchError(
        f"hardware {clipped(name)!r} names {which}, but its number matches {other.name} ({other.id})",
        (f"did you mean {', '.join(hint)}? " if hint else f"no {which} card of that name is known; ")
        + f"for the {_VENDOR_LABEL.get(other.vendor, other.vendor)} card name it '{other.id.replace('-', ' ')}'")


def resolve(name: str) -> Profile:
    """The one profile `name` names, where a vendor word in it (rtx, gtx, geforce, quadro: NVIDIA; rx, radeon: AMD;
    arc: Intel) agrees with the card (_vendor_refusal); otherwise as _resolve_any."""
    named = named_vendors(name)
    try:
        p = _resolve_any(name)
    except AmbiguousHardwareError as err:
        refusal = _vendor_refusal(name, named, list(err.candidates))
        if refusal is not None:
            raise refusal from None
        raise
    except UnknownHardwareError as err:
        raise _unknown_cpu(name, err) from None
    refusal = _vendor_refusal(name, named, [p])
    if refusal is not None:
        raise refusal
    return p


def _resolve_any(name: str) -> Profile:
    """The one profile `name` names; AmbiguousHardwareError with the choices, or UnknownHardwareError with up to
    three suggestions. One part of a spec: parse_spec (and mixed-GPU specs) call it per part. A name as a driver
    prints it (trademark marks, a parenthesised driver note, a trailing 'Graphics') is tried cleaned when it names
    nothing as typed, then without a leading vendor word and edition words, and an AMD 'GFX1151' note as its
    product. An Intel name that gives only Mesa's platform ('Intel(R) Graphics (LNL)') names that platform's GPUs."""
    _refuse_bad_size(name)
    cpu = _named_cpu(name)
    if cpu is not None:
        return cpu
    alias = driver_alias(name)
    if alias is not None:
        return _resolve(alias)
    codename = _INTEL_CODENAME.match(" ".join(name.lower().split()))
    if codename:  # 'lunar lake', 'panther lake 32gb': the platform as Mesa names it (session 32)
        code = _CODENAMES[codename.group(1)]
        platform = _mesa_platform(f"Intel Graphics ({code}){codename.group(2)}")
        if platform is not None and len(platform) == 1:
            return platform[0]
        if platform:
            raise _platform_refusal(name, platform, code)
    platform = _mesa_platform(name)
    if platform is not None:
        if len(platform) == 1:
            return platform[0]
        if platform:
            raise _platform_refusal(name, platform)
    try:
        return _resolve(name)
    except AmbiguousHardwareError:
        raise
    except UnknownHardwareError as first:
        tried = {" ".join(name.split())}
        chip = [p for p in _chip_only(name)]
        if chip:
            if len(chip) == 1:  # 'jetson agx thor' (the T5000 developer kit), 'orin 64gb'
                return _memory_checked(name, chip[0])
            raise _refuse(name, chip) from None
        for clean in _fallbacks(name):
            if not clean or clean in tried:
                continue
            tried.add(clean)
            try:
                return _resolve(clean)
            except AmbiguousHardwareError as err:  # said as typed (session 32: not 'strix halo' for a RADV name)
                err.message = err.message.replace(repr(clipped(clean)), repr(clipped(name)), 1)
                raise
            except SizeNotSoldError as err:  # said as the user typed it, not as the fallback spelled it
                raise SizeNotSoldError(err.message.replace(repr(clipped(clean)), repr(clipped(name)), 1),
                                       err.hint) from None
            except UnknownHardwareError:
                continue
        typed = _MEMORY_TYPE.findall(name)
        if typed:
            return _memory_type_checked(name, typed, first)
        raise first from None


# a GPU memory type as people append it to a card's name ('gh200 144gb hbm3e', 'rtx 3090 24gb gddr6x'); tried only
# when the name names nothing as typed, since a few table rows are told apart by it ('GTX 1650 GDDR6')
_MEMORY_TYPE = lazy(r"(?<![a-z0-9])(hbm(?:\d(?:e)?)?|gddr\d(?:x)?)(?![a-z0-9])", re.I)


def _memory_type(p: Profile) -> str | None:
    """The memory type of a GPU profile from its spec-table row (its own, or the row a curated profile cites),
    None where no row says."""
    if p.raw.get("memory_type"):
        return str(p.raw["memory_type"])
    row = gpu_table.by_id(p.id)
    if row is None and p.kind == "gpu":
        cited = " ".join(str(v) for v in (p.raw.get("sources") or {}).values())
        row = next((r for r in gpu_table.rows() if r["vendor"] == p.vendor and r.get("source") and r["source"] in cited
                    and abs(r["memory_gib"] * GIB - p.memory_bytes) < GIB // 2), None)
    return str(row["memory_type"]) if row and row.get("memory_type") else None


def _type_fits(typed: list[str], p: Profile) -> bool | None:
    """Whether the memory type(s) a name states are p's ('hbm' or 'gddr' alone fits any of that family); None when
    p's type is not known."""
    own = _memory_type(p)
    if own is None:
        return None
    return all(own.lower() == t.lower() or (t.lower() in ("hbm", "gddr") and own.lower().startswith(t.lower()))
               for t in typed)


def _memory_type_checked(name: str, typed: list[str], first: UnknownHardwareError) -> Profile:
    """The card `name` names once its memory-type word is set aside, where that card has that memory: 'gh200 144gb
    hbm3e' is the 144 GB GH200; 'h100 80gb hbm3e' is refused (the H100 has HBM3; the H200 is the HBM3e part), never
    answered for a card with other memory. Several cards left: those of the stated type, or the refusal."""
    bare = " ".join(_MEMORY_TYPE.sub(" ", name).split())
    if not bare or not gpu_table.compact(bare):
        raise first
    try:
        p = _resolve_any(bare)
    except AmbiguousHardwareError as err:
        fits = [c for c in err.candidates if _type_fits(typed, c)]
        if len(fits) == 1:
            return fits[0]
        if fits and len(fits) < len(err.candidates):
            raise _refuse(name, fits) from None
        raise
    except UnknownHardwareError:
        raise first from None
    if _type_fits(typed, p) is False:
        # the card of the same size and form with that memory, where the tie-break picked another ('h100 80gb hbm3' is
        # the SXM5 card, HBM3; the tie of 80 GB H100s goes to the PCIe one, HBM2e)
        twins = {c.id: c for c in map(_curated_twin, _table(bare))
                 if abs(c.memory_bytes - p.memory_bytes) < GIB // 2 and _type_fits(typed, c)}
        if len(twins) == 1:
            return next(iter(twins.values()))
        if twins:
            raise _refuse(name, list(twins.values()))
        sized = {c.id: _memory_type(c) for c in map(_curated_twin, _table(bare))
                 if abs(c.memory_bytes - p.memory_bytes) < GIB // 2 and _memory_type(c)} or {p.id: _memory_type(p)}
        has = ", ".join(f"{pid} has {kind}" for pid, kind in sorted(sized.items()))
        raise UnknownHardwareError(f"hardware {clipped(name)!r}: no such card has {'/'.join(t.upper() for t in typed)} "
                                   f"memory ({has})",
                                   "drop the memory type to use the card as sold, or name the card that has it")
    return p


# a memory size with a sign stuck to it after a space ('m4 max -64gb', '--64gb', a Unicode minus or dash) or a number
# with two points or a trailing one ('64.5.3gb', '12.gb'). Why: the dash read as a separator, so 'm4 max -64gb' ran as
# the 64 GB Mac and 'rtx 3060 -12gb' as the 12 GB card. A dash between words ('a100-80gb', 'rtx 3060 - 12gb') stays one.
_BAD_SIZE = lazy(r"(?:^|(?<=[\s(,]))([-\u2212\u2013\u2014]+\d[\d.]*\s*[gmt]i?b|\d*\.\d*\.[\d.]*\s*[gmt]i?b|\d+\.\s*[gmt]i?b)\b",
                 re.I)


def _refuse_bad_size(name: str) -> None:
    """Exit 2 on a negative or malformed memory size in a hardware name (_BAD_SIZE), before any lookup."""
    bad = _BAD_SIZE.search(name)
    if bad:
        raise UnknownHardwareError(f"hardware {clipped(name)!r}: {clipped(bad.group(1), 20)!r} is not a memory size "
                                   "(negative or malformed)", "write a positive size after the name, e.g. '64gb', or drop it")


def _chip_only(name: str) -> list[Profile]:
    """Every table row built on the chip a driver name gives alone ('Orin', 'NVIDIA Thor'), else []; those of the
    memory size the name states where some are ('thor 128gb': the T5000)."""
    entry = _CHIP_ONLY.get(gpu_table.compact(_VENDOR_LEAD.sub("", _SIZE_WORD.sub(" ", driver_name_clean(name)))))
    if not entry:
        return []
    key, word = gpu_table.compact(entry[0]), entry[1]
    rows = [table_profile(r) for r in gpu_table.rows() if gpu_table.compact(r["name"]).startswith(key)
            and word in r["name"].lower()]
    mem = _stated_memory(name)
    sized = [p for p in rows if mem and _near_size(mem, p.memory_bytes)]
    return sized or rows


def _stated_memory(name: str) -> int | None:
    """The one memory size `name` states; None where it states none, or two that differ ('rtx 3060 12gb 8gb' is
    refused with its choices, not priced at whichever came first)."""
    sizes = {int(round(float(m) * GIB)) for m in re.findall(r"(?<![\d.])(\d{1,4}(?:\.\d{1,3})?)\s*gi?b\b", name, re.I)}
    return sizes.pop() if len(sizes) == 1 else None


# a form factor as typed ('sxm', 'sxm5', 'pcie', 'nvl', 'dgxs'): matched inside a candidate's id or name ('sxm' in SXM4)
_FORM_WORD = lazy(r"(?<![a-z])(sxm\d?|pcie|nvl|dgxs)(?![a-z])")


def _same_memory_form_factors(name: str, cands: list[Profile]) -> list[Profile]:
    """The candidates of the memory size `name` states; a tie among form factors of one memory size (V100 32 GB:
    PCIe, SXM2, SXM3, DGXS) goes to the form the name states, else to the PCIe card, the part sold on its own (its
    clocks are the lowest of them, so the estimate is the conservative one). Where no candidate has the size exactly,
    those of the one size within 8% of it that no other size is as close to (_memory_checked's tolerance: 'gh200
    141gb', as a spec table lists the 144 GB HBM3e GH200, said "names several memory sizes ... name one, e.g. with its
    memory size"). Methodology 4c."""
    mem = _stated_memory(name)
    if mem is None:
        return _of_stated_form(name, cands)
    same = [c for c in cands if abs(c.memory_bytes - mem) < GIB // 2]
    if not same:
        near = [c for c in cands if _near_size(mem, c.memory_bytes)]
        gap = abs(near[0].memory_bytes - mem) if near else 0
        # one size within 8%, and no other size as close: 'h100 sxm 87gb' lies 7 GiB from the 80 GB card and from the
        # 94 GB one (8% of 94 reaches it, 8% of 80 does not) and names neither
        tied = bool(near) and any(abs(c.memory_bytes - mem) <= gap for c in cands
                                  if c.memory_bytes != near[0].memory_bytes)
        same = near if len({c.memory_bytes for c in near}) == 1 and not tied else []
    if len(same) > 1:
        # a form the name states decides first: 'h100 sxm 96gb' and 'a100 sxm 40gb' were the PCIe cards (the table's
        # weaker keys drop 'sxm', and the tie below went to PCIe)
        same = _of_stated_form(name, same)
        pcie = [c for c in same if "pcie" in c.id]
        if len(pcie) == 1:
            return pcie
    return same or cands


def _of_stated_form(name: str, cands: list[Profile]) -> list[Profile]:
    """The candidates of the form factor(s) `name` states ('sxm' in SXM4), all of them where it states none or none
    fits. Why: 'h100 sxm 96gb' and 'a100 sxm 40gb' were the PCIe cards, and 'a100 sxm' listed them among its choices."""
    forms = _FORM_WORD.findall(name.lower())
    stated = [c for c in cands if forms and all(f in f"{c.id} {c.name}".lower() for f in forms)]
    return stated or cands


def _memory_checked(name: str, p: Profile) -> Profile:
    """`p`, unless `name` states a memory size this GPU or Mac was not sold with ('rtx 4090 8gb', 'm4 max 64gb 128gb'):
    a stated size is taken at its word, never silently replaced by the card's. Within 8%: a size in GB or GiB (128 GB
    is 119 GiB). Integrated parts (an APU's RAM is not its GPU memory) are left to their own rules."""
    sizes = {float(m) for m in re.findall(r"(?<![\d.])(\d{1,4}(?:\.\d{1,3})?)\s*gi?b\b", name, re.I)}
    shown = clipped(name)
    sized = p.kind in ("gpu", "apple") and p.memory_bytes
    # an APU too: 'radeon 780m ddr5-5600 16gb 32gb' was the 16 GB laptop, the first size
    if len(sizes) > 1 and (sized or p.kind == "apu"):
        raise UnknownHardwareError(f"hardware {shown!r} states {len(sizes)} memory sizes",
                                   "name one size, or none to see the choices")
    if not sizes or not sized:
        return p
    size = sizes.pop()
    if not _near_size(size * GIB, p.memory_bytes):
        raise SizeNotSoldError(f"hardware {shown!r}: {p.name} has {p.memory_bytes / GIB:g} GiB, not {size:g} GB"
                               + _also_sold(p),
                               _several_gpus_hint(size, p) + "drop the size to use the card as sold, or describe "
                               "yours: --hardware \"custom:vram=...,bandwidth=...,fp16=...\"")
    return p


def _bare_model(name: str) -> str:
    """A card's name without vendor words and memory size: 'NVIDIA GeForce RTX 3080 10GB' and 'GeForce RTX 3080 12 GB'
    are both 'rtx3080'."""
    return gpu_table.compact(gpu_table._BRAND.sub(" ", gpu_table._MEMORY.sub(" ", name.lower())))


def _also_sold(p: Profile) -> str:
    """'; the same card was also sold with 12 GiB (rtx-3080-12-gb)' where table rows of p's model differ from p only
    in memory; '' otherwise. Why: 'rtx 3080 16gb' said only 'has 10 GiB', the 12 GB RTX 3080 left unnamed."""
    model = _bare_model(p.name)
    others = {}
    for row in gpu_table.rows():
        if row["vendor"] == p.vendor and _bare_model(row["name"]) == model:
            q = _curated_twin(table_profile(row))
            if abs(q.memory_bytes - p.memory_bytes) >= GIB // 2:
                others.setdefault(q.memory_bytes, q.id)
    if not others:
        return ""
    return "; the same card was also sold with " + ", ".join(
        f"{mem / GIB:g} GiB ({pid})" for mem, pid in sorted(others.items()))


def _several_gpus_hint(size_gb: float, p: Profile) -> str:
    """'2 GPUs of 12 GiB: --hardware "2x tesla k80"; ' where the stated size is a whole number (2-8) of this GPU's
    memory (_gpu_count); nothing otherwise."""
    n = _gpu_count(size_gb * GIB, p)
    if not n:
        return ""
    return f"{n} GPUs of {p.memory_bytes / GIB:g} GiB: --hardware \"{_count_form(n, p)}\"; otherwise "


def _gpu_count(size_bytes: float, p: Profile) -> int:
    """How many of GPU `p` a stated memory size is, where it is a whole number (2-8) of p's memory within 8%: a
    dual-GPU board sold by its total (a Tesla K80 is two 12 GB GK210s, each its own CUDA device; the scoreboard's K80
    row is one of them) or several cards added up; 0 otherwise, and for a Mac (its memory is one pool; parse_spec
    refuses a count for one)."""
    n = round(size_bytes / p.memory_bytes)
    if p.kind != "gpu" or not 2 <= n <= 8 or not _near_size(size_bytes, n * p.memory_bytes):
        return 0
    return n


def _count_form(n: int, p: Profile) -> str:
    """The --hardware text of n of GPU p: '2x tesla k80'."""
    return f"{n}x {p.id.replace('-', ' ')}"


def _resolve(name: str) -> Profile:
    return _memory_checked(name, _resolve_name(name))


def _resolve_name(name: str) -> Profile:
    p = find_profile(name)
    if p is None and _HAS_MEMORY.search(name):
        # a curated name with its own memory size appended ('RTX 6000 Ada 48GB', XiongjieDai's table)
        bare = find_profile(" ".join(re.sub(r"(?<![\d.])\d{1,4}(?:\.\d{1,3})?\s*gi?b\b", " ", name, flags=re.I).split()))
        if bare is not None and bare.kind == "gpu" and abs(bare.memory_bytes - (_stated_memory(name) or 0)) < GIB // 2:
            p = bare
        elif bare is not None and bare.kind == "apu":
            return _apu_alias_sized(name, bare)
    if p is not None:
        if p.raw.get("memory_variants") and not _HAS_MEMORY.search(name) and name.strip().lower() != p.id:
            # a curated card also sold with another memory size that its aliases do not tell apart ('rtx 3080': 10 and
            # 12 GB; data/hardware.yaml memory_variants, session 32); the spec table is read only to refuse
            raise _refuse(name, [p] + [table_profile(gpu_table.by_id(v)) for v in p.raw["memory_variants"]])
        if p.kind in ("gpu", "apple", "apu") and not _HAS_MEMORY.search(name) and _norm_id(name) != p.id:
            variants = _memory_variants(name, p)
            if variants:
                raise _refuse(name, variants)
        if p.kind == "apple" and name.strip().lower() != p.id and not _CORES.search(name.lower()):
            bins = _apple_bins(p)
            if len(bins) > 1:
                raise _refuse_bins(name, p, bins)
        return p
    apple = _apple(name)
    apu = (_apu(name) or _igpu(name)) if apple is None else None
    if apple is not None or apu is not None:
        cands = list({c.id: c for c in map(_curated_twin, apple if apple is not None else apu)}.values())
    else:
        cands = _same_memory_form_factors(name, list({c.id: c for c in map(_curated_twin, _table(name))}.values()))
    if len(cands) == 1:
        return cands[0]
    if cands:
        raise _refuse(name, cands)
    superchip = _SUPERCHIP.match(" ".join(name.lower().split()))
    if superchip:
        raise _superchip_error(name, superchip.group(1))
    hint = suggestions(name)
    raise UnknownHardwareError(
        f"unknown hardware {clipped(name)!r}",
        (f"did you mean {', '.join(hint)}? " if hint else "")
        + "run 'advisor hardware' to list profiles, or give a spec: --hardware \"custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS\"",
    )


# A Grace Blackwell superchip is a board, not a GPU: a GB200 is one Grace CPU and two B200 GPUs (deploybase.ai and
# awesomeagents.ai GB200 NVL72 pages: 36 superchips, 72 B200 GPUs); the GB300 board carries two Grace CPUs and four
# Blackwell Ultra GPUs (glennklockwood.com/garden/processors/B300, "GB300 NVL72"). 'gb300 dgx station' is not one.
_SUPERCHIP = lazy(r"^(?:nvidia\s+)?(?:dgx\s+)?gb([23])00(?:\s*(?:nvl\s?\d{1,3}|superchip))?$")


def _superchip_error(name: str, gen: str) -> UnknownHardwareError:
    """'GB200' / 'GB300' named as if one GPU (session 24: it got 'did you mean b200, h200, dgx-spark?'): the GPUs to
    name instead, with what they stand for."""
    if gen == "2":
        return UnknownHardwareError(
            f"hardware {clipped(name)!r} is a Grace Blackwell superchip (one Grace CPU and two B200 GPUs), not one GPU",
            "name its GPUs: --hardware '2x b200' is one GB200 (the HGX B200's figures; an NVL72 rack is 36 of them)")
    return UnknownHardwareError(
        f"hardware {clipped(name)!r} is a Grace Blackwell Ultra board (two Grace CPUs and four B300 GPUs), not one GPU",
        "name its GPUs: --hardware '4x b300' is one GB300 board (the B300's figures; an NVL72 rack is 18 of them), "
        "or the one-GPU desktop: --hardware 'dgx station gb300'")


def _apu_alias_sized(name: str, p: Profile) -> Profile:
    """The configuration of curated APU `p`'s chip with the memory size `name` states ('radeon 8060s 64gb', 'strix
    halo 32gb': an alias of the curated Strix Halo profile plus a size). Why: 'radeon 8060s' is refused with its three
    sizes and the hint to name one, and the name with a size was then 'unknown hardware' (session 20)."""
    chip = p.id.rsplit("-", 1)[0]
    sold = [q for q in apu_profiles() if q.raw["chip"] == chip] or [p]
    stated = _stated_memory(name)
    same = [q for q in sold if stated is not None and abs(q.memory_bytes - stated) < GIB // 2]
    if len(same) == 1:
        return _curated_twin(same[0])
    label = chip_label(sold[0])
    raise SizeNotSoldError(f"hardware {clipped(name)!r}: no such memory size of the {label}",
                           "sizes: " + ", ".join(f"{q.memory_bytes / GIB:g} GB" for q in sold))


def _norm_id(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def by_id(pid: str) -> Profile | None:
    """A table or Apple-configuration profile by its exact id (what a Device's matched_profile holds)."""
    if re.match(r"^m[1-5]-", pid):
        return next((p for p in apple_profiles() if p.id == pid), None)
    if pid.startswith("ryzen-ai-max-") or any(pid.startswith(c["chip"] + "-") for c in load("apu").get("igpus", ())):
        return next((p for p in apu_profiles() if p.id == pid), None)
    row = gpu_table.by_id(pid)
    return table_profile(row) if row else None


def suggestions(name: str, n: int = 3, vendors: set[str] | None = None) -> list[str]:
    """Up to n profile ids close to `name` (curated first, then the table and Apple configurations); only those of
    `vendors` where given (a name that says 'rtx' is offered NVIDIA cards)."""
    key = gpu_table.compact(name)
    pool, keys = _suggestion_pool()
    if vendors:
        own = _pool_vendors()
        pool = {k: v for k, v in pool.items() if own.get(v) in vendors}
        keys = [k for k in keys if k in pool]
    out: list[str] = []
    # a variant never sold ('rtx 4090 ti', 'rx 7600 xtx'): the card without it first; difflib ranked the one-letter
    # neighbours (rtx-4070-ti, rtx-4060-ti-16gb, rtx-3090-ti) and left the RTX 4090 out
    base = re.sub(r"(ti|super|xtx|xt)$", "", key)
    if base != key and base in pool:
        out.append(pool[base])
    for k in difflib.get_close_matches(key, keys, n=10, cutoff=0.6):
        if pool[k] not in out:
            out.append(pool[k])
    return out[:n]


@lru_cache(maxsize=1)
def _pool_vendors() -> dict[str, str]:
    """Profile id -> vendor of every id suggestions() may offer."""
    out = {p.id: p.vendor for p in (*profiles(), *apple_profiles(), *apu_profiles())}
    for row in gpu_table.rows():
        out.setdefault(row["id"], row["vendor"])
    return out


@lru_cache(maxsize=1)
def _suggestion_pool() -> tuple[dict[str, str], list[str]]:
    """Compact name -> profile id of every name suggestions() weighs, and the names in that order: built once per
    process from the shipped data (every unknown name of a run asked for it again: ~0.2% of the suite's CPU)."""
    pool: dict[str, str] = {}
    for p in profiles():
        for k in (p.id, p.name, *(p.raw.get("aliases") or ())):
            pool.setdefault(gpu_table.compact(str(k)), p.id)
    for k in gpu_table.all_keys():
        pool.setdefault(k, gpu_table.row_for_key(k)["id"])
    for p in (*apple_profiles(), *apu_profiles()):
        pool.setdefault(gpu_table.compact(p.id), p.id)
    # names that are no profile id but resolve: the Strix Halo boxes (data/apu.yaml products) and the boards and
    # instance types of data/multi_gpu_names.yaml, offered as typed ('rog flow z13' -> 'rog flow z13 2025'; session 32)
    for product in load("apu").get("products", ()):
        for alias in product["aliases"]:  # every alias offers the product's first one, once
            pool.setdefault(gpu_table.compact(alias), product["aliases"][0])
    for entry in load("multi_gpu_names")["entries"]:
        for alias in entry["names"]:
            pool.setdefault(gpu_table.compact(alias), alias)
    return pool, list(pool)


# --- CPU-only boxes by their CPU's name (catalog/cpu_names.py, data/cpus.yaml; docs/methodology.md 4e-cpu16) ---------
# Kept apart from the GPU rules above: a name is read as a CPU only when its words, less a RAM size, a memory word and
# a socket count, are a CPU of the table, and never when it says it is a GPU (rtx, rx, radeon ...).


def _named_cpu(name: str) -> Profile | None:
    """The CPU box `name` names ('ryzen 9 7950x 64gb'), None when it names no CPU of data/cpus.yaml (then the GPU
    names decide); a CPU named without its RAM size is refused with an example."""
    from .cpu_names import named_cpu

    return named_cpu(name)


def _unknown_cpu(name: str, err: UnknownHardwareError) -> UnknownHardwareError:
    """An unknown name that says it is a CPU ('i9-14900k 64gb') refused with CPU suggestions; `err` otherwise."""
    from .cpu_names import unknown_cpu

    return unknown_cpu(name, err)
