"""Session 33 (price33): `advisor cost` read as a finance lead signs it, on the four workloads of the brief (the
README's command, regulated data, a small team on one RTX 5090, a 70B on 2x H100 against an API).

Every figure is rebuilt here from the JSON's own inputs (units, prices, watts, busy hours, the assumptions block) and
the price data's quotes (the median taken here with statistics.median, not read off the code): capex, the monthly
parts, payback and the break-even volume by the closed form of docs/methodology.md ("Break-even, payback, $/Mtok").
Each price carries the date of its figure, and a quote read off an undated page says so instead of passing for a
dated one (before this session the L40S's two undated pages printed "median of 2 dated purchase quotes (oldest
2026-12)").
"""
from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest
import yamlkit
from costkit import cost_json

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
HW = {e["id"]: e for e in yamlkit.safe_load((ROOT / "data" / "hardware.yaml").read_text())["hardware"]}
COST = yamlkit.safe_load((ROOT / "data" / "cost.yaml").read_text())
README = ["-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--prompt-tokens", "1500", "--output-tokens", "500",
          "--active-hours", "730", "--peak-to-average", "3", "--spare", "1", "--cached-input-share", "0.2"]


def _median_price(pid: str) -> float:
    return statistics.median(q["usd"] for q in HW[pid]["price_quotes"])


def _a(d: dict, key: str) -> float:
    v = d["assumptions"][key]
    return v["value"] if isinstance(v, dict) else v


def _ref(d: dict) -> dict:
    return next(c for c in d["cloud"] if c["id"] == d["reference_cloud"])


def _rebuild(d: dict, o: dict) -> dict:
    """The buy row's month from the JSON's inputs alone (methodology "Self-host monthly cost (buy)")."""
    kwh = (o["units"] * o["box_idle_watts"] * _a(d, "hours_per_month")
           + (o["box_active_watts"] - o["box_idle_watts"]) * o["busy_hours_per_month"]) / 1000 * _a(d, "pue")
    return {"amortization": o["capex_usd"] / _a(d, "amortize_months"),
            "power": kwh * _a(d, "electricity_usd_per_kwh"),
            "operations": (_a(d, "ops_hours_per_month") + _a(d, "ops_hours_per_box") * o["units"]) * _a(d, "ops_usd_per_hour")}


def _break_even(d: dict, o: dict) -> float | None:
    """T* = (n*·A + B) / (c − v), n* = max(1, ceil(B / g)), g = K·(c − v) − A: A a unit's fixed month (amortization,
    idle power, its operations hours), B the fixed operations plus the spares' fixed month, v the energy of a token,
    c the reference API's average $/token, K the tokens one unit carries (capacity_tokens_per_month)."""
    price, pue, rate = _a(d, "electricity_usd_per_kwh"), _a(d, "pue"), _a(d, "ops_usd_per_hour")
    a = (o["unit_price_usd"] / _a(d, "amortize_months") + o["box_idle_watts"] * _a(d, "hours_per_month") / 1000 * pue * price
         + _a(d, "ops_hours_per_box") * rate)
    b = _a(d, "ops_hours_per_month") * rate + o["spare_units"] * a
    r = o["serving"]["total_tokens_per_s"]
    v = (o["box_active_watts"] - o["box_idle_watts"]) / 1000 * pue * price / (r * 3600)
    c = _ref(d)["usd_per_million_tokens"] / 1e6
    g = o["capacity_tokens_per_month"] * (c - v) - a
    if g <= 0:
        return None
    n = max(1, math.ceil(b / g))
    return (n * a + b) / (c - v)


def _check_row(d: dict, o: dict, gpu_usd: float, host_usd: float) -> None:
    assert (o["gpu_price_usd"], o["host_price_usd"]) == (gpu_usd, host_usd)
    assert o["capex_usd"] == pytest.approx(o["units"] * (o["gpus_per_unit"] * gpu_usd + host_usd))
    k = _a(d, "active_hours_per_month") * 3600 * o["serving"]["total_tokens_per_s"] / _a(d, "peak_to_average")
    assert o["capacity_tokens_per_month"] == pytest.approx(k, rel=1e-5)  # R is printed to 0.01 tokens/s
    assert o["units"] == max(1, math.ceil(d["monthly_tokens"] / k)) + o["spare_units"]
    assert o["busy_hours_per_month"] == pytest.approx(d["monthly_tokens"] / o["serving"]["total_tokens_per_s"] / 3600,
                                                      abs=0.01)
    parts = _rebuild(d, o)
    for key, usd in parts.items():
        assert o["monthly_usd"][key] == pytest.approx(usd, abs=0.02), key
    api = _ref(d)["monthly_usd"]
    saving = api - parts["power"] - parts["operations"]
    if saving > 0:
        assert o["payback_months"] == pytest.approx(o["capex_usd"] / saving, abs=0.01)
    else:
        assert o["payback_months"] is None
    be = _break_even(d, o)
    if be is None:
        assert o["break_even_monthly_tokens"] is None
    else:
        assert o["break_even_monthly_tokens"] == pytest.approx(be, rel=0.01)
    # the NPV at no cost of capital: 36 months of (API − monthly total)
    assert o["npv_vs_reference_usd"] == pytest.approx((api - sum(parts.values())) * _a(d, "amortize_months"), abs=1.0)


def test_readme_case_capex_month_payback_and_break_even_from_the_json(capsys):
    d = cost_json(capsys, *README)
    o = d["self_host"][0]
    assert o["hardware"] == "4x rtx-4090"  # re-planned from 2x for the FP8 floor
    # the RTX 4090's 2026 quotes ($2,200 Feb, $1,800 May, $1,800 "early 2026"): median $1,800; the workstation $1,314
    assert _median_price("rtx-4090") == 1_800
    _check_row(d, o, 1_800, HW["host-workstation"]["price_usd"])
    # by hand: 3 x (4 x 1,800 + 1,314) = $25,542; payback 25,542 / (8,375 − power − 1,179) ~ 3.7 months
    assert o["capex_usd"] == 25_542 and 3.5 < o["payback_months"] < 3.9
    assert d["recommendation"]["choice"] == "self-host"
    # a finance lead's levers are all there: volume, hours, peak, GPU prices, life, power price, API price, ops, capital
    params = {s["parameter"] for s in d["sensitivity"]}
    assert {"monthly_tokens", "active_hours_per_month", "electricity_usd_per_kwh", "api_price_factor",
            "gpu_price_factor", "amortize_months", "ops_cost_factor", "cost_of_capital"} <= params


def test_70b_on_two_h100_against_gpt4o_and_the_same_model_hosted(capsys):
    d = cost_json(capsys, "-t", "2e9", "-H", "2x h100-sxm", "--cloud", "gpt-4o")
    o = d["self_host"][0]
    # $30,000 = median of $30,000 (mid-2026), $30,000 and $27,500 (undated pages); server slots $4,000 (2023 BOM)
    assert _median_price("h100-sxm") == 30_000 and COST["host_systems"]["server"]["usd_per_gpu"] == 4_000
    _check_row(d, o, 30_000, 2 * 4_000)
    assert o["capex_usd"] == 68_000 and o["payback_months"] is not None and o["payback_months"] < 36
    # against the same weights hosted (DeepInfra, the default reference) no volume breaks even and nothing pays back
    d = cost_json(capsys, "-t", "2e9", "-H", "2x h100-sxm")
    o = d["self_host"][0]
    _check_row(d, o, 30_000, 2 * 4_000)
    assert o["payback_months"] is None and o["break_even_monthly_tokens"] is None
    assert d["recommendation"]["choice"] == "cloud"


def test_small_team_on_one_rtx_5090_never_pays_back_against_the_hosted_8b(capsys):
    d = cost_json(capsys, "-t", "2e8", "-m", "llama3.1:8b", "-H", "rtx5090")
    o = d["self_host"][0]
    _check_row(d, o, _median_price("rtx-5090"), HW["host-workstation"]["price_usd"])
    assert o["capex_usd"] == 3_059 + 1_314 and o["payback_months"] is None
    assert d["recommendation"]["choice"] == "cloud"
    assert any("never pays back" in r for r in d["recommendation"]["reasons"])


def test_regulated_data_buys_the_cheapest_box_and_prices_the_constraint(capsys):
    d = cost_json(capsys, "-t", "1e8", "--regulated", "hipaa")
    assert d["recommendation"]["choice"] == "self-host" and not d["rental"]
    o = d["self_host"][0]
    gpu = o["hardware"].split("x ")[-1]
    _check_row(d, o, _median_price(gpu) if HW[gpu].get("price_quotes") else HW[gpu]["price_usd"], o["host_price_usd"])
    # what the constraint costs: the cheapest option without it (the hosted API) against this box, named in dollars
    cheapest_api = min(c["monthly_usd"] for c in d["cloud"])
    change = " ".join(d["recommendation"]["what_would_change"])
    assert f"${cheapest_api:,.0f}/month" in change


@pytest.mark.parametrize("pid", [p for p, e in HW.items() if e.get("price_quotes")])
def test_an_undated_quote_never_dates_the_price(capsys, pid):
    """gpu_price_as_of is the oldest dated quote; undated pages are counted apart, and only when every quote is undated
    is the date the day read, with gpu_price_undated."""
    e = HW[pid]
    dated = sorted(str(q["published"]) for q in e["price_quotes"] if not q.get("undated"))
    undated = [q for q in e["price_quotes"] if q.get("undated")]
    # a quote whose note says its page is undated carries the flag (the data rule this test keeps)
    for q in e["price_quotes"]:
        assert bool(q.get("undated")) == ("page undated" in q.get("note", "")), (pid, q)
    assert main(["cost", "-t", "1e8", "-m", "llama3.1:8b", "-H", pid, "--min-quant", "any", "--cloud", "gpt-4o",
                 "--price-date", "2026-12-05", "--json"]) in (0, 1)
    import json

    out = capsys.readouterr().out
    rows = [o for o in json.loads(out)["self_host"]] if out.strip() else []
    if not rows:
        return
    o = rows[0]
    assert o["price_quotes"] == len(e["price_quotes"]) and o["price_quotes_undated"] == len(undated)
    assert o["gpu_price_as_of"] == (dated[0] if dated else min(str(q["published"]) for q in undated))
    assert o["gpu_price_undated"] == (not dated)


def test_the_text_says_which_quotes_are_undated_and_dates_the_host(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")
    assert main(["cost", "-t", "2e9", "-H", "2x h100-sxm", "-H", "l40s", "-H", "4x rtx3090", "--cloud", "gpt-4o",
                 "--price-date", "2026-12-05"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert "buy h100-sxm $30,000/GPU: median of 3 purchase quotes ($27,500-30,000; 1 dated 2026-06; 2 from undated pages)" in flat
    assert "buy l40s $8,500/GPU: median of 3 purchase quotes from undated pages ($8,000-9,000, read 2026-12)" in flat
    assert "buy rtx-3090 $850/GPU: median of 3 dated purchase quotes of used cards ($850-1,130, oldest 2026)" in flat
    assert "host server $4,000/GPU slot: a bill-of-materials estimate (of 2023), not a dated quote" in flat
    assert "host workstation $1,314/box: one build price (undated page read 2026-11-25), not a dated quote" in flat


def test_the_l40s_rent_median_is_of_2026_quotes_where_read(capsys):
    quotes = COST["rental"]["quotes"]["l40s"]
    runpod = next(q for q in quotes if q["provider"] == "RunPod")
    assert (runpod["usd"], runpod["published"]) == (1.40, "2026-03-10")  # on-demand column; $0.79 is its spot price
    d = cost_json(capsys, "-t", "1e8", "-m", "llama3.1:8b", "-H", "l40s", "--cloud", "gpt-4o")
    r = d["rental"][0]
    # price34 added CoreWeave's 2026-03 quote ($18/h for 8 GPUs): the median of six moved from $1.40 to $1.535
    assert r["usd_per_gpu_hour"] == statistics.median(q["usd"] for q in quotes) == 1.535
    assert r["rate_quotes_oldest"] == "2025-08-12"  # three modal.com quotes of 2025 are still behind it, and printed
