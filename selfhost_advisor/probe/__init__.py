"""Hardware detection: `probe() -> ProbeReport` runs each backend and collects warnings instead of raising.

Backends (one concern each, each fed its source so tests use fakes): nvidia.py (NVML), amd.py (sysfs, amdsmi),
intel.py (sysfs: i915, xe), apple.py (sysctl/ioreg), pci.py (any GPU on the PCI bus, for presence), cpu.py
(/proc/cpuinfo, py-cpuinfo, cgroup).
files.py reads a saved `advisor probe --json` back into a Machine.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

from ..domain import CpuInfo, Device, GpuDetails, Machine, ProbeReport
from ..record import record, replace

AUTO: Any = object()  # "load the real thing lazily"


@record
class ProbeSources:
    """Where each backend reads from; the defaults are this machine."""

    root: str = "/"
    platform: str = sys.platform
    nvml: Any = AUTO  # a pynvml-like module, None for "not installed", AUTO to import nvidia-ml-py lazily
    amdsmi: Any = AUTO
    run: Callable[[list[str]], str | None] | None = None  # command runner for macOS tools
    memory: Callable[[], tuple[int, int]] | None = None  # (total, available) RAM bytes; default psutil
    cpuinfo_loader: Callable[[], dict] | None = None
    boot_time: float | None = None
    cache_dir: str | None = None
    # (threads) -> probe.hostrate.HostRates: core clock and read-stream bandwidth; AUTO measures the live host (cached
    # per boot, under a second) when root is "/", None skips it
    host_rates: Any = AUTO


def _psutil_memory() -> tuple[int, int]:
    import psutil

    vm = psutil.virtual_memory()
    return int(vm.total), int(vm.available)


def _norm_bus(bus: str | None) -> str | None:
    """NVML '00000000:01:00.0' and sysfs '0000:01:00.0' -> '0000:01:00.0'."""
    if not bus or ":" not in bus:
        return None
    dom, _, rest = bus.lower().partition(":")
    try:
        return f"{int(dom, 16):04x}:{rest}"
    except ValueError:
        return None


def probe(sources: ProbeSources | None = None) -> ProbeReport:
    src = sources or ProbeSources()
    warnings: list[str] = []
    devices: list[Device] = []
    others: list[Device] = []
    total, available = (src.memory or _psutil_memory)()
    cpu: CpuInfo | None = None
    limit = container = None
    os_name = "darwin" if src.platform == "darwin" else "windows" if src.platform.startswith("win") else "linux"

    if os_name == "darwin":
        from .apple import probe_apple, run_command

        res = probe_apple(src.run or run_command)
        devices += res.devices
        warnings += res.warnings
        cpu = res.cpu
        total = res.ram_bytes or total
    else:
        from . import nvidia

        reason = None
        if os_name == "linux":
            from .pci import nvidia_surely_absent

            reason = nvidia_surely_absent(src.root)
        if reason:
            warnings.append(f"no NVIDIA GPU: {reason}")
        else:
            res = nvidia.probe_nvidia(nvidia.load_nvml() if src.nvml is AUTO else src.nvml, (total, available))
            devices += res.devices
            warnings += res.warnings
        if os_name == "linux":
            from .amd import drm_devices, load_amdsmi, probe_amd
            from .cpu import cgroup_memory_limit, in_container

            amdsmi = None
            if drm_devices(src.root, "0x1002"):
                amdsmi = load_amdsmi() if src.amdsmi is AUTO else src.amdsmi
            res = probe_amd(src.root, amdsmi, total)
            devices += res.devices
            others += res.other_devices
            warnings += res.warnings
            from .cpu import probe_cpu
            from .intel import probe_intel

            cpu = probe_cpu(src.root, src.cpuinfo_loader, src.boot_time, src.cache_dir)
            res = probe_intel(src.root, cpu.name, total)
            devices += res.devices
            others += res.other_devices
            warnings += res.warnings
            others += _unclaimed_gpus(src.root, devices + others, warnings)
            limit = cgroup_memory_limit(src.root)
            container = in_container(src.root)
    if cpu is None:
        from .cpu import probe_cpu

        cpu = probe_cpu(src.root, src.cpuinfo_loader, src.boot_time, src.cache_dir)
    from .match import match_cpu

    cpu_profile = match_cpu(cpu.name, cpu.sockets)
    if cpu_profile is not None:
        cpu = replace(cpu, matched_profile=cpu_profile.id)

    devices, moved = _one_backend(devices)
    others += moved
    for d in moved:
        warnings.append(f"{d.name}: not counted for fit; a llama.cpp build drives one GPU backend and fit counts "
                        f"the {devices[0].vendor} GPUs")
    if not devices:
        warnings.append("no GPU that can hold model layers was found: fit plans for CPU and RAM only")
    ram = total
    if limit is not None and limit < total:
        ram, available = limit, min(available, limit)
    if available is not None and ram:  # on a Mac the total is sysctl's and the available psutil's: never more than it
        available = min(available, ram)  # (probe/files.py refuses a saved probe that claims more)
    ram_bw = None
    if devices and all(d.unified for d in devices):
        ram_bw = devices[0].bandwidth_bytes_per_s
    elif cpu_profile is not None:
        ram_bw = cpu_profile.bandwidth_bytes_per_s
    nv = [d for d in devices if d.vendor == "nvidia"]
    interconnect = "nvlink" if len(nv) > 1 and all((d.details and d.details.nvlink_active_links) for d in nv) else ""
    machine = Machine(
        name="this machine", devices=tuple(devices), ram_bytes=ram, available_ram_bytes=available,
        cpu_name=cpu.name, ram_bandwidth_bytes_per_s=ram_bw, source="probe", interconnect=interconnect,
        cpu_flops=cpu_profile.fp16_flops if cpu_profile is not None else None,
        other_devices=tuple(others), cpu=cpu, physical_ram_bytes=total,
        cgroup_memory_limit_bytes=limit, container=container,
    )
    if cpu_profile is None and not (devices and all(d.unified for d in devices)):
        machine = _with_host_rates(machine, src, warnings)
    return ProbeReport(machine=machine, warnings=tuple(warnings), os=os_name)


def _with_host_rates(machine: Machine, src: ProbeSources, warnings: list[str]) -> Machine:
    """A CPU no profile describes: its own clock and read-stream bandwidth (probe/hostrate.py), which the CPU speed
    model uses in place of speed.yaml's default desktop. Quick (under a second, then cached for this boot)."""
    from .measure import llama_threads

    threads = llama_threads(src.root, machine.cpu.physical_cores if machine.cpu else None)
    if src.host_rates is AUTO:
        if src.root != "/":
            return machine
        from .cpu import cache_dir
        from .hostrate import cached_host_rates

        try:
            import psutil

            boot = psutil.boot_time()
        except Exception:  # noqa: BLE001 - no boot time: measure, do not cache across boots
            boot = None
        from . import hostrate

        avail = machine.available_ram_bytes
        rates = cached_host_rates(threads, boot, cache_dir() if boot is not None else None,
                                  lambda t: hostrate.host_rates(t, available_ram=avail))
    elif src.host_rates is None:
        return machine
    else:
        rates = src.host_rates(threads)
    from .hostrate import UNSTORED_METHOD

    if rates.method == UNSTORED_METHOD:
        warnings.append("this CPU's clock and RAM read speed were not measured: the cache directory (ADVISOR_HOME, "
                        "else the user cache directory) is not a writable directory, and measuring on every call costs "
                        "about a second and a buffer of 4x the CPU cache; CPU speeds use default figures. Set "
                        "ADVISOR_HOME to a writable directory")
    if not rates.clock_hz or not rates.read_bandwidth_bytes_per_s:
        return machine
    from .hostrate import clock_words

    source = (f"measured: {rates.read_bandwidth_bytes_per_s / 1e9:.1f} GB/s read stream, {rates.clock_hz / 1e9:.2f} GHz "
              f"{clock_words(rates.method)} on {rates.threads} threads (quick probe, cached for this boot; "
              f"'advisor probe --measure' measures longer)")
    busy = None
    if src.root == "/" and hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = round(load, 1) if load >= 1.0 else None  # a core's worth of other work: llama.cpp's threads will wait
    if rates.e_cores:
        source += f"; {rates.e_cores} of them on slower cores at {(rates.e_clock_hz or 0) / 1e9:.2f} GHz (cpufreq)"
    fpc = e_fpc = None
    if "cpufreq" in rates.method:  # ARM: the cores' vector width where their part number is known (probe/cpufreq.py)
        from .cpufreq import arm_flops_per_cycle

        fpc, e_fpc = arm_flops_per_cycle(src.root)
    return replace(machine, ram_bandwidth_bytes_per_s=rates.read_bandwidth_bytes_per_s, cpu_clock_hz=rates.clock_hz,
                   cpu_threads=rates.threads, host_speed_source=source, cpu_e_cores=rates.e_cores,
                   cpu_e_clock_hz=rates.e_clock_hz, cpu_flops_per_cycle=fpc or machine.cpu_flops_per_cycle,
                   cpu_e_flops_per_cycle=e_fpc if rates.e_cores else None,
                   cpu_thread_bandwidth_bytes_per_s=rates.thread_bandwidth_bytes_per_s, busy_load=busy)


def _one_backend(devices: list[Device]) -> tuple[list[Device], list[Device]]:
    """Keep the GPUs of one backend for placement (NVIDIA, else AMD, else Apple, else Intel); return the rest."""
    for vendor in ("nvidia", "amd", "apple", "intel"):
        keep = [d for d in devices if d.vendor == vendor]
        if keep:
            return keep, [d for d in devices if d.vendor != vendor]
    return devices, []


def _unclaimed_gpus(root: str, claimed: list[Device], warnings: list[str]) -> list[Device]:
    """GPUs on the PCI bus that no driver backend reported: present, with no memory figure."""
    from .pci import scan_display_devices

    gpus = scan_display_devices(root) or []
    seen = {_norm_bus(d.details.pci_bus_id) for d in claimed if d.details}
    out = []
    for g in gpus:
        if _norm_bus(g.bus_id) in seen or g.vendor not in ("nvidia", "amd", "intel", "qualcomm"):
            continue
        name = f"{g.vendor.capitalize() if g.vendor != 'amd' else 'AMD'} GPU {g.vendor_id[2:]}:{g.device_id[2:]}"
        if g.vendor == "nvidia":
            name = f"NVIDIA GPU {g.vendor_id[2:]}:{g.device_id[2:]}"
            # no bus id in the text: warnings are printed without --show-ids, and a PCI bus id names one board (its
            # Device's details keep it, redacted unless asked: render/probe_json.py)
            warnings.append(f"{name} is present but NVML did not report it (driver: {g.driver or 'none'})")
        elif g.vendor == "intel":
            warnings.append(f"{name}: Intel GPU present (driver {g.driver or 'none'}); its memory is not reported, "
                            "so fit does not count it: name it with --hardware, e.g. 'arc b580' or, for a Lunar Lake "
                            "laptop, 'core ultra 7 258v 32gb'")
        out.append(Device(vendor=g.vendor, name=name, memory_bytes=0, backend="none",
                          details=GpuDetails(pci_bus_id=g.bus_id, pci_device_id=g.device_id, driver=g.driver)))
    return out


class _CallableModule(type(sys)):  # type: ignore[misc]
    """`selfhost_advisor.probe` is both this subpackage and the API function (selfhost_advisor/__init__.py):
    once the subpackage is imported it shadows the function, so calling the module runs probe()."""

    def __call__(self, *args: Any, **kwargs: Any) -> ProbeReport:
        return probe(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
