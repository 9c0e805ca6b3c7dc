"""Session 25's unseen published rows (benchmarks/published/unseen_s25_*.yaml, scored by benchmarks/unseen_s25.py):
every file parses, every row cites its page and joins no fit, no other published file has the same figure, and the
scorer counts every row once in its medians."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import unseen_s25  # noqa: E402

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PUBLISHED = ROOT / "benchmarks" / "published"
LLAMA = [f for f in unseen_s25.FILES if not f.name.endswith("_serving.yaml")]
SERVING = [f for f in unseen_s25.FILES if f.name.endswith("_serving.yaml")]


def _rows(path: Path) -> list[dict]:
    return yaml.load(path.read_text(), Loader=LOADER)["rows"]  # noqa: S506


def _key(r: dict) -> tuple:
    """A published figure: its page, host, model, quant, test, build and value."""
    return (str(r.get("url")), str(r.get("hardware") or r.get("cpu")), str(r.get("model")), str(r.get("quant")),
            str(r.get("test")), str(r.get("build")), float(r["tokens_per_s"]))


def test_every_file_parses_and_every_row_cites_its_source():
    assert {f.name.rsplit("_", 1)[-1] for f in unseen_s25.FILES} >= {"cpu.yaml", "weak.yaml"}
    for f in LLAMA:
        doc = yaml.load(f.read_text(), Loader=LOADER)  # noqa: S506
        assert str(doc["as_of"]) <= "2026-12-07"
        rows = doc["rows"]
        assert rows, f.name
        for r in rows:
            assert r["url"].startswith("https://"), r
            assert r.get("note") and r.get("build"), r  # what was read, on which build
            assert r.get("in_fit") is False, r
            assert float(r["tokens_per_s"]) > 0 and str(r["test"])[:2] in ("pp", "tg"), r
            if f.name.endswith("_cpu.yaml"):  # the host as a user would name it
                assert int(r["threads"]) >= 1 and float(r["clock_ghz"]) > 0 and float(r["mem_gbps"]) > 0, r


def test_no_other_published_file_has_these_figures():
    """The point of the files: figures nobody here had seen. A row of another file with the same page, host, model,
    quant, test, build and value would be one the model may have been tuned on."""
    ours = [_key(r) for f in LLAMA for r in _rows(f)]
    assert len(set(ours)) == len(ours)
    others = {_key(r) for f in PUBLISHED.glob("*.yaml") if f not in unseen_s25.FILES for r in _rows(f)
              if "tokens_per_s" in r}
    assert not set(ours) & others


def test_no_fit_reads_the_unseen_rows():
    import fit_speed

    fitted = {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.fit_rows()}
    for f in unseen_s25.FILES:
        if f.name.endswith("_weak.yaml"):
            assert not {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.published_rows(f)} & fitted


def test_the_summary_counts_every_row_once_and_keeps_llama_cli_apart():
    rs = unseen_s25.rows()
    assert len(rs) == sum(len(_rows(f)) for f in LLAMA)
    s = unseen_s25.summary(rs)
    for kind in ("decode", "prefill"):
        one = [r for r in rs if r["kind"] == kind and r["n_gpus"] == 1]
        assert s[f"{kind} / all one-card rows"]["rows"] == len(one)
        assert sum(s[k]["rows"] for k in s if k.startswith(f"{kind} / via ")) == len(one)
    cli = [r for r in rs if r["via"] == "llama-cli"]
    assert cli and all(r["kind"] == "decode" for r in cli)  # llama-cli's prompt figure (10 tokens) is not taken


def test_a_cpu_row_is_the_host_a_user_names_at_its_stated_clock():
    """The CPU rows are predicted as cpu_published predicts its rows: more clock never slows the estimate, so the
    error at the stated base clock is never above the one at the maximum clock. Every x86 row states a base clock
    (Apple states none for its cores)."""
    rs = [r for r in unseen_s25.rows() if r["backend"] == "cpu"]
    assert rs
    for r in rs:
        assert r["error_at_base_pct"] is not None or r["vendor"] == "other", r
        if r["error_at_base_pct"] is not None:
            assert r["error_at_base_pct"] <= r["error_pct"] + 1e-9, r


def test_serving_rows_are_held_out_and_new_to_the_serving_file():
    """The vLLM rows join no fit (role heldout) and data/serving_benchmarks.yaml (what fit_serving reads and
    serving_accuracy scores) has no run of the same page at the same concurrency."""
    assert SERVING
    data = yaml.load((ROOT / "data" / "serving_benchmarks.yaml").read_text(), Loader=LOADER)["rows"]  # noqa: S506
    seen = {(str(r["source"]), int(r["concurrency"])) for r in data} | {str(r["id"]) for r in data}
    for f in SERVING:
        doc = yaml.load(f.read_text(), Loader=LOADER)  # noqa: S506
        for r in doc["rows"]:
            assert r["role"] == "heldout" and r["source"].startswith("https://") and r["metric"], r
            assert (r["source"], int(r["concurrency"])) not in seen and r["id"] not in seen, r
    sv = [r for f in SERVING for r in unseen_s25.serving_rows(f)]
    assert unseen_s25.serving_summary(sv)["rows"] == len(sv) == sum(len(_rows(f)) for f in SERVING)


def test_the_batches_partition_the_files():
    """--batch N scores disjoint files whose rows add up to all of them (each batch's blind record was written from
    its own run)."""
    by = {b: [f for f in unseen_s25.FILES if unseen_s25.batch(f) == b] for b in ("1", "2", "3", "4")}
    assert all(by.values()) and sum(len(v) for v in by.values()) == len(unseen_s25.FILES)
    assert unseen_s25.batch(PUBLISHED / "unseen_s25_b2_cpu.yaml") == "2" and unseen_s25.batch(PUBLISHED / "unseen_s25_cpu.yaml") == "1"
    assert unseen_s25.batch(PUBLISHED / "unseen_s25_b10_cpu.yaml") == "10"  # not batch 1
    assert sum(len(unseen_s25.rows(v)) for v in by.values()) == len(unseen_s25.rows())
    for blind in ("unseen_s25_blind.txt", "unseen_s25_b2_blind.txt", "unseen_s25_b3_blind.txt", "unseen_s25_b4_blind.txt"):
        assert (ROOT / "benchmarks" / blind).read_text().startswith("# benchmarks/unseen_s25.py")
