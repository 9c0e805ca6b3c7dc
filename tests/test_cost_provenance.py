"""What a finance reviewer asks of `advisor cost` before signing: how old each price is, what a catalog GPU price is
(a launch list price, a used-market price, dated quotes), and whether the hardware bought may be deployed as planned.

- Rental rates state the oldest page date behind their median (data/cost.yaml rental.quotes `published`).
- The cheapest bought box's GPU price says what it is when no dated quotes stand behind it (data/hardware.yaml
  price_kind): the RTX 4090's $1,599 is its 2022 launch MSRP, not a price anyone quoted this year.
- GeForce / TITAN cards: NVIDIA's GeForce driver licence does not license datacenter deployment (section 2.1.3, data/cost.yaml
  consumer_gpu_licence with its sources); a verdict that buys them says so among its reasons, otherwise a warning names
  the cheapest bought GeForce box. Neither changes a figure.
"""
from __future__ import annotations

import json

import jsonschema
import pytest

from selfhost_advisor.catalog.profiles import profiles
from selfhost_advisor.cli import main
from selfhost_advisor.cost.boxes import consumer_gpu
from selfhost_advisor.cost.defaults import data

README_CASE = ("-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o", "--active-hours", "730", "--peak-to-average", "3",
               "--spare", "1", "--cached-input-share", "0.2")


def _run(capsys, *argv: str, as_json: bool = True):
    code = main(["cost", *argv, *(("--json",) if as_json else ("--wide",))])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out) if as_json else out


def _licence_text() -> str:
    return " ".join(str(data()["consumer_gpu_licence"]["text"]).split())


@pytest.mark.parametrize("pid, expected", [
    ("rtx-4090", True), ("rtx-3090", True), ("rtx-5090", True), ("rtx-3060-12gb", True),
    ("rtx-pro-6000-blackwell", False), ("rtx-a6000", False), ("rtx-6000-ada", False), ("l40s", False),
    ("h100-sxm", False), ("rx-7900-xtx", False),
])
def test_consumer_cards_are_the_geforce_and_titan_branded_ones(pid, expected):
    # the licence covers "NVIDIA GeForce or Titan branded hardware": read off the catalog's product name, so a
    # workstation RTX (A6000, 6000 Ada, PRO 6000) or a datacenter part is not flagged
    prof = next(p for p in profiles() if p.id == pid)
    assert consumer_gpu(prof) is expected


def test_every_geforce_profile_in_the_catalog_is_flagged():
    flagged = {p.id for p in profiles() if consumer_gpu(p)}
    named = {p.id for p in profiles() if p.vendor == "nvidia" and "geforce" in p.name.lower()}
    assert named and flagged >= named


def test_a_verdict_that_buys_geforce_boxes_gives_the_licence_as_a_reason_once(capsys):
    d = _run(capsys, *README_CASE)
    assert d["recommendation"]["choice"] == "self-host"
    assert d["self_host"][0]["hardware"] == "4x rtx-4090" and d["self_host"][0]["consumer_gpu"] is True
    texts = d["recommendation"]["reasons"]
    texts = [r if isinstance(r, str) else r.get("text", "") for r in texts]
    hits = [t for t in texts if "GeForce" in t]
    assert len(hits) == 1 and _licence_text() in hits[0] and hits[0].startswith("4x rtx-4090 uses GeForce cards")
    assert not any("GeForce" in w for w in d["warnings"])  # said once, among the reasons


def test_an_api_verdict_warns_about_the_cheapest_bought_geforce_box(capsys):
    d = _run(capsys, "-t", "2e9")
    assert d["recommendation"]["choice"] == "cloud"
    assert d["self_host"][0]["consumer_gpu"] is True
    assert [w for w in d["warnings"] if "GeForce" in w] == [f"{d['self_host'][0]['hardware']} uses GeForce cards: "
                                                           + _licence_text()]


def test_datacenter_boxes_carry_no_licence_note_and_the_note_moves_no_figure(capsys):
    d = _run(capsys, "-t", "2e9", "-H", "2x h100-sxm", "--air-gapped")
    assert d["self_host"][0]["consumer_gpu"] is False
    assert not any("GeForce" in str(x) for x in (d["warnings"], d["recommendation"]))
    # the same GeForce box priced with and without the flag in the data: the monthly totals do not depend on it
    a = _run(capsys, "-t", "2e9", "-H", "4x rtx4090", "--air-gapped")
    assert any("GeForce" in str(r) for r in a["recommendation"]["reasons"])
    assert a["self_host"][0]["monthly_usd"]["total"] == pytest.approx(
        sum(v for k, v in a["self_host"][0]["monthly_usd"].items() if k != "total"), abs=0.011)


def test_rental_rates_state_their_oldest_quote(capsys):
    d = _run(capsys, "-t", "2e9")
    quotes = data()["rental"]["quotes"]
    for r in d["rental"]:
        pid = r["hardware"].split("x ")[-1]
        oldest = min(str(q["published"]) for q in quotes[pid])
        assert r["rate_quotes_oldest"] == oldest
    text = _run(capsys, "-t", "2e9", as_json=False)
    h100 = min(str(q["published"]) for q in quotes["h100-sxm"])[:7]
    assert f"oldest {h100})" in text.replace("\n", " ")


def test_a_given_rent_price_has_no_quote_date(capsys):
    d = _run(capsys, "-t", "2e9", "-H", "h100-sxm", "--rent-price", "2.2")
    assert d["rental"][0]["rate_quotes_oldest"] is None and d["rental"][0]["rate_quotes"] == 0


def test_the_cheapest_boxs_gpu_price_says_it_is_a_launch_list_price(capsys):
    # data/hardware.yaml rtx-3080: price_usd 699, price_kind msrp (the 2020 launch price; the RTX 4090's 2022 MSRP was
    # replaced by 2026 street quotes in session 33)
    text = _run(capsys, "-t", "1e8", "-m", "llama3.1:8b", "-H", "rtx-3080", "--min-quant", "any",
                as_json=False).replace("\n", " ")
    assert "buy rtx-3080 $699/GPU: 2020 launch list price (MSRP), not a dated quote (--gpu-price for yours)" in text
    # a price you give is yours: no basis line for it
    given = _run(capsys, "-t", "2e9", "-H", "2x rtx4090", "--gpu-price", "2000", as_json=False).replace("\n", " ")
    assert "launch list price" not in given


def test_the_new_fields_validate_against_the_schema(capsys):
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parents[1] / "docs/schema/cost.schema.json").read_text())
    for argv in (README_CASE, ("-t", "2e9", "-H", "h100-sxm", "--rent-price", "2.2")):
        jsonschema.validate(_run(capsys, *argv), schema)


def _on_call_note(hours: float) -> str:
    return f"{hours:g} active hours a month: " + " ".join(str(data()["on_call"]["text"]).split())


def test_round_the_clock_traffic_with_the_default_operations_says_no_on_call_is_priced(capsys):
    # data/cost.yaml on_call: the default ops hours (8 h + 1.7 h/box) pay for no rotation; traffic beyond the
    # 176 business hours a month arrives when nobody is at work (SRE book ch. 11: eight engineers for 24/7)
    d = _run(capsys, *README_CASE)
    assert _on_call_note(730) in d["warnings"]
    assert d["self_host"][0]["monthly_usd"]["operations"] == pytest.approx((8 + 1.7 * 3) * 90)  # a note, not a price


@pytest.mark.parametrize("argv", [
    ("-t", "2e9", "-H", "2x rtx4090"),                                          # business hours (the default 176)
    ("-t", "2e9", "-H", "2x rtx4090", "--active-hours", "730", "--ops-hours", "60"),  # the operator priced theirs
    ("-t", "2e9", "-H", "2x rtx4090", "--active-hours", "176"),
])
def test_no_on_call_note_within_business_hours_or_with_given_operations(capsys, argv):
    d = _run(capsys, *argv)
    assert not any("on-call" in w for w in d["warnings"])


def test_the_on_call_threshold_is_the_business_hours_default():
    assert float(data()["on_call"]["business_hours_per_month"]) == float(data()["defaults"]["active_hours_per_month"]["value"])
