"""Prompt-cache writes (issue 14 item 4) and the cost chart's hybrid line (issue 14 item 3).

The caching law, restated for providers that charge to WRITE the cache (Anthropic: 1.25x input for the 5-minute cache,
https://platform.claude.com/docs/en/build-with-claude/prompt-caching): caching changes the bill by exactly what the
provider's prices imply, input tokens x [x (c - i) + y (cw - i)]; more cache READS never raise a bill; more cache
WRITES never lower it where writing costs at least the input price; and caching lowers the bill whenever the reads
save more than the writes cost, x (i - c) >= y (cw - i).
"""
import re

import pytest
from hypothesis import given, settings, strategies as st

from selfhost_advisor.cli import main
from selfhost_advisor.cost.cloud import cloud_monthly_usd, resolve_cloud
from costkit import priced, work
from selfhost_advisor.cost.types import Workload


usd = st.floats(0.01, 100.0, allow_nan=False)
share = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(usd, usd, st.floats(0.0, 1.0), st.floats(1.0, 3.0), share, share, share, st.integers(1, 10**12))
def test_caching_changes_the_bill_by_exactly_what_the_prices_imply(i, o, read_ratio, write_ratio, a, b, z, tokens):
    c, cw = i * read_ratio, i * write_ratio  # a read discount and a write premium, as providers list them
    x, y = a * (1 - b), b * (1 - a) * z  # any read and write shares with x + y <= 1
    p, w0, w = priced(i, o, c=c, cw=cw), work(tokens), work(tokens, cached=x, writes=y)
    # no hidden term: the difference is the read discount minus the write premium, on the input tokens
    expected = w.input_tokens * (x * (c - i) + y * (cw - i)) / 1e6
    assert cloud_monthly_usd(p, w) - cloud_monthly_usd(p, w0) == pytest.approx(expected, rel=1e-9, abs=1e-6)
    # more reads (same writes) never raise it; more writes (same reads) never lower it when writing costs >= input
    more_reads = work(tokens, cached=min(1 - y, x + 0.1), writes=y)
    assert cloud_monthly_usd(p, more_reads) <= cloud_monthly_usd(p, w) * (1 + 1e-12) + 1e-9
    more_writes = work(tokens, cached=x, writes=min(1 - x, y + 0.1))
    assert cloud_monthly_usd(p, more_writes) >= cloud_monthly_usd(p, w) * (1 - 1e-12) - 1e-9
    # and caching never costs more than no caching when the reads save more than the writes cost
    if x * (i - c) >= y * (cw - i):
        assert cloud_monthly_usd(p, w) <= cloud_monthly_usd(p, w0) * (1 + 1e-12) + 1e-9


def test_anthropic_write_premium_comes_from_genai_prices_and_is_billed():
    pytest.importorskip("genai_prices")
    sonnet = resolve_cloud("claude-sonnet-5-5", work(10**9))
    # genai-prices 0.2.5 lists claude-sonnet-5-5 at $2 input, $0.10 cache read, $2.50 cache write (1.25x), $10 output
    assert sonnet.cache_write_usd_per_mtok == pytest.approx(1.25 * sonnet.input_usd_per_mtok)
    assert sonnet.cached_input_usd_per_mtok == pytest.approx(0.10)
    # by hand: 750M input, 250M output at $2/$10; 10% of input written at $2.50 and 50% read at $0.10:
    # 750 x (0.4 x 2 + 0.5 x 0.1 + 0.1 x 2.5) + 250 x 10 = 750 x 1.1 + 2,500 = $3,325 (no caching: $4,000)
    assert cloud_monthly_usd(sonnet, work(10**9, cached=0.5, writes=0.1)) == pytest.approx(3325.0)
    # writing without reading raises the bill: 750 x (0.9 x 2 + 0.1 x 2.5) + 2,500 = $4,037.50
    assert cloud_monthly_usd(sonnet, work(10**9, writes=0.1)) == pytest.approx(4037.5)
    # OpenAI lists no write price: a write is billed as input
    gpt4o = resolve_cloud("gpt-4o", work(10**9))
    assert gpt4o.cache_write_usd_per_mtok is None
    assert cloud_monthly_usd(gpt4o, work(10**9, writes=0.3)) == pytest.approx(cloud_monthly_usd(gpt4o, work(10**9)))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_unpriced_write_premium_is_named_in_a_note(capsys):
    base = ["cost", "-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "600", "--prefill-tps", "4000",
            "--cloud", "claude-sonnet-5-5", "--cached-input-share", "0.5", "--price-date", "2026-12-05"]
    code, out, err = run(capsys, *base, "--json")
    assert code == 0, err
    import json

    data = json.loads(out)
    assert any("cache writes are not priced" in w and "claude-sonnet-5-5" in w for w in data["warnings"])
    assert data["cloud"][0]["cache_write_usd_per_mtok"] is not None
    code, out, err = run(capsys, *base, "--cache-write-share", "0.1", "--json")
    data2 = json.loads(out)
    assert not any("cache writes are not priced" in w for w in data2["warnings"])
    assert data2["workload"]["cache_write_share"] == 0.1
    assert data2["cloud"][0]["monthly_usd"] > data["cloud"][0]["monthly_usd"]  # the premium is billed


@pytest.mark.parametrize("argv", [["--cache-write-share", "-0.1"], ["--cache-write-share", "1.5"],
                                  ["--cache-write-share", "nan"],
                                  ["--cached-input-share", "0.7", "--cache-write-share", "0.4"]])
def test_bad_cache_write_share_exits_2_with_one_line(capsys, argv):
    code, out, err = run(capsys, "cost", "-t", "1e9", *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("advisor: ")


def test_chart_draws_the_hybrid_and_names_every_line_within_80_columns(capsys, monkeypatch):
    # a case whose verdict is HYBRID (README example): the hybrid line must appear below the bought box and the API
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, "cost", "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", "--cloud", "gpt-4o",
                         "--decode-tps", "600", "--prefill-tps", "4000", "--active-hours", "730",
                         "--peak-to-average", "3", "--spare", "1", "--price-date", "2026-12-05")
    assert code == 0, err
    chart = out[out.index("monthly USD (0"):]
    lines = chart.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    notes = next((i for i, line in enumerate(lines) if line.startswith("note:")), len(lines))
    legend = "\n".join(lines[:notes][-6:])  # the notes (capacity band, on-call) follow the legend
    for mark, name in (("●", "(buy)"), ("◆", "(rent)"), ("■", "GPT-4o"), ("▪", "hybrid")):
        assert re.search(re.escape(mark) + r" [^\n]*" + re.escape(name), legend), (mark, name, legend)
    plot = "\n".join(line for line in lines if "┤" in line)
    assert "▪" in plot  # drawn somewhere: where owning the base and sending the peak to the API is cheapest


def test_hybrid_curve_is_never_above_buy_or_api():
    from selfhost_advisor.cost.boxes import box_from_spec
    from selfhost_advisor.cost.capacity import measured_capacity
    from selfhost_advisor.cost.compare import compare, cost_curve
    from selfhost_advisor.cost.types import CostParams

    w = Workload(monthly_tokens=2_000_000_000, output_share=0.25, peak_to_average=3.0, active_hours_per_month=730.0)
    cap = measured_capacity(600.0, 4000.0, w, "vllm")
    res = compare("m", "M", w, CostParams(ops_hours_per_box=1.7), [box_from_spec("2x rtx4090")], lambda b: cap,
                  [priced(2.5, 10.0)], explicit_cloud=True)
    vols = [int(v) for v in range(0, 4_000_000_001, 250_000_000)]
    curves = cost_curve(res, vols)
    hyb = next(v for k, v in curves.items() if k.startswith("hybrid: "))
    buy = curves["2x rtx-4090 (buy)"]
    api = curves["p"]
    assert all(h <= min(b, a) + 1e-6 for h, b, a in zip(hyb, buy, api))
    assert any(h < min(b, a) - 1.0 for h, b, a in zip(hyb, buy, api))  # and somewhere strictly below both
