"""Session 24's unseen published llama-bench rows (benchmarks/published/unseen_s24_*.yaml), each predicted by the
SHIPPED model, median |error| per backend / vendor, decode and prefill apart (docs/methodology.md 5-unseen24).

Usage: python benchmarks/unseen_s24.py [--json]
The rows were written down before any change could see them and join no fit, so every error here is what a user asking
about that hardware gets. Prediction is the published-row path of the other held-out scripts: fit_speed.published_rows
reads a file of llamabench_weak.yaml's format and fit_speed.predict asks estimate_speed with the row's build, driver,
depth and -ub (as rocm_heldout.py and metal_heldout.py do); a file of llamabench_cuda.yaml's format goes through
cuda_heldout.rows. A row with `n_gpus: 2` (a run llama-bench split over two cards) is asked about that many cards of its
hardware and reported apart from the one-card rows.
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

FILES = sorted((ROOT / "benchmarks" / "published").glob("unseen_s24_*.yaml"))


def _raw(path: Path) -> list[dict]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built
    return yaml.load(path.read_text(), Loader=loader)["rows"]  # noqa: S506


def _on_cards(row, n: int):
    """The row asked about n cards of its hardware (llama-bench's default layer split over every GPU it finds)."""
    import dataclasses

    from selfhost_advisor.record import replace

    if n == 1:
        return row
    return dataclasses.replace(row, machine=replace(row.machine, devices=row.machine.devices * n), n_gpus=n)


def weak_rows(path: Path) -> list[dict]:
    """Every row of a llamabench_weak.yaml-format file with the shipped model's prediction and signed error (%)."""
    import fit_speed

    out = []
    for src, r in zip(_raw(path), fit_speed.published_rows(path)):
        n = int(src.get("n_gpus") or 1)
        pred = fit_speed.predict(_on_cards(r, n))
        out.append({"file": path.name, "hardware": r.hardware, "profile": r.machine.devices[0].matched_profile,
                    "vendor": r.machine.devices[0].vendor, "backend": r.backend, "n_gpus": n, "model": r.model_id,
                    "quant": r.quant, "test": r.test + (f" ub{r.n_ubatch}" if r.n_ubatch != 512 else ""),
                    "kind": "decode" if r.kind == fit_speed.DECODE else "prefill", "driver": r.driver,
                    "build_date": r.build_date, "url": src["url"], "measured": r.measured, "predicted": pred,
                    "error_pct": 100 * (pred / r.measured - 1)})
    return out


def cuda_rows(path: Path) -> list[dict]:
    """Every row of a llamabench_cuda.yaml-format file, predicted by cuda_heldout.rows (its build's kernel paths)."""
    import cuda_heldout

    out = []
    for src, r in zip(_raw(path), cuda_heldout.rows(path)):
        out.append({"file": path.name, "hardware": r["hardware"], "profile": r["profile"], "vendor": "nvidia",
                    "backend": "cuda", "n_gpus": 1, "model": r["model"], "quant": r["quant"], "test": r["test"],
                    "kind": r["kind"], "driver": "", "build_date": src.get("build_date"), "url": src["url"],
                    "measured": r["measured"], "predicted": r["predicted"], "error_pct": r["error_pct"]})
    return out


def rows(files: list[Path] = FILES) -> list[dict]:
    out = []
    for f in files:
        out += cuda_rows(f) if f.name.endswith("_cuda.yaml") else weak_rows(f)
    return out


def summary(rs: list[dict]) -> dict:
    """Median / max |error| per kind: all one-card rows, per backend / vendor, per hardware; two-card rows apart."""
    out = {}
    one = [r for r in rs if r["n_gpus"] == 1]
    for kind in ("decode", "prefill"):
        k = [r for r in one if r["kind"] == kind]
        out[f"{kind} / all one-card rows"] = _stats(k)
        for be, vendor in sorted({(r["backend"], r["vendor"]) for r in k}):
            out[f"{kind} / {be} {vendor}"] = _stats([r for r in k if r["backend"] == be and r["vendor"] == vendor])
        for hw in sorted({(r["backend"], r["profile"]) for r in k}):
            out[f"{kind} / {hw[0]} {hw[1]}"] = _stats([r for r in k if (r["backend"], r["profile"]) == hw])
        two = [r for r in rs if r["n_gpus"] > 1 and r["kind"] == kind]
        out[f"{kind} / two-card rows (apart)"] = _stats(two)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rs = rows()
    return print_report(rs, summary(rs), args.json, 46, lambda r: (
        f"  {r['kind']:7s} {r['backend']:6s} {r['hardware'][:26]:26s} x{r['n_gpus']} {r['model']:15s} {r['quant']:7s}"
        f" {r['test']:19s} {r['driver']:6s} measured {r['measured']:8.2f} predicted {r['predicted']:8.2f}"
        f" {r['error_pct']:+7.1f}%"))


if __name__ == "__main__":
    raise SystemExit(main())
