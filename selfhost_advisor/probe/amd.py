"""AMD GPUs from sysfs (amdgpu: /sys/class/drm/card*/device/mem_info_vram_total ...), with amdsmi for names when present.

Why sysfs first: it needs no ROCm, so a machine without ROCm still reports its card and VRAM. The sysfs root is an
argument so tests read a captured tree (tests/fixtures/sysfs/rx7900xtx). amdgpu file formats: decimal bytes in
mem_info_*; "0x1002" in vendor/device; "16.0 GT/s PCIe" in current_link_speed (kernel Documentation/gpu/amdgpu).
"""
from __future__ import annotations

import glob
import os
import re
from typing import Any

from ..catalog.data import load
from ..domain import Device, GpuDetails
from ..record import replace
from .interface import BackendResult
from .match import match_gpu
from .pci import read_int, read_text

_GTS_TO_GEN = {"2.5": 1, "5.0": 2, "8.0": 3, "16.0": 4, "32.0": 5, "64.0": 6}


def drm_devices(root: str, vendor_id: str) -> list[str]:
    """Distinct PCI device directories behind /sys/class/drm/cardN whose vendor is `vendor_id`."""
    seen, out = set(), []
    for card in sorted(glob.glob(os.path.join(root, "sys", "class", "drm", "card*"))):
        if not re.fullmatch(r"card\d+", os.path.basename(card)):
            continue  # card0-DP-1 connectors
        dev = os.path.join(card, "device")
        real = os.path.realpath(dev)
        if real in seen or (read_text(os.path.join(dev, "vendor")) or "").lower() != vendor_id:
            continue
        seen.add(real)
        out.append(dev)
    return out


def _uevent(dev: str) -> dict[str, str]:
    text = read_text(os.path.join(dev, "uevent")) or ""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _split(vram: int, gtt: int | None) -> str:
    """How an APU's GPU memory is made up: the BIOS carve-out (mem_info_vram_total) plus the GTT the kernel lets the
    GPU map from system RAM (mem_info_gtt_total; amdgpu's default is half of RAM, raised by amdgpu.gttsize)."""
    return (f"BIOS-carved VRAM {vram / 2**30:.1f} GiB + GTT {(gtt or 0) / 2**30:.1f} GiB (amdgpu sysfs "
            "mem_info_vram_total + mem_info_gtt_total)")


def _link_gen(speed: str | None) -> int | None:
    m = re.match(r"\s*([\d.]+)\s*GT/s", speed or "")
    return _GTS_TO_GEN.get(m.group(1)) if m else None


def _amdsmi_names(amdsmi: Any) -> dict[str, str]:
    """PCI bus id -> market name from amdsmi (ROCm); {} when unavailable or failing."""
    if amdsmi is None:
        return {}
    names: dict[str, str] = {}
    try:
        amdsmi.amdsmi_init()
        try:
            for h in amdsmi.amdsmi_get_processor_handles():
                bdf = str(amdsmi.amdsmi_get_gpu_device_bdf(h)).lower()
                name = (amdsmi.amdsmi_get_gpu_asic_info(h) or {}).get("market_name")
                if name and name != "N/A":
                    names[bdf] = str(name)
        finally:
            amdsmi.amdsmi_shut_down()
    except Exception:  # noqa: BLE001 - amdsmi raises its own AmdSmiException family; names are optional
        return {}
    return names


def load_amdsmi() -> Any | None:
    try:
        import amdsmi  # ROCm's Python binding; optional

        return amdsmi
    except Exception:  # noqa: BLE001 - ImportError, or OSError when libamd_smi.so is missing
        return None


def probe_amd(root: str = "/", amdsmi: Any = None, system_ram_bytes: int | None = None) -> BackendResult:
    result = BackendResult()
    cfg = load("probe")
    table = {row["device"]: row for row in cfg.get("pci_devices", []) if row["vendor"] == "0x1002"}
    devs = drm_devices(root, "0x1002")
    names = _amdsmi_names(amdsmi) if devs else {}
    for index, dev in enumerate(devs):
        ue = _uevent(dev)
        bus_id = ue.get("PCI_SLOT_NAME")
        device_id = (read_text(os.path.join(dev, "device")) or "").lower() or None
        vram = read_int(os.path.join(dev, "mem_info_vram_total"))
        used = read_int(os.path.join(dev, "mem_info_vram_used"))
        gtt = read_int(os.path.join(dev, "mem_info_gtt_total"))
        product = (read_text(os.path.join(dev, "product_name")) or "").strip()
        name = product or names.get((bus_id or "").lower())
        details = GpuDetails(
            index=index, pci_bus_id=bus_id, serial=read_text(os.path.join(dev, "unique_id")) or None,
            pci_device_id=device_id, driver=ue.get("DRIVER"),
            pcie_generation=_link_gen(read_text(os.path.join(dev, "current_link_speed"))),
            pcie_width=read_int(os.path.join(dev, "current_link_width")),
        )
        if not vram:
            label = name or (table[device_id]["name"] if device_id in table else f"AMD GPU {device_id}")
            result.other_devices.append(Device(vendor="amd", name=label, memory_bytes=0, backend="rocm",
                                               details=details))
            result.warnings.append(f"AMD GPU {label}: no VRAM figure in sysfs (amdgpu driver not bound?)")
            continue
        profile = match_gpu("amd", name or "", vram, "0x1002", device_id, system_ram_bytes)
        if not name:
            name = profile.name if profile else (table[device_id]["name"] if device_id in table else f"AMD GPU {device_id}")
        unified = bool(profile and profile.unified)
        memory = vram + (gtt or 0) if unified else vram
        device = Device(
            vendor="amd", name=name, memory_bytes=memory,
            free_memory_bytes=memory - used if used is not None else None,
            bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s if profile else None,
            fp16_flops=profile.fp16_flops if profile else None, unified=unified,
            fp16_acc16_flops=profile.fp16_acc16_flops if profile else None,
            matched_profile=profile.id if profile else None, backend=profile.backend if profile else "rocm",
            details=replace(details, bandwidth_source=f"catalog:{profile.id}" if profile else None,
                            usable_memory_source=_split(vram, gtt) if unified else None),
        )
        if not unified and vram < int(cfg["amd_integrated_max_vram_bytes"]):
            result.other_devices.append(device)
            result.warnings.append(f"{name}: {vram / 2**20:.0f} MiB VRAM looks like an integrated GPU's carve-out; "
                                   "not counted for fit")
            continue
        result.devices.append(device)
    return result
