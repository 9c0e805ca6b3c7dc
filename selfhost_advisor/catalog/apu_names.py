"""Laptop and APU names -> hardware profiles: AMD Strix Halo builds (Ryzen AI Max) and laptop iGPUs (data/apu.yaml),
named by chip, GPU, CPU or as a driver prints them; each configuration is one memory type and size. catalog/hw_names.py
calls these after the curated profiles and before the GPU spec table.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..errors import UnknownHardwareError
from ..lazy_re import lazy
from ..termsafe import clipped
from .data import load
from .profiles import Profile


class SizeNotSoldError(UnknownHardwareError):
    """The name found a card, chip or iGPU, but states a memory size (or memory type) it was not sold with; the
    message names what was sold. Raised through hw_names' fallback spellings ('4070s 99gb' -> 'rtx 4070 super 99gb',
    'Intel Arc 140V GPU 99GB' -> 'Intel Arc 140V 99GB'), never swallowed by them as 'unknown'."""

GIB = 2**30
_VENDOR_NAME = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel"}
_GB = lazy(r"(?<!\d)(\d{1,6})\s*gi?b\b")  # (?<!\d): one try per run of digits (5,000 digits took 1.5 s); 6 digits at most: int() of 5,000 was exit 3
_APU_CHIP = lazy(r"^(?:amd\s+)?(?:ryzen\s+)?ai\s+max\s*\+?\s*(?:pro\s+)?(3\d\d)\b(.*)$")
_APU_GPU = lazy(r"^(?:amd\s+)?(?:radeon\s+)?(80[56]0s)\b(.*)$")  # Strix Halo by its GPU ('radeon 8050s 64gb')
_APU_WORDS = lazy(r"\b(?:radeon|8060s|8050s|graphics|with)\b|[+/()]")


@lru_cache(maxsize=1)
def apu_profiles() -> tuple[Profile, ...]:
    """Every Strix Halo chip x memory size (data/apu.yaml)."""
    data = load("apu")
    out = []
    for chip in data["chips"]:
        for gb in chip["memory_gb"]:
            pid = f"{chip['chip']}-{gb}gb"
            out.append(Profile(
                id=pid, name=f"AMD {chip['name']} {gb}GB ({chip['gpu']})", kind="apu", vendor="amd", backend="vulkan",
                memory_bytes=gb * GIB, bandwidth_bytes_per_s=int(chip["bandwidth_gbps"] * 1e9),
                fp16_flops=chip["fp16_tflops"] * 1e12, fp16_acc16_flops=None, tdp_watts=None, price_usd=None,
                unified=True,
                raw={"id": pid, "gpu_cores": chip["compute_units"], "chip": chip["chip"], "memory_gb": gb,
                     "boost_clock_mhz": chip.get("gpu_clock_mhz"), "sources": {"configuration": "data/apu.yaml"}},
            ))
    for chip in data.get("igpus", ()):
        vendor = chip.get("vendor", "amd")
        brand = _VENDOR_NAME.get(vendor, vendor)
        for ram in chip["rams"]:
            for gb in ram.get("memory_gb", chip["memory_gb"]):  # a memory type may come in other sizes (SO-DIMMs)
                pid = f"{chip['chip']}-{ram['ram']}-{gb}gb"
                raw = {"id": pid, "gpu_cores": chip["compute_units"], "chip": chip["chip"], "memory_gb": gb,
                       "ram": ram["ram"], "sources": {"configuration": "data/apu.yaml"}}
                if chip.get("gpu_clock_mhz"):  # the boost clock (kernel_path.gpu_clock_hz: per-layer cycles, lanes x clock)
                    raw["boost_clock_mhz"] = chip["gpu_clock_mhz"]
                for key in ("gpu_share", "usable_memory_basis"):
                    if chip.get(key):
                        raw[key] = chip[key]
                out.append(Profile(
                    id=pid, name=f"{brand} {chip['name']} {ram['ram'].upper()} {gb}GB", kind="apu", vendor=vendor,
                    backend=chip.get("backend", "vulkan"), memory_bytes=gb * GIB,
                    bandwidth_bytes_per_s=int(ram["bandwidth_gbps"] * 1e9),
                    fp16_flops=chip["fp16_tflops"] * 1e12, fp16_acc16_flops=None, tdp_watts=None, price_usd=None,
                    unified=True, raw=raw,
                ))
    return tuple(out)


_RAM = lazy(r"\b(lp)?ddr\s*5\s*(x)?\s*(\d{4})\b")
_IGPU_NOISE = lazy(r"\b(?:graphics|with|igpu|laptop|mobile)\b|[+/(),]")


def _igpu_chips(text: str) -> list[tuple[str, str]]:
    """(chip id, the rest of the name) for each laptop iGPU of data/apu.yaml that `text` names: by its GPU name
    ('radeon 890m', 'intel arc 140v'), an alias a driver prints ('intel arc graphics': both Meteor Lake GPUs), its id,
    or a CPU that carries it ('ryzen ai 9 hx 370', 'core ultra 7 258v')."""
    out = []
    for chip in load("apu").get("igpus", ()):
        brand = _VENDOR_NAME.get(chip.get("vendor", "amd"), "").lower()
        names = []
        for gpu in (chip["name"], *chip.get("gpu_aliases", ())):
            gpu = " ".join(gpu.lower().replace("-", " ").split())  # normalised as the typed text is
            # AMD's iGPUs by their number alone ('890m 32gb', '780m'): 'radeon' is optional (no other GPU of the
            # table is called that: GeForce's 780M is a 2013 part, before the table, and written 'gtx 780m')
            lead = r"(?:radeon\s+)?" if gpu.startswith("radeon ") else ""
            gpu = gpu.removeprefix("radeon ") if lead else gpu
            names.append(rf"(?:(?:{brand}|amd)\s+)?{lead}{re.escape(gpu).replace(chr(92) + ' ', chr(92) + 's*')}")
        names.append(r"\s+".join(map(re.escape, chip["chip"].split("-"))))  # its id: 'arc-meteor-lake-8xe-...'
        if chip.get("cpus"):
            names.append(chip["cpus"])
        for pattern in names:
            m = re.match(rf"^(?:{pattern})(?!\w)(.*)$", text)
            if m:
                out.append((chip["chip"], m.group(m.lastindex) if m.lastindex else ""))
                break
    return out


def _cpu_memory(chip: str, text: str) -> int | None:
    """The memory size a CPU is sold with when it is fixed (on-package memory, data/apu.yaml cpu_memory_gb)."""
    entry = next(c for c in load("apu")["igpus"] if c["chip"] == chip)
    for cpu, gb in (entry.get("cpu_memory_gb") or {}).items():
        if re.match(rf"^(?:intel\s+|amd\s+)?{re.escape(cpu)}(?!\w)", text):
            return int(gb)
    return None


def _igpu(name: str) -> list[Profile] | None:
    """Laptop iGPU configurations ('radeon 780m ddr5-5600 32gb', 'ryzen ai 9 hx 370 32gb') a name fits, or None when
    it is not such a name."""
    text = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    found = _igpu_chips(text)
    if not found:
        return None
    out: list[Profile] = []
    chips = []
    for chip, rest in found:
        cands = [p for p in apu_profiles() if p.raw["chip"] == chip]
        ram, gb = _RAM.search(rest), _GB.search(rest)
        if _IGPU_NOISE.sub(" ", _GB.sub(" ", _RAM.sub(" ", rest))).strip():
            continue
        chips.append(chip)
        if ram:
            want = f"{'lp' if ram.group(1) else ''}ddr5{'x' if ram.group(2) else ''}-{ram.group(3)}"
            cands = [p for p in cands if p.raw["ram"] == want]
        fixed = _cpu_memory(chip, text)
        if fixed and gb and int(gb.group(1)) != fixed:
            raise SizeNotSoldError(f"hardware {name!r}: that CPU has {fixed} GB of memory on its package",
                                       f"drop the size or give {fixed}gb")
        if gb or fixed:
            cands = [p for p in cands if p.raw["memory_gb"] == (int(gb.group(1)) if gb else fixed)]
        out += cands
    if not chips:
        return None
    if not out:
        sold = sorted({f"{p.raw['ram']} {p.raw['memory_gb']}GB" for p in apu_profiles() if p.raw["chip"] in chips})
        raise SizeNotSoldError(f"hardware {name!r}: no such configuration of the "
                                   f"{' or '.join(c.replace('-', ' ') for c in chips)}", "listed: " + ", ".join(sold))
    return out


def chip_label(p: Profile) -> str:
    """'AMD Ryzen AI Max+ 395' of the configuration 'AMD Ryzen AI Max+ 395 64GB (Radeon 8060S)': the chip a size
    refusal names (a curated profile, whose name carries no such size, is named whole)."""
    return p.name.split(f" {p.raw.get('memory_gb')}GB")[0]


def _apu(name: str) -> list[Profile] | None:
    """Strix Halo configurations a 'Ryzen AI Max 395 64GB' name fits, or None when it is not such a name."""
    text = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
    m = _APU_CHIP.match(text)
    by_gpu = None if m else _APU_GPU.match(text)
    m = m or by_gpu
    if not m:
        return _product(name, text)
    rest = m.group(2)
    gb = _GB.search(rest)
    if _APU_WORDS.sub(" ", _GB.sub(" ", rest)).strip():
        return None
    if by_gpu:  # by its GPU: every chip that carries it (the 8050S: Max 390 and Max 385)
        chips = {c["chip"] for c in load("apu")["chips"] if str(c.get("gpu", "")).lower() == f"radeon {m.group(1)}"}
        out = [p for p in apu_profiles() if p.raw["chip"] in chips]
        sized = [p for p in out if p.raw["memory_gb"] == int(gb.group(1))] if gb else out
        if out and not sized:  # a size no chip with this GPU was sold with: say so, as a chip name does
            raise SizeNotSoldError(f"hardware {clipped(name)!r}: no {gb.group(1)} GB build of the Radeon "
                                       f"{m.group(1).upper()}",
                                       "sizes: " + ", ".join(f"{n} GB" for n in sorted({p.raw['memory_gb'] for p in out})))
        return sized or None
    chip = f"ryzen-ai-max-{m.group(1)}"
    out = [p for p in apu_profiles() if p.raw["chip"] == chip]
    if not out:
        raise UnknownHardwareError(f"unknown hardware {name!r}: no sourced Ryzen AI Max {m.group(1)}",
                                   "known: Ryzen AI Max+ 395, Max 390, Max 385; or describe it with custom:")
    if gb:
        sized = [p for p in out if p.raw["memory_gb"] == int(gb.group(1))]
        if not sized:
            label = chip_label(out[0])
            raise SizeNotSoldError(f"hardware {name!r}: no {gb.group(1)} GB build of {label}",
                                       "sizes: " + ", ".join(f"{p.raw['memory_gb']} GB" for p in out))
        out = sized
    return out


def _product_builds(product: dict) -> list[Profile]:
    """A product's builds: those its source lists (`builds`, chip x size), or, where the source names only the chip(s)
    and no list of sizes was read (`chips`, session 32: Beelink GTR9 Pro, HP Z2 Mini G1a, ...), every size of those
    chips, so that the name alone is refused with them and a name with a size is that chip at that size."""
    if "builds" in product:
        return [p for b in product["builds"] for p in apu_profiles()
                if p.raw["chip"] == b["chip"] and p.raw["memory_gb"] == b["memory_gb"]]
    return [p for p in apu_profiles() if p.raw["chip"] in product["chips"]]


def _product(name: str, text: str) -> list[Profile] | None:
    """The builds of a product sold on these chips ('framework desktop', data/apu.yaml products) that `text` names,
    filtered by a stated size; None when it names no product. Why: 'framework desktop' was 'unknown hardware'
    (session 31 review), and its builds are two chips (Max 385 32 GB, Max+ 395 64 / 128 GB): the caller refuses
    with them where several remain, never picks one."""
    for product in load("apu").get("products", ()):
        for alias in sorted(product["aliases"], key=len, reverse=True):
            m = re.match(rf"^{re.escape(alias).replace(chr(92) + ' ', chr(92) + 's*')}(?!\w)(.*)$", text)
            if not m:
                continue
            rest = m.group(1)
            gb = _GB.search(rest)
            if _APU_WORDS.sub(" ", _GB.sub(" ", rest)).strip():
                return None
            builds = _product_builds(product)
            sized = [p for p in builds if p.raw["memory_gb"] == int(gb.group(1))] if gb else builds
            if not sized:
                listed = "builds" if "builds" in product else "its chip's sizes (the box's own list was not read)"
                raise SizeNotSoldError(f"hardware {clipped(name)!r}: no {gb.group(1)} GB build of the {product['name']}",
                                       f"{listed}: " + ", ".join(f"{p.raw['memory_gb']} GB ({chip_label(p)})"
                                                                 for p in builds))
            return sized
    return None
