"""NVIDIA GPUs through NVML (the `pynvml` module of nvidia-ml-py), never by parsing nvidia-smi text.

The NVML module is an argument so tests pass a stub (tests/fixtures/fake_pynvml.py); `load_nvml()` imports the real
one lazily. Every call that a GPU may not support (serial on GeForce, MIG and NVLink on consumer cards) is optional.
Bandwidth: the catalog figure when the card matches a profile, else bus width x max memory clock x 2
(data/probe.yaml nvml_memory_clock says why 2 holds for GDDR6/6X and HBM alike).
"""
from __future__ import annotations

from typing import Any, Callable

from ..catalog.data import load
from ..domain import Device, GpuDetails, MigInstance
from ..record import replace
from .interface import BackendResult
from .match import match_gpu

_REASONS = {
    "NVMLError_LibraryNotFound": "NVML library not found (no NVIDIA driver installed)",
    "NVMLError_DriverNotLoaded": "NVIDIA kernel driver not loaded",
    "NVMLError_NoPermission": "no permission to query NVML",
    "NVMLError_LibRmVersionMismatch": "NVML and kernel driver versions differ (reboot after a driver update?)",
    "NVMLError_Uninitialized": "NVML not initialized",
}


def load_nvml() -> Any | None:
    """The real pynvml module, or None when nvidia-ml-py is not installed."""
    try:
        import pynvml  # nvidia-ml-py

        return pynvml
    except ImportError:
        return None


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _reason(err: BaseException) -> str:
    return _REASONS.get(type(err).__name__) or (str(err) or type(err).__name__)


def bandwidth_from_clocks(bus_width_bits: int, max_memory_clock_mhz: int) -> int:
    """Peak memory bandwidth (bytes/s) from NVML's bus width and max memory clock."""
    per_clock = float(load("probe")["nvml_memory_clock"]["data_rate_per_clock"])
    return int(bus_width_bits / 8 * max_memory_clock_mhz * 1e6 * per_clock)


def probe_nvidia(nvml: Any, system_ram: tuple[int, int | None] | None = None) -> BackendResult:
    """Every NVIDIA GPU NVML reports; a warning instead of an exception when NVML cannot be used. `system_ram`
    (total, available) sizes a unified-memory GPU whose memory NVML does not report (DGX Spark's GB10)."""
    result = BackendResult()
    if nvml is None:
        result.warnings.append("no NVIDIA GPU: nvidia-ml-py (pynvml) is not installed")
        return result
    error = getattr(nvml, "NVMLError", Exception)
    try:
        nvml.nvmlInit()
    except error as err:
        result.warnings.append(f"no NVIDIA GPU: {_reason(err)}")
        return result
    try:
        def opt(fn: Callable[..., Any], *args: Any) -> Any:
            try:
                return fn(*args)
            except error:
                return None

        driver = opt(nvml.nvmlSystemGetDriverVersion)
        cuda = opt(nvml.nvmlSystemGetCudaDriverVersion)
        cuda_text = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) and cuda > 0 else None
        try:
            count = nvml.nvmlDeviceGetCount()
        except error as err:
            result.warnings.append(f"no NVIDIA GPU: {_reason(err)}")
            return result
        if count == 0:
            result.warnings.append("no NVIDIA GPU: NVML reports 0 devices")
        for index in range(count):
            try:
                dev = _device(nvml, opt, index, system_ram)
            except error as err:
                result.warnings.append(f"NVIDIA GPU {index}: skipped, {_reason(err)}")
                continue
            dev = replace(dev, details=replace(dev.details, driver_version=_text(driver) if driver else None,
                                               cuda_driver_version=cuda_text))
            result.devices.append(dev)
            if dev.details.mig_enabled:
                result.warnings.append(_mig_note(dev))
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - shutting down is best effort
            pass
    return result


def _mig_note(dev: Device) -> str:
    inst = dev.details.mig_instances if dev.details else ()
    if not inst:
        return f"{dev.name}: MIG is enabled but no MIG instance exists; CUDA programs cannot use this GPU"
    big = max(inst, key=lambda m: m.memory_bytes)
    return (f"{dev.name}: MIG is enabled; a process uses one MIG instance, the largest is {big.name} "
            f"({big.memory_bytes / 1e9:.1f} GB); fit uses that")


def _unified(name: str, system_ram: tuple[int, int | None] | None) -> tuple[Any, int, int | None] | None:
    """(profile, memory, free) for an NVIDIA GPU that shares system RAM and whose memory NVML does not report: on DGX
    Spark (GB10) nvmlDeviceGetMemoryInfo is unsupported and nvidia-smi shows no VRAM (rossumai/nvgpu PR #37,
    AlexsJones/llmfit PR #102); the GPU uses the unified RAM, so the probe counts that."""
    from ..catalog.profiles import find_profile

    profile = find_profile(name)
    if profile is None or not profile.unified or profile.vendor != "nvidia" or not system_ram or not system_ram[0]:
        return None
    return profile, int(system_ram[0]), system_ram[1]


def _device(nvml: Any, opt: Callable[..., Any], index: int,
            system_ram: tuple[int, int | None] | None = None) -> Device:
    h = nvml.nvmlDeviceGetHandleByIndex(index)
    name = _text(nvml.nvmlDeviceGetName(h))
    mem = opt(nvml.nvmlDeviceGetMemoryInfo, h)
    if mem is None or not int(mem.total):
        unified = _unified(name, system_ram)
        if unified is not None:
            return _unified_device(name, *unified, index)
        if mem is None:
            mem = nvml.nvmlDeviceGetMemoryInfo(h)  # raises NVML's own error: the caller skips this GPU, saying why
    total, free = int(mem.total), int(mem.free)
    bus = opt(nvml.nvmlDeviceGetMemoryBusWidth, h)
    mem_clock = opt(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_MEM)
    sm_clock = opt(nvml.nvmlDeviceGetMaxClockInfo, h, nvml.NVML_CLOCK_SM)
    cc = opt(nvml.nvmlDeviceGetCudaComputeCapability, h)
    power_mw = opt(nvml.nvmlDeviceGetPowerManagementLimit, h)
    pci = opt(nvml.nvmlDeviceGetPciInfo, h)
    attrs = opt(nvml.nvmlDeviceGetAttributes, h) if hasattr(nvml, "nvmlDeviceGetAttributes") else None
    cores = opt(nvml.nvmlDeviceGetNumGpuCores, h) if hasattr(nvml, "nvmlDeviceGetNumGpuCores") else None
    mig_mode = opt(nvml.nvmlDeviceGetMigMode, h)
    mig_enabled = None if mig_mode is None else int(mig_mode[0]) == int(getattr(nvml, "NVML_DEVICE_MIG_ENABLE", 1))
    instances = _mig_instances(nvml, opt, h) if mig_enabled else ()
    pci_device = None
    if pci is not None and getattr(pci, "pciDeviceId", None):
        pci_device = f"0x{(int(pci.pciDeviceId) >> 16) & 0xFFFF:04x}"
    details = GpuDetails(
        index=index,
        pci_bus_id=_text(pci.busId) if pci is not None else None,
        uuid=_opt_text(opt(nvml.nvmlDeviceGetUUID, h)),
        serial=_opt_text(opt(nvml.nvmlDeviceGetSerial, h)),
        pci_device_id=pci_device,
        driver="nvidia",
        compute_capability=f"{cc[0]}.{cc[1]}" if cc else None,
        sm_count=int(attrs.multiprocessorCount) if attrs is not None else None,
        gpu_cores=int(cores) if cores else None,
        max_sm_clock_mhz=sm_clock,
        max_memory_clock_mhz=mem_clock,
        memory_bus_width_bits=bus,
        power_limit_watts=power_mw / 1000 if power_mw else None,
        pcie_generation=opt(nvml.nvmlDeviceGetCurrPcieLinkGeneration, h),
        pcie_width=opt(nvml.nvmlDeviceGetCurrPcieLinkWidth, h),
        mig_enabled=mig_enabled,
        mig_instances=instances,
        nvlink_active_links=_nvlinks(nvml, h),
    )
    hint = bandwidth_from_clocks(bus, mem_clock) if bus and mem_clock else None
    profile = match_gpu("nvidia", name, total, bandwidth_hint=hint)
    bandwidth, flops, acc16, bw_source = None, None, None, None
    if profile is not None:
        bandwidth, flops, bw_source = profile.bandwidth_bytes_per_s, profile.fp16_flops, f"catalog:{profile.id}"
        acc16 = profile.fp16_acc16_flops
    elif bus and mem_clock:
        per_clock = load("probe")["nvml_memory_clock"]["data_rate_per_clock"]
        bandwidth = bandwidth_from_clocks(bus, mem_clock)
        bw_source = f"nvml: {bus}-bit bus x {mem_clock} MHz x {per_clock}"
    usable = None
    if mig_enabled:
        usable = max((m.memory_bytes for m in instances), default=0)
        share = _mig_share(usable, total)
        bandwidth = int(bandwidth * share) if bandwidth else bandwidth
        flops = flops * share if flops else flops
        acc16 = acc16 * share if acc16 else acc16
        details = replace(details, usable_memory_source="largest MIG instance")
        if bw_source:
            bw_source += f" x {share:g} (MIG memory slices)"
    details = replace(details, bandwidth_source=bw_source)
    return Device(
        vendor="nvidia", name=name, memory_bytes=total, free_memory_bytes=free, bandwidth_bytes_per_s=bandwidth,
        fp16_flops=flops, fp16_acc16_flops=acc16, usable_memory_bytes=usable, matched_profile=profile.id if profile else None,
        backend="cuda", details=details,
    )


def _unified_device(name: str, profile: Any, total: int, free: int | None, index: int) -> Device:
    from ..catalog.hardware import unified_usable

    usable, basis = unified_usable(profile)
    usable = min(usable, total)
    details = GpuDetails(index=index, driver="nvidia", bandwidth_source=f"catalog:{profile.id}",
                         usable_memory_source=f"unified system RAM (NVML reports no GPU memory); {basis}")
    return Device(vendor="nvidia", name=name, memory_bytes=total, free_memory_bytes=free,
                  bandwidth_bytes_per_s=profile.bandwidth_bytes_per_s, fp16_flops=profile.fp16_flops,
                  fp16_acc16_flops=profile.fp16_acc16_flops, unified=True, usable_memory_bytes=usable,
                  matched_profile=profile.id, backend="cuda", details=details)


def _opt_text(value: Any) -> str | None:
    if value is None:
        return None
    text = _text(value).strip()
    return text or None


def _mig_share(instance_bytes: int, total_bytes: int) -> float:
    """Fraction of the GPU's memory slices (and so bandwidth and SMs, roughly) an instance holds, in 1/8 steps."""
    slices = int(load("probe")["mig"]["memory_slices"])
    if total_bytes <= 0 or instance_bytes <= 0:
        return 0.0
    return max(1, round(slices * instance_bytes / total_bytes)) / slices


def _mig_instances(nvml: Any, opt: Callable[..., Any], h: Any) -> tuple[MigInstance, ...]:
    count = opt(nvml.nvmlDeviceGetMaxMigDeviceCount, h) or 0
    out = []
    for i in range(int(count)):
        mh = opt(nvml.nvmlDeviceGetMigDeviceHandleByIndex, h, i)
        if mh is None:
            continue  # empty slot: NVMLError_NotFound
        mem = opt(nvml.nvmlDeviceGetMemoryInfo, mh)
        if mem is None:
            continue
        out.append(MigInstance(name=_text(opt(nvml.nvmlDeviceGetName, mh) or f"MIG {i}"),
                               memory_bytes=int(mem.total), uuid=_opt_text(opt(nvml.nvmlDeviceGetUUID, mh))))
    return tuple(out)


def _nvlinks(nvml: Any, h: Any) -> int | None:
    """Active NVLink links; None when the GPU has no NVLink (GeForce 40xx: NotSupported on link 0)."""
    error = nvml.NVMLError
    active, answered = 0, False
    for link in range(int(getattr(nvml, "NVML_NVLINK_MAX_LINKS", 18))):
        try:
            state = nvml.nvmlDeviceGetNvLinkState(h, link)
        except error:
            break  # NotSupported (no NVLink) or InvalidArgument (past the last link)
        answered = True
        if int(state) == int(getattr(nvml, "NVML_FEATURE_ENABLED", 1)):
            active += 1
    return active if answered else None
