"""Session 25's unseen published rows (benchmarks/published/unseen_s25_*.yaml), each predicted by the SHIPPED model,
median |error| per backend / vendor and per host, decode and prefill apart (docs/methodology.md 5-unseen25).

Usage: python benchmarks/unseen_s25.py [--json] [--batch all|1|2|3|4]
The rows were written down before any change could see them and join no fit. GPU rows go through session 24's
scorer (unseen_s24.weak_rows: fit_speed.published_rows + fit_speed.predict; a `_cuda.yaml` file through
cuda_heldout.rows). CPU rows (a `_cpu.yaml` file, llamabench_cpu.yaml's fields) go through cpu_published.predict: the
host as a user names it with `--hardware custom:...` at the chip's stated maximum clock (the error printed), and at its
stated base clock (`error_at_base_pct`). Rows measured with llama-cli (`via: llama-cli`: its decode "eval time" rate,
not llama-bench) are in every pooled median and also reported apart. vLLM serving rows (a `_serving.yaml` file,
data/serving_benchmarks.yaml's fields) go through serving_accuracy.outcome, as that script scores its held-out rows:
ours / published output tokens/s, reported apart from the llama.cpp rows.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cuda_heldout import _stats, print_summary  # noqa: E402  (the held-out scripts' one summary)
from unseen_s24 import _raw, cuda_rows, summary as s24_summary, weak_rows  # noqa: E402

FILES = sorted((ROOT / "benchmarks" / "published").glob("unseen_s25_*.yaml"))


def _vendor(cpu: str) -> str:
    name = cpu.lower()
    return "amd" if ("amd" in name or "ryzen" in name or "epyc" in name) else "intel" if "intel" in name else "other"


def cpu_rows(path: Path) -> list[dict]:
    """Every row of a llamabench_cpu.yaml-format file with the shipped CPU model's prediction at the row's stated
    maximum clock (and base clock) and the signed error (%)."""
    import cpu_published

    out = []
    for r in _raw(path):
        pred = cpu_published.predict(r, float(r["clock_ghz"]) * 1e9)
        at_base = cpu_published.predict(r, float(r["base_clock_ghz"]) * 1e9) if r.get("base_clock_ghz") else None
        measured = float(r["tokens_per_s"])
        out.append({"file": path.name, "hardware": r["cpu"], "profile": r["cpu"], "vendor": _vendor(r["cpu"]),
                    "backend": "cpu", "n_gpus": 1, "model": r["model"], "quant": r["quant"], "test": r["test"],
                    "kind": "prefill" if r["test"].startswith("pp") else "decode", "driver": "",
                    "threads": int(r["threads"]), "via": r.get("via", "llama-bench"),
                    "build_date": cpu_published.build_date(r), "url": r["url"], "measured": measured,
                    "predicted": pred, "error_pct": 100 * (pred / measured - 1),
                    "error_at_base_pct": 100 * (at_base / measured - 1) if at_base else None})
    return out


def serving_rows(path: Path) -> list[dict]:
    """Every row of a data/serving_benchmarks.yaml-format file with serving_accuracy's prediction: ours / published
    for the throughput, and for the mean TPOT / TTFT where the row states them."""
    import serving_accuracy

    out = []
    for r in _raw(path):
        ours, tpot_s, ttft_s = serving_accuracy.outcome(r)
        out.append({"file": path.name, "id": r["id"], "hardware": r["hardware"], "model": r["model"],
                    "gpus": int(r["gpus"]), "engine": r["engine"], "clients": r.get("clients", "closed"),
                    "concurrency": int(r["concurrency"]), "published": float(r["published"]), "predicted": ours,
                    "ratio": ours / float(r["published"]),
                    "tpot_ratio": tpot_s * 1000 / float(r["tpot_ms"]) if tpot_s and r.get("tpot_ms") else None,
                    "ttft_ratio": ttft_s * 1000 / float(r["ttft_ms"]) if ttft_s and r.get("ttft_ms") else None,
                    "source": r["source"]})
    return out


def serving_summary(rs: list[dict]) -> dict:
    """Median ours / published and median |ratio - 1| of the serving rows, and how many lie within 0.8-1.25 and 0.5-2x
    (issue 14's goals)."""
    import statistics

    if not rs:
        return {}
    x = [r["ratio"] for r in rs]
    return {"rows": len(x), "median_ratio": statistics.median(x),
            "median_abs_error_pct": 100 * statistics.median(abs(v - 1) for v in x),
            "within_0.8_1.25": sum(0.8 <= v <= 1.25 for v in x), "within_0.5_2": sum(0.5 <= v <= 2 for v in x)}


def batch(path: Path) -> str:
    """Which commit's batch a file is: unseen_s25_bN_*.yaml is batch N, the first commit's files batch 1."""
    m = re.match(r"b(\d+)_", path.name.removeprefix("unseen_s25_"))
    return m.group(1) if m else "1"


def rows(files: list[Path] = FILES) -> list[dict]:
    """The llama.cpp rows (CPU, weak-backend and CUDA files); serving files go through serving_rows."""
    out = []
    for f in files:
        if f.name.endswith("_serving.yaml"):
            continue
        if f.name.endswith("_cpu.yaml"):
            out += cpu_rows(f)
            continue
        got = cuda_rows(f) if f.name.endswith("_cuda.yaml") else weak_rows(f)
        for src, r in zip(_raw(f), got):
            r["via"] = src.get("via", "llama-bench")
        out += got
    return out


def summary(rs: list[dict]) -> dict:
    """unseen_s24's groups (all one-card rows, per backend / vendor, per hardware, two-card rows apart) and, per kind,
    the llama-bench rows and the llama-cli rows apart."""
    out = s24_summary(rs)
    for kind in ("decode", "prefill"):
        for via in sorted({r["via"] for r in rs}):
            sel = [r for r in rs if r["kind"] == kind and r["via"] == via and r["n_gpus"] == 1]
            if sel:
                out[f"{kind} / via {via}"] = _stats(sel)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--batch", choices=("all", "1", "2", "3", "4"), default="all",
                    help="score one batch's files alone: 1 = the first commit's, N = unseen_s25_bN_*.yaml")
    args = ap.parse_args()
    files = [f for f in FILES if args.batch in ("all", batch(f))]
    rs = rows(files)
    s = summary(rs)
    sv = [r for f in files if f.name.endswith("_serving.yaml") for r in serving_rows(f)]
    if args.json:
        print(json.dumps({"rows": rs, "summary": s, "serving_rows": sv, "serving_summary": serving_summary(sv)},
                         indent=2, ensure_ascii=False))
        return 0
    for r in rs:
        base = f" (base clock {r['error_at_base_pct']:+6.1f}%)" if r.get("error_at_base_pct") is not None else ""
        print(f"  {r['kind']:7s} {r['backend']:6s} {r['hardware'][:26]:26s} {r['model']:16s} {r['quant']:7s}"
              f" {r['test']:10s} {r['via']:11s} measured {r['measured']:9.2f} predicted {r['predicted']:9.2f}"
              f" {r['error_pct']:+7.1f}%{base}")
    print_summary(s, 52)
    for r in sv:
        extra = "".join(f" {k[:4]} ours/published {r[k]:.2f}" for k in ("tpot_ratio", "ttft_ratio") if r[k])
        print(f"  serving {r['hardware']:24s} {r['model']:10s} {r['clients']:6s} c={r['concurrency']:<5d}"
              f" published {r['published']:9.2f} ours {r['predicted']:9.2f} ratio {r['ratio']:.2f}{extra}")
    if sv:
        print("serving (vLLM, ours / published output tok/s):", json.dumps(serving_summary(sv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
