"""The unseen-row files' shared checks (tests/test_unseen_s26.py, test_unseen_sessions.py): each session's files of
published llama-bench rows nobody here had seen must hold figures no other published file, and no calibration row,
already has."""
from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PUBLISHED = ROOT / "benchmarks" / "published"


@lru_cache(maxsize=None)
def rows_of(path: Path) -> list[dict]:
    """A published file's rows, parsed once per process: every unseen session's checks read every published file
    (callers read them, never change them)."""
    return yaml.load(path.read_text(), Loader=LOADER)["rows"]  # noqa: S506


def key(r: dict) -> tuple:
    """A published figure: its page (without the comment anchor), host, model, quant, test and value."""
    return (str(r.get("url")).split("#")[0], str(r.get("hardware") or r.get("cpu")), str(r.get("model")),
            str(r.get("quant")), str(r.get("test")), float(r["tokens_per_s"]))


def assert_figures_unseen(files: list[Path]) -> None:
    """The point of the files: figures nobody here had seen. The same (page, host, model, quant, test, value) in another
    file would be a figure the model may have been tuned on; and no value of ours may sit in another file on the same
    page, nor in the calibration file under the same test and quant."""
    ours = [key(r) for f in files for r in rows_of(f)]
    assert len(set(ours)) == len(ours)
    others = [r for f in PUBLISHED.glob("*.yaml") if f not in files for r in rows_of(f) if "tokens_per_s" in r]
    assert not set(ours) & {key(r) for r in others}
    pages = {(str(r.get("url")).split("#")[0], float(r["tokens_per_s"])) for r in others}
    assert not {(k[0], k[-1]) for k in ours} & pages
    import fit_speed

    cal_file = fit_speed.CAL / "llamacpp_speed.csv"
    if cal_file.exists():
        with cal_file.open() as fh:
            cal = {(row.get("test"), row.get("quant"), float(row["tokens_per_s"])) for row in csv.DictReader(fh)
                   if row.get("tokens_per_s")}
        assert not {(k[4], k[3], k[5]) for k in ours} & cal


def assert_no_fit_reads(files: list[Path]) -> None:
    """No row of a llama-bench file read by fit_speed.published_rows (the `_weak.yaml` kind and the per-backend files;
    CUDA and CPU files are scored by their own readers) is a row the speed fit reads."""
    import fit_speed

    fitted = {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.fit_rows()}
    weak = [f for f in files if not f.name.endswith(("_cuda.yaml", "_cpu.yaml"))]
    assert weak
    for f in weak:
        assert not {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.published_rows(f)} & fitted


def assert_summary_groups(rs: list[dict], s: dict, files: list[Path]) -> None:
    """A scorer's summary counts every row once, in the groups issue 16's check asks about: the GPU llama-bench rows,
    split by whether a fit has seen the GPU and by build year."""
    assert len(rs) == sum(len(rows_of(f)) for f in files)
    assert all(r["predicted"] > 0 for r in rs)
    for kind in ("decode", "prefill"):
        gpu = [r for r in rs if r["kind"] == kind and r["n_gpus"] == 1 and r["backend"] != "cpu"
               and r["via"] == "llama-bench"]
        assert s[f"{kind} / GPU llama-bench rows"]["rows"] == len(gpu)
        split = [s[f"{kind} / GPU llama-bench rows, GPU in {w}"]["rows"] or 0 for w in ("no fit", "a fit")]
        assert sum(split) == len(gpu)
        dated = [s[f"{kind} / GPU llama-bench rows, build {w}"]["rows"] or 0 for w in ("of 2026", "before 2026")]
        assert sum(dated) == len([r for r in gpu if r["build_date"]])
