"""Session 33's unseen published rows (benchmarks/published/unseen_s33_*.yaml), each predicted by the SHIPPED model,
median |error| per backend / vendor, decode and prefill apart (docs/methodology.md 5-unseen33).

Usage: python benchmarks/unseen_s33.py [--json] [--batch all|N]
The rows were written down and scored at main 4d9d9282 before any change of session 33 could see them, and join no
fit. Scoring, groups and printing are session 26's, as session 27's (unseen_s27: unseen_s26.rows / unseen_s26.summary, a `_cuda.yaml`
file through cuda_heldout.rows, a `_cpu.yaml` file through cpu_published.predict, any other through
fit_speed.published_rows + fit_speed.predict); only the file set differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import unseen_s27  # noqa: E402  (session 27's scorer; it puts the repo, scripts/ and benchmarks/ on the path)
import unseen_s26  # noqa: E402  (the unseen scorers' command line)

FILES = unseen_s26.session_files(33)


def rows(files: list[Path] = FILES) -> list[dict]:
    """unseen_s27.rows (= unseen_s26.rows) for these files: each row predicted, marked gpu_in_fit."""
    return unseen_s27.rows(files)


def summary(rs: list[dict]) -> dict:
    """unseen_s27.summary (= unseen_s26.summary): per backend / vendor, GPU in no fit, builds of 2026."""
    return unseen_s27.summary(rs)


batch = unseen_s26.batch_of(33)  # unseen_s33_bN_*.yaml is batch N


def main() -> int:
    return unseen_s26.scorer_main(__doc__, FILES, batch, "score one batch's files alone: N = unseen_s33_bN_*.yaml")


if __name__ == "__main__":
    raise SystemExit(main())
