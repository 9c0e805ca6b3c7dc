"""Open files only when they are regular files, without ever blocking, and read them up to a stated size.

Why: a FIFO given as --hardware, a model or a chart target blocks open() forever; /dev/zero reads forever; a
directory fails late with a confusing error. The file is opened with O_NONBLOCK (opening a FIFO returns at once,
or fails with ENXIO for writing with no reader) and checked with fstat on the open descriptor, so what is checked
is what is read (no window between a stat and the open). Regular files then read normally.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from .errors import BadFileError

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def open_regular(path: str | os.PathLike, what: str = "file", hint: str = "give a regular file") -> BinaryIO:
    """A binary reader of `path`, refused (BadFileError) unless it is a regular file."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise BadFileError(f"cannot read {what} {path}: {_why(exc)}", "check the path") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise BadFileError(f"cannot read {what} {path}: it is {_kind(mode)}, not a regular file", hint)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike, limit: int, what: str = "file", hint: str = "give a regular file") -> bytes:
    """The whole of `path` (a regular file of at most `limit` bytes), else BadFileError naming the limit."""
    with open_regular(path, what, hint) as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise BadFileError(f"cannot read {what} {path}: {_why(exc)}", "check the path") from None
    if len(data) > limit:
        raise BadFileError(f"{what} {path} is larger than {_size(limit)}, the limit for it",
                           "check it is the right file (docs/cli.md, Limits)")
    return data


def check_writable(path: str | os.PathLike, what: str = "file") -> None:
    """Refuse, before any work is done, an output path that is not (and cannot become) a regular file.

    Why: a command checks its output target before printing its report, so bad input prints nothing on stdout.
    Advisory only: open_regular_for_writing checks again on the descriptor when the file is written."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            raise BadFileError(f"cannot write {what} {path}: no directory {parent}", "give a path in an existing directory") from None
        return
    except (OSError, ValueError) as exc:
        raise BadFileError(f"cannot write {what} {path}: {_why(exc)}", "give a writable path") from None
    if not stat.S_ISREG(mode):
        raise BadFileError(f"cannot write {what} {path}: it is {_kind(mode)}, not a regular file",
                           "give a path to a regular file")


def open_regular_for_writing(path: str | os.PathLike, what: str = "file") -> BinaryIO:
    """A binary writer replacing the contents of `path`; refused unless it is (or will be) a regular file."""
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except (OSError, ValueError) as exc:  # ENXIO: a FIFO nobody reads; EISDIR: a directory
        why = "it is a FIFO (named pipe), not a regular file" if getattr(exc, "errno", None) == errno.ENXIO else _why(exc)
        raise BadFileError(f"cannot write {what} {path}: {why}", "give a writable path to a regular file") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise BadFileError(f"cannot write {what} {path}: it is {_kind(mode)}, not a regular file",
                               "give a path to a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        os.ftruncate(fd, 0)
        return os.fdopen(fd, "wb")
    except OSError as exc:
        os.close(fd)
        raise BadFileError(f"cannot write {what} {path}: {_why(exc)}", "give a writable path") from None
    except BaseException:
        os.close(fd)
        raise


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
