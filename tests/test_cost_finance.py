"""What a finance lead asks of `advisor cost`: the hardware charge with a cost of capital and a resale value
(--cost-of-capital, --residual-value), and each option's monthly bill in parts (--wide, --json).

Expected figures are the capital recovery formula (docs/methodology.md, "Self-host monthly cost") applied by hand to
the capex the JSON reports, never the cost code's own monthly figure."""
import json
import re
from pathlib import Path

import schemakit
import pytest

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "cost.schema.json").read_text())
CASE = ["cost", "-t", "2e9", "-H", "2x h100-sxm", "--cloud", "gpt-4o", "--price-date", "2026-12-05"]


def cost_json(capsys, *extra):
    assert main([*CASE, *extra, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    schemakit.validate(d, SCHEMA)
    return d


def capital_recovery(price, months, annual_rate, resale_share):
    """Level monthly payment repaying `price` less the resale, discounted, at the monthly rate of `annual_rate`."""
    if annual_rate == 0:
        return price * (1 - resale_share) / months
    i = (1 + annual_rate) ** (1 / 12) - 1
    disc = (1 + i) ** -months
    return (price - price * resale_share * disc) * i / (1 - disc)


def test_defaults_keep_straight_line_amortization(capsys):
    d = cost_json(capsys)
    o = d["self_host"][0]
    assert o["monthly_usd"]["amortization"] == pytest.approx(o["capex_usd"] / 36, abs=0.006)
    assert o["residual_value_usd"] == 0
    assert d["assumptions"]["cost_of_capital"]["value"] == 0 and d["assumptions"]["residual_value_share"]["value"] == 0


@pytest.mark.parametrize("rate,resale", [(0.0, 0.25), (0.08, 0.0), (0.08, 0.25), (0.15, 0.5)])
def test_hardware_charge_is_the_capital_recovery_payment(capsys, rate, resale):
    d = cost_json(capsys, "--cost-of-capital", str(rate), "--residual-value", str(resale))
    o = d["self_host"][0]
    assert o["monthly_usd"]["amortization"] == pytest.approx(capital_recovery(o["capex_usd"], 36, rate, resale),
                                                             abs=0.006)
    assert o["residual_value_usd"] == pytest.approx(o["capex_usd"] * resale, abs=0.006)
    # 8%/yr with a quarter back at the end, by hand for one 2x H100 box: see docs/methodology.md
    parts = o["monthly_usd"]
    assert parts["total"] == pytest.approx(parts["amortization"] + parts["power"] + parts["operations"], abs=0.011)


def test_a_dearer_capital_never_cheapens_owning_and_resale_never_dears_it(capsys):
    totals = {}
    for rate in (0.0, 0.05, 0.1):
        for resale in (0.0, 0.3):
            d = cost_json(capsys, "--cost-of-capital", str(rate), "--residual-value", str(resale))
            totals[rate, resale] = d["self_host"][0]["monthly_usd"]["total"]
    for resale in (0.0, 0.3):
        assert totals[0.0, resale] <= totals[0.05, resale] <= totals[0.1, resale]
    for rate in (0.0, 0.05, 0.1):
        assert totals[rate, 0.3] <= totals[rate, 0.0]


def test_wide_table_shows_each_option_bill_in_parts_that_add_up(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    assert main([*CASE, "-H", "rtx-pro-6000-blackwell", "--cost-of-capital", "0.08", "--wide"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("option"))
    cols = [c.strip() for c in header.split("┃")]
    assert cols[-3:] == ["hw $/mo", "power $/mo", "ops $/mo"], cols
    assert "cost of capital 8%/yr" in out  # in %/yr, as the sensitivity line (session 32)
    money = re.compile(r"\$([\d,]+)")
    rows = [line for line in out.splitlines() if "│ buy" in line or "│ rent" in line]
    assert rows
    for line in rows:
        cells = [c.strip() for c in line.split("│")]
        total = int(money.search(cells[4]).group(1).replace(",", ""))
        hw, power, ops = (int(money.search(c).group(1).replace(",", "")) for c in cells[-3:])
        assert abs(hw + power + ops - total) <= 2, line  # each printed to the dollar


def test_space_is_charged_per_owned_box_and_not_on_rented_gpus(capsys):
    base = cost_json(capsys)
    d = cost_json(capsys, "--space-per-box", "300")
    o, o0 = d["self_host"][0], base["self_host"][0]
    assert o["monthly_usd"]["space"] == pytest.approx(300 * o["units"])
    assert o["monthly_usd"]["total"] == pytest.approx(o0["monthly_usd"]["total"] + 300 * o["units"], abs=0.011)
    assert "space" not in o0["monthly_usd"]  # the part appears only when charged
    assert d["rental"][0]["monthly_usd"] == base["rental"][0]["monthly_usd"]
    assert d["assumptions"]["space_usd_per_box"]["value"] == 300


@pytest.mark.parametrize("rate,resale", [(0.0, 0.0), (0.08, 0.25)])
def test_npv_of_buying_is_the_discounted_cash_flows_summed_month_by_month(capsys, rate, resale):
    # -capex now, then each month the API bill saved less power and operations, and the resale at the end, each
    # discounted at the monthly rate: summed term by term, not through the annuity identity the code uses
    d = cost_json(capsys, "--cost-of-capital", str(rate), "--residual-value", str(resale))
    o = d["self_host"][0]
    api = next(c["monthly_usd"] for c in d["cloud"] if c["id"] == d["reference_cloud"])
    running = o["monthly_usd"]["power"] + o["monthly_usd"]["operations"]
    i = (1 + rate) ** (1 / 12) - 1
    npv = -o["capex_usd"] + sum((api - running) / (1 + i) ** m for m in range(1, 37)) \
        + o["capex_usd"] * resale / (1 + i) ** 36
    assert o["npv_vs_reference_usd"] == pytest.approx(npv, abs=1.0)
    # positive exactly when owning costs less a month than the API (with its capital charge)
    assert (o["npv_vs_reference_usd"] > 0) == (o["monthly_usd"]["total"] < api)


@pytest.mark.parametrize("d,months", [(0.5, 36), (0.1, 36), (0.3, 24), (0.8, 60)])
def test_api_price_flip_as_a_yearly_trend_inverts_the_monthly_average(d, months):
    # an API whose price falls by d a year costs, month by month over the life, this share of today's bill on average
    from selfhost_advisor.cost.sensitivity import yearly_decline_for_average

    average = sum((1 - d) ** (m / 12) for m in range(months)) / months
    assert yearly_decline_for_average(average, months) == pytest.approx(d, abs=1e-6)
    assert yearly_decline_for_average(1.0, months) is None and yearly_decline_for_average(1.5, months) is None
