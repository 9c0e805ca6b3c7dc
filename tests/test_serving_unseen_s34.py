"""Session 34's unseen published vLLM serving rows (benchmarks/published/serving_unseen_s34.yaml, scored by
benchmarks/serving_unseen_s34.py): the file parses, every row is held out, cites its page (a GitHub file at its commit,
or a pull request), resolves to a catalog model and a hardware profile and quotes its figure; no other serving file
holds the same page or figure; no fit reads the file; the blind record, made at main 21ddc234's serving model before any
change could see the rows, scored every row the file holds now; the scorer counts every row once."""
from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

FILE = ROOT / "benchmarks" / "published" / "serving_unseen_s34.yaml"
BLIND = ROOT / "benchmarks" / "serving_unseen_s34_blind.txt"
BLIND_COMMIT = "21ddc234"  # main at the session's start: the serving model every run of the record used
OTHER_SERVING_FILES = (ROOT / "data" / "serving_benchmarks.yaml",
                       ROOT / "benchmarks" / "published" / "unseen_s25_serving.yaml",
                       ROOT / "benchmarks" / "published" / "serving_unseen_s32.yaml")


def _rows() -> list[dict]:
    return yaml.safe_load(FILE.read_text())["rows"]


def _page(source: str) -> str:
    """A page without the commit it was read at: github.com/OWNER/REPO/blob/REF/PATH -> OWNER/REPO PATH."""
    m = re.match(r"https://github\.com/([^/]+/[^/]+)/blob/[^/]+/(.+)", source)
    return f"{m.group(1)} {m.group(2)}" if m else source


def test_every_row_is_held_out_cited_and_quotes_its_figure():
    rows = _rows()
    assert len(rows) == 11
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["role"] == "heldout" and r["kind"] == "throughput", r["id"]
        assert r["source"].startswith("https://github.com/"), r["id"]
        if "/blob/" in r["source"]:
            assert re.search(r"/blob/[0-9a-f]{40}/", r["source"]), r["id"]  # a repository file is cited at its commit
        else:
            assert re.search(r"/pull/\d+$", r["source"]), r["id"]
        assert datetime.date.fromisoformat(str(r["as_of"])) <= datetime.date(2026, 12, 8), r["id"]
        assert float(r["published"]) > 0 and int(r["prompt_tokens"]) > 0 and int(r["output_tokens"]) > 0, r["id"]
        # where the metric quotes the generated tokens and the duration, the published output rate is their quotient
        m = re.search(r"/ (\d+) generated tokens in ([\d.]+) s", r["metric"])
        if m:
            assert abs(int(m.group(1)) / float(m.group(2)) / float(r["published"]) - 1) < 0.002, r["id"]
        # the vLLM blog's rows quote only the duration: 150 requests of ~2k outputs (+-15 %) give the published rate
        d = re.search(r"total duration ([\d.]+) s", r["metric"])
        if d:
            per_request = float(r["published"]) * float(d.group(1)) / int(r["num_prompts"])
            assert 0.85 * int(r["output_tokens"]) <= per_request <= 1.15 * int(r["output_tokens"]), r["id"]


def test_every_closed_loop_states_its_request_count():
    """Every row but the burst is a finite closed loop (vllm bench serve --max-concurrency C --num-prompts N, C <= N),
    replayed as the client ran it (serving_accuracy.outcome: num_prompts)."""
    for r in _rows():
        if r.get("clients") == "burst":
            continue
        assert int(r["num_prompts"]) >= int(r["concurrency"]), r["id"]
        assert f"{r['concurrency']}" in r["metric"] or f"concurrency {r['concurrency']}" in r["metric"], r["id"]


def test_every_row_resolves_to_a_catalog_model_and_a_profile():
    from selfhost_advisor.catalog.hardware import get_profile
    from selfhost_advisor.catalog.models import get

    for r in _rows():
        assert get(r["model"]).id == r["model"], r["id"]
        assert get_profile(r["hardware"]), r["id"]


def test_no_other_serving_file_has_these_pages_or_figures():
    others = [row for f in OTHER_SERVING_FILES for row in yaml.safe_load(f.read_text())["rows"]]
    pages = {_page(o["source"]) for o in others}
    keys = {(o["model"], o["hardware"], float(o["published"])) for o in others}
    for r in _rows():
        assert _page(r["source"]) not in pages, r["id"]
        assert (r["model"], r["hardware"], float(r["published"])) not in keys, r["id"]


def test_no_fit_or_shipped_code_reads_the_unseen_rows():
    for folder in ("scripts", "selfhost_advisor"):
        for f in (ROOT / folder).rglob("*.py"):
            assert "serving_unseen_s34" not in f.read_text(), f


def test_the_blind_record_names_its_commit_and_scored_every_row_once():
    text = BLIND.read_text()
    assert text.startswith(f"# benchmarks/serving_unseen_s34.py at {BLIND_COMMIT}")
    scored = re.findall(r"^  (\S+)\s+(?:dense|MoE)\s+c=", text, flags=re.M)
    failed = re.findall(r"^  (\S+)\s+(?:refused|\w+Error)", text, flags=re.M)
    assert sorted(scored + failed) == sorted(r["id"] for r in _rows())


def test_the_scorer_counts_every_row_once():
    import serving_unseen_s34 as s34

    out, failed = s34.scored()
    assert not failed
    assert len(out) == len(_rows())
    s = s34.summary(out)
    assert s["throughput"]["n"] == len(out)
    assert s["throughput_dense"]["n"] + s["throughput_moe"].get("n", 0) == s["throughput"]["n"]
    assert sum(st.get("n", 0) for g in s["by_group"].values() for st in g.values()) == len(out)
