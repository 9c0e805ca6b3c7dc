"""Session 34 (price34): `advisor cost` read as a finance lead signs it, on the workloads of the brief (a small team on
a workstation, 2e9 on 2x RTX 4090, 2e10 on H100s, regulated data, an air gap, a Mac Studio).

What was missing, each checked here against the data files and the JSON (never against the renderer's own sums):
- the date of the electricity price (EIA 2024) and of the engineer-hour (BLS May 2024) was in --json's source text
  alone; the text's Owning line and the JSON's `figure` / `figure_as_of` now carry it;
- the monthly total's parts (hardware, power, operations) showed only with --wide: a line per option now gives each
  in dollars with the quantity behind it (capex over the months, kWh, engineer-hours, GPU-hours);
- with no box holding the model at a floor and no API allowed (--air-gapped at BF16) the verdict read "self-hosting ()"
  and "self-hosting wins with a BF16 floor";
- a reference API that the constraints exclude was footnoted as if it were an option.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yamlkit
from costkit import cost_json

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
HW = {e["id"]: e for e in yamlkit.safe_load((ROOT / "data" / "hardware.yaml").read_text())["hardware"]}
COST = yamlkit.safe_load((ROOT / "data" / "cost.yaml").read_text())
DEF = COST["defaults"]
DAY = ("--price-date", "2026-12-08")
README = ["-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--active-hours", "730", "--peak-to-average", "3",
          "--spare", "1", "--cached-input-share", "0.2"]
SCENARIOS = {
    "workstation": ["-t", "2e8", "-m", "llama3.1:8b", "-H", "rtx4090"],
    "readme": README,
    "h100": ["-t", "2e10", "-H", "2x h100-sxm", "--active-hours", "730"],
    "finance": ["-t", "2e9", "-H", "2x h100-sxm", "--cost-of-capital", "0.08", "--residual-value", "0.25",
                "--space-per-box", "300"],
}


def _text(capsys, monkeypatch, *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", "400")  # one line per printed line, so a line can be parsed whole
    assert main(["cost", *argv, *DAY]) == 0
    return capsys.readouterr().out


def _usd(s: str) -> float:
    return float(s.replace("$", "").replace(",", ""))


def test_the_dated_defaults_name_the_period_of_their_figure():
    dated = {k: v for k, v in DEF.items() if "figure_as_of" in v}
    assert {"electricity_usd_per_kwh", "ops_usd_per_hour", "pue"} <= set(dated)
    for k, v in dated.items():
        assert re.fullmatch(r"\d{4}(-\d{2})?", str(v["figure_as_of"])), k
        assert str(v["figure_as_of"])[:4] in v["figure"], k  # the words name the same year
        assert str(v["figure_as_of"]) <= str(v["as_of"]), k  # a figure describes a period before the day it was read
    # the hourly rate is the cited wage over the cited wage share, to the nearest $10 (the rounding the source states)
    src = DEF["ops_usd_per_hour"]["source"]
    wage = float(re.search(r"\$([\d,]+)/yr", src).group(1).replace(",", ""))
    share = float(re.search(r"salaries ([\d.]+)% of total", src).group(1)) / 100
    assert round(wage / 2080 / share, -1) == DEF["ops_usd_per_hour"]["value"]


def test_the_owning_line_dates_the_power_price_and_the_engineer_hour(capsys, monkeypatch):
    out = _text(capsys, monkeypatch, *SCENARIOS["workstation"])
    owning = next(line for line in out.splitlines() if line.startswith("Owning"))
    e, o = DEF["electricity_usd_per_kwh"], DEF["ops_usd_per_hour"]
    assert f"${e['value']:g}/kWh ({e['figure']})" in owning
    assert f"x ${o['value']:g} ({o['figure']})" in owning
    # a value given with a flag is the user's, with no source date to print
    out = _text(capsys, monkeypatch, *SCENARIOS["workstation"], "--electricity", "0.31", "--ops-rate", "120")
    owning = next(line for line in out.splitlines() if line.startswith("Owning"))
    assert "$0.31/kWh, PUE" in owning and "x $120, " in owning and e["figure"] not in owning


def test_the_json_carries_the_figure_dates_beside_the_day_read(capsys):
    d = cost_json(capsys, *SCENARIOS["workstation"])
    for key in ("electricity_usd_per_kwh", "ops_usd_per_hour", "pue"):
        a = d["assumptions"][key]
        assert a["figure_as_of"] == str(DEF[key]["figure_as_of"]) and a["figure"] == DEF[key]["figure"]
        assert a["as_of"] == str(DEF[key]["as_of"])
    d = cost_json(capsys, *SCENARIOS["workstation"], "--electricity", "0.31")
    assert "figure_as_of" not in d["assumptions"]["electricity_usd_per_kwh"]


_BUY = re.compile(r"^a month of (\d+) bought (.+?): (\$[\d,]+) = hardware (\$[\d,]+) \((\$[\d,]+) over ([\d.]+) mo"
                  r"(?: at [\d.]+%/yr)?(?:, \d+% resold)?\) \+ power (\$[\d,]+) \(([\d,]+) kWh x \$([\d.]+)\) \+ "
                  r"operations (\$[\d,]+) \(([\d.]+) engineer-h x \$([\d.]+)\)(?: \+ space (\$[\d,]+) \(\d+ x \$[\d.]+\))?$")
_RENT = re.compile(r"^a month of (\d+) rented (.+?): (\$[\d,]+) = GPU rental (\$[\d,]+) \(([\d,]+) GPU-h x \$([\d.]+)\)"
                   r" \+ operations (\$[\d,]+) \(([\d.]+) engineer-h x \$([\d.]+)\)$")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_option_s_month_is_printed_in_parts_that_match_the_json(name, capsys, monkeypatch):
    argv = SCENARIOS[name]
    d = cost_json(capsys, *argv)
    lines = _text(capsys, monkeypatch, *argv).splitlines()
    bought = [m for m in map(_BUY.match, lines) if m]
    rented = [m for m in map(_RENT.match, lines) if m]
    assert len(bought) == min(2, len(d["self_host"])) and len(rented) == min(1, len(d["rental"]))
    fixed, per_box = (float(d["assumptions"][k]["value"]) for k in ("ops_hours_per_month", "ops_hours_per_box"))
    rate = float(d["assumptions"]["ops_usd_per_hour"]["value"])
    for m, o in zip(bought, d["self_host"]):
        units, label, total, hw, capex, months, power, kwh, kwh_usd, ops, hours, hour_usd, space = m.groups()
        usd = o["monthly_usd"]
        assert (int(units), label) == (o["units"], o["hardware"])
        assert _usd(total) == round(usd["total"])
        assert _usd(hw) == round(usd["amortization"]) and _usd(capex) == round(o["capex_usd"])
        assert float(months) == d["assumptions"]["amortize_months"]["value"]
        assert _usd(power) == round(usd["power"]) and _usd(kwh) == round(o["energy_kwh"])
        assert float(kwh_usd) == d["assumptions"]["electricity_usd_per_kwh"]["value"]
        # the engineer-hours from the assumptions, not from the line: fixed + per box x boxes
        assert float(hours) == pytest.approx(fixed + per_box * o["units"], abs=0.05)
        assert o["operations_hours_per_month"] == pytest.approx(fixed + per_box * o["units"])
        assert float(hour_usd) == rate and _usd(ops) == round(usd["operations"])
        assert usd["operations"] == pytest.approx(o["operations_hours_per_month"] * rate, abs=0.01)
        assert _usd(space or "$0") == round(usd.get("space", 0.0))
        parts = _usd(hw) + _usd(power) + _usd(ops) + _usd(space or "$0")
        assert abs(parts - _usd(total)) <= 2  # whole dollars, each rounded once
    for m, o in zip(rented, d["rental"]):
        units, label, total, rent, gpu_h, gpu_rate, ops, hours, hour_usd = m.groups()
        usd = o["monthly_usd"]
        assert (int(units), label) == (o["units"], o["hardware"])
        assert _usd(gpu_h) == round(o["units"] * o["gpus_per_unit"] * o["hours_per_month"])
        assert float(gpu_rate) == pytest.approx(o["usd_per_gpu_hour"])
        assert usd["rental"] == pytest.approx(o["units"] * o["gpus_per_unit"] * o["hours_per_month"]
                                              * o["usd_per_gpu_hour"], rel=1e-3)
        assert _usd(rent) == round(usd["rental"]) and _usd(ops) == round(usd["operations"])
        assert float(hours) == pytest.approx(o["operations_hours_per_month"], abs=0.05)


def test_the_hybrid_s_month_is_its_owned_boxes_and_its_api_bill(capsys, monkeypatch):
    argv = ["-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--peak-to-average", "3"]
    h = cost_json(capsys, *argv)["hybrid"]
    assert h["is_mix"] and 0 < h["base_units"] < h["all_owned_units"]  # a true split at this load
    lines = _text(capsys, monkeypatch, *argv).splitlines()
    m = next(m for m in map(re.compile(r"^a month of the hybrid, (\d+) bought (.+?) \+ (\S+): (\$[\d,]+) = owned boxes "
                                       r"(\$[\d,]+) \(hardware, power, operations\) \+ (\S+) (\$[\d,]+) for ([\d.]+)M "
                                       r"overflow tokens in ([\d.]+) h of the month$").match, lines) if m)
    units, box, api, total, owned, api2, api_usd, mtok, hours = m.groups()
    usd = h["monthly_usd"]
    assert (int(units), box, api, api2) == (h["base_units"] + h["spare_units"], h["hardware"], h["api"], h["api"])
    assert (_usd(total), _usd(owned), _usd(api_usd)) == tuple(round(usd[k]) for k in ("total", "self_host", "api_overflow"))
    assert float(mtok) == pytest.approx(h["overflow_tokens"] / 1e6, abs=0.05)
    assert float(hours) == pytest.approx(h["overflow_hours"], rel=0.01)


def test_a_floor_no_option_serves_is_said_so_not_called_a_verdict(capsys, monkeypatch):
    argv = ["-t", "5e8", "--air-gapped", "-H", "2x rtx4090"]  # 70B at BF16 is 141 GB: no box of RTX 4090s holds it
    d = cost_json(capsys, *argv)
    at = {v["floor"]: v for v in d["quality_floor"]["verdict_by_floor"]}
    assert at["BF16"]["served"] is False and at["BF16"]["monthly_usd"] is None
    assert at["FP8"]["served"] is True and at["FP8"]["current"]
    floor = next(s for s in d["sensitivity"] if s["parameter"] == "quality_floor_bits")
    assert floor["flips_above"] is None  # nothing serving at 16 bits is no other verdict
    out = " ".join(_text(capsys, monkeypatch, *argv).split())
    assert "at a BF16 floor no option in the comparison serves this load" in out
    assert "nothing serves at BF16" in out
    assert "()" not in out and "wins with a BF16 floor" not in out


@pytest.mark.parametrize("name", ["readme", "h100"])
def test_the_reference_api_is_footnoted_with_the_date_of_its_prices(name, capsys, monkeypatch):
    d = cost_json(capsys, *SCENARIOS[name])
    ref = next(c for c in d["cloud"] if c["id"] == d["reference_cloud"])
    out = " ".join(_text(capsys, monkeypatch, *SCENARIOS[name]).split())
    assert f"* reference API for break-even and payback: {ref['name']}, prices as of {ref['prices_as_of']}" in out


def test_an_excluded_reference_api_is_footnoted_as_excluded(capsys, monkeypatch):
    out = " ".join(_text(capsys, monkeypatch, "-t", "1e8", "--regulated", "hipaa").split())
    assert "reference API for break-even and payback: Llama 3.1 70B Instruct Turbo on DeepInfra, prices as of " in out
    assert "(itself excluded here" in out
    out = " ".join(_text(capsys, monkeypatch, *SCENARIOS["workstation"]).split())
    assert "itself excluded" not in out


def test_the_apu_is_priced_per_machine_at_its_dated_quote(capsys, monkeypatch):
    e = HW["ryzen-ai-max-395-128gb"]
    dated = sorted(str(q["published"]) for q in e["price_quotes"] if not q.get("undated"))
    undated = [q for q in e["price_quotes"] if q.get("undated")]
    assert dated and all(re.fullmatch(r"2026-\d{2}(-\d{2})?", x) for x in dated)
    argv = ["-t", "2e8", "-m", "llama3.1:8b", "-H", "ryzen ai max+ 395 128gb"]
    o = cost_json(capsys, *argv)["self_host"][0]
    assert o["gpu_price_as_of"] == dated[0] and not o["gpu_price_undated"]
    assert (o["price_quotes"], o["price_quotes_undated"]) == (len(e["price_quotes"]), len(undated))
    out = " ".join(_text(capsys, monkeypatch, *argv).split())
    line = f"buy ryzen-ai-max-395-128gb ${e['price_usd']:,}/machine: median of {len(e['price_quotes'])} purchase quotes"
    assert line in out and f"1 dated {dated[0]}; {len(undated)} from undated pages" in out
    assert "$1,999-1,999" not in out  # a spread of one price is no spread


def test_the_l40s_rent_quotes_say_how_old_the_oldest_is(capsys, monkeypatch):
    quotes = COST["rental"]["quotes"]["l40s"]
    assert any(q["provider"] == "CoreWeave" and str(q["published"]).startswith("2026") for q in quotes)
    oldest = min(str(q["published"]) for q in quotes)
    usd = sorted(q["usd"] for q in quotes)
    out = " ".join(_text(capsys, monkeypatch, "-t", "2e8", "-m", "llama3.1:8b", "-H", "l40s").split())
    assert f"median of {len(quotes)} on-demand quotes (${usd[0]:.2f}-{usd[-1]:.2f}, oldest {oldest[:7]})" in out
