"""Session 32's unseen published vLLM serving rows (benchmarks/published/serving_unseen_s32.yaml, scored by
benchmarks/serving_unseen_s32.py): the file parses, every row is held out, cites its page (a GitHub file at its commit),
resolves to a catalog model and a hardware profile and quotes its figure; no other serving file holds the same source or
figure; no fit reads the file; the blind record, made at the commit it names before any change could see the rows,
scored every row the file holds now (none added or dropped after scoring); the scorer counts every row once."""
from __future__ import annotations

import datetime
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

FILE = ROOT / "benchmarks" / "published" / "serving_unseen_s32.yaml"
BLIND = ROOT / "benchmarks" / "serving_unseen_s32_blind.txt"
BLIND_COMMIT = "d0a3aaa1"  # main 27b0092e + docs-only commits: the serving model as main had it
# single-stream rows whose page gives the decode rate itself, no TPOT (kubis.ai's llama-benchy tg128 'Solo' cell, 57.5)
DECODE_RATE_ROWS = {"kubis-gb10-gpt-oss-120b-c1"}
OTHER_SERVING_FILES = (ROOT / "data" / "serving_benchmarks.yaml",
                       ROOT / "benchmarks" / "published" / "unseen_s25_serving.yaml")


def _rows() -> list[dict]:
    return yaml.safe_load(FILE.read_text())["rows"]


def test_every_row_is_held_out_cited_and_quotes_its_figure():
    rows = _rows()
    assert len(rows) == 39
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["role"] == "heldout" and r["kind"] in ("throughput", "single_stream"), r["id"]
        assert r["source"].startswith("https://"), r["id"]
        if "github.com" in r["source"] and "/blob/" in r["source"]:
            assert re.search(r"/blob/[0-9a-f]{40}/", r["source"]), r["id"]  # a repository file is cited at its commit
        assert datetime.date.fromisoformat(str(r["as_of"])) <= datetime.date(2026, 12, 7), r["id"]
        assert float(r["published"]) > 0 and int(r["prompt_tokens"]) > 0 and int(r["output_tokens"]) > 0, r["id"]
        if r["kind"] == "throughput":
            # the published output rate is the page's generated tokens over its benchmark duration (both quoted)
            gen = int(re.search(r"/ (\d+) generated tokens in", r["metric"]).group(1))
            dur = float(re.search(r"generated tokens in ([\d.]+) s", r["metric"]).group(1))
            assert abs(gen / dur / float(r["published"]) - 1) < 0.002, r["id"]
        elif r["id"] not in DECODE_RATE_ROWS:
            # a single stream is 1 / mean TPOT (tenstorrent's 'Tput User' is that too): the TPOT the metric quotes, to
            # the page's 0.01-0.1 ms rounding, gives the published rate
            tpot = float(re.search(r"TPOT \(?([\d.]+) ms", r["metric"]).group(1))
            assert abs(1000 / tpot / float(r["published"]) - 1) < 0.004, r["id"]


def test_every_row_resolves_to_a_catalog_model_and_a_profile():
    from selfhost_advisor.catalog.hardware import get_profile
    from selfhost_advisor.catalog.models import get

    for r in _rows():
        assert get(r["model"]).id == r["model"], r["id"]
        assert get_profile(r["hardware"]), r["id"]


def test_burst_rows_state_every_prompt_at_once_and_spread_only_outputs_that_stopped_early():
    """dennislee22's runs are request-rate-inf bursts of --num-prompts (no --max-concurrency): concurrency is the
    prompt count; a run whose generated total falls short of prompts x output_tokens (EOS) carries its request rate so
    the replay spreads the outputs, and one that generated them all does not."""
    for r in _rows():
        if not r["id"].startswith("dennislee") or r["kind"] != "throughput":
            continue
        n = int(re.search(r"(\d+) prompts at request rate inf", r["metric"]).group(1))
        gen = int(re.search(r"/ (\d+) generated tokens", r["metric"]).group(1))
        assert r["clients"] == "burst" and int(r["concurrency"]) == n, r["id"]
        assert ("requests_per_s" in r) == (gen < n * int(r["output_tokens"]) - 0.5 * n), r["id"]


def test_no_other_serving_file_has_these_sources_or_figures():
    others = [row for f in OTHER_SERVING_FILES for row in yaml.safe_load(f.read_text())["rows"]]
    sources = {o["source"].split("/blob/")[0] if "github.com" in o["source"] else o["source"] for o in others}
    keys = {(o["model"], o["hardware"], float(o["published"])) for o in others}
    for r in _rows():
        page = r["source"].split("/blob/")[0] if "github.com" in r["source"] else r["source"]
        assert page not in sources, r["id"]
        assert (r["model"], r["hardware"], float(r["published"])) not in keys, r["id"]


def test_no_fit_or_shipped_code_reads_the_unseen_rows():
    for folder in ("scripts", "selfhost_advisor"):
        for f in (ROOT / folder).rglob("*.py"):
            assert "serving_unseen_s32" not in f.read_text(), f


def test_the_blind_record_names_its_commit_and_scored_every_row_once():
    text = BLIND.read_text()
    assert text.startswith(f"# benchmarks/serving_unseen_s32.py at {BLIND_COMMIT}")
    scored = re.findall(r"^  (\S+)\s+(?:dense|MoE)\s+c=", text, flags=re.M)
    failed = re.findall(r"^  (\S+)\s+(?:refused|\w+Error)", text, flags=re.M)
    assert sorted(scored + failed) == sorted(r["id"] for r in _rows())


def test_the_scorer_counts_every_row_once():
    import serving_unseen_s32 as s32

    out, failed = s32.scored()
    assert len(out) + len(failed) == len(_rows())
    s = s32.summary(out)
    assert s["throughput"]["n"] + s["single_stream"]["n"] == len(out)
    assert s["throughput_dense"]["n"] + s["throughput_moe"].get("n", 0) == s["throughput"]["n"]
    assert sum(st.get("n", 0) for g in s["by_group"].values() for st in g.values()) == len(out)


def test_rows_of_a_model_vllm_no_longer_runs_are_refused_as_serve_refuses_them(capsys):
    """tenstorrent #379's Llama-3.2-90B-Vision rows ran vLLM's V0 mllama runner (2025-07); the vLLM `serve` prices
    refuses the model (exit 2), so the scorer lists them refused with serve's own line instead of a V1 text price
    (2.09x blind, before session 32's mllama32 routed the scorer through the engine's check_runs)."""
    import serving_unseen_s32 as s32
    from selfhost_advisor.cli import main

    out, failed = s32.scored()
    vision = sorted(r["id"] for r in _rows() if r["model"].startswith("llama3.2-vision"))
    assert len(vision) == 6 and not [o for o in out if o["id"] in vision]
    why = {f["id"]: f["why"] for f in failed}
    assert sorted(i for i in why if i in vision) == vision
    assert main(["serve", "llama3.2-vision:90b", "-H", "4x h100-sxm", "--engine", "vllm"]) == 2
    said = capsys.readouterr().err.strip().removeprefix("advisor: ")
    assert all(why[i] == f"refused: {said}" for i in vision)


def test_a_single_stream_row_is_priced_with_its_stated_options_as_serve_prices_them():
    """kubis.ai's GB10 row ran --enforce-eager at --gpu-memory-utilization 0.70: the scorer's figure is what `advisor
    serve` answers at one user with those flags (its c=1 point's 1 / TPOT), and the flag moves it."""
    import io
    import json
    from contextlib import redirect_stdout

    import serving_accuracy as acc
    from selfhost_advisor.cli import main

    row = next(r for r in _rows() if r["id"] == "kubis-gb10-gpt-oss-120b-c1")
    assert row["options"]["enforce_eager"] is True

    def served(*flags: str) -> float:
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["serve", row["model"], "-H", row["hardware"], "--engine", "vllm", "--prompt-tokens",
                         str(row["prompt_tokens"]), "--output-tokens", str(row["output_tokens"]),
                         "--gpu-memory-utilization", "0.7", "--json", *flags]) == 0
        (pt,) = [p for p in json.loads(buf.getvalue())["points"] if p["concurrency"] == 1]
        return 1.0 / pt["tpot_s"]

    eager = acc.outcome(row)[0]
    graphs = acc.outcome({**row, "options": {"gpu_memory_utilization": 0.7}})[0]
    assert abs(eager / served("--enforce-eager") - 1) < 0.01 and abs(graphs / served() - 1) < 0.01
    assert eager < 0.9 * graphs  # the host's launches outlast the graph step on this model
