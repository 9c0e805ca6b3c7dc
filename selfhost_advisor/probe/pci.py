"""GPUs on the PCI bus from sysfs (/sys/bus/pci/devices/*/class 0x03....), whatever their driver.

Why: a card is worth reporting even when its driver (NVML, amdgpu) says nothing; and when the bus shows no NVIDIA
device at all, the probe can skip loading NVML (keeps `advisor probe` fast on machines without one).
"""
from __future__ import annotations

import os
import stat

from ..catalog.data import load
from ..record import record


@record
class PciGpu:
    bus_id: str  # "0000:01:00.0"
    vendor_id: str  # "0x10de"
    device_id: str  # "0x2684"
    driver: str | None  # the bound kernel driver (nvidia, amdgpu, i915, xe) or None

    @property
    def vendor(self) -> str:
        return str(load("probe")["pci_vendors"].get(self.vendor_id, "generic"))


def read_text(path: str) -> str | None:
    """The first 4 KiB of a regular file, stripped; None for anything else. sysfs attributes are regular files; a FIFO
    or device node planted in their place is not opened for a blocking read (O_NONBLOCK, then fstat), so it cannot
    hang the probe."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 4096).decode("ascii", errors="replace").strip()
    except OSError:
        return None
    finally:
        os.close(fd)


def read_int(path: str) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    try:
        return int(text, 0) if text.startswith("0x") else int(text)
    except ValueError:
        return None


def scan_display_devices(root: str = "/") -> list[PciGpu] | None:
    """Display-class PCI functions under ``root``/sys/bus/pci/devices; None when that directory cannot be read."""
    base = os.path.join(root, "sys", "bus", "pci", "devices")
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return None
    prefix = str(load("probe")["pci_display_class_prefix"])
    out = []
    for bus_id in entries:
        dev = os.path.join(base, bus_id)
        cls = read_text(os.path.join(dev, "class"))
        if not cls or not cls.lower().startswith(prefix):
            continue
        vendor = (read_text(os.path.join(dev, "vendor")) or "").lower()
        device = (read_text(os.path.join(dev, "device")) or "").lower()
        driver = None
        link = os.path.join(dev, "driver")
        if os.path.islink(link):
            driver = os.path.basename(os.readlink(link))
        out.append(PciGpu(bus_id=bus_id, vendor_id=vendor, device_id=device, driver=driver))
    return out


def nvidia_surely_absent(root: str = "/") -> str | None:
    """A reason to skip NVML, or None when an NVIDIA GPU may be present.

    Only on Linux with a readable PCI bus showing no NVIDIA display device and no /dev/nvidiactl (bare metal,
    containers) or /dev/dxg (WSL2, where GPUs are not on the guest's PCI bus).
    """
    gpus = scan_display_devices(root)
    if gpus is None:
        return None
    if any(g.vendor_id == "0x10de" for g in gpus):
        return None
    for dev in ("nvidiactl", "dxg"):
        if os.path.exists(os.path.join(root, "dev", dev)):
            return None
    return "no NVIDIA display device on the PCI bus"
