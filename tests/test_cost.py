"""The cost model as pure functions: hand-checked sums, monotonic laws, break-even consistency, units vs load."""
import math

import pytest
from hypothesis import given, settings, strategies as st

from selfhost_advisor.cost import breakeven, tco
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.cloud import cloud_monthly_usd
from selfhost_advisor.cost.compare import compare
from costkit import work
from selfhost_advisor.cost.types import CloudPrice, Constraints, CostParams
from selfhost_advisor.domain import ServingCapacity


def cap(decode=600.0, prefill=4000.0):
    return ServingCapacity(fits=True, reason="", engine="vllm", quant="AWQ-INT4", context=8192, max_concurrency=16,
                           concurrency=16, aggregate_decode_tokens_per_s=decode, per_stream_decode_tokens_per_s=decode / 16,
                           prefill_tokens_per_s=prefill, confidence="measured")


PARAMS = CostParams(electricity_usd_per_kwh=0.13, pue=1.56, amortize_months=36, ops_hours_per_month=8,
                    ops_usd_per_hour=90, gpu_idle_share_of_tdp=0.12, hours_per_month=730)
GPT4O = CloudPrice(id="gpt-4o", name="GPT-4o", provider="openai", model="gpt-4o", tier="mid", input_usd_per_mtok=2.5,
                   output_usd_per_mtok=10.0, via="test", prices_as_of="test")


def test_workload_split_3_to_1():
    w = work(2_000_000_000)
    assert (w.input_tokens, w.output_tokens) == (1_500_000_000, 500_000_000)
    assert w.request_output_tokens == 500  # 1,500 in at 3:1


def test_two_rtx4090_box_hand_checked():
    # By hand: 2 x $1,599 (given: the RTX 4090's launch MSRP, its catalog price until session 33) + $1,314 host = $4,512.
    # Seconds per token = 0.75/4000 + 0.25/600 = 6.0417e-4 s; one box at peak 2x over 176 h serves
    # 176*3600/2 / 6.0417e-4 = 524.35M tokens/month -> 2B tokens needs ceil(3.81) = 4 boxes.
    # Busy hours = (1.5e9/4000 + 5e8/600)/3600 = 335.65 h.
    # Energy: idle 2*450*0.12 + 60 = 168 W, active 2*450 + 200 = 1100 W;
    #   (4*168*730 + 932*335.65)/1000 * 1.56 = 1253.3 kWh -> $162.93 at $0.13.
    # Monthly: 4*4512/36 = 501.33 amortization + 162.93 power + 8*90 = 720 ops = $1,384.26.
    box = box_from_spec("2x rtx4090", gpu_price=1599)
    assert box.capex_usd == pytest.approx(4512)
    o = tco.price_box(box, cap(), work(), PARAMS)
    assert o.units == 4
    assert o.capacity_tokens_per_month == pytest.approx(524.35e6, rel=1e-4)
    assert o.busy_hours_per_month == pytest.approx(335.65, rel=1e-4)
    assert o.energy_kwh == pytest.approx(1253.3, rel=1e-3)
    assert o.monthly_usd.amortization == pytest.approx(501.33, abs=0.01)
    assert o.monthly_usd.power == pytest.approx(162.93, abs=0.05)
    assert o.monthly_usd.total == pytest.approx(1384.26, abs=0.1)
    # GPT-4o: 1.5e9 x $2.5/M + 5e8 x $10/M = 3,750 + 5,000 = $8,750; payback 18,048 / (8,750 - 882.93) = 2.29 months.
    assert cloud_monthly_usd(GPT4O, work()) == pytest.approx(8750)
    running = o.monthly_usd.power + o.monthly_usd.operations
    assert breakeven.payback_months(o.capex_usd, running, 8750) == pytest.approx(2.294, abs=0.01)
    # Break-even: A = 4512/36 + 168 W*730 h*1.56*$0.13/1000 = 150.20, B = 720, c - v = 4.375e-6 - 3.17e-8;
    # first segment: T* = 870.20 / 4.3433e-6 = 200.4M tokens/month.
    t = breakeven.break_even_monthly_tokens(box, cap(), work(), PARAMS, GPT4O)
    assert t == pytest.approx(200.35e6, rel=2e-3)


def test_break_even_costs_agree_within_1_percent():
    box = box_from_spec("2x rtx4090")
    for c in (cap(), cap(300, 2000), cap(2000, 9000)):
        for price in (GPT4O, CloudPrice("x", "x", "x", "x", "", 0.6, 2.4, "t", "t")):
            t = breakeven.break_even_monthly_tokens(box, c, work(), PARAMS, price)
            if t is None:
                continue
            w = work(t)
            self_usd = tco.monthly_total(box, c, w, PARAMS)
            cloud_usd = cloud_monthly_usd(price, w)
            assert self_usd == pytest.approx(cloud_usd, rel=0.01)
            below = work(max(1, int(t * 0.9)))
            assert tco.monthly_total(box, c, below, PARAMS) > cloud_monthly_usd(price, below)


def test_no_break_even_when_a_full_box_costs_more_than_its_tokens_at_api_prices():
    # 30 tokens/s decode: one box serves ~36M tokens/month at peak 2 over 176 h; at GPT-4o prices that is ~$150,
    # less than the box's own fixed cost (~$150 amortization + idle power): never cheaper.
    slow = cap(decode=30, prefill=1000)
    assert breakeven.break_even_monthly_tokens(box_from_spec("2x rtx4090"), slow, work(), PARAMS, GPT4O) is None


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**12), st.integers(1, 10**12), st.floats(0.01, 0.99))
def test_more_tokens_never_lowers_cloud_cost(a, b, share):
    lo, hi = sorted((a, b))
    assert cloud_monthly_usd(GPT4O, work(hi, share)) >= cloud_monthly_usd(GPT4O, work(lo, share))


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 2.0), st.floats(0.0, 2.0), st.integers(1_000_000, 10**11))
def test_higher_electricity_never_lowers_self_host_cost(a, b, tokens):
    lo, hi = sorted((a, b))
    box = box_from_spec("2x rtx4090")
    p_lo = CostParams(electricity_usd_per_kwh=lo)
    p_hi = CostParams(electricity_usd_per_kwh=hi)
    assert tco.monthly_total(box, cap(), work(tokens), p_hi) >= tco.monthly_total(box, cap(), work(tokens), p_lo)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_units_scale_with_load(a, b):
    lo, hi = sorted((a, b))
    u_lo, u_hi = tco.units_needed(cap(), work(lo)), tco.units_needed(cap(), work(hi))
    assert u_hi >= u_lo >= 1
    per_unit = tco.capacity_tokens_per_month(cap(), work(hi))
    assert u_hi == max(1, math.ceil(hi / per_unit))


def test_units_double_when_load_doubles_far_from_rounding():
    per_unit = tco.capacity_tokens_per_month(cap(), work())
    assert tco.units_needed(cap(), work(10 * per_unit)) == 10
    assert tco.units_needed(cap(), work(20 * per_unit)) == 20
    assert tco.units_needed(cap(), work(10 * per_unit + 1)) == 11
    # a peakier load needs more boxes for the same tokens
    assert tco.units_needed(cap(), work(10 * per_unit, peak=4.0)) == 20


def test_rental_costs_hours_times_price():
    # RTX 4090 on-demand quotes in data/cost.yaml: $0.50, $0.55, $0.60, $0.682 -> median (0.55 + 0.60)/2 = $0.575.
    # 4 boxes x 2 GPUs x $0.575 x 176 h = $809.60, + $720 ops; utilisation is over the 4 x 176 billed hours.
    o = tco.price_box(box_from_spec("2x rtx4090"), cap(), work(), PARAMS, "rent")
    assert o.box.rental_usd_per_gpu_hour == pytest.approx(0.575)
    assert o.monthly_usd.rental == pytest.approx(809.60)
    assert o.monthly_usd.total == pytest.approx(1529.60)
    assert o.utilisation == pytest.approx(o.busy_hours_per_month / (4 * 176))


def test_box_that_cannot_serve_is_excluded_with_its_reason():
    no = ServingCapacity(False, "needs 42 GB, has 24", "vllm", None, 8192, 0, 0, 0.0, 0.0, 0.0)
    res = compare("llama3.1:70b", "Llama", work(), PARAMS, [box_from_spec("rtx4090"), box_from_spec("2x rtx4090")],
                  lambda b: no if b.gpus == 1 else cap(), [GPT4O])
    assert [e.hardware for e in res.excluded] == ["rtx-4090"] and "42 GB" in res.excluded[0].reason
    assert [o.box.label for o in res.self_host] == ["2x rtx-4090"]


def test_air_gapped_excludes_apis_and_rentals_and_picks_self_host():
    res = compare("llama3.1:70b", "Llama", work(10**8), PARAMS, [box_from_spec("2x rtx4090")], lambda b: cap(),
                  [GPT4O], Constraints(air_gapped=True))
    assert res.recommendation.choice == "self-host"
    assert res.rental == () and all(o.excluded_reason for o in res.cloud)
    assert "air-gapped" in res.recommendation.reasons[0].text


def test_cheap_api_at_low_volume_means_cloud_and_says_what_would_change():
    cheap = CloudPrice("deepinfra", "DeepInfra", "deepinfra", "m", "open-weight", 0.13, 0.40, "t", "t", open_weight_of="m")
    res = compare("m", "M", work(50_000_000), PARAMS, [box_from_spec("2x rtx4090")], lambda b: cap(), [cheap, GPT4O])
    rec = res.recommendation
    assert rec.choice == "cloud"
    assert res.reference_cloud.price.id == "deepinfra"  # like for like: the hosted open-weight endpoint
    assert any("low volume" in r.text for r in rec.reasons)
    assert rec.what_would_change


def test_no_ops_team_forces_the_api_and_names_the_saving_given_up():
    base = compare("m", "M", work(), PARAMS, [box_from_spec("2x rtx4090")], lambda b: cap(), [GPT4O], explicit_cloud=True)
    assert base.recommendation.choice == "self-host"
    noops = compare("m", "M", work(), PARAMS, [box_from_spec("2x rtx4090")], lambda b: cap(), [GPT4O],
                    Constraints(no_ops_team=True), explicit_cloud=True)
    assert noops.recommendation.choice == "cloud"  # a constraint forces it, and says what it costs
    text = next(r.text for r in noops.recommendation.reasons if "--no-ops-team" in r.text)
    saving = GPT4O_MONTHLY - min(base.self_host[0].monthly_usd.total, base.rental[0].monthly_usd.total)
    assert f"${saving:,.0f}/month" in text


GPT4O_MONTHLY = 8750.0


def test_parity_electricity_price_reproduces_equal_costs():
    box = box_from_spec("2x rtx4090")
    o = tco.price_box(box, cap(), work(), PARAMS)
    cloud = 1500.0
    price = breakeven.parity_electricity_usd_per_kwh(o.monthly_usd.total - o.monthly_usd.power, o.energy_kwh, cloud)
    p2 = CostParams(electricity_usd_per_kwh=price)
    assert tco.monthly_total(box, cap(), work(), p2) == pytest.approx(cloud, rel=1e-9)


def test_a_forced_self_host_verdict_states_the_outlay_and_the_running_cost():
    # a finance lead signing for the only compliant option needs the day-one outlay and the monthly cost to run it,
    # not only the amortized monthly total: both must be the option's own figures (units x box price; total less
    # amortization)
    import re

    res = compare("llama3.1:70b", "Llama", work(10**9), PARAMS, [box_from_spec("2x rtx4090")], lambda b: cap(),
                  [GPT4O], Constraints(air_gapped=True))
    o = res.self_host[0]
    text = next(r.text for r in res.recommendation.reasons if r.text.startswith("cheapest compliant option"))
    figures = [float(x.replace(",", "")) for x in re.findall(r"\$([\d,]+) of hardware up front, then \$([\d,]+)/month",
                                                               text)[0]]
    assert o.units > 1 and figures[0] == pytest.approx(o.units * o.box.capex_usd, abs=0.5)
    assert figures[1] == pytest.approx(o.monthly_usd.total - o.monthly_usd.amortization, abs=0.5)
