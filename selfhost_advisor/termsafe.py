"""Untrusted text made safe for a terminal: the one helper every text renderer and the error line use.

Why: a GGUF's general.name, a name in a probe file, a Hub file name or a path is chosen by whoever wrote the file.
Printed as is, "\\x1b]0;...\\x07" retitles the user's terminal and "\\x1b[2J" clears it; in rich output "[/]" is
markup (a crash) and "[link=...]" a hyperlink. Control characters (C0, DEL, C1, the bidirectional marks and overrides
that reorder what is shown, and the line / paragraph separators U+2028 / U+2029 that end a line for str.splitlines)
are shown escaped (\\x1b, \\u202e); `markup` also escapes rich's markup. JSON output keeps the
exact strings, the same characters written as \\u escapes (render/jsonout.dumps).
"""
from __future__ import annotations

import re

# Patterns, compiled by re on first use and kept in its cache: a --json run that prints no error needs neither
# (compiling them was ~0.4 ms of every start-up, issue 19).
# the controls past C0 (DEL, C1, bidirectional marks, overrides and isolates, line / paragraph separators, BOM):
# json.dumps escapes C0 itself and leaves these raw (render/jsonout.dumps escapes them)
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff"
_CONTROL = f"[\x00-\x1f{_BEYOND_C0}]"
JSON_RAW_CONTROL = f"[{_BEYOND_C0}]"
# backslashes before a "[" or the end. rich reads backslashes before any "[" as escapes, tag or not ("\\[" shows
# "["), and our own markup follows the text ("[/]"), so those runs are doubled; group 3 is set when a tag follows
# (rich.markup.escape's tag pattern), which gets a backslash of its own.
_MARKUP = r"(\\*)(\[(?=([a-z#/@][^[]*?])?)|\Z)"


def _escaped(match: re.Match) -> str:
    c = ord(match.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def plain(text: object) -> str:
    """`text` (any object, as str()) with every control character shown escaped; one line, always."""
    return re.sub(_CONTROL, _escaped, str(text))


def markup(text: object) -> str:
    """plain(text), also safe inside rich markup: '[bold]' from a file prints as '[bold]', not bold."""
    return re.sub(_MARKUP, lambda m: m.group(1) * 2 + (m.group(2) and ("[" if m.group(3) is None else "\\[")),
                       plain(text))


# a GPU or MIG UUID (NVML's 'GPU-5fd2a1b3-...', 'MIG-...'; a bare 8-4-4-4-12 UUID too): it names one physical board
_BOARD_ID = r"(?i)(?<![0-9a-z])(?:(?:gpu|mig)-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])"


def without_ids(text: str) -> str:
    """`text` with every GPU / MIG UUID replaced by 'redacted', as `advisor probe` writes its own (render/probe_json.py).

    Why (session 32): a name or warning in a hand-written probe file or a custom: spec is printed back by fit, serve
    and cost, text and JSON; nvidia-smi -L's 'NVIDIA GeForce RTX 4090 (UUID: GPU-...)' pasted as a device name put the
    board's UUID into output meant to be shared, which the probe itself never prints without --show-ids."""
    return re.sub(_BOARD_ID, "redacted", text) if "-" in text else text


def clipped(text: str, width: int = 60) -> str:
    """`text` cut to `width` characters, its last three '...' where cut: a long name, spec or path quoted in a
    one-line message (the quoting, plain() or !r, is the caller's)."""
    return text if len(text) <= width else text[:width - 3] + "..."


def folded(text: object) -> str:
    """`text` stripped and lowercased to match a choice (gpu, vllm, f16, self-host), ASCII only: str.lower() turns
    'İ' into 'i' + U+0307, so `--require-fit GPUİ` was refused as 'gpui̇', a text nobody typed. Every choice is
    ASCII, so a value with any other character matches none either way; it is kept (and echoed) as typed."""
    s = str(text).strip()
    return s.lower() if s.isascii() else s


# the terminal-size variables rich reads with `if value.isdigit(): int(value)` (rich/console.py Console.__init__, and
# JUPYTER_* in a notebook): str.isdigit() is true for '²' and '¹²', which int() refuses, so COLUMNS=² was exit 3 in
# every text command, typer's --help included
TERMINAL_SIZE_VARS = ("COLUMNS", "LINES", "JUPYTER_COLUMNS", "JUPYTER_LINES")


def drop_unreadable_terminal_sizes(environ) -> None:
    """Remove a terminal-size variable that is digits to str.isdigit() but not to int() (superscripts and other
    non-decimal digits); rich ignores every other non-number value already, so the terminal's own size is used, as
    for COLUMNS=x. Decimal digits of other scripts ('١٢٠', which int() reads as 120) are kept: rich reads them.
    A size of 0 ('0', '00', '٠') is removed too: rich drew every text report 0 columns wide, so COLUMNS=0 (a terminal
    whose size reads 0x0, as some containers report it) printed nothing and exited 0 (session 32)."""
    for key in TERMINAL_SIZE_VARS:
        value = environ.get(key)
        if value is not None and value.isdigit() and (not value.isdecimal() or int(value) == 0):
            del environ[key]
