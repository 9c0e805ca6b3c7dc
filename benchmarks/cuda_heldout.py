"""CUDA speed on NVIDIA GPUs outside the calibration: published llama-bench rows held out of every fit
(benchmarks/published/llamabench_cuda.yaml; docs/methodology.md 5f).

Usage: python benchmarks/cuda_heldout.py [--json]
No row of the file joins any fit (scripts/fit_speed.py never reads it), so every error printed here is out of sample:
the shipped model asked about a GPU it has not seen. Rows are grouped by the GPU's architecture (data/gpu_specs.yaml)
because that is where ggml-cuda's kernel choice changes (tensor-core MMQ from Turing on, dp4a before). Rows whose
build predates MMQ's tensor-core path (May 2024 and earlier) are reported apart: the model describes current builds.
Rows added in a later session (`added:`, e.g. the Maxwell and Kepler rows of session 12) are also reported apart, so
the figures of methodology 5f stay comparable; "all rows" pools every current-build llama-bench row (rows measured by
another tool, `added: session 13 llmfit`, stay in their own group).
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

PUBLISHED = ROOT / "benchmarks" / "published" / "llamabench_cuda.yaml"
# builds before llama.cpp PR #7676 (2024-06, "CUDA: use tensor cores for MMQ"): their quantized prefill ran cuBLAS on
# dequantized weights, another code path than the one the model describes
_OLD = ("2024-01", "2024-03", "May 2024", "2024-06")


def _architecture(machine) -> str:
    from selfhost_advisor.estimate.cuda_path import _row

    pid = machine.devices[0].matched_profile or ""
    return str(_row(pid).get("architecture") or pid)


def stated_fa(row: dict) -> bool | None:
    """llama-bench -fa as a published row states it (`fa: 1` / `0`); None where the row does not say (its build's
    default, kernel_path.fa_on_at)."""
    return None if row.get("fa") is None else bool(row["fa"])


def rows(path: Path = PUBLISHED) -> list[dict]:
    """Every row with the shipped model's prediction and its signed error (%)."""
    import moe_accuracy
    from selfhost_advisor.estimate.kernel_path import at_build, fa_stated

    out = []
    for r in moe_accuracy.published_rows(path):
        # a build before PR #8075 ran cuBLAS on dequantized weights; a row's stated llama-bench -fa (`fa: 1` / `0`)
        # overrides its build's default, as fit_speed.Row.fa does for the fitted and weak rows (methodology 5e-metal9)
        with at_build(r.get("build_date")), fa_stated(stated_fa(r)):
            pred = moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"], int(r.get("n_ubatch", 512)))
        build = str(r.get("build", ""))
        out.append({"hardware": r["hardware"], "device_name": r.get("device_name", r["hardware"]),
                    "profile": r["machine"].devices[0].matched_profile, "architecture": _architecture(r["machine"]),
                    "model": r["model"], "quant": r["quant"], "test": r["test"],
                    "kind": "prefill" if r["test"].startswith("pp") else "decode", "build": build,
                    "old_build": any(k in build for k in _OLD), "added": r.get("added"),
                    "measured": float(r["tokens_per_s"]),
                    "predicted": pred, "error_pct": 100 * (pred / float(r["tokens_per_s"]) - 1)})
    return out


def _stats(rs: list[dict]) -> dict:
    errs = [abs(r["error_pct"]) for r in rs]
    signed = [r["error_pct"] for r in rs]
    return {"rows": len(rs), "median_abs_error_pct": statistics.median(errs) if errs else None,
            "max_abs_error_pct": max(errs) if errs else None,
            "median_signed_error_pct": statistics.median(signed) if signed else None}


def summary(rs: list[dict]) -> dict:
    """Median / max |error| by kind for current builds, old builds, and per architecture (current builds)."""
    out = {}
    for kind in ("decode", "prefill"):
        # llama-bench rows only: rows measured by another tool (`added: ... llmfit`, llama.cpp's server) are reported
        # in their own group, not pooled
        every = [r for r in rs if r["kind"] == kind and not r["old_build"] and "llmfit" not in str(r.get("added"))]
        cur = [r for r in every if not r.get("added")]
        out[f"{kind} / current builds"] = _stats(cur)
        for added in sorted({r["added"] for r in rs if r.get("added")}):
            out[f"{kind} / added in {added}"] = _stats([r for r in rs if r["kind"] == kind and r.get("added") == added])
        out[f"{kind} / all rows, current builds"] = _stats(every)
        out[f"{kind} / builds before 2024-06"] = _stats([r for r in rs if r["kind"] == kind and r["old_build"]
                                                          and not r.get("added")])
        for arch in sorted({r["architecture"] for r in cur}):
            out[f"{kind} / {arch}"] = _stats([r for r in cur if r["architecture"] == arch])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rs = rows()
    return print_report(rs, summary(rs), args.json, 40, lambda r: (
        f"  {r['kind']:7s} {r['architecture'][:14]:14s} {r['hardware'][:34]:34s} {r['model']:10s} {r['quant']:6s}"
        f" {r['test']:7s} measured {r['measured']:8.1f} predicted {r['predicted']:8.1f} {r['error_pct']:+6.1f}%"
        + ("  (build before 2024-06)" if r["old_build"] else "")
        + (f"  (added in {r['added']})" if r.get("added") else "")),
        order=lambda r: (r["kind"], r["architecture"], r["hardware"]))


def print_summary(s: dict, width: int) -> None:
    """One line per summary group that has rows (also benchmarks/rocm_heldout.py's)."""
    for key, v in s.items():
        if v["rows"]:
            print(f"{key:{width}s} {v['rows']:3d} rows  median |error| {v['median_abs_error_pct']:5.1f}%"
                  f"  max {v['max_abs_error_pct']:6.1f}%  median signed {v['median_signed_error_pct']:+6.1f}%")


def print_report(rs: list[dict], s: dict, as_json: bool, width: int, line, order=None,
                 ensure_ascii: bool = True) -> int:
    """A held-out scorer's output (this one's, rocm_heldout's, unseen_s24's, edge27's and unseen_s26.scorer_main's):
    with --json the rows and the summary as one object; else `line(row)` for each row (sorted by `order` when given)
    and print_summary's table at `width`. Returns the exit status, 0."""
    if as_json:
        print(json.dumps({"rows": rs, "summary": s}, indent=2, ensure_ascii=ensure_ascii))
        return 0
    for r in sorted(rs, key=order) if order else rs:
        print(line(r))
    print_summary(s, width)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
