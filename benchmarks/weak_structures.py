"""Candidate structures for the weak backends' decode and prefill, scored leave-one-hardware-out (docs/methodology.md
5b, "Structures tried"). A structure ships only if it lowers these errors; this script is the record of the ones tried.

Usage: python benchmarks/weak_structures.py [--json]

Each candidate writes a row's seconds per token as a sum of terms, each term a per-backend coefficient times a feature
(all features divided by the measured seconds, so least squares works on relative error, as scripts/fit_speed.py):
  bw     bytes streamed / spec bandwidth (the coefficient is 1 / bandwidth efficiency)
  layer  repeating layers (coefficient: seconds per layer: kernel launches)
  token  1 (a fixed cost per token: graph submission, synchronisation)
  lanes  matrix weights / (shader lanes x boost clock) (coefficient: lane-cycles per weight: the mat-vec or MMQ
         kernels' arithmetic on the vector ALUs, as the CUDA family's per-SM-cycle rates; lanes and clock from
         data/gpu_specs.yaml, the Radeon 8060S's 40 CU x 64 lanes x 2.9 GHz from data/apu.yaml)
  cycles repeating layers / boost clock (coefficient: GPU cycles per layer; shipped since 2026-12-05's third pass)
  flops  prefill FLOPs / spec FLOPS as the estimator counts them (coefficient: 1 / compute efficiency)
  path   prefill FLOPs / the peak of the kernel path ggml-cuda takes under HIP for each type (MMQ: int8; hipBLAS:
         FP16; see _rocm_path), by weight share (fourth pass; Vulkan rows: the listed peak)
  matvec per block type, max(0, k x weights / (the CUDA family's mat-vec rate x lanes / 128 x clock) - bytes streamed):
         CUDA's decode form with its rates carried to these GPUs (fourth pass; see MATVEC)
  mmq    MMQ's unpacking: weights / (the CUDA family's per-type MMQ rate x CU lanes / 128 x clock), types on MMQ only
and "max" = max(bw, lanes) + layer, the CUDA family's form ("max_cycles": + cycles). A term whose coefficient comes out negative is dropped and
the fit redone; terms beyond the first need rows of 2+ machines, 2+ models and more rows than unknowns (else the
first term alone), as the shipped fit.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import fit_speed as F  # noqa: E402
import weak_backends as W  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.estimate.speed import family, token_work  # noqa: E402

BACKENDS = ("rocm", "vulkan", "sycl")
# the shipped structure first (since 2026-12-05's third pass: bandwidth + per-layer cycles)
DECODE = (("bw", "cycles"), ("bw", "layer"), ("bw", "layer", "token"), ("bw", "token"), ("bw", "lanes"),
          ("bw", "layer", "lanes"), ("bw", "cycles", "lanes"), "max", "max_cycles", ("bw", "cycles", "matvec"))
MAX = {"max": "layer", "max_cycles": "cycles"}  # max(bw, lanes) + a fixed per-layer term (CUDA's form)
PREFILL = (("flops",), ("flops", "lanes"), ("flops", "layer"), ("flops", "token"), ("flops", "cycles"),
           ("path",), ("flops", "mmq"), ("path", "mmq"), "max_path_mmq", ("path", "mmq_vopd"),
           ("path_dp4a_fp16", "mmq"), ("path_dp4a_fp16", "mmq_vopd"))
TABLE_TWIN = {"mi300x": "radeon-instinct-mi300x"}  # curated profile -> its data/gpu_specs.yaml row (shaders, clock)
STRIX_LANES_CLOCK = (40 * 64, 2900.0)  # data/apu.yaml: Radeon 8060S 40 CU, 2.9 GHz; 64 lanes per RDNA CU


def _lanes_clock(r: F.Row) -> tuple[float, float]:
    from selfhost_advisor.catalog.gpu_table import by_id

    pid = r.machine.devices[0].matched_profile or ""
    spec = by_id(TABLE_TWIN.get(pid, pid))
    if spec and spec.get("shaders") and spec.get("boost_clock_mhz"):
        return float(spec["shaders"]), float(spec["boost_clock_mhz"])
    d = r.machine.devices[0]
    if d.vendor == "intel":  # an iGPU profile (data/apu.yaml): 128 lanes per Xe core, its boost clock
        from selfhost_advisor.estimate.speed import gpu_clock_hz
        from selfhost_advisor.estimate.sycl_path import vector_lanes

        lanes, hz = vector_lanes(d), gpu_clock_hz(d)
        if lanes and hz:
            return lanes, hz / 1e6
    assert (r.machine.devices[0].matched_profile or "").startswith("ryzen-ai-max"), r.hardware
    return STRIX_LANES_CLOCK


def _has_lanes_clock(r: F.Row) -> bool:
    """Whether the screening's lane and clock features exist for a row's GPU (a laptop iGPU row, the Radeon 780M's of
    session 11, has neither a spec-table row nor a clock: it is scored by benchmarks/weak_backends.py alone)."""
    from selfhost_advisor.catalog.gpu_table import by_id

    pid = r.machine.devices[0].matched_profile or ""
    spec = by_id(TABLE_TWIN.get(pid, pid)) or {}
    return bool(spec.get("shaders") and spec.get("boost_clock_mhz")) or pid.startswith("ryzen-ai-max")


# Prefill by the kernel path (2026-12-05, fourth pass; ggml-cuda as HIP compiles it, ggml_cuda_should_use_mmq in
# ggml/src/ggml-cuda/mmq.cu and amd_mfma_available / amd_wmma_available in common.cuh, read at llama.cpp 027ef87):
# at llama-bench's 512-token ubatch, CDNA 3 runs MMQ on MFMA; CDNA 1/2 only Q4_0/Q4_1/Q5_0/Q5_1 (other types are
# dequantized to FP16 for rocBLAS); RDNA 3/3.5 run MMQ on WMMA except Q2_K and Q6_K (hipBLAS at 512 tokens); RDNA 4
# MMQ on WMMA; the rest (RDNA 1/2, GCN 5.1) MMQ on dp4a. MMQ's peak is the int8 rate (data/gpu_specs.yaml int8_tops:
# 2x FP16 on CDNA 3 and RDNA 4, equal on CDNA 1/2 and RDNA 3); dp4a parts run v_dot4_i32_i8, 4 MACs per lane per clock
# = 512 ops/clk per 64-lane CU (2x their packed-FP16 shader rate; RDNA 1 gfx1010 has no dot4). What MMQ pays beyond
# the matrix unit is unpacking each weight tile (load_tiles_* in mmq.cuh, the same code under HIP): the CUDA family's
# per-type MMQ rates (weight-tokens per 128-lane SM-cycle, fitted on our H200) carried to a GPU by its 64-lane CUs x
# clock, one coefficient per backend. Vulkan keeps its listed peak (coopmat or shader as data/speed.yaml says); its
# unpacking per type is the same feature (its mul_mm / mul_mmq shaders also unpack per tile).
_MMQ_LEGACY = ("Q4_0", "Q4_1", "Q5_0", "Q5_1")
_DP4A_ARCH = ("RDNA 2.0", "GCN 5.1")


def _rocm_path(arch: str, ty: str) -> str:
    """'mmq' (int8 peak, unpacking paid) or 'blas' (FP16 peak, dequantized once per ubatch) for a type on an arch."""
    if arch.startswith("CDNA"):
        return "mmq" if arch == "CDNA 3.0" or ty in _MMQ_LEGACY else "blas"
    if arch.startswith("RDNA 3"):
        return "blas" if ty in ("Q2_K", "Q6_K") else "mmq"
    return "mmq"


def _int8_peak(r: F.Row, arch: str, fp16: float) -> float:
    from selfhost_advisor.catalog.gpu_table import by_id

    pid = r.machine.devices[0].matched_profile or ""
    spec = by_id(TABLE_TWIN.get(pid, pid)) or {}
    if spec.get("int8_tops"):
        return float(spec["int8_tops"]) * 1e12
    lanes, mhz = _lanes_clock(r)
    if arch in _DP4A_ARCH:
        return lanes * 8 * mhz * 1e6  # v_dot4: 4 MACs = 8 ops per lane per clock
    return fp16  # RDNA 3.5 APUs: WMMA int8 = FP16 rate; RDNA 1: no dot4


def _prefill_path_features(r: F.Row, flops_feature: float, t: float, vopd: bool = False,
                           dp4a_at_fp16: bool = False) -> tuple[float, float]:
    """(FLOPs over the path's peak, MMQ unpacking), both over the measured time, per type by weight share.

    Two variants written after the first was scored (so tuned, not derived; recorded, not shipped): `vopd` counts an
    RDNA 3/3.5/4 CU's unpacking lanes twice (VOPD dual issue has v_dual_and_b32 / v_dual_lshlrev_b32, the unpacking's
    bit operations), `dp4a_at_fp16` puts the dp4a parts' MMQ peak at their FP16 shader rate instead of 2x."""
    from selfhost_advisor.estimate.speed import _device_flops, _rate, _rate_table, efficiency

    totals = {ty: w for ty, (w, _) in F._matrix_totals(r, head=False).items()}
    arch = W.architecture(r)
    lanes, mhz = _lanes_clock(r)
    mhz = F._clock_hz(r) / 1e6
    fp16 = _device_flops(r.machine.devices[0], True) or 1.0
    rates = _rate_table(efficiency("cuda").mmq)
    total_w = sum(totals.values())
    path, unpack = 0.0, 0.0
    for ty, w in totals.items():
        rate = _rate(ty, rates)
        share = w / total_w
        if family(r.backend) == "rocm" and rate:
            on_mmq = _rocm_path(arch, ty) == "mmq"
            peak = _int8_peak(r, arch, fp16) if on_mmq else fp16
            if dp4a_at_fp16 and arch in _DP4A_ARCH:
                peak = fp16
        else:
            on_mmq, peak = bool(rate), fp16
        path += flops_feature * share * fp16 / peak
        if on_mmq:
            dual = 2 if vopd and arch.startswith(("RDNA 3", "RDNA 4")) else 1
            unpack += w / (rate * dual * lanes / 128 * mhz * 1e6) / t
    return path, unpack


# Decode with per-type mat-vec rates (fourth pass): ROCm runs ggml-cuda's own mat-vec kernels (mmvq.cu, compiled by
# HIP), so the CUDA family's per-type rates (weights per 128-lane SM-cycle, fitted on our H200) are carried to an AMD
# GPU by its vector lanes / 128 x clock, over one factor k per backend, in CUDA's form (speed.py _kernel_excess):
#   t = a x bytes / bandwidth + c x layers / clock + sum over types max(0, k x weights / (rate x lane-cycles/s)
#       - a x bytes / bandwidth)
# Scored on every weak backend (Vulkan's and SYCL's kernels are their own; the CUDA rates stand in for a per-type
# cost there).
MATVEC = ("bw", "cycles", "matvec")


def _matvec_pairs(r: F.Row, t: float) -> list[tuple[float, float, str]]:
    """Per block-quantized type: (weights / (lanes / 128 x clock) / t, bytes / spec bandwidth / t, type)."""
    lanes, _ = _lanes_clock(r)
    cyc = lanes / 128 * F._clock_hz(r)
    bw = r.machine.devices[0].bandwidth_bytes_per_s
    totals = F._matrix_totals(r)
    return [(w / cyc / t, b / bw / t, ty) for ty, (w, b) in totals.items() if ty in F._block_types(totals)]


def _fit_matvec(rows: list[F.Row], feats: dict) -> dict:
    """a, c and k of MATVEC: for each k on a grid, a and c by least squares on relative error, alternated with each
    row's kernel excess until they settle (c >= 0); the k with the least squared error is kept. With rows of fewer than
    2 machines or 2 models (or under 4 rows): bandwidth alone, as the shipped fit."""
    import numpy as np
    from selfhost_advisor.estimate.speed import _rate, _rate_table, efficiency

    x = np.array([feats[id(r)]["bw"] for r in rows])
    lay = np.array([feats[id(r)]["cycles"] for r in rows])
    if not (len({r.gpu for r in rows}) >= 2 and len({(r.model_id, r.quant) for r in rows}) >= 2 and len(rows) >= 4):
        return {"bw": float(x @ np.ones(len(x)) / (x @ x)), "cycles": 0.0, "matvec": 0.0}
    table = _rate_table(efficiency("cuda").matvec)
    kern = [[(wk / _rate(ty, table), bb) for wk, bb, ty in feats[id(r)]["mv"] if _rate(ty, table)] for r in rows]
    a, c, k = F.search_lane_k(x, lay, kern)
    return {"bw": a, "cycles": c, "matvec": k}


def _predict_matvec(f: dict, coef: dict) -> float:
    from selfhost_advisor.estimate.speed import _rate, _rate_table, efficiency

    table = _rate_table(efficiency("cuda").matvec)
    a, k = coef["bw"], coef["matvec"]
    ex = sum(max(0.0, k * wk / r - a * bb) for wk, bb, ty in f["mv"] if (r := _rate(ty, table)))
    return 1.0 / (a * f["bw"] + coef["cycles"] * f["cycles"] + ex) - 1.0


def _listed_flops_seconds(r: F.Row) -> float:
    """FLOPs at unit efficiency over the listed peak: the prefill feature every structure here was scored against (on
    ROCm the shipped model since the fifth pass adds the kernel path and matmul traffic, benchmarks/weak_paths.py)."""
    from selfhost_advisor.estimate import kernel_path

    if r.kind != F.PROMPT:
        return F._unit_seconds(r, "compute")
    from selfhost_advisor.estimate import vulkan_path

    with kernel_path.listed_peak_only(), vulkan_path.listed_peak_only():
        return F._seconds(r, F._unit(compute=1.0))


def features(r: F.Row) -> dict[str, float]:
    t = 1.0 / r.measured
    lanes, mhz = _lanes_clock(r)
    mhz = F._clock_hz(r) / 1e6  # the clock the shipped fit uses (speed.gpu_clock_hz)
    work = token_work(get_model(r.model_id), get_quant(r.quant))
    weights = sum(w for layer in work.layer_matrices for _, w, _ in layer)
    if r.kind == F.DECODE:
        weights += work.output_matrix[1]
    n = get_model(r.model_id).n_layers
    out = {"bw": F._unit_seconds(r, "bandwidth") / t, "layer": F._unit_seconds(r, "layer") / t,
           "token": 1.0 / t, "lanes": weights / (lanes * mhz * 1e6) / t, "cycles": n / (mhz * 1e6) / t,
           "flops": _listed_flops_seconds(r) / t}
    if r.kind == F.DECODE:
        out["mv"] = _matvec_pairs(r, t)
    if r.kind == F.PROMPT:
        out["path"], out["mmq"] = _prefill_path_features(r, out["flops"], t)
        out["mmq_vopd"] = _prefill_path_features(r, out["flops"], t, vopd=True)[1]
        out["path_dp4a_fp16"] = _prefill_path_features(r, out["flops"], t, dp4a_at_fp16=True)[0]
    return out


def _fit(rows: list[F.Row], feats: dict, terms) -> dict[str, float]:
    import numpy as np

    enough = (len({r.gpu for r in rows}) >= 2 and len({(r.model_id, r.quant) for r in rows}) >= 2
              and len(rows) >= len(terms) + 2)
    use = list(terms) if enough else [terms[0]]
    while True:
        x = np.linalg.lstsq(np.array([[feats[id(r)][k] for k in use] for r in rows]), np.ones(len(rows)), rcond=None)[0]
        bad = [k for k, v in zip(use, x) if v < 0 and k != use[0]]
        if not bad:
            return dict(zip(use, (float(v) for v in x)))
        use = [k for k in use if k not in bad]


def _fit_max(rows: list[F.Row], feats: dict, fixed: str = "layer") -> dict[str, float]:
    """max(a bw, k lanes) + L fixed (per-layer us or cycles): a grid over a and k, L by least squares (clipped at 0)."""
    import numpy as np

    enough = len({r.gpu for r in rows}) >= 2 and len({(r.model_id, r.quant) for r in rows}) >= 2 and len(rows) >= 4
    f = {k: np.array([feats[id(r)][fixed if k == "layer" else k] for r in rows]) for k in ("bw", "lanes", "layer")}
    best = None
    for a in np.linspace(1.0, 2.5, 61):
        for k in ([0.0, *np.geomspace(0.5, 40, 60)] if enough else [0.0]):
            base = np.maximum(a * f["bw"], k * f["lanes"])
            lay = max(0.0, float(f["layer"] @ (1 - base) / (f["layer"] @ f["layer"]))) if enough else 0.0
            s = float(((base + lay * f["layer"] - 1) ** 2).sum())
            if best is None or s < best[0]:
                best = (s, {"bw": float(a), "lanes": float(k), fixed: lay})
    return best[1]


def _fit_max_path(rows: list[F.Row], feats: dict) -> dict[str, float]:
    """max(a path, k mmq): the matrix unit or the unpacking, whichever binds (a grid over a and k)."""
    import numpy as np

    enough = len({r.gpu for r in rows}) >= 2 and len({(r.model_id, r.quant) for r in rows}) >= 2 and len(rows) >= 4
    p = np.array([feats[id(r)]["path"] for r in rows])
    m = np.array([feats[id(r)]["mmq"] for r in rows])
    best = None
    for a in np.geomspace(1.0, 20.0, 121):
        for k in ([0.0, *np.geomspace(0.05, 40, 120)] if enough else [0.0]):
            s = float(((np.maximum(a * p, k * m) - 1) ** 2).sum())
            if best is None or s < best[0]:
                best = (s, {"path": float(a), "mmq": float(k)})
    return best[1]


def _fit_any(rows, feats, terms) -> dict[str, float]:
    if terms == MATVEC:
        return _fit_matvec(rows, feats)
    if terms == "max_path_mmq":
        return _fit_max_path(rows, feats)
    return _fit_max(rows, feats, MAX[terms]) if terms in MAX else _fit(rows, feats, terms)


def _predict(r: F.Row, feats: dict, coef: dict, terms) -> float:
    f = feats[id(r)]
    if terms == MATVEC:
        return _predict_matvec(f, coef)
    if terms == "max_path_mmq":
        t = max(coef["path"] * f["path"], coef["mmq"] * f["mmq"])
    elif terms in MAX:
        fixed = MAX[terms]
        t = max(coef["bw"] * f["bw"], coef["lanes"] * f["lanes"]) + coef[fixed] * f[fixed]
    else:
        t = sum(v * f[k] for k, v in coef.items())
    return 1.0 / t - 1.0  # measured time is 1 in these units


def score(kind: str, terms) -> dict:
    test = F.DECODE if kind == "decode" else F.PROMPT
    rows = [r for r in F.fit_rows() if family(r.backend) in BACKENDS and r.kind == test]
    # the blind GPUs (benchmarks/published/llamabench_weak.yaml `in_fit: false`, set aside before this structure was
    # written): predicted by the fit on every row, as the shipped fit predicts them
    # (whole GPUs only: the fifth pass's blind rows of fitted GPUs are scored by benchmarks/weak_paths.py)
    fitted = {r.gpu for r in rows}
    blind = [r for r in F.published_rows(before_session=12)  # the rows of this record's day
             if r.blind and family(r.backend) in BACKENDS and r.kind == test
             and r.gpu not in fitted and _has_lanes_clock(r)]
    feats = {id(r): features(r) for r in rows + blind}
    out = {}
    for be in BACKENDS:
        rs = [r for r in rows if family(r.backend) == be]
        errs, unphysical = [], 0
        for hw in sorted({r.gpu for r in rs}):
            train = [r for r in rs if r.gpu != hw]
            if not train:  # no row of this backend and test left: n/a, as weak_backends.py
                continue
            coef = _fit_any(train, feats, terms)
            unphysical += coef.get("bw", 1.0) < 1.0  # bandwidth efficiency above 1: streams faster than spec
            errs += [(W.architecture(r), 100 * _predict(r, feats, coef, terms)) for r in rs if r.gpu == hw]
        if errs:
            full = _fit_any(rs, feats, terms)
            bl = [100 * _predict(r, feats, full, terms) for r in blind if family(r.backend) == be]
            out[be] = {"blind": [round(e, 1) for e in bl],
                       "blind_median_abs_error_pct": round(statistics.median(abs(e) for e in bl), 1) if bl else None,
                       "rows": len(errs), "median_abs_error_pct": round(statistics.median(abs(e) for _, e in errs), 1),
                       "coefficients": {k: float(f"{v:.3g}") for k, v in full.items()},
                       "folds_above_spec_bandwidth": unphysical + (full.get("bw", 1.0) < 1.0),
                       "errors": [(a, round(e, 1)) for a, e in errs]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {kind: {t if t == "max_path_mmq" else f"max(bw,lanes)+{MAX[t]}" if t in MAX else "+".join(t): score(kind, t)
                     for t in cands}
              for kind, cands in (("decode", DECODE), ("prefill", PREFILL))}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for kind, cands in report.items():
        print(f"{kind}: leave-one-hardware-out median |error| per backend (rows)")
        for name, per in cands.items():
            all_errs = [abs(e) for v in per.values() for _, e in v["errors"]]
            eff = {be: round(1 / v["coefficients"]["bw"], 2) for be, v in per.items() if "bw" in v["coefficients"]}
            above = sum(v["folds_above_spec_bandwidth"] for v in per.values())
            print(f"  {name:22} " + "  ".join(f"{be} {v['median_abs_error_pct']:5.1f}% ({v['rows']})"
                                              for be, v in per.items())
                  + f"  | pooled {statistics.median(all_errs):5.1f}%"
                  + (f"  | bandwidth efficiency {eff}" if eff else "")
                  + (f", {above} fits above spec bandwidth" if above else "")
                  + "".join(f"  | blind {be} {v['blind_median_abs_error_pct']}% {v['blind']}" for be, v in per.items()
                            if v["blind"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
