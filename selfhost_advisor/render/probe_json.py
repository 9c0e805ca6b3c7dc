"""The `advisor probe --json` object (docs/schema/probe.schema.json), also what `--hardware FILE` reads back.

Identifiers that name one physical board (GPU UUIDs, serials, PCI bus ids) are replaced by "redacted" unless the
user asks for them (--show-ids): a probe file is meant to be shared.
"""
from __future__ import annotations

from typing import Any

from .. import SCHEMA_VERSION
from ..domain import CpuInfo, Device, GpuDetails, ProbeReport
from .jsonout import device_dict

REDACTED = "redacted"
_ID_FIELDS = ("pci_bus_id", "uuid", "serial")


def _id(value: str | None, show: bool) -> str | None:
    return value if value is None or show else REDACTED


def details_dict(d: GpuDetails, show_ids: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (f.name for f in d.__record_fields__):
        val = getattr(d, key)
        if key in _ID_FIELDS:
            val = _id(val, show_ids)
        elif key == "mig_instances":
            val = [{"name": m.name, "memory_bytes": m.memory_bytes, "uuid": _id(m.uuid, show_ids)} for m in val]
        out[key] = val
    return out


def probe_device_dict(d: Device, show_ids: bool) -> dict[str, Any]:
    out = device_dict(d)
    del out["usable_memory_source"]  # the probe schema keeps it in details (probe files stay as they were)
    out["details"] = details_dict(d.details or GpuDetails(), show_ids)
    return out


def cpu_dict(c: CpuInfo | None, name: str) -> dict[str, Any]:
    c = c or CpuInfo(name=name)
    return {"name": c.name, "arch": c.arch, "physical_cores": c.physical_cores, "logical_cores": c.logical_cores,
            "sockets": c.sockets, "flags": list(c.flags), "source": c.source, "matched_profile": c.matched_profile}


def probe_dict(r: ProbeReport, show_ids: bool = False) -> dict[str, Any]:
    m = r.machine
    return {
        "schema_version": SCHEMA_VERSION,
        "source": "probe",
        "name": m.name,
        "os": r.os,
        "devices": [probe_device_dict(d, show_ids) for d in m.devices],
        "other_devices": [probe_device_dict(d, show_ids) for d in m.other_devices],
        "cpu": cpu_dict(m.cpu, m.cpu_name),
        "ram_bytes": m.ram_bytes,
        "physical_ram_bytes": m.physical_ram_bytes,
        "available_ram_bytes": m.available_ram_bytes,
        "cgroup_memory_limit_bytes": m.cgroup_memory_limit_bytes,
        "container": m.container,
        "ram_bandwidth_bytes_per_s": m.ram_bandwidth_bytes_per_s,
        "cpu_flops": m.cpu_flops,
        "cpu_clock_hz": m.cpu_clock_hz,
        "cpu_threads": m.cpu_threads,
        "cpu_thread_bandwidth_bytes_per_s": m.cpu_thread_bandwidth_bytes_per_s,
        "cpu_e_cores": m.cpu_e_cores,
        "cpu_e_clock_hz": m.cpu_e_clock_hz,
        "cpu_flops_per_cycle": m.cpu_flops_per_cycle,
        "cpu_e_flops_per_cycle": m.cpu_e_flops_per_cycle,
        "interconnect": m.interconnect or None,
        "host_speed_source": m.host_speed_source or None,
        "measured": m.measured_host if isinstance(m.measured_host, dict) else None,
        "warnings": list(r.warnings),
    }
