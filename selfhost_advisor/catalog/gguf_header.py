"""Read a GGUF file's header (magic, version, metadata, tensor infos) from a stream, never its tensor data.

Why: a 40 GB GGUF tells us its exact tensor types and shapes in its first few MB, and the same reader works on a
local file or on HTTP range reads of a Hub file. Pure Python (struct): the `gguf` package's GGUFReader memory-maps
the whole file and needs numpy, which the `fit` path must not import.
Format: ggml-org/ggml docs/gguf.md (v2 and v3: uint64 counts; v1 used uint32 and is not supported).
"""
from __future__ import annotations

import struct
from typing import Any, Protocol

from ..errors import BadFileError
from ..limits import (MAX_GGUF_ARRAY, MAX_GGUF_KEPT, MAX_GGUF_KEPT_STRING, MAX_GGUF_KEYS, MAX_GGUF_NESTING,
                      MAX_GGUF_STRING, MAX_GGUF_STRINGS, MAX_GGUF_TENSORS)
from ..record import record
from ..termsafe import clipped

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32  # gguf.md: general.alignment defaults to 32
MAX_DIMS = 4  # GGML_MAX_DIMS
# Sanity limits (limits.py, docs/cli.md): a header beyond them is corrupt, not a model. Checked before allocating.
_MAX_STRING = MAX_GGUF_STRING
KEEP_ARRAY_ITEMS = 4096  # arrays longer than this (token lists, merges) are skipped, only their length kept

# GGUF metadata value types (gguf.md, enum gguf_metadata_value_type): id -> struct format ("" for special).
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


class ByteSource(Protocol):
    """Random access to a byte stream: a local file or a remote file read with HTTP range requests."""

    name: str

    def read(self, offset: int, n: int) -> bytes:
        """Up to n bytes at offset (fewer only at end of stream)."""
        ...


class FileSource:
    def __init__(self, path: str) -> None:
        from ..safefile import open_regular

        self.name = path
        # a regular file only: a FIFO would block, /dev/zero read forever, a directory fail late
        self._fh = open_regular(path, "GGUF file", "give the path of a .gguf file")

    def read(self, offset: int, n: int) -> bytes:
        try:
            self._fh.seek(offset)
            return self._fh.read(n)
        except OSError as exc:
            raise BadFileError(f"cannot read {self.name}: {exc.strerror or exc}") from None

    def size(self) -> int:
        import os

        return os.fstat(self._fh.fileno()).st_size

    def close(self) -> None:
        self._fh.close()


class BytesSource:
    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self.name, self._data = name, data

    def read(self, offset: int, n: int) -> bytes:
        return self._data[offset : offset + n]


@record
class ArraySummary:
    """A metadata array too long to keep (e.g. tokenizer.ggml.tokens): its item type and length."""

    item_type: int
    length: int


@record
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # ne order: shape[0] is the row length
    ggml_type: str  # e.g. Q4_K
    offset: int  # from the start of the tensor data section
    n_bytes: int  # ggml_nbytes: rows x (row length / block size) x type size


@record
class GGUFHeader:
    version: int
    metadata: dict[str, Any]
    tensors: tuple[TensorInfo, ...]
    alignment: int
    data_offset: int  # absolute file offset of the tensor data section (header + padding)

    @property
    def data_bytes(self) -> int:
        """Size of the tensor data section: every tensor padded to the alignment, as GGUF writers lay it out."""
        return sum(_pad(t.n_bytes, self.alignment) for t in self.tensors)


def _pad(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


class _Cursor:
    """Sequential reads over a ByteSource, fetching chunks that grow (few round trips for HTTP)."""

    def __init__(self, src: ByteSource, chunk: int) -> None:
        self.src, self.chunk = src, chunk
        self.buf = b""
        self.buf_start = 0
        self.pos = 0
        self.endian = "<"
        self.kept = 0  # array items kept so far (MAX_GGUF_KEPT over the whole header)
        self.strings = 0  # strings in metadata arrays so far, kept or skipped (MAX_GGUF_STRINGS)

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > self.buf_start + len(self.buf):
            have_end = self.buf_start + len(self.buf)
            want = max(end - have_end, self.chunk)
            more = self.src.read(have_end, want)
            # Drop what was consumed; keep the unread tail.
            keep_from = self.pos - self.buf_start
            self.buf = self.buf[keep_from:] + more
            self.buf_start = self.pos
            self.chunk = min(self.chunk * 2, 64 << 20)
            if self.pos + n > self.buf_start + len(self.buf):
                raise BadFileError(f"{self.src.name}: truncated GGUF header (ends at byte {self.buf_start + len(self.buf)})")
        rel = self.pos - self.buf_start
        self.pos = end
        return self.buf[rel : rel + n]

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack(self.endian + fmt, self.take(size))[0]

    def skip(self, n: int) -> None:
        self.take(n) if n <= (1 << 20) else self._skip_far(n)

    def _skip_far(self, n: int) -> None:
        # Large numeric arrays: check the last byte exists, then jump without buffering the middle.
        target = self.pos + n
        if len(self.src.read(target - 1, 1)) != 1:
            raise BadFileError(f"{self.src.name}: truncated GGUF header (array runs past the end)")
        self.buf, self.buf_start, self.pos = b"", target, target

    def skip_strings(self, n: int) -> None:
        """Skip n length-prefixed strings (token lists, merges: ~400k for Llama 3) without decoding them.

        Hot loop (a tight one: ~0.3 us a string); the header's strings in all are bounded by MAX_GGUF_STRINGS."""
        self.count_strings(n)
        unpack_from = struct.Struct(self.endian + "Q").unpack_from
        buf, start, pos = self.buf, self.buf_start, self.pos
        have = len(buf)
        for _ in range(n):
            rel = pos - start
            if rel + 8 <= have:
                length = unpack_from(buf, rel)[0]
                if length > _MAX_STRING:
                    raise BadFileError(f"{self.src.name}: corrupt GGUF header (string of {length} bytes)")
                if rel + 8 + length <= have:
                    pos += 8 + length
                    continue
            self.pos = pos
            length = unpack_from(self.take(8))[0]
            if length > _MAX_STRING:
                raise BadFileError(f"{self.src.name}: corrupt GGUF header (string of {length} bytes)")
            self.skip(length)
            buf, start, pos = self.buf, self.buf_start, self.pos
            have = len(buf)
        self.pos = pos

    def count_strings(self, n: int) -> None:
        self.strings += n
        if self.strings > MAX_GGUF_STRINGS:
            raise BadFileError(f"{self.src.name}: corrupt GGUF header (more than {MAX_GGUF_STRINGS} strings in its "
                               "metadata arrays)", "real files hold about 500,000 (docs/cli.md, Limits)")

    def string(self, keep: int = _MAX_STRING) -> str:
        """A length-prefixed UTF-8 string; past `keep` bytes only its start is kept (the rest is skipped unread)."""
        n = self.unpack("Q")
        if n > _MAX_STRING:
            raise BadFileError(f"{self.src.name}: corrupt GGUF header (string of {n} bytes, the limit is {_MAX_STRING})")
        if n > keep:
            raw = self.take(keep)
            self.skip(n - keep)
            return raw.decode("utf-8", "ignore")  # cut mid-character: drop the partial one
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadFileError(f"{self.src.name}: corrupt GGUF header (string is not UTF-8)") from None


def _value(cur: _Cursor, vtype: int, keep_items: int, depth: int = 0) -> Any:
    """One metadata value. Arrays nest at most MAX_GGUF_NESTING deep (iteratively bounded, never a RecursionError);
    an array is kept as a list only while it is short and the header's kept total stays under MAX_GGUF_KEPT, else as
    an ArraySummary (type and length): ~7x the file's bytes in Python objects stays bounded whatever the file holds."""
    if vtype in _SCALARS:
        return cur.unpack(_SCALARS[vtype])
    if vtype == _STRING:
        return cur.string(MAX_GGUF_KEPT_STRING if keep_items else 0)
    if vtype == _ARRAY:
        if depth >= MAX_GGUF_NESTING:
            raise BadFileError(f"{cur.src.name}: corrupt GGUF header (arrays nested more than {MAX_GGUF_NESTING} deep)")
        item_type, n = cur.unpack("I"), cur.unpack("Q")
        if n > MAX_GGUF_ARRAY:
            raise BadFileError(f"{cur.src.name}: corrupt GGUF header (array of {n} items, the limit is {MAX_GGUF_ARRAY})")
        if item_type not in _SCALARS and item_type not in (_STRING, _ARRAY):
            raise BadFileError(f"{cur.src.name}: corrupt GGUF header (array item type {item_type})")
        if n > keep_items or cur.kept + n > MAX_GGUF_KEPT:
            if item_type in _SCALARS:
                cur.skip(n * struct.calcsize(_SCALARS[item_type]))
            elif item_type == _STRING:
                cur.skip_strings(n)
            else:
                for _ in range(n):
                    _value(cur, item_type, 0, depth + 1)
            return ArraySummary(item_type, n)
        cur.kept += n
        if item_type == _STRING:
            cur.count_strings(n)
        if item_type in _SCALARS:
            fmt = _SCALARS[item_type]
            return list(struct.unpack(f"{cur.endian}{n}{fmt}", cur.take(n * struct.calcsize(fmt))))
        return [_value(cur, item_type, keep_items, depth + 1) for _ in range(n)]
    raise BadFileError(f"{cur.src.name}: corrupt GGUF header (value type {vtype})")


def read_header(
    src: ByteSource,
    ggml_types: dict[int, tuple[str, int, int]],
    *,
    chunk: int = 1 << 20,
    keep_items: int = KEEP_ARRAY_ITEMS,
) -> GGUFHeader:
    """Parse the header of the GGUF behind `src`.

    ggml_types: type id -> (name, block size, type size), from data/ggml_types.yaml.
    Raises BadFileError for anything that is not a well-formed GGUF v2/v3 header.
    """
    cur = _Cursor(src, chunk)
    try:
        magic = cur.take(4)
    except BadFileError:
        magic = b""
    if magic != GGUF_MAGIC:
        raise BadFileError(f"{src.name} is not a GGUF file (no GGUF magic)")
    raw_version = cur.take(4)
    version = struct.unpack("<I", raw_version)[0]
    if version not in (1, 2, 3) and struct.unpack(">I", raw_version)[0] in (2, 3):
        cur.endian = ">"  # big-endian GGUF (s390x builds)
        version = struct.unpack(">I", raw_version)[0]
    if version == 1:
        raise BadFileError(f"{src.name}: GGUF version 1 is not supported", "convert it again with a current llama.cpp")
    if version not in (2, 3):
        raise BadFileError(f"{src.name}: unsupported GGUF version {version}", "versions 2 and 3 are supported")
    n_tensors, n_kv = cur.unpack("Q"), cur.unpack("Q")
    if n_tensors > MAX_GGUF_TENSORS or n_kv > MAX_GGUF_KEYS:
        raise BadFileError(f"{src.name}: corrupt GGUF header ({n_tensors} tensors, {n_kv} metadata keys; the limits "
                           f"are {MAX_GGUF_TENSORS} and {MAX_GGUF_KEYS})")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string(1 << 16)
        if key in metadata:  # ggml's gguf.cpp refuses the file ("duplicate key"); the last one was used unsaid
            raise BadFileError(f"{src.name}: corrupt GGUF header (metadata key {clipped(key, 60)!r} given twice; "
                               "llama.cpp does not load such a file)", "download or convert it again")
        metadata[key] = _value(cur, cur.unpack("I"), keep_items)
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or alignment & (alignment - 1):
        raise BadFileError(f"{src.name}: corrupt GGUF header (general.alignment {alignment!r})")
    tensors = []
    for _ in range(n_tensors):
        name = cur.string(1 << 16)  # up to 64 KiB; quoted clipped (a 60,000-character name came back whole, session 33)
        n_dims = cur.unpack("I")
        if not 1 <= n_dims <= MAX_DIMS:
            raise BadFileError(f"{src.name}: corrupt GGUF header (tensor {clipped(name, 60)!r} has {n_dims} "
                               "dimensions)")
        shape = struct.unpack(f"{cur.endian}{n_dims}Q", cur.take(8 * n_dims))
        type_id, offset = cur.unpack("I"), cur.unpack("Q")
        if type_id not in ggml_types:
            raise BadFileError(f"{src.name}: tensor {clipped(name, 60)!r} has unknown GGML type id {type_id}")
        type_name, block, type_size = ggml_types[type_id]
        if shape[0] % block:
            raise BadFileError(f"{src.name}: tensor {clipped(name, 60)!r} row length {shape[0]} is not a multiple of "
                               f"{type_name}'s {block}")
        n_el = 1
        for dim in shape:
            n_el *= dim
        if n_el >= 1 << 62:
            raise BadFileError(f"{src.name}: corrupt GGUF header (tensor {clipped(name, 60)!r} shape {shape})")
        n_bytes = n_el // shape[0] * (shape[0] // block) * type_size if shape[0] else 0
        if offset % alignment:
            raise BadFileError(f"{src.name}: corrupt GGUF header (tensor {clipped(name, 60)!r} offset {offset} is not "
                               "aligned)")
        tensors.append(TensorInfo(name, tuple(shape), type_name, offset, n_bytes))
    _check_packed(src.name, tensors, alignment)
    data_offset = _pad(cur.pos, alignment)
    return GGUFHeader(version, metadata, tuple(tensors), alignment, data_offset)


def _check_packed(name: str, tensors: list[TensorInfo], alignment: int) -> None:
    """Each tensor where ggml's gguf.cpp expects it: at the padded sizes of the tensors before it, in header order
    (gguf_init_from_file_impl: "tensor '%s' has offset %" PRIu64 ", expected %zu" / "failed to read tensor data";
    llama.cpp loads no such file). Tensors overlapping at one offset were sized as the sum of their claims while the
    file's size check read only the furthest tensor's end (session 34)."""
    expected = 0
    for t in tensors:
        if t.offset != expected:
            raise BadFileError(f"{name}: corrupt GGUF header (tensor {clipped(t.name, 60)!r} has offset {t.offset}, "
                               f"expected {expected}; llama.cpp does not load such a file)", "download or convert it again")
        expected += _pad(t.n_bytes, alignment)


def read_file_header(path: str, ggml_types: dict[int, tuple[str, int, int]], *, check_size: bool = True) -> GGUFHeader:
    """Header of a local GGUF; with check_size, also verify the file holds all the tensor data it declares."""
    src = FileSource(path)
    try:
        header = read_header(src, ggml_types)
        if check_size:
            size = src.size()
            end = max((header.data_offset + t.offset + t.n_bytes for t in header.tensors), default=header.data_offset)
            if size < end:
                raise BadFileError(
                    f"{path}: truncated GGUF file ({size} bytes, the tensors need {end})", "download it again"
                )
        return header
    finally:
        src.close()
