"""The unseen-row files' shared checks (tests/test_unseen_s26.py, test_unseen_s27.py, ...): each session's files of
published llama-bench rows nobody here had seen must hold figures no other published file, and no calibration row,
already has."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PUBLISHED = ROOT / "benchmarks" / "published"


def rows_of(path: Path) -> list[dict]:
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
