"""Session 27's unseen published rows (benchmarks/published/unseen_s27_*.yaml), each predicted by the SHIPPED model,
median |error| per backend / vendor, decode and prefill apart (docs/methodology.md 5-unseen27).

Usage: python benchmarks/unseen_s27.py [--json] [--batch all|N]
The rows were written down and scored at main a200006 before any change of session 27 could see them, and join no fit.
Scoring and groups are session 26's (unseen_s26.rows / unseen_s26.summary: a `_weak.yaml` file through
fit_speed.published_rows + fit_speed.predict, a `_cuda.yaml` file through cuda_heldout.rows, a `_cpu.yaml` file through
cpu_published.predict; the GPU llama-bench rows alone, those whose GPU no fit has seen, the builds of 2026 apart).
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import unseen_s26  # noqa: E402  (session 26's scorer: rows per file kind, the GPU-in-no-fit and 2026 groups)

FILES = unseen_s26.session_files(27)


batch = unseen_s26.batch_of(27)  # unseen_s27_bN_*.yaml is batch N


def rows(files: list[Path] = FILES) -> list[dict]:
    """unseen_s26.rows for these files: each row predicted, marked with whether a fitted row shares its backend and
    GPU (`gpu_in_fit`)."""
    return unseen_s26.rows(files)


def summary(rs: list[dict]) -> dict:
    """unseen_s26.summary: per backend / vendor and hardware, the GPU llama-bench rows, GPU in no fit / in a fit,
    builds of 2026 / before."""
    return unseen_s26.summary(rs)


def main() -> int:
    return unseen_s26.scorer_main(__doc__, FILES, batch, "score one batch's files alone: N = unseen_s27_bN_*.yaml")


def session_scorer(session: int, doc: str):
    """A later session's scorer, the same as this one over its own files (benchmarks/unseen_sN.py for N >= 28, whose
    blind records name them): (FILES, rows, summary, batch, main)."""
    files = unseen_s26.session_files(session)

    def session_rows(fs: list[Path] = files) -> list[dict]:
        return rows(fs)

    def session_main() -> int:
        return unseen_s26.scorer_main(doc, files, batch_of,
                                      f"score one batch's files alone: N = unseen_s{session}_bN_*.yaml")

    batch_of = unseen_s26.batch_of(session)  # unseen_sN_bM_*.yaml is batch M
    return files, session_rows, summary, batch_of, session_main


if __name__ == "__main__":
    raise SystemExit(main())
