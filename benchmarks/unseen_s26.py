"""Session 26's unseen published rows (benchmarks/published/unseen_s26_*.yaml), each predicted by the SHIPPED model,
median |error| per backend / vendor, decode and prefill apart (docs/methodology.md 5-unseen26).

Usage: python benchmarks/unseen_s26.py [--json] [--batch all|N]
The rows were written down and scored at main 88d8b72 before any change of session 26 could see them, and join no fit.
Scoring is session 25's (unseen_s25.rows: a `_weak.yaml` file through fit_speed.published_rows + fit_speed.predict, a
`_cuda.yaml` file through cuda_heldout.rows, a `_cpu.yaml` file through cpu_published.predict); this script adds the
groups issue 16's check asks about: the llama-bench rows alone, and the rows whose GPU no fit has seen ("GPU in no
fit": no row of fit_speed.fit_rows() has the same backend and hardware, as benchmarks/rocm_heldout.py counts it).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cuda_heldout import _stats, print_report  # noqa: E402  (the held-out scripts' one summary)
import unseen_s25  # noqa: E402  (session 25's scorer: rows per file kind, its summary groups)

def session_files(session: int) -> list[Path]:
    """Session N's unseen-row files: benchmarks/published/unseen_sN_*.yaml (this scorer's and the later sessions')."""
    return sorted((ROOT / "benchmarks" / "published").glob(f"unseen_s{session}_*.yaml"))


def batch_of(session: int):
    """The batch rule of session N's files: unseen_sN_bM_*.yaml is batch M, a file without bM_ (a first commit's) 1."""
    prefix = f"unseen_s{session}_"

    def batch(path: Path) -> str:
        m = re.match(r"b(\d+)_", path.name.removeprefix(prefix))
        return m.group(1) if m else "1"

    return batch


FILES = session_files(26)
batch = batch_of(26)


_APPLE_PROFILE = re.compile(r"^(m\d+)(?:-(pro|max|ultra))?-")


def _chip(gpu: str) -> str:
    """An Apple profile id as the fits key Apple hardware (fit_speed.Row.gpu: the chip, "apple-m2-ultra", whatever its
    GPU-core bin and memory); any other id unchanged."""
    m = _APPLE_PROFILE.match(gpu)
    return "apple-" + "-".join(x for x in m.groups() if x) if m else gpu


def _gpus(path: Path) -> list[str]:
    """Each row's hardware as the fits key it (fit_speed.Row.gpu; a CUDA file's rows by their matched profile)."""
    import fit_speed
    import moe_accuracy

    if path.name.endswith("_cpu.yaml"):
        return [""] * len(unseen_s25._raw(path))
    if path.name.endswith("_cuda.yaml"):
        return [r["machine"].devices[0].matched_profile for r in moe_accuracy.published_rows(path)]
    return [_chip(r.gpu) for r in fit_speed.published_rows(path)]


def rows(files: list[Path] = FILES) -> list[dict]:
    """unseen_s25.rows for these files, each row marked with whether any fitted row shares its backend and GPU."""
    import fit_speed

    fitted = {(r.backend, r.gpu) for r in fit_speed.fit_rows()}
    out = []
    for f in files:
        got = unseen_s25.rows([f])
        for r, gpu in zip(got, _gpus(f), strict=True):
            r["gpu_in_fit"] = r["backend"] != "cpu" and (r["backend"], gpu) in fitted
        out += got
    return out


def summary(rs: list[dict]) -> dict:
    """unseen_s25's groups (one-card rows, per backend / vendor, per hardware, two-card rows, per tool) and, per kind,
    the llama-bench GPU rows alone, the GPU rows whose hardware no fit has seen, and the rows of a 2026 build apart
    from the older ones."""
    out = unseen_s25.summary(rs)
    for kind in ("decode", "prefill"):
        gpu = [r for r in rs if r["kind"] == kind and r["n_gpus"] == 1 and r["backend"] != "cpu"
               and r["via"] == "llama-bench"]
        out[f"{kind} / GPU llama-bench rows"] = _stats(gpu)
        out[f"{kind} / GPU llama-bench rows, GPU in no fit"] = _stats([r for r in gpu if not r["gpu_in_fit"]])
        out[f"{kind} / GPU llama-bench rows, GPU in a fit"] = _stats([r for r in gpu if r["gpu_in_fit"]])
        out[f"{kind} / GPU llama-bench rows, build of 2026"] = _stats([r for r in gpu if _year(r) >= 2026])
        out[f"{kind} / GPU llama-bench rows, build before 2026"] = _stats([r for r in gpu if 0 < _year(r) < 2026])
    return out


def _year(r: dict) -> int:
    """The year of a row's build_date (the run date where the build's own date is not stated); 0 where none."""
    m = re.match(r"(\d{4})", str(r.get("build_date") or ""))
    return int(m.group(1)) if m else 0


def scorer_main(doc: str, files: list[Path], batch_of, batch_help: str) -> int:
    """The command line of an unseen-row scorer (this one and the later sessions'): --batch picks one batch's files,
    --json prints the rows and the summary, else one line a row and the summary table."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--batch", default="all", help=batch_help)
    args = ap.parse_args()
    rs = rows([f for f in files if args.batch in ("all", batch_of(f))])
    return print_report(rs, summary(rs), args.json, 60, lambda r: (
        f"  {r['kind']:7s} {r['backend']:6s} {r['hardware'][:28]:28s} {r['model']:16s} {r['quant']:9s}"
        f" {r['test']:19s} {r['via']:11s} measured {r['measured']:9.2f} predicted {r['predicted']:9.2f}"
        f" {r['error_pct']:+7.1f}%" + ("" if r["gpu_in_fit"] or r["backend"] == "cpu" else "  (GPU in no fit)")),
        ensure_ascii=False)


def main() -> int:
    return scorer_main(__doc__, FILES, batch, "score one batch's files alone: 1 = the first commit's, "
                                              "N = unseen_s26_bN_*.yaml")


if __name__ == "__main__":
    raise SystemExit(main())
