"""Session 34's unseen published rows (benchmarks/published/unseen_s34_*.yaml), each predicted by the SHIPPED model,
median |error| per backend / vendor, decode and prefill apart (docs/methodology.md 5-unseen34).

Usage: python benchmarks/unseen_s34.py [--json] [--batch all|N]
The rows were written down and scored at main 21ddc234 before any change of session 34 could see them, and join no
fit. Scoring, groups and printing are session 26's, as session 27's (unseen_s27: unseen_s26.rows / unseen_s26.summary, a `_cuda.yaml`
file through cuda_heldout.rows, a `_cpu.yaml` file through cpu_published.predict, any other through
fit_speed.published_rows + fit_speed.predict); only the file set differs.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import unseen_s27  # noqa: E402  (session 27's scorer, over this session's files; it puts the repo on the path)

FILES, rows, summary, batch, main = unseen_s27.session_scorer(34, __doc__)

if __name__ == "__main__":
    raise SystemExit(main())
