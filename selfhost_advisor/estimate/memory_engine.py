"""What the memory estimate reads of each engine's record (data/engines.yaml): its parameters, KV cache types,
release-dependent rules, the context it passes to llama.cpp, and the GPU runtime context per device.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import FitRequest
from ..errors import BadOptionError


def parse_version(text: str) -> tuple[int, int, int]:
    """'0.6.5' / 'v0.12.11' / '0.33.0-rc2' -> (0, 6, 5) ...; a pre-release counts as its release; BadOptionError
    otherwise."""
    parts = str(text).strip().lstrip("vV").split("-", 1)[0].split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        raise BadOptionError(f"--engine-version {str(text)[:40]!r} is not a release number", "give one like 0.6.5 or 0.12.11")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0], nums[1], nums[2]


def _pad(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple if multiple > 1 else n


@lru_cache(maxsize=1)
def _engines() -> dict:
    return load("engines")


def engine_params(engine: str) -> dict:
    try:
        return _engines()["engines"][engine]
    except KeyError:
        raise BadOptionError(
            f"unknown engine {engine!r}", f"use one of: {', '.join(_engines()['engines'])}"
        ) from None


def kv_type(name: str) -> str:
    """GGML type of a KV cache type name (f16, q8_0, q4_0 ...)."""
    types = _engines()["kv_cache_types"]
    key = name.lower()
    if key not in types:
        raise BadOptionError(f"unknown KV cache type {name!r}", f"use one of: {', '.join(types)}")
    return types[key]


def total_context(req: FitRequest) -> int:
    """Context the engine passes to llama.cpp as -c: Ollama multiplies num_ctx by its parallel slots."""
    eng = engine_params(req.engine)
    return req.context * (req.n_parallel if eng["parallel_multiplies_context"] else 1)


def _engine_rule(req: FitRequest, key: str, default: str) -> str:
    """An engine setting, taken from the release record that applies to the request where the engine keeps releases
    (data/engines.yaml `ollama.versions`: from 0.30.0 Ollama runs llama-server, which reserves n_parallel logit rows)."""
    eng = engine_params(req.engine)
    if eng.get("versions"):
        from ..engines import get_engine

        rec = get_engine(req.engine).release(req.engine_version)  # type: ignore[attr-defined]
        if key in rec:
            return str(rec[key])
    return str(eng.get(key, default))


def kv_unified(req: FitRequest) -> bool:
    """Whether the engine keeps one KV stream for all slots (data/engines.yaml kv_unified; Ollama: per release), unless
    the request says (llama-server -np auto: 4 slots, kv_unified true)."""
    if req.kv_unified is not None:
        return req.kv_unified
    return _engine_rule(req, "kv_unified", "true").lower() != "false"


def runtime_bytes(n_gpus: int, backend: str) -> int:
    """GPU context per device (CUDA: ~384 MiB, not in llama.cpp's logged buffers; Metal: none)."""
    rt = _engines()["runtime"]
    if n_gpus == 0:
        return 0
    per_device = rt["metal_context_bytes"] if backend == "metal" else rt["cuda_context_bytes"]
    return int(per_device) * n_gpus
