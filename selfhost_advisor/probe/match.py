"""Match a detected device to a hardware profile (data/hardware.yaml) so that bandwidth and FLOPS can be filled in.

Why: drivers report memory size and clocks but not dense FP16 FLOPS, and a spec-sheet bandwidth is better than one
derived from clocks. A name match is confirmed by memory size (data/probe.yaml memory_match_tolerance), so an 8 GB
RTX 3060 is not taken for the 12 GB profile.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..catalog.data import load
from ..catalog.hardware import Profile, find_profile, profiles


def _cfg() -> dict:
    return load("probe")


def _memory_agrees(detected: int, nominal: int) -> bool:
    if detected <= 0 or nominal <= 0:
        return False
    tol = float(_cfg()["memory_match_tolerance"])
    return abs(detected - nominal) <= tol * nominal


def _name_candidates(name: str) -> list[str]:
    """NVML names as printed ("NVIDIA GeForce RTX 4090", "NVIDIA A100-SXM4-80GB", "Tesla T4") and shorter forms."""
    from ..catalog.hw_names import driver_alias, driver_name_clean

    low = name.strip().lower()
    out = [low]
    alias = driver_alias(low)  # 'NVIDIA GH200 144G HBM3e' -> 'gh200 144gb' (its memory still confirms the row)
    if alias:
        out.append(alias)
    clean = driver_name_clean(low)
    if clean and clean != low:  # 'amd radeon (tm) pro vii', 'intel(r) arc(tm) a770 graphics'
        low = clean
        out.append(low)
    for prefix in ("nvidia ", "amd ", "geforce "):
        if low.startswith(prefix):
            low = low[len(prefix):]
            out.append(low)
    return out


def match_gpu(vendor: str, name: str, memory_bytes: int, pci_vendor: str | None = None,
              pci_device: str | None = None, system_ram_bytes: int | None = None,
              bandwidth_hint: int | None = None) -> Profile | None:
    """The profile for a discrete GPU (or an APU by PCI id), or None when nothing agrees on both name and memory.
    bandwidth_hint: the driver's bus width x memory clock (bytes/s), which picks between spec-table rows of one name
    and memory size (match_table)."""
    if pci_vendor and pci_device:
        for row in _cfg().get("pci_devices", []):
            if row["vendor"] == pci_vendor.lower() and row["device"] == pci_device.lower():
                prof = find_profile(row["profile"])
                if prof is None:
                    continue
                # unified parts (APUs) are sized by system RAM, discrete cards by their VRAM
                size = system_ram_bytes if prof.unified else memory_bytes
                if size and _memory_agrees(size, int(row["memory_bytes"])):
                    return prof
    for key in _name_candidates(name):
        prof = find_profile(key)
        if prof is None or prof.kind not in ("gpu", "apu") or prof.vendor != vendor:
            continue
        if _memory_agrees(memory_bytes, prof.memory_bytes):
            return prof
        # the same name with another memory size (A100 40GB vs 80GB share "A100"): try siblings by memory
        for other in profiles():
            if other.vendor == vendor and other.kind == "gpu" and _same_family(other, prof) and \
                    _memory_agrees(memory_bytes, other.memory_bytes):
                return other
    return match_table(vendor, name, memory_bytes, bandwidth_hint)


def match_table(vendor: str, name: str, memory_bytes: int, bandwidth_hint: int | None = None) -> Profile | None:
    """A GPU no curated profile describes, from the spec table (data/gpu_specs.yaml: every discrete GPU since 2016) by
    its normalised name, confirmed by memory size the same way; a name whose rows still differ after that (two cards
    of one name and size with different specs) matches none. The table carries no PCI ids, so the name decides."""
    from ..catalog import gpu_table
    from ..catalog.hw_names import _curated_twin, table_profile

    for key in _name_candidates(name):
        rows = [r for r in gpu_table.lookup(key) if r["vendor"] == vendor]
        sized = [table_profile(r) for r in rows if _memory_agrees(memory_bytes, int(round(r["memory_gib"] * 2**30)))]
        specs = {(p.bandwidth_bytes_per_s, p.fp16_flops) for p in sized}
        if len(specs) == 1:
            return _curated_twin(sized[0])
        near = _by_bandwidth(sized, bandwidth_hint)
        if near is not None:
            return _curated_twin(near)
        if rows:
            return None
    return None


def _by_bandwidth(cands: list[Profile], hint: int | None) -> Profile | None:
    """The one of same-named, same-sized rows whose spec bandwidth is within 10% of the driver's bus width x memory
    clock, else None. Why: NVML names an H800 SXM5 "NVIDIA H800" (NVIDIA/DCGM issue #120: HBM3 at 2619 MHz), which
    the table's keys find as the SXM5 (3.36 TB/s) and the PCIe card (HBM2e, 2.04 TB/s), both 80 GB: it matched
    neither and the probe had no FLOPS for it. The clocks tell the memory apart, not the card's other figures."""
    if not hint:
        return None
    near = [p for p in cands if abs(p.bandwidth_bytes_per_s / hint - 1) <= 0.10]
    return near[0] if len({(p.bandwidth_bytes_per_s, p.fp16_flops) for p in near}) == 1 else None


def _same_family(a: Profile, b: Profile) -> bool:
    def stem(p: Profile) -> str:
        return re.sub(r"-\d+gb.*$", "", p.id)

    return stem(a) == stem(b)


_APPLE = re.compile(r"^apple\s+(m\d+)(?:\s+(pro|max|ultra))?\s*$", re.I)


def apple_profile_id(brand: str, memsize_bytes: int) -> str | None:
    """'Apple M2 Ultra' + 192 GiB -> 'm2-ultra-192gb' (the id scheme of data/hardware.yaml), or None if not an M chip."""
    m = _APPLE.match(brand.strip())
    if not m:
        return None
    chip = m.group(1).lower() + (f"-{m.group(2).lower()}" if m.group(2) else "")
    gib = round(memsize_bytes / 2**30)
    return f"{chip}-{gib}gb"


def match_apple(brand: str, memsize_bytes: int, gpu_cores: int | None = None) -> Profile | None:
    """The curated profile, else the sold configuration (data/apple.yaml) of this chip and memory size, picked by GPU
    core count when the chip was sold with several."""
    pid = apple_profile_id(brand, memsize_bytes)
    if pid is None:
        return None
    prof = _by_id().get(pid)
    if prof is not None and prof.kind == "apple" and (not gpu_cores or prof.raw.get("gpu_cores") in (None, gpu_cores)):
        return prof
    from ..catalog.hw_names import apple_profiles

    chip, gib = pid.rsplit("-", 1)[0], round(memsize_bytes / 2**30)
    cands = [p for p in apple_profiles() if p.raw["chip"] == chip and p.raw["memory_gb"] == gib]
    if gpu_cores:
        cands = [p for p in cands if p.raw["gpu_cores"] == gpu_cores] or cands
    if cands and len({p.bandwidth_bytes_per_s for p in cands}) == 1:
        # one configuration, or bins of one bandwidth with the core count unknown: the smaller bin (the probe
        # rescales FP16 by the cores it reads)
        return cands[0]
    return prof if prof is not None and prof.kind == "apple" else None


@lru_cache(maxsize=1)
def _by_id() -> dict[str, Profile]:
    return {p.id: p for p in profiles()}


def match_cpu(model_name: str, sockets: int | None) -> Profile | None:
    """A CPU host profile (RAM bandwidth) for a CPU model string and socket count, e.g. 'AMD EPYC 9654 96-Core'."""
    low = model_name.lower()
    for row in _cfg().get("cpus", []):
        if str(row["model"]).lower() in low and int(row["sockets"]) == (sockets or 1):
            return _by_id().get(row["profile"])
    return None
