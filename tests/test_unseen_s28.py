"""Session 28's unseen published rows (benchmarks/published/unseen_s28_*.yaml, scored by benchmarks/unseen_s28.py):
every file parses and is named for its backend, every row cites its page, resolves to a hardware profile and a catalog
model, carries a build date that parses, and joins no fit; no other published file (nor the calibration file) has the
same figure; the scorer counts every row once with the groups issue 16's check asks about."""
from __future__ import annotations

import csv
import datetime
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import unseen_s28  # noqa: E402

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PUBLISHED = ROOT / "benchmarks" / "published"
BACKENDS = ("cuda", "rocm", "vulkan", "metal", "sycl", "cpu")
NAME = re.compile(r"^unseen_s28_b(\d+)_(" + "|".join(BACKENDS) + r")\.yaml$")


def _rows(path: Path) -> list[dict]:
    return yaml.load(path.read_text(), Loader=LOADER)["rows"]  # noqa: S506


def _key(r: dict) -> tuple:
    """A published figure: its page (without the comment anchor), host, model, quant, test and value."""
    return (str(r.get("url")).split("#")[0], str(r.get("hardware") or r.get("cpu")), str(r.get("model")),
            str(r.get("quant")), str(r.get("test")), float(r["tokens_per_s"]))


def test_every_file_is_named_for_its_backend_and_every_row_cites_its_source():
    assert unseen_s28.FILES
    for f in unseen_s28.FILES:
        m = NAME.match(f.name)
        assert m, f.name  # unseen_s28_bN_<backend>.yaml: the scorer reads the kind from the suffix
        doc = yaml.load(f.read_text(), Loader=LOADER)  # noqa: S506
        assert str(doc["as_of"]) <= "2026-12-07"
        assert doc["rows"], f.name
        for r in doc["rows"]:
            assert r.get("backend", "cpu") == m.group(2), (f.name, r)
            assert r["url"].startswith("https://"), r
            assert "/blob/main/" not in r["url"] and "/blob/master/" not in r["url"], r  # a file is cited at its commit
            assert r.get("note") and r.get("build") and r.get("host"), r  # what was read, on which build and box
            assert r.get("in_fit") is False and int(r["session"]) == 28, r
            assert float(r["tokens_per_s"]) > 0 and re.fullmatch(r"(pp|tg)\d+(@d\d+)?", str(r["test"])), r
            assert str(r["tokens_per_s"]).rstrip("0").rstrip(".") in r["note"].replace(",", ""), r  # the figure quoted


def test_every_build_date_parses_and_precedes_the_catalog_date():
    for f in unseen_s28.FILES:
        for r in _rows(f):
            d = datetime.date.fromisoformat(str(r["build_date"]))
            assert datetime.date(2023, 3, 1) <= d <= datetime.date(2026, 12, 7), r


def test_every_row_resolves_to_a_profile_and_a_catalog_model():
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.models import resolve
    from selfhost_advisor.catalog.quants import get_quant

    for f in unseen_s28.FILES:
        for r in _rows(f):
            assert resolve(r["model"]).model.id == r["model"], r  # the catalog id itself, not a near match
            get_quant(r["quant"])
            if "hardware" in r:
                assert hw_names.resolve(r["hardware"]).id, r


def test_no_other_published_file_has_these_figures():
    """The point of the files: figures nobody here had seen. The same (page, host, model, quant, test, value) in another
    file would be a figure the model may have been tuned on; and no value of ours may sit in another file on the same
    page, nor in the calibration file under the same test and quant."""
    ours = [_key(r) for f in unseen_s28.FILES for r in _rows(f)]
    assert len(set(ours)) == len(ours)
    others = [r for f in PUBLISHED.glob("*.yaml") if f not in unseen_s28.FILES for r in _rows(f) if "tokens_per_s" in r]
    assert not set(ours) & {_key(r) for r in others}
    pages = {(str(r.get("url")).split("#")[0], float(r["tokens_per_s"])) for r in others}
    assert not {(k[0], k[-1]) for k in ours} & pages
    import fit_speed

    cal_file = fit_speed.CAL / "llamacpp_speed.csv"
    if cal_file.exists():
        with cal_file.open() as fh:
            cal = {(row.get("test"), row.get("quant"), float(row["tokens_per_s"])) for row in csv.DictReader(fh)
                   if row.get("tokens_per_s")}
        assert not {(k[4], k[3], k[5]) for k in ours} & cal


def test_no_fit_reads_the_unseen_rows():
    import fit_speed

    fitted = {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.fit_rows()}
    weak = [f for f in unseen_s28.FILES if not f.name.endswith(("_cuda.yaml", "_cpu.yaml"))]
    assert weak
    for f in weak:
        assert not {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.published_rows(f)} & fitted


def test_the_summary_counts_every_row_once_with_issue16s_groups():
    rs = unseen_s28.rows()
    assert len(rs) == sum(len(_rows(f)) for f in unseen_s28.FILES)
    assert all(r["predicted"] > 0 for r in rs)
    s = unseen_s28.summary(rs)
    for kind in ("decode", "prefill"):
        gpu = [r for r in rs if r["kind"] == kind and r["n_gpus"] == 1 and r["backend"] != "cpu"
               and r["via"] == "llama-bench"]
        assert s[f"{kind} / GPU llama-bench rows"]["rows"] == len(gpu)
        split = [s[f"{kind} / GPU llama-bench rows, GPU in {w}"]["rows"] or 0 for w in ("no fit", "a fit")]
        assert sum(split) == len(gpu)
        dated = [s[f"{kind} / GPU llama-bench rows, build {w}"]["rows"] or 0 for w in ("of 2026", "before 2026")]
        assert sum(dated) == len([r for r in gpu if r["build_date"]])
        by_backend = [v["rows"] for k, v in s.items() if re.match(rf"{kind} / (cuda|rocm|vulkan|metal|sycl|cpu) \w+$", k)
                      and k.split()[-1] in {r["vendor"] for r in rs}]
        assert sum(by_backend) == len([r for r in rs if r["kind"] == kind and r["n_gpus"] == 1])


def test_the_batches_partition_the_files_and_each_has_its_blind_record():
    by: dict[str, list[Path]] = {}
    for f in unseen_s28.FILES:
        by.setdefault(unseen_s28.batch(f), []).append(f)
    assert "1" in by and sum(len(v) for v in by.values()) == len(unseen_s28.FILES)
    assert unseen_s28.batch(PUBLISHED / "unseen_s28_b12_cuda.yaml") == "12"
    blind = (ROOT / "benchmarks" / "unseen_s28_blind.txt").read_text()
    for b in by:
        assert f"unseen_s28.py --batch {b}, blind: main 1ec9c5b2" in blind, b


def test_the_blind_record_scored_every_row_of_its_batch():
    """The row count holds: each batch's blind record has one scored line per row its files hold now (no row added or
    dropped after scoring)."""
    blind = (ROOT / "benchmarks" / "unseen_s28_blind.txt").read_text()
    counts: dict[str, int] = {}
    current = None
    for line in blind.splitlines():
        m = re.match(r"# benchmarks/unseen_s28\.py --batch (\d+), blind", line)
        if m:
            current = m.group(1)
            counts[current] = 0
        elif current and re.match(r"  (prefill|decode) ", line):
            counts[current] += 1
    by: dict[str, int] = {}
    for f in unseen_s28.FILES:
        by[unseen_s28.batch(f)] = by.get(unseen_s28.batch(f), 0) + len(_rows(f))
    assert counts == by
    assert by["1"] == 70 and by["2"] == 8
