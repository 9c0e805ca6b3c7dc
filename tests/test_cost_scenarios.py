"""Three workloads a finance lead would bring, checked end to end by hand (docs/methodology.md "Cost"):

- a small team, 50M tokens a month;
- the default 2B tokens a month;
- a heavy 50B tokens a month that must stay air-gapped.

Every figure is recomputed here from the data files (data/hardware.yaml prices and TDPs, data/cost.yaml defaults, host
systems and rental quotes, data/prices.yaml API prices) with the methodology's formulas. The one input taken from the
JSON is each box's serving throughput R (`serving.total_tokens_per_s`, the serving model's estimate, checked against
engine logs and benchmarks in its own tests); units, capex, power, operations, rental bills, API bills, the verdict
and what the air gap costs all follow from it by the arithmetic below, not from the cost code."""
import math
from pathlib import Path

import pytest
import yamlkit
from costkit import cost_json as run

ROOT = Path(__file__).resolve().parents[1]
COST = yamlkit.safe_load((ROOT / "data" / "cost.yaml").read_text())
HW = {p["id"]: p for p in yamlkit.safe_load((ROOT / "data" / "hardware.yaml").read_text())["hardware"]}
PRICES = {c["id"]: c for c in yamlkit.safe_load((ROOT / "data" / "prices.yaml").read_text())["candidates"]}
D = {k: v["value"] for k, v in COST["defaults"].items()}


def box(label):
    n, _, pid = label.partition("x ") if "x " in label else ("1", "", label)
    return int(n), HW[pid]


def host(pid, gpus):
    """(price, active W, idle W) of the rest of the box: a server slot per data-centre GPU, else one workstation."""
    hs = COST["host_systems"]
    if pid in COST["datacenter_profiles"]:
        s = hs["server"]
        return s["usd_per_gpu"] * gpus, s["active_watts_per_gpu"] * gpus, s["idle_watts_per_gpu"] * gpus
    w = hs["workstation"]
    return HW[w["usd_from_profile"]]["price_usd"], w["active_watts"], w["idle_watts"]


def ops(units):
    return (D["ops_hours_per_month"] + D["ops_hours_per_box"] * units) * D["ops_usd_per_hour"]


def capacity(r_tokens_per_s):
    """Tokens one box serves a month when it must carry the busiest hour: H x 3600 x R / peak."""
    return D["active_hours_per_month"] * 3600 * r_tokens_per_s / D["peak_to_average"]


def buy_by_hand(t, o):
    gpus, prof = box(o["hardware"])
    r = o["serving"]["total_tokens_per_s"]
    units = max(1, math.ceil(t / capacity(r))) + D["spare_units"]
    h_usd, h_active, h_idle = host(prof["id"], gpus)
    capex = units * (gpus * prof["price_usd"] + h_usd)
    idle_w = gpus * prof["tdp_watts"] * D["gpu_idle_share_of_tdp"] + h_idle
    active_w = gpus * prof["tdp_watts"] + h_active
    busy_h = t / r / 3600
    kwh = (units * idle_w * D["hours_per_month"] + (active_w - idle_w) * busy_h) / 1000 * D["pue"]
    return units, capex, capex / D["amortize_months"], kwh * D["electricity_usd_per_kwh"], ops(units)


def rent_by_hand(t, o):
    gpus, prof = box(o["hardware"])
    quotes = sorted(q["usd"] for q in COST["rental"]["quotes"][prof["id"]])
    rate = quotes[len(quotes) // 2] if len(quotes) % 2 else (quotes[len(quotes) // 2 - 1] + quotes[len(quotes) // 2]) / 2
    units = max(1, math.ceil(t / capacity(o["serving"]["total_tokens_per_s"])))
    return units, units * gpus * rate * min(D["active_hours_per_month"], 730) + ops(units)


def api_by_hand(t, pid):
    out = round(t * D["output_tokens"] / (D["prompt_tokens"] + D["output_tokens"]))
    p = PRICES[pid]
    return ((t - out) * p["input_usd_per_mtok"] + out * p["output_usd_per_mtok"]) / 1e6


def check_options(d):
    t = d["monthly_tokens"]
    buys = {}
    for o in d["self_host"]:
        units, capex, amort, power, op = buy_by_hand(t, o)
        m = o["monthly_usd"]
        assert o["units"] == units and o["capex_usd"] == pytest.approx(capex), o["hardware"]
        # R is printed to the cent of a token/s: busy hours (power) agree to a few parts per million
        assert (m["amortization"], m["power"], m["operations"]) == pytest.approx((amort, power, op), rel=1e-5, abs=0.02)
        buys[o["hardware"]] = amort + power + op
    rents = {}
    for o in d["rental"]:
        units, usd = rent_by_hand(t, o)
        assert o["units"] == units and o["monthly_usd"]["total"] == pytest.approx(usd, abs=0.02), o["hardware"]
        rents[o["hardware"]] = usd
    return buys, rents


def test_small_team_50m_tokens_the_api_at_ten_dollars(capsys):
    d = run(capsys, "-t", "50M")
    buys, rents = check_options(d)
    api = api_by_hand(50e6, "deepinfra/llama3.1:70b")  # 37.5M x $0.13 + 12.5M x $0.40 = $9.875
    assert api == pytest.approx(9.875)
    assert d["reference_cloud"] == "deepinfra/llama3.1:70b"
    ref = next(c for c in d["cloud"] if c["id"] == d["reference_cloud"])
    assert ref["monthly_usd"] == pytest.approx(api, abs=0.01)
    # every box is a single unit at this volume, so no owned + API split exists; the API is below every box by the
    # fixed operations alone ($873 = (8 + 1.7) h x $90)
    assert all(o["units"] == 1 for o in d["self_host"] + d["rental"]) and ops(1) == pytest.approx(873)
    assert api < min(min(buys.values()), min(rents.values()))
    assert d["recommendation"]["choice"] == "cloud"
    assert d["recommendation"]["monthly_usd"] == pytest.approx(api, abs=0.01)
    assert any(r.startswith("low volume") for r in d["recommendation"]["reasons"])


def test_default_2b_tokens_the_api_beats_every_box_and_the_h100_pair(capsys):
    d = run(capsys, "-t", "2e9")
    buys, rents = check_options(d)
    api = api_by_hand(2e9, "deepinfra/llama3.1:70b")  # 1.5B x $0.13 + 0.5B x $0.40 = $395
    assert api == pytest.approx(395.0)
    best_buy = min(buys, key=buys.get)
    assert best_buy == d["self_host"][0]["hardware"]
    # the cheapest boxes sit close to each other here (4 boxes of 4x RTX 4090, which serve 2.006B a month, and one
    # 2x H100 SXM): which one leads moves with a unit count and the prices, so the pair is checked by hand wherever it ranks
    o = next(x for x in d["self_host"] if x["hardware"] == "2x h100-sxm")
    # one 2x H100 SXM box: ($60,000 GPUs, the median of the session-33 quotes + 2 x $4,000 server slots) / 36 =
    # $1,888.89; 268 W idle all month, 1,700 W busy
    assert o["units"] == 1 and buy_by_hand(2e9, o)[1] == 68000
    assert api < min(rents.values()) < buys[best_buy]
    assert d["recommendation"]["choice"] == "cloud"
    assert d["recommendation"]["monthly_usd"] == pytest.approx(api, abs=0.01)
    # no volume makes the pair cheaper: a fully used box (K tokens at R) costs more than DeepInfra charges for them
    k = capacity(o["serving"]["total_tokens_per_s"])
    full = sum(buy_by_hand(k, o)[2:])
    assert full > api_by_hand(k, "deepinfra/llama3.1:70b") and o["break_even_monthly_tokens"] is None


def test_heavy_50b_air_gapped_the_cheapest_owned_fleet_and_what_the_gap_costs(capsys):
    d = run(capsys, "-t", "50e9", "--air-gapped")
    buys, rents = check_options(d)
    assert not rents and d["hybrid"] is None  # no rented GPU or API reachable
    best = min(buys, key=buys.get)
    assert d["recommendation"]["choice"] == "self-host" and d["self_host"][0]["hardware"] == best
    assert d["recommendation"]["monthly_usd"] == pytest.approx(buys[best], rel=1e-5)
    assert all(c["excluded"] for c in d["cloud"])
    api = api_by_hand(50e9, "deepinfra/llama3.1:70b")  # $9,875
    change = " ".join(d["recommendation"]["what_would_change"])
    assert f"${api:,.0f}/month" in change and f"${buys[best] - api:,.0f}/month" in change


def test_no_break_even_reason_says_what_a_full_box_is_and_agrees_with_a_hybrid_verdict(capsys):
    """20B tokens a month round the clock on 2x H100: a hybrid (one owned box for the base load, DeepInfra above it)
    wins, while no all-owned fleet breaks even. The reason must say why in the break-even's own terms (a box sized for
    the busiest hour carries K = H x 3600 x R / (peak/average) tokens) and not read as 'owning never pays': the hybrid's
    base box carries more than K (it is busy the whole month) and is cheaper than the API for its tokens."""
    # at $27,500 a GPU (the catalog's price until session 33, given here); at the 2026 median of $30,000 the base box
    # no longer beats DeepInfra for its tokens and the verdict is the API (docs/methodology.md, price33)
    d = run(capsys, "-t", "2e10", "-H", "2x h100-sxm", "--active-hours", "730", "--gpu-price", "27500")
    o = next(x for x in d["self_host"] if x["hardware"] == "2x h100-sxm" and x["mode"] == "buy")
    assert d["recommendation"]["choice"] == "hybrid" and o["break_even_monthly_tokens"] is None
    k = 730 * 3600 * o["serving"]["total_tokens_per_s"] / D["peak_to_average"]
    assert o["capacity_tokens_per_month"] == pytest.approx(k, rel=1e-6)
    text = next(r for r in d["recommendation"]["reasons"] if r.startswith("no monthly volume"))
    assert "all-owned fleet" in text and f"{k / 1e9:.3g}B tokens a month" in text
    assert "hybrid's base" in text and "does beat it" in text
    h = d["hybrid"]
    carried = d["monthly_tokens"] - h["overflow_tokens"]  # what the one base box serves
    assert h["base_units"] == 1 and carried > 1.4 * k
    api_per_token = d["cloud"][0]["monthly_usd"] / d["monthly_tokens"]
    assert h["monthly_usd"]["self_host"] < api_per_token * carried  # busy all month, it beats the API for its tokens
