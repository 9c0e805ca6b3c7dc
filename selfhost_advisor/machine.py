"""Turn the hardware options of a command into a Machine: a profile, inline sizes, a saved probe, or this host."""
from __future__ import annotations

import os
import re

from .catalog.hardware import MAX_UNITS, fold_width, generic_machine, machine_from_profile, parse_spec
from .domain import Machine
from .errors import BadOptionError
from .lazy_re import lazy
from .limits import MAX_GPUS
from .record import replace
from .units import parse_size


def this_machine() -> Machine:
    """This host as `advisor probe` sees it: GPUs (NVML, sysfs, Apple), RAM or the container's memory limit."""
    from .probe import probe

    return probe().machine


def _names_a_gpu(text: str) -> bool:
    """Whether `text` resolves as a hardware name (catalog/hw_names.py), without raising."""
    from .catalog import hw_names
    from .errors import AdvisorError

    try:
        hw_names.resolve(text)
    except AdvisorError:
        return False
    return True


def resolve_machine(
    hardware: str | None, vram: str | None, ram: str | None, gpus: int | None
) -> tuple[Machine, bool]:
    """(machine, host_ram_known). host RAM is unknown for a bare GPU profile without --ram."""
    ram_bytes = parse_size(ram, what="--ram") if ram is not None else None
    if gpus is not None and not 1 <= gpus <= MAX_GPUS:
        raise BadOptionError(f"--gpus {gpus} is not a GPU count", f"give 1 to {MAX_GPUS} (docs/cli.md, Limits)")
    if hardware is not None:
        from .catalog.spec_fields import is_custom, refuse_misplaced_custom

        refuse_misplaced_custom(hardware)
        # Conflicting flags are refused, naming both (issue 19): none is silently dropped.
        # a '/' makes a file path unless the text names a GPU (llama.cpp's ROCm name "AMD Instinct MI250X / MI250")
        is_file = hardware.lower().endswith((".json", ".yaml", ".yml")) or (
            os.path.sep in hardware and (os.path.exists(hardware) or not _names_a_gpu(hardware)))
        if is_file and not is_custom(hardware):
            from .probe.files import load_hardware_file as load_probe_file

            for flag, value in (("--vram", vram), ("--gpus", gpus)):
                if value is not None:
                    raise BadOptionError(f"{flag} and --hardware {hardware} both given",
                                         f"a probe file has its own GPUs: drop {flag}, or use it without --hardware")
            machine = load_probe_file(hardware)
            if ram_bytes:
                machine = replace(machine, ram_bytes=ram_bytes)  # --ram overrides the file's RAM (documented)
            return machine, True
        if vram is not None:
            raise BadOptionError(f"--vram and --hardware {hardware!r} both given",
                                 "a profile has its own memory: use one of them")
        hardware = fold_width(hardware)  # full-width input ('ＲＴＸ ４０９０ ＋ ...'), as parse_spec reads it
        if "+" in hardware and not _names_one_profile(hardware):
            if gpus is not None:
                raise BadOptionError("--gpus with a mixed '+' hardware spec", "count each card in the spec: '2x rtx4090+rtx3090'")
            return mixed_machine(hardware, ram_bytes), ram_bytes is not None
        profile, count, link = parse_spec(hardware)
        if ram_bytes is not None and profile.unified:  # was dropped without a word
            from .termsafe import clipped

            raise BadOptionError(f"--ram {ram} with --hardware {clipped(hardware)!r}: a unified-memory machine's RAM is "
                                 "its GPU's memory", "drop --ram; name the configuration with its memory size (e.g. "
                                 "'m4 max 64gb'), or give the GPU's share with --gpu-memory")
        if gpus is not None:
            if count != 1 and count != gpus:
                raise BadOptionError(f"--gpus {gpus} and --hardware {hardware!r} both give a GPU count",
                                     f"use one of them, e.g. --hardware '{gpus}x {profile.id}'")
            if profile.kind != "gpu" and gpus > 1:
                raise BadOptionError(f"--gpus {gpus} with --hardware {hardware!r}: only discrete GPUs can be multiplied",
                                     "drop --gpus")
            count = gpus
        if ram_bytes is None and profile.raw.get("ram_bytes"):  # custom:...,ram=64GB
            ram_bytes = int(profile.raw["ram_bytes"])
        machine = machine_from_profile(profile, count, ram_bytes, link)
        known = ram_bytes is not None or profile.kind in ("cpu", "apple", "apu")
        return machine, known
    if vram is not None or ram is not None or gpus is not None:
        vram_bytes = parse_size(vram, what="--vram") if vram is not None else None
        if vram_bytes:
            from .catalog.custom_hw import check_gpu_memory

            check_gpu_memory(vram_bytes, "cuda", lambda what: BadOptionError(  # generic_machine's GPUs are CUDA's
                f"--vram {vram.strip()} is {what}", "give the memory of one GPU, e.g. --vram 24GB"))
        if gpus and not vram_bytes:
            raise BadOptionError("--gpus needs --vram (memory per GPU)", "e.g. --vram 24GB --gpus 2")
        return generic_machine(vram_bytes, gpus or 1, ram_bytes), ram_bytes is not None
    return this_machine(), True


def _names_one_profile(spec: str) -> bool:
    """True when a spec with '+' is itself one machine's name ('ai max+ 395', 'Ryzen AI Max+ 395'), not two cards;
    also with a count ('2x ai max+ 395 64gb': parse_spec then says only discrete GPUs multiply, not 'unknown ai max')."""
    from .catalog.hardware import _split_count
    from .catalog.hw_names import AmbiguousHardwareError
    from .errors import AdvisorError

    if _MAX_PLUS.search(spec):  # 'ai max+ 395 48gb': AMD's name, refused as the one product it is ('no 48 GB build of
        return True             # AMD Ryzen AI Max+ 395'), not split at its '+' into 'unknown hardware ai max'
    from .catalog.cpu_names import is_cpu_name

    if is_cpu_name(spec):  # 'xeon platinum 8480+ 512gb': a CPU's name, refused as one (no RAM size) or taken whole
        return True
    try:
        parse_spec(spec)
    except AmbiguousHardwareError:
        return True  # 'ai max+ 395' without its memory: one product; parse_spec's refusal lists the sizes
    except AdvisorError:
        count, name = _split_count(spec.strip())
        return count != 1 and name != spec.strip() and "+" in name and _names_one_profile(name)
    return True


_MAX_PLUS = lazy(r"\bmax\s*\+\s*\d{3}\b", re.I)  # Ryzen AI Max+ 395: a '+' inside a product name


def mixed_machine(spec: str, ram_bytes: int | None) -> Machine:
    """'rtx4090+rtx3090' (or '2x rtx4090 + rtx3090'): one machine holding different discrete GPUs, in the order given
    (llama.cpp's device order: the first card gets the first layers)."""
    from .termsafe import clipped

    parts = [p.strip() for p in spec.split("+")]
    shown = clipped(spec)  # 5,000 cards joined by '+' were quoted whole in the one-line error
    if len(parts) < 2 or not all(parts):
        raise BadOptionError(f"hardware {shown!r}: empty part around '+'", "e.g. --hardware 'rtx4090+rtx3090'")
    if len(parts) > MAX_UNITS:  # before resolving each part
        raise BadOptionError(f"hardware {shown!r} has {len(parts)} GPUs", f"give at most {MAX_UNITS}")
    devices = []
    for part in parts:
        profile, count, _ = parse_spec(part)
        if profile.kind != "gpu" or profile.unified:
            raise BadOptionError(f"hardware {shown!r}: {profile.id} is not a discrete GPU",
                                 "only discrete GPUs can be combined with '+'")
        devices.extend(machine_from_profile(profile, count).devices)
    if len(devices) > MAX_UNITS:
        raise BadOptionError(f"hardware {shown!r} has {len(devices)} GPUs", f"give at most {MAX_UNITS}")
    name = " + ".join(p.lower() for p in parts)
    return Machine(name=name, devices=tuple(devices), ram_bytes=ram_bytes or 0, source="profile")


def apply_memory_options(machine: Machine, memory: str | None, gpu_memory: str | None) -> Machine:
    """--gpu-memory SIZE: usable GPU memory of a unified-memory part (Apple with a raised `iogpu.wired_limit_mb`; an AMD
    APU's BIOS-carved VRAM + GTT; DGX Spark). --memory free: fit against the GPU memory free now (other processes hold
    the rest), from the probe or a saved probe file; total (the default) fits against the whole card."""
    from .domain import GpuDetails

    devices = list(machine.devices)
    if gpu_memory is not None:
        size = parse_size(gpu_memory, what="--gpu-memory")
        if not any(d.unified for d in devices):
            raise BadOptionError(f"--gpu-memory {gpu_memory}: {machine.name} has no unified-memory GPU",
                                 "it applies to Apple, AMD APUs (Strix Halo), laptop iGPUs and DGX Spark; discrete cards have fixed VRAM")
        for i, d in enumerate(devices):
            if d.unified:
                if size > d.memory_bytes:
                    raise BadOptionError(f"--gpu-memory {gpu_memory} exceeds {d.name}'s {d.memory_bytes / 1e9:.0f} GB",
                                         "give at most the machine's memory")
                kind = {"apple": ": the Metal wired limit, iogpu.wired_limit_mb", "amd": ": the APU's carved VRAM + GTT",
                        "intel": ": the iGPU's shared-memory share"}.get(d.vendor, "")
                why = f"--gpu-memory {gpu_memory} (as stated{kind})"
                det = replace(d.details or GpuDetails(), usable_memory_source=why)
                devices[i] = replace(d, usable_memory_bytes=size, details=det)
    mode = (memory or "total").lower()
    if mode not in ("total", "free"):
        raise BadOptionError(f"--memory {memory!r} is not total or free", "e.g. --memory free")
    if mode == "free":
        if not devices and machine.available_ram_bytes:  # CPU only: the RAM available now decides
            return replace(machine, ram_bytes=_free_ram(machine), ram_source="free")
        avail = machine.available_ram_bytes
        # a unified-memory GPU (Apple, DGX Spark) without its own free figure has what the OS says is available
        devices = [replace(d, free_memory_bytes=avail) if d.free_memory_bytes is None and d.unified and avail else d
                   for d in devices]
        if not devices or any(d.free_memory_bytes is None for d in devices):
            raise BadOptionError("--memory free needs each GPU's free memory",
                                 "use it on this machine (no --hardware) or with a saved 'advisor probe --json' file")
        if machine.available_ram_bytes:
            machine = replace(machine, ram_bytes=_free_ram(machine), ram_source="free")
        devices = [replace(d, usable_memory_bytes=min(d.free_memory_bytes, d.usable_memory_bytes or d.memory_bytes),
                           details=replace(d.details or GpuDetails(), usable_memory_source="free now (--memory free; "
                                           "other processes hold the rest)"))
                   for d in devices]
    return replace(machine, devices=tuple(devices))


def _free_ram(machine: Machine) -> int:
    """Host RAM such that RAM minus the OS reserve placement keeps back equals the RAM available now (the running
    OS's share is already out of `available_ram_bytes`, so it is not taken twice)."""
    from .catalog.data import load

    reserve = int(load("engines")["runtime"]["os_reserve_bytes"])
    return min(machine.ram_bytes, int(machine.available_ram_bytes or 0) + reserve)


def free_machine(machine: Machine) -> Machine | None:
    """The machine with each GPU limited to the memory free now, when other processes hold more than 3% of it."""
    devs = machine.devices
    if not devs or any(d.free_memory_bytes is None for d in devs):
        return None
    if all(d.free_memory_bytes >= 0.97 * (d.usable_memory_bytes or d.memory_bytes) for d in devs):
        return None
    return apply_memory_options(machine, "free", None)
