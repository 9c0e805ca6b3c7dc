"""`advisor probe` for people: a rich panel per device, the host, warnings, and the one-line verdict."""
from __future__ import annotations

from ..domain import Device, ProbeReport
from ..units import gb
from ..termsafe import markup as esc
from .text import console


def _device_rows(d: Device, show_ids: bool) -> list[tuple[str, str]]:
    det = d.details
    rows = [("memory", gb(d.memory_bytes) if d.memory_bytes else "not reported")]
    if d.usable_memory_bytes is not None and d.usable_memory_bytes != d.memory_bytes:
        why = f" ({det.usable_memory_source})" if det and det.usable_memory_source else ""
        rows.append(("usable by models", gb(d.usable_memory_bytes) + why))
    if d.free_memory_bytes is not None:
        rows.append(("free now", gb(d.free_memory_bytes)))
    if d.bandwidth_bytes_per_s:
        src = f" ({det.bandwidth_source})" if det and det.bandwidth_source else ""
        rows.append(("bandwidth", f"{d.bandwidth_bytes_per_s / 1e9:.0f} GB/s{src}"))
    if d.fp16_flops:
        rows.append(("FP16", f"{d.fp16_flops / 1e12:.1f} TFLOPS (dense)"))
    rows.append(("matched", d.matched_profile or "unmatched (bandwidth and FLOPS from the driver only)"))
    if det:
        if det.compute_capability:
            rows.append(("compute capability", det.compute_capability))
        if det.sm_count or det.gpu_cores:
            rows.append(("cores", ", ".join(x for x in (f"{det.sm_count} SMs" if det.sm_count else "",
                                                        f"{det.gpu_cores} GPU cores" if det.gpu_cores else "") if x)))
        if det.max_memory_clock_mhz and det.memory_bus_width_bits:
            rows.append(("memory bus", f"{det.memory_bus_width_bits}-bit, max {det.max_memory_clock_mhz} MHz"))
        if det.power_limit_watts:
            rows.append(("power limit", f"{det.power_limit_watts:.0f} W"))
        if det.pcie_generation:
            rows.append(("PCIe", f"gen {det.pcie_generation} x{det.pcie_width or '?'}"))
        if det.mig_enabled is not None:
            mig = "enabled" if det.mig_enabled else "disabled"
            if det.mig_instances:
                mig += ": " + ", ".join(f"{m.name.split(' MIG ')[-1]} {gb(m.memory_bytes)}" for m in det.mig_instances)
            rows.append(("MIG", mig))
        if det.nvlink_active_links:
            rows.append(("NVLink", f"{det.nvlink_active_links} active links"))
        drv = " ".join(x for x in (det.driver or "", det.driver_version or "",
                                   f"(CUDA {det.cuda_driver_version})" if det.cuda_driver_version else "") if x)
        if drv:
            rows.append(("driver", drv))
        if show_ids:
            for label, val in (("PCI bus", det.pci_bus_id), ("UUID", det.uuid), ("serial", det.serial)):
                if val:
                    rows.append((label, val))
    return rows


def render_probe(r: ProbeReport, verdict_line: str, show_ids: bool = False, file=None) -> None:
    from rich.panel import Panel
    from rich.table import Table

    from .text import _file_console

    con = console() if file is None else _file_console(file)
    m = r.machine

    def grid(rows: list[tuple[str, str]]) -> Table:
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        for k, v in rows:
            t.add_row(k, esc(v))  # values come from drivers, sysfs or a probe file: any text
        return t

    for i, d in enumerate(m.devices):
        con.print(Panel(grid(_device_rows(d, show_ids)), title=f"[bold]GPU {i}: {esc(d.name)}[/] ({esc(d.vendor)}, {esc(d.backend)})",
                        title_align="left", expand=False))
    for d in m.other_devices:
        con.print(Panel(grid(_device_rows(d, show_ids)), title=f"{esc(d.name)} (not used by fit)", title_align="left",
                        expand=False))
    c = m.cpu
    host = []
    if c:
        cores = f"{c.physical_cores or '?'} cores / {c.logical_cores or '?'} threads"
        if c.sockets and c.sockets > 1:
            cores += f", {c.sockets} sockets"
        host += [("CPU", f"{c.name} ({c.arch}), {cores}"), ("ISA", ", ".join(c.flags) or "none detected")]
    ram = gb(m.ram_bytes)
    if m.cgroup_memory_limit_bytes and m.physical_ram_bytes and m.cgroup_memory_limit_bytes < m.physical_ram_bytes:
        ram += f" (container limit; machine has {gb(m.physical_ram_bytes)})"
    host.append(("RAM", ram + (f", {gb(m.available_ram_bytes)} available" if m.available_ram_bytes else "")))
    if m.ram_bandwidth_bytes_per_s:
        measured = " read stream, measured" if m.host_speed_source.startswith("measured") else ""
        one = (f" ({m.cpu_thread_bandwidth_bytes_per_s / 1e9:.0f} on one thread)"
               if m.cpu_thread_bandwidth_bytes_per_s and (m.cpu_threads or 1) > 1 else "")
        host.append(("RAM bandwidth", f"{m.ram_bandwidth_bytes_per_s / 1e9:.0f} GB/s{measured}{one}"))
    if m.cpu_clock_hz:
        host.append(("core clock", f"{m.cpu_clock_hz / 1e9:.2f} GHz under load, measured; llama.cpp threads: "
                                   f"{m.cpu_threads}"))
    if m.container:
        host.append(("container", "yes"))
    con.print(Panel(grid(host), title="[bold]Host[/]", title_align="left", expand=False))
    for w in r.warnings:
        con.print(f"[yellow]note:[/] {esc(w)}")
    con.print(f"[bold]Verdict:[/] {esc(verdict_line)}")
    con.print("GB = 10^9 bytes. Save with 'advisor probe --json > box.json'; use with 'advisor fit MODEL --hardware box.json'.")
