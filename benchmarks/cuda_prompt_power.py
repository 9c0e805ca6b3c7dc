"""CUDA prompt rows on Turing and later, per card: the shipped model's signed error beside the card's board power per
SM-cycle of its spec boost clock (docs/methodology.md 5c-s30a; session 30, amp30; nothing in the model reads this).

Usage: python benchmarks/cuda_prompt_power.py [--json]
Rows: benchmarks/cuda_heldout.py's current-build prompt rows and the CUDA prompt rows of benchmarks/unseen_s26..s29
(one GPU, depth 0, a build from 2024-06 on, no MXFP4 / BF16 / F16 weights: the int8 MMQ path alone), on a GPU whose data/gpu_specs.yaml row
is Turing, Ampere, Ada Lovelace or Blackwell 2.0 and states its board power; Jetson modules are left out (their spec
row's power is the module's, and their rows read +140..+220% for another reason, 5f-cuda26). Per card: the median
signed error of its rows, and tdp_watts / (SMs x boost GHz), the board power one SM has per GHz of the clock the model
charges it at. Per die family (GA100 apart from the GA10x dies), the rank correlation (Spearman, ties by order) of the
two over the cards.

Why: the model prices a prompt on CUDA at the spec boost clock (tensor FLOPs at the spec int8 rate, the MMQ unpacking
and per-layer work in SM-cycles of that clock). GPU Boost runs a card above or below that figure by its power headroom;
if that is what the rows' misses follow, two cards of one die and one SM count (RTX 3090 Ti / RTX A6000 / A40: GA102,
84 SMs) must miss in the order of their board power, which no per-architecture rate can reproduce.
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

ARCHITECTURES = ("Turing", "Ampere", "Ada Lovelace", "Blackwell 2.0")
_SKIP_QUANTS = ("MXFP4", "BF16", "F16")
_MMQ_MMA_SINCE = "2024-06"  # earlier builds ran cuBLAS on dequantized weights (cuda_heldout._OLD, methodology 5f)


def watts_per_sm_ghz(spec: dict) -> float | None:
    """Board power per SM per GHz of spec boost clock, from a data/gpu_specs.yaml row (None where a figure is missing)."""
    try:
        return float(spec["tdp_watts"]) / (float(spec["units"]) * float(spec["boost_clock_mhz"]) / 1000.0)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None


def family(spec: dict) -> str:
    """The die family a card is grouped in: its architecture, GA100 (A100 / A30: 64 FP32 lanes an SM) apart."""
    arch = str(spec.get("architecture") or "")
    return "Ampere GA100" if arch == "Ampere" and str(spec.get("chip") or "").startswith("GA100") else arch


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Rank correlation of two equally long lists (ranks by sort order, ties by position); None under 3 pairs."""
    n = len(xs)
    if n < 3 or n != len(ys):
        return None

    def ranks(v: list[float]) -> list[int]:
        order = sorted(range(n), key=lambda i: v[i])
        r = [0] * n
        for k, i in enumerate(order):
            r[i] = k
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / (sxx * syy) ** 0.5 if sxx and syy else None


def _spec(profile_id: str) -> dict:
    from selfhost_advisor.estimate.cuda_path import _row

    return _row(profile_id) if profile_id else {}


def rows() -> list[dict]:
    """The prompt rows described in the module docstring, each with its spec row's power per SM-GHz and die family."""
    import cuda_heldout
    import unseen_s26
    from selfhost_advisor.catalog import hw_names

    got = [dict(r, source="cuda_heldout") for r in cuda_heldout.rows()
           if r["kind"] == "prefill" and not r["old_build"] and "llmfit" not in (r.get("added") or "")]
    files = [f for s in (26, 27, 28, 29) for f in unseen_s26.session_files(s) if f.name.endswith("_cuda.yaml")]
    for r in unseen_s26.rows(files):
        if (r["kind"] != "prefill" or r["backend"] != "cuda" or r["n_gpus"] != 1
                or str(r.get("build_date") or "9999") < _MMQ_MMA_SINCE):
            continue
        try:
            profile = hw_names.resolve(r["hardware"]).id
        except Exception:  # noqa: BLE001  (a name no profile resolves: not scored here)
            continue
        got.append(dict(r, profile=profile, source="unseen_s26..s29"))
    out = []
    for r in got:
        spec = _spec(r.get("profile") or "")
        if (spec.get("architecture") not in ARCHITECTURES or "@d" in r["test"]
                or any(q in r["quant"] for q in _SKIP_QUANTS) or "jetson" in r["hardware"].lower()):
            continue
        w = watts_per_sm_ghz(spec)
        if w is None:
            continue
        out.append({"hardware": r["hardware"], "profile": r["profile"], "family": family(spec),
                    "chip": spec.get("chip"), "watts_per_sm_ghz": round(w, 3), "model": r["model"],
                    "quant": r["quant"], "test": r["test"], "source": r["source"],
                    "build_date": str(r.get("build_date") or ""), "error_pct": r["error_pct"]})
    return out


def cards(rs: list[dict]) -> list[dict]:
    """One line per card (profile): its family, power per SM-GHz, rows and median signed error."""
    by: dict[str, list[dict]] = {}
    for r in rs:
        by.setdefault(r["profile"], []).append(r)
    return sorted(({"profile": p, "family": v[0]["family"], "chip": v[0]["chip"],
                    "watts_per_sm_ghz": v[0]["watts_per_sm_ghz"], "rows": len(v),
                    "median_signed_error_pct": round(statistics.median(x["error_pct"] for x in v), 1)}
                   for p, v in by.items()), key=lambda c: (c["family"], c["watts_per_sm_ghz"]))


def summary(cs: list[dict]) -> dict:
    """Per family: cards, and the rank correlation of power per SM-GHz with the median signed error."""
    out = {}
    for fam in sorted({c["family"] for c in cs}):
        fc = [c for c in cs if c["family"] == fam]
        rho = spearman([c["watts_per_sm_ghz"] for c in fc], [c["median_signed_error_pct"] for c in fc])
        out[fam] = {"cards": len(fc), "spearman": None if rho is None else round(rho, 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rs = rows()
    cs = cards(rs)
    s = summary(cs)
    if args.json:
        print(json.dumps({"rows": rs, "cards": cs, "summary": s}, indent=2))
        return 0
    for c in cs:
        print(f"  {c['family']:13s} {str(c['chip']):7s} {c['profile'][:34]:34s} W/(SM GHz) {c['watts_per_sm_ghz']:5.2f}"
              f"  rows {c['rows']:2d}  median signed {c['median_signed_error_pct']:+6.1f}%")
    for fam, v in s.items():
        print(f"{fam:13s} {v['cards']:2d} cards  Spearman(power per SM-GHz, signed error) {v['spearman']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
