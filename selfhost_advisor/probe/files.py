"""Read a saved `advisor probe --json` file back into a Machine (for --hardware FILE)."""
from __future__ import annotations

import json

from ..domain import Device, Machine
from ..errors import BadFileError

SUPPORTED_MAJOR = 1


def _int(obj: dict, key: str, path: str, required: bool = True) -> int | None:
    val = obj.get(key)
    if val is None and not required:
        return None
    if isinstance(val, bool) or not isinstance(val, (int, float)) or val < 0:
        raise BadFileError(f"probe file {path}: {key!r} must be a non-negative number", "re-run 'advisor probe --json'")
    return int(val)


def machine_from_probe(data: object, path: str = "<probe>") -> Machine:
    if not isinstance(data, dict):
        raise BadFileError(f"probe file {path} is not a JSON object", "save it with 'advisor probe --json > box.json'")
    version = data.get("schema_version")
    if not isinstance(version, str) or not version.split(".")[0].isdigit():
        raise BadFileError(f"probe file {path} has no schema_version", "save it with 'advisor probe --json'")
    if int(version.split(".")[0]) != SUPPORTED_MAJOR:
        raise BadFileError(
            f"probe file {path} has schema_version {version}, this advisor reads {SUPPORTED_MAJOR}.x",
            "re-run 'advisor probe --json' with this version",
        )
    raw_devices = data.get("devices", [])
    if not isinstance(raw_devices, list):
        raise BadFileError(f"probe file {path}: 'devices' must be a list", "re-run 'advisor probe --json'")
    devices = []
    for d in raw_devices:
        if not isinstance(d, dict):
            raise BadFileError(f"probe file {path}: a device is not an object", "re-run 'advisor probe --json'")
        memory = _int(d, "memory_bytes", path)
        if not memory:
            continue  # presence-only devices (no memory figure) cannot hold layers
        flops = _float(d.get("fp16_flops"))
        devices.append(
            Device(
                vendor=str(d.get("vendor", "generic")),
                name=str(d.get("name", "GPU")),
                memory_bytes=memory,
                free_memory_bytes=_int(d, "free_memory_bytes", path, required=False),
                bandwidth_bytes_per_s=_int(d, "bandwidth_bytes_per_s", path, required=False),
                fp16_flops=flops,
                fp16_acc16_flops=_float(d.get("fp16_acc16_flops")),
                unified=bool(d.get("unified", False)),
                usable_memory_bytes=_int(d, "usable_memory_bytes", path, required=False),
                matched_profile=d.get("matched_profile") if isinstance(d.get("matched_profile"), str) else None,
                backend=str(d.get("backend", "cuda")),
            )
        )
    cpu = data.get("cpu") if isinstance(data.get("cpu"), dict) else {}
    return Machine(
        name=str(data.get("name") or path),
        devices=tuple(devices),
        ram_bytes=_int(data, "ram_bytes", path) or 0,
        available_ram_bytes=_int(data, "available_ram_bytes", path, required=False),
        cpu_name=str(cpu.get("name", "")),
        ram_bandwidth_bytes_per_s=_int(data, "ram_bandwidth_bytes_per_s", path, required=False),
        cpu_flops=_float(data.get("cpu_flops")),
        source="file",
    )


def _float(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 else None


def load_probe_file(path: str) -> Machine:
    try:
        with open(path, "rb") as fh:
            text = fh.read(16 * 2**20)
    except OSError as exc:
        raise BadFileError(f"cannot read probe file {path}: {exc.strerror or exc}", "check the path") from None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise BadFileError(f"probe file {path} is not valid JSON", "save it with 'advisor probe --json > box.json'") from None
    return machine_from_probe(data, path)
