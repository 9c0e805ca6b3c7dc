"""CPU model, cores, ISA features that matter to llama.cpp, and the container's memory limit.

/proc/cpuinfo first (fast, no subprocess); py-cpuinfo only when it names no model (some ARM boards, non-Linux), and
its answer is cached per boot under ADVISOR_HOME (default: the platformdirs user cache dir) because it spawns a
subprocess and takes about a second. The filesystem root is an argument so tests read captured trees.
cgroup limits: v2 memory.max, v1 memory.limit_in_bytes, the smallest along the cgroup's path (kernel
Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/memory.rst); "max" or a near-2^63 value means no limit.
"""
from __future__ import annotations

import json
import os
import platform
from typing import Any, Callable

from ..domain import CpuInfo
from ..errors import AdvisorError

# kernel / py-cpuinfo flag -> the name we report (llama.cpp's CPU backend variants key on these)
_X86_FLAGS = {
    "avx": "avx", "avx2": "avx2", "fma": "fma", "f16c": "f16c", "avx_vnni": "avx_vnni",
    "avx512f": "avx512f", "avx512bw": "avx512bw", "avx512vl": "avx512vl", "avx512_vnni": "avx512_vnni",
    "avx512vnni": "avx512_vnni", "avx512_bf16": "avx512_bf16", "avx512vbmi": "avx512_vbmi",
    "amx_tile": "amx_tile", "amx_int8": "amx_int8", "amx_bf16": "amx_bf16",
}
_ARM_FLAGS = {"asimd": "neon", "neon": "neon", "asimddp": "dotprod", "i8mm": "i8mm", "sve": "sve", "sve2": "sve2",
              "bf16": "bf16", "sme": "sme"}
_NO_LIMIT = 2**60


def normalize_flags(raw: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    out = set()
    for f in raw:
        f = f.lower()
        name = _X86_FLAGS.get(f) or _ARM_FLAGS.get(f)
        if name:
            out.add(name)
    return tuple(sorted(out))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _read_cache(path: str) -> str | None:
    """Our own cache file, only when it is a regular file of a sane size (a FIFO there must not block)."""
    from ..limits import MAX_CACHE_ENTRY_BYTES
    from ..safefile import read_regular

    try:
        return read_regular(path, MAX_CACHE_ENTRY_BYTES, "cache file").decode("utf-8", "replace")
    except AdvisorError:
        return None


def parse_proc_cpuinfo(text: str) -> dict[str, Any]:
    """name, flags, logical/physical cores and sockets from /proc/cpuinfo (x86 and ARM layouts)."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    name, flags = "", []
    cores, sockets, logical = set(), set(), 0
    for block in blocks:
        kv = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                kv[key.strip().lower()] = value.strip()
        if "processor" in kv and kv["processor"].isascii() and kv["processor"].isdigit():
            logical += 1
        name = name or kv.get("model name", "") or kv.get("hardware", "")
        if not flags:
            flags = (kv.get("flags") or kv.get("features") or "").split()
        if "physical id" in kv:
            sockets.add(kv["physical id"])
            if "core id" in kv:
                cores.add((kv["physical id"], kv["core id"]))
    return {"name": name, "flags": flags, "logical": logical or None,
            "physical": len(cores) or None, "sockets": len(sockets) or None}


def cache_dir() -> str:
    """The advisor's cache folder, read one way for the Hub cache and the CPU-rate cache (catalog/hub.advisor_home:
    ADVISOR_HOME, '~' expanded, else the platform's user cache folder)."""
    from ..catalog.hub import advisor_home

    return str(advisor_home())


def _py_cpuinfo() -> dict[str, Any]:
    import cpuinfo  # py-cpuinfo: spawns a subprocess, ~1 s

    info = cpuinfo.get_cpu_info()
    return {"brand_raw": info.get("brand_raw", ""), "flags": list(info.get("flags", []))}


def writable_dir(directory: str) -> bool:
    """Whether `directory` is (or can be made) a directory we may write in: not a file, FIFO or device."""
    try:
        os.makedirs(directory, exist_ok=True)
    except (OSError, ValueError):  # a file, /dev/null or a FIFO in the way; an unencodable or too long name
        return False
    return os.path.isdir(directory) and os.access(directory, os.W_OK | os.X_OK)


def boot_cached(directory: str | None, filename: str, key: dict[str, Any], compute: Callable[[], Any],
                decode: Callable[[dict], Any], encode: Callable[[Any], dict[str, Any]],
                unstored: Callable[[], Any] | None = None) -> Any:
    """compute(), reused from directory/filename while the file's `key` items (the boot time first) all match: a
    figure of this machine that cannot change without a reboot. decode(stored) gives the value back (None: recompute);
    a damaged or foreign cache only costs a recomputation. When `directory` is not a writable directory, `unstored()`
    stands in for compute() if given (a computation too costly to repeat on every call), else compute() runs."""
    path = os.path.join(directory, filename) if directory else None
    if path:
        cached = _read_cache(path)
        if cached:
            try:
                data = json.loads(cached)
                if all(data.get(k) == v for k, v in key.items()):
                    value = decode(data)
                    if value is not None:
                        return value
            except (ValueError, AttributeError, TypeError, RecursionError):  # damaged cache: compute again
                pass
    if path and unstored is not None and not writable_dir(directory):
        return unstored()
    value = compute()
    if path:
        _write_cache(directory, path, json.dumps({**key, **encode(value)}).encode("utf-8"))
    return value


def _write_cache(directory: str, path: str, data: bytes) -> None:
    """`data` into `path` atomically: written to a fresh temporary file in the same directory (mkstemp: O_EXCL, so
    never a FIFO or device planted there), then os.replace'd over the old one. Why: truncate-then-write let a second
    advisor started meanwhile read a partial file (it recomputed, the damage was only time, but two writers could
    also interleave); a reader now sees the old file or the new one, whole."""
    import tempfile

    tmp = None
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError):
        pass  # a cache we cannot write is only slower
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def cached_py_cpuinfo(loader: Callable[[], dict[str, Any]], boot_time: float, directory: str | None) -> dict[str, Any]:
    """py-cpuinfo's answer, reused while the machine has not rebooted (the CPU cannot change without a reboot)."""
    return boot_cached(directory, "cpuinfo.json", {"boot_time": boot_time}, loader,
                       lambda d: d["info"] if isinstance(d.get("info"), dict) else None, lambda info: {"info": info})


_AMX = ("amx_tile", "amx_int8", "amx_bf16")
_ARCH_GET_XCOMP_SUPP = 0x1021  # arch/x86/include/uapi/asm/prctl.h (Linux >= 5.16)
_XFEATURE_XTILEDATA = 18


def kernel_supports_amx() -> bool | None:
    """Whether this Linux kernel lets a process use AMX tile data, or None when that cannot be asked here.

    CPUID (/proc/cpuinfo's flags) says what the core has; using AMX also needs the kernel to manage its 8 KB of tile
    state, which a process must request with arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) (ggml's
    ggml-cpu/amx does; without it the first tile instruction raises SIGILL). ARCH_GET_XCOMP_SUPP reads the features
    the kernel would grant without changing anything; a kernel before 5.16 does not know it (EINVAL): no AMX.
    """
    if platform.system() != "Linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        mask = ctypes.c_uint64(0)
        if libc.syscall(158, _ARCH_GET_XCOMP_SUPP, ctypes.byref(mask)) != 0:  # 158 = SYS_arch_prctl on x86_64
            return False
        return bool(mask.value >> _XFEATURE_XTILEDATA & 1)
    except (OSError, AttributeError, ValueError):
        return None


def usable_flags(flags: tuple[str, ...], amx_ok: bool | None) -> tuple[str, ...]:
    """The ISA features software can use: AMX only where the kernel grants its tile state (unknown: kept)."""
    return tuple(f for f in flags if amx_ok is not False or f not in _AMX)


def probe_cpu(root: str = "/", cpuinfo_loader: Callable[[], dict[str, Any]] | None = None,
              boot_time: float | None = None, directory: str | None = None, psutil_mod: Any = None,
              amx_check: Callable[[], bool | None] | None = None) -> CpuInfo:
    """The CPU; `amx_check` (default: ask this kernel, but only when reading the live root) says whether AMX can be
    used, and AMX flags are dropped when it says no."""
    if psutil_mod is None:
        import psutil as psutil_mod
    parsed = parse_proc_cpuinfo(_read(os.path.join(root, "proc", "cpuinfo")) or "")
    name, flags, source = parsed["name"], parsed["flags"], "proc-cpuinfo"
    if not name:
        try:
            info = cached_py_cpuinfo(cpuinfo_loader or _py_cpuinfo,
                                     psutil_mod.boot_time() if boot_time is None else boot_time,
                                     directory if directory is not None else cache_dir())
            name, flags, source = info.get("brand_raw") or "", flags or info.get("flags", []), "py-cpuinfo"
        except Exception:  # noqa: BLE001 - py-cpuinfo missing or failing: the model name stays unknown
            source = "proc-cpuinfo" if parsed["logical"] else ""
    physical = parsed["physical"] or psutil_mod.cpu_count(logical=False)
    logical = parsed["logical"] or psutil_mod.cpu_count(logical=True)
    return CpuInfo(name=" ".join(name.split()) or "unknown CPU", arch=platform.machine().lower(),
                   physical_cores=physical, logical_cores=logical, sockets=parsed["sockets"],
                   flags=usable_flags(normalize_flags(flags),
                                      (amx_check or (kernel_supports_amx if root == "/" else lambda: None))()),
                   source=source)


def _cgroup_paths(root: str) -> tuple[str | None, str | None]:
    """(v2 path, v1 memory path) of this process from /proc/self/cgroup."""
    v2 = v1 = None
    for line in (_read(os.path.join(root, "proc", "self", "cgroup")) or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            v2 = parts[2]
        elif "memory" in parts[1].split(","):
            v1 = parts[2]
    return v2, v1


def _limit_along(base: str, rel: str, filename: str) -> int | None:
    """Smallest numeric limit in `filename` from base/rel up to base (a parent's limit binds its children)."""
    best = None
    rel = rel.strip("/")
    while True:
        text = _read(os.path.join(base, rel, filename) if rel else os.path.join(base, filename))
        if text is not None:
            text = text.strip()
            if text.isascii() and text.isdigit() and int(text) < _NO_LIMIT:
                best = int(text) if best is None else min(best, int(text))
        if not rel:
            return best
        rel = os.path.dirname(rel)


def cgroup_memory_limit(root: str = "/") -> int | None:
    """The memory limit (bytes) of this process's cgroup (v2, else v1), or None when unlimited or unknown."""
    v2, v1 = _cgroup_paths(root)
    cg = os.path.join(root, "sys", "fs", "cgroup")
    limits = []
    if v2 is not None:
        limits.append(_limit_along(cg, v2, "memory.max"))
    if v1 is not None:
        limits.append(_limit_along(os.path.join(cg, "memory"), v1, "memory.limit_in_bytes"))
    found = [x for x in limits if x is not None]
    return min(found) if found else None


def in_container(root: str = "/") -> bool:
    """Docker (/.dockerenv), Podman (/run/.containerenv) or a cgroup path that names a container runtime."""
    if os.path.exists(os.path.join(root, ".dockerenv")) or os.path.exists(os.path.join(root, "run", ".containerenv")):
        return True
    text = _read(os.path.join(root, "proc", "self", "cgroup")) or ""
    return any(word in text for word in ("docker", "kubepods", "containerd", "libpod", "lxc"))
