"""Turn the hardware options of a command into a Machine: a profile, inline sizes, a saved probe, or this host."""
from __future__ import annotations

import os

from .catalog.hardware import generic_machine, machine_from_profile, parse_spec
from .domain import Machine
from .errors import BadOptionError
from .record import replace
from .units import parse_size


def this_machine() -> Machine:
    """This host as `advisor probe` sees it: GPUs (NVML, sysfs, Apple), RAM or the container's memory limit."""
    from .probe import probe

    return probe().machine


def resolve_machine(
    hardware: str | None, vram: str | None, ram: str | None, gpus: int | None
) -> tuple[Machine, bool]:
    """(machine, host_ram_known). host RAM is unknown for a bare GPU profile without --ram."""
    ram_bytes = parse_size(ram, what="--ram") if ram is not None else None
    if gpus is not None and gpus < 1:
        raise BadOptionError(f"--gpus {gpus} is not a GPU count", "give 1 or more")
    if hardware is not None:
        # Conflicting flags are refused, naming both (issue 19): none is silently dropped.
        if hardware.lower().endswith(".json") or os.path.sep in hardware:
            from .probe.files import load_probe_file

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
        profile, count, link = parse_spec(hardware)
        if gpus is not None:
            if count != 1 and count != gpus:
                raise BadOptionError(f"--gpus {gpus} and --hardware {hardware!r} both give a GPU count",
                                     f"use one of them, e.g. --hardware '{gpus}x {profile.id}'")
            if profile.kind != "gpu" and gpus > 1:
                raise BadOptionError(f"--gpus {gpus} with --hardware {hardware!r}: only discrete GPUs can be multiplied",
                                     "drop --gpus")
            count = gpus
        machine = machine_from_profile(profile, count, ram_bytes, link)
        known = ram_bytes is not None or profile.kind in ("cpu", "apple", "apu")
        return machine, known
    if vram is not None or ram is not None or gpus is not None:
        vram_bytes = parse_size(vram, what="--vram") if vram is not None else None
        if gpus and not vram_bytes:
            raise BadOptionError("--gpus needs --vram (memory per GPU)", "e.g. --vram 24GB --gpus 2")
        return generic_machine(vram_bytes, gpus or 1, ram_bytes), ram_bytes is not None
    return this_machine(), True
