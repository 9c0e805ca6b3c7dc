"""Fit the speed model's efficiency factors per backend family on measured llama-bench results.

Usage: python scripts/fit_speed.py [--calibration DIR] [--check] [--print]
Writes data/speed.yaml (the header in scripts/speed_header.yaml plus the fitted `families`); --check exits 1 when the
file differs from a fresh fit (tests run it); --print shows every row's prediction.

The model (selfhost_advisor/estimate/speed.py) is linear in its factors, so they are fitted by least squares on
relative error, with no per-GPU terms:
- decode seconds/token = a * sum(bytes/bandwidth) + layer_latency * layers + hop_latency * device boundaries,
  bandwidth_efficiency = 1/a;
- prefill seconds/token = sum(FLOPs/FLOPS) / compute_efficiency, one factor for 16-bit and one for quantized weights.
A family whose rows come from one model and quant only cannot separate a from layer_latency: it fits a alone
(layer_latency 0, which makes larger models conservative). Bands are the 10th..90th percentile of measured/predicted; families
with fewer than 8 rows of a test use the residuals pooled over all families.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.domain import Device, Machine, Placement  # noqa: E402
from selfhost_advisor.estimate.speed import Efficiency, estimate_speed, family  # noqa: E402
from selfhost_advisor.record import replace  # noqa: E402

CAL = ROOT.parent / "shared" / "calibration"
MODELS = {"llama 7B (LLaMA-2)": "llama2:7b", "Llama-3 8B": "llama3:8b", "Llama-3 70B": "llama3:70b",
          # LLaMA-1 7B has LLaMA-2 7B's shapes (32 layers, 4096 wide, 11008 FFN, 32000 vocab).
          "llama 7B": "llama2:7b"}
# llama-bench rows whose quant was not stated: the CPU thread-scaling comment ran the standard 7B Q4_0 benchmark model.
UNSTATED_QUANT = "Q4_0"
NVIDIA = {"RTX 4090": "rtx-4090", "RTX 3090": "rtx-3090", "RTX 4080": "rtx-4080", "RTX 3080 Ti": "rtx-3080-ti",
          "RTX 3080": "rtx-3080",
          # The CUDA scoreboard lists "H100 80GB" without the form factor; the scoreboard's H100 entries are PCIe cards.
          "H100 80GB": "h100-pcie"}
# i9-13900K: 2 channels DDR5-6400 x 8 B = 102.4 GB/s; FP32 peak 8 P-cores x 32 FLOP/clk (2x 256-bit FMA) x 5.4 GHz +
# 16 E-cores x 16 FLOP/clk x 4.3 GHz = 2.50 TFLOPS (Intel ARK clocks; per-clock rates from the cores' FMA widths).
CPU_HOSTS = {"Intel Core i9-13900K": (102.4e9, 2.50e12)}
APPLE = re.compile(r"Apple (M\d)(?: (Pro|Max|Ultra))? \((\d+)-core GPU\)", re.I)
PROMPT, DECODE = "pp", "tg"


@dataclass(frozen=True)
class Row:
    hardware: str
    backend: str
    model_id: str
    quant: str
    test: str  # pp512 | tg128 | tg512
    measured: float
    machine: Machine
    n_gpus: int
    cached: int = 0  # tokens already in the cache when the test starts (llama-bench -d)
    source: str = "calibration"  # or "device": our own runs (benchmarks/device/); "published": PUBLISHED's rows
    held_out: bool = False  # a PUBLISHED row that was held out of every fit until scored once (methodology 5b)
    blind: bool = False  # a PUBLISHED row marked `in_fit: false`: its GPU is kept out of every fit (methodology 5b)
    build_date: str | None = None  # the llama.cpp build's date (ROCm and Vulkan rows): the kernel paths it ran
    vulkan_path: str = ""  # Vulkan: a non-default path its source states ("shader", "int_dot", "coopmat1"), else ""
    build: str = ""  # the llama.cpp build as the page states it: SYCL rows take its kernel paths (estimate/sycl_path.py)
    driver: str = ""  # Intel under Vulkan: "mesa" | "windows" as the page states it (estimate/vulkan_intel.py)
    n_ubatch: int = 512  # llama-bench -ub of a prompt row (a published row's `n_ubatch`, 512 when not given)
    via: str = "llama-bench"  # "server": a llama-server decode rate (a published row's `via`), which samples on the host
    fa: bool | None = None  # llama-bench -fa as a published row states it (`fa`: 1 / 0); None: its build's default

    @property
    def gpu(self) -> str:
        """The machine a row was measured on, for leave-one-hardware-out and machine counts: its profile id (the
        calibration file and benchmarks/published/ name the same card differently: "AMD RX 7900 XTX", "rx 7900 xtx";
        the calibration file alone has "NVIDIA RTX 3090" and "NVIDIA RTX 3090 24GB"). An Apple row is its chip
        ("apple-m1-max"): the GPU-core bins of one die (M1 Max 24/32-core) are one hardware, and a base M3, which
        borrows the M3 Pro profile's per-core rate (_apple), is not an M3 Pro."""
        d = self.machine.devices
        chip = APPLE.search(self.hardware) if d and d[0].vendor == "apple" else None
        if chip:
            return "apple-" + "-".join(x.lower() for x in chip.groups()[:2] if x)
        return (d[0].matched_profile if d else None) or self.hardware

    @property
    def kind(self) -> str:
        return PROMPT if self.test.startswith("pp") else DECODE

    @property
    def tokens(self) -> int:
        """The test's own tokens: pp512 -> 512, tg128@d4096 -> 128."""
        return int(re.sub(r"\D", "", self.test.split("@")[0]))

    @property
    def depth(self) -> int:
        """Average tokens in the cache during the test: those cached before it plus half its own."""
        return self.cached + self.tokens // 2

    @property
    def micro_batch(self) -> int:
        """Tokens per prompt micro-batch: llama-bench's -ub, but never more than the prompt (llama-bench decodes a
        pp512 test as one llama_decode call of 512 tokens, which llama_context splits into micro-batches of at most
        n_ubatch: a pp512 row run with -ub 4096 is one micro-batch of 512; moe_accuracy.predict's min(n, n_ubatch))."""
        return min(self.n_ubatch, self.tokens) if self.kind == PROMPT else self.n_ubatch


PUBLISHED = ROOT / "benchmarks" / "published" / "llamabench_weak.yaml"


def published_rows(path: Path = PUBLISHED, before_session: int | None = None) -> list[Row]:
    """Published llama-bench rows of the weakly calibrated backends (benchmarks/published/): the machine comes from the
    hardware name as `--hardware` resolves it (spec bandwidth and FLOPS), with the row's backend. `before_session`:
    only the rows of earlier sessions (a row's `session` key, 0 when absent), for the record scripts of a past pass."""
    return list(_published_rows(path, path.stat().st_mtime_ns, before_session))


@lru_cache(maxsize=8)
def _published_rows(path: Path, mtime_ns: int, before_session: int | None) -> tuple[Row, ...]:
    """published_rows, read once per process while the file is unchanged (the rows are frozen), with libyaml's safe
    loader where built (the same rows in a ninth of the time). Why: the suite's fits read it ~60 times per process,
    0.14 s each with the pure-Python loader (suite time)."""
    import yaml

    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.models import resolve

    rows = []
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for r in yaml.load(path.read_text(), Loader=loader)["rows"]:  # noqa: S506 - CSafeLoader/SafeLoader are safe
        if before_session is not None and int(r.get("session") or 0) >= before_session:
            continue
        m = machine_from_profile(hw_names.resolve(r["hardware"]), 1)
        d = m.devices[0]
        d = replace(d, backend=r["backend"], memory_bytes=max(d.memory_bytes, 128 * 2**30))
        m = replace(m, devices=(d,), ram_bytes=256 * 2**30)
        test = r["test"]
        cached = int(test.split("@d")[1]) if "@d" in test else 0
        rows.append(Row(r["hardware"], r["backend"], resolve(r["model"]).model.id, r["quant"], test,
                        float(r["tokens_per_s"]), m, 1, cached, "published", bool(r["held_out"]),
                        not r.get("in_fit", True), r.get("build_date"), str(r.get("vulkan_path") or ""),
                        str(r.get("build") or ""), row_driver(r), int(r.get("n_ubatch") or 512),
                        str(r.get("via") or "llama-bench"), row_fa(r)))
    return tuple(rows)


_FA_TEXT = re.compile(r"(?<![\w-])-?fa\s*[=:]?\s*(1|0|on|off)\b", re.I)


def row_fa(r: dict) -> bool | None:
    """A published row's flash attention as its source states it: its `fa` key (1 / 0), else the flag its `build` text,
    else its `note`, names ("-fa 1", "fa 1", "fa=0", "-fa on", "fa off"; not "fa auto" / "fa default", and not
    GGML_HIP_ROCWMMA_FATTN);
    None where neither says (the tool's default at the row's build, kernel_path.fa_on_at). Why the text: most rows
    record the flag only there, and llama-bench ran -fa 0 by default until 2026-05-30 (PR #23714), so a row's stated
    -fa 1 is what puts a 2025-09 .. 2026-05 row on the flash-attention kernels (docs/methodology.md 5c-fa32)."""
    if r.get("fa") is not None:
        return bool(r["fa"])
    for text in (r.get("build"), r.get("note")):
        m = _FA_TEXT.search(str(text or ""))
        if m is not None:
            return m.group(1).lower() in ("1", "on")
    return None


def row_driver(r: dict) -> str:
    """A published row's Vulkan driver: its `driver` key, else "mesa" / "windows" where its `build` text names Intel's
    Mesa (ANV) or Windows driver (the session 12 rows state it there), on AMD "amdvlk" / "windows" / "radv" where it
    names AMDVLK, AMD's proprietary (Windows) driver or RADV (estimate/vulkan_amd.py), else ""."""
    if r.get("driver"):
        return str(r["driver"])
    build = str(r.get("build") or "")
    if r.get("backend") != "vulkan":
        return ""
    if not r["hardware"].lower().startswith("arc"):
        return ("amdvlk" if re.search(r"\bAMDVLK\b|AMD open-source driver", build)
                else "windows" if re.search(r"AMD proprietary|Windows AMD driver", build)
                else "radv" if re.search(r"\bRADV\b", build) else "")
    return "mesa" if re.search(r"\bMesa\b|\bANV\b", build) else "windows" if "Windows" in build else ""


def fit_rows(cal: Path = CAL) -> list[Row]:
    """Every published row the fit uses: the calibration file's and every weak-backend row of PUBLISHED.

    The rows marked held_out were scored once by a fit that had never seen them (docs/methodology.md 5b keeps those
    figures); since then they join the fit, and the figure for unseen hardware is leave-one-hardware-out
    (benchmarks/weak_backends.py). PUBLISHED's Metal rows (an M4) stay out: the Metal family is fitted on the
    calibration file alone, and they check it. Rows marked `in_fit: false` (GPUs set aside before the pass that added
    them) stay out of every fit: their error is a blind check."""
    return calibration_rows(cal)[0] + [r for r in published_rows() if r.backend != "metal" and not r.blind]


def _apple(name: str, bandwidth_gbps: float | None) -> Machine:
    m = APPLE.search(name)
    chip = "-".join(x.lower() for x in m.groups()[:2] if x)
    cores = int(m.group(3))
    same_chip = [q for q in _profiles() if q.id.startswith(chip + "-") and q.id.count("-") == chip.count("-") + 1]
    # a chip without a profile (base M3) takes its generation's per-core rate: same GPU core design and clock
    p = (same_chip or [q for q in _profiles() if q.id.startswith(chip.split("-")[0] + "-")])[0]
    bandwidth_gbps = bandwidth_gbps or p.bandwidth_bytes_per_s / 1e9  # row without a figure: the chip's profile
    per_core = p.fp16_flops / int(p.raw["gpu_cores"])  # FLOPS scale with GPU cores at the chip's clock
    dev = Device(vendor="apple", name=name, memory_bytes=192 * 2**30, bandwidth_bytes_per_s=int(bandwidth_gbps * 1e9),
                 fp16_flops=per_core * cores, unified=True, matched_profile=p.id, backend="metal")
    return Machine(name=name, devices=(dev,), ram_bytes=192 * 2**30, source="calibration")


def _profiles():
    from selfhost_advisor.catalog.hardware import profiles

    return profiles()


def _machine(r: dict) -> tuple[Machine, int] | None:
    name, backend = r["hardware"], r["backend"]
    if backend == "Metal":
        return _apple(name, float(r["memory_bandwidth_gbps"] or 0) or None), 1
    if backend == "CPU":
        for host, (bw, flops) in CPU_HOSTS.items():
            if host in name:
                return Machine(name=name, devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(bw),
                               cpu_flops=flops, source="calibration"), 0
        return None
    n = max(1, int(r["n_gpus"] or 1))
    if "RX 7900 XTX" in name:
        pid = "rx-7900-xtx"
    else:
        pid = next((v for k, v in NVIDIA.items() if re.search(re.escape(k) + r"\b(?! Ti)", name)), None)
    if pid is None:
        return None
    m = machine_from_profile(find_profile(pid), n)
    devices = tuple(replace(d, backend=backend.lower(), memory_bytes=max(d.memory_bytes, 24 * 2**30))
                    for d in m.devices)
    return replace(m, devices=devices, ram_bytes=256 * 2**30), n


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _source_month(r: dict) -> str | None:
    """A CUDA calibration row's llama.cpp build month, where its source states when it was run ("May 2024": the
    XiongjieDai README's "NVIDIA GPUs (... cuda: 12.1.1 on RunPod) (snapshots in May 2024)", LLaMA 3 tables), as
    "YYYY-MM"; else None (a current build). The kernel path that build ran follows from it (estimate/cuda_path.py:
    before llama.cpp PR #8075, 2024-06-23, quantized prefill on tensor-core GPUs was cuBLAS on dequantized weights).
    The Metal rows' era is _calibration_build's; other backends' rows keep no date."""
    if r["backend"] != "CUDA":
        return None
    m = re.search(r"\b(" + "|".join(_MONTHS) + r")[a-z]* (20\d\d)\b", r["source"], re.IGNORECASE)
    return f"{m.group(2)}-{_MONTHS.index(m.group(1).lower()) + 1:02d}" if m else None


def calibration_rows(cal: Path = CAL) -> tuple[list[Row], list[str]]:
    rows, skipped = [], []
    with open(cal / "llamacpp_speed.csv", newline="") as fh:
        for r in csv.DictReader(fh):
            mid = MODELS.get(r["model"])
            got = _machine(r)
            if mid is None or got is None:
                skipped.append(f"{r['hardware']} / {r['model']}: no catalog model or hardware")
                continue
            quant = r["quant"] if not r["quant"].startswith("unknown") else UNSTATED_QUANT
            rows.append(Row(r["hardware"], r["backend"].lower(), mid, quant, r["test"], float(r["tokens_per_s"]),
                            got[0], got[1], build_date=_calibration_build(r) or _source_month(r)))
    return rows, skipped


def _calibration_build(r: dict) -> str | None:
    """The calibration file's Metal rows ran 2023-24 builds (discussion #4167, opened 2023-11; the XiongjieDai README's
    LLaMA 3 tables, May 2024): their per-layer decode time is the calibration's (data/speed.yaml metal_dispatch).
    Other rows keep no date (the latest build)."""
    if r["backend"].lower() != "metal":
        return None
    return "2023-11" if "discussions/4167" in r["source"] else "2024-05"


DEVICE_RUNS = ROOT / "benchmarks" / "device" / "h200_llamabench.jsonl"
# A later run of models and GGML types the fit never sees: kept out of every fit, to check it.
DEVICE_HELDOUT = ROOT / "benchmarks" / "device" / "h200_heldout.jsonl"
DEVICE_PROFILE = "h200"


def device_rows(path: Path = DEVICE_RUNS, profile: str = DEVICE_PROFILE) -> list[Row]:
    """Our llama-bench runs on a lent GPU (benchmarks/device/README.md), as rows of the same form. A run under a
    diagnostic environment (run_nvidia.sh VARIANTS, e.g. GGML_CUDA_DISABLE_FUSION=1: `advisor_env` other than "-") is
    not what a user's build runs, so it is no row."""
    if not path.exists():
        return []
    m = machine_from_profile(find_profile(profile), 1)
    rows = []
    for line in path.read_text().splitlines():
        b = json.loads(line)
        if b.get("advisor_env", "-") != "-":
            continue
        test = f"pp{b['n_prompt']}" if b["n_prompt"] else f"tg{b['n_gen']}"
        rows.append(Row(b.get("gpu_info") or profile, "cuda", b["advisor_model"], b["advisor_quant"],
                        f"{test}@d{b['n_depth']}", float(b["avg_ts"]), m, 1, int(b["n_depth"]), "device"))
    return rows


def in_fit(r: Row) -> bool:
    """Device rows the fit takes: dense models, decode (mat-vec rates) and prefill (MMQ rates); the MoE runs are
    kept out to check them (docs/methodology.md §5)."""
    return r.source == "device" and get_model(r.model_id).moe is None


def _best_cpu_rows(rows: list[Row]) -> list[Row]:
    """CPU rows repeat one test at several thread counts; keep the best of each (a tuned setup)."""
    out, best = [], {}
    for r in rows:
        if r.backend != "cpu":
            out.append(r)
        elif r.measured > best.get((r.hardware, r.test), (0, None))[0]:
            best[(r.hardware, r.test)] = (r.measured, r)
    return out + [r for _, r in best.values()]


def _placement(row: Row) -> Placement:
    n = get_model(row.model_id).n_layers
    k = len(row.machine.devices)
    if k == 0:
        return Placement("cpu", 0, n + 1, 0, 0)
    split = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return Placement("gpu", n + 1, n + 1, 0, 0, per_device_layers=tuple(split))


def predict(row: Row, table=None) -> float:
    from contextlib import nullcontext

    from selfhost_advisor.estimate.kernel_path import at_build, fa_stated, served
    from selfhost_advisor.estimate.sycl_path import assume_build
    from selfhost_advisor.estimate.vulkan_path import as_of_build
    from selfhost_advisor.estimate.vulkan_intel import mesa_release, with_driver, with_mesa

    # the kernel paths of the row's llama.cpp build (ROCm, Vulkan: its date; SYCL: the build text; latest when
    # not stated)
    with at_build(row.build_date), as_of_build(row.build_date or "", row.vulkan_path), fa_stated(row.fa), \
            assume_build(row.build, row.build_date), with_driver(row.driver), with_mesa(mesa_release(row.build)), \
            (served() if row.via == "server" else nullcontext()):  # llama-server's flash-attention default
        sp = estimate_speed(get_model(row.model_id), get_quant(row.quant), _placement(row), row.machine,
                            decode_depth=row.depth, prefill_depth=row.depth, n_ubatch=row.micro_batch, table=table)
    if row.kind == PROMPT:
        return sp.prefill_tokens_per_s
    if row.via == "server":  # llama-server samples each token on the host, in series (as benchmarks/small_on_big.py)
        from selfhost_advisor.estimate.server_host import served_decode_tokens_per_s

        return served_decode_tokens_per_s(sp.decode_tokens_per_s, get_model(row.model_id))
    return sp.decode_tokens_per_s


_BIG = 1e30
_FAMILIES = ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu")


def _unit(bandwidth=_BIG, layer=0.0, hop=0.0, compute=_BIG) -> dict[str, Efficiency]:
    e = Efficiency("x", bandwidth, layer, hop, compute, compute, (1, 1), (1, 1), ())
    return {f: replace(e, family=f) for f in _FAMILIES}


def _seconds(row: Row, table) -> float:
    return 1.0 / predict(row, table)


def _unit_seconds(row: Row, term: str) -> float:
    """Seconds per token of `row` with one term of the model at unit coefficient and the others off (the fits'
    features): the same for every refit, so computed once per row and model variant (kernel_path.mode: the record
    scripts score the fifth pass's ROCm prefill in the same process; the leave-one-out refits call them thousands of
    times)."""
    from selfhost_advisor.estimate import cuda_path, kernel_path

    return _unit_seconds_in(row, term, kernel_path.mode(), cuda_path.fa_mode())


@lru_cache(maxsize=None)
def _unit_seconds_in(row: Row, term: str, mode: tuple, fa_mode: bool = False) -> float:
    from selfhost_advisor.estimate.hip_graphs import graph_term_off
    from selfhost_advisor.estimate.metal_path import matvec_issue_off
    from selfhost_advisor.estimate.speed import mmq_traffic_off
    from selfhost_advisor.estimate.sycl_path import block_layout_off

    # the CUDA traffic floor, SYCL's block-layout and Metal M1 / M2's mat-vecs are max()es, no linear feature (not
    # fitted here); ROCm's graphs-off launch time is known time (_rocm_graph_seconds), no part of any feature
    with mmq_traffic_off(), block_layout_off(), graph_term_off(), matvec_issue_off():
        return _seconds(row, _unit(**{term: 1.0}))


@lru_cache(maxsize=None)
def _rocm_graph_seconds(row: Row) -> float:
    """Seconds per decoded token a ROCm row's build adds by launching each layer's kernels one by one (no HIP graphs
    before PR #22254: estimate/hip_graphs.graph_launch_seconds at the row's build) times its layers (the per-layer
    unit feature), plus its hipBLAS attention before PR #10318 (attention_blas_seconds); known time in the ROCm decode
    fit, so the fitted per-layer cycles are a graphs-on, mat-vec-attention build's."""
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.hip_graphs import attention_blas_seconds, graph_launch_seconds

    if row.kind != DECODE or not row.machine.devices:
        return 0.0
    d = row.machine.devices[0]
    model = get_model(row.model_id)
    with at_build(row.build_date):
        per_layer = graph_launch_seconds(d)
        # and, before llama.cpp PR #10318, KQ / KQV as hipBLAS batched GEMMs (hip_graphs, methodology 5f-rocm18)
        attention = attention_blas_seconds(d, model, row.depth, range(model.n_layers))
    return (per_layer * _unit_seconds(row, "layer") if per_layer else 0.0) + attention


@lru_cache(maxsize=None)
def _block_layout_seconds(row: Row, share: float) -> float:
    """Seconds SYCL's block-layout mat-vecs add to `row`'s decode at bandwidth share `share` (estimate/sycl_path.py:
    derived from Intel's before/after table at that share), known time in the SYCL decode fit."""
    from selfhost_advisor.estimate.sycl_path import block_layout_off

    with block_layout_off():
        base = _seconds(row, _unit(bandwidth=share))
    return _seconds(row, _unit(bandwidth=share)) - base


@lru_cache(maxsize=None)
def _submission_saving_seconds(row: Row) -> float:
    """Seconds per token SYCL's eventless submission (PR #14244, estimate/sycl_path.submission_saving_seconds) takes
    off `row`'s per-layer time at its build: the saving per layer times the row's layer count (the per-layer unit
    feature, which counts an MoE layer's routing submissions as the predictor does); known time in the SYCL decode fit."""
    from selfhost_advisor.estimate.sycl_path import assume_build, submission_saving_seconds

    with assume_build(row.build, row.build_date):
        saving = submission_saving_seconds()
    return saving * _unit_seconds(row, "layer") if saving else 0.0


def _solve(features: list[list[float]], targets: list[float] | None = None) -> list[float]:
    """Least squares for sum_i (f_i . x - y_i)^2 (features and targets already divided by the measurement; y = 1
    when no targets are given)."""
    import numpy as np

    a = np.array(features)
    y = np.ones(len(features)) if targets is None else np.array(targets)
    x, *_ = np.linalg.lstsq(a, y, rcond=None)
    return [float(v) for v in x]


def _matrix_totals(r: Row, head: bool = True) -> dict[str, tuple[float, float]]:
    """Per GGML type, the (active weights, bytes) one token runs through matrix kernels: the repeating layers, and
    the output head when `head` (a decoded token computes logits; a prompt token in llama-bench does not)."""
    from selfhost_advisor.estimate.speed import token_work

    work = token_work(get_model(r.model_id), get_quant(r.quant))
    out: dict[str, list[float]] = {}
    mats = [m for layer in work.layer_matrices for m in layer]
    if head:
        mats.append((*work.output_matrix, work.output_read_bytes))
    for ty, w, b in mats:
        t = out.setdefault(ty, [0.0, 0.0])
        t[0] += w
        t[1] += b
    return {k: (v[0], v[1]) for k, v in out.items()}


def _block_types(totals: dict[str, tuple[float, float]]) -> set[str]:
    """The block-quantized types among `totals` (those a kernel rate applies to; kernel_path.FLOAT_TYPES)."""
    from selfhost_advisor.estimate.kernel_path import FLOAT_TYPES

    return {ty for ty in totals if ty not in FLOAT_TYPES}


def _inverse_efficiency(rows: list[Row]) -> float | None:
    """Least squares for 1/efficiency when a row's time is its FLOPs at unit efficiency over that efficiency, plus
    (ROCm) the matmuls' memory traffic at coefficient 1 (estimate/kernel_path.py), which is no part of the fit, nor is
    (Vulkan on AMD) flash attention at its lane rate (_vulkan_fa_seconds), nor (ROCm) HIP's tile flash attention at
    its lane rate (_rocm_fa_seconds)."""
    fixed = [_traffic_seconds(r) + _vulkan_fa_seconds(r) + _rocm_fa_seconds(r) for r in rows]
    xs = [(_unit_seconds(r, "compute") - f) * r.measured for r, f in zip(rows, fixed)]
    ys = [1.0 - f * r.measured for r, f in zip(rows, fixed)]
    return sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs) if xs else None


def _traffic_seconds(r: Row) -> float:
    """Prefill seconds per token of the matmuls' memory traffic on the row's GPUs (ROCm: tiles, with hipBLAS's
    FP16 conversion pass where the row's build ran hipBLAS; SYCL: the dequantized scratch copies at the row's build); cached per row and model variant (kernel_path.mode)."""
    from selfhost_advisor.estimate import kernel_path

    return _traffic_seconds_in(r, kernel_path.mode())


@lru_cache(maxsize=None)
def _traffic_seconds_in(r: Row, mode: tuple) -> float:
    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.speed import prefill_traffic_seconds, token_work
    from selfhost_advisor.estimate.sycl_path import assume_build

    if r.kind != PROMPT or not r.machine.devices:
        return 0.0
    mats = token_work(get_model(r.model_id), get_quant(r.quant)).layer_matrices
    with at_build(r.build_date), assume_build(r.build, r.build_date):  # the row's build: hipBLAS's pass (ROCm), the F16 flag (SYCL)
        return prefill_traffic_seconds(r.machine.devices[0], mats)


def _ran_cublas(r: Row) -> bool:
    """Whether the row's build multiplied its quantized weights with cuBLAS (estimate/cuda_path.quant_path at the
    row's build date, 512-token micro-batches)."""
    from selfhost_advisor.estimate.cuda_path import quant_path
    from selfhost_advisor.estimate.kernel_path import at_build

    with at_build(r.build_date):
        return quant_path(r.machine.devices[0], 512) == "cublas"


def _cublas_conversion_seconds(r: Row, bandwidth_share: float) -> float:
    """Prefill seconds per token of converting the row's quantized matrices to FP16 (cuda_path.dequant_seconds) at
    the family's fitted bandwidth share; with the layers split over GPUs each converts its own in turn, so the sum is
    every layer's at one GPU's bandwidth (as estimate/speed.py sums the devices)."""
    from selfhost_advisor.estimate.cuda_path import dequant_seconds
    from selfhost_advisor.estimate.speed import token_work

    mats = token_work(get_model(r.model_id), get_quant(r.quant)).layer_matrices
    d = r.machine.devices[0]
    return dequant_seconds(mats, bandwidth_share * d.bandwidth_bytes_per_s, 512)


def _fit_unpack(rows: list[Row], bandwidth_share: float = 1.0) -> dict:
    """Prefill of a CUDA family whose rows include our device runs: seconds per token =

        FLOPs / (efficiency x FLOPS) + sum over types of weights / (MMQ rate x SM cycles/s) + layers x C / SM cycles/s

    linear in 1/efficiency (one for 16-bit, one for quantized weights), 1/rate per type and C; least squares on
    relative error over every row. A type whose coefficient comes out <= 0 is dropped and the fit redone.
    """
    from selfhost_advisor.estimate.speed import sm_cycles_per_s

    # per row, once: FLOPs time at unit efficiency, layers and weights per type over SM cycles/s, all over the time.
    # A row whose build ran cuBLAS on dequantized weights (before PR #8075) is a 16-bit GEMM row: its FLOPs time
    # (at the FP16 rate, cuda_path) joins the 16-bit column, the conversion pass's traffic (at the family's bandwidth
    # share) is taken off its time, and no MMQ unpacking applies.
    base, per_type, targets = [], [], []
    for r in rows:
        t = 1.0 / r.measured
        smc = sm_cycles_per_s(r.machine.devices[0])
        flops_t = _unit_seconds(r, "compute") / t
        blas = _is_quant(r) and _ran_cublas(r)
        base.append([0.0, flops_t] if _is_quant(r) and not blas else [flops_t, 0.0])
        base[-1].append(get_model(r.model_id).n_layers / smc / t)
        per_type.append({} if blas else {ty: w / smc / t for ty, (w, _) in _matrix_totals(r, head=False).items()})
        targets.append(1.0 - (_cublas_conversion_seconds(r, bandwidth_share) / t if blas else 0.0))
    types = sorted({ty for r, per in zip(rows, per_type) if _is_quant(r) for ty in _block_types(per)})
    while True:
        x = _solve([b + [per.get(ty, 0.0) for ty in types] for b, per in zip(base, per_type)], targets)
        bad = [ty for ty, v in zip(types, x[3:]) if v <= 0]
        if not bad:
            break
        types = [ty for ty in types if ty not in bad]
    return {"inv_f16": x[0], "inv_quant": x[1], "prefill_layer_sm_cycles": round(max(0.0, x[2])),
            "mmq_weight_tokens_per_sm_cycle": {ty: round(1.0 / v, 1) for ty, v in zip(types, x[3:])},
            "mmq_fitted_on": f"{sum(r.source == 'device' for r in rows)} dense-model prefill rows of our llama-bench"
                             f" runs and {sum(r.source != 'device' for r in rows)} published ones"
                             f" ({sum(not per for per in per_type)} quantized ones of builds before llama.cpp PR #8075,"
                             " fitted as the cuBLAS 16-bit GEMMs they ran)"}


def fit_matvec(rows: list[Row], fitted: dict, rates: dict[str, float]) -> dict[str, float]:
    """Weights per SM-cycle of each quantized type, from decode rows whose kernels outrun memory (the device rows).

    With the family's bandwidth, layer and hop terms fixed, each row's time beyond them is what its compute-bound
    types add: sum over those types of weights / (rate x SM cycles per s) - bytes / bandwidth. Which types are
    compute-bound comes from the previous rates (at first: every quantized type); linear in 1/rate, solved by least
    squares on relative error.
    """
    from selfhost_advisor.estimate.speed import sm_cycles_per_s

    base_table = _table(fitted, with_rates=False)
    feats, targets, types = [], [], sorted({ty for r in rows for ty in _block_types(_matrix_totals(r))})
    for r in rows:
        d = r.machine.devices[0]
        smc = sm_cycles_per_s(d)
        bw = fitted["cuda"]["bandwidth_efficiency"] * d.bandwidth_bytes_per_s
        t = 1.0 / r.measured
        left = t - _seconds(r, base_table)
        f = [0.0] * len(types)
        for ty, (w, b) in _matrix_totals(r).items():
            if ty in types and (ty not in rates or w / (rates[ty] * smc) > b / bw):
                f[types.index(ty)] = w / smc / t
                left += b / bw
        feats.append(f)
        targets.append(left / t)
    inv = _solve(feats, targets)
    used = {ty for i, ty in enumerate(types) if any(f[i] for f in feats)}
    return {ty: round(1.0 / x, 3) for ty, x in zip(types, inv) if x > 0 and ty in used}


def fit(rows: list[Row], device: list[Row] | None = None) -> dict:
    """Family factors, and the CUDA kernel rates from our `device` rows (which also join the CUDA fits): mat-vec
    rates from the decode rows, MMQ rates and the per-layer prefill cost from the prefill rows.

    Decode factors and mat-vec rates depend on each other (the rates decide how much of a row's time is bandwidth),
    so they are fitted in turn until the rates settle; the prefill fit is linear in all its unknowns.
    """
    device = device or []
    matvec_rows = [r for r in device if r.kind == DECODE]
    rates: dict[str, float] = {}
    out = _fit_families(rows, device, None)
    for _ in range(50):
        if not matvec_rows:
            break
        new = fit_matvec(matvec_rows, out, rates)
        prior = {f: dict(e) for f, e in out.items()}
        prior["cuda"]["matvec_weights_per_sm_cycle"] = new
        # only CUDA's fit reads `prior` (its decode targets less the rates' excess); each family is fitted on its own
        # rows alone (fit_families), so the others' are the first pass's (refitting them ~20 times, ROCm's and
        # Vulkan's lane searches included, was most of fit's time: suite time)
        out_new = dict(out)
        out_new.update(_fit_families(rows, device, prior, ("cuda",)))
        settled = new.keys() == rates.keys() and all(abs(new[k] - rates[k]) <= 1e-4 * rates[k] for k in new)
        rates, out = new, out_new
        if settled:
            break
    if rates:
        out["cuda"]["matvec_weights_per_sm_cycle"] = dict(sorted(rates.items()))
        out["cuda"]["matvec_fitted_on"] = (f"{len(matvec_rows)} dense-model decode rows of our llama-bench runs on an "
                                           f"{matvec_rows[0].hardware} (benchmarks/device/)")
    _bands(_best_cpu_rows(rows) + device, out)
    return out


def _sycl_block_targets(dec: list[Row], feats: list[tuple]) -> tuple[list[float], float]:
    """SYCL decode targets (1 - known seconds / measured seconds) with each row's block-layout seconds at the share
    the fit with those targets gives, iterated until the share settles (it moves the block time, which moves it)."""
    share = 1.0
    targets = [1.0] * len(dec)
    for _ in range(100):
        a = _sycl_decode_a(dec, feats, targets)
        new = round(1.0 / a, 6)
        targets = [1.0 - (_block_layout_seconds(r, new) - _submission_saving_seconds(r)) * r.measured for r in dec]
        if abs(new - share) <= 1e-6:
            break
        share = new
    return targets, share


def _sycl_decode_a(dec: list[Row], feats: list[tuple], targets: list[float]) -> float:
    """1 / bandwidth share of a SYCL decode fit on (bytes, per-layer cycles) against `targets` (_fit_families' rule:
    both unknowns only with 2+ models, 4+ rows and 2+ machines, a non-negative per-layer time)."""
    cyc = [(f[0], f[1]) for f in feats]  # f[1]: per-layer seconds over the clock (cycles), as _fit_families' features
    if len({(r.model_id, r.quant) for r in dec}) > 1 and len(dec) >= 4 and len({r.gpu for r in dec}) >= 2:
        sol = _solve([list(c) for c in cyc], targets)
        if sol[1] >= 0:
            return sol[0]
        return _solve([[c[0]] for c in cyc], targets)[0]
    return sum(c[0] * t for c, t in zip(cyc, targets)) / sum(c[0] ** 2 for c in cyc)


def _excess(r: Row, fitted: dict) -> float:
    """Seconds the mat-vec rates add to row r's bandwidth-and-latency time under `fitted`."""
    return _seconds(r, _table(fitted)) - _seconds(r, _table(fitted, with_rates=False))


def fit_families(rows: list[Row], families: tuple[str, ...]) -> dict:
    """The factors of `families` (and the CPU's, which every prediction consults) alone, without bands or CUDA kernel
    rates: what a leave-one-hardware-out fold of a weak backend needs. Each family is fitted on its own rows only, so
    these equal fit(rows)'s (tests/test_weak_backends.py checks), at a fraction of the cost."""
    return _fit_families(rows, [], None, tuple(families) + ("cpu",))


def _fit_families(rows: list[Row], device: list[Row], prior: dict | None,
                  families: tuple[str, ...] = _FAMILIES) -> dict:
    """Per family: bandwidth efficiency, layer and hop latency (decode), compute efficiencies (prefill). With `prior`
    (a previous fit holding mat-vec rates), each decode row's target is its time less what those rates add."""
    rows = _best_cpu_rows(rows) + device
    by_family: dict[str, list[Row]] = {}
    for r in rows:
        by_family.setdefault(family(r.backend), []).append(r)
    out: dict[str, dict] = {}
    for fam in _FAMILIES:
        if fam not in families:
            continue
        rs = by_family.get(fam, [])
        dec = [r for r in rs if r.kind == DECODE]
        feats, targets = [], []
        cycles = fam in CYCLE_FAMILIES
        for r in dec:
            t = 1.0 / r.measured
            x = _unit_seconds(r, "bandwidth") / t
            lay = _unit_seconds(r, "layer") / t
            if cycles:  # the per-layer time in GPU cycles: layers / clock
                lay /= _clock_hz(r)
            hop = _unit_seconds(r, "hop") / t
            feats.append((x, lay, hop))
            extra = _excess(r, prior) if prior is not None and fam == "cuda" else 0.0
            targets.append(1.0 - extra / t)
        if fam == "sycl" and dec:  # the block-layout time depends on the share it is fitted with: to a fixed point
            targets, _ = _sycl_block_targets(dec, feats)
        variants = {(r.model_id, r.quant) for r in dec}
        multi = any(r.n_gpus > 1 for r in dec)
        layer_lat = hop_lat = 0.0
        # two unknowns (bandwidth share and per-layer time) need rows of more than one model and more rows than
        # unknowns, or the solve reproduces its rows exactly and anything can come out (2 rows: a negative share);
        # and rows of 2+ machines: a per-layer time one machine alone sets is a per-GPU constant
        machines = len({r.gpu for r in dec})
        lane_factor = 0.0
        if len(variants) > 1 and len(dec) >= 4 and machines >= 2 and fam in MATVEC_FAMILIES:
            a, layer_lat, lane_factor = _fit_lane_matvec(dec, feats, [_rocm_graph_seconds(r) * r.measured for r in dec])
        elif len(variants) > 1 and len(dec) >= 4 and machines >= 2 and fam == "vulkan":
            a, layer_lat, lane_factor = _fit_vulkan_lane(dec, feats)
        elif len(variants) > 1 and len(dec) >= 4 and machines >= 2 and fam != "cpu":
            cols = [0, 1, 2] if multi else [0, 1]
            sol = _solve([[f[c] for c in cols] for f in feats], targets)
            a, layer_lat = sol[0], max(0.0, sol[1])
            hop_lat = max(0.0, sol[2]) if multi else 0.0
            if sol[1] < 0:  # no fixed cost: refit a alone
                a = _solve([[f[0]] for f in feats], targets)[0]
        else:
            # one model only: bandwidth and per-layer time cannot be told apart, so all time counts as bandwidth
            # (conservative for larger models, which read more bytes per layer)
            layer_lat = 0.0
            # least squares for a with the layer latency fixed: sum (a x + L lay - 1)^2
            a = (sum(f[0] * (tg - layer_lat * f[1]) for f, tg in zip(feats, targets)) / sum(f[0] ** 2 for f in feats)
                 if feats else 1.0)
        assert 1.0 / a <= 1.0, f"{fam}: fitted bandwidth efficiency {1 / a:.2f} > 1 is not physical"
        pre = [r for r in rs if r.kind == PROMPT]
        unpack = _fit_unpack(pre, 1.0 / a) if any(r.source == "device" for r in pre) else None
        if unpack is not None:
            comp = {False: unpack.pop("inv_f16"), True: unpack.pop("inv_quant")}
            # the share of FLOPS 16-bit prefill reaches with nothing else in the model (vLLM borrows it)
            from selfhost_advisor.estimate.cuda_path import attention_at_matmul_rate

            with attention_at_matmul_rate():  # vLLM's step charges attention as FLOPs at this one share
                inv = _inverse_efficiency([r for r in pre if not _is_quant(r)])
            unpack["compute_efficiency_f16_all_in"] = round(1.0 / inv, 4) if inv else None
        else:
            # a row counts towards the share its prediction uses (Metal M3+: quantized weights at the 16-bit one)
            comp = {q: _inverse_efficiency([r for r in pre if _uses_quant_share(r) == q]) for q in (False, True)}
        if fam == "sycl":  # prompt GEMMs at the library's measured rates, activations counted (sycl_path.gemm_rate,
            comp = {False: 1.0, True: 1.0}  # methodology 5b-sycl8): no share is fitted to the prompt rows
        if comp[False] is None:
            comp[False] = comp[True]
        if comp[True] is None:
            comp[True] = comp[False]
        out[fam] = {
            "bandwidth_efficiency": round(1.0 / a, 4),
            "layer_latency_us": 0.0 if cycles else round(layer_lat * 1e6, 2),
            "hop_latency_us": round(hop_lat * 1e6, 1),
            "compute_efficiency_f16": round(1.0 / comp[False], 4) if comp[False] else 0.5,
            "compute_efficiency_quant": round(1.0 / comp[True], 4) if comp[True] else 0.5,
            "fitted_on": f"{len(dec)} decode and {len(pre)} prefill llama-bench rows"
                         + (f" ({sum(r.source == 'device' for r in dec)} decode and"
                            f" {sum(r.source == 'device' for r in pre)} prefill rows ours, benchmarks/device/)"
                            if any(r.source == "device" for r in rs) else ""),
            "calibrated_hardware": sorted({_hw_family(r) for r in rs} - {""}),  # an APU profile has no family
        }
        if fam in MATVEC_FAMILIES or fam == "vulkan":
            out[fam]["matvec_lane_factor"] = round(lane_factor, 4)
        if cycles:
            out[fam]["fitted_gpus"] = sorted({r.gpu for r in rs})  # the machines (profile ids) the factors rest on
            out[fam]["layer_cycles"] = round(layer_lat)
            out[fam]["layer_cycles_clock_fallback_mhz"] = (
                round(statistics.median(_clock_hz(r) for r in dec) / 1e6) if dec else 0)
        if unpack:
            out[fam].update(unpack)
        if fam == "vulkan" and comp[True]:
            out[fam].update(_fit_vulkan_paths(pre, comp[True]))
        if fam == "rocm" and comp[True]:
            out[fam].update(_fit_rocm_paths(pre, out[fam]))
    return out


def _fit_rocm_paths(rows: list[Row], fitted: dict) -> dict:
    """One prefill efficiency per ROCm kernel path named in data/speed.yaml rocm_prefill_path.efficiency_paths (not per
    GPU; estimate/kernel_path.path_name), the other paths at the family's (fitted on every row first, as Vulkan's paths
    in _fit_vulkan_paths): least squares on relative error for 1/e_path with each row's FLOPs time at unit efficiency
    split by path (kernel_path.path_scales at the row's build), the matmuls' memory traffic at coefficient 1 and the
    other paths' time at the family's efficiency fixed. A path with no row, or a coefficient <= 0, keeps the family's.
    (Fitting the family's jointly with them was scored too: docs/methodology.md 5b-rocm2.)"""
    from selfhost_advisor.estimate.speed import _speed_data

    named = tuple((_speed_data().get("rocm_prefill_path") or {}).get("efficiency_paths") or ())
    inv_family = 1.0 / float(fitted["compute_efficiency_quant"])
    feats = []
    for r in rows:
        split = _rocm_path_split(r)
        if not split or not _uses_quant_share(r):
            continue
        fixed = _traffic_seconds(r) + _rocm_fa_seconds(r)  # tile flash attention: lane-rate time, no path's
        unit, traffic = _unit_seconds(r, "compute") - fixed, fixed
        total = sum(split.values())
        own = {p: unit * v / total for p, v in split.items() if p in named}
        if own:
            feats.append((own, unit - sum(own.values()), traffic, r.measured))
    paths = sorted({p for f in feats for p in f[0]})
    while paths:
        x = _solve([[own.get(p, 0.0) * m for p in paths] for own, _, _, m in feats],
                   [1.0 - (t + rest * inv_family) * m for _, rest, t, m in feats])
        bad = [p for p, v in zip(paths, x) if v <= 0]
        if not bad:
            break
        paths = [p for p in paths if p not in bad]
    if not paths:
        return {}
    return {"rocm_path_efficiency": {p: round(1.0 / v, 4) for p, v in zip(paths, x)},
            "rocm_path_rows": {p: sum(1 for own, _, _, _ in feats if p in own) for p in paths},
            "rocm_path_gpus": {p: sorted({r.gpu for r in rows if p in (_rocm_path_split(r) or {})}) for p in paths}}


def _rocm_path_split(r: Row) -> dict[str, float]:
    """The row's kernel_path.path_scales at its build (cached per row and model variant, as the unit seconds)."""
    from selfhost_advisor.estimate import kernel_path

    return _rocm_path_split_in(r, kernel_path.mode())


@lru_cache(maxsize=None)
def _rocm_path_split_in(r: Row, mode: tuple) -> dict[str, float]:
    from selfhost_advisor.estimate import kernel_path
    from selfhost_advisor.estimate.speed import _device_flops, _fitted, _rate, _rate_table, _rocm_path_rules, token_work

    d = r.machine.devices[0] if r.machine.devices else None
    rules = _rocm_path_rules(d) if d is not None else None
    if not rules:
        return {}
    work = token_work(get_model(r.model_id), get_quant(r.quant))
    table = _rate_table(_fitted("cuda").mmq)
    with kernel_path.at_build(r.build_date):
        return kernel_path.path_scales(d, work.layer_matrices, _device_flops(d, work.quantized), rules,
                                       lambda ty: _rate(ty, table))


def _rocm_fa_seconds(r: Row) -> float:
    """A ROCm prompt row's seconds per token of flash attention in HIP's tile kernel at its lane rate
    (kernel_path.fa_tile_flops: on RDNA the tile kernel, on CDNA also the MMA kernel, `rate: tile`), which no fitted
    efficiency scales: the row's unit-compute time less the same with that attention free (kernel_path.tile_fa_off);
    0 for any other row."""
    if r.kind != PROMPT or family(r.backend) != "rocm" or not r.machine.devices:
        return 0.0
    from selfhost_advisor.estimate import kernel_path

    return _rocm_fa_seconds_in(r, kernel_path.mode())


@lru_cache(maxsize=None)
def _rocm_fa_seconds_in(r: Row, mode: tuple) -> float:
    from selfhost_advisor.estimate.hip_graphs import graph_term_off
    from selfhost_advisor.estimate.kernel_path import tile_fa_off
    from selfhost_advisor.estimate.speed import mmq_traffic_off

    with mmq_traffic_off(), graph_term_off():
        lane = _seconds(r, _unit(compute=1.0))
        with tile_fa_off():
            free = _seconds(r, _unit(compute=1.0))
    return max(0.0, lane - free)


def _vulkan_fa_seconds(r: Row) -> float:
    """A Vulkan prompt row's attention seconds per token that no efficiency scales (AMD's and Intel's flash attention at
    its lane rate, estimate/vulkan_path.fa_prefill_rate); 0 for any other row."""
    if r.kind != PROMPT or family(r.backend) != "vulkan" or not r.machine.devices:
        return 0.0
    return _vulkan_path_seconds(r)[2]


@lru_cache(maxsize=None)
def _vulkan_path_seconds(r: Row) -> tuple[tuple[tuple[str, float], ...], float, float]:
    """Per matmul path, the row's prefill seconds per token at unit efficiency (estimate/vulkan_path.py), with the
    paths of the row's build (() when the model is off or a peak is unknown); its attention seconds at unit
    efficiency over the listed FLOPS; and its attention seconds where they are not the family's efficiency's (AMD's
    and Intel's flash attention at its lane rate, vulkan_path.fa_prefill_rate: then the second is 0)."""
    from selfhost_advisor.estimate import vulkan_path
    from selfhost_advisor.estimate.speed import _attention_flops, _device_flops, token_work

    model = get_model(r.model_id)
    work = token_work(model, get_quant(r.quant))
    d = r.machine.devices[0]
    flops = sum(_attention_flops(model, i, r.depth) for i in range(model.n_layers))
    with vulkan_path.as_of_build(r.build_date, r.vulkan_path):
        secs = vulkan_path.path_seconds(d, work.layer_matrices, _device_flops(d))
        fa = vulkan_path.fa_prefill_rate(d)
    attention, fixed = (0.0, flops / fa) if fa else (flops / _device_flops(d, work.quantized), 0.0)
    return (tuple(sorted(secs.items())) if secs else ()), attention, fixed


def _fit_vulkan_paths(rows: list[Row], inv_family: float) -> dict:
    """One efficiency per Vulkan matmul path (not per GPU): seconds per token = sum over paths of that path's FLOPs over
    its peak x 1/efficiency, least squares on relative error over the family's prefill rows. A path with no row, or
    whose coefficient comes out <= 0, keeps the family's efficiency (1/inv_family). The matmuls' memory traffic is a
    floor (max), derived, no part of the fit: a row it binds under the fitted efficiencies is left out of the fit,
    and the fit redone until that set settles."""
    feats = [(dict(s), a, r.measured, _vulkan_traffic(r), fx) for r in rows for s, a, fx in [_vulkan_path_seconds(r)]
             if s]
    bound: set[int] = set()
    for _ in range(20):
        use = [f for i, f in enumerate(feats) if i not in bound]
        eff = _solve_vulkan_paths(use, inv_family)
        inv = {p: 1.0 / e for p, e in eff.items()}
        now = {i for i, (f, a, m, t, _) in enumerate(feats)
               if t > sum(v * inv.get(p, inv_family) for p, v in f.items())}
        if now == bound:
            break
        bound = now
    if not eff:
        return {}
    return {"vulkan_path_efficiency": {p: round(e, 4) for p, e in eff.items()},
            "vulkan_path_rows": {p: sum(1 for i, (f, _, _, _, _) in enumerate(feats) if p in f and i not in bound)
                                 for p in eff},
            "vulkan_traffic_bound_rows": len(bound)}


def _solve_vulkan_paths(feats: list, inv_family: float) -> dict[str, float]:
    """The least-squares efficiencies of _fit_vulkan_paths; a path of data/speed.yaml vulkan_prefill_path
    fixed_path_efficiency (coopMatMulAdd at the listed rate: coopmat_mma 1.0) keeps its value and is not fitted."""
    from selfhost_advisor.estimate.vulkan_path import path_rules

    fixed = {str(p): float(v) for p, v in ((path_rules() or {}).get("fixed_path_efficiency") or {}).items()}
    present = {p for f, _, _, _, _ in feats for p in f}
    paths = sorted(present - set(fixed))
    fixed = {p: v for p, v in fixed.items() if p in present}
    inv = {p: 1.0 / v for p, v in fixed.items()}
    while paths:
        x = _solve([[f.get(p, 0.0) * m for p in paths] for f, _, m, _, _ in feats],
                   [1.0 - (fx + a * inv_family + sum(v * inv.get(p, inv_family) for p, v in f.items() if p not in paths))
                    * m for f, a, m, _, fx in feats])
        bad = [p for p, v in zip(paths, x) if v <= 0]
        if not bad:
            return {p: 1.0 / v for p, v in zip(paths, x)} | fixed
        paths = [p for p in paths if p not in bad]
    return fixed


@lru_cache(maxsize=None)
def _vulkan_traffic(r: Row) -> float:
    """The row's Vulkan prefill memory-traffic seconds per token (estimate/vulkan_path.py traffic_seconds)."""
    from selfhost_advisor.estimate import vulkan_path
    from selfhost_advisor.estimate.speed import token_work

    work = token_work(get_model(r.model_id), get_quant(r.quant))
    with vulkan_path.as_of_build(r.build_date, r.vulkan_path):
        return vulkan_path.traffic_seconds(r.machine.devices[0], work.layer_matrices)


# Families whose decode pays ggml-cuda's mat-vec kernels carried from the CUDA family's per-type rates (ROCm: HIP
# compiles the same mmvq.cu; docs/methodology.md 5b, fifth pass), with a fitted lane factor k.
MATVEC_FAMILIES = ("rocm",)


def _fit_lane_matvec(dec: list[Row], feats: list[tuple], known: list[float] | None = None) -> tuple[float, float, float]:
    """a (1 / bandwidth efficiency), c (cycles per layer) and k for ROCm decode:

        seconds = a x bytes / bandwidth + c x layers / clock
                  + sum over types max(0, k x weights / (CUDA rate x lanes / 128 x clock) - a x bytes / bandwidth)

    For each k (a coarse grid, then golden-section search between the best point's neighbours), a and c by least
    squares on relative error, alternated with each row's kernel excess until they settle (c >= 0); the k with the
    least squared error is kept (search_lane_k, shared with benchmarks/weak_structures.py). `known`, per row, is time
    no coefficient scales (the graphs-off launch time of builds before HIP graphs), relative to the measured time."""
    import numpy as np

    from selfhost_advisor.estimate.speed import _fitted, _rate, _rate_table, rocm_matvec_cycles, token_work

    from selfhost_advisor.estimate.kernel_path import at_build
    from selfhost_advisor.estimate.rocm_decode import lane_factor

    table = _rate_table(_fitted("cuda").matvec)
    x = np.array([f[0] for f in feats])
    lay = np.array([f[1] for f in feats])
    kern, wide = [], []
    for r in dec:
        t = 1.0 / r.measured
        d = r.machine.devices[0]
        lc = rocm_matvec_cycles(d, 1.0)
        per: dict[str, list[float]] = {}
        for mats in token_work(get_model(r.model_id), get_quant(r.quant)).layer_matrices:
            for ty, w, b in mats:
                acc = per.setdefault(ty, [0.0, 0.0])
                acc[0] += w
                acc[1] += b
        # a type whose MMVQ rows have the CUDA kernel's shape (128+ threads) runs at k = 1 (estimate/rocm_decode.py)
        with at_build(r.build_date):
            at_one = {ty for ty in per if lane_factor(d, ty, 0.0) == 1.0}
        feats_k = [(w / (rate * lc) / t, b / d.bandwidth_bytes_per_s / t, ty in at_one)
                   for ty, (w, b) in per.items() if lc and (rate := _rate(ty, table))]
        kern.append([(w, b) for w, b, one in feats_k if not one])
        wide.append([(w, b) for w, b, one in feats_k if one])
    return search_lane_k(x, lay, [row or [(0.0, 0.0)] for row in kern], [row or [(0.0, 0.0)] for row in wide], known)


# Vulkan's lane factor is searched in units of this many lane-cycles per weight (search_lane_k's grid, 0.25-8, then
# spans 2-64 lane-cycles) and stored in lane-cycles per weight (estimate/vulkan_path.matvec_excess)
VULKAN_LANE_UNIT = 8.0


def _fit_vulkan_lane(dec: list[Row], feats: list[tuple]) -> tuple[float, float, float]:
    """a (1 / bandwidth efficiency), c (cycles per layer) and the lane-cycles per weight of Vulkan decode
    (docs/methodology.md 5b-vkgcn):

        seconds = a x bytes / bandwidth + c x layers / clock
                  + sum over block-quantized types max(0, k x weights / (lanes x clock) - a x bytes / bandwidth)

    the mat-vec layers and the output head (a decoded token computes logits), the same k for every type: since session
    23 held at the kernel timings of data/speed.yaml vulkan_matvec (docs/methodology.md 5b-vkamd11), a and c fitted
    with it; without that entry searched as _fit_lane_matvec's k (search_lane_k)."""
    import numpy as np

    from selfhost_advisor.estimate.kernel_path import FLOAT_TYPES
    from selfhost_advisor.estimate.vulkan_path import matvec_lane_hz

    x = np.array([f[0] for f in feats])
    lay = np.array([f[1] for f in feats])
    kern = []
    for r in dec:
        t = 1.0 / r.measured
        d = r.machine.devices[0]
        lane_hz = matvec_lane_hz(d)
        kern.append([(VULKAN_LANE_UNIT * w / lane_hz / t, b / d.bandwidth_bytes_per_s / t)
                     for ty, (w, b) in _matrix_totals(r).items() if lane_hz and ty not in FLOAT_TYPES])
    from selfhost_advisor.catalog.data import load

    held = (load("speed").get("vulkan_matvec") or {}).get("lane_cycles_per_weight")
    # k from kernel timings where data/speed.yaml vulkan_matvec gives it (session 23), else searched
    a, c, k = search_lane_k(x, lay, [row or [(0.0, 0.0)] for row in kern],
                            fixed_k=float(held) / VULKAN_LANE_UNIT if held else None)
    return a, c, k * VULKAN_LANE_UNIT


def search_lane_k(x, lay, kern: list[list[tuple[float, float]]],
                  fixed: list[list[tuple[float, float]]] | None = None,
                  known: list[float] | None = None, fixed_k: float | None = None) -> tuple[float, float, float]:
    """a, c and k of the lane mat-vec law, from each row's bandwidth feature x and layer-cycles feature lay and, per
    row, the (kernel seconds at k = 1, bandwidth seconds) of each weight type, all relative to the measured time. For
    each k (a coarse grid, then golden-section search between the best point's neighbours: the blind rows move by
    several points between k = 1.59 and 1.63, so the optimum is taken exactly, not to a grid step), a and c by least
    squares alternated with each row's kernel excess until they settle (c >= 0); the k with the least squared error is
    kept. `fixed`, per row, holds kernel terms of the same form at k = 1 (ROCm types whose MMVQ rows have the CUDA
    kernel's shape, estimate/rocm_decode.py); `fixed_k`: k is given (measured), only a and c are solved. Used by
    _fit_lane_matvec and benchmarks/weak_structures.py."""
    import numpy as np

    def _cols(rows: list[list[tuple[float, float]]]):
        width = max(1, max(len(k) for k in rows))
        return (np.array([[w for w, _ in row] + [0.0] * (width - len(row)) for row in rows]),
                np.array([[b for _, b in row] + [0.0] * (width - len(row)) for row in rows]))

    wt, bt = _cols(kern)
    wt1, bt1 = _cols(fixed) if fixed else (np.zeros((len(kern), 1)), np.zeros((len(kern), 1)))
    xl = np.column_stack([x, lay])
    base = 1.0 - (np.array(known) if known is not None else 0.0)  # time no coefficient scales, off the target

    @lru_cache(maxsize=None)  # the golden-section steps meet the same k again (~1 in 3): computed once (suite time)
    def solve(k: float) -> tuple[float, float, float]:
        a, c = 1.0, 0.0
        for _ in range(60):
            y = base - np.maximum(0.0, k * wt - a * bt).sum(axis=1) - np.maximum(0.0, wt1 - a * bt1).sum(axis=1)
            a_new, c = np.linalg.lstsq(xl, y, rcond=None)[0]
            if c < 0:
                a_new, c = float(x @ y / (x @ x)), 0.0
            if abs(a_new - a) < 1e-12:
                break
            a = float(a_new)
        ex = np.maximum(0.0, k * wt - a * bt).sum(axis=1) + np.maximum(0.0, wt1 - a * bt1).sum(axis=1)
        return float(((a * x + c * lay + ex - base) ** 2).sum()), a, float(c)

    if fixed_k is not None:
        _, a, c = solve(float(fixed_k))
        return a, c, float(fixed_k)
    grid = np.geomspace(0.25, 8.0, 31)
    i = min(range(len(grid)), key=lambda j: solve(float(grid[j]))[0])
    lo, hi = np.log(grid[max(0, i - 1)]), np.log(grid[min(len(grid) - 1, i + 1)])
    g = (5 ** 0.5 - 1) / 2
    for _ in range(30):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if solve(float(np.exp(m1)))[0] <= solve(float(np.exp(m2)))[0]:
            hi = m2
        else:
            lo = m1
    k = float(np.exp((lo + hi) / 2))
    _, a, c = solve(k)
    return a, c, k


# Families whose fixed per-layer decode time is fitted in GPU clock cycles, not microseconds: the small kernels of a
# decoded layer (norms, RoPE, activation quantization, launches) run at the GPU's clock, and across these backends'
# GPUs (1.5-3.0 GHz) the clock varies 2x (docs/methodology.md 5b; benchmarks/weak_structures.py "bw+cycles"). CUDA
# joined on 2026-12-05: its fitted GPUs run 1.7-2.5 GHz, the held-out ones 1.4-2.9 (docs/methodology.md 5f).
CYCLE_FAMILIES = ("rocm", "vulkan", "sycl", "cuda")



def _clock_hz(r: Row) -> float:
    from selfhost_advisor.estimate.speed import gpu_clock_hz

    hz = gpu_clock_hz(r.machine.devices[0])
    assert hz, f"{r.hardware}: no GPU clock in its profile"
    return hz


def _is_quant(r: Row) -> bool:
    return r.quant.upper() not in ("F16", "BF16", "F32")


def _uses_quant_share(r: Row) -> bool:
    """Whether a prefill row is predicted with the quantized compute share: quantized weights, except on a GPU that
    unpacks them beside its FMAs (Metal M3+, estimate/metal_path.py), which reaches the 16-bit share."""
    from selfhost_advisor.estimate.metal_path import dequant_overlapped

    return _is_quant(r) and not (r.machine.devices and dequant_overlapped(r.machine.devices[0]))


def _hw_family(r: Row) -> str:
    from selfhost_advisor.estimate.speed import _hardware_family

    pid = r.machine.devices[0].matched_profile if r.machine.devices else "desktop-ddr5"
    return _hardware_family(pid or "")


def _table(fitted: dict, with_rates: bool = True) -> dict[str, Efficiency]:
    return {
        f: Efficiency(f, e["bandwidth_efficiency"], e["layer_latency_us"] * 1e-6, e["hop_latency_us"] * 1e-6,
                      e["compute_efficiency_f16"], e["compute_efficiency_quant"], (1, 1), (1, 1), (),
                      tuple(sorted((e.get("matvec_weights_per_sm_cycle") or {}).items())) if with_rates else (),
                      tuple(sorted((e.get("mmq_weight_tokens_per_sm_cycle") or {}).items())),
                      float(e.get("prefill_layer_sm_cycles") or 0.0),
                      float(e.get("compute_efficiency_f16_all_in") or e["compute_efficiency_f16"]),
                      float(e.get("layer_cycles") or 0.0), float(e.get("layer_cycles_clock_fallback_mhz") or 0.0) * 1e6,
                      float(e.get("matvec_lane_factor") or 0.0),
                      tuple(sorted((e.get("vulkan_path_efficiency") or {}).items())),
                      tuple(sorted((e.get("rocm_path_efficiency") or {}).items())))
        for f, e in fitted.items()
    }


def _pct(values: list[float], q: float) -> float:
    v = sorted(values)
    k = (len(v) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def _bands(rows: list[Row], out: dict) -> None:
    table = _table(out)
    ratios: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        ratios.setdefault((family(r.backend), r.kind), []).append(r.measured / predict(r, table))
    pooled = {k: [x for (f, kk), v in ratios.items() if kk == k for x in v] for k in (PROMPT, DECODE)}
    for fam, e in out.items():
        for kind, key in ((DECODE, "decode_band"), (PROMPT, "prefill_band")):
            rs = ratios.get((fam, kind), [])
            if len(rs) >= 8:
                lo, hi = _pct(rs, 0.1), _pct(rs, 0.9)
            else:  # too few rows for percentiles: the pooled band, widened to this family's own extremes
                lo, hi = min([_pct(pooled[kind], 0.1), *rs]), max([_pct(pooled[kind], 0.9), *rs])
            e[key] = [round(min(1.0, lo), 3), round(max(1.0, hi), 3)]
            e[key + "_from"] = f"{len(rs)} rows of this family" if len(rs) >= 8 else f"pooled over all families ({len(pooled[kind])} rows), widened to this family's {len(rs)} rows"


def render(fitted: dict) -> str:
    import yaml

    head = (ROOT / "scripts" / "speed_header.yaml").read_text()
    return head + yaml.safe_dump({"families": fitted}, sort_keys=True, width=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calibration", type=Path, default=CAL)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args(argv)
    rows, skipped = calibration_rows(args.calibration)
    rows += [r for r in published_rows() if r.backend != "metal" and not r.blind]  # as fit_rows
    fitted = fit(rows, [r for r in device_rows() if in_fit(r)])
    text = render(fitted)
    target = ROOT / "data" / "speed.yaml"
    if args.print:
        table = _table(fitted)
        for r in _best_cpu_rows(rows) + device_rows():
            p = predict(r, table)
            print(f"{r.backend:7} {r.hardware[:34]:34} {r.n_gpus} {r.model_id:11} {r.quant:7} {r.test:6} "
                  f"meas {r.measured:9.2f} pred {p:9.2f} err {100 * (p / r.measured - 1):+6.1f}%")
        for s in skipped:
            print("skipped:", s)
    if args.check:
        if not target.exists() or target.read_text() != text:
            print("data/speed.yaml differs from a fresh fit: run python scripts/fit_speed.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    import compile_data  # scripts/ is on sys.path when run as a script

    compile_data.main()
    print(text[text.index("\nfamilies:"):])
    return 0


if __name__ == "__main__":
    sys.exit(main())
