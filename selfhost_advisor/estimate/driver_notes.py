"""The notes fit, serve and cost print for a machine's devices (Intel: which Vulkan driver the estimate assumes; AMD:
RADV vs AMDVLK; a Jetson: the power mode the estimate assumes), in one place so every command that sizes a machine
says the same."""
from __future__ import annotations


def vulkan_driver_notes(devices) -> list[str]:
    from .vulkan_amd import driver_note as amd_driver_note
    from .vulkan_intel import driver_note as intel_driver_note

    return [n for n in (intel_driver_note(devices), amd_driver_note(devices)) if n]


def jetson_power_note(devices) -> str | None:
    """The note for a Jetson device: its speed is MAXN's (the spec sheet's clocks), and what one published box
    measured in a lower nvpmodel mode. Why a note and not a factor: no stored source tabulates the GPU / memory clocks
    of each mode (data/speed.yaml jetson_power_mode; docs/methodology.md 5f-edge27)."""
    from ..catalog.data import load

    cfg = load("speed").get("jetson_power_mode") or {}
    prefix = cfg.get("profile_prefix")
    if not prefix or not any((d.matched_profile or "").startswith(prefix) for d in devices):
        return None
    return str(cfg["note"])


def device_notes(devices) -> list[str]:
    """Every note above that applies to these devices, Vulkan drivers first."""
    note = jetson_power_note(devices)
    return vulkan_driver_notes(devices) + ([note] if note else [])
