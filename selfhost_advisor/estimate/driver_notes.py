"""The Vulkan driver notes fit, serve and cost print for a machine's devices (Intel: which driver the estimate assumes;
AMD: RADV vs AMDVLK), in one place so every command that sizes a machine says the same."""
from __future__ import annotations


def vulkan_driver_notes(devices) -> list[str]:
    from .vulkan_amd import driver_note as amd_driver_note
    from .vulkan_intel import driver_note as intel_driver_note

    return [n for n in (intel_driver_note(devices), amd_driver_note(devices)) if n]
