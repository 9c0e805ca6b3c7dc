"""The curated hardware profiles (data/hardware.yaml) and their lookup by id, name or alias.

Below hardware.py, hw_names.py and custom_hw.py (issue 19, no import circles): the name resolvers build on these
profiles and hardware.py builds on the resolvers, so the table they all read lives here.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..limits import MAX_GPUS
from ..record import record
from .data import load

_SEPARATORS = re.compile(r"[\s_]+")
MAX_UNITS = MAX_GPUS  # one limit for "Nx", --gpus and a probe file's devices (limits.py)


@record
class Profile:
    id: str
    name: str
    kind: str  # gpu | apple | apu | cpu | host
    vendor: str
    backend: str
    memory_bytes: int
    bandwidth_bytes_per_s: int | None
    fp16_flops: float | None
    fp16_acc16_flops: float | None
    tdp_watts: float | None
    price_usd: float | None
    unified: bool
    raw: dict


def _norm(text: str) -> str:
    return _SEPARATORS.sub("-", text.strip().lower())


def _profile(e: dict) -> Profile:
    bw = e.get("memory_bandwidth_gbps")
    tf = e.get("fp16_tflops")
    return Profile(
        id=e["id"],
        name=e.get("name", e["id"]),
        kind=e.get("kind", "gpu"),
        vendor=e.get("vendor", "generic"),
        backend=e.get("backend", "cuda"),
        memory_bytes=int(e["memory_bytes"]),
        bandwidth_bytes_per_s=int(float(bw) * 1e9) if bw else None,
        fp16_flops=float(tf) * 1e12 if tf else None,
        fp16_acc16_flops=float(e["fp16_acc16_tflops"]) * 1e12 if e.get("fp16_acc16_tflops") else None,
        tdp_watts=float(e["tdp_watts"]) if e.get("tdp_watts") else None,
        price_usd=float(e["price_usd"]) if e.get("price_usd") else None,
        unified=bool(e.get("unified", e.get("kind") in ("apple", "apu"))),
        raw=e,
    )


@lru_cache(maxsize=1)
def profiles() -> tuple[Profile, ...]:
    return tuple(_profile(e) for e in load("hardware")["hardware"])


@lru_cache(maxsize=1)
def _index() -> dict[str, Profile]:
    index: dict[str, Profile] = {}
    for p in profiles():
        for key in (p.id, p.name, *(p.raw.get("aliases") or ())):
            index.setdefault(_norm(str(key)), p)
            index.setdefault(_norm(str(key)).replace("-", ""), p)
    return index


def find_profile(name: str) -> Profile | None:
    key = _norm(name)
    index = _index()
    return index.get(key) or index.get(key.replace("-", ""))
