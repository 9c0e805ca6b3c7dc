"""Field parsers shared by the spec-sheet hardware forms: catalog/custom_hw.py (a GPU) and catalog/custom_cpu.py
(a CPU-only box). Each refusal is one BadOptionError naming the key (exit 2)."""
from __future__ import annotations

import math
import re

from ..errors import BadOptionError
from ..lazy_re import lazy
from ..limits import MIN_RATE_PER_S
from ..termsafe import clipped, without_ids
from ..units import NUMBER_TEXT

PREFIX = "custom:"
# "2x custom:..." / "2 x custom:...": the count before a spec sheet, as before a catalog name ("2x rtx4090")
# '2x custom:...', and 'dual custom:...' / 'quad custom:...' as catalog names take them (hardware._COUNT_WORD)
_COUNTED = lazy(r"^\s*(?:([0-9]+)\s*[x\u00d7*]|(dual|quad)[\s-])\s*(custom:.*)$", re.I | re.S)
_RATE = lazy(rf"^\s*([-+]?{NUMBER_TEXT})\s*([kmgtp]?)\s*(b/s|bps|flops|ops)?\s*$", re.I)
_SCALE = {"": None, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
_HINT = 'e.g. --hardware "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"'
CPU_HINT = 'e.g. --hardware "custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600"'
# what a spec value may be: one YAML / JSON scalar (a list or mapping is refused before anything turns it into text:
# a YAML file's aliases make a 300-byte list of 9**9 strings)
_SCALARS = (str, int, float, bool, type(None))


def is_custom(text: str) -> bool:
    """A spec sheet typed inline: 'custom:...' or a count before it ('2x custom:...')."""
    return text.strip().lower().startswith(PREFIX) or _COUNTED.match(text) is not None


def refuse_misplaced_custom(text: str) -> None:
    """'-2x custom:...', '2x 2x custom:...', 'nanx custom:...': 'custom:' inside a --hardware that is no spec sheet
    (nor an existing file) said 'cannot read hardware file' (the '/' of GB/s) or 'unknown hardware'; name the form."""
    import os

    if PREFIX in text.lower() and not is_custom(text) and not os.path.exists(text):
        short = clipped(text)
        raise BadOptionError(f"hardware {short!r} is not a spec sheet: 'custom:' must start it, after at most a GPU "
                             "count", "e.g. --hardware \"2x custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS\"")


def split_count(spec: str) -> tuple[int | None, str]:
    """'2x custom:vram=...' and 'dual custom:vram=...' -> (2, 'custom:vram=...'); 'custom:...' -> (None, 'custom:...')."""
    m = _COUNTED.match(spec)
    if not m:
        return None, spec.strip()
    digits = m.group(1)  # bounded before int(): 5,000 digits pass Python's digit limit
    if digits is None:
        return {"dual": 2, "quad": 4}[m.group(2).lower()], m.group(3)
    return (int(digits) if len(digits) <= 6 else 10**6), m.group(3)


def spec_name(fields: dict, default: str) -> str:
    """The sheet's name= as fit, serve and cost print it (or `default`): whitespace folded, at most 80 characters,
    printable characters only, and a GPU UUID never printed (termsafe.without_ids)."""
    name = " ".join(str(fields.get("name") or default).split())[:80]
    return without_ids("".join(c for c in name if c.isprintable()))


def _bad(spec: str, what: str, hint: str = _HINT) -> BadOptionError:
    """The one-line refusal of a spec sheet; a value quoted in `what` over 120 characters is cut to 60 (a 2**4000 in
    a JSON file or 5,000 digits inline came back whole)."""
    what = re.sub(r"'[^'\n]{121,}'|\"[^\"\n]{121,}\"", lambda m: repr(clipped(m.group()[1:-1])), what)
    return BadOptionError(f"custom hardware {clipped(spec, 120)!r}: {what}", hint)


def spec_keys(fields: dict, spec: str) -> dict[str, object]:
    """The fields with lower-case keys; a key given twice (`Cores` and `cores`) or a value that is not one scalar is
    refused naming the key, since either way the box priced might not be the one meant."""
    out: dict[str, object] = {}
    for k, v in fields.items():
        key = str(k).strip().lower()
        if key in out:
            raise _bad(spec, f"{key!r} is given twice", "give each key once")
        if not isinstance(v, _SCALARS):
            raise _bad(spec, f"{key} must be one value (a number or a text), not a {type(v).__name__}")
        out[key] = v
    return out


def _rate(spec: str, key: str, text: str, default_scale: float, unit: str, minimum: float = MIN_RATE_PER_S) -> float:
    """'448GB/s' -> 448e9, '448' -> 448 x default_scale; '60TFLOPS' -> 60e12. Below `minimum` (1 MB/s, 1 MFLOPS: a
    unit slip such as 1e-300 or '1flops', which priced a box at 0.0 tok/s) or above 1e18 is refused."""
    m = _RATE.match(str(text))
    if not m:
        raise _bad(spec, f"{key}={text!r} is not a number with a unit such as {unit}")
    value = float(m.group(1))
    scale = _SCALE[m.group(2).lower()] or (1.0 if m.group(3) else default_scale)
    out = value * scale
    if out <= 0:
        raise _bad(spec, f"{key} must be positive, got {text!r}")
    if not math.isfinite(out) or out > 1e18 or out < minimum:  # 1e400GB/s overflows to inf: too large, not negative
        raise _bad(spec, f"{key}={text!r} is out of range (give it with its unit, e.g. {unit})")
    return out


def _size(spec: str, key: str, text: object) -> int:
    """A memory size ('64GB', '24GiB'; units.parse_size); zero or negative is refused naming the key."""
    from ..units import parse_size

    size_text = str(text).strip()
    if re.match(r"^-|^(?=\.?0)0*\.?0*\s*[a-z]*$", size_text, re.I):  # '0GB', '.0', '-5GB'; not 'True' or 'sixteen
        raise _bad(spec, f"{key} must be positive, got {size_text!r}")
    return parse_size(size_text, what=f"custom {key}")


def _positive_int(spec: str, key: str, text: object, limit: int) -> int:
    try:
        n = int(str(text).strip())
    except ValueError:
        raise _bad(spec, f"{key}={text!r} is not a whole number") from None
    if not 1 <= n <= limit:
        raise _bad(spec, f"{key} must be between 1 and {limit}, got {n}")
    return n


# the digits after a thousands comma (price=$2,500 split at its comma): parse_pairs names it, cost/run._boxes rejoins it
THOUSANDS_GROUP = lazy(r"\d{3}(\.\d*)?")


def parse_pairs(spec: str) -> dict[str, str]:
    body = spec[len(PREFIX):] if spec.lower().startswith(PREFIX) else spec
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in body.split(","))):
        key, sep, value = part.partition("=")
        if not sep and pairs and THOUSANDS_GROUP.fullmatch(part):  # price=$2,500: the comma of a thousands separator
            raise _bad(spec, f"the comma in '{list(pairs)[-1]}=...,{part}' splits the spec (commas separate keys)",
                       "write the number without thousands separators, e.g. price=2500")
        if not sep or not value.strip():
            raise _bad(spec, f"{part!r} is not key=value")
        key = key.strip().lower()
        if key in pairs:
            raise _bad(spec, f"{key!r} is given twice", "give each key once")
        pairs[key] = value.strip()
    return pairs
