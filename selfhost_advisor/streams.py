"""Standard streams that fail cleanly: a closed pipe, a full disk or an encoding without box-drawing characters.

Why: `advisor fit ... | head -1` closes the pipe under us (a quiet exit 0, as for any Unix filter); stdout on
/dev/full or a closed descriptor is an environment problem (one line, exit 2), never a traceback; a stdout that cannot
encode the table borders and chart glyphs (PYTHONIOENCODING=ascii, a latin-1 terminal) gets ASCII look-alikes.
Text only passes through here; nothing is imported but errors.py, so the --json path stays lean.
"""
from __future__ import annotations

import os
import sys

from .errors import AdvisorError

# One character for one character, so rich's column arithmetic still holds after the swap.
_ASCII = str.maketrans({
    "─": "-", "━": "-", "═": "=", "│": "|", "┃": "|", "║": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "├": "+",
    "┤": "+", "┬": "+", "┴": "+", "┼": "+", "╭": "+", "╮": "+", "╰": "+", "╯": "+", "╷": "|", "╵": "|", "╴": "-",
    "╶": "-", "┏": "+", "┓": "+", "┗": "+", "┛": "+", "┡": "+", "┩": "+", "╇": "+", "╈": "+", "╞": "+", "╡": "+",
    "╪": "+", "█": "#", "▉": "#", "▊": "#", "▋": "#", "▌": "#", "▍": "#", "▎": "#", "▏": "#", "▇": "#", "▆": "#",
    "▅": "=", "▄": "=", "▃": "_", "▂": "_", "▁": "_", "░": ".", "▒": ":", "▓": "#", "•": "*", "·": ".", "●": "*",
    "○": "o", "◆": "@", "■": "#", "□": "o", "▲": "^", "▼": "v", "►": ">", "◄": "<", "→": ">", "←": "<", "↑": "^", "↓": "v", "—": "-",
    "–": "-", "−": "-", "×": "x", "≥": ">", "≤": "<", "≈": "~", "±": "+", "…": ".", "✓": "v", "✗": "x", "µ": "u",
    "‘": "'", "’": "'", "“": '"', "”": '"', "°": "o", "€": "E", "£": "L",
})


def to_ascii(text: str, encoding: str = "ascii") -> str:
    """`text` with box-drawing and chart glyphs as ASCII look-alikes, anything else `encoding` lacks as '?'."""
    swapped = text.translate(_ASCII)
    return swapped.encode(encoding, "replace").decode(encoding, "replace")


class PipeClosed(Exception):
    """The reader of stdout went away (EPIPE). Deliberately not an OSError: click turns an EPIPE OSError into a silent
    sys.exit(1), the code scripts read as a failed check; cli.main turns this into a quiet exit 0."""


class OutputError(AdvisorError):
    """stdout cannot be written (closed, a full disk, an I/O error): exit 2."""


class GuardedStdout:
    """sys.stdout for one command: write errors become OutputError (a broken pipe PipeClosed), and text the
    stream cannot encode is written with ASCII look-alikes instead of raising UnicodeEncodeError."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        try:
            return self._inner.write(text)
        except UnicodeEncodeError:
            return self._call(self._inner.write, to_ascii(text, getattr(self._inner, "encoding", None) or "ascii"))
        except BrokenPipeError:
            raise PipeClosed() from None
        except (OSError, ValueError) as exc:  # ValueError: "I/O operation on closed file"
            raise _output_error(exc) from None

    def flush(self) -> None:
        self._call(self._inner.flush)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except BrokenPipeError:
            raise PipeClosed() from None
        except (OSError, ValueError) as exc:
            raise _output_error(exc) from None

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def _output_error(exc: BaseException) -> OutputError:
    why = getattr(exc, "strerror", None) or str(exc)
    return OutputError(f"cannot write the output: {why}", "check where stdout goes (a full disk? a closed descriptor?)")


def silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush of what is still buffered cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


def stdout_is_closed() -> bool:
    if sys.stdout is None:
        return True
    try:
        os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real descriptor (a test's capture): open enough
        return not hasattr(sys.stdout, "write")
    return False


def write_err(line: str) -> None:
    """One line on stderr, whatever happens to stderr (closed, full, an ascii encoding)."""
    err = sys.stderr
    if err is None:
        return
    try:
        try:
            err.write(line)
        except UnicodeEncodeError:
            err.write(to_ascii(line, getattr(err, "encoding", None) or "ascii"))
        err.flush()
    except (OSError, ValueError):
        pass
