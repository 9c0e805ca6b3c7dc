"""Trailing words of a GPU name that pick llama.cpp's Vulkan backend and, for Intel and AMD, the Vulkan driver:
`--hardware "arc b580 vulkan"`, `"arc b580 vulkan mesa"` (Linux: Mesa's ANV), `"arc a770 vulkan windows"`,
`"rx 7900 xtx vulkan radv"` / `amdvlk` / `windows`, or the GPU as ggml_vulkan's device line names it:
`"AMD Radeon RX 7900 XTX (RADV NAVI31)"`, `"Radeon 8060S Graphics (AMD open-source driver)"` (AMDVLK).

Why: a named GPU takes its table backend (Intel: SYCL, AMD: ROCm), and on Intel the Vulkan driver sets decode speed
(estimate/vulkan_intel.py: ANV decoded at 0.37 of Intel's Windows driver on the same card and build, llama.cpp PR
#14001), so both must be sayable. On AMD the driver picks ggml-vulkan's matmul tiles (estimate/vulkan_amd.py); a name
with ggml_vulkan's "(RADV ...)" note resolved silently to ROCm before. Like "nvlink" / "pcie", the words come after the name (and its count).
"sycl" ("arc b580 sycl") names llama.cpp's SYCL backend, an Intel GPU's default here: said out loud it was unknown
hardware while "arc b580 vulkan" resolved; it is refused after a non-Intel GPU and by --engine vllm (engines/vllm.py).
After it "fp32" or "fp16" ("arc b580 sycl fp32") names the build's GGML_SYCL_F16 (OFF / ON): the prompt GEMMs run in
FP32 on the vector lanes or in FP16 on XMX, 1.5-3.4x apart (llama.cpp PR #23996's B70 table); unsaid, the newest
llama.cpp's default, FP16 (estimate/sycl_path.py sycl_build_note, docs/methodology.md 5b-sycl31b).
"rocm" (or "hip": "ryzen ai max+ 395 128gb rocm") names llama.cpp's ROCm/HIP backend on an AMD GPU. A discrete AMD GPU's
table backend is already ROCm (the word says it out loud); an AMD APU's profile (Strix Halo, Strix Point) runs Vulkan,
and without the word no one could ask for the ROCm figure that the held-out ROCm rows of those chips check
(docs/methodology.md 5f-halo3). Refused after a GPU that is not AMD's.
"""
from __future__ import annotations

import re

from ..errors import UnknownHardwareError
from ..lazy_re import lazy
from ..record import replace
from ..termsafe import clipped

# the driver words: ANV is Mesa's Intel Vulkan driver (Linux); "windows" is Intel's proprietary driver. "anv" stays its
# own word until the vendor is known: after an AMD GPU it is refused (AMD's Mesa driver is RADV), not read as "mesa"
DRIVER_WORDS = {"mesa": "mesa", "anv": "anv", "linux": "mesa", "windows": "windows", "radv": "radv", "amdvlk": "amdvlk"}
# per vendor, the drivers a word names: AMD's Mesa driver is RADV; "windows" is AMD's proprietary driver there
# the build words after 'sycl': which GGML_SYCL_F16 the llama.cpp build was configured with (estimate/sycl_path.py
# sycl_build_note: FP16 GEMMs on XMX, or the FP32 path that dequantizes into FP32 copies; prompts differ 1.5-3.4x)
SYCL_BUILD_WORDS = {"fp32": "fp32", "f32": "fp32", "fp16": "fp16", "f16": "fp16"}
_BY_VENDOR = {"intel": {"mesa": "mesa", "anv": "mesa", "windows": "windows"},
              "amd": {"mesa": "radv", "radv": "radv", "amdvlk": "amdvlk", "windows": "windows"}}
# ggml_vulkan's device line: "AMD Radeon RX 7900 XTX (RADV NAVI31) (radv)", "Radeon 8060S Graphics (AMD open-source
# driver)" (AMDVLK's driverName), "... (AMD proprietary driver)", "Intel(R) Arc(tm) A770 Graphics (DG2) (Intel
# open-source Mesa driver)" (ggml-vulkan.cpp prints props.deviceName, then driverName in parentheses)
_DEVICE_NOTE = lazy(r"\((radv\b[^()]*|amd open-source driver|amd proprietary driver|intel open-source mesa driver)\)",
                          re.I)
_GFX_CODE = lazy(r"\bgfx\d{3,4}[a-z]?\b", re.I)
_NOTE_DRIVER = {"radv": "radv", "amd open-source driver": "amdvlk", "amd proprietary driver": "windows",
                "intel open-source mesa driver": "mesa"}


_SHOWN_SYCL = lazy(r"\(\s*sycl\s*(?:,\s*(fp32|fp16)\s+build\s*)?\)", re.I)
_SHOWN = lazy(r"\(([^()]*\bvulkan\b[^()]*)\)", re.I)
_COUNT_AFTER = lazy(r"^(.*\S)\s+([x×*]\s*[0-9]+)\s*$", re.I)  # 'arc b580 vulkan mesa x2': a count after the words


def split(text: str) -> tuple[str, str, str]:
    """'arc b580 vulkan mesa' -> ('arc b580', 'vulkan', 'mesa'); a name without the words -> (text, '', ''). A driver
    word counts only right after 'vulkan' (a product name may end in anything else). A count written after the words
    ('arc b580 vulkan mesa x2') stays on the name: ('arc b580 x2', 'vulkan', 'mesa'), as 'arc b580 x2 vulkan mesa'."""
    after = _COUNT_AFTER.match(text)
    if after:
        rest, backend, driver = split(after.group(1))
        if backend:
            return f"{rest} {after.group(2)}", backend, driver
    sycl = _SHOWN_SYCL.search(text)  # fit's 'Intel Arc B580 (SYCL, FP32 build)' pasted back: that build, not the default
    if sycl:
        rest = " ".join((text[:sycl.start()] + " " + text[sycl.end():]).split())
        return rest, "sycl", SYCL_BUILD_WORDS.get((sycl.group(1) or "").lower(), "")
    shown = _SHOWN.search(text)  # fit's own Hardware line pasted back: 'Intel Arc B580 (Vulkan, Mesa ANV)' (the name
    if shown:                   # resolver drops a parenthesised note, so it ran as SYCL without a word)
        note = set(re.sub(r"\bvulkan\b|\bdriver\b|,", " ", shown.group(1).lower()).split())
        drivers = {DRIVER_WORDS.get(w) for w in note}
        if drivers == {"mesa", "anv"}:  # fit's own "(Vulkan, Mesa ANV)": Intel's ANV, refused after an AMD name
            drivers = {"anv"}
        if len(drivers) > 1 or None in drivers:
            raise UnknownHardwareError(f"hardware {clipped(text)!r}: the note in parentheses is not a Vulkan driver",
                                       "write the driver after 'vulkan': 'vulkan mesa' (Linux) or 'vulkan windows'")
        rest = " ".join((text[:shown.start()] + " " + text[shown.end():]).split())
        return rest, "vulkan", drivers.pop() if drivers else ""
    notes = _DEVICE_NOTE.findall(text)
    if notes:  # a ggml_vulkan device name pasted as it prints: the driver's note says Vulkan and which driver
        found = {_NOTE_DRIVER["radv" if n.lower().startswith("radv") else n.lower()] for n in notes}
        if len(found) > 1:  # the resolver would drop both notes and run the GPU as ROCm / SYCL without a word
            raise UnknownHardwareError(f"hardware {clipped(text)!r} names two Vulkan drivers in parentheses",
                                       "keep the one the GPU runs on")
        # a GFX code in the note ('(RADV GFX1151)', RADV's name for an APU it has no product name for) is the only
        # part of the name that tells the chip: kept for the resolver (hw_names._GFX), the driver words dropped
        kept = _DEVICE_NOTE.sub(lambda m: " ".join(f"({g})" for g in _GFX_CODE.findall(m.group(0))) or " ", text)
        return " ".join(kept.split()), "vulkan", found.pop()
    words = text.split()
    driver = ""
    if len(words) >= 3 and words[-1].lower() in DRIVER_WORDS and words[-2].lower() == "vulkan":
        driver = DRIVER_WORDS[words[-1].lower()]
        words = words[:-1]
    if len(words) >= 2 and words[-1].lower() == "vulkan":
        return " ".join(words[:-1]), "vulkan", driver
    build = ""
    if len(words) >= 3 and words[-1].lower() in SYCL_BUILD_WORDS and words[-2].lower() == "sycl":
        build = SYCL_BUILD_WORDS[words[-1].lower()]  # 'arc b580 sycl fp32': the GGML_SYCL_F16 the build was made with
        words = words[:-1]
    if len(words) >= 2 and words[-1].lower() == "sycl":  # llama.cpp's SYCL backend (Intel GPUs): no driver word
        return " ".join(words[:-1]), "sycl", build
    if len(words) >= 2 and words[-1].lower() in ("rocm", "hip"):  # llama.cpp's ROCm/HIP backend (AMD GPUs)
        return " ".join(words[:-1]), "rocm", ""
    return text, "", ""


def apply(profile, backend: str, driver: str, spec: str):
    """`profile` run by llama.cpp's Vulkan backend (and on `driver`); exit 2 where that cannot be: Apple (Metal),
    a CPU, a driver word that is not one of that vendor's (Intel: mesa / anv, windows; AMD: radv (mesa), amdvlk,
    windows: "anv", Mesa's Intel driver, is refused after an AMD GPU rather than read as RADV)."""
    if not backend:
        return profile
    if backend == "sycl":  # ggml-sycl: the Intel GPU's own backend (its table default), said out loud
        if profile.vendor != "intel" or profile.kind in ("cpu", "host"):
            raise UnknownHardwareError(f"hardware {clipped(spec)!r}: llama.cpp's SYCL backend is sized for Intel GPUs "
                                       f"only, not {profile.name}", "drop 'sycl'")
        raw = {**profile.raw, "backend_word": "sycl"} | ({"sycl_build": driver} if driver else {})
        return replace(profile, backend="sycl", raw=raw)
    if backend == "rocm":  # ggml-cuda built for HIP: AMD GPUs only (a discrete one's table default; an APU's choice)
        if profile.vendor != "amd" or profile.kind in ("cpu", "host"):
            raise UnknownHardwareError(f"hardware {clipped(spec)!r}: llama.cpp's ROCm backend runs AMD GPUs only, not "
                                       f"{profile.name}", "drop 'rocm'")
        return replace(profile, backend="rocm", raw={**profile.raw, "backend_word": "rocm"})
    if profile.kind in ("cpu", "host", "apple") or profile.vendor == "apple":
        raise UnknownHardwareError(f"hardware {clipped(spec)!r}: llama.cpp's Vulkan backend needs a GPU other than "
                                   "Apple's (Apple silicon runs Metal)", "drop 'vulkan'")
    if driver and driver not in _BY_VENDOR.get(profile.vendor, {}):
        said = {"intel": "Intel's Vulkan drivers are mesa and windows",
                "amd": "AMD's Vulkan drivers are radv (mesa), amdvlk and windows"}.get(
            profile.vendor, f"{profile.name} is not an Intel or AMD GPU")
        what = "is Mesa's Intel Vulkan driver, not one" if driver == "anv" else "is not a Vulkan driver"
        raise UnknownHardwareError(f"hardware {clipped(spec)!r}: {driver!r} {what} of this GPU; {said}",
                                   "drop the driver word or name one of these")
    driver = _BY_VENDOR[profile.vendor][driver] if driver else ""
    raw = {**profile.raw, "vulkan_driver": driver} if driver else dict(profile.raw)
    return replace(profile, backend=backend, raw={**raw, "backend_word": backend})
