"""Field parsers shared by the spec-sheet hardware forms: catalog/custom_hw.py (a GPU) and catalog/custom_cpu.py
(a CPU-only box). Each refusal is one BadOptionError naming the key (exit 2)."""
from __future__ import annotations

import math
import re

from ..errors import BadOptionError

PREFIX = "custom:"
_RATE = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:e[+-]?\d+)?)\s*([kmgtp]?)\s*(b/s|bps|flops|ops)?\s*$", re.I)
_SCALE = {"": None, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
_HINT = 'e.g. --hardware "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"'


def _bad(spec: str, what: str) -> BadOptionError:
    return BadOptionError(f"custom hardware {spec!r}: {what}", _HINT)


def _rate(spec: str, key: str, text: str, default_scale: float, unit: str) -> float:
    """'448GB/s' -> 448e9, '448' -> 448 x default_scale; '60TFLOPS' -> 60e12."""
    m = _RATE.match(str(text))
    if not m:
        raise _bad(spec, f"{key}={text!r} is not a number with a unit such as {unit}")
    value = float(m.group(1))
    scale = _SCALE[m.group(2).lower()] or (1.0 if m.group(3) else default_scale)
    out = value * scale
    if not math.isfinite(out) or out <= 0:
        raise _bad(spec, f"{key} must be positive, got {text!r}")
    if out > 1e18:
        raise _bad(spec, f"{key}={text!r} is out of range")
    return out


def _positive_int(spec: str, key: str, text: object, limit: int) -> int:
    try:
        n = int(str(text).strip())
    except ValueError:
        raise _bad(spec, f"{key}={text!r} is not a whole number") from None
    if not 1 <= n <= limit:
        raise _bad(spec, f"{key} must be between 1 and {limit}, got {n}")
    return n


def parse_pairs(spec: str) -> dict[str, str]:
    body = spec[len(PREFIX):] if spec.lower().startswith(PREFIX) else spec
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not value.strip():
            raise _bad(spec, f"{part!r} is not key=value")
        pairs[key.strip().lower()] = value.strip()
    return pairs
