"""`advisor cost` on a spec sheet (cost/custom_box.py): a card not in the catalog, priced by the user.

The box is priced as a catalog one is (docs/methodology.md "Cost": capex = GPUs x price + host, data/cost.yaml's
workstation host, power from the board's TDP) with the user's price; its board power is tdp= or, stated as an
assumption, the TDP of the catalog GPU nearest in bandwidth and FP16 rate.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from selfhost_advisor.catalog.custom_hw import parse_custom
from selfhost_advisor.catalog.profiles import profiles
from selfhost_advisor.cli import main
from selfhost_advisor.cost.custom_box import nearest_tdp
from selfhost_advisor.cost.run import build_comparison

CARD = "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS"


def _cost(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["cost", "-t", "2e9", "-m", "llama3.1:8b", "--json", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), err


def test_a_priced_spec_sheet_is_bought_at_the_given_price_plus_a_workstation_host(capsys):
    """capex per box = 1 GPU x $2,500 + data/cost.yaml's workstation host (data/hardware.yaml host-workstation,
    $1,314): $3,814; the amortization is capex x units / 36 months (straight line, the default)."""
    code, d, err = _cost(capsys, "-H", CARD, "--gpu-price", "2500")
    assert code == 0, err
    row = d["self_host"][0]
    assert row["unit_price_usd"] == 3814.0 and row["price_kind"] == "given"
    assert row["capex_usd"] == 3814.0 * row["units"]
    assert row["monthly_usd"]["amortization"] == pytest.approx(3814.0 * row["units"] / 36, abs=0.01)


def test_a_spec_sheet_row_validates_against_the_schema(capsys):
    code, d, err = _cost(capsys, "-H", CARD, "--gpu-price", "2500")
    assert code == 0, err
    jsonschema.validate(d, json.loads((Path(__file__).parents[1] / "docs/schema/cost.schema.json").read_text()))
    assert d["schema_version"] == "1.30.0"


def test_the_spec_sheets_tdp_sets_the_power_bill_by_the_tco_formula(capsys):
    """Same box, tdp 300 W vs 600 W: every unit idles at 12% of TDP all month (730 h), busy hours add the rest, x PUE
    1.56 x $0.13/kWh (data/cost.yaml): delta = (units x 0.12 x 300 W x 730 h + 0.88 x 300 W x busy h) / 1000 x 1.56 x 0.13."""
    _, lo, _ = _cost(capsys, "-H", CARD + ",tdp=300W", "--gpu-price", "2500")
    _, hi, _ = _cost(capsys, "-H", CARD + ",tdp=600", "--gpu-price", "2500")
    a, b = lo["self_host"][0], hi["self_host"][0]
    assert (a["gpu_watts"], b["gpu_watts"]) == (300.0, 600.0) and a["gpu_watts_source"] == "spec sheet (tdp=)"
    assert a["units"] == b["units"] and a["busy_hours_per_month"] == b["busy_hours_per_month"]
    dwh = a["units"] * 0.12 * 300 * 730 + 0.88 * 300 * a["busy_hours_per_month"]
    assert b["monthly_usd"]["power"] - a["monthly_usd"]["power"] == pytest.approx(dwh / 1000 * 1.56 * 0.13, abs=0.02)


def test_without_tdp_the_power_of_the_nearest_catalog_gpu_is_assumed_and_said(capsys):
    """1 TB/s and 80 TFLOPS sit nearest the RTX 3090 (936 GB/s, 71 TFLOPS; 350 W): the row says so and a warning
    names it, since the power bill rests on it."""
    code, d, err = _cost(capsys, "-H", CARD, "--gpu-price", "2500")
    assert code == 0, err
    row = d["self_host"][0]
    assert row["gpu_watts"] == 350.0 and "rtx-3090" in row["gpu_watts_source"]
    assert any("rtx-3090" in w and "tdp=" in w for w in d["warnings"]), d["warnings"]


def test_every_catalog_gpu_finds_itself_as_the_nearest():
    """The stand-in rule is a nearest-neighbour in (log bandwidth, log FP16): a catalog card's own figures give its own
    TDP (ties between cards of identical figures give one of them, with the same TDP)."""
    for p in profiles():
        if p.kind != "gpu" or not (p.tdp_watts and p.bandwidth_bytes_per_s and p.fp16_flops):
            continue
        spec = f"custom:vram={p.memory_bytes / 2**30:.3f}GiB,bandwidth={p.bandwidth_bytes_per_s}B/s,fp16={p.fp16_flops:.6g}flops"
        watts, _ = nearest_tdp(parse_custom(spec)[0])
        assert watts == p.tdp_watts, p.id


def test_a_spec_sheet_file_prices_as_the_inline_spec(tmp_path):
    """The same keys in a YAML file (with price= and tdp=) and inline give the same monthly cost."""
    (tmp_path / "card.yaml").write_text("vram: 24GB\nbandwidth: 1TB/s\nfp16: 80TFLOPS\ntdp: 350W\nprice: 2500\n")
    from_file = build_comparison("2e9", model="llama3.1:8b", hardware=[str(tmp_path / "card.yaml")])
    inline = build_comparison("2e9", model="llama3.1:8b", hardware=[CARD + ",tdp=350W,price=2500"])
    a, b = from_file.self_host[0], inline.self_host[0]
    assert (a.units, a.monthly_usd.total) == (b.units, b.monthly_usd.total)
    assert a.box.gpu_price_usd == 2500.0 and a.box.gpu_tdp_watts == 350.0


def test_a_priced_spec_sheet_is_compared_with_catalog_boxes(capsys):
    """price= in the spec prices it beside catalog boxes (--gpu-price prices one box type only)."""
    code, d, err = _cost(capsys, "-H", CARD + ",price=2000,tdp=300,count=2", "-H", "rtx4090")
    assert code == 0, err
    rows = {r["hardware"]: r for r in d["self_host"]}
    assert "rtx-4090" in rows and rows["rtx-4090"]["gpu_watts_source"] == "catalog"
    custom = next(r for h, r in rows.items() if h.startswith("2x custom"))
    assert custom["unit_price_usd"] == 2 * 2000.0 + 1314.0 and custom["gpus_per_unit"] == 2


def test_rent_only_spec_sheet_is_rented_and_not_bought(capsys):
    """--rent-price alone prices renting it; the buy side is excluded naming the missing flag."""
    code, d, err = _cost(capsys, "-H", CARD, "--rent-price", "0.5")
    assert code == 0, err
    assert d["self_host"] == [] and d["rental"] and d["rental"][0]["usd_per_gpu_hour"] == 0.5
    assert any("--gpu-price" in e["reason"] for e in d["excluded"]), d["excluded"]


def test_a_higher_price_never_costs_less(capsys):
    totals = []
    for price in ("1000", "2500", "9000"):
        _, d, _ = _cost(capsys, "-H", CARD, "--gpu-price", price)
        totals.append(d["self_host"][0]["monthly_usd"]["total"])
    assert totals == sorted(totals) and totals[0] < totals[-1]


@pytest.mark.parametrize("argv, names", [
    (["-H", CARD], "--gpu-price"),
    (["-H", CARD, "--gpu-price", "0"], "--gpu-price"),
    (["-H", CARD, "--gpu-price", "-2500"], "--gpu-price"),
    (["-H", CARD + ",price=0"], "price"),
    (["-H", CARD + ",price=-5"], "price"),
    (["-H", CARD + ",tdp=0W", "--gpu-price", "2500"], "tdp"),
    (["-H", CARD + ",tdp=50kW", "--gpu-price", "2500"], "tdp"),
    (["-H", CARD + ",tdp=hot", "--gpu-price", "2500"], "tdp"),
])
def test_bad_prices_and_powers_exit_2_in_one_line(capsys, argv, names):
    code, d, err = _cost(capsys, *argv)
    assert code == 2 and d is None and err.count("\n") == 1 and names in err, err


def test_a_json_spec_sheet_is_priced_and_a_saved_probe_still_reads_as_a_probe(tmp_path):
    """A .json file with vram= (no schema_version) is a spec sheet; one with schema_version stays a saved probe
    (priced through its matched catalog profile, as before)."""
    (tmp_path / "card.json").write_text(json.dumps({"vram": "24GB", "bandwidth": "1TB/s", "fp16": "80TFLOPS",
                                                    "price": 2500, "tdp": "300W", "name": "Quote X"}))
    c = build_comparison("2e9", model="llama3.1:8b", hardware=[str(tmp_path / "card.json")])
    assert c.self_host[0].box.label == "Quote X" and c.self_host[0].box.gpu_tdp_watts == 300.0
    probe = Path(__file__).parent / "fixtures" / "probes" / "h200.probe.json"
    c2 = build_comparison("2e9", model="llama3.1:8b", hardware=[str(probe)])
    assert all(o.box.profile_id != "custom" for o in c2.self_host + c2.rental)
