"""Jetson and laptop-GPU rows of session 27 (benchmarks/published/edge27_*.yaml), each predicted by the SHIPPED model,
median |error| per hardware and nvpmodel power mode, decode and prefill apart (docs/methodology.md 5f-edge27).

Usage: python benchmarks/edge27.py [--json]
The rows were written down and scored at main a200006 before any change of session 27 could see them, and join no fit.
Scoring is session 25's (unseen_s25.rows: a `_cuda.yaml` file through cuda_heldout.rows). The model prices a Jetson
at its MAXN clocks (the spec sheet's); rows of a lower power mode are reported apart, since no sourced per-mode clock
table is in the model (docs/methodology.md 5f-edge27 says why).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cuda_heldout import _stats, print_report  # noqa: E402  (the held-out scripts' one summary)
import unseen_s25  # noqa: E402  (session 25's scorer: rows per file kind)

FILES = sorted((ROOT / "benchmarks" / "published").glob("edge27_*.yaml"))


def rows(files: list[Path] = FILES) -> list[dict]:
    """unseen_s25.rows for these files, each row carrying its power_mode ('not stated' where the page names none)."""
    out = []
    for f in files:
        got = unseen_s25.rows([f])
        for src, r in zip(unseen_s25._raw(f), got, strict=True):
            r["power_mode"] = str(src.get("power_mode", "not stated"))
        out += got
    return out


def summary(rs: list[dict]) -> dict:
    """Per kind: all rows at the mode the model prices (MAXN, or a laptop at its stated maximum), the rows of a lower
    stated power mode apart, and per hardware x power mode."""
    out = {}
    for kind in ("decode", "prefill"):
        k = [r for r in rs if r["kind"] == kind]
        out[f"{kind} / all rows at MAXN"] = _stats([r for r in k if r["power_mode"] == "MAXN"])
        out[f"{kind} / rows of a lower power mode"] = _stats([r for r in k if r["power_mode"] not in
                                                              ("MAXN", "not stated")])
        for hw, mode in sorted({(r["hardware"], r["power_mode"]) for r in k}):
            out[f"{kind} / {hw} @ {mode}"] = _stats([r for r in k if (r["hardware"], r["power_mode"]) == (hw, mode)])
    return {name: s for name, s in out.items() if s.get("rows")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rs = rows()
    return print_report(rs, summary(rs), args.json, 52, lambda r: (
        f"  {r['kind']:7s} {r['hardware'][:24]:24s} {r['power_mode']:10s} {r['model']:16s} {r['quant']:7s}"
        f" {r['test']:6s} measured {r['measured']:8.2f} predicted {r['predicted']:8.2f} {r['error_pct']:+7.1f}%"),
        ensure_ascii=False)


if __name__ == "__main__":
    raise SystemExit(main())
