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
  matrix is dequantized into a scratch copy (to_fp16_sycl with GGML_SYCL_F16=ON, to_fp32_sycl without), the
  activations converted to FP16, then a oneDNN (or oneMKL) GEMM. The GEMM runs at the rate that library reaches on the
  architecture in its own benchmarks (gemm_rate: Xe-HPG 0.373 of XMX, Xe2 0.992, the FP32 build's vector path, and a
  GPU without XMX, 0.837 of lanes x 2 x clock; data/speed.yaml `sycl_paths.prompt_gemm`), not a share fitted to llama-bench rows; the scratch
  copies and the activations every op moves (activation_seconds, dated by the fusions and the flash attention that
  changed them) stream at the family's decode share (docs/methodology.md 5b-sycl8). A Q4_0 / Q8_0 matrix the build
  reads on the reordered layout (before PR #13536 with the reorder on, or after a decode on the same model) is
  dequantized one work-item a block, at a cost derived from a same-machine pair (reorder_dequant_seconds, 5b-sycl28).

The build comes from a llama-bench row (`build` text: a date YYYY-MM(-DD), PR numbers "#12858", "DISABLE_OPT=1",
"F16=ON") through assume_build(); with none (every user estimate) the newest llama.cpp: every reorder kernel, reorder
on, FP16 GEMM on XMX (the figure the spec tables list; GGML_SYCL_F16's default since PR #23996), or the GGML_SYCL_F16 the
GPU was named with ("arc b580 sycl fp32", with_device_build; fit says which, sycl_build_note).
"""
from __future__ import annotations

import re
from contextlib import nullcontext
from functools import lru_cache

from ..domain import Device
from ..lazy_re import lazy
from ..record import record, replace
from .scoped import pushed


@record
class Build:
    """What of a llama.cpp build decides ggml-sycl's paths."""

    date: str = ""  # YYYY-MM-DD, or "" for the newest llama.cpp
    prs: frozenset = frozenset()  # pull requests named ("PR #13885 head"): their code is in the build
    reorder: bool | None = None  # the reorder switch as the build text states it; None: that date's default
    f16: bool | None = None  # GGML_SYCL_F16 as stated; None: FP16 GEMM (see module docstring)
    fa: bool | None = None  # flash attention as stated ("-fa 1" / "-fa 0"); None: llama.cpp's default (auto)
    dnnl: bool | None = None  # oneDNN linked (GGML_SYCL_DNNL) as stated ("no oneDNN"); None: linked (CMake's default)
    after_decode: bool = False  # the prompt ran after a decode-sized batch on the same loaded model ("prompt after decode")


NEWEST = Build()
_BUILDS: list[Build] = []
_DATE = lazy(r"\b(20\d\d)-(\d\d)(?:-(\d\d))?\b")
# A PR's code is in the build only where the text says so: "PR #N head" (the PR's branch) or "with PR #N" (applied on
# top); "before PR #N", "PR #N base", "master of PR #N review" and any other mention name a build without it.
_PR = lazy(r"\bPR\s*#(\d{4,6})\s+head\b|\bwith\s+PR\s*#(\d{4,6})\b", re.I)
_OFF = lazy(r"DISABLE_OPT\s*=\s*1|ENABLE_OPT\s*=\s*0|reorder off", re.I)
_ON = lazy(r"DISABLE_OPT\s*=\s*0|ENABLE_OPT\s*=\s*1|reorder on", re.I)
_F16_ON = lazy(r"F16\s*=\s*ON", re.I)
_F16_OFF = lazy(r"F16\s*=\s*OFF|\bFP32 build\b", re.I)
_FA_ON = lazy(r"(?<![\w-])-fa\s*(?:1|on)\b", re.I)
_FA_OFF = lazy(r"(?<![\w-])-fa\s*(?:0|off)\b", re.I)
_NO_DNNL = lazy(r"\bno oneDNN\b|GGML_SYCL_DNN\s*=\s*OFF|GGML_SYCL_ENABLE_DNN\s*=\s*0|GGML_SYCL_DISABLE_DNN\s*=\s*1", re.I)
_AFTER_DECODE = lazy(r"\bprompt after (?:a )?decode\b", re.I)


@lru_cache(maxsize=256)
def parse_build(text: str) -> Build:
    """The Build a row's `build` text states: the first date, the PRs whose code it holds ("PR #N head", "with PR #N";
    not "before PR #N" or "PR #N base", which name a build without it), the reorder switch, GGML_SYCL_F16,
    llama-bench's flash-attention flag and a build without oneDNN ("no oneDNN", "GGML_SYCL_DNN=OFF"), or with it
    switched off at run time (GGML_SYCL_DISABLE_DNN=1 of PR #12972, later GGML_SYCL_ENABLE_DNN=0: the same oneMKL branch),
    and a prompt measured after a decode-sized batch on the same loaded model ("prompt after decode": reorder_dequant_seconds).

    Why strict: any "#N" used to count as included, so "master before PR #14125" was priced with #14125's prompt-output
    change it lacks (the rule the published file states: a PR named in `build` is in the build)."""
    if not text:
        return NEWEST
    m = _DATE.search(text)
    date = f"{m.group(1)}-{m.group(2)}-{m.group(3) or '01'}" if m else ""
    reorder = False if _OFF.search(text) else (True if _ON.search(text) else None)
    f16 = True if _F16_ON.search(text) else (False if _F16_OFF.search(text) else None)
    fa = True if _FA_ON.search(text) else (False if _FA_OFF.search(text) else None)
    dnnl = False if _NO_DNNL.search(text) else None
    return Build(date, frozenset(int(a or b) for a, b in _PR.findall(text)), reorder, f16, fa, dnnl,
                 bool(_AFTER_DECODE.search(text)))


def assume_build(text: str, date: str | None = None):
    """Within it, SYCL estimates take the paths of the llama.cpp build `text` states (scripts/fit_speed.py per row).
    `date`: the row's `build_date` (YYYY-MM-DD), taken where the text states no date of its own. Why: a build named by
    its number alone ("b8840-12-gec6f7a6a5", unseen_s29_b1_sycl.yaml, build_date 2026-04-21) otherwise read as the
    newest llama.cpp, with oneDNN's XMX attention of 2026-07-15 (docs/methodology.md 5b-sycl30)."""
    build = parse_build(text or "")
    if date and not build.date:
        build = replace(build, date=str(date))
    return pushed(_BUILDS, build)


def current() -> Build:
    return _BUILDS[-1] if _BUILDS else NEWEST


def with_device_build(devices):
    """Within it, an estimate on Intel GPUs named "sycl fp32" / "sycl fp16" (catalog/backend_words.py) takes that
    GGML_SYCL_F16 on the build it already has (the newest llama.cpp for a user estimate); a row's own build
    (assume_build) that states the flag keeps it. Unsaid, or GPUs that say both: nothing changes.

    Why: the switch moves a prompt 1.5-3.4x (PR #23996's B70 table) and both builds are what users run: the CMake
    default was OFF until PR #23996, and llama.cpp's Ubuntu release ships an fp32 and an fp16 package
    (release.yml ubuntu-24-sycl; docs/methodology.md 5b-sycl31b)."""
    said = {d.sycl_build for d in devices if d.backend == "sycl" and d.sycl_build}
    build = current()
    if len(said) != 1 or build.f16 is not None:
        return nullcontext()
    return pushed(_BUILDS, replace(build, f16=said.pop() == "fp16"))


def sycl_build_note(devices) -> str | None:
    """The line fit and serve print for an Intel GPU that llama.cpp runs on SYCL: which GGML_SYCL_F16 its prompt
    figures assume and how to ask for the other (the word after 'sycl'); None without such a GPU."""
    sycl = [d for d in devices if d.vendor == "intel" and d.backend == "sycl"]
    if not sycl:
        return None
    name = sycl[0].matched_profile or "arc b580"
    said = {d.sycl_build for d in sycl} - {""}
    if said == {"fp32"}:
        return (f"Intel GPU under SYCL, FP32 build (GGML_SYCL_F16=OFF, as named): prompt GEMMs on the vector lanes, "
                f"1.5-3.4x slower than an FP16 build's (llama.cpp PR #23996); --hardware '{name} sycl fp16' for that")
    if said == {"fp16"}:
        return "Intel GPU under SYCL, FP16 build (GGML_SYCL_F16=ON, as named): prompt GEMMs on XMX"
    return (f"Intel GPU under SYCL: prompt speed assumes a GGML_SYCL_F16=ON build (llama.cpp's default since PR #23996; "
            f"its docs' build command, release packages and intel Docker images); an OFF build (the default before it, "
            f"the ubuntu-sycl-fp32 release package) prompts 1.5-3.4x slower: --hardware '{name} sycl fp32'")


def engine_sycl_notes(eng, devices) -> list[str]:
    """llama.cpp on an Intel GPU (SYCL): which GGML_SYCL_F16 build the prompt figures assume (sycl_build_note), for
    fit, serve and cost's fleet notes. An engine without ggml-sycl (data/engines.yaml refused_backend_words: Ollama
    runs such a GPU on Vulkan, vLLM on XPU) gets no note."""
    if "sycl" in (eng.params.get("refused_backend_words") or ()):
        return []
    note = sycl_build_note(devices)
    return [note] if note else []


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


def _chip(device: Device | None) -> str:
    """The GPU die of a device as the spec table names it ("DG2-512" is ACM-G10), "" when unknown."""
    if device is None or not device.matched_profile:
        return ""
    from ..catalog.gpu_table import by_id

    return str((by_id(device.matched_profile) or {}).get("chip") or "")


def decode_kernel(ggml_type: str, build: Build | None = None, device: Device | None = None) -> str:
    """The one-token kernel ggml_sycl_mul_mat runs for a matrix of this type at this build (data/speed.yaml
    `sycl_paths.decode_kernel`): "DMMV" or "MMVQ", with the layout it reads ("DMMV reordered", "MMVQ block", ...).

    Why it is stated apart from the layout: the two kernels do different work per weight (DMMV dequantizes to floats
    and multiplies by the float activations; MMVQ first quantizes the activations to q8_1, one more kernel per call,
    and takes integer dot products), and the rows' builds ran both: DMMV everywhere until the reordered MMVQ took
    precedence (llama.cpp PR #12858, 2025-05-09), DMMV again for an ACM-G10 GPU's reordered Q4_0 from PR #22291. The
    speed model charges the layout (block_layout_seconds), not the kernel: the label is what the held-out report
    groups the errors by (benchmarks/sycl_heldout.py; docs/methodology.md 5b-sycl6)."""
    build = build or current()
    rules = _rules().get("decode_kernel") or {}
    layout = matvec_path(ggml_type, build)
    dmmv = ggml_type in set(rules.get("dmmv_types") or ())
    if layout == "reordered":
        priority = rules.get("mmvq_priority")
        kernel = ("MMVQ" if priority and _has(build, priority)
                  and ggml_type not in set(rules.get("reordered_dmmv_only") or ()) else "DMMV")
        exception = rules.get("acm_g10_q4_0_dmmv")
        if (kernel == "MMVQ" and exception and _has(build, exception) and ggml_type in exception["types"]
                and _chip(device) in exception["chips"]):
            kernel = "DMMV"
    elif ggml_type == "BF16":  # no MMVQ; DMMV from PR #21580, before it a GEMM (bf16_matvec_seconds)
        bf16 = _rules().get("bf16_weights") or {}
        return ("DMMV" if not bf16 or _has(build, bf16["dmmv"])
                else "GEMM fp32" if bf16_fp32_path(build) else "GEMM bf16")
    else:
        kernel = "DMMV" if dmmv else "MMVQ"
    return f"{kernel} {layout}"


def stream_bandwidth(device: Device) -> float | None:
    """Bytes per second an Intel GPU's kernels read at most: the spec sheet's figure, or lower where a memory
    microbenchmark outside llama.cpp measured the die below it (data/speed.yaml `sycl_paths.read_bandwidth`: the
    Alchemist die, ACM-G10, ~405 GB/s on both its 16 and 17.5 Gbps cards; the Max 1100 737 of 1,229 GB/s).

    Why: one bandwidth share (the SYCL fit's) of the spec figure charged an A770's mat-vecs 560 GB/s x share where the
    die reads 407 at most, while an Xe2 card reads near its spec: the fitted share fell between the two, every
    Alchemist row predicted fast and every Xe2 row slow (docs/methodology.md 5b-sycl9, 5b-sycl12). Streaming at the
    share of the measured figure (docs/methodology.md 5b-sycl13). None without a spec figure."""
    spec = device.bandwidth_bytes_per_s
    if not spec or device.vendor != "intel":
        return spec
    rule = _rules().get("read_bandwidth") or {}
    cap = ((rule.get("profiles") or {}).get(device.matched_profile or "")
           or (rule.get("chips") or {}).get(_chip(device)))
    return min(spec, int(float(cap) * 1e9)) if cap else spec


def stream_machine(machine):
    """`machine` with each SYCL device's bandwidth at stream_bandwidth: what every decode and prefill term of
    estimate/speed.py streams at on ggml-sycl (the machine itself when nothing changes)."""
    devices = tuple(replace(d, bandwidth_bytes_per_s=bw)
                    if d.backend == "sycl" and (bw := stream_bandwidth(d)) != d.bandwidth_bytes_per_s else d
                    for d in machine.devices)
    return machine if devices == tuple(machine.devices) else replace(machine, devices=devices)


def ssm_scan_on_cpu(model, build: Build | None = None) -> bool:
    """True when llama.cpp runs this model's SSM_SCAN on the CPU under SYCL at this build (data/speed.yaml
    `sycl_paths.ssm_scan`): every build before PR #22149 (2026-05-07), and Mamba-2 shapes the kernel does not take
    (d_state other than 128 / 256, a head not a multiple of 16 lanes) or Mamba-1 after it."""
    ssm = getattr(model, "ssm", None)
    rule = _rules().get("ssm_scan") or {}
    if ssm is None or ssm.kind not in ("mamba", "mamba2") or not rule:
        return False
    if not _has(build or current(), rule["since"]) or ssm.kind == "mamba":
        return True
    heads = ssm.dt_rank or 1  # Mamba-2: one dt per head (llama.cpp ssm_dt_rank = n_head)
    head_dim = ssm.d_inner // heads
    return (ssm.d_state not in set(rule.get("mamba2_d_state") or ())
            or head_dim % int(rule.get("mamba2_head_multiple") or 1) != 0)


def ssm_fallback_seconds(model, layers: range, bandwidth: float, host_bandwidth: float) -> float:
    """Decode seconds per token the recurrent layers among `layers` add when their SSM_SCAN runs on the CPU
    (ssm_scan_on_cpu): each copies its state (n_embd_s F32) to the host and the new one back over PCIe
    (data/speed.yaml pcie_bytes_per_s), the CPU reads and rewrites it at `host_bandwidth`, and the GPU no longer
    makes the scan's own two passes over it at `bandwidth` (the cache copy-back's two stay: speed_work's 4 passes).
    Why: the op missing from ggml-sycl splits every Mamba layer's graph at the scan (Nemotron-3-Nano's 23 of 52
    layers, 2.1 MB of state each), which streaming the state on the GPU does not cost."""
    if not ssm_scan_on_cpu(model):
        return 0.0
    from .memory_kv import recurrent_state_widths
    from .speed_factors import _speed_data

    state = 4.0 * recurrent_state_widths(model.ssm)[1]
    n = sum(1 for i in layers if model.is_recurrent(i))
    link = float(_speed_data().get("pcie_bytes_per_s") or 0.0)
    if not n or not link:
        return 0.0
    per_layer = 2 * state / link + 2 * state / host_bandwidth - (2 * state / bandwidth if bandwidth else 0.0)
    return n * max(0.0, per_layer)


def vector_lanes(device: Device) -> float | None:
    """FP32 lanes of an Intel GPU: the spec table's shader count, else 128 per Xe core (`gpu_cores` of an iGPU
    profile: Xe-LPG 16 EUs x 8, Xe2 8 XVEs x 16; data/apu.yaml)."""
    from .kernel_path import vector_lanes as lanes

    return lanes(device, lanes_per_core=128)


_BLOCK_OFF: list = []
_RATE_ONLY: list = []


def block_rate_only():
    """Within it, the block layout has its per-weight limit alone (the formula before 5b-sycl4), for the record."""
    return pushed(_RATE_ONLY)


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
    rates = [_pair_lane_rate(pair, "block_tokens_per_s", "reordered_tokens_per_s", share)
             for pair in _rules().get("plain_table") or ()]
    return sum(rates) / len(rates) if rates else 0.0


def _pair_lane_rate(pair: dict, slow_key: str, fast_key: str, share: float) -> float:
    """Weights per FP32 vector lane per clock of the slower kernel of a same-machine pair (plain_rate, mmvq_rate):
    it takes dt = 1/slow - 1/fast s more per token over the pair's quant matrices, which the faster one streams at
    share x spec bandwidth, so its time is dt + bytes / (share x bandwidth)."""
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .kernel_path import gpu_clock_hz
    from .speed_work import token_work

    dev = machine_from_profile(hw_names.resolve(pair["hardware"]), 1).devices[0]
    work = token_work(get_model(pair["model"]), get_quant(pair["quant"]))
    mats = [(n, b) for layer in work.layer_matrices for ty, n, b in layer if ty == pair["quant"]]
    weights, nbytes = sum(n for n, _ in mats), sum(b for _, b in mats)
    dt = 1.0 / float(pair[slow_key]) - 1.0 / float(pair[fast_key])
    slow_s = dt + nbytes / (share * stream_bandwidth(dev))
    return weights / (slow_s * vector_lanes(dev) * gpu_clock_hz(dev))


@lru_cache(maxsize=256)
def plain_bandwidth_share(share: float) -> float:
    """The share of spec bandwidth ggml-sycl's block-layout mat-vecs stream at, derived from the same pairs as plain_rate
    (data/speed.yaml `sycl_paths.plain_table`) at bandwidth share `share`: the pair's Q4_0 matrices take dt + bytes /
    (share x bandwidth) on the block layout, so they stream at bytes / (bandwidth x that); the mean of the pairs.

    Why a second limit: the layout's cost is its loads (PR #21527: Q8_0's "34-byte blocks (not power-of-2) cause poor
    cache line utilization and non-coalesced memory access patterns", "21%" of the B70's bandwidth before its reorder),
    which scale with the bytes a block holds, not its weights; plain_rate, per weight, gives a Q8_0 matrix (34 bytes per
    32 weights, 18 for Q4_0) no cost beyond streaming at all. Both are one pair's dt read two ways; the slower binds."""
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .speed_work import token_work

    shares = []
    for pair in _rules().get("plain_table") or ():
        dev = machine_from_profile(hw_names.resolve(pair["hardware"]), 1).devices[0]
        work = token_work(get_model(pair["model"]), get_quant(pair["quant"]))
        nbytes = sum(b for layer in work.layer_matrices for ty, _, b in layer if ty == pair["quant"])
        dt = 1.0 / float(pair["block_tokens_per_s"]) - 1.0 / float(pair["reordered_tokens_per_s"])
        block_s = dt + nbytes / (share * stream_bandwidth(dev))
        shares.append(nbytes / (stream_bandwidth(dev) * block_s))
    return sum(shares) / len(shares) if shares else 0.0


def bf16_fp32_path(build: Build | None = None) -> bool:
    """True when a BF16 weight matrix's GEMM takes ggml_sycl_op_mul_mat_sycl's FP32 branch at this build
    (data/speed.yaml `sycl_paths.bf16_weights`): the matrix converted to an FP32 scratch copy, an FP32 GEMM. That is
    every build without oneDNN's bf16 fast path: before PR #22119 (2026-04-22), or one that does not link oneDNN."""
    rule = _rules().get("bf16_weights") or {}
    if not rule:
        return False
    build = build or current()
    fast = rule.get("dnnl_fast_path")
    return not (build.dnnl is not False and fast and _has(build, fast))


def bf16_matvec_seconds(matrices: tuple, bandwidth: float, build: Build | None = None) -> float:
    """Seconds a layer's BF16 mat-vecs take beyond streaming their bytes at `bandwidth` at a build before BF16 had a
    DMMV kernel (PR #21580, 2026-05-22) whose GEMM takes the FP32 branch (bf16_fp32_path): per weight the conversion
    reads 2 and writes 4 bytes and the one-column GEMM reads the 4 again (data/speed.yaml `sycl_paths.bf16_weights`
    fp32_branch_bytes_per_weight, 10), where the streamed 2 are already counted; 0 otherwise.

    Why: such a build ran a BF16 model's decode at a fifth of a quantized model's bytes rate; kyuz0's Arc Pro B70 logs
    at b9039 (no oneDNN) read 5.4 t/s for a 9B BF16 model the streaming estimate put at 20 (docs/methodology.md
    5b-sycl11)."""
    rule = _rules().get("bf16_weights") or {}
    build = build or current()
    if not rule or not bandwidth or _has(build, rule["dmmv"]) or not bf16_fp32_path(build):
        return 0.0
    moved = float(rule["fp32_branch_bytes_per_weight"])
    return sum((moved * n - b) / bandwidth for ty, n, b in matrices if ty == "BF16" and moved * n > b)


@lru_cache(maxsize=256)
def mmvq_rate(share: float) -> float:
    """Weights per FP32 vector lane per clock of ggml-sycl's reordered MMVQ where it is issue-bound (data/speed.yaml
    `sycl_paths.mmvq_issue`), derived from PR #22291's same-machine pair at bandwidth share `share`, as plain_rate is
    from Intel's: the A770's reordered Q4_0 at 49 t/s on MMVQ, 65.24 on DMMV, so the MMVQ takes dt = 1/49 - 1/65.24 s
    more per token over the Q4_0 matrices, which the reordered DMMV streams at share x spec bandwidth; the rate is
    weights / (lanes x clock x (dt + bytes / (share x bandwidth))).

    Why: one bandwidth share for Alchemist and Xe2 put every Xe2 card's reordered MMVQ slow and the A770's fast (5b-sycl9);
    closed PR #21992 calls Q4_0 and Q4_K MMVQ "dp4a-compute-bound on Intel Arc", so on Xe-HPG that kernel is held by
    its integer dot-product issue, not the memory, and the share is then fitted on rows that stream."""
    pair = (_rules().get("mmvq_issue") or {}).get("pair")
    return _pair_lane_rate(pair, "mmvq_tokens_per_s", "dmmv_tokens_per_s", share) if pair else 0.0


def _architecture_types(device: Device, rule_name: str) -> frozenset:
    """The `types` of data/speed.yaml `sycl_paths.<rule_name>` where this Intel device's architecture is among the rule's
    `architectures`, empty elsewhere."""
    rule = _rules().get(rule_name) or {}
    if not rule or device.vendor != "intel":
        return frozenset()
    from .vulkan_path import architecture

    return frozenset(rule.get("types") or ()) if architecture(device) in set(rule.get("architectures") or ()) else frozenset()


def _mmvq_issue_types(device: Device) -> frozenset:
    """The types whose reordered MMVQ is issue-bound on this device's architecture (`sycl_paths.mmvq_issue`)."""
    return _architecture_types(device, "mmvq_issue")


def expert_layout_seconds(expert_layers: tuple, device: Device, bandwidth: float, clock_hz: float | None,
                          build: Build | None = None) -> float:
    """Decode seconds a SYCL MoE model's routed-expert mat-vecs add where their tensors stay on the block layout
    although the type's dense tensors are reordered (data/speed.yaml `sycl_paths.moe_reorder`; docs/methodology.md
    5b-sycl20). The one-token MUL_MAT_ID reorders expert weights only through opt_for_reorder_id, which takes Q4_K, Q5_K
    and Q6_K and exists from PR #24452 (2026-06-16); should_reorder_tensor takes MUL_MAT nodes only. So:
    - an expert tensor of any other type (Q8_0, Q4_0, Q3_K, Q2_K, MXFP4 ...) is read on the block layout at every build,
      charged as block_layout_seconds charges a dense block-layout matrix;
    - a Q4_K / Q5_K / Q6_K expert tensor before #24452 is read on the block layout too, at the rate PR #24452's
      same-machine pair measured for exactly that change (expert_block_share): its bytes stream at that share of the
      reordered rate.
    - from PR #21920 on, a Q4_K / Q5_K / Q6_K expert tensor whose dense type is on the block layout too (the reorder
      switch off, GGML_SYCL_DISABLE_OPT=1, or the type not yet reordered) is read by the same fused MMVQ on the same
      block layout (fused_block_experts), so it takes expert_block_share as well, not the DMMV's block rate
      block_layout_seconds would charge (docs/methodology.md 5b-sycl29).
    Other expert tensors whose dense type is on the block layout: 0 here (block_layout_seconds charges them)."""
    build = build or current()
    rule = _rules().get("moe_reorder") or {}
    if not rule or not expert_layers or not bandwidth:
        return 0.0
    from .kernel_path import FLOAT_TYPES

    on = reorder_on(build)
    taken = frozenset(rule.get("types") or ())
    reordered_here = taken if _has(build, rule) else frozenset()
    total = 0.0
    for mats in expert_layers:
        on_block = [m for m in mats if on and m[0] not in FLOAT_TYPES and m[0] not in reordered_here
                    and matvec_path(m[0], build) == "reordered"]
        other = tuple(m for m in on_block if m[0] not in taken)
        if other:
            total += block_layout_seconds(other, device, bandwidth, clock_hz, force_block=True)
        kquant = sum(b for ty, _, b in on_block if ty in taken) + sum(b for _, _, b in fused_block_experts(mats, build))
        if kquant:
            share = round(bandwidth / device.bandwidth_bytes_per_s, 6) if device.bandwidth_bytes_per_s else 0.0
            ratio = expert_block_share(share)
            total += kquant / bandwidth * (1.0 / ratio - 1.0) if ratio else 0.0
    return total


@lru_cache(maxsize=64)
def _fused_block_types(build: Build) -> frozenset:
    rules = _rules()
    rule = rules.get("moe_reorder") or {}
    fused = (rules.get("moe_prefill") or {}).get("decode_fused")
    if not rule or not fused or not _has(build, fused) or (reorder_on(build) and _has(build, rule)):
        return frozenset()
    return frozenset(rule.get("types") or ())


def fused_block_experts(expert_mats: tuple, build: Build | None = None) -> tuple:
    """The routed-expert matrices of one layer (type, weights, bytes) that the fused one-token MUL_MAT_ID (PR #21920 on)
    reads on the block layout while their type's dense tensors are on the block layout too: Q4_K / Q5_K / Q6_K expert
    tensors at a build with the fused kernel, where the reorder switch is off or the build predates opt_for_reorder_id
    (PR #24452) and matvec_path puts the type on the block layout.

    Why: ggml_sycl_mul_mat_id_mmvq_fused (ggml 267de612 .. d99724f2) is tried first for every one-token MUL_MAT_ID and
    refuses only a reordered src0; GGML_SYCL_DISABLE_OPT=1 (or no reorder for the type) leaves the tensor on the block
    layout, so it runs the fused MMVQ on the block layout, the path PR #24452's pair measured before the PR
    (expert_block_share), not ggml_sycl_mul_mat's DMMV, whose block rate block_layout_seconds charges. block_charged
    takes these out of block_layout_seconds' list; expert_layout_seconds charges them."""
    build = build or current()
    types = _fused_block_types(build)
    if not types:
        return ()
    return tuple(m for m in expert_mats if m[0] in types and matvec_path(m[0], build) == "block")


def block_charged(mats: tuple, expert_mats: tuple, build: Build | None = None) -> tuple:
    """A layer's matrices less its fused_block_experts (each taken out once): what block_layout_seconds charges."""
    moved = list(fused_block_experts(expert_mats, build))
    if not moved:
        return mats
    out = []
    for m in mats:
        if m in moved:
            moved.remove(m)
        else:
            out.append(m)
    return tuple(out)


@lru_cache(maxsize=64)
def expert_block_share(share: float) -> float:
    """The share of the reordered rate at which a Q4_K / Q5_K / Q6_K expert tensor streams on the block layout under the
    fused MoE mat-vec, derived from PR #24452's same-machine pair (data/speed.yaml `sycl_paths.moe_reorder.pair`: a B60,
    Qwen3.6-35B-A3B Q4_K_M, master 62.95 -> the PR 68.95 tokens/s, the expert tensors' layout the one change) at the
    family's bandwidth share `share`: the reordered build streams the routed experts' active bytes at share x the
    device's read rate, the block layout takes dt = 1/before - 1/after more; the ratio is the one time over the other.

    Why not block_layout_seconds' rate: that is derived from Intel's Q4_0 DMMV pairs (18-byte blocks, the dequantizing
    kernel) and charges the fused MMVQ's 144..210-byte K-quant blocks 1.7x the time this pair measured."""
    measured = _pair_measurement("moe_reorder", "layer_expert_matrices") if share else None
    if measured is None:
        return 0.0
    nbytes, dt, bw = measured
    reordered_s = nbytes / (share * bw)
    return reordered_s / (reordered_s + dt) if nbytes and dt > 0 else 0.0


def _pair_measurement(rule: str, matrices: str) -> tuple[float, float, float] | None:
    """(bytes, extra seconds a token, device read rate) of a same-machine block-layout / reordered pair in
    data/speed.yaml `sycl_paths.<rule>.pair`: the bytes of the pair model's `matrices` (a speed_work.TokenWork field)
    whose type the rule lists, the block build's extra time per token 1/block - 1/reordered, and the pair device's
    stream_bandwidth. None where the rule has no pair."""
    spec = _rules().get(rule) or {}
    pair = spec.get("pair")
    if not pair:
        return None
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .speed_work import token_work

    dev = machine_from_profile(hw_names.resolve(pair["hardware"]), 1).devices[0]
    work = token_work(get_model(pair["model"]), get_quant(pair["quant"]))
    types = set(spec.get("types") or ())
    nbytes = sum(b for layer in getattr(work, matrices) for ty, _, b in layer if ty in types)
    dt = 1.0 / float(pair["block_tokens_per_s"]) - 1.0 / float(pair["reordered_tokens_per_s"])
    return nbytes, dt, stream_bandwidth(dev)


def _own_block_types(device: Device) -> frozenset:
    """The types whose block layout has its own measured rate on this device's architecture (`sycl_paths.block_pair`)."""
    return _architecture_types(device, "block_pair")


@lru_cache(maxsize=64)
def block_type_share(share: float) -> float:
    """The share of spec bandwidth a Q8_0 matrix streams at on Xe2's block layout, derived from PR #21527's same-machine
    pair (data/speed.yaml `sycl_paths.block_pair`: an Arc Pro B70, Qwen3.5-27B Q8_0, 4.88 t/s on the block layout, 15.24
    reordered) at bandwidth share `share`, as plain_bandwidth_share reads Intel's Q4_0 pairs: the Q8_0 matrices take
    dt + bytes / (share x bandwidth) on the block layout, so they stream at bytes / (bandwidth x that).

    Why its own: the PR measures "21%" of the B70's bandwidth for Q8_0's 34-byte blocks ("not power-of-2 ... poor cache
    line utilization and non-coalesced memory access"), where Intel's Q4_0 pairs on Xe-HPG give about twice that; the
    B70's Q8_0 block-layout row was predicted +86% fast at the Q4_0 figure."""
    measured = _pair_measurement("block_pair", "layer_matrices") if share else None
    if measured is None:
        return 0.0
    nbytes, dt, bw = measured
    return nbytes / (bw * (dt + nbytes / (share * bw))) if nbytes and bw else 0.0


def block_layout_seconds(matrices: tuple, device: Device, bandwidth: float, clock_hz: float | None,
                         force_block: bool = False) -> float:
    """Seconds a layer's mat-vecs take beyond streaming their bytes at `bandwidth` where the kernel, not the memory,
    binds: on the block layout, per matrix max(0, weights / (rate x lanes x clock) - bytes / bandwidth), for
    block-quantized types not reordered (the rate is plain_rate at the share `bandwidth` is of the device's spec
    bandwidth); and a BF16 matrix's FP32 GEMM before BF16 had a mat-vec kernel (bf16_matvec_seconds). 0 inside
    block_layout_off(): scripts/fit_speed.py counts both as known time."""
    if _BLOCK_OFF:
        return 0.0
    bf16 = bf16_matvec_seconds(matrices, bandwidth)
    lanes = vector_lanes(device)
    if not lanes or not clock_hz or not device.bandwidth_bytes_per_s:
        return bf16
    from .kernel_path import FLOAT_TYPES

    build = current()
    issue = _mmvq_issue_types(device)
    issued = [] if force_block else [m for m in matrices
                                     if m[0] in issue and decode_kernel(m[0], build, device) == "MMVQ reordered"]
    blocked = [m for m in matrices if m[0] not in FLOAT_TYPES and (force_block or matvec_path(m[0], build) == "block")]
    if not issued and not blocked:
        return bf16
    share = round(bandwidth / device.bandwidth_bytes_per_s, 6)
    extra = bf16
    mrate = mmvq_rate(share) if issued else 0.0
    for _, n_weights, nbytes in issued if mrate else ():
        extra += max(0.0, n_weights / (mrate * lanes * clock_hz) - nbytes / bandwidth)
    rate = plain_rate(share) if blocked else 0.0
    if not rate:
        return extra
    per_s = rate * lanes * clock_hz
    streamed = (plain_bandwidth_share(share) * device.bandwidth_bytes_per_s) if not _RATE_ONLY else 0.0
    own = _own_block_types(device)
    for ty, n_weights, nbytes in blocked:
        # before PR #8106 / #8266 (2024-07) the non-K DMMV ran 32-wide sub-groups: more lane-cycles a weight
        issued = n_weights / per_s + n_weights * subgroup_lane_cycles(ty, build) / (lanes * clock_hz)
        # Q8_0 on Xe2: its own measured block-layout rate (block_type_share), else Intel's Q4_0 pairs' (plain_bandwidth_share)
        rate_bw = (block_type_share(share) * device.bandwidth_bytes_per_s) if ty in own and not _RATE_ONLY else streamed
        block = max(issued, nbytes / rate_bw if rate_bw else 0.0)
        extra += max(0.0, block - nbytes / bandwidth)
    return extra


@lru_cache(maxsize=64)
def subgroup_lane_cycles(ggml_type: str, build: Build) -> float:
    """Lane-cycles per weight a block-layout DMMV of a non-K type took beyond plain_rate's at a build before llama.cpp
    PR #8106 / #8266 moved Intel GPUs to 16-wide sub-groups (data/speed.yaml `sycl_paths.dmmv_subgroup`): for each step
    the build lacks, the A770 pair's dt = 1/before - 1/after over its Q4_0 weights, in that A770's lanes x clock; 0 for
    the K-quants (they kept 32), for any build from 2024-07-05 on and for the newest.

    Why: plain_rate is derived from Intel's 2025-02 pair (42 -> 55 t/s); the same A770 read 34 and 37 t/s on the
    block layout in 2024 (SYCL.md News 2024.5), and the 2024 rows (Intel's two, an A770M of 2024-06) were predicted
    24-48% fast; the two PRs' own pairs give the time the sub-group fix took off (docs/methodology.md 5b-sycl12)."""
    rule = _rules().get("dmmv_subgroup") or {}
    if ggml_type not in set(rule.get("types") or ()):
        return 0.0
    return sum(_step_lane_cycles(i) for i, step in enumerate(rule.get("steps") or ()) if not _has(build, step))


@lru_cache(maxsize=8)
def _step_lane_cycles(index: int) -> float:
    """Lane-cycles per weight one dmmv_subgroup step took off its pair's Q4_0 matrices (subgroup_lane_cycles)."""
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .kernel_path import gpu_clock_hz
    from .speed_work import token_work

    step = _rules()["dmmv_subgroup"]["steps"][index]
    dev = machine_from_profile(hw_names.resolve(step["hardware"]), 1).devices[0]
    work = token_work(get_model(step["model"]), get_quant(step["quant"]))
    weights = sum(n for layer in work.layer_matrices for ty, n, _ in layer if ty == step["quant"])
    dt = 1.0 / float(step["before_tokens_per_s"]) - 1.0 / float(step["after_tokens_per_s"])
    return dt * vector_lanes(dev) * gpu_clock_hz(dev) / weights


@lru_cache(maxsize=1)
def _eventless_saving() -> float:
    """Seconds a decode layer's submissions stopped costing the host at PR #14244 (data/speed.yaml
    `sycl_paths.eventless_submit`): per same-machine pair, (1/before - 1/after) over the model's layers; their mean."""
    from ..catalog.models import get as get_model

    rule = _rules().get("eventless_submit") or {}
    per_layer = [(1.0 / float(p["before_tokens_per_s"]) - 1.0 / float(p["after_tokens_per_s"]))
                 / get_model(p["model"]).n_layers for p in rule.get("pairs") or ()]
    return sum(per_layer) / len(per_layer) if per_layer else 0.0


def submission_saving_seconds(build: Build | None = None) -> float:
    """Seconds less per decode layer (and per MoE layer's routing submissions, at the same per-submission rate) at a
    build with PR #14244's eventless kernel submission: 41.6 us, derived from that PR's B580 pairs (_eventless_saving);
    0 before it, 0 from its revert (PR #15910, 2025-09-12) on, so 0 for the newest build, and 0 inside
    block_layout_off() (the fit's unit features: scripts/fit_speed.py counts it as known time, as it counts the
    block-layout seconds).

    Why: ggml-sycl submits every op on its own (no graphs by default, 5b-sycl3), so the fitted per-layer time is mostly
    the host's submissions; from #14244 to its revert each submission skipped creating an event the in-order queue
    never waits on. One per-layer time for every build charged the summer-2025 rows (the B580's PR #14504 pair) the
    event cost they did not pay: the B580's July rows -24..-33% (docs/methodology.md 5b-sycl7)."""
    rule = _rules().get("eventless_submit")
    build = build or current()
    if _BLOCK_OFF or not rule or not _has(build, rule):
        return 0.0
    if rule.get("reverted") and _has(build, rule["reverted"]):  # PR #15910 (2025-09-12) put the events back
        return 0.0
    return _eventless_saving()


def fp32_gemm(build: Build | None = None) -> bool:
    """True when the prompt GEMMs run in FP32 (a build stated without GGML_SYCL_F16)."""
    return (build or current()).f16 is False


@lru_cache(maxsize=1)
def _library_shares() -> tuple[float, float]:
    """(XMX FP16 share, vector FP32 share) of their peaks that oneMKL's GEMM reached on an Arc A770 (data/speed.yaml
    `sycl_paths.fp32_gemm`: 58.7353 of 157.3 TFLOPS = 0.373, 16.4633 of 4096 lanes x 2 x 2.4 GHz = 0.837); (0, 0)
    without the entry."""
    rule = _rules().get("fp32_gemm") or {}
    if not rule:
        return 0.0, 0.0
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile

    dev = machine_from_profile(hw_names.resolve(str(rule["device"])), 1).devices[0]
    lanes = vector_lanes(dev)
    if not lanes or not dev.fp16_flops:
        return 0.0, 0.0
    fp32 = float(rule["fp32_tflops"]) * 1e12 / (lanes * 2 * float(rule["clock_mhz"]) * 1e6)
    return float(rule["fp16_tflops"]) * 1e12 / dev.fp16_flops, fp32


@lru_cache(maxsize=1)
def _xe2_share() -> float:
    """The share of its XMX FP16 figure an Xe2 GPU's library GEMM reaches (data/speed.yaml `sycl_paths.prompt_gemm.xe2`:
    a B60's 97.5 of 98.3 TFLOPS, 0.992); 0 without the entry."""
    rule = (_rules().get("prompt_gemm") or {}).get("xe2") or {}
    if not rule:
        return 0.0
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile

    dev = machine_from_profile(hw_names.resolve(str(rule["device"])), 1).devices[0]
    return float(rule["tflops"]) * 1e12 / dev.fp16_flops if dev.fp16_flops else 0.0


def library_share(device: Device) -> float | None:
    """The share of the device's listed XMX FP16 figure the library's prompt GEMM reaches when the GEMMs run in FP16
    (data/speed.yaml `sycl_paths.prompt_gemm`): Xe2's 0.992, Xe-HPG's 0.373 (Xe-HPC and Xe-LPG+ taken as Xe-HPG); None
    on a GPU without XMX (gemm_rate then takes the vector path)."""
    from .vulkan_path import architecture

    hpg, _ = _library_shares()
    arch = architecture(device)
    groups = (_rules().get("prompt_gemm") or {}).get("xmx_architectures") or {}
    if arch in set(groups.get("xe2") or ()):
        return _xe2_share() or hpg
    if arch in set(groups.get("xe_hpg") or ()):
        return hpg
    return None


def gemm_rate(device: Device, clock_hz: float | None) -> float | None:
    """FLOPS a prompt batch's GEMMs run at on `device` under the current build: the rate the library (oneDNN / oneMKL,
    which ggml_sycl_op_mul_mat_sycl calls) reaches on that architecture in its own benchmarks, not a share fitted to
    llama-bench rows (docs/methodology.md 5b-sycl8). FP16 build on XMX: library_share x the listed FP16 figure; an
    FP32 build, or a GPU without XMX (Xe-LPG, Xe-LP: no FP16 GEMM measurement read, so not its packed-FP16 vector
    figure either): 0.837 x vector lanes x 2 x clock, the FP32 share measured on the A770. None without a figure, or off
    Intel (the listed FP16 figure then stands)."""
    if device.vendor != "intel":
        return None
    share = None if fp32_gemm() else library_share(device)
    if share:
        return share * device.fp16_flops if device.fp16_flops else None
    lanes = vector_lanes(device)
    vector = _library_shares()[1]
    return vector * lanes * 2 * clock_hz if lanes and clock_hz and vector else None


def scratch_traffic_seconds(device: Device, layers: tuple, n_ubatch: int = 512, share: float = 1.0) -> float:
    """Prefill seconds per token that the dequantized scratch copies cost at `share` of spec bandwidth (the prefill
    model passes the family's decode streaming share, 5b-sycl8): per micro-batch, each quantized matrix is read once
    (its bytes) and its copy written once and read once by the GEMM (2 x weights x 2 bytes in FP16, x 4 in FP32)."""
    bw = (stream_bandwidth(device) or 0) * share
    if not bw or not layers:
        return 0.0
    from .kernel_path import converted_bytes

    width = 4 if fp32_gemm() else 2
    bf16 = bf16_fp32_path()  # BF16 weights into an FP32 copy (read 2, write 4, the GEMM reads 4)
    seen: dict[tuple, float] = {}
    total = 0.0
    for mats in layers:
        x = seen.get(mats)
        if x is None:
            x = seen[mats] = float(converted_bytes(mats, 2 * width)) + (
                sum(b + 2 * 4 * n for ty, n, b in mats if ty == "BF16") if bf16 else 0.0)
        total += x
    return total / max(1, n_ubatch) / bw


def bf16_gemm_seconds(layers: tuple, device: Device, clock_hz: float | None, rate: float) -> float:
    """Prefill seconds per token a build's BF16 weight matrices add when their GEMM takes the FP32 branch
    (bf16_fp32_path): their 2 FLOPs a weight at the vector lanes' FP32 GEMM rate (0.837 x lanes x 2 x clock, oneMKL's
    on an A770, as an FP32 build's) instead of `rate`, the XMX rate the prefill charged them at; 0 otherwise."""
    if not rate or not bf16_fp32_path():
        return 0.0
    lanes = vector_lanes(device)
    vector = _library_shares()[1] * lanes * 2 * clock_hz if lanes and clock_hz else 0.0
    if not vector or vector >= rate:
        return 0.0
    weights = sum(n for mats in layers for ty, n, _ in mats if ty == "BF16")
    return 2.0 * weights * (1.0 / vector - 1.0 / rate)


def flash_attention(build: Build | None = None) -> bool:
    """Whether a prompt's attention runs ggml-sycl's flash-attention kernels (no score matrix in memory): from PR #20190
    (ggml 38a8d9b6, 2026-03-08), when ggml-sycl gained FLASH_ATTN_EXT, where the row states "-fa 1", or states nothing
    and its tool's default was auto (kernel_path.fa_stated_or_default: llama-bench's from 2026-05-30); before it there
    was none to take, whatever the row says."""
    build = build or current()
    rule = (_rules().get("prompt_activations") or {}).get("flash_attn")
    from .kernel_path import fa_stated_or_default

    fa = build.fa if build.fa is not None else fa_stated_or_default(build.date)
    return bool(rule) and fa and _has(build, rule)


def fa_prefill_rate(device: Device, clock_hz: float | None, build: Build | None = None) -> float | None:
    """FLOPs per second of a prompt's flash attention where `build` runs ggml-sycl's tile kernel on the vector lanes
    (from PR #20190 to the oneDNN SDPA path of PR #25222, 2026-07-15): vector lanes x clock x Vulkan-on-Intel's
    measured rate per lane-clock x the half2 factor (data/speed.yaml `sycl_paths.fa_prefill`; docs/methodology.md
    5b-sycl18). None where flash attention is off or the XMX path runs (the matrix rate then stands, as before)."""
    from . import vulkan_intel

    build = build or current()
    rule = _rules().get("fa_prefill") or {}
    if not rule or not flash_attention(build) or _has(build, rule["xmx_since"]):
        return None
    lanes, per = vector_lanes(device), vulkan_intel.fa_prefill_flops_per_lane_cycle()
    return lanes * clock_hz * per * float(rule.get("half2_factor") or 1) if lanes and clock_hz and per else None


def norm_mul_fused(build: Build | None = None) -> bool:
    """Whether `build` runs an RMS_NORM and its MUL by the norm weight as one kernel (llama.cpp PR #26015, ggml
    2413b700, 2026-07-30; data/speed.yaml `sycl_paths.prompt_activations.norm_mul_fused`)."""
    rule = (_rules().get("prompt_activations") or {}).get("norm_mul_fused")
    return bool(rule) and _has(build or current(), rule)


def fa_decode(model, build: Build | None = None) -> bool:
    """Whether a decoded token's attention runs as ggml-sycl's FLASH_ATTN_EXT at `build`: flash attention is taken at
    that build (flash_attention) and every attention layer's K / V head sizes are ones ggml_sycl_get_best_fattn_kernel
    takes there (data/speed.yaml `sycl_paths.fa_decode`: 40-256 with V alike, 512 from PR #21654, MLA's absorbed 576 /
    512). Why: llama.cpp's automatic setting turns flash attention off for a model with a layer the device cannot run,
    and keeps KQ, softmax, KQV and the copy in each layer's graph (layer_nodes.node_ratio counts the difference)."""
    build = build or current()
    rule = _rules().get("fa_decode") or {}
    if not rule or not flash_attention(build):
        return False
    if model.mla is not None:
        mla = rule.get("mla") or {}
        return (model.mla.kv_lora_rank + model.mla.qk_rope_head_dim, model.mla.kv_lora_rank) == (
            int(mla.get("k") or 0), int(mla.get("v") or 0))
    dims = {int(d) for d in rule.get("head_dims") or ()}
    wide = rule.get("wide")
    if wide and _has(build, wide):
        dims.add(int(wide["head_dim"]))
    for layer in range(model.n_layers):
        if not model.has_attention(layer):
            continue
        k = model.layer_head_dim(layer)
        if k not in dims or (model.v_head_dim and model.v_head_dim != k):
            return False
    return True


def _matmul_activation_bytes(rows: int, k: int, f16: bool, dst_copy: bool) -> int:
    """Bytes one prompt token moves through one matmul besides its weights: under GGML_SYCL_F16 its K activations are
    converted to FP16 (read 4, write 2) and the GEMM reads them (2), else it reads the FP32 ones (4); it writes its rows
    in FP32 (4), and before PR #14125 wrote FP16 that a kernel then converted (2 + 2 more)."""
    return (8 * k if f16 else 4 * k) + 4 * rows + (4 * rows if dst_copy else 0)


def _reorder_dequant_types(build: Build) -> frozenset:
    """The types whose weight tensors a prompt GEMM reads on the reordered layout at `build` (data/speed.yaml
    `sycl_paths.prompt_reorder_dequant`): with the reorder on, Q4_0 before PR #13536 (the prompt reordered it itself),
    and after a decode-sized batch every listed type whose reorder kernel the build has; none otherwise."""
    rule = _rules().get("prompt_reorder_dequant") or {}
    reordered = _reordered_types(build)
    if not rule or not reordered:
        return frozenset()
    out: set[str] = set()
    if not _has(build, rule["mat_mat_reorder_removed"]):
        out.update(set(rule.get("mat_mat_types") or ()) & reordered)
    if build.after_decode:
        out.update(set(rule.get("types") or ()) & reordered)
    return frozenset(out)


@lru_cache(maxsize=1)
def reorder_dequant_cycles() -> float:
    """Xe-core cycles a weight the one-lane-per-block dequantization of a reordered Q4_0 / Q8_0 tensor costs a prompt
    micro-batch beyond the block layout's, DERIVED from issue #25203's same-machine pair (data/speed.yaml
    `sycl_paths.prompt_reorder_dequant.pair`: a B70's gemma4 12B Q8_0 pp512, 1604.55 then 941.83 t/s once a pp4 run
    had reordered it): dt = 1/after - 1/before a token, x n_ubatch over the layer matrices' weights of the type, x the
    pair GPU's Xe cores (vector lanes / 128) x boost clock. 0 without the pair."""
    pair = (_rules().get("prompt_reorder_dequant") or {}).get("pair")
    if not pair:
        return 0.0
    from ..catalog import hw_names
    from ..catalog.hardware import machine_from_profile
    from ..catalog.models import get as get_model
    from ..catalog.quants import get_quant
    from .kernel_path import gpu_clock_hz
    from .speed_work import token_work

    dev = machine_from_profile(hw_names.resolve(pair["hardware"]), 1).devices[0]
    work = token_work(get_model(pair["model"]), get_quant(pair["quant"]))
    weights = sum(n for layer in work.layer_matrices for ty, n, _ in layer if ty == pair["quant"])
    dt = 1.0 / float(pair["reordered_tokens_per_s"]) - 1.0 / float(pair["block_tokens_per_s"])
    lanes, clock = vector_lanes(dev), gpu_clock_hz(dev)
    return dt * float(pair["n_ubatch"]) / weights * (lanes / 128) * clock if weights and lanes and clock else 0.0


def reorder_dequant_seconds(layers: tuple, expert_layers: tuple, device: Device, n_ubatch: int,
                            build: Build | None = None) -> float:
    """Prefill seconds per token the reordered layout's dequantization adds to a prompt's Q4_0 / Q8_0 GEMMs where the
    build reads them on it (_reorder_dequant_types): each micro-batch dequantizes every such dense matrix once, its
    weights at reorder_dequant_cycles Xe-core cycles each over the device's Xe cores x boost clock. Routed experts
    (`expert_layers`, part of `layers`) are left out: opt_for_reorder takes MUL_MAT nodes only.

    Why: dequantize_block_q4_0_reorder / q8_0_reorder give one work-item a whole 32-weight block and store its halves
    one by one, 64 bytes apart across the sub-group, where the block layout's kernels store side by side. PR #13536
    names the Q4_0 prompt regression this made until 2025-05-20; PR #12972's table, run with the reorder on, reads its
    Q4_0 prompts at 0.5-0.6x its Q4_K_M ones on a Max 1100 and an Arc 140V (docs/methodology.md 5b-sycl28)."""
    types = _reorder_dequant_types(build or current())
    if not types or device.vendor != "intel" or not layers:
        return 0.0
    from .kernel_path import gpu_clock_hz

    lanes, clock, cycles = vector_lanes(device), gpu_clock_hz(device), reorder_dequant_cycles()
    if not lanes or not clock or not cycles:
        return 0.0
    weights = sum(n for mats in layers for ty, n, _ in mats if ty in types)
    weights -= sum(n for mats in expert_layers for ty, n, _ in mats if ty in types)
    return max(0.0, weights) * cycles / ((lanes / 128) * clock) / max(1, n_ubatch)


def fp16_dst_copy(build: Build, rules: dict) -> bool:
    """Whether an F16 build's prompt GEMM writes FP16 that a second kernel converts to FP32 (4 more bytes an output
    element): every F16 build before PR #14125 (ggml 4b0959d4, 2025-06-12, "Remove not needed copy f16->f32 for dnnl
    mul mat"), and after it a build without oneDNN, whose oneMKL branch of ggml_sycl_op_mul_mat_sycl keeps dst_f16 and
    to_fp32_sycl (the PR moved that copy out of the oneDNN branch only; ggml e17632e4, 2026-06-26) until PR #26372
    (ggml b112be1c, 2026-08-13) has oneMKL write FP32 itself."""
    if fp32_gemm(build):
        return False
    mkl = rules.get("f16_dst_copy_removed_mkl")
    return not _has(build, rules["f16_dst_copy_removed"]) or (build.dnnl is False and not (mkl and _has(build, mkl)))


@lru_cache(maxsize=4096)
def _layer_activation_bytes(model, layer: int, n_kv: int, flags: tuple) -> float:
    """Bytes a prompt token moves through `layer` besides its weights and their scratch copies (activation_seconds;
    data/speed.yaml `sycl_paths.prompt_activations`), at the build `flags` = (F16 GEMMs, FP16 output copy, GLU fused,
    RMS_NORM+MUL fused, score matrix in memory, bytes a score)."""
    from .occupancy import _layer_shapes

    f16, dst_copy, glu_fused, norm_fused, scores, score_bytes = flags
    d = model.hidden_size
    total = float(sum(_matmul_activation_bytes(r, k, f16, dst_copy) for r, k in _layer_shapes(model)[layer]))
    ff = model.layer_intermediate_size(layer)
    moe = model.moe
    if moe is not None and model.is_moe_layer(layer) and moe.active:
        e = moe.expert_intermediate_size
        width = moe.latent_size or d
        total += moe.active * (2 * _matmul_activation_bytes(e, width, f16, dst_copy)
                               + _matmul_activation_bytes(width, e, f16, dst_copy))
        ff = moe.active * e + (moe.shared_experts or 0) * (moe.shared_intermediate_size or 0)
    # FP32 passes of 4 bytes: two norms (RMS_NORM then MUL: read + write each, or one read and write fused), two
    # residual adds (read 2, write 1), the GLU (silu read + write then mul read 2 write 1, or one op read 2 write 1)
    passes = (2 if norm_fused else 4) * 2 * d + 2 * 3 * d + (3 if glu_fused else 5) * ff
    if model.has_attention(layer):
        qd = model.layer_n_heads(layer) * model.layer_head_dim(layer)
        kvd = model.layer_kv_heads(layer) * model.layer_head_dim(layer)
        # rope on Q and K (read + write), the K and V stores (read FP32, write FP16: 1.5 passes each), the attention
        # output's permute-copy (read + write)
        passes += 2 * (qd + kvd) + 3 * kvd + 2 * qd
        if scores:
            total += score_bytes * model.layer_n_heads(layer) * n_kv
    return total + 4 * passes


def activation_seconds(model, first: int, count: int, device: Device, n_ubatch: int, depth: int,
                       bandwidth: float) -> float:
    """Prefill seconds per token that layers first..first+count-1 spend moving activations on a SYCL device: the bytes
    of _layer_activation_bytes at `bandwidth` (the family's decode streaming rate). The micro-batch attends
    n_kv = depth + n_ubatch cells rounded up to 256 (llama.cpp pads the KV view), all of them in the score matrix.

    Why: ggml-sycl runs every op as its own kernel over FP32 activations in memory; at a 512-token micro-batch a
    1.5B model's layer moves about 0.65 MB a token this way, on a B580 a third of its measured prompt time, and the
    small models' prompts, where this is largest against the FLOPs, were the ones a FLOPs share put fast
    (docs/methodology.md 5b-sycl8)."""
    rules = _rules().get("prompt_activations") or {}
    if not rules or not bandwidth or count <= 0:
        return 0.0
    build = current()
    n_kv = -(-(max(0, depth) + max(1, n_ubatch)) // 256) * 256
    flags = (not fp32_gemm(build), fp16_dst_copy(build, rules),
             _has(build, rules["glu_fused"]), norm_mul_fused(build), not flash_attention(build),
             float(rules.get("score_bytes") or 0))
    return sum(_layer_activation_bytes(model, i, n_kv, flags) for i in range(first, first + count)) / bandwidth


def _touched(n_expert: int, n_used: int, n_tokens: int) -> float:
    """Experts that get at least one of a micro-batch's tokens, in expectation: each token picks n_used distinct of
    n_expert (balanced routing), so an expert stays empty with probability (1 - n_used / n_expert) ** n_tokens."""
    return n_expert * (1.0 - (1.0 - n_used / n_expert) ** max(1, n_tokens))


def launch_seconds(device: Device) -> float:
    """Host seconds per kernel submission (data/speed.yaml `sycl_paths.moe_prefill`, Intel's compute-runtime figures):
    a discrete GPU's, or an integrated one's, whose submissions go through the kernel driver and GuC."""
    rules = _rules().get("moe_prefill") or {}
    key = "launch_us_integrated" if device.unified else "launch_us_discrete"
    return float(rules.get(key) or 0.0) * 1e-6


def submission_seconds(device: Device, layer_s: float | None = None) -> float:
    """Host seconds per kernel submission of a prompt's expert calls: on a discrete GPU, the family's fitted per-layer
    decode time `layer_s` over the dense layer's submissions (data/speed.yaml `sycl_paths.moe_decode`
    `dense_layer_submissions`), the figure moe_layer_seconds charges a decode submission: 5.2 us on a B70, 6.0 on a
    B60 at the newest build; Intel's 2023 A770M figure (launch_seconds, 8 us) without it. An integrated GPU keeps
    Intel's 42 us (its submissions go through the kernel driver and GuC; no MoE row of one to say otherwise).

    Why: the 8 us was one A770M on 2023's runtime; every other SYCL term that counts submissions charges them at the
    family's own fitted rate, and on it the one post-PR #23142 Linux row (B60, 711 tokens/s) is predicted within 7%,
    where 8 us left it 25% slow (docs/methodology.md 5b-sycl23)."""
    dense = float((_rules().get("moe_decode") or {}).get("dense_layer_submissions") or 0)
    if device.unified or not layer_s or not dense:
        return launch_seconds(device)
    return layer_s / dense


def routed_row_scan_seconds(device: Device, n_routed_rows: int, build: Build | None = None) -> float:
    """GPU seconds one expert's call spent, before llama.cpp PR #23142 (ggml 1863204a, 2026-05-22), copying its tokens'
    rows: k_copy_src1_to_contiguous ran one work-group per routed row of the whole micro-batch (n_tokens x n_used),
    each reading that row's expert id and returning unless it was this expert's (read in ggml 1863204a^
    ggml_sycl_mul_mat_id); the PR's author: "it no longer scans ids on the device or uses the device atomic. That's
    most of the gains". At `sycl_paths.moe_prefill.routed_row_scan` lane-cycles a work-group over the vector lanes x
    boost clock; 0 from the PR on, or without the figures. FITTED on the PR's own same-machine pair (docs/methodology.md
    5b-sycl23), no scored row."""
    rule = (_rules().get("moe_prefill") or {}).get("routed_row_scan") or {}
    if not rule or _has(build or current(), rule):
        return 0.0
    from .kernel_path import gpu_clock_hz

    lanes, clock = vector_lanes(device), gpu_clock_hz(device)
    if not lanes or not clock:
        return 0.0
    return n_routed_rows * float(rule["lane_cycles_per_row"]) / (lanes * clock)


def submissions_per_expert_call(rules: dict | None = None, build: Build | None = None) -> float:
    """Host submissions of one expert's call in a prompt batch's MUL_MAT_ID at the current build: 3 (dequantize, convert,
    GEMM), 6 before PR #23142 (a row-counter memset and the row copies in and out per expert)."""
    rules = rules if rules is not None else (_rules().get("moe_prefill") or {})
    before = rules.get("submissions_per_expert_call_before")
    if before and not _has(build or current(), before):
        return float(before["submissions"])
    return float(rules.get("submissions_per_expert_call") or 0)


def expert_prefill_seconds(model, expert_layers: tuple, device: Device, n_tokens: int, dense_rate: float,
                           bandwidth: float | None = None, layer_s: float | None = None) -> float:
    """Prefill seconds per token that a SYCL MoE model's expert matmuls add beyond what the dense terms charge them
    (their active share's FLOPs at `dense_rate` and its scratch copies): ggml_sycl_mul_mat_id runs one
    ggml_sycl_op_mul_mat_sycl per expert that got tokens (data/speed.yaml `sycl_paths.moe_prefill`), so each such expert
    is dequantized whole into its scratch copy (its bytes read, 2 bytes a weight written and read by the GEMM; 4 in an
    FP32 build), and each call is `submissions_per_expert_call` host submissions at submission_seconds (the family's
    per-layer decode time `layer_s` per dense-layer submission); before PR #23142 each call also scanned every routed row
    on the GPU (routed_row_scan_seconds). The host runs ahead of an in-order queue, so a call costs the slower of the
    GPU's part and the host's. `expert_layers`: per layer, the routed experts'
    (type, active weights, active bytes) summed by type (gate and up of one type are one entry), the active share of
    n_used of n_expert (estimate/speed_work.py); one expert tensor holds width x expert_intermediate_size weights (width:
    the hidden size, or a LatentMoE's latent size), which counts the tensors, hence the calls, of an entry. The copies
    stream at `bandwidth` (the dense scratch copies' rate), spec bandwidth when not given."""
    from .tensors import fused_gate_up_experts

    rules = _rules().get("moe_prefill") or {}
    bw = bandwidth or device.bandwidth_bytes_per_s
    moe = model.moe
    if moe is None or not expert_layers or not bw or not rules or not moe.experts or not moe.active:
        return 0.0
    tensor_weights = (moe.latent_size or model.hidden_size) * moe.expert_intermediate_size  # one expert's, one tensor
    whole = moe.experts / moe.active
    touched = _touched(moe.experts, moe.active, n_tokens)
    width = 4 if fp32_gemm() else 2
    host = submissions_per_expert_call(rules) * submission_seconds(device, layer_s)
    scan = routed_row_scan_seconds(device, n_tokens * moe.active)  # before PR #23142, per call
    added = 0.0
    for mats in expert_layers:
        for ty, n_weights, nbytes in mats:
            per_expert_w, per_expert_b = n_weights * whole / moe.experts, nbytes * whole / moe.experts
            calls = max(1, round(per_expert_w / tensor_weights)) if tensor_weights else 1  # tensors of this entry
            # gate and up in one tensor (Gemma 4's GGUFs): one MUL_MAT_ID, so each expert's GEMM is called once for both
            if calls >= 2 and fused_gate_up_experts(model):
                calls -= 1
            quantized = ty not in _float_types()
            copy = per_expert_b + 2 * width * per_expert_w if quantized else per_expert_b
            # its GEMMs: 2 FLOPs a weight for each of the n_tokens x n_used / touched token slots routed to it
            gemm = 2.0 * per_expert_w * n_tokens * moe.active / touched / dense_rate if dense_rate else 0.0
            call = max(copy / bw + gemm + calls * scan, calls * host)  # one expert's calls: the slower of GPU, host
            charged = (2.0 * n_weights * n_tokens / dense_rate if dense_rate else 0.0) + (
                nbytes + 2 * width * n_weights if quantized else nbytes) / bw
            added += max(0.0, touched * call - charged)
    return added / max(1, n_tokens)


def _float_types() -> frozenset:
    from .kernel_path import FLOAT_TYPES

    return FLOAT_TYPES


def expert_decode_seconds(model, expert_layers: tuple, device: Device, bandwidth: float,
                          layer_s: float | None = None) -> float:
    """Decode seconds per token a SYCL MoE model's expert mat-vecs add at a build before PR #21920 (data/speed.yaml
    `sycl_paths.moe_prefill.decode_fused`): each expert tensor's one-token MUL_MAT_ID waited for its ids on the host,
    then ran one mat-vec call (`submissions_per_expert_matvec` submissions) per routed expert. The host's submissions
    for a tensor, beyond the 2 a dense mat-vec has (in the per-layer time already), against the GPU's streaming of that
    tensor's active slices at `bandwidth`: the slower binds. 0 at a build with the fused kernel (the newest).

    A submission costs submission_seconds(device, layer_s): the family's per-layer decode time `layer_s` over a dense
    layer's submissions on a discrete GPU, as the prompt's expert calls (5b-sycl23) and moe_layer_seconds charge theirs;
    Intel's 2023 8 us without `layer_s`. Why: PR #21920's own same-machine pair (a B70, Qwen3.5-35B-A3B Q4_K_M at
    d16384, -fa 0: 33.3 -> 46.0 tokens/s) is 8.27 ms a token for exactly these calls; at 8 us the model gave 12.9 ms,
    at the family's rate 7.8 (docs/methodology.md 5b-sycl25)."""
    rules = _rules().get("moe_prefill") or {}
    fused = rules.get("decode_fused")
    moe = model.moe
    if not fused or _has(current(), fused) or moe is None or not expert_layers or not bandwidth:
        return 0.0
    per_call = float(rules.get("submissions_per_expert_matvec") or 0)
    # ids wait + n_used calls, less a dense one
    host = (moe.active * per_call + 1 - per_call) * submission_seconds(device, layer_s)
    tensor_weights = (moe.latent_size or model.hidden_size) * moe.expert_intermediate_size * moe.active
    added = 0.0
    for mats in expert_layers:
        for _, n_weights, nbytes in mats:
            tensors = max(1, round(n_weights / tensor_weights)) if tensor_weights else 1
            added += tensors * max(0.0, host - nbytes / tensors / bandwidth)
    return added


def moe_layer_submissions(model, build: Build | None = None) -> int:
    """Host submissions one MoE layer's decode has beyond the dense FFN it replaces (data/speed.yaml
    `sycl_paths.moe_decode`, counted in llama.cpp's build_moe_ffn): router mat-vec 2, routing ops 6 (1 once ggml-sycl
    fuses them, PR #25217), the weights' mul 1, n_expert_used - 1 adds, 8 per shared expert. Qwen3.6-35B-A3B (8 of 256,
    one shared expert) at a May 2026 build: 2 + 6 + 1 + 7 + 8 = 24."""
    rules = _rules().get("moe_decode") or {}
    moe = model.moe
    if not rules or moe is None or not moe.active:
        return 0
    fused = rules.get("topk_fused")
    routing = rules["routing_fused"] if fused and _has(build or current(), fused) else rules["routing_unfused"]
    return (int(rules["router"]) + int(routing) + int(rules["weighting"]) + (moe.active - 1)
            + int(rules["per_shared_expert"]) * int(moe.shared_experts or 0))


def moe_layer_seconds(model, expert_layers: tuple, layer_s: float) -> float:
    """Decode seconds per token the MoE layers among `expert_layers` add on SYCL: each layer's extra submissions
    (moe_layer_submissions) at the fitted per-layer time over the dense layer's submissions (`dense_layer_submissions`,
    about 30 in the fitted rows' builds): 5.4 us a submission on a B580, 6 on a B60.

    Why: ggml-sycl submits every op on its own, and a dense layer's ~30 submissions are what the fitted per-layer time
    stands for; an MoE layer has ~24 more (Qwen3.6-35B-A3B), all host time a one-token step cannot hide. Without them
    the two Xe2 rows of that model were predicted 38-44% fast (docs/methodology.md 5b-sycl5) when read as Q4_K_M; as the
    Unsloth UD-Q4_K_M file they ran (Q8_0 non-expert matrices, 5c-s28d) they read -17 / -27% with it, +9 / -11% without.
    No byte of those rows is in it: a source count times the fitted per-layer time, so the relabel leaves it as it was."""
    rules = _rules().get("moe_decode") or {}
    dense = float(rules.get("dense_layer_submissions") or 0)
    if not dense or not layer_s or model.moe is None:
        return 0.0
    layers = sum(1 for mats in expert_layers if mats)
    return layers * layer_s * moe_layer_submissions(model) / dense
