"""Score the MLX estimates (estimate/mlx.py) against published mlx-lm runs (benchmarks/published/mlx_runs.yaml).

Usage: python benchmarks/mlx_accuracy.py [--json] [--save FILE]
Each row goes through the functions `advisor fit --engine mlx` uses (benchmarks/engine_accuracy_local.py mlx_row):
decode at the run's mean KV length, prefill at half the prompt (the mean a prompt token attends to), peak memory as
weights + KV cache + one prompt chunk of activations. Errors are (estimate - logged) / logged. The rows of
mlx_runs.yaml are all held out (scored blind before estimate/mlx.py changed, session 14); the older MLX rows of
data/engine_logs.yaml are printed as their own class. mlx-server rows (another engine on mlx's kernels) are apart.
Rows marked `batch: 2` (class suffix -2) were added after the layer-steps rule landed and scored blind by it;
`batch: 33` (class suffix -33) is session 33's set (2025-2026 models), scored blind in mlx_accuracy_s33_blind.txt.
`batch: 34` (class mlx-lm-34) is session 33 m5x33's M5 Max mlx_lm.benchmark set, scored blind in mlx_accuracy_m5x33_blind.txt.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_accuracy_local import mlx_row  # noqa: E402

from selfhost_advisor.catalog.data import load  # noqa: E402

QUANTITIES = ("decode", "prefill", "peak")


def rows() -> list[dict]:
    """mlx_runs.yaml rows (class from the row) and data/engine_logs.yaml's MLX rows (class engine_logs)."""
    pub = yaml.load((ROOT / "benchmarks" / "published" / "mlx_runs.yaml").read_text(),
                    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
    logs = [dict(r, **{"class": "engine_logs"}) for r in load("engine_logs")["rows"] if r["engine"] == "mlx"]
    return [dict(r, engine="mlx") for r in pub] + logs


def score() -> list[dict]:
    out = []
    for r in rows():
        res = mlx_row(r)
        res["class"] = r["class"] + (f"-{r['batch']}" if r.get("batch", 1) > 1 else "")
        res["chip"] = r["gpu"]
        out.append(res)
    return out


def summary(results: list[dict]) -> list[tuple[str, str, int, float, float, float]]:
    lines = []
    for cls in sorted({r["class"] for r in results}):
        for q in QUANTITIES:
            errs = [r[f"{q}_err"] for r in results if r["class"] == cls and f"{q}_err" in r]
            if errs:
                lines.append((cls, q, len(errs), statistics.median(abs(e) for e in errs), max(abs(e) for e in errs),
                              statistics.median(errs)))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--save", help="write the per-row results as JSON to this file")
    args = ap.parse_args(argv)
    results = score()
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=1, sort_keys=True))
    if args.json:
        print(json.dumps({"rows": results, "summary": summary(results)}, indent=1, sort_keys=True))
        return 0
    for r in results:
        for q in QUANTITIES:
            if f"{q}_err" in r:
                print(f"{r['class']:<12} {r['chip']:<20} {r['model']:<22} {r['quant']:<6} {q:<8} "
                      f"logged {r[f'{q}_logged']:>9} est {r[f'{q}_est']:>9} {r[f'{q}_unit']:<5} error {r[f'{q}_err']:+7.1%}")
    print()
    for cls, q, n, med, mx, signed in summary(results):
        print(f"{cls:<12} {q:<8} {n:>3} rows  median |error| {med:6.1%}  max {mx:6.1%}  median signed {signed:+6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
