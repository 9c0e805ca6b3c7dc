"""What every probe backend returns: devices found, and warnings that say why something was not found.

Backends never raise for a missing driver or file: a probe on a machine without a GPU is a normal result.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import CpuInfo, Device


@dataclass(slots=True)
class BackendResult:
    devices: list[Device] = field(default_factory=list)
    other_devices: list[Device] = field(default_factory=list)  # present, but no memory figure
    warnings: list[str] = field(default_factory=list)
    cpu: CpuInfo | None = None  # Apple: the chip is the CPU too
    ram_bytes: int | None = None  # Apple: hw.memsize
