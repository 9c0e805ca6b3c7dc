"""What a sceptical finance reader checks in `advisor cost` output, on realistic cases (issue 14 item 5): the JSON
adds up to the cent, $/Mtok is the total over the volume, payback is capex over the monthly saving the same JSON
shows, the verdict is the cheapest option listed (unless a constraint forces it), the hybrid never costs more than
all-owned or all-API, and the text table prints the JSON's numbers."""
import json
import re

import pytest

from selfhost_advisor.cli import main

CASES = {
    "small team, one RTX 4090 vs gpt-4o-mini": ["-t", "50M", "-m", "llama3.1:8b", "-H", "rtx4090",
                                                "--cloud", "gpt-4o-mini"],
    "70B on 2x/4x H100 vs same-model endpoints": ["-t", "1e9", "-H", "2x h100-sxm,4x h100-sxm"],
    "70B on 2x RTX 4090 vs GPT-4o, 24/7, N+1": ["-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o",
                                               "--active-hours", "730", "--peak-to-average", "3", "--spare", "1",
                                               "--cached-input-share", "0.2"],
    "regulated data": ["-t", "3e8", "--regulated", "hipaa", "-H", "2x rtx5090,2x a100-80gb"],
    "air-gapped": ["-t", "3e8", "--air-gapped", "-H", "2x a100-80gb"],
    "24/7 batch workload": ["-t", "2e10", "-m", "llama3.1:8b", "-H", "h100-sxm,rtx4090", "--active-hours", "730",
                            "--peak-to-average", "1", "--batch-share", "1", "--prompt-tokens", "2000",
                            "--output-tokens", "200"],
    "very low volume": ["-t", "1e6", "-m", "llama3.1:8b", "-H", "rtx4090", "--cloud", "claude-sonnet-5-5",
                        "--cached-input-share", "0.5", "--cache-write-share", "0.1"],
}


def run(capsys, argv):
    code = main(["cost", *argv, "--price-date", "2026-12-05"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("argv", list(CASES.values()), ids=list(CASES))
def test_the_output_adds_up_and_agrees_with_itself(capsys, monkeypatch, argv):
    d = json.loads(run(capsys, argv + ["--json"]))
    t = d["monthly_tokens"]
    ref = next((c for c in d["cloud"] if c["id"] == d["reference_cloud"]), None)
    for o in d["self_host"] + d["rental"]:
        m = o["monthly_usd"]
        assert m["total"] == pytest.approx(sum(v for k, v in m.items() if k != "total"), abs=1e-9)  # to the cent
        assert o["usd_per_million_tokens"] == pytest.approx(m["total"] / (t / 1e6), abs=1e-4)
    for o in d["self_host"]:
        m = o["monthly_usd"]
        assert o["capex_usd"] == pytest.approx(o["units"] * o["unit_price_usd"], abs=0.01)
        assert m["amortization"] == pytest.approx(o["capex_usd"] / d["assumptions"]["amortize_months"]["value"],
                                                  abs=0.01)
        saving = ref["monthly_usd"] - m["power"] - m["operations"] - m.get("space", 0.0) if ref else None
        if o["payback_months"] is None:
            assert saving is None or saving <= 0.01
        else:
            assert o["payback_months"] == pytest.approx(o["capex_usd"] / saving, rel=1e-3, abs=0.01)
            assert o["pays_back_within_amortization"] == (o["payback_months"]
                                                          <= d["assumptions"]["amortize_months"]["value"])
    for o in d["rental"]:
        assert o["monthly_usd"]["rental"] == pytest.approx(
            o["units"] * o["gpus_per_unit"] * o["usd_per_gpu_hour"] * o["hours_per_month"], rel=2e-3)
        assert (o["usd_per_gpu_hour_low"] or 0) <= o["usd_per_gpu_hour"] <= (o["usd_per_gpu_hour_high"] or 1e9)
    h = d["hybrid"]
    if h is not None:
        m = h["monthly_usd"]
        assert m["total"] == pytest.approx(m["self_host"] + m["api_overflow"], abs=1e-9)
        assert m["total"] <= min(d["self_host"][0]["monthly_usd"]["total"], ref["monthly_usd"]) + 0.01
    c = d["constraints"]
    if not (c["regulated"] or c["air_gapped"] or c["need_frontier"] or c["no_ops_team"]):
        options = [("self-host", o["monthly_usd"]["total"]) for o in d["self_host"] + d["rental"]]
        options += [("cloud", ref["monthly_usd"])]
        if h is not None and h["is_mix"]:
            options.append(("hybrid", h["monthly_usd"]["total"]))
        cheapest = min(v for _, v in options)
        assert d["recommendation"]["choice"] in {k for k, v in options if v <= cheapest + 0.01}
        assert d["recommendation"]["monthly_usd"] == pytest.approx(cheapest, abs=0.01)  # what the verdict costs
    else:
        assert d["recommendation"]["choice"] == "self-host"
        assert all(c["excluded"] for c in d["cloud"]) and d["rental"] == []
        assert d["recommendation"]["monthly_usd"] == d["self_host"][0]["monthly_usd"]["total"]
    # the text table prints the same monthly figures (rounded to the dollar)
    monkeypatch.setenv("COLUMNS", "200")
    text = run(capsys, argv + ["--wide"])
    rows = {}
    for line in text.splitlines():
        cells = [x.strip() for x in line.split("│")]
        if len(cells) > 4 and cells[1] in ("buy", "rent", "hybrid", "API", "API (excluded)"):
            money = next(x for x in cells if x.startswith("$") and re.fullmatch(r"\$[\d,]+", x))
            rows[(cells[0].split(" $")[0].rstrip(" *"), cells[1])] = float(money[1:].replace(",", ""))
    for o in d["self_host"]:
        assert rows[(o["hardware"], "buy")] == pytest.approx(o["monthly_usd"]["total"], abs=0.51)
    for o in d["cloud"]:
        kind = "API (excluded)" if o["excluded"] else "API"
        assert rows[(o["id"], kind)] == pytest.approx(o["monthly_usd"], abs=0.51)


def test_rental_quotes_are_dated_and_sourced_and_the_rate_is_their_median():
    # issue 14: a market median of dated public quotes, not one provider's list; the spread is shown beside it
    import datetime

    import yamlkit

    from selfhost_advisor.cost.boxes import rental_rate

    from pathlib import Path

    data = yamlkit.safe_load((Path(__file__).resolve().parents[1] / "data" / "cost.yaml").read_text())
    quotes = data["rental"]["quotes"]
    for gpu in ("h100-sxm", "h200", "a100-80gb", "l40s", "rtx-4090", "b200", "mi300x", "rtx-5090", "rtx-3090"):
        rows = quotes[gpu]
        assert len({q["provider"] for q in rows}) >= 3, gpu  # at least three providers behind each median
        for q in rows:
            assert q["url"].startswith("https://") and q["usd"] > 0
            datetime.date.fromisoformat(str(q["published"]) + ("-01" if len(str(q["published"])) == 7 else ""))
        usd = sorted(float(q["usd"]) for q in rows)
        n = len(usd)
        median = usd[n // 2] if n % 2 else (usd[n // 2 - 1] + usd[n // 2]) / 2
        assert rental_rate(gpu) == (pytest.approx(median), usd[0], n, usd[-1])
