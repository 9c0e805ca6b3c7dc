"""Hardware from a spec sheet, for cards nobody sells yet: `custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS`.

Why: the speed model needs only memory, bandwidth and FLOPS (plus a backend family), all of which a datasheet states.
The same keys work in a YAML or JSON file (`--hardware card.yaml`). Required: vram, bandwidth, fp16 (a missing, zero
or negative one exits 2 naming it). Optional: count, backend (cuda|rocm|vulkan|sycl|metal; default cuda), ram,
name, unified (true for an APU/Apple-style part: the GPU shares `vram` with the CPU), cuda_cores and boost_mhz (the
CUDA mat-vec kernel-rate term, estimate/speed.py), fp16_acc16 (GeForce-style FP16-accumulate rate), and for `cost`
tdp (board power per GPU, W) and price (USD per GPU; for a unified part the whole machine), which `fit` ignores;
driver (mesa|windows, with backend=vulkan: an Intel GPU on Mesa's ANV or Intel's Windows driver, estimate/vulkan_intel.py).
"""
from __future__ import annotations

from .profiles import MAX_UNITS, Profile
# the field parsers, shared with catalog/custom_cpu.py (a CPU-only box), which custom_profile dispatches to
from .spec_fields import PREFIX, _bad, _positive_int, _rate, _size, parse_pairs, spec_keys, spec_name, split_count  # noqa: F401 - PREFIX re-exported

REQUIRED = ("vram", "bandwidth", "fp16")
OPTIONAL = ("count", "backend", "ram", "name", "unified", "cuda_cores", "boost_mhz", "fp16_acc16", "tdp", "price",
            "driver")
BACKENDS = {"cuda": "nvidia", "rocm": "amd", "vulkan": "generic", "sycl": "intel", "metal": "apple"}


def custom_profile(fields: dict, spec: str) -> tuple[Profile, int]:
    """(profile, count) from key -> value (strings from the inline form, or YAML/JSON scalars)."""
    fields = spec_keys(fields, spec)
    from .custom_cpu import cpu_profile, is_cpu_spec

    if is_cpu_spec(fields):  # cores and no vram: a CPU-only box (catalog/custom_cpu.py)
        return cpu_profile(fields, spec), 1
    unknown = sorted(set(fields) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise _bad(spec, f"unknown key {unknown[0]!r}; keys: {', '.join(REQUIRED + OPTIONAL)} (a CPU-only box: "
                         "cores, clock, simd, ram, bandwidth)")
    for key in REQUIRED:
        if fields.get(key) in (None, ""):
            raise _bad(spec, f"{key} is missing")
    vram = _size(spec, "vram", fields["vram"])
    bandwidth = _rate(spec, "bandwidth", fields["bandwidth"], 1e9, "448GB/s")
    fp16 = _rate(spec, "fp16", fields["fp16"], 1e12, "60TFLOPS")
    acc16 = _rate(spec, "fp16_acc16", fields["fp16_acc16"], 1e12, "120TFLOPS") if fields.get("fp16_acc16") else None
    backend = str(fields.get("backend") or "cuda").lower()
    if backend not in BACKENDS:
        raise _bad(spec, f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
    unified = _flag(spec, "unified", fields.get("unified"), backend == "metal")
    check_gpu_memory(vram, backend, lambda what: _bad(spec, f"vram={str(fields['vram']).strip()} is {what}",
                                                      "give the card's memory per GPU, e.g. vram=16GB"),
                     unified=unified or backend == "metal")
    count = _positive_int(spec, "count", fields["count"], MAX_UNITS) if fields.get("count") is not None else 1
    if unified and count > 1:
        raise _bad(spec, "a unified-memory part cannot be multiplied (count)")
    raw: dict = {"id": "custom", "sources": {"spec": f"user spec sheet: {spec}"}}
    vendor = BACKENDS[backend]
    if fields.get("driver") is not None:  # Intel's Vulkan drivers (estimate/vulkan_intel.py): the GPU is Intel's
        from .backend_words import DRIVER_WORDS

        driver = str(fields["driver"]).strip().lower()
        if backend != "vulkan" or driver not in ("mesa", "windows"):
            raise _bad(spec, f"driver={fields['driver']!r}: driver=mesa (Linux, Mesa's ANV) or driver=windows names "
                             "the Vulkan driver of an Intel GPU; it needs backend=vulkan")
        raw["vulkan_driver"], vendor = DRIVER_WORDS[driver], "intel"
    if fields.get("cuda_cores") is not None:
        raw["cuda_cores"] = _positive_int(spec, "cuda_cores", fields["cuda_cores"], 10**6)
    if fields.get("boost_mhz") is not None:
        raw["boost_clock_mhz"] = _rate(spec, "boost_mhz", fields["boost_mhz"], 1.0, "2520", minimum=100)
    if fields.get("ram") is not None and unified:  # was dropped without a word: the RAM shown was vram
        raise _bad(spec, "unified=true: vram is the memory the CPU and GPU share; drop ram (or unified)")
    if fields.get("ram") is not None:
        raw["ram_bytes"] = _size(spec, "ram", fields["ram"])
    tdp = _watts(spec, fields["tdp"]) if fields.get("tdp") is not None else None
    price = _usd(spec, fields["price"]) if fields.get("price") is not None else None
    name = spec_name(fields, "custom GPU")
    profile = Profile(
        id="custom", name=name, kind="apple" if backend == "metal" and unified else ("apu" if unified else "gpu"),
        vendor=vendor, backend=backend, memory_bytes=vram, bandwidth_bytes_per_s=int(bandwidth),
        fp16_flops=fp16, fp16_acc16_flops=acc16, tdp_watts=tdp, price_usd=price, unified=unified, raw=raw,
    )
    return profile, count


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _flag(spec: str, key: str, value: object, default: bool) -> bool:
    """A yes/no key (true/false, 1/0, yes/no; a YAML/JSON boolean); not given or empty: `default`. Why: any other value
    was read as false without a word ('unified=maybe' fitted a discrete GPU; review, session 20)."""
    text = str(value).strip().lower() if value is not None else ""
    if not text:
        return default
    if text not in _TRUE + _FALSE:
        raise _bad(spec, f"{key}={str(value).strip()!r} is not true or false", f"give {key}=true or {key}=false")
    return text in _TRUE


def check_gpu_memory(memory_bytes: int, backend: str, refuse, unified: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Refuse GPU memory below the runtime context every GPU of this backend holds before any layer
    (estimate/memory_engine.runtime_bytes: data/engines.yaml runtime, 384 MiB for CUDA/ROCm/Vulkan/SYCL, none for
    Metal): `refuse(what)` builds the error. Why: vram=1e-9GB parsed as 1 byte and fit placed ~500 MB of context and
    compute buffer on it. A unified part (Metal always; an APU) shares that memory with the OS, so its floor is also
    the RAM kept for the OS (runtime.os_reserve_bytes, 2 GiB): Metal counts no context, and vram=1B,backend=metal was
    fitted as 'Usable 0 MB of 0 MB' (session 20). Every Mac sold has 8 GB or more (data/apple.yaml)."""
    from ..estimate.memory_engine import runtime_bytes
    from ..units import gb

    floor = runtime_bytes(1, backend)
    if memory_bytes < floor:
        raise refuse(f"{memory_bytes:,} byte{'' if memory_bytes == 1 else 's'}, less than the {floor / 2**20:.0f} MiB ({gb(floor)}) runtime context a "
                     f"{backend} GPU holds before any layer (data/engines.yaml runtime), so nothing could run on it")
    if unified:
        from .data import load

        os_reserve = int(load("engines")["runtime"]["os_reserve_bytes"])
        if memory_bytes < os_reserve:
            raise refuse(f"{memory_bytes:,} byte{'' if memory_bytes == 1 else 's'}, less than the {os_reserve / 2**30:g} GiB "
                         f"({gb(os_reserve)}) of RAM kept for the OS (data/engines.yaml runtime.os_reserve_bytes): a "
                         f"unified {backend} GPU shares its memory with the OS, so nothing is left for a model")


def _watts(spec: str, text: object) -> float:
    """tdp=350W, 350 or 0.35kW: the board power of one GPU, 1 W to 10 kW (above: a unit slip, or a rack's figure)."""
    import math
    import re

    from ..units import NUMBER_TEXT  # one number rule (units.py): 1_000W as 1000W, 1000_W malformed

    m = re.match(rf"^\s*({NUMBER_TEXT})\s*(k?)\s*(w|watts?)?\s*$", str(text), re.I)
    if not m:
        raise _bad(spec, f"tdp={text!r} is not a power in watts (e.g. tdp=350W)")
    value = float(m.group(1)) * (1000.0 if m.group(2) else 1.0)
    if not (math.isfinite(value) and 1.0 <= value <= 10_000.0):
        raise _bad(spec, f"tdp={text!r} is out of range (the board power of one GPU, 1 W to 10 kW, e.g. tdp=350W)")
    return value


def _usd(spec: str, text: object) -> float:
    """price=2500, or price: $2,500 in a spec file (USD per GPU; inline, a comma separates keys): positive and finite,
    at most 10 million (as --gpu-price)."""
    import math

    raw = str(text).strip().lstrip("$").replace(",", "").replace("_", "")
    try:
        value = float(raw)
    except ValueError:
        raise _bad(spec, f"price={text!r} is not an amount in USD (e.g. price=2500)") from None
    if not (math.isfinite(value) and 0 < value <= 10_000_000):
        raise _bad(spec, f"price must be a positive amount in USD up to 10,000,000, got {text!r}")
    return value


def parse_custom(spec: str) -> tuple[Profile, int]:
    """'custom:...' or '4x custom:...' (the count as before a catalog name; with a count= key too, they must agree)."""
    prefix_count, body = split_count(spec)
    fields = parse_pairs(body)
    if prefix_count is not None:
        from .custom_cpu import is_cpu_spec

        if is_cpu_spec(spec_keys(fields, spec)):
            raise _bad(spec, "only GPUs can be multiplied; a CPU box counts sockets (sockets=2)", "drop the count")
        if "count" in fields and _positive_int(spec, "count", fields["count"], MAX_UNITS) != prefix_count:
            raise _bad(spec, f"{prefix_count}x and count={fields['count']} disagree", "give the count once")
        if not 1 <= prefix_count <= MAX_UNITS:
            raise _bad(spec, f"the count before it must be between 1 and {MAX_UNITS}")  # (a capped 1000000x, not as typed)
        fields["count"] = str(prefix_count)
    return custom_profile(fields, spec)
