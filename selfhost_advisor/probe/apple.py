"""Apple Silicon: chip, unified memory, CPU cores and ISA features from sysctl; GPU cores from ioreg/system_profiler.

The command runner is an argument (tests replay recorded output from tests/fixtures/apple/). The GPU may use the
Metal working set (recommendedMaxWorkingSetSize), not all RAM: Python cannot ask Metal for it without extra
packages, so the probe uses `iogpu.wired_limit_mb` when the user raised it, else the documented default share of
RAM (data/engines.yaml apple_working_set). Bandwidth comes from the chip's catalog profile (m2-ultra-192gb ...).
"""
from __future__ import annotations

import json
import platform
import re
import subprocess
from typing import Callable, Optional

from ..catalog.hardware import current_macos, working_set_bytes
from ..domain import CpuInfo, Device, GpuDetails
from .interface import BackendResult
from .match import apple_profile_id, match_apple

Runner = Callable[[list[str]], Optional[str]]

SYSCTL_KEYS = (
    "machdep.cpu.brand_string", "hw.memsize", "hw.physicalcpu", "hw.logicalcpu", "hw.packages",
    "hw.perflevel0.physicalcpu", "hw.perflevel1.physicalcpu", "hw.optional.neon", "hw.optional.arm.FEAT_DotProd",
    "hw.optional.arm.FEAT_I8MM", "hw.optional.arm.FEAT_BF16", "hw.optional.arm.FEAT_SME", "iogpu.wired_limit_mb",
)
_FLAG_KEYS = {"hw.optional.neon": "neon", "hw.optional.arm.FEAT_DotProd": "dotprod", "hw.optional.arm.FEAT_I8MM": "i8mm",
              "hw.optional.arm.FEAT_BF16": "bf16", "hw.optional.arm.FEAT_SME": "sme"}


def run_command(argv: list[str]) -> str | None:
    """stdout of a command (even when it exits non-zero: sysctl does for one unknown key), or None."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def parse_sysctl(text: str) -> dict[str, str]:
    """`sysctl a b c` output ("a: value" per line) -> {key: value}."""
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def gpu_cores(run: Runner) -> tuple[int | None, str | None]:
    """(GPU core count, where it came from): ioreg is fast; system_profiler (about a second) is the fallback."""
    text = run(["ioreg", "-rc", "AGXAccelerator", "-d", "1"]) or ""
    m = re.search(r'"gpu-core-count"\s*=\s*(\d+)', text)
    if m:
        return int(m.group(1)), "ioreg"
    text = run(["system_profiler", "SPDisplaysDataType", "-json"]) or ""
    try:
        rows = json.loads(text).get("SPDisplaysDataType", [])
    except (ValueError, AttributeError):
        rows = []
    for row in rows if isinstance(rows, list) else []:
        m = re.search(r"\d+", str(row.get("sppci_cores", ""))) if isinstance(row, dict) else None
        if m:
            return int(m.group(0)), "system_profiler"
    return None, None


def macos_major() -> int | None:
    """This machine's macOS major version (platform.mac_ver), None off macOS or when unreadable. macOS went from 15
    to 26, so 16-25 (what a binary built against an older SDK may be told) can only be 26."""
    m = re.match(r"(\d+)", platform.mac_ver()[0])
    major = int(m.group(1)) if m else None
    return 26 if major is not None and 15 < major < 26 else major


def probe_apple(run: Runner = run_command) -> BackendResult:
    result = BackendResult()
    text = run(["sysctl", *SYSCTL_KEYS])
    values = parse_sysctl(text or "")
    brand = values.get("machdep.cpu.brand_string", "")
    try:
        memsize = int(values.get("hw.memsize", "0"))
    except ValueError:
        memsize = 0
    if not brand or not memsize:
        result.warnings.append("no Apple GPU: sysctl gave no chip name or memory size")
        return result

    def num(key: str) -> int | None:
        v = values.get(key, "")
        return int(v) if v.isascii() and v.isdigit() else None

    flags = tuple(sorted(name for key, name in _FLAG_KEYS.items() if values.get(key) == "1"))
    result.cpu = CpuInfo(name=brand, arch="arm64", physical_cores=num("hw.physicalcpu"),
                         logical_cores=num("hw.logicalcpu"), sockets=num("hw.packages") or 1, flags=flags,
                         source="sysctl")
    result.ram_bytes = memsize
    if apple_profile_id(brand, memsize) is None:
        result.warnings.append(f"no Apple GPU: {brand!r} is not an Apple M-series chip")
        return result
    cores, _ = gpu_cores(run)
    wired_mb = num("iogpu.wired_limit_mb")
    if wired_mb:
        usable, usable_from = wired_mb * 2**20, f"iogpu.wired_limit_mb={wired_mb:.0f} (raised Metal limit)"
    else:
        major = macos_major()
        usable = working_set_bytes(memsize, major)
        release = f"macOS {major}" if major else f"macOS unknown, read as {current_macos()}"
        usable_from = (f"Metal working-set limit {usable / memsize:.0%} ({release} default); after sysctl "
                       "iogpu.wired_limit_mb=N use --gpu-memory NMiB")
    profile = match_apple(brand, memsize, cores)
    flops, acc16, bandwidth, bw_from = None, None, None, None
    if profile is not None:
        bandwidth, bw_from = profile.bandwidth_bytes_per_s, f"catalog:{profile.id}"
        flops, acc16 = profile.fp16_flops, profile.fp16_acc16_flops
        nominal = profile.raw.get("gpu_cores")
        if cores and nominal and int(nominal) != cores:  # FP16 rate scales with GPU cores (catalog notes)
            flops = flops * cores / int(nominal) if flops else flops
            acc16 = acc16 * cores / int(nominal) if acc16 else acc16
    else:
        result.warnings.append(f"unmatched: no catalog profile {apple_profile_id(brand, memsize)!r} for {brand} with "
                               f"{memsize / 2**30:.0f} GiB; memory bandwidth unknown")
    result.devices.append(Device(
        vendor="apple", name=brand + (f" ({cores}-core GPU)" if cores else ""), memory_bytes=memsize,
        bandwidth_bytes_per_s=bandwidth, fp16_flops=flops, fp16_acc16_flops=acc16, unified=True, usable_memory_bytes=usable,
        matched_profile=profile.id if profile else None, backend="metal",
        details=GpuDetails(index=0, driver="metal", gpu_cores=cores, bandwidth_source=bw_from,
                           usable_memory_source=usable_from),
    ))
    return result
