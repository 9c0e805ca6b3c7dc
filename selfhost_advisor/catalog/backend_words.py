"""Trailing words of a GPU name that pick llama.cpp's Vulkan backend and, for Intel, the Vulkan driver:
`--hardware "arc b580 vulkan"`, `"arc b580 vulkan mesa"` (Linux: Mesa's ANV), `"arc a770 vulkan windows"`.

Why: a named GPU takes its table backend (Intel: SYCL, AMD: ROCm), and on Intel the Vulkan driver sets decode speed
(estimate/vulkan_intel.py: ANV decoded at 0.37 of Intel's Windows driver on the same card and build, llama.cpp PR
#14001), so both must be sayable. Like "nvlink" / "pcie", the words come after the name (and its count).
"""
from __future__ import annotations

import re

from ..errors import UnknownHardwareError
from ..record import replace
from ..termsafe import clipped

# the driver words: ANV is Mesa's Intel Vulkan driver (Linux); "windows" is Intel's proprietary driver
DRIVER_WORDS = {"mesa": "mesa", "anv": "mesa", "linux": "mesa", "windows": "windows"}


_SHOWN = re.compile(r"\(([^()]*\bvulkan\b[^()]*)\)", re.I)


def split(text: str) -> tuple[str, str, str]:
    """'arc b580 vulkan mesa' -> ('arc b580', 'vulkan', 'mesa'); a name without the words -> (text, '', ''). A driver
    word counts only right after 'vulkan' (a product name may end in anything else)."""
    shown = _SHOWN.search(text)  # fit's own Hardware line pasted back: 'Intel Arc B580 (Vulkan, Mesa ANV)' (the name
    if shown:                   # resolver drops a parenthesised note, so it ran as SYCL without a word)
        note = set(re.sub(r"\bvulkan\b|\bdriver\b|,", " ", shown.group(1).lower()).split())
        drivers = {DRIVER_WORDS.get(w) for w in note}
        if len(drivers) > 1 or None in drivers:
            raise UnknownHardwareError(f"hardware {clipped(text)!r}: the note in parentheses is not a Vulkan driver",
                                       "write the driver after 'vulkan': 'vulkan mesa' (Linux) or 'vulkan windows'")
        rest = " ".join((text[:shown.start()] + " " + text[shown.end():]).split())
        return rest, "vulkan", drivers.pop() if drivers else ""
    words = text.split()
    driver = ""
    if len(words) >= 3 and words[-1].lower() in DRIVER_WORDS and words[-2].lower() == "vulkan":
        driver = DRIVER_WORDS[words[-1].lower()]
        words = words[:-1]
    if len(words) >= 2 and words[-1].lower() == "vulkan":
        return " ".join(words[:-1]), "vulkan", driver
    return text, "", ""


def apply(profile, backend: str, driver: str, spec: str):
    """`profile` run by llama.cpp's Vulkan backend (and on `driver`); exit 2 where that cannot be: Apple (Metal),
    a CPU, a driver word on a GPU that is not Intel's."""
    if not backend:
        return profile
    if profile.kind in ("cpu", "host", "apple") or profile.vendor == "apple":
        raise UnknownHardwareError(f"hardware {clipped(spec)!r}: llama.cpp's Vulkan backend needs a GPU other than "
                                   "Apple's (Apple silicon runs Metal)", "drop 'vulkan'")
    if driver and profile.vendor != "intel":
        raise UnknownHardwareError(f"hardware {clipped(spec)!r}: 'mesa' / 'windows' name Intel's Vulkan drivers; "
                                   f"{profile.name} is not an Intel GPU", "drop the driver word")
    raw = {**profile.raw, "vulkan_driver": driver} if driver else profile.raw
    return replace(profile, backend=backend, raw=raw)
