"""Session 32 (price32): every purchase price and rental quote `advisor cost` buys at says how old its figure is.

Before this, a catalog GPU price was dated by the profile's `as_of` (the day data/hardware.yaml was compiled,
2026-11-25), so the RTX 4090's 2022 launch MSRP read "as of 2026-11-25" in the JSON and "launch list price" with no
year in the text. Now each priced profile carries price_as_of (the date of the figure; for an undated page the day it
was read, with price_undated) or dated price_quotes, and the text names the year of a launch list price.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yamlkit

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 12, 8)  # the day of the latest price read (session 34, price34)
HW = yamlkit.safe_load((ROOT / "data" / "hardware.yaml").read_text())["hardware"]
PRICED = [e for e in HW if e.get("price_usd") is not None]
DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _day(s: str) -> date:
    parts = [int(x) for x in str(s).split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


@pytest.mark.parametrize("e", PRICED, ids=lambda e: e["id"])
def test_every_catalog_price_has_a_source_and_the_date_of_its_figure(e):
    assert (e.get("sources") or {}).get("price"), "a price names where it was read"
    assert e.get("price_kind") in ("msrp", "used", "street", "list")
    if e.get("price_quotes"):
        days = [str(q["published"]) for q in e["price_quotes"]]
    else:
        days = [str(e.get("price_as_of") or "")]
        # the profile's compile date is not the date of a price: only an undated page is dated by the day it was read
        assert e.get("price_undated") or days[0] != str(e.get("as_of")), "price_as_of is the figure's date"
    for d in days:
        assert DATE.match(d), d
        assert _day(d) <= TODAY


def test_launch_list_prices_are_dated_by_their_launch_not_by_the_catalog():
    launches = {e["id"]: str(e["price_as_of"]) for e in PRICED if e["price_kind"] == "msrp"}
    # every MSRP left in the catalog is at least a year old on 2026-12-07: that is what the printed year warns of
    assert launches and all((TODAY - _day(d)).days > 365 for d in launches.values()), launches


def _buy_lines(capsys, monkeypatch, *hw: str) -> str:
    monkeypatch.setenv("COLUMNS", "220")
    args = ["cost", "-t", "1e8", "-m", "llama3.1:8b", "--cloud", "gpt-4o", "--min-quant", "any", "--price-date", "2026-12-07"]
    for h in hw:
        args += ["-H", h]
    assert main(args) == 0
    return " ".join(line for line in capsys.readouterr().out.splitlines() if line.startswith("buy "))


def test_the_printed_basis_names_the_year_of_a_launch_price(capsys, monkeypatch):
    out = _buy_lines(capsys, monkeypatch, "rtx-3080", "rx-7900-xtx")
    assert "buy rtx-3080 $699/GPU: 2020 launch list price (MSRP), not a dated quote" in out
    assert "buy rx-7900-xtx $999/GPU: 2022 launch list price (MSRP), not a dated quote" in out


def test_an_undated_page_says_it_was_undated_and_when_it_was_read(capsys, monkeypatch):
    # session 33 (price33): the H100's one undated page became one of three quotes; MI300X keeps one undated page
    out = _buy_lines(capsys, monkeypatch, "mi300x")
    assert "buy mi300x $12,500/GPU: one street-price source (undated page read 2026-11-25)" in out


def test_the_rtx_5090_is_bought_at_its_2026_street_quotes_not_its_launch_msrp(capsys, monkeypatch):
    e = next(e for e in PRICED if e["id"] == "rtx-5090")
    usd = sorted(q["usd"] for q in e["price_quotes"])
    assert e["price_usd"] > 1999 and all(q["published"].startswith("2026") for q in e["price_quotes"])
    out = _buy_lines(capsys, monkeypatch, "rtx-5090")
    assert (f"buy rtx-5090 ${e['price_usd']:,.0f}/GPU: median of {len(usd)} dated purchase quotes "
            f"(${usd[0]:,.0f}-{usd[-1]:,.0f}, oldest 2026-01)") in out


def test_the_mac_mini_m4_is_priced_at_apples_raised_list_price():
    e = next(e for e in PRICED if e["id"] == "m4-16gb")
    assert (e["price_usd"], e["price_kind"], str(e["price_as_of"])[:4]) == (799, "list", "2026")
    assert "$599" in e["sources"]["price"]  # the 2024 launch price stays named beside the raise


def test_apple_machine_prices_are_dated_by_their_figure():
    prices = yamlkit.safe_load((ROOT / "data" / "apple.yaml").read_text())["prices"]
    for p in prices:
        assert p["source"] and DATE.match(str(p["as_of"])) and _day(str(p["as_of"])) <= TODAY
    # the 512 GB Mac Studio's $9,499 is the March 2025 launch price of an option withdrawn in 2026, not a 2026 quote
    assert next(p for p in prices if p["id"] == "m3-ultra-80c-512gb")["as_of"] == "2025-03-05"


def test_rental_quotes_are_dated_and_the_oldest_is_printed(capsys, monkeypatch):
    rental = yamlkit.safe_load((ROOT / "data" / "cost.yaml").read_text())["rental"]["quotes"]
    for gpu, quotes in rental.items():
        for q in quotes:
            assert q["url"].startswith("https://") and DATE.match(str(q["published"])), (gpu, q)
    # the L40S quotes of 2025-08 are over a year old: the rent line says so
    monkeypatch.setenv("COLUMNS", "220")
    assert main(["cost", "-t", "1e8", "-m", "llama3.1:8b", "-H", "l40s", "--cloud", "gpt-4o", "--price-date",
                 "2026-12-07"]) == 0
    assert "oldest 2025-08" in capsys.readouterr().out
