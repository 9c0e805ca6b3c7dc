"""Intel GPUs from sysfs (i915, xe): Arc discrete cards by their VRAM size, Lunar / Meteor Lake iGPUs by the CPU name.

Why sysfs: no oneAPI, Level Zero or xpu-smi is needed, as amdgpu's sysfs serves the AMD path. Where each driver says
how much local memory (VRAM) a card has:
- xe: /sys/class/drm/cardN/device/tileT/physical_vram_size_bytes, one per tile, decimal bytes ("%llu\\n"; Linux
  drivers/gpu/drm/xe/xe_tile_sysfs.c, DEVICE_ATTR_RO(physical_vram_size_bytes) on the kobject "tile%d" added under
  the PCI device; igt-gpu-tools tests/intel/xe_sysfs_tile.c reads it). Not in every kernel: newer xe trees dropped
  the attribute from xe_tile_sysfs.c, where only the DRM query ioctl tells the size.
- i915: /sys/class/drm/cardN/lmem_total_bytes, decimal bytes, on the DRM minor (not its device/), only with local
  memory (intel-gpu/intel-gpu-i915-backports drivers/gpu/drm/i915/i915_sysfs.c: lmem_total_bytes_show sums the
  INTEL_MEMORY_LOCAL regions; i915_setup_sysfs creates it when HAS_LMEM). Mainline i915 has no such file.
A card whose driver shows no size is still named by its PCI id (data/probe.yaml intel_gpus); when every spec-table
row of that name has one memory size (an Arc B580 is 12 GB), that size is used and said so; otherwise it is reported
without memory and the user is told to name it. An iGPU has no VRAM: it uses system RAM (see _igpu).
"""
from __future__ import annotations

import glob
import os
import re

from ..catalog.data import load
from ..domain import Device, GpuDetails
from .amd import drm_devices
from .interface import BackendResult
from .pci import read_int, read_text

GIB = 2**30


def _cfg() -> dict:
    return load("probe")


def _bytes(path: str, warnings: list[str], label: str) -> int | None:
    """A positive byte count from a sysfs file, None when absent or unreadable; absurd values are warned about."""
    value = read_int(path)
    if value is None:
        if read_text(path):
            warnings.append(f"{label}: unreadable VRAM figure in {os.path.basename(path)}; ignored")
        return None
    if value <= 0 or value > int(_cfg()["intel_max_vram_bytes"]):
        warnings.append(f"{label}: implausible VRAM figure in {os.path.basename(path)}; ignored")
        return None
    return value


def vram_bytes(dev: str, card: str, warnings: list[str], label: str) -> tuple[int | None, str | None]:
    """(local memory bytes, the sysfs file it came from) for an Intel card, or (None, None)."""
    tiles = sorted(glob.glob(os.path.join(dev, "tile[0-9]*", "physical_vram_size_bytes")))[:16]
    sizes = [_bytes(t, warnings, label) for t in tiles if re.fullmatch(r"tile\d+", os.path.basename(os.path.dirname(t)))]
    if sizes and all(sizes):
        return sum(s for s in sizes if s), "xe sysfs tile*/physical_vram_size_bytes"
    lmem = _bytes(os.path.join(card, "lmem_total_bytes"), warnings, label)
    if lmem:
        return lmem, "i915 sysfs lmem_total_bytes"
    return None, None


def _table_size(cards: list[str]) -> int | None:
    """The one memory size every spec-table row of these card names has, or None when they differ or are missing."""
    from ..catalog import gpu_table

    rows = [r for c in cards for r in gpu_table.lookup(c.lower()) if r["vendor"] == "intel"]
    sizes = {int(round(r["memory_gib"] * GIB)) for r in rows}
    return sizes.pop() if len(sizes) == 1 else None


def _cpu_text(cpu_name: str) -> str:
    """'Intel(R) Core(TM) Ultra 7 258V' -> 'intel core ultra 7 258v' (the form data/apu.yaml's `cpus` patterns match)."""
    low = re.sub(r"\((?:r|tm)\)", " ", cpu_name.lower())
    return " ".join(low.replace("-", " ").split())


def probe_intel(root: str = "/", cpu_name: str = "", system_ram_bytes: int | None = None) -> BackendResult:
    result = BackendResult()
    table = {row["device"]: row for row in _cfg()["intel_gpus"]["devices"]}
    integrated: list[Device] = []
    for index, dev in enumerate(drm_devices(root, "0x8086")):
        device_id = (read_text(os.path.join(dev, "device")) or "").lower()
        row = table.get(device_id)
        if row is None:
            continue  # an id this table does not know: probe/__init__.py reports it as present, by id
        text = read_text(os.path.join(dev, "uevent")) or ""
        ue = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        card = os.path.dirname(dev)
        details = GpuDetails(index=index, pci_bus_id=ue.get("PCI_SLOT_NAME"), pci_device_id=device_id,
                             driver=ue.get("DRIVER"))
        label = f"Intel {row['pci_name']}"
        if "chips" in row:
            d = _igpu(row, label, details, cpu_name, system_ram_bytes, result)
            if d is not None:
                integrated.append(d)
            continue
        _discrete(row, label, dev, card, details, result)
    if integrated and any(d.vendor == "intel" for d in result.devices):
        for d in integrated:  # an Arc card beside the CPU's iGPU: one SYCL device is the card
            result.other_devices.append(d)
            result.warnings.append(f"{d.name}: not counted for fit beside the Intel discrete GPU")
    else:
        result.devices += integrated
    return result


def _discrete(row: dict, label: str, dev: str, card: str, details: GpuDetails, result: BackendResult) -> None:
    from .match import match_table

    vram, where = vram_bytes(dev, card, result.warnings, label)
    assumed = False
    if vram is None:
        vram = _table_size(row["cards"])
        assumed = vram is not None
    profile = None
    if vram:
        for name in row["cards"]:
            profile = match_table("intel", name, vram)
            if profile is not None:
                break
    if profile is None or not vram:
        result.other_devices.append(Device(vendor="intel", name=label, memory_bytes=vram or 0, backend="sycl",
                                           details=details))
        why = "its driver shows no VRAM size in sysfs" if not vram else "no single spec-table row matches its memory"
        hint = " or ".join(f"'{c.lower()}'" for c in row["cards"])
        result.warnings.append(f"{label}: {why}, so fit does not count it: name it with --hardware {hint} "
                               "(add the memory size where the card comes in several)")
        return
    source = where or f"spec table: every {row['cards'][0]} has {vram / GIB:.0f} GiB (the driver shows no size)"
    name = _branded(profile.name)
    result.devices.append(Device(
        vendor="intel", name=name, memory_bytes=vram, bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s,
        fp16_flops=profile.fp16_flops, fp16_acc16_flops=profile.fp16_acc16_flops, matched_profile=profile.id,
        backend=profile.backend or "sycl",
        details=_with(details, bandwidth_source=f"catalog:{profile.id}", usable_memory_source=source),
    ))
    if assumed:
        result.warnings.append(f"{name}: VRAM size taken from the spec table; its driver shows none in sysfs")


def _igpu(row: dict, label: str, details: GpuDetails, cpu_name: str, ram: int | None,
          result: BackendResult) -> Device | None:
    """A Lunar / Meteor Lake iGPU: the chip from the CPU name (data/apu.yaml `cpus`), the configuration from system
    RAM (memory on package or the laptop's RAM, matched within data/probe.yaml memory_match_tolerance); usable memory
    is the chip's stated share of RAM, as for `--hardware` (catalog/hardware.py unified_usable)."""
    from ..catalog.apu_names import _igpu as igpu_names
    from ..catalog.hardware import unified_usable
    from ..errors import UnknownHardwareError
    from .match import _memory_agrees

    cands = []
    if cpu_name:
        try:
            cands = igpu_names(_cpu_text(cpu_name)) or []
        except UnknownHardwareError:  # a CPU with on-package memory of another size than sold: no configuration
            cands = []
    cands = [p for p in cands if p.raw["chip"] in row["chips"] and ram and _memory_agrees(ram, p.memory_bytes)]
    specs = {(p.bandwidth_bytes_per_s, p.fp16_flops) for p in cands}
    if len(specs) != 1 or not ram:
        choices = sorted({p.name for p in cands})
        ids = sorted(p.id for p in cands)
        why = (f"its memory type decides the bandwidth ({', '.join(choices)})" if choices else
               "no sourced configuration of this CPU and memory size")
        result.other_devices.append(Device(vendor="intel", name=label, memory_bytes=0, backend="sycl",
                                           details=details))
        result.warnings.append(f"{label}: {why}, so fit does not count it: name it with --hardware, e.g. "
                               f"'{ids[0] if ids else 'core ultra 7 258v 32gb'}'")
        return None
    profile = cands[0]
    usable, basis = unified_usable(profile)
    usable = min(int(ram * usable / profile.memory_bytes), ram)  # the share applied to this machine's RAM
    return Device(
        vendor="intel", name=_branded(profile.name), memory_bytes=ram, unified=True, usable_memory_bytes=usable,
        bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, fp16_flops=profile.fp16_flops,
        fp16_acc16_flops=profile.fp16_acc16_flops, matched_profile=profile.id, backend=profile.backend or "sycl",
        details=_with(details, bandwidth_source=f"catalog:{profile.id}",
                      usable_memory_source=f"shared system RAM (an iGPU has no VRAM); {basis}"),
    )


def _branded(name: str) -> str:
    return name if name.lower().startswith("intel") else f"Intel {name}"


def _with(details: GpuDetails, **kw: str) -> GpuDetails:
    from ..record import replace

    return replace(details, **kw)
