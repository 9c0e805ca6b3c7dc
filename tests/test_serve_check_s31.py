"""`advisor serve`: a --concurrency level with targets is a check, and the default per-user floor (session 31, serve31x).

user31: `serve llama3.1:8b -H 4090 --concurrency 200 --max-ttft 1 --min-stream-tps 20` printed a 16.4 s time to first
token at 200 users and exited 0, because 63 users met the targets; and `serve qwen3:30b-a3b -H m4-max-40c-64gb -q Q8_0`
without targets recommended 157 users at 1.6 tok/s each, the throughput peak, while `cost` sizes the same box at
its default floor of 10 tok/s per user. Expected values come from the report's own points (each level's TTFT and
speed against the targets given) and data/cost.yaml, never from the code that decides."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

import selfhost_advisor as sa
from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
FLOOR = float(yaml.safe_load((ROOT / "data/cost.yaml").read_text())["defaults"]["min_stream_tokens_per_s"]["value"])
MAC = ["serve", "qwen3:30b-a3b", "-H", "m4-max-40c-64gb", "-q", "Q8_0"]
USER31 = ["serve", "llama3.1:8b", "-H", "4090", "--max-ttft", "1", "--min-stream-tps", "20"]


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _json(capsys, *argv):
    code, out, err = _run(capsys, *argv, "--json")
    return code, json.loads(out), err


def _validate(doc):
    schemas = [json.loads(p.read_text()) for p in (ROOT / "docs/schema").glob("*.schema.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas if "$id" in s)
    serve_schema = json.loads((ROOT / "docs/schema/serve.schema.json").read_text())
    jsonschema.Draft202012Validator(serve_schema, registry=registry).validate(doc)


def _misses(p, ttft, speed):
    return p["ttft_s"] > ttft or p["stream_tokens_per_s"] < speed


def test_users_asked_for_that_miss_a_target_are_a_failed_check(capsys):
    code, d, err = _json(capsys, *USER31, "--concurrency", "200")
    assert code == 1
    _validate(d)
    at = d["points"][0]
    assert at["concurrency"] == 200 and at["ttft_s"] > 1 and at["stream_tokens_per_s"] < 20  # what user31 saw
    c = d["check"]
    assert c["passed"] is False and c["concurrency"] == [200]
    assert c["targets"] == {"max_ttft_s": 1.0, "min_stream_tokens_per_s": 20.0}
    assert [m["concurrency"] for m in c["failed"]] == [200]
    assert set(c["failed"][0]["unmet"]) == {"max_ttft_s", "min_stream_tokens_per_s"}
    # the largest concurrency that meets the targets is still reported, and the next one up does not
    rec = d["recommended"]
    assert rec is not None and not _misses(rec, 1, 20)
    nxt = sa.serve("llama3.1:8b", "4090", concurrency=(rec["concurrency"] + 1,), max_ttft=1, min_stream_tps=20)
    p = nxt.points[0]
    assert p.ttft_s > 1 or p.stream_tokens_per_s < 20
    assert "200 users" in err and "time to first token" in err and f"recommended: {rec['concurrency']} users" in err


def test_the_text_report_and_quiet_say_the_same(capsys):
    code, out, err = _run(capsys, *USER31, "--concurrency", "200")
    assert code == 1 and "Check failed: at 200 users" in " ".join(out.split())
    assert _run(capsys, "--quiet", *USER31, "--concurrency", "200")[0] == 1


def test_every_level_listed_is_checked_and_only_the_misses_are_named(capsys):
    code, d, _ = _json(capsys, *USER31, "--concurrency", "1,8,200")
    assert code == 1
    missed = [p["concurrency"] for p in d["points"] if _misses(p, 1, 20)]
    assert missed == [200]
    assert [m["concurrency"] for m in d["check"]["failed"]] == missed
    ok = [p["concurrency"] for p in d["points"] if not _misses(p, 1, 20)]
    code, d, _ = _json(capsys, *USER31, "--concurrency", ",".join(map(str, ok)))
    assert code == 0 and d["check"]["passed"] is True and d["check"]["failed"] == []
    _validate(d)


def test_levels_without_targets_are_no_check(capsys):
    # the default floor shapes the recommendation; it was not asked for, so it fails nothing
    code, d, _ = _json(capsys, *MAC, "--concurrency", "128")
    assert code == 0 and d["check"] is None
    assert d["points"][0]["stream_tokens_per_s"] < FLOOR  # below the default floor, and still exit 0


def test_targets_without_levels_keep_their_check(capsys):
    code, d, err = _json(capsys, "serve", "llama3.1:8b", "-H", "4090", "--min-stream-tps", "100000")
    assert code == 1 and d["recommended"] is None
    assert d["check"]["concurrency"] is None and d["check"]["failed"][0]["concurrency"] == 1
    assert "even one request" in err
    code, d, _ = _json(capsys, "serve", "llama3.1:8b", "-H", "4090", "--min-stream-tps", "20")
    assert code == 0 and d["check"] == {"targets": {"max_ttft_s": None, "min_stream_tokens_per_s": 20.0},
                                        "concurrency": None, "passed": True, "failed": []}


def test_no_target_recommends_at_costs_default_floor_not_the_throughput_peak(capsys):
    code, d, _ = _json(capsys, *MAC)
    assert code == 0 and d["check"] is None
    _validate(d)
    rec, top = d["recommended"], d["peak"]
    assert d["workload"]["min_stream_tokens_per_s"] == FLOOR
    a = d["assumptions"]["min_stream_tokens_per_s"]
    assert a["value"] == FLOOR and a["requested"] is False and "Brysbaert" in a["source"]
    assert rec["stream_tokens_per_s"] >= FLOOR > top["stream_tokens_per_s"]  # user31's 1.6 tok/s was the peak's side
    nxt = sa.serve("qwen3:30b-a3b", "m4-max-40c-64gb", quant="Q8_0", concurrency=(rec["concurrency"] + 1,))
    assert nxt.points[0].stream_tokens_per_s < FLOOR  # the largest concurrency that keeps the floor
    assert f"--max-num-seqs {rec['concurrency']}" in d["command"] or f"-np {rec['concurrency']}" in d["command"]


def test_the_text_says_which_floor_and_how_to_change_it(capsys):
    code, out, _ = _run(capsys, *MAC)
    text = " ".join(out.split())
    assert code == 0
    assert f"at the default floor of {FLOOR:g} tok/s per user" in text
    assert "--min-stream-tps 0" in text and "Throughput peak:" in text and "(below the floor)" in text


def test_zero_floor_is_the_old_throughput_recommendation(capsys):
    code, d, _ = _json(capsys, *MAC, "--min-stream-tps", "0")
    assert code == 0 and d["check"] is None and d["workload"]["min_stream_tokens_per_s"] is None
    assert d["recommended"]["concurrency"] == d["max_concurrency"]  # no target: the most users the box runs
    assert d["recommended"]["stream_tokens_per_s"] < FLOOR  # user31's 157 users at 1.6 tok/s, now only when asked for
    _, out, _ = _run(capsys, *MAC, "--min-stream-tps", "0")
    assert "no per-user floor" in " ".join(out.split())


def test_a_floor_no_concurrency_reaches_is_said_and_is_not_a_failed_check(capsys):
    argv = ["serve", "llama3.1:70b", "-H", "m1-max-64gb", "-q", "Q4_K_M", "--concurrency", "1"]
    code, d, _ = _json(capsys, *argv)
    assert code == 0 and d["recommended"] is None and d["points"][0]["stream_tokens_per_s"] < FLOOR
    code, out, _ = _run(capsys, *argv)
    assert code == 0 and f"No concurrency reaches the default floor of {FLOOR:g} tok/s per user" in " ".join(out.split())
    # a target given that one user meets passes, though the default floor is out of reach
    code, d, _ = _json(capsys, *argv, "--max-ttft", "600")
    assert code == 0 and d["check"]["passed"] is True and d["recommended"] is None


@pytest.mark.parametrize("floor", [[], ["--min-stream-tps", "20"], ["--min-stream-tps", "0"]])
def test_cost_sizes_a_box_at_serves_recommended_point(capsys, floor):
    """The same request mix, format, engine and floor (default, given, none): cost's box runs serve's recommended
    concurrency at its throughput (rtx-3090 llama.cpp: the default floor binds, 44 slots of 45)."""
    mix = ["qwen3:30b-a3b", "-H", "rtx-3090", "--engine", "llamacpp", "-q", "Q4_K_M", "--prompt-tokens", "1000",
           "--output-tokens", "200", *floor]
    code, s, _ = _json(capsys, "serve", *mix)
    assert code == 0
    code, c, _ = _json(capsys, "cost", "-t", "1e9", "-m", *mix)
    assert code == 0
    box = c["self_host"][0]["serving"]
    assert box["concurrency"] == s["recommended"]["concurrency"]
    assert box["total_tokens_per_s"] == pytest.approx(s["recommended"]["total_tokens_per_s"], abs=0.1)
    assert c["workload"]["min_stream_tokens_per_s"] == s["workload"]["min_stream_tokens_per_s"]
    if not floor:
        assert c["assumptions"]["min_stream_tokens_per_s"]["value"] == FLOOR


@pytest.mark.parametrize("bad", ["-1", "nan", "inf"])
def test_a_floor_that_is_not_zero_or_positive_is_bad_input(capsys, bad):
    code, _, err = _run(capsys, "serve", "llama3.1:8b", "-H", "4090", "--min-stream-tps", bad)
    assert code == 2 and "--min-stream-tps" in err


def test_the_library_api_applies_the_same_floor():
    r = sa.serve("qwen3:30b-a3b", "m4-max-40c-64gb", quant="Q8_0", concurrency=(1,))
    assert r.workload.min_stream_tokens_per_s == FLOOR and r.workload.min_stream_default and r.check is None
    assert r.recommended.stream_tokens_per_s >= FLOOR
    none = sa.serve("qwen3:30b-a3b", "m4-max-40c-64gb", quant="Q8_0", concurrency=(1,), min_stream_tps=0)
    assert none.workload.min_stream_tokens_per_s is None
    assert none.recommended.concurrency == none.max_concurrency
