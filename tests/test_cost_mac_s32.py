"""Session 32 (macpow32): a Mac is priced in `cost` from Apple's own figures (data/apple.yaml power, prices), and a Mac
named beside CUDA boxes is sized with llama.cpp instead of excluded. Expected values are worked by hand from Apple's
published numbers and the power formula of docs/methodology.md (cost, "Self-host monthly cost (buy)"):
    energy (kWh) = [units x W_idle x 730 + (W_active - W_idle) x busy hours] / 1000 x PUE
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from selfhost_advisor.cli import app
from selfhost_advisor.cost.boxes import box_from_spec, no_power_reason, unpriced_reason
from selfhost_advisor.cost.inputs import build_params
from selfhost_advisor.cost.tco import energy_kwh

runner = CliRunner()


def _cost(*args: str) -> dict:
    r = runner.invoke(app, ["cost", *args, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_m3_ultra_box_draws_apples_figures_not_twelve_percent_of_a_tdp():
    # Apple, Mac Studio (2025) M3 Ultra 32-core CPU & 80-core GPU, 512GB: 9 W idle, 270 W maximum at the wall. The base
    # 60-core / 96 GB machine is a smaller configuration of the same Mac Studio: 270 W bounds it. $3,999 list.
    box = box_from_spec("mac studio m3 ultra 60-core 96gb")
    assert box.active_watts() == 270.0
    assert box.idle_watts(0.12) == 9.0  # not 0.12 x 270 = 32.4
    assert box.capex_usd == 3999.0 and box.host_price_usd == 0.0
    assert "270 W maximum" in box.power_source and "102027" in box.power_source
    assert box.price_as_of == "2025-03-05" and box.price_kind == "msrp"


def test_energy_of_two_m3_ultras_by_hand():
    # 2 boxes, 100 busy hours, PUE 1.56: (2 x 9 W x 730 h + (270 - 9) W x 100 h) / 1000 x 1.56
    #   = (13,140 + 26,100) / 1000 x 1.56 = 61.2144 kWh
    box = box_from_spec("m3 ultra 60-core 96gb")
    p = build_params(None, None, None, None, None, None, None, None, None, None)
    assert p.pue == pytest.approx(1.56)
    assert energy_kwh(box, 2, 100.0, p) == pytest.approx(61.2144)


def test_curated_512gb_profile_takes_apples_270_w_over_the_295_w_it_carried():
    # data/hardware.yaml m3-ultra-512gb carried gpuhunter's 295 W, which is the M2 Ultra Mac Studio's figure (102027);
    # Apple measured this very configuration at 270 W maximum, 9 W idle. Its price stays the catalog's $9,499.
    box = box_from_spec("m3-ultra-512gb")
    assert (box.active_watts(), box.idle_watts(0.12)) == (270.0, 9.0)
    assert box.capex_usd == 9499.0


def test_cost_json_power_line_rebuilds_from_apples_figures():
    d = _cost("-m", "llama3.1:8b", "-t", "2e8", "-H", "m3 ultra 60-core 96gb")
    (o,) = [o for o in d["self_host"] if o["mode"] == "buy"]
    assert (o["box_active_watts"], o["box_idle_watts"]) == (270.0, 9.0)
    units, busy = o["units"], o["busy_hours_per_month"]
    kwh = (units * 9 * 730 + (270 - 9) * busy) / 1000 * 1.56
    assert o["monthly_usd"]["power"] == pytest.approx(kwh * 0.13, abs=0.01)
    assert o["monthly_usd"]["amortization"] == pytest.approx(units * 3999 / 36, abs=0.01)
    assert o["serving"]["engine"] == "llamacpp"


def test_a_covered_mac_without_a_read_price_is_refused_then_priced_when_given():
    # M2 Ultra 192 GB: Apple's Mac Studio (2023) figure covers it (measured at this configuration: 10 W / 295 W), but
    # its list price was not read, so it is not derived
    box = box_from_spec("m2 ultra 76-core 192gb")
    assert box.capex_usd is None and (box.active_watts(), box.idle_watts(0.12)) == (295.0, 10.0)
    why = unpriced_reason(box)
    assert "m2-ultra-76c-192gb" in why and "--gpu-price" in why and "lists specs, not prices" not in why
    d = _cost("-m", "llama3.1:8b", "-t", "2e8", "-H", "m2 ultra 76-core 192gb", "--gpu-price", "6599")
    (o,) = [o for o in d["self_host"] if o["mode"] == "buy"]
    assert o["capex_usd"] == pytest.approx(o["units"] * 6599)
    assert o["box_idle_watts"] == 10.0 and o["gpu_price_source"] == "given with --gpu-price"


def test_mac_studio_m3_ultra_256gb_compares_both_gpu_bins_at_their_list_prices():
    # 'mac studio m3 ultra 256gb' is the 60- or the 80-core M3 Ultra: cost lists both. Launch list prices: $3,999 base
    # + $1,600 (96 -> 256 GB) = $5,599; + $1,500 (80-core: $9,499 - $3,999 - $4,000 for 512 GB) = $7,099
    d = _cost("-m", "llama3.1:8b", "-t", "2e8", "-H", "mac studio m3 ultra 256gb")
    got = {o["hardware"]: o for o in d["self_host"] if o["mode"] == "buy"}
    assert set(got) == {"m3-ultra-60c-256gb", "m3-ultra-80c-256gb"}
    for hw, price in (("m3-ultra-60c-256gb", 5599), ("m3-ultra-80c-256gb", 7099)):
        o = got[hw]
        assert o["capex_usd"] == pytest.approx(o["units"] * price)
        assert o["monthly_usd"]["amortization"] == pytest.approx(o["units"] * price / 36, abs=0.01)
        assert (o["box_active_watts"], o["box_idle_watts"]) == (270.0, 9.0)
    # a name that differs in memory size is still refused (fit's rule): which size is the buyer's choice
    from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError

    r = runner.invoke(app, ["cost", "-m", "llama3.1:8b", "-t", "2e8", "-H", "m4 max", "--json"])
    assert isinstance(r.exception, AmbiguousHardwareError) and "memory sizes" in str(r.exception)


def test_a_configuration_larger_than_the_one_apple_measured_has_no_power_figure():
    # Apple measured the Mac Studio (2023) M2 Max at 30 GPU cores and 32 GB; a 38-core / 96 GB draws more
    box = box_from_spec("m2 max 38-core 96gb", gpu_price=3000)
    assert box.active_watts() == 0.0
    why = no_power_reason(box)
    assert "30-core GPU and 32 GB" in why and "draws more" in why
    small = box_from_spec("m2 max 30-core 32gb", gpu_price=2000)
    assert (small.active_watts(), small.idle_watts(0.12)) == (145.0, 9.0)


def test_m4_max_figure_without_its_configuration_is_not_used():
    # the M4 Max Mac Studio's 6 W / 145 W is read only through transcriptions naming no configuration
    box = box_from_spec("m4 max 32-core 36gb")
    assert box.capex_usd == 1999.0 and box.active_watts() == 0.0
    assert "do not name the configuration" in no_power_reason(box)


def test_mac_beside_cuda_boxes_is_sized_with_llamacpp_not_excluded():
    # before: the default engine for a mix was vLLM for every box, and the Mac was excluded ("use --engine llamacpp")
    d = _cost("-m", "llama3.1:8b", "-t", "2e8", "-H", "rtx5090,m3 ultra 60-core 96gb")
    engines = {o["hardware"]: o["serving"]["engine"] for o in d["self_host"] if o["mode"] == "buy"}
    assert engines.get("m3-ultra-60c-96gb") == "llamacpp"
    assert {e for h, e in engines.items() if "rtx-5090" in h} == {"vllm"}
    assert not any("m3-ultra" in e["hardware"] for e in d.get("excluded", []))
    assert "each box" in d["assumptions"]["engine"]["source"]


def test_engine_given_still_sizes_every_box_with_it():
    d = _cost("-m", "llama3.1:8b", "-t", "2e8", "-H", "rtx5090,m3 ultra 60-core 96gb", "--engine", "vllm")
    assert any("m3-ultra" in e["hardware"] for e in d.get("excluded", []))


def test_text_names_each_engine_when_the_boxes_were_sized_with_two():
    r = runner.invoke(app, ["cost", "-m", "llama3.1:8b", "-t", "2e8", "-H", "rtx5090,m3 ultra 60-core 96gb"],
                      env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "sized with llama.cpp (llama-server): m3-ultra-60c-96gb" in text
    assert "sized with vLLM:" in text and "m3-ultra-60c-96gb $3,999/machine: 2025 launch list price" in text
