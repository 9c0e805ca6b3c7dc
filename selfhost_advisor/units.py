"""Parse and format sizes and counts; GB (10^9) and GiB (2^30) are never confused.

"24GB" is 24 * 10^9 bytes, "24GiB" is 24 * 2^30 bytes. A size needs its unit: a bare "24" is refused with the
fix (issue 19: `--vram 24` was read as 24 bytes); bytes are written "24B".
Token counts accept "2e9", "500M", "1.5B", "2_000_000". Every number (a count, a size, a context) takes Python's
digit grouping, the rule the integer options already follow (int('1_000')): one underscore between two digits
("2_000_000", "24_000MB", "8_192"); "1000_", "1__000" and "_1000" are malformed (audit33b: counts took any).
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from .errors import BadNumberError, BadSizeError
from .limits import MAX_CONTEXT, MAX_NUMBER_CHARS

if TYPE_CHECKING:
    from fractions import Fraction

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
# Patterns, compiled by re on first use (re caches them): `fit -H rtx4090` parses no size (~0.3 ms of start-up).
_DIGITS = r"[0-9](?:_?[0-9])*"  # Python's grouping: an underscore only between two digits
_NUMBER = rf"({_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE]([+-]?{_DIGITS}))?"
_SIZE_RE = rf"^\s*{_NUMBER}\s*([a-zA-Z]*)\s*$"
# the same number without groups, for the spec sheet's rates and watts (float() reads its underscores as Python does)
NUMBER_TEXT = rf"(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"

_COUNT_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_COUNT_RE = rf"^\s*{_NUMBER}\s*([a-zA-Z]?)\s*$"


def _value(mantissa: str, exponent: str | None, factor: int, limit: int) -> Fraction | None:
    """mantissa x 10^exponent x factor exactly (counts above 2^53 stay exact), or None when above `limit` or absurd.

    A float screens the range first, so "1e99999999999" never builds a 10^99999999999 integer. Digit-group
    underscores (already checked by _NUMBER) are dropped here.
    """
    from fractions import Fraction  # here, not at the top: fractions loads decimal (2 ms of every start-up)

    mantissa, exponent = mantissa.replace("_", ""), exponent.replace("_", "") if exponent else exponent

    if len(mantissa) > 40:  # no one writes 40 digits; Fraction would refuse 4300 of them with ValueError
        return None
    approx = float(f"{mantissa}e{exponent}" if exponent else mantissa) * factor
    if not math.isfinite(approx) or approx > limit * 1.01:
        return None
    if approx < 1e-3:  # far below one unit: its exact value only matters for being zero or not
        return Fraction(0) if not mantissa.strip("0.") else Fraction(1, 10**6)
    return Fraction(mantissa) * Fraction(10) ** int(exponent or 0) * factor


def _bytes_as_written(n: int) -> str:
    """A byte count as a user would write it back: 16GiB when it is a whole number of GiB, else 16.1GB or 512MB."""
    if n % 2**30 == 0:
        return f"{n // 2**30}GiB"
    return f"{n / 10**9:.4g}GB" if n >= 10**9 else f"{n / 10**6:.4g}MB"


def parse_size(text: str, *, what: str = "size") -> int:
    """Parse '24GB', '24 GiB', '1.5T', '512MiB' into integer bytes (GB = 10^9, GiB = 2^30)."""
    from .termsafe import clipped

    shown = clipped(str(text))  # a 2**4000 from a spec file was quoted whole
    match = re.match(_SIZE_RE, str(text))
    unit = match.group(3).lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise BadSizeError(
            f"malformed {what} {shown!r}",
            "write a number with a unit such as 24GB (10^9 bytes) or 24GiB (2^30 bytes)",
        )
    if not match.group(3):
        n = clipped(str(text).strip(), 20)
        as_bytes = _value(match.group(1), match.group(2), 1, 2**60)
        if as_bytes is not None and as_bytes >= 10**6:
            # a YAML spec's `vram: 16000000000` or a script's byte count: no memory is a million GB ('write
            # 16000000000GB' was the hint), so the reading offered is the byte count's
            written = _bytes_as_written(round(as_bytes))
            raise BadSizeError(f"{what} {shown!r} has no unit",
                               f"as a byte count it is {written}: write {written}; a bare number is not read as bytes")
        raise BadSizeError(f"{what} {shown!r} has no unit",
                           f"write {n}GB (10^9 bytes) or {n}GiB (2^30 bytes); a bare number is not read as bytes")
    result = _value(match.group(1), match.group(2), _SIZE_UNITS[unit], 2**60)
    if result is None or not 1 <= round(result) <= 2**60:
        raise BadSizeError(f"{what} {shown!r} is out of range", "give a positive size such as 24GB")
    return round(result)


def parse_count(text: str, *, what: str = "count", allow_zero: bool = False) -> int:
    """Parse '2e9', '500M', '1.5B', '2_000_000' into a non-negative integer."""
    from .termsafe import clipped

    shown = clipped(str(text))
    raw = str(text).strip()
    if raw.startswith("-"):
        raise BadNumberError(f"{what} {shown!r} is negative", f"give a positive {what} such as 2e9 or 500M")
    match = re.match(_COUNT_RE, raw)
    suffix = match.group(3).lower() if match else ""
    if not match or suffix not in _COUNT_SUFFIX:
        raise BadNumberError(f"malformed {what} {shown!r}", f"write a number such as 2e9, 500M or 1.5B")
    result = _value(match.group(1), match.group(2), _COUNT_SUFFIX[suffix], 10**18)
    if result is None or round(result) > 10**18:
        raise BadNumberError(f"{what} {shown!r} is out of range", f"give a {what} below 1e18")
    if round(result) < 1 and not (allow_zero and result == 0):
        raise BadNumberError(f"{what} {shown!r} must be at least 1", f"give a positive {what}")
    return round(result)


def parse_context(text: str, max_context: int | None = None) -> int:
    """Parse a context length: '8192', '32k' (=32768, tokens use binary k), '1M' (=1048576, binary M: the 10M of
    Llama 4 Scout is its config's 10485760), or 'max'."""
    raw = str(text).strip().lower()
    if raw == "max":
        if not max_context:
            raise BadNumberError("--context max needs a model with a known maximum context", "give a number")
        return int(max_context)
    if len(raw) > MAX_NUMBER_CHARS:  # checked before int(): 5,000 digits would pass Python's digit limit
        raise BadNumberError(f"context {raw[:20]}... ({len(raw)} characters) is out of range",
                             f"give a value between 1 and {MAX_CONTEXT >> 20}M tokens")
    if raw.isascii() and re.fullmatch(rf"{_DIGITS}[km]?", raw):  # 8_192 as 8192, as counts and sizes read it
        raw = raw.replace("_", "")
    if raw.isascii() and raw[-1:] in ("k", "m") and raw[:-1].isdigit():
        value = int(raw[:-1]) * (1024 if raw[-1] == "k" else 1024 * 1024)
    elif raw.isascii() and raw.isdigit():
        value = int(raw)
    else:
        raise BadNumberError(
            f"malformed context {text!r}", "give a token count such as 8192, 32k, 1M or max"
        )
    if value < 1 or value > MAX_CONTEXT:
        raise BadNumberError(f"context {text!r} is out of range", f"give a value between 1 and {MAX_CONTEXT >> 20}M tokens")
    return value


def gb(n_bytes: float) -> str:
    """Format bytes in decimal GB with the unit stated, e.g. '42.5 GB'."""
    if n_bytes >= 10**12:
        return f"{n_bytes / 10**12:.2f} TB"
    if n_bytes >= 10**9:
        return f"{n_bytes / 10**9:.1f} GB"
    return f"{n_bytes / 10**6:.0f} MB"


def tok_rate(x: float, fmt: str = ".1f") -> str:
    """A tokens/s figure at `fmt`, or at two significant decimal digits where `fmt` would print a positive rate as
    zero: a box from a spec of a few MB/s decodes at 0.000093 tokens/s, which '.1f' printed as '0.0', read as no
    speed at all."""
    text = format(x, fmt)
    if not (x > 0 and float(text.replace(",", "")) == 0):
        return text
    return f"{x:.{max(1, 1 - math.floor(math.log10(x)))}f}"
