"""Hardware from a spec sheet, for cards nobody sells yet: `custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS`.

Why: the speed model needs only memory, bandwidth and FLOPS (plus a backend family), all of which a datasheet states.
The same keys work in a YAML or JSON file (`--hardware card.yaml`). Required: vram, bandwidth, fp16 (a missing, zero
or negative one exits 2 naming it). Optional: count, backend (cuda|rocm|vulkan|sycl|metal; default cuda), ram,
name, unified (true for an APU/Apple-style part: the GPU shares `vram` with the CPU), cuda_cores and boost_mhz (the
CUDA mat-vec kernel-rate term, estimate/speed.py), fp16_acc16 (GeForce-style FP16-accumulate rate).
"""
from __future__ import annotations

from .profiles import MAX_UNITS, Profile
# the field parsers, shared with catalog/custom_cpu.py (a CPU-only box), which custom_profile dispatches to
from .spec_fields import PREFIX, _bad, _positive_int, _rate, _size, parse_pairs, spec_keys  # noqa: F401 - PREFIX re-exported

REQUIRED = ("vram", "bandwidth", "fp16")
OPTIONAL = ("count", "backend", "ram", "name", "unified", "cuda_cores", "boost_mhz", "fp16_acc16")
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
    count = _positive_int(spec, "count", fields["count"], MAX_UNITS) if fields.get("count") is not None else 1
    unified = str(fields.get("unified", backend == "metal")).lower() in ("true", "1", "yes")
    if unified and count > 1:
        raise _bad(spec, "a unified-memory part cannot be multiplied (count)")
    raw: dict = {"id": "custom", "sources": {"spec": f"user spec sheet: {spec}"}}
    if fields.get("cuda_cores") is not None:
        raw["cuda_cores"] = _positive_int(spec, "cuda_cores", fields["cuda_cores"], 10**6)
    if fields.get("boost_mhz") is not None:
        raw["boost_clock_mhz"] = _rate(spec, "boost_mhz", fields["boost_mhz"], 1.0, "2520", minimum=100)
    if fields.get("ram") is not None:
        raw["ram_bytes"] = _size(spec, "ram", fields["ram"])
    name = " ".join(str(fields.get("name") or "custom GPU").split())[:80]
    name = "".join(c for c in name if c.isprintable())
    profile = Profile(
        id="custom", name=name, kind="apple" if backend == "metal" and unified else ("apu" if unified else "gpu"),
        vendor=BACKENDS[backend], backend=backend, memory_bytes=vram, bandwidth_bytes_per_s=int(bandwidth),
        fp16_flops=fp16, fp16_acc16_flops=acc16, tdp_watts=None, price_usd=None, unified=unified, raw=raw,
    )
    return profile, count


def parse_custom(spec: str) -> tuple[Profile, int]:
    return custom_profile(parse_pairs(spec), spec)
