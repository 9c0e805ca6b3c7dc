"""Session 27's unseen published rows (benchmarks/published/unseen_s27_*.yaml, scored by benchmarks/unseen_s27.py):
every file parses and is named for its backend, every row cites its page, resolves to a hardware profile and a catalog
model, carries a build date that parses, and joins no fit; no other published file (nor the calibration file) has the
same figure; the scorer counts every row once with the groups issue 16's check asks about."""
from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import unseen_s27  # noqa: E402
from unseenkit import PUBLISHED, assert_figures_unseen, assert_no_fit_reads, assert_summary_groups, rows_of  # noqa: E402

BACKENDS = ("cuda", "rocm", "vulkan", "metal", "sycl", "cpu")
NAME = re.compile(r"^unseen_s27_b(\d+)_(" + "|".join(BACKENDS) + r")\.yaml$")


def test_every_file_is_named_for_its_backend_and_every_row_cites_its_source():
    assert unseen_s27.FILES
    for f in unseen_s27.FILES:
        m = NAME.match(f.name)
        assert m, f.name  # unseen_s27_bN_<backend>.yaml: the scorer reads the kind from the suffix
        doc = yaml.safe_load(f.read_text())
        assert str(doc["as_of"]) <= "2026-12-07"
        assert doc["rows"], f.name
        for r in doc["rows"]:
            assert r.get("backend", "cpu") == m.group(2), (f.name, r)
            assert r["url"].startswith("https://"), r
            assert "/blob/main/" not in r["url"] and "/blob/master/" not in r["url"], r  # a file is cited at its commit
            assert r.get("note") and r.get("build") and r.get("host"), r  # what was read, on which build and box
            assert r.get("in_fit") is False and int(r["session"]) == 27, r
            assert float(r["tokens_per_s"]) > 0 and re.fullmatch(r"(pp|tg)\d+(@d\d+)?", str(r["test"])), r
            assert str(r["tokens_per_s"]).rstrip("0").rstrip(".") in r["note"].replace(",", ""), r  # the figure quoted


def test_every_build_date_parses_and_precedes_the_catalog_date():
    for f in unseen_s27.FILES:
        for r in rows_of(f):
            d = datetime.date.fromisoformat(str(r["build_date"]))
            assert datetime.date(2023, 3, 1) <= d <= datetime.date(2026, 12, 7), r


def test_every_row_resolves_to_a_profile_and_a_catalog_model():
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.models import resolve
    from selfhost_advisor.catalog.quants import get_quant

    for f in unseen_s27.FILES:
        for r in rows_of(f):
            assert resolve(r["model"]).model.id == r["model"], r  # the catalog id itself, not a near match
            get_quant(r["quant"])
            if "hardware" in r:
                assert hw_names.resolve(r["hardware"]).id, r


def test_no_other_published_file_has_these_figures():
    """Every figure is one no other published file or calibration row holds (unseenkit)."""
    assert_figures_unseen(unseen_s27.FILES)


def test_no_fit_reads_the_unseen_rows():
    assert_no_fit_reads(unseen_s27.FILES)


def test_the_summary_counts_every_row_once_with_issue16s_groups():
    rs = unseen_s27.rows()
    s = unseen_s27.summary(rs)
    assert_summary_groups(rs, s, unseen_s27.FILES)
    for kind in ("decode", "prefill"):
        by_backend = [v["rows"] for k, v in s.items() if re.match(rf"{kind} / (cuda|rocm|vulkan|metal|sycl|cpu) \w+$", k)
                      and k.split()[-1] in {r["vendor"] for r in rs}]
        assert sum(by_backend) == len([r for r in rs if r["kind"] == kind and r["n_gpus"] == 1])


def test_the_batches_partition_the_files_and_each_has_its_blind_record():
    by: dict[str, list[Path]] = {}
    for f in unseen_s27.FILES:
        by.setdefault(unseen_s27.batch(f), []).append(f)
    assert "1" in by and sum(len(v) for v in by.values()) == len(unseen_s27.FILES)
    assert unseen_s27.batch(PUBLISHED / "unseen_s27_b12_cuda.yaml") == "12"
    blind = (ROOT / "benchmarks" / "unseen_s27_blind.txt").read_text()
    for b in by:
        assert f"unseen_s27.py --batch {b}, blind: main a200006" in blind, b
