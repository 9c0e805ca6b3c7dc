"""Record what the real NVML answers on this machine, in the format tests/fixtures/fake_pynvml.py replays.

    python benchmarks/device/capture_nvml.py > tests/fixtures/nvml/<name>.json

Every call the probe makes (selfhost_advisor/probe/nvidia.py) is asked once per GPU; a call NVML refuses is
recorded as null, as the fake module then raises NotSupported for it. Identifiers are never written: a UUID
becomes a fixed placeholder of the same shape, a serial "REDACTED-SERIAL", and the PCI bus id keeps only its
shape (domain 0, bus = the GPU's index).
"""
from __future__ import annotations

import json
import sys

import pynvml as nv


def _ask(fn, *args):
    try:
        out = fn(*args)
    except nv.NVMLError:
        return None
    return out.decode() if isinstance(out, bytes) else out


def _nvlinks(h) -> int | None:
    n = 0
    for link in range(getattr(nv, "NVML_NVLINK_MAX_LINKS", 18)):
        try:
            if nv.nvmlDeviceGetNvLinkState(h, link) == nv.NVML_FEATURE_ENABLED:
                n += 1
        except nv.NVMLError:
            if link == 0:
                return None
            break
    return n


def _mig_instances(h, count: int | None) -> list[dict]:
    out = []
    for slot in range(count or 0):
        mh = _ask(nv.nvmlDeviceGetMigDeviceHandleByIndex, h, slot)
        if mh is None:
            continue
        mem = _ask(nv.nvmlDeviceGetMemoryInfo, mh)
        out.append({"slot": slot, "name": _ask(nv.nvmlDeviceGetName, mh), "total": mem.total if mem else None,
                    "uuid": f"MIG-00000000-0000-4000-8000-{slot:012d}" if _ask(nv.nvmlDeviceGetUUID, mh) else None})
    return out


def gpu(i: int) -> dict:
    h = nv.nvmlDeviceGetHandleByIndex(i)
    mem = nv.nvmlDeviceGetMemoryInfo(h)
    pci = _ask(nv.nvmlDeviceGetPciInfo, h)
    attrs = _ask(nv.nvmlDeviceGetAttributes, h)
    mig = _ask(nv.nvmlDeviceGetMigMode, h)
    max_mig = _ask(nv.nvmlDeviceGetMaxMigDeviceCount, h)
    out = {
        "name": _ask(nv.nvmlDeviceGetName, h), "total": mem.total, "free": mem.free,
        "bus_width": _ask(nv.nvmlDeviceGetMemoryBusWidth, h),
        "max_clock_mem": _ask(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_MEM),
        "max_clock_sm": _ask(nv.nvmlDeviceGetMaxClockInfo, h, nv.NVML_CLOCK_SM),
        "cc": list(_ask(nv.nvmlDeviceGetCudaComputeCapability, h) or []) or None,
        "power_limit_mw": _ask(nv.nvmlDeviceGetPowerManagementLimit, h),
        "pcie_gen": _ask(nv.nvmlDeviceGetCurrPcieLinkGeneration, h),
        "pcie_width": _ask(nv.nvmlDeviceGetCurrPcieLinkWidth, h),
        "mig": list(mig) if mig is not None else None,
        "max_mig": max_mig,
        "nvlink_links": _nvlinks(h),
        "uuid": f"GPU-00000000-0000-4000-8000-{i:012d}" if _ask(nv.nvmlDeviceGetUUID, h) else None,
        "serial": "REDACTED-SERIAL" if _ask(nv.nvmlDeviceGetSerial, h) else None,
        "bus_id": f"00000000:{i + 1:02X}:00.0",
        "pci_device_id": pci.pciDeviceId if pci is not None else None,
        "gpu_cores": _ask(nv.nvmlDeviceGetNumGpuCores, h),
        "sm_count": attrs.multiprocessorCount if attrs is not None else None,
    }
    if mig is not None and mig[0] == getattr(nv, "NVML_DEVICE_MIG_ENABLE", 1):
        out["mig_instances"] = _mig_instances(h, max_mig)
    return out


def main() -> int:
    nv.nvmlInit()
    try:
        spec = {"_about": sys.argv[1] if len(sys.argv) > 1 else "captured with benchmarks/device/capture_nvml.py",
                "driver_version": _ask(nv.nvmlSystemGetDriverVersion),
                "cuda_driver_version": _ask(nv.nvmlSystemGetCudaDriverVersion),
                "gpus": [gpu(i) for i in range(nv.nvmlDeviceGetCount())]}
    finally:
        nv.nvmlShutdown()
    print(json.dumps(spec, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
