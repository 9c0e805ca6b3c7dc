"""Session 26's unseen published rows (benchmarks/published/unseen_s26_*.yaml, scored by benchmarks/unseen_s26.py):
every file parses, every row cites its page and joins no fit, no other published file (nor the calibration file) has
the same figure, and the scorer counts every row once, with the groups issue 16's check asks about."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import unseen_s26  # noqa: E402
from unseenkit import PUBLISHED, assert_figures_unseen, assert_no_fit_reads, assert_summary_groups, rows_of  # noqa: E402


def test_every_file_parses_and_every_row_cites_its_source():
    assert unseen_s26.FILES
    for f in unseen_s26.FILES:
        doc = yaml.safe_load(f.read_text())
        assert str(doc["as_of"]) <= "2026-12-07"
        assert doc["rows"], f.name
        for r in doc["rows"]:
            assert r["url"].startswith("https://github.com/"), r  # a repository page or discussion, not a mirror
            assert "/blob/main/" not in r["url"], r  # a file is cited at its commit
            assert r.get("note") and r.get("build") and r.get("host"), r  # what was read, on which build and box
            assert r.get("in_fit") is False and int(r["session"]) == 26, r
            assert float(r["tokens_per_s"]) > 0 and str(r["test"])[:2] in ("pp", "tg"), r
            assert str(r["tokens_per_s"]).rstrip("0").rstrip(".") in r["note"].replace(",", ""), r  # the figure quoted


def test_no_other_published_file_has_these_figures():
    """Every figure is one no other published file or calibration row holds (unseenkit)."""
    assert_figures_unseen(unseen_s26.FILES)


def test_no_fit_reads_the_unseen_rows():
    assert_no_fit_reads(unseen_s26.FILES)


def test_the_summary_counts_every_row_once_with_issue16s_groups():
    rs = unseen_s26.rows()
    s = unseen_s26.summary(rs)
    assert_summary_groups(rs, s, unseen_s26.FILES)
    assert unseen_s26._year({"build_date": "2026-08"}) == 2026 and unseen_s26._year({"build_date": None}) == 0


def test_gpu_in_fit_is_the_fits_own_hardware_key():
    """A row's GPU counts as seen only where a fitted row has the same backend and hardware; an Apple row is its chip,
    as fit_speed keys Apple hardware (an M2 Ultra of any bin is in the Metal fit, an M4 Max is not)."""
    assert unseen_s26._chip("m2-ultra-192gb") == "apple-m2-ultra"
    assert unseen_s26._chip("m4-max-32c-36gb") == "apple-m4-max"
    assert unseen_s26._chip("rtx-5090") == "rtx-5090"
    rs = unseen_s26.rows()
    seen = {(r["backend"], r["profile"]): r["gpu_in_fit"] for r in rs if r["backend"] != "cpu"}
    assert seen.get(("metal", "m2-ultra-192gb")) is True
    assert seen.get(("metal", "m4-max-32c-36gb")) is False
    assert seen.get(("cuda", "rtx-5090")) is False  # no CUDA fit row is a Blackwell card


def test_the_batches_partition_the_files_and_each_has_its_blind_record():
    by: dict[str, list[Path]] = {}
    for f in unseen_s26.FILES:
        by.setdefault(unseen_s26.batch(f), []).append(f)
    assert "1" in by and sum(len(v) for v in by.values()) == len(unseen_s26.FILES)
    assert unseen_s26.batch(PUBLISHED / "unseen_s26_b12_cuda.yaml") == "12"
    blind = (ROOT / "benchmarks" / "unseen_s26_blind.txt").read_text()
    for b in by:
        assert f"unseen_s26.py --batch {b}, blind: main 88d8b72" in blind, b
