"""Sessions 27 to 34's unseen published rows (benchmarks/published/unseen_sNN_*.yaml, scored by
benchmarks/unseen_sNN.py): every file parses and is named for its backend, every row cites its page, resolves to a
hardware profile and a catalog model, carries a build date that parses, and joins no fit; no other published file (nor
the calibration file) has the same figure; the scorer counts every row once with the groups issue 16's check asks
about; each batch's blind record, made at the commit it names before any change could see the rows, scored every row
its files hold now (none added or dropped after scoring)."""
from __future__ import annotations

import datetime
import importlib
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

from unseenkit import PUBLISHED, assert_figures_unseen, assert_no_fit_reads, assert_summary_groups, rows_of  # noqa: E402

BACKENDS = ("cuda", "rocm", "vulkan", "metal", "sycl", "cpu")
# session -> (the commit its rows were scored blind at, rows per batch as recorded)
SESSIONS = {27: ("a200006", {"1": 57, "2": 108, "3": 12}), 28: ("1ec9c5b2", {"1": 70, "2": 8}),
            29: ("ae64dcbd", {"1": 64, "2": 2}), 30: ("5127431d", {"1": 3, "2": 20, "3": 6, "4": 2, "5": 8, "6": 3}),
            31: ("e86851fe", {"1": 67, "2": 2, "3": 106, "4": 21}), 32: ("27b0092e", {"1": 5, "2": 2, "5": 4}),
            33: ("4d9d9282", {"1": 8, "2": 42, "3": 12, "4": 12, "5": 8, "6": 2, "7": 10, "9": 16}),
            # session 34: rows34a holds batches 1-4, rows34b 5-8, rows34c 9-12
            34: ("21ddc234", {"1": 7, "2": 4, "3": 4, "5": 6, "6": 10, "7": 8, "9": 30, "10": 13})}
# a batch scored at another commit than its session's first: (session, batch) -> commit. Session 29's batch 2 (rows29b)
# was scored at main 2fc225a9 and recorded in its own file, benchmarks/unseen_s29b_blind.txt. Session 30's batch 6
# (rows30b) was scored at main 55bd9ea4 (main had moved past 5127431d) and appended to benchmarks/unseen_s30_blind.txt.
# Session 31's batches 3 and 4 (rows31b) were scored at main 626040d6 (main had moved past e86851fe) and appended to
# benchmarks/unseen_s31_blind.txt.
# Session 33's batches 3, 4 and 5 (rows33b) were scored at main 7fc61ded (main had moved past 4d9d9282) and appended to
# benchmarks/unseen_s33b_blind.txt; batches 6 and 7 (rows33c) at main fc84798d, appended to the same file.
# Session 34's batches 9 and 10 (rows34c) were scored at main 322508e7 (main had moved past 21ddc234) and appended to
# benchmarks/unseen_s34b_blind.txt.
BATCH_COMMITS = {(29, "2"): "2fc225a9", (30, "6"): "55bd9ea4", (31, "3"): "626040d6", (31, "4"): "626040d6",
                 (33, "3"): "7fc61ded", (33, "4"): "7fc61ded", (33, "5"): "7fc61ded", (33, "6"): "fc84798d", (33, "7"): "fc84798d",
                 (34, "9"): "322508e7", (34, "10"): "322508e7"}
ALL = pytest.mark.parametrize("session", sorted(SESSIONS))


def _blind(session: int) -> str:
    """The session's blind records: unseen_sN_blind.txt, then unseen_sNb_blind.txt where a later batch has its own."""
    files = [ROOT / "benchmarks" / f"unseen_s{session}_blind.txt", ROOT / "benchmarks" / f"unseen_s{session}b_blind.txt"]
    return "\n".join(f.read_text() for f in files if f.exists())


def _scorer(session: int):
    return importlib.import_module(f"unseen_s{session}")


@ALL
def test_every_file_is_named_for_its_backend_and_every_row_cites_its_source(session):
    files = _scorer(session).FILES
    name = re.compile(rf"^unseen_s{session}_b(\d+)_(" + "|".join(BACKENDS) + r")\.yaml$")
    assert files
    for f in files:
        m = name.match(f.name)
        assert m, f.name  # unseen_sN_bM_<backend>.yaml: the scorer reads the kind from the suffix
        doc = yaml.safe_load(f.read_text())
        assert str(doc["as_of"]) <= "2026-12-08"  # session 33 ran into 2026-12-08 UTC
        assert doc["rows"], f.name
        for r in doc["rows"]:
            assert r.get("backend", "cpu") == m.group(2), (f.name, r)
            assert r["url"].startswith("https://"), r
            assert "/blob/main/" not in r["url"] and "/blob/master/" not in r["url"], r  # a file is cited at its commit
            assert r.get("note") and r.get("build") and r.get("host"), r  # what was read, on which build and box
            assert r.get("in_fit") is False and int(r["session"]) == session, r
            assert float(r["tokens_per_s"]) > 0 and re.fullmatch(r"(pp|tg)\d+(@d\d+)?", str(r["test"])), r
            assert str(r["tokens_per_s"]).rstrip("0").rstrip(".") in r["note"].replace(",", ""), r  # the figure quoted


@ALL
def test_every_build_date_parses_and_precedes_the_catalog_date(session):
    for f in _scorer(session).FILES:
        for r in rows_of(f):
            d = datetime.date.fromisoformat(str(r["build_date"]))
            assert datetime.date(2023, 3, 1) <= d <= datetime.date(2026, 12, 7), r


@ALL
def test_every_row_resolves_to_a_profile_and_a_catalog_model(session):
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.models import resolve
    from selfhost_advisor.catalog.quants import get_quant

    for f in _scorer(session).FILES:
        for r in rows_of(f):
            assert resolve(r["model"]).model.id == r["model"], r  # the catalog id itself, not a near match
            get_quant(r["quant"])
            if "hardware" in r:
                assert hw_names.resolve(r["hardware"]).id, r


@ALL
def test_no_other_published_file_has_these_figures(session):
    assert_figures_unseen(_scorer(session).FILES)


@ALL
def test_no_fit_reads_the_unseen_rows(session):
    assert_no_fit_reads(_scorer(session).FILES)


@ALL
def test_the_summary_counts_every_row_once_with_issue16s_groups(session):
    scorer = _scorer(session)
    rs = scorer.rows()
    s = scorer.summary(rs)
    assert_summary_groups(rs, s, scorer.FILES)
    for kind in ("decode", "prefill"):
        by_backend = [v["rows"] for k, v in s.items() if re.match(rf"{kind} / (cuda|rocm|vulkan|metal|sycl|cpu) \w+$", k)
                      and k.split()[-1] in {r["vendor"] for r in rs}]
        assert sum(by_backend) == len([r for r in rs if r["kind"] == kind and r["n_gpus"] == 1])


@ALL
def test_the_batches_partition_the_files_and_each_has_its_blind_record(session):
    scorer = _scorer(session)
    by: dict[str, list[Path]] = {}
    for f in scorer.FILES:
        by.setdefault(scorer.batch(f), []).append(f)
    assert by and sum(len(v) for v in by.values()) == len(scorer.FILES)  # a session's helpers may hold any batch numbers
    assert scorer.batch(PUBLISHED / f"unseen_s{session}_b12_cuda.yaml") == "12"
    blind = _blind(session)
    for b in by:
        commit = BATCH_COMMITS.get((session, b), SESSIONS[session][0])
        assert f"unseen_s{session}.py --batch {b}, blind: main {commit}" in blind, b


@ALL
def test_the_blind_record_scored_every_row_of_its_batch(session):
    """Each batch's blind record has one scored line per row its files hold now: no row added or dropped after
    scoring."""
    scorer = _scorer(session)
    blind = _blind(session)
    counts: dict[str, int] = {}
    current = None
    for line in blind.splitlines():
        m = re.match(rf"# benchmarks/unseen_s{session}\.py --batch (\d+), blind", line)
        if m:
            current = m.group(1)
            counts[current] = 0
        elif current and re.match(r"  (prefill|decode) ", line):
            counts[current] += 1
    by: dict[str, int] = {}
    for f in scorer.FILES:
        by[scorer.batch(f)] = by.get(scorer.batch(f), 0) + len(rows_of(f))
    assert counts == by == SESSIONS[session][1]


# Session 30's batch 1 (llama.cpp PR #15544, "5090 before") turned out, after its blind score, to be the same run that
# benchmarks/published/llamabench_moe.yaml already holds from PR #15546 (jeffbolznv pasted one "5090 before" table into
# two PRs of 2025-08-24): seen figures under another page, which the (page, ..., value) key above cannot catch. The batch
# stays in its file and record (no row dropped after scoring) and is reported apart in docs/methodology.md 5-unseen30.
SEEN_ELSEWHERE = {30: {("pp512", "Q2_K", 6293.79), ("pp512", "Q4_K_M", 8554.05), ("pp512", "MXFP4_MOE", 7622.73)},
                  # Session 31: two (test, quant, figure) coincidences of different runs on different cards, found by the check
                  # before scoring and kept: the Arc Pro B70's SYCL gemma3:12b tg128 50.80 (batch 1) against the RTX 3060's
                  # qwen3.5:9b tg128 50.8 (unseen_s29_b1_cuda.yaml), and the B70's Vulkan llama3.1:8b tg128 42.00 (batch 1,
                  # Linux, Mesa) against an Arc A770's Vulkan llama3.1:8b tg128 42 (llamabench_weak.yaml, session 24, Windows).
                  # Session 31's batch 3 (rows31b, enescingoz/mac-llm-bench): two more, also found before scoring and kept:
                  # the M2 Max's qwen3.5:27b tg128 9.40 against a CPU run's llama3.1:8b tg128 9.4 (llamabench_cpu.yaml,
                  # normiebench #36), and its mistral-small3.1:24b tg128 12.40 against an Arc 140V's mistral:7b tg128 12.4
                  # (unseen_s25_weak.yaml, llm-tracker).
                  31: {("tg128", "Q4_K_M", 50.8), ("tg128", "Q4_K_M", 42.0), ("tg128", "Q4_K_M", 9.4),
                       ("tg128", "Q4_K_M", 12.4)},
                  # Session 34's batch 3 (rows34a, tokimwc's RTX 5090 Qwen3.5-35B-A3B Q4_K_M tg128 211, printed as an
                  # integer): found by the check before scoring and kept; small_on_big.yaml's A100 SXM ministral-3:3b
                  # tg128 211 is a llama-server run of another card, model and page (pavlokhmel.com).
                  # Session 34 (rows34b, batch 6): the MI300X's qwen3.5:35b tg128 119.60 (b1tg/tinygrad) against an RX 9070 XT
                  # Vulkan llama3.1:8b tg128 119.6 (llamabench_weak.yaml): a coincidence of two runs, found before scoring and kept.
                  # Session 34 (rows34c, batch 9): the M4 Max's qwen3.5:0.8b tg128 251.49 (brittlewis12/qwen-llm) against an M1
                  # Pro's smollm2:135m tg128 251.49 (unseen_s26_b2_weak.yaml, LocalMode-Bench): another chip, model and page,
                  # found by the check before scoring and kept.
                  34: {("tg128", "Q4_K_M", 211.0), ("tg128", "Q4_K_M", 119.6), ("tg128", "Q4_K_M", 251.49)}}


def test_no_other_published_file_has_the_same_test_quant_and_figure():
    """From session 30 on, a row's (test, quant, figure) may sit in no other published file whatever the page: the same
    run can be quoted on two pages (two PRs of one day). The only such figures are session 30's batch-1 rows, known and
    reported apart, session 31's four coincidences and session 34's three (SEEN_ELSEWHERE); sessions 32 and 33's rows
    have none."""
    for session in (30, 31, 32, 33, 34):
        files = _scorer(session).FILES
        ours = {(str(r["test"]), str(r["quant"]), float(r["tokens_per_s"])) for f in files for r in rows_of(f)}
        others = {(str(r.get("test")), str(r.get("quant")), float(r["tokens_per_s"]))
                  for f in PUBLISHED.glob("*.yaml") if f not in files for r in rows_of(f) if "tokens_per_s" in r}
        assert ours & others == SEEN_ELSEWHERE.get(session, set())
