"""Intel SYCL (ggml-sycl): which kernel runs each matmul, by GGML type, Intel GPU and llama.cpp build
(docs/methodology.md 5b-sycl; data/speed.yaml `sycl_paths`).

Why: one bandwidth share and one FLOPS share per backend cannot follow what ggml-sycl's dispatcher does
(ggml/src/ggml-sycl/ggml-sycl.cpp ggml_sycl_mul_mat):
- Decode (one token): DMMV or MMVQ, each on the "reordered" layout (quants and scales in separate arrays: coalesced
  loads) for the types whose reorder kernels exist at that build and when the reorder switch is on
  (GGML_SYCL_DISABLE_OPT, later GGML_SYCL_ENABLE_OPT; its default changed five times in 2025), else on the block layout
  (an 18-byte Q4_0 block, a 34-byte Q8_0 block: unaligned loads). On the block layout the kernel, not the memory, is
  the limit: a rate in weights per vector lane per clock (plain_rate), derived at the fitted bandwidth share from
  Intel's own before/after table (data/speed.yaml `sycl_paths.plain_table`), not from our rows.
- Prompt batches: never MMQ (ggml_sycl_supports_mmq returns false), always ggml_sycl_op_mul_mat_sycl: each quantized
  matrix is dequantized into a scratch copy (to_fp16_sycl with GGML_SYCL_F16=ON, to_fp32_sycl without), then a oneDNN
  (or oneMKL) GEMM reads that copy. FP16 runs on the XMX units (Xe-HPG, Xe2, Xe-HPC; Xe-LP/Xe-LPG iGPUs have none, their
  FP16 figure is the vector rate already); the FP32 build's f32 matmul runs strict FP32 (gemm.hpp sets fpmath_mode f16
  only under GGML_SYCL_F16) on the vector lanes: lanes x 2 x clock. The scratch copy costs its write and one read per
  micro-batch at spec bandwidth (a derived term, no fitted constant), as ROCm's tile traffic does (kernel_path.py).

The build comes from a llama-bench row (`build` text: a date YYYY-MM(-DD), PR numbers "#12858", "DISABLE_OPT=1",
"F16=ON") through assume_build(); with none (every user estimate) the newest llama.cpp: every reorder kernel, reorder
on, FP16 GEMM on XMX (the figure the spec tables list).
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..domain import Device
from ..record import record
from .scoped import pushed


@record
class Build:
    """What of a llama.cpp build decides ggml-sycl's paths."""

    date: str = ""  # YYYY-MM-DD, or "" for the newest llama.cpp
    prs: frozenset = frozenset()  # pull requests named ("PR #13885 head"): their code is in the build
    reorder: bool | None = None  # the reorder switch as the build text states it; None: that date's default
    f16: bool | None = None  # GGML_SYCL_F16 as stated; None: FP16 GEMM (see module docstring)


NEWEST = Build()
_BUILDS: list[Build] = []
_DATE = re.compile(r"\b(20\d\d)-(\d\d)(?:-(\d\d))?\b")
_PR = re.compile(r"#(\d{4,6})\b")
_OFF = re.compile(r"DISABLE_OPT\s*=\s*1|ENABLE_OPT\s*=\s*0|reorder off", re.I)
_ON = re.compile(r"DISABLE_OPT\s*=\s*0|ENABLE_OPT\s*=\s*1|reorder on", re.I)
_F16_ON = re.compile(r"F16\s*=\s*ON", re.I)
_F16_OFF = re.compile(r"F16\s*=\s*OFF|\bFP32 build\b", re.I)


@lru_cache(maxsize=256)
def parse_build(text: str) -> Build:
    """The Build a row's `build` text states: the first date, every PR number, the reorder switch, GGML_SYCL_F16."""
    if not text:
        return NEWEST
    m = _DATE.search(text)
    date = f"{m.group(1)}-{m.group(2)}-{m.group(3) or '01'}" if m else ""
    reorder = False if _OFF.search(text) else (True if _ON.search(text) else None)
    f16 = True if _F16_ON.search(text) else (False if _F16_OFF.search(text) else None)
    return Build(date, frozenset(int(p) for p in _PR.findall(text)), reorder, f16)


def assume_build(text: str):
    """Within it, SYCL estimates take the paths of the llama.cpp build `text` states (scripts/fit_speed.py per row)."""
    return pushed(_BUILDS, parse_build(text or ""))


def current() -> Build:
    return _BUILDS[-1] if _BUILDS else NEWEST


@lru_cache(maxsize=1)
def _rules() -> dict:
    from ..catalog.data import load

    return load("speed").get("sycl_paths") or {}


def _has(build: Build, feature: dict) -> bool:
    """A feature (a PR of ggml-sycl) is in the build when the build is that PR's head or dated on/after its merge."""
    if not build.date and not build.prs:
        return True
    return int(feature["pr"]) in build.prs or (bool(build.date) and build.date >= str(feature["date"]))


def reorder_on(build: Build) -> bool:
    """The reorder switch: as stated, else its default at the build's date (ggml-sycl.cpp get_sycl_env history)."""
    if build.reorder is not None:
        return build.reorder
    if not build.date:
        return True
    on = False
    for since, value in _rules().get("reorder_default", ()):
        if build.date >= str(since):
            on = bool(value)
    return on


@lru_cache(maxsize=64)
def _reordered_types(build: Build) -> frozenset:
    if not reorder_on(build):
        return frozenset()
    out: set[str] = set()
    for feature in _rules().get("reorder_kernels", ()):
        if _has(build, feature):
            out.update(feature["types"])
    return frozenset(out)


def matvec_path(ggml_type: str, build: Build | None = None) -> str:
    """'reordered' or 'block': the layout decode's mat-vec kernel reads a matrix of this type in."""
    return "reordered" if ggml_type in _reordered_types(build or current()) else "block"


def vector_lanes(device: Device) -> float | None:
    """FP32 lanes of an Intel GPU: the spec table's shader count, else 128 per Xe core (`gpu_cores` of an iGPU
    profile: Xe-LPG 16 EUs x 8, Xe2 8 XVEs x 16; data/apu.yaml)."""
    from .kernel_path import vector_lanes as lanes

    return lanes(device, lanes_per_core=128)


_BLOCK_OFF: list = []


def block_layout_off():
    """Within it, decode has no block-layout term: scripts/fit_speed.py takes its linear features (bytes, per-layer
    cycles) without it and counts the term, derived from Intel's table at the fitted share, as known time."""
    return pushed(_BLOCK_OFF)


@lru_cache(maxsize=256)
def plain_rate(share: float) -> float:
    """Weights per FP32 vector lane per clock of ggml-sycl's block-layout mat-vecs, derived from Intel's same-machine
    before/after pairs (data/speed.yaml `sycl_paths.plain_table`) at bandwidth share `share`.

    Why a function of the share: the pairs give the time the block layout adds, dt = 1/before - 1/after (the Q4_0
    matrices alone change layout), and the reordered build streams those matrices at share x spec bandwidth, so their
    block-layout time is dt + bytes / (share x bandwidth); the rate is weights / (lanes x clock x that time). A fixed
    rate (0.0466 at session 11's share 0.70) stops reproducing dt as soon as the fitted share moves; computed here, the
    model gives back each pair's dt at whatever share the fit comes to (tests/test_sycl_path.py)."""
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .kernel_path import gpu_clock_hz
    from .speed_work import token_work

    rates = []
    for pair in _rules().get("plain_table") or ():
        dev = machine_from_profile(hw_names.resolve(pair["hardware"]), 1).devices[0]
        work = token_work(get_model(pair["model"]), get_quant(pair["quant"]))
        mats = [(n, b) for layer in work.layer_matrices for ty, n, b in layer if ty == pair["quant"]]
        weights, nbytes = sum(n for n, _ in mats), sum(b for _, b in mats)
        dt = 1.0 / float(pair["block_tokens_per_s"]) - 1.0 / float(pair["reordered_tokens_per_s"])
        block_s = dt + nbytes / (share * dev.bandwidth_bytes_per_s)
        rates.append(weights / (block_s * vector_lanes(dev) * gpu_clock_hz(dev)))
    return sum(rates) / len(rates) if rates else 0.0


def block_layout_seconds(matrices: tuple, device: Device, bandwidth: float, clock_hz: float | None) -> float:
    """Seconds a layer's mat-vecs on the block layout take beyond streaming their bytes at `bandwidth`: per matrix,
    max(0, weights / (rate x lanes x clock) - bytes / bandwidth), for block-quantized types not reordered; the rate
    is plain_rate at the share `bandwidth` is of the device's spec bandwidth."""
    lanes = vector_lanes(device)
    if _BLOCK_OFF or not lanes or not clock_hz or not device.bandwidth_bytes_per_s:
        return 0.0
    from .kernel_path import FLOAT_TYPES

    build = current()
    if not any(ty not in FLOAT_TYPES and matvec_path(ty, build) == "block" for ty, _, _ in matrices):
        return 0.0
    rate = plain_rate(round(bandwidth / device.bandwidth_bytes_per_s, 6))
    if not rate:
        return 0.0
    per_s = rate * lanes * clock_hz
    extra = 0.0
    for ty, n_weights, nbytes in matrices:
        if ty not in FLOAT_TYPES and matvec_path(ty, build) == "block":
            extra += max(0.0, n_weights / per_s - nbytes / bandwidth)
    return extra


def fp32_gemm(build: Build | None = None) -> bool:
    """True when the prompt GEMMs run in FP32 (a build stated without GGML_SYCL_F16)."""
    return (build or current()).f16 is False


def matrix_flops(device: Device, clock_hz: float | None) -> float | None:
    """The rate the prompt GEMMs run at on `device` under the current build: FP32 build, vector lanes x 2 x clock;
    else None (the profile's FP16 figure: XMX where the GPU has it)."""
    if not fp32_gemm():
        return None
    lanes = vector_lanes(device)
    return lanes * 2 * clock_hz if lanes and clock_hz else None


def scratch_traffic_seconds(device: Device, layers: tuple, n_ubatch: int = 512) -> float:
    """Prefill seconds per token that the dequantized scratch copies cost at spec bandwidth: per micro-batch, each
    quantized matrix is read once (its bytes) and its copy written once and read once by the GEMM (2 x weights x 2
    bytes in FP16, x 4 in FP32)."""
    bw = device.bandwidth_bytes_per_s
    if not bw or not layers:
        return 0.0
    from .kernel_path import converted_bytes

    width = 4 if fp32_gemm() else 2
    seen: dict[tuple, float] = {}
    total = 0.0
    for mats in layers:
        x = seen.get(mats)
        if x is None:
            x = seen[mats] = float(converted_bytes(mats, 2 * width))
        total += x
    return total / max(1, n_ubatch) / bw
