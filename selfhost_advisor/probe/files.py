"""Read a saved `advisor probe --json` file back into a Machine (for --hardware FILE).

Round trip: everything `render/probe_json.probe_dict` writes is read back, so `fit X --hardware box.json` places a
model exactly as `fit X` does on the probed machine. Only the DESIGN.md core fields are required, so hand-written
files with just devices and RAM work too. Unknown keys are ignored (newer minor versions add fields).
"""
from __future__ import annotations

import json
import re

from ..domain import CpuInfo, Device, GpuDetails, Machine, MigInstance, ProbeReport
from ..errors import BadFileError
from ..limits import (MAX_DEVICE_ENTRIES, MAX_FILE_NAME_CHARS, MAX_LIST_ITEMS, MAX_MIG_INSTANCES, MAX_PROBE_FILE_BYTES,
                      MAX_SPEC_YAML_BYTES, MIN_RATE_PER_S)
from ..safefile import read_regular
from ..termsafe import clipped, without_ids

SUPPORTED_MAJOR = 1
_HINT = "re-run 'advisor probe --json > box.json'"
_MAX_NUMBER = 2**60  # the largest size parse_size accepts; FLOPS (1e15 per GPU) stay far below it


def _int(obj: dict, key: str, path: str, required: bool = True) -> int | None:
    val = obj.get(key)
    if val is None and not required:
        return None
    # JSON allows Infinity, NaN and 400-digit integers; none is a real byte count or core count.
    if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val <= _MAX_NUMBER:
        raise BadFileError(f"probe file {path}: {key!r} must be a non-negative number below 2^60", _HINT)
    return int(val)


def _float(obj: dict, key: str) -> float | None:
    val = obj.get(key)
    ok = isinstance(val, (int, float)) and not isinstance(val, bool) and 0 < val <= _MAX_NUMBER
    return float(val) if ok else None


def _rate(value, key: str, path: str):
    """A byte or FLOP rate of the file: absent or 0 (not known) as it is, else at least MIN_RATE_PER_S. Why (session 33): a
    hand-edited "bandwidth_bytes_per_s": 1 (meant as 1 TB/s, or GB/s) was read as 1 byte/s and fit printed a GPU
    decoding 0.00000000017 tokens/s, exit 0; the same figure as custom:bandwidth=1B/s is refused."""
    if value and value < MIN_RATE_PER_S:
        unit, example = (("1 MFLOPS", "165000000000000 for 165 TFLOPS") if "flops" in key else
                         ("1 MB/s", "1008000000000 for 1,008 GB/s"))
        raise BadFileError(f"probe file {path}: {key!r} is {value:g}, below {unit}: not a real rate (a unit slip?)",
                           f"write it per second in base units, e.g. {example}; or {_HINT}")
    return value


def _str(obj: dict, key: str) -> str | None:
    val = obj.get(key)
    return val if isinstance(val, str) else None


def _bool(obj: dict, key: str) -> bool | None:
    val = obj.get(key)
    return val if isinstance(val, bool) else None


def _details(raw: object, path: str) -> GpuDetails | None:
    if not isinstance(raw, dict):
        return None
    mig = []
    for m in _list(raw, "mig_instances", path, MAX_MIG_INSTANCES):
        if isinstance(m, dict):
            mig.append(MigInstance(name=without_ids(str(m.get("name", "MIG"))), memory_bytes=_int(m, "memory_bytes", path) or 0,
                                   uuid=_str(m, "uuid")))
    ints = ("index", "sm_count", "gpu_cores", "max_sm_clock_mhz", "max_memory_clock_mhz", "memory_bus_width_bits",
            "pcie_generation", "pcie_width", "nvlink_active_links")
    strs = ("pci_bus_id", "uuid", "serial", "pci_device_id", "driver", "driver_version", "cuda_driver_version",
            "compute_capability", "bandwidth_source", "usable_memory_source")
    return GpuDetails(
        **{k: _int(raw, k, path, required=False) for k in ints},
        **{k: _str(raw, k) for k in strs},
        power_limit_watts=_float(raw, "power_limit_watts"),
        mig_enabled=_bool(raw, "mig_enabled"),
        mig_instances=tuple(mig),
    )


# what the probe writes (cuda, rocm, sycl, metal; 'none' for a GPU that holds no layers) and what a spec sheet or a
# name selects (vulkan, cpu)
_BACKENDS = ("cuda", "rocm", "vulkan", "sycl", "metal", "cpu", "none")


# the vendors the probe writes (docs/schema/probe.schema.json's enum); the backends only one maker's GPUs run (CUDA,
# ROCm); the backend a device without one runs (a hand-written file: its vendor's usual one); the words of a device
# name that say its maker
_VENDORS = ("nvidia", "amd", "apple", "intel", "qualcomm", "generic")
_BACKEND_VENDOR = {"cuda": "nvidia", "rocm": "amd"}
_VENDOR_BACKEND = {"amd": "rocm", "intel": "sycl", "apple": "metal"}
_BRANDS = {"nvidia": "nvidia", "geforce": "nvidia", "quadro": "nvidia", "amd": "amd", "radeon": "amd",
           "intel": "intel", "apple": "apple", "qualcomm": "qualcomm", "adreno": "qualcomm"}


def _vendor_backend(d: dict, name: str, path: str) -> tuple[str, str]:
    """The device's vendor and backend, checked: a vendor the probe writes, a backend llama.cpp has, and both agreeing
    with the maker the name says and with each other (CUDA runs on NVIDIA, ROCm on AMD). Without a backend, the
    vendor's usual one (CUDA for NVIDIA and an unstated vendor). Why: a file saying vendor "amd" for an "NVIDIA GeForce
    RTX 4090" was estimated without a word, an AMD card without a backend as CUDA, and vendor "xyz" (or backend "xyz")
    was printed back in fit's JSON."""
    raw = d.get("vendor", "generic")
    vendor = raw.strip().lower() if isinstance(raw, str) else raw
    if vendor not in _VENDORS:
        raise BadFileError(f"probe file {path}: device vendor {clipped(str(raw))!r} is not one of "
                           f"{', '.join(_VENDORS)}", _HINT)
    makers = {_BRANDS[w] for w in re.findall(r"[a-z]+", name.lower()) if w in _BRANDS}
    maker = makers.pop() if len(makers) == 1 else None
    stated = d.get("backend")
    backend = stated.strip().lower() if isinstance(stated, str) else stated
    if stated is None:  # a generic device takes its name's maker's backend ('Intel GPU' read as CUDA was written back
        backend = _VENDOR_BACKEND.get(maker if vendor == "generic" and maker else vendor, "cuda")  # and then refused)
    elif backend not in _BACKENDS:  # 'xyz' was estimated as CUDA and printed back as 'xyz'
        raise BadFileError(f"probe file {path}: device backend {clipped(str(backend))!r} is not one of "
                           f"{', '.join(_BACKENDS)}", _HINT)
    runs_on = _BACKEND_VENDOR.get(backend) if stated is not None else None
    said, by = (vendor, "vendor") if vendor != "generic" else (runs_on, f"backend {backend!r}")
    if said and maker and maker != said:
        raise BadFileError(f"probe file {path}: device {clipped(name, 60)!r}: its name says {maker}, its {by} {said}",
                           "fix the device's vendor, backend or name, or " + _HINT)
    if vendor != "generic" and runs_on and runs_on != vendor:
        raise BadFileError(f"probe file {path}: device vendor {vendor!r} with backend {backend!r}, which runs on "
                           f"{runs_on} GPUs", "fix the device's vendor or backend, or " + _HINT)
    return vendor, backend


def _at_most(part: int | None, whole: int | None, what: str, of: str, path: str) -> int | None:
    """`part` where it is no more than `whole` (free or GPU-usable memory of the total). Why: a hand-edited probe
    claiming more free than total (RAM 25 GB, 101 GB available) was read as it stood, and `--memory free` then planned
    against the larger figure on a GPU, or capped it silently on RAM; an H200 whose usable_memory_bytes said 5x its
    141 GB 'fit' Llama 3.1 405B at Q4_K_M (248 GB) on the GPU. advisor's own probe never writes one (probe/__init__
    caps available RAM; usable memory is a share of the total), and --gpu-memory above the memory is refused too."""
    if part is not None and whole and part > whole:
        raise BadFileError(f"probe file {path}: {what} ({part / 1e9:.1f} GB) is more than {of} ({whole / 1e9:.1f} GB)",
                           f"fix one of them (free and usable memory are parts of the total), or {_HINT}")
    return part


def _unified(d: dict, name: str, path: str) -> bool:
    """The device's `unified` flag: true, false, or absent / null (false). Why (session 32): it was bool(value), so a
    hand-edited "unified": "false" (a string) read as true, and a discrete card was placed as unified memory unsaid."""
    val = d.get("unified")
    if val is None or isinstance(val, bool):
        return bool(val)
    raise BadFileError(f"probe file {path}: device {clipped(name, 60)!r}: 'unified' must be true or false, not "
                       f"{clipped(json.dumps(val), 20)}", "write it without quotes (\"unified\": false), or " + _HINT)


def _device(d: object, path: str) -> Device:
    if not isinstance(d, dict):
        raise BadFileError(f"probe file {path}: a device is not an object", _HINT)
    name = clipped(without_ids(str(d.get("name", "GPU"))), MAX_FILE_NAME_CHARS)
    vendor, backend = _vendor_backend(d, name, path)
    memory = _int(d, "memory_bytes", path) or 0
    return Device(
        vendor=vendor,
        name=name,
        memory_bytes=memory,
        free_memory_bytes=_at_most(_int(d, "free_memory_bytes", path, required=False), memory,
                                   f"device {name!r} free_memory_bytes", "its memory_bytes", path),
        bandwidth_bytes_per_s=_rate(_int(d, "bandwidth_bytes_per_s", path, required=False), "bandwidth_bytes_per_s",
                                    path),
        fp16_flops=_rate(_float(d, "fp16_flops"), "fp16_flops", path),
        fp16_acc16_flops=_rate(_float(d, "fp16_acc16_flops"), "fp16_acc16_flops", path),
        unified=_unified(d, name, path),
        usable_memory_bytes=_at_most(_int(d, "usable_memory_bytes", path, required=False), memory,
                                     f"device {name!r} usable_memory_bytes", "its memory_bytes", path),
        matched_profile=_str(d, "matched_profile"),
        backend=backend,
        details=_details(d.get("details"), path),
        vulkan_driver=_vulkan_driver(d, path),
        sycl_build=_sycl_build(d, backend, path),
    )


# the Vulkan drivers fit writes back (hardware.devices[].vulkan_driver): Intel's mesa / windows, AMD's radv / amdvlk /
# windows (estimate/vulkan_intel.py, vulkan_amd.py); a file that names one keeps it
_VULKAN_DRIVERS = ("mesa", "windows", "radv", "amdvlk")


def _word(d: dict, key: str, allowed: tuple[str, ...], path: str) -> str:
    """A device's optional one-word field (vulkan_driver, sycl_build): '' when absent, else one of `allowed`, lowered."""
    raw = d.get(key)
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str) or raw.strip().lower() not in allowed:
        raise BadFileError(f"probe file {path}: {key} {clipped(str(raw))!r} is not one of {', '.join(allowed)}", _HINT)
    return raw.strip().lower()


def _vulkan_driver(d: dict, path: str) -> str:
    return _word(d, "vulkan_driver", _VULKAN_DRIVERS, path)


# the GGML_SYCL_F16 build words fit writes back (hardware.devices[].sycl_build, catalog/backend_words.SYCL_BUILD_WORDS:
# 'arc b580 sycl fp32'). The probe cannot know it (it sees the GPU, not how llama.cpp was configured), so it never
# writes one; a saved probe file says it by hand, as vulkan_driver (docs/cli.md). Why: the word had no way into
# --hardware box.json (session 31 review), and it moves an Intel GPU's prompt 1.5-3.4x (estimate/sycl_path.py).
_SYCL_BUILDS = ("fp32", "fp16")


def _sycl_build(d: dict, backend: str, path: str) -> str:
    build = _word(d, "sycl_build", _SYCL_BUILDS, path)
    if build and backend != "sycl":
        raise BadFileError(f"probe file {path}: sycl_build {build!r} on a device whose backend is "
                           f"{backend!r} (it is llama.cpp's SYCL build switch, GGML_SYCL_F16)",
                           "give the device \"backend\": \"sycl\" (an Intel GPU), or drop sycl_build")
    return build


def _list(data: dict, key: str, path: str, limit: int = MAX_LIST_ITEMS) -> list:
    raw = data.get(key, [])
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadFileError(f"probe file {path}: {key!r} must be a list", _HINT)
    if len(raw) > limit:
        raise BadFileError(f"probe file {path}: {key!r} lists {len(raw)} entries, more than the limit of {limit}",
                           "a real machine has far fewer (docs/cli.md, Limits)")
    return raw


def _measured(raw: object, path: str) -> dict | None:
    """The `measured` block of a probe saved with --measure (schema 1.3+): bandwidth, GEMM rate, threads."""
    if not isinstance(raw, dict):
        return None
    return {"ram_bandwidth_bytes_per_s": _rate(_int(raw, "ram_bandwidth_bytes_per_s", path),
                                               "measured.ram_bandwidth_bytes_per_s", path),
            "matmul_flops": _rate(_float(raw, "matmul_flops"), "measured.matmul_flops", path),
            "threads": _int(raw, "threads", path, required=False),
            "seconds": _float(raw, "seconds"), "method": _str(raw, "method") or "", "clock_hz": _float(raw, "clock_hz"),
            "copy_bandwidth_bytes_per_s": _rate(_int(raw, "copy_bandwidth_bytes_per_s", path, required=False),
                                                "measured.copy_bandwidth_bytes_per_s", path),
            "thread_bandwidth_bytes_per_s": _rate(_int(raw, "thread_bandwidth_bytes_per_s", path, required=False),
                                                  "measured.thread_bandwidth_bytes_per_s", path)}


def _clock(data: dict) -> float | None:
    """cpu_clock_hz of a probe file (schema 1.9): a core clock between 100 MHz and 10 GHz, else not used."""
    v = _float(data, "cpu_clock_hz")
    return v if v and 1e8 <= v <= 1e10 else None


def _threads(data: dict, path: str) -> int | None:
    """cpu_threads of a probe file: 1 to 65,536 (more is not a CPU llama.cpp runs on), else not used."""
    v = _int(data, "cpu_threads", path, required=False)
    return v if v and v <= 65536 else None


def _hybrid(data: dict, path: str, threads: int | None) -> dict:
    """cpu_e_cores / cpu_e_clock_hz / cpu_flops_per_cycle / cpu_e_flops_per_cycle of a probe file (schema 1.13): used
    only where they make sense (fewer efficiency cores than threads, a clock of 100 MHz - 10 GHz, 8 to 64 FLOP per
    cycle), else dropped."""
    e = _int(data, "cpu_e_cores", path, required=False)
    e_clock = _float(data, "cpu_e_clock_hz")
    fpc = _int(data, "cpu_flops_per_cycle", path, required=False)
    e_fpc = _int(data, "cpu_e_flops_per_cycle", path, required=False)
    ok_e = bool(e and threads and 1 <= e < threads)
    return {"cpu_e_cores": e if ok_e else None,
            "cpu_e_clock_hz": e_clock if ok_e and e_clock and 1e8 <= e_clock <= 1e10 else None,
            "cpu_flops_per_cycle": fpc if fpc in (8, 16, 32, 64) else None,
            "cpu_e_flops_per_cycle": e_fpc if ok_e and e_fpc in (8, 16, 32) else None}


def report_from_probe(data: object, path: str = "<probe>") -> ProbeReport:
    if not isinstance(data, dict):
        raise BadFileError(f"probe file {path} is not a JSON object", "save it with 'advisor probe --json > box.json'")
    version = data.get("schema_version")
    if isinstance(version, (int, float)) and not isinstance(version, bool) and abs(version) < 1e6:
        # {"schema_version": 9} (a hand-written file): refused as before (session 18: the schema's is text), but named
        raise BadFileError(f"probe file {path} has schema_version {version!r}, a number: saved probes carry it as text "
                           f"(\"{SUPPORTED_MAJOR}.x.y\"), and this advisor reads {SUPPORTED_MAJOR}.x",
                           "save it with 'advisor probe --json'")
    # a 5,000-digit major version would reach int()'s digit limit: a real one has 1-3 digits
    if not isinstance(version, str) or not (version.split(".")[0].isascii() and version.split(".")[0].isdigit()) or len(version.split(".")[0]) > 6:
        raise BadFileError(f"probe file {path} has no readable schema_version", "save it with 'advisor probe --json'")
    if int(version.split(".")[0]) != SUPPORTED_MAJOR:
        raise BadFileError(
            f"probe file {path} has schema_version {version}, this advisor reads {SUPPORTED_MAJOR}.x",
            "re-run 'advisor probe --json' with this version",
        )
    if "devices" not in data and "ram_bytes" not in data:
        # every advisor --json carries a schema_version of the same major: `fit --hardware fit.json` said "'ram_bytes'
        # must be a non-negative number", as if a probe had a bad field
        raise BadFileError(f"probe file {path} has neither devices nor ram_bytes: it is not a saved probe (the --json "
                           "of another advisor command?)", "save one with 'advisor probe --json > box.json'")
    devices, others = [], []
    for raw in _list(data, "devices", path, MAX_DEVICE_ENTRIES):
        dev = _device(raw, path)
        # presence-only devices (no memory figure) cannot hold layers
        (devices if dev.memory_bytes else others).append(dev)
    others += [_device(raw, path) for raw in _list(data, "other_devices", path, MAX_DEVICE_ENTRIES)]
    cpu_raw = data.get("cpu")
    if cpu_raw is None:
        cpu_raw = {}
    if not isinstance(cpu_raw, dict):  # session 32: "cpu": "x" and "flags": "avx2" were dropped without a word, so
        raise BadFileError(f"probe file {path}: 'cpu' must be an object", _HINT)  # CPU layers ran as if without AVX2
    flags = _list(cpu_raw, "flags", path)
    cpu = CpuInfo(
        name=clipped(without_ids(str(cpu_raw.get("name", ""))), MAX_FILE_NAME_CHARS), arch=str(cpu_raw.get("arch") or ""),
        physical_cores=_int(cpu_raw, "physical_cores", path, required=False),
        logical_cores=_int(cpu_raw, "logical_cores", path, required=False),
        sockets=_int(cpu_raw, "sockets", path, required=False),
        flags=tuple(str(f) for f in flags), source=str(cpu_raw.get("source") or ""),
        matched_profile=_str(cpu_raw, "matched_profile"),
    )
    machine = Machine(
        name=clipped(without_ids(str(data.get("name") or path)), MAX_FILE_NAME_CHARS),
        devices=tuple(devices),
        ram_bytes=_int(data, "ram_bytes", path) or 0,
        available_ram_bytes=_at_most(_int(data, "available_ram_bytes", path, required=False),
                                     _int(data, "ram_bytes", path) or 0, "available_ram_bytes", "ram_bytes", path),
        cpu_name=cpu.name,
        ram_bandwidth_bytes_per_s=_rate(_int(data, "ram_bandwidth_bytes_per_s", path, required=False),
                                        "ram_bandwidth_bytes_per_s", path),
        cpu_flops=_rate(_float(data, "cpu_flops"), "cpu_flops", path),
        source="file",
        interconnect=_str(data, "interconnect") or "",
        other_devices=tuple(others),
        cpu=cpu,
        physical_ram_bytes=_int(data, "physical_ram_bytes", path, required=False),
        cgroup_memory_limit_bytes=_int(data, "cgroup_memory_limit_bytes", path, required=False),
        container=_bool(data, "container"),
        host_speed_source=_str(data, "host_speed_source") or "",
        measured_host=_measured(data.get("measured"), path),
        cpu_clock_hz=_clock(data),
        cpu_threads=_threads(data, path),
        cpu_thread_bandwidth_bytes_per_s=_rate(_int(data, "cpu_thread_bandwidth_bytes_per_s", path, required=False),
                                               "cpu_thread_bandwidth_bytes_per_s", path) or None,
        **_hybrid(data, path, _threads(data, path)),
    )
    warnings = tuple(without_ids(w) for w in _list(data, "warnings", path) if isinstance(w, str))
    return ProbeReport(machine=machine, warnings=warnings, os=str(data.get("os") or ""))


def machine_from_probe(data: object, path: str = "<probe>") -> Machine:
    return report_from_probe(data, path).machine


def load_probe_file(path: str) -> Machine:
    text = read_regular(path, MAX_PROBE_FILE_BYTES, "probe file", "save it with 'advisor probe --json > box.json'")
    if not text.strip():  # `advisor probe --measure --json > box.json` that failed (no numpy) leaves an empty file
        raise BadFileError(f"probe file {path} is empty (the command that wrote it failed?)",
                           "save it again with 'advisor probe --json > box.json' and check that it exits 0")
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _once(pairs, path, "probe file"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: '[[[[...' nested too deep
        raise BadFileError(f"probe file {path} is not valid JSON", "save it with 'advisor probe --json > box.json'") from None
    machine = machine_from_probe(data, path)
    if machine.name == "this machine":  # a probe saved elsewhere: name it by its file
        from ..record import replace

        machine = replace(machine, name=f"{path} (probe)")
    return machine


def _once(pairs: list, path: str, kind: str = "hardware file") -> dict:
    """A JSON object whose keys are each given once (json.loads keeps the last of a duplicate silently: a probe file
    edited by hand to '"ram_bytes": 64e9, ..., "ram_bytes": 16e9' was sized with the second, unsaid)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise BadFileError(f"{kind} {path} gives {clipped(key)!r} twice", "give each key once")
    return out


def load_hardware_file(path: str) -> Machine:
    """A saved probe (JSON with schema_version), or a spec sheet in YAML/JSON with the custom: keys (vram, bandwidth,
    fp16, ...; catalog/custom_hw.py; a CPU-only box: cores, clock, simd, ram, bandwidth; catalog/custom_cpu.py)."""
    sheet = spec_sheet(path)
    if sheet is None:
        return load_probe_file(path)
    from ..catalog.hardware import machine_from_profile

    profile, count = sheet
    ram = profile.raw.get("ram_bytes")
    return machine_from_profile(profile, count, int(ram) if ram else None)


def spec_sheet(path: str):
    """(Profile, count) of a spec-sheet file (YAML, or JSON with vram/cores and no schema_version), or None for a saved
    probe; `advisor cost` prices the first from its tdp/price keys, `fit` places on either."""
    # a regular file of at most 1 MiB, whatever its kind: a FIFO must not block, /dev/zero not be read forever
    # a YAML spec sheet is a few lines; PyYAML is pure Python (60,000 keys in 1 MiB took 3.5 s of CPU)
    is_yaml = path.lower().endswith((".yaml", ".yml"))
    raw = read_regular(path, MAX_SPEC_YAML_BYTES if is_yaml else MAX_PROBE_FILE_BYTES, "hardware file",
                       "give a saved probe (.json) or a spec sheet (.yaml)")
    if not is_yaml:
        try:
            head = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            head = None  # load_probe_file says what is wrong with it
        if not (isinstance(head, dict) and "schema_version" not in head and ("vram" in head or "cores" in head)):
            return None
        data = json.loads(raw, object_pairs_hook=lambda pairs: _once(pairs, path))  # a spec: each key once
    else:
        from .spec_yaml import load_spec_yaml

        data = load_spec_yaml(raw, path)
    if not isinstance(data, dict):
        raise BadFileError(f"hardware file {path} is not a mapping of spec keys", "e.g. vram: 16GB, bandwidth: 448GB/s")
    from ..catalog.custom_hw import custom_profile

    return custom_profile(data, path)
