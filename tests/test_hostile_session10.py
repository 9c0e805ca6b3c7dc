"""Findings of benchmarks/hostile.py in session 10, each held by a test that failed before its fix.

- `cost --hardware` with one box named 5,000 times priced it 5,000 times (1.1 MB of --json, 3 s).
- `models --search` of 100,000 characters took seconds: difflib indexed the text again for each of 330 models.
- a 5,000-digit --hardware took 3 s in a quadratic regular expression (gpu_table._MEMORY) and was echoed whole.
- a cache directory that cannot be written (ADVISOR_HOME=/dev/null, a file, a FIFO) made every probed command measure
  the host's read stream again: a buffer of 4x the last-level cache (1.2 GB on this VM) and a second, per call.
"""
from __future__ import annotations

import difflib
import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _rows_for(d: dict, label: str) -> int:
    return sum(1 for key in ("self_host", "excluded") for row in d[key] if row["hardware"] == label)


def test_a_box_named_many_times_is_priced_once(capsys):
    code, once, err = run(capsys, "cost", "-t", "1e9", "-H", "a100-80gb", "--json")
    assert code == 0, err
    code, many, err = run(capsys, "cost", "-t", "1e9", "-H", ",".join(["a100-80gb", "A100-80GB", " a100-80gb "] * 2000),
                          "--json")
    assert code == 0, err
    assert _rows_for(json.loads(many), "a100-80gb") == 1
    assert many == once  # the same comparison as naming it once


def test_spellings_of_one_box_are_priced_once_in_first_named_order(capsys):
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", "h100-sxm,a100-80gb,rtx4090,rtx-4090,h100-sxm", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert [_rows_for(d, x) for x in ("h100-sxm", "a100-80gb", "rtx-4090")] == [1, 1, 1]


def test_a_price_for_one_box_named_twice_is_still_one_box(capsys):
    # --gpu-price prices one box type: the same box named twice is one box, not bad input
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", "a100-80gb,a100-80gb", "--gpu-price", "9000", "--json")
    assert code == 0, err
    assert json.loads(out)["self_host"][0]["capex_usd"] > 9000
    code, _, err = run(capsys, "cost", "-t", "1e9", "-H", "a100-80gb,h100-sxm", "--gpu-price", "9000")
    assert code == 2 and "one --hardware" in err


@settings(max_examples=300, deadline=None)
@given(word=st.text(alphabet="abcdeilmnoqrstwx0123456789.-", min_size=1, max_size=12),
       candidates=st.lists(st.text(alphabet="abcdeilmnoqrstwx0123456789.-", min_size=1, max_size=14), max_size=8))
def test_the_fuzzy_test_is_difflibs_close_match(word, candidates):
    """search._close is get_close_matches(word, candidates, n=1, cutoff) != [], with the word indexed once."""
    from selfhost_advisor.catalog import search

    s = search._matchers(word)[0]
    expect = bool(difflib.get_close_matches(word, candidates, n=1, cutoff=search.FUZZY_CUTOFF))
    assert search._close(s, candidates) == expect


def test_a_long_search_indexes_its_text_once_per_word(capsys, monkeypatch):
    seen = []
    real = difflib.SequenceMatcher.set_seq2

    def spy(self, b):
        seen.append(len(b))
        return real(self, b)

    monkeypatch.setattr(difflib.SequenceMatcher, "set_seq2", spy)
    code, out, err = run(capsys, "models", "--search", "x" * 100_000 + " mistrl", "--json")
    assert code == 0 and json.loads(out)["models"] == [], err
    assert sorted(n for n in seen if n) == [6, 100_000]  # once per word, not once per model (330 x 100,000 characters before)
    code, out, _ = run(capsys, "models", "--search", "mistrl", "--json")  # the fuzzy fallback still finds Mistral
    assert code == 0 and any("mistral" in m["id"] for m in json.loads(out)["models"])


def test_memory_sizes_are_found_in_linear_time():
    from selfhost_advisor.catalog import gpu_table

    t0 = time.process_time()
    keys = gpu_table.keys("rtx " + "1" * 20_000)  # quadratic before: seconds at this length
    assert time.process_time() - t0 < 1.0
    assert keys and all(k.isalnum() for _, k in keys)
    # what the expression is for still holds: a size after the name is dropped, with or without a space
    for name, nomem in (("RTX 3060 12 GB", "rtx3060"), ("A100 80GB", "a100"), ("X 1.5GB", "x"), ("MI300X 192GB", "mi300x")):
        assert (2, nomem) in gpu_table.keys(name), name


@pytest.mark.parametrize("argv", [["models", "--fits"], ["cost", "-t", "1e9", "--hardware"], ["fit", "llama3.1:8b", "-H"]])
def test_an_unknown_5000_digit_hardware_is_one_short_line(capsys, argv):
    code, out, err = run(capsys, *argv, "1" + "0" * 5000)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "unknown hardware '100000" in err and len(err) < 400


def test_an_unwritable_cache_directory_skips_the_host_measurement(tmp_path):
    from selfhost_advisor.probe import hostrate

    calls = []

    def measure(threads):
        calls.append(threads)
        return hostrate.HostRates(3.4e9, 15 * 10**9, threads, 0.1, "fake")

    afile = tmp_path / "a-file"
    afile.write_text("x")
    for bad in (str(afile), "/dev/null", str(afile / "below-a-file")):
        r = hostrate.cached_host_rates(2, 100.0, bad, measure)
        assert r.clock_hz is None and r.read_bandwidth_bytes_per_s is None and r.method == hostrate.UNSTORED_METHOD
    assert calls == []
    good = hostrate.cached_host_rates(2, 100.0, str(tmp_path / "new" / "home"), measure)  # created, measured, kept
    again = hostrate.cached_host_rates(2, 100.0, str(tmp_path / "new" / "home"), measure)
    assert calls == [2] and good.clock_hz == again.clock_hz == 3.4e9


def test_a_cache_holding_the_answer_is_read_even_when_not_writable(tmp_path):
    from selfhost_advisor.probe import hostrate

    (tmp_path / "host_rates.json").write_text(json.dumps({"boot_time": 5.0, "threads": 2, "clock_hz": 3e9,
                                                           "bw": 2 * 10**10, "method": "earlier"}))
    tmp_path.chmod(0o500)
    try:
        r = hostrate.cached_host_rates(2, 5.0, str(tmp_path), lambda t: pytest.fail("measured again"))
    finally:
        tmp_path.chmod(0o700)
    assert r.clock_hz == 3e9 and r.read_bandwidth_bytes_per_s == 2 * 10**10


def test_the_probe_says_why_the_host_was_not_measured(tmp_path, monkeypatch):
    from selfhost_advisor.domain import Machine
    from selfhost_advisor.probe import ProbeSources, _with_host_rates, hostrate

    monkeypatch.setattr(hostrate, "host_rates", lambda *a, **kw: pytest.fail("measured with no cache to keep it"))
    afile = tmp_path / "a-file"
    afile.write_text("x")
    monkeypatch.setenv("ADVISOR_HOME", str(afile))
    machine = Machine(name="this machine", devices=(), ram_bytes=8 << 30)
    warnings: list[str] = []
    assert _with_host_rates(machine, ProbeSources(root="/"), warnings) == machine
    assert len(warnings) == 1 and "not measured" in warnings[0] and "ADVISOR_HOME" in warnings[0]
