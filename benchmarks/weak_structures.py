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
          ("bw", "layer", "lanes"), ("bw", "cycles", "lanes"), "max", "max_cycles")
MAX = {"max": "layer", "max_cycles": "cycles"}  # max(bw, lanes) + a fixed per-layer term (CUDA's form)
PREFILL = (("flops",), ("flops", "lanes"), ("flops", "layer"), ("flops", "token"), ("flops", "cycles"))
TABLE_TWIN = {"mi300x": "radeon-instinct-mi300x"}  # curated profile -> its data/gpu_specs.yaml row (shaders, clock)
STRIX_LANES_CLOCK = (40 * 64, 2900.0)  # data/apu.yaml: Radeon 8060S 40 CU, 2.9 GHz; 64 lanes per RDNA CU


def _lanes_clock(r: F.Row) -> tuple[float, float]:
    from selfhost_advisor.catalog.gpu_table import by_id

    pid = r.machine.devices[0].matched_profile or ""
    spec = by_id(TABLE_TWIN.get(pid, pid))
    if spec and spec.get("shaders") and spec.get("boost_clock_mhz"):
        return float(spec["shaders"]), float(spec["boost_clock_mhz"])
    assert (r.machine.devices[0].matched_profile or "").startswith("ryzen-ai-max"), r.hardware
    return STRIX_LANES_CLOCK


def features(r: F.Row) -> dict[str, float]:
    t = 1.0 / r.measured
    lanes, mhz = _lanes_clock(r)
    mhz = F._clock_hz(r) / 1e6  # the clock the shipped fit uses (speed.gpu_clock_hz)
    work = token_work(get_model(r.model_id), get_quant(r.quant))
    weights = sum(w for layer in work.layer_matrices for _, w, _ in layer)
    if r.kind == F.DECODE:
        weights += work.output_matrix[1]
    n = get_model(r.model_id).n_layers
    return {"bw": F._seconds(r, F._unit(bandwidth=1.0)) / t, "layer": F._seconds(r, F._unit(layer=1.0)) / t,
            "token": 1.0 / t, "lanes": weights / (lanes * mhz * 1e6) / t, "cycles": n / (mhz * 1e6) / t,
            "flops": F._seconds(r, F._unit(compute=1.0)) / t}


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


def _predict(r: F.Row, feats: dict, coef: dict, terms) -> float:
    f = feats[id(r)]
    if terms in MAX:
        fixed = MAX[terms]
        t = max(coef["bw"] * f["bw"], coef["lanes"] * f["lanes"]) + coef[fixed] * f[fixed]
    else:
        t = sum(v * f[k] for k, v in coef.items())
    return 1.0 / t - 1.0  # measured time is 1 in these units


def score(kind: str, terms) -> dict:
    test = F.DECODE if kind == "decode" else F.PROMPT
    rows = [r for r in F.fit_rows() if family(r.backend) in BACKENDS and r.kind == test]
    feats = {id(r): features(r) for r in rows}
    out = {}
    for be in BACKENDS:
        rs = [r for r in rows if family(r.backend) == be]
        errs, unphysical = [], 0
        for hw in sorted({r.gpu for r in rs}):
            train = [r for r in rs if r.gpu != hw]
            if not train:  # no row of this backend and test left: n/a, as weak_backends.py
                continue
            coef = _fit_max(train, feats, MAX[terms]) if terms in MAX else _fit(train, feats, terms)
            unphysical += coef.get("bw", 1.0) < 1.0  # bandwidth efficiency above 1: streams faster than spec
            errs += [(W.architecture(r), 100 * _predict(r, feats, coef, terms)) for r in rs if r.gpu == hw]
        if errs:
            full = _fit_max(rs, feats, MAX[terms]) if terms in MAX else _fit(rs, feats, terms)
            out[be] = {"rows": len(errs), "median_abs_error_pct": round(statistics.median(abs(e) for _, e in errs), 1),
                       "coefficients": {k: float(f"{v:.3g}") for k, v in full.items()},
                       "folds_above_spec_bandwidth": unphysical + (full.get("bw", 1.0) < 1.0),
                       "errors": [(a, round(e, 1)) for a, e in errs]}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = {kind: {f"max(bw,lanes)+{MAX[t]}" if t in MAX else "+".join(t): score(kind, t) for t in cands}
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
                  + (f", {above} fits above spec bandwidth" if above else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
