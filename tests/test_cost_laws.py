"""Laws of the cost verdict (issue 14): caching never raises a cloud bill; a spare box never lowers cost; the priced
hybrid never costs more than all-owned or all-API; more peak-to-average never lowers a self-host cost; the verdict
is the kind of the cheapest option shown beside it. Plus a hybrid worked case computed by hand
(docs/methodology.md, "Worked hybrid case")."""
import pytest
from hypothesis import given, settings, strategies as st

from selfhost_advisor.cost import tco
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.capacity import measured_capacity
from selfhost_advisor.cost.cloud import cloud_monthly_usd, contract_price, price_cloud, resolve_cloud
from selfhost_advisor.cost.compare import compare
from selfhost_advisor.cost.hybrid import best_hybrid, hybrid_at
from selfhost_advisor.cost.traffic import overflow_tokens
from costkit import priced, work
from selfhost_advisor.cost.types import Box, CloudPrice, CostParams, Workload
from selfhost_advisor.record import replace


usd = st.floats(0.0, 100.0, allow_nan=False)
share = st.floats(0.0, 1.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(usd, usd, usd, usd, usd, usd, share, share, share, st.integers(1, 10**12))
def test_caching_never_raises_a_cloud_bill(i, o, c, bi, bo, bc, x1, x2, b, tokens):
    # whatever a provider lists (even a "cached" price above the input price), more cache hits never cost more
    # (to float rounding: a bill of 10^12 tokens carries ulps of 1e-9 relative, hence the relative slack)
    lo, hi = sorted((x1, x2))
    p = priced(i, o, c=c, bi=bi, bo=bo, bc=bc)
    assert cloud_monthly_usd(p, work(tokens, cached=hi, batch=b)) <= cloud_monthly_usd(p, work(tokens, cached=lo, batch=b)) * (1 + 1e-12) + 1e-9
    # nor does batching, nor caching against no caching at all
    assert cloud_monthly_usd(p, work(tokens, cached=lo, batch=max(b, 0.5))) <= cloud_monthly_usd(p, work(tokens, cached=lo, batch=min(b, 0.5))) * (1 + 1e-12) + 1e-9
    assert cloud_monthly_usd(p, work(tokens, cached=hi, batch=b)) <= cloud_monthly_usd(priced(i, o), work(tokens)) * (1 + 1e-12) + 1e-9


@pytest.mark.parametrize("cloud_id", ["gpt-4o", "claude-sonnet-5-5", "gpt-5", "together/llama3.3:70b",
                                      "groq/llama3.1:70b", "deepinfra/llama3.1:70b"])
def test_caching_and_batching_never_raise_a_listed_price(cloud_id):
    p = resolve_cloud(cloud_id, work())
    bills = [cloud_monthly_usd(p, work(cached=x, batch=b)) for x in (0, 0.5, 1) for b in (0, 0.5, 1)]
    base = bills[0]
    assert all(bill <= base + 1e-9 for bill in bills)


def test_cached_and_batch_prices_come_from_genai_prices_or_a_sourced_discount():
    pytest.importorskip("genai_prices")
    gpt4o = resolve_cloud("gpt-4o", work())
    # OpenAI GPT-4o (genai-prices 0.2.5): $2.50 in, $1.25 cached in, batch $1.25 / $5
    assert (gpt4o.cached_input_usd_per_mtok, gpt4o.batch_input_usd_per_mtok, gpt4o.batch_output_usd_per_mtok) == \
        pytest.approx((1.25, 1.25, 5.0))
    # Groq lists no batch price in genai-prices; its docs give a 25% batch discount (data/prices.yaml)
    groq = resolve_cloud("groq/llama3.3:70b", work())
    assert groq.batch_input_usd_per_mtok == pytest.approx(0.75 * groq.input_usd_per_mtok)
    assert "console.groq.com/docs/batch" in groq.batch_source
    # half the GPT-4o requests through the batch API: 1.5e9 x (0.5 x 2.5 + 0.5 x 1.25) + 5e8 x (0.5 x 10 + 0.5 x 5)
    assert cloud_monthly_usd(gpt4o, work(batch=0.5)) == pytest.approx(1.5e3 * 1.875 + 5e2 * 7.5)


def cap(decode=600.0, prefill=4000.0):
    return measured_capacity(decode, prefill, work(), "vllm")


PRICED = ["rtx4090", "2x rtx4090", "rtx5090", "a100-80gb", "2x h100-sxm"]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PRICED), st.integers(1, 10**11), st.integers(0, 5), st.floats(1, 8), st.floats(20, 730),
       st.floats(50, 5000), st.floats(200, 20000))
def test_a_spare_box_never_lowers_cost(spec, tokens, spare, peak, hours, decode, prefill):
    box, c, w = box_from_spec(spec), cap(decode, prefill), work(tokens, peak=peak, hours=hours)
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare)
    more = replace(p, spare_units=spare + 1)
    assert tco.monthly_total(box, c, w, more) >= tco.monthly_total(box, c, w, p)
    api = price_cloud(contract_price(0.9, 0.9), w)
    assert best_hybrid(box, c, w, more, api).total_usd >= best_hybrid(box, c, w, p, api).total_usd - 1e-6


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PRICED), st.integers(1, 10**11), st.floats(1, 6), st.floats(1, 6), st.floats(20, 730),
       st.floats(50, 5000), st.floats(200, 20000), st.floats(0.05, 20))
def test_more_peak_to_average_never_lowers_self_host_cost(spec, tokens, r1, r2, hours, decode, prefill, api_usd):
    lo, hi = sorted((r1, r2))
    box, c = box_from_spec(spec), cap(decode, prefill)
    p = CostParams(ops_hours_per_box=1.7)
    w_lo, w_hi = work(tokens, peak=lo, hours=hours), work(tokens, peak=hi, hours=hours)
    assert tco.monthly_total(box, c, w_hi, p) >= tco.monthly_total(box, c, w_lo, p)
    assert tco.monthly_total(box, c, w_hi, p, "rent") >= tco.monthly_total(box, c, w_lo, p, "rent")
    api = contract_price(api_usd, api_usd)
    h_lo = best_hybrid(box, c, w_lo, p, price_cloud(api, w_lo)).total_usd
    h_hi = best_hybrid(box, c, w_hi, p, price_cloud(api, w_hi)).total_usd
    assert h_hi >= h_lo - 1e-6 * max(1.0, h_lo)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PRICED), st.integers(1, 10**11), st.floats(1, 8), st.floats(20, 730), st.floats(50, 5000),
       st.floats(200, 20000), st.floats(0.01, 30), st.integers(0, 2))
def test_hybrid_never_costs_more_than_all_owned_or_all_api(spec, tokens, peak, hours, decode, prefill, api_usd, spare):
    box, c, w = box_from_spec(spec), cap(decode, prefill), work(tokens, peak=peak, hours=hours)
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare)
    api = price_cloud(contract_price(api_usd, api_usd), w)
    h = best_hybrid(box, c, w, p, api)
    owned = tco.monthly_total(box, c, w, p)
    assert h.total_usd <= min(owned, api.monthly_usd) + 1e-6 * max(1.0, owned)
    # and the two ends of the search are the pure options, priced the same way
    assert hybrid_at(box, c, w, p, api, 0).total_usd == pytest.approx(api.monthly_usd)
    assert hybrid_at(box, c, w, p, api, h.all_owned_units).total_usd == pytest.approx(owned)
    # the optimum is a true minimum over every split
    every = [hybrid_at(box, c, w, p, api, n).total_usd for n in range(0, min(h.all_owned_units, 60) + 1)]
    assert h.total_usd <= min(every) + 1e-6 * max(1.0, h.total_usd)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10**13), st.floats(1, 20), st.floats(1, 730), st.floats(0, 1e12), st.floats(0, 1e12))
def test_overflow_is_between_zero_and_the_month_and_falls_as_capacity_grows(tokens, peak, hours, k1, k2):
    lo, hi = sorted((k1, k2))
    o_lo, o_hi = overflow_tokens(tokens, hours, peak, lo), overflow_tokens(tokens, hours, peak, hi)
    assert 0 <= o_hi <= o_lo <= tokens * (1 + 1e-12)
    assert overflow_tokens(tokens, hours, peak, 0) == pytest.approx(tokens)
    assert overflow_tokens(tokens, hours, peak, tokens / hours * peak) == 0


def _cheapest_kinds(res):
    """Kinds whose priced option is the cheapest shown (read off the comparison's own numbers)."""
    rows = [(o.monthly_usd.total, "self-host") for o in (*res.self_host[:1], *res.rental[:1])]
    if res.hybrid is not None and res.hybrid.is_mix:
        rows.append((res.hybrid.total_usd, "hybrid"))
    if res.hybrid is not None and res.hybrid.is_tail:  # boxes short only inside the busiest hour: owning them
        rows.append((res.hybrid.total_usd, "self-host"))
    if res.reference_cloud is not None:
        rows.append((res.reference_cloud.monthly_usd, "cloud"))
    best = min(r[0] for r in rows)
    return {kind for usd_, kind in rows if usd_ <= best * (1 + 1e-9) + 1e-9}


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(PRICED), min_size=1, max_size=3, unique=True), st.integers(10**6, 10**11),
       st.floats(1, 6), st.floats(20, 730), st.floats(50, 5000), st.floats(200, 20000), st.floats(0.01, 30),
       st.floats(0.01, 60), st.integers(0, 2), st.floats(0, 1), st.floats(0, 1))
def test_the_verdict_is_the_kind_of_the_cheapest_option_shown(specs, tokens, peak, hours, decode, prefill, p_in, p_out,
                                                               spare, cached, batch):
    w = work(tokens, peak=peak, hours=hours, cached=cached, batch=batch)
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare)
    api = priced(p_in, p_out, c=p_in / 10, bi=p_in / 2, bo=p_out / 2)
    res = compare("m", "M", w, p, [box_from_spec(s) for s in specs], lambda b: cap(decode, prefill), [api],
                  explicit_cloud=True)
    assert res.recommendation.choice in _cheapest_kinds(res)
    # and its reasons name the money
    assert all("$" in r.text for r in res.recommendation.reasons if r.weight == 50)


def _hand_hybrid_case():
    """(box, workload, params, capacity) of the worked hybrid case (test_hybrid_worked_case_by_hand's arithmetic)."""
    box = Box(label="gpu", profile_id="x", gpus=1, gpu_price_usd=3000.0, host_price_usd=600.0, gpu_tdp_watts=100.0,
              host_active_watts=0.0, host_idle_watts=0.0)
    w = Workload(monthly_tokens=1_584_000_000, output_share=0.25, peak_to_average=2.0, active_hours_per_month=176.0)
    p = CostParams(electricity_usd_per_kwh=0.0, pue=1.0, amortize_months=36, ops_hours_per_month=8, ops_usd_per_hour=90,
                   ops_hours_per_box=2.0)
    return box, w, p, measured_capacity(1000.0, 1000.0, w, "vllm")


def test_hybrid_worked_case_by_hand():
    """docs/methodology.md "Worked hybrid case"; every number below is computed by hand, not read from the code.

    Box: one GPU at $3,000 + $600 host = $3,600 over 36 months = $100/month; electricity $0 (power $0); operations
    8 h fixed + 2 h per box at $90 = $720 + $180 per box. Measured 1,000 tokens/s prefill and decode -> 1,000 tokens/s
    of the mix = 3.6M tokens per box-hour. Traffic: 1.584B tokens over 176 h, peak 2x: average 9M/h, peak 18M/h ->
    5 boxes all owned. Load-duration line from 18M/h down to 0 over 176 h, slope 2 x 9M / 176 = 102,272.73 /h.
    Overflow above K: (18M - K)^2 / (2 x 102,272.73): K = 14.4M (4 boxes) -> 12.96e12 / 204,545.45 = 63.36M tokens.
    API at $2/Mtok in and out. Totals by N: 0: $3,168; 1: 1,000 + 2,027.52 = $3,027.52; 2: 1,280 + 1,140.48 = $2,420.48;
    3: 1,560 + 506.88 = $2,066.88; 4: 1,840 + 126.72 = $1,966.72; 5: $2,120. Cheapest: 4 boxes + API -> HYBRID.
    """
    box, w, p, c = _hand_hybrid_case()
    res = compare("m", "M", w, p, [box], lambda b: c, [contract_price(2.0, 2.0)], explicit_cloud=True)
    h = res.hybrid
    assert res.self_host[0].units == 5 and res.self_host[0].monthly_usd.total == pytest.approx(2120.0)
    assert res.reference_cloud.monthly_usd == pytest.approx(3168.0)
    assert h.base_units == 4 and h.overflow_tokens == pytest.approx(63_360_000, abs=1)
    assert (h.self_host_usd, h.api_overflow_usd, h.total_usd) == pytest.approx((1840.0, 126.72, 1966.72))
    by_n = [hybrid_at(box, c, w, p, res.reference_cloud, n).total_usd for n in range(6)]
    assert by_n == pytest.approx([3168.0, 3027.52, 2420.48, 2066.88, 1966.72, 2120.0])
    assert res.recommendation.choice == "hybrid"
    text = res.recommendation.reasons[0].text
    assert "$1,967" in text and "$2,120" in text and "$3,168" in text
    # what would change it speaks of the hybrid that wins: all owned wins if the hybrid costs 2,120/1,966.72 = 7.8%
    # more; the API alone wins at a price cut d with 3,168 (1 - d) < 1,840 + 126.72 (1 - d): d > 1 - 1,840/3,041.28
    # = 39.499%
    changes = res.recommendation.what_would_change
    assert "5 bought boxes of gpu wins if hybrid" in changes[0] and "costs 8% more than estimated" in changes[0]
    assert any("the API alone wins if contract cuts prices by 39%" in c for c in changes)


def test_a_forcing_constraint_says_what_the_verdict_would_be_without_it():
    from selfhost_advisor.cost.types import Constraints

    frontier = CloudPrice("f", "F", "x", "f", "frontier", 10.0, 50.0, "t", "t")
    res = compare("m", "M", work(), CostParams(), [box_from_spec("2x rtx4090")], lambda b: cap(), [frontier],
                  Constraints(need_frontier=True), explicit_cloud=True)
    assert res.recommendation.choice == "cloud"
    assert res.recommendation.what_would_change[0].startswith("without --need-frontier the verdict would be")


@pytest.mark.parametrize("reg", ["hipaa", "gdpr"])
def test_regulated_excludes_rented_gpus_like_apis(reg):
    from selfhost_advisor.cost.types import Constraints

    res = compare("m", "M", work(), CostParams(), [box_from_spec("2x rtx4090")], lambda b: cap(),
                  [contract_price(0.5, 0.5)], Constraints(regulated=reg))
    assert res.rental == () and res.recommendation.choice == "self-host"
    assert "rented cloud GPU is a third party" in res.recommendation.reasons[0].text


def test_payback_beyond_the_amortization_is_not_a_win():
    # one 2x RTX 4090 box round the clock at 300 tokens/s decode: running it costs power + (8 + 1.7) h x $90 of
    # operations; against an API at $3.30/Mtok ($990/month) the saving repays the $4,512 only after ~5 years
    w = work(300_000_000, peak=1.0, hours=730.0)
    res = compare("m", "M", w, CostParams(ops_hours_per_box=1.7), [box_from_spec("2x rtx4090", gpu_price=1599)],
                  lambda b: cap(300, 2000), [contract_price(3.3, 3.3)], explicit_cloud=True)
    o = res.self_host[0]
    running = o.monthly_usd.power + o.monthly_usd.operations
    assert o.payback_months == pytest.approx(4512 / (990 - running)) and o.payback_months > 36
    assert res.recommendation.choice == "cloud"
    assert any("beyond its 36-month amortization: not a win" in r.text for r in res.recommendation.reasons)


@settings(max_examples=60, deadline=None)
@given(st.integers(10**6, 10**11), st.floats(0.05, 20), st.floats(50, 5000))
def test_payback_within_the_amortization_iff_owning_is_cheaper_than_the_api(tokens, api_usd, decode):
    w = work(tokens, peak=1.0, hours=730.0)
    res = compare("m", "M", w, CostParams(ops_hours_per_box=1.7), [box_from_spec("2x rtx4090")],
                  lambda b: cap(decode, 4000), [contract_price(api_usd, api_usd)], explicit_cloud=True)
    o = res.self_host[0]
    within = o.payback_months is not None and o.payback_months <= 36
    assert within == (o.monthly_usd.total <= res.reference_cloud.monthly_usd)


def test_a_hybrid_verdict_gives_the_payback_of_the_boxes_it_buys():
    """The hybrid recommends buying 4 boxes, so its payback is theirs, not the 5-box all-owned fleet's. By hand (the
    setup of the hybrid test above): 4 x $3,600 = $14,400 up front; amortization 4 x 3,600/36 = $400 of the hybrid's
    $1,966.72, so it runs at $1,566.72 a month against $3,168 all API: 14,400 / 1,601.28 = 8.99 months."""
    box, w, p, c = _hand_hybrid_case()
    res = compare("m", "M", w, p, [box], lambda b: c, [contract_price(2.0, 2.0)], explicit_cloud=True)
    assert res.recommendation.choice == "hybrid"
    text = next(r.text for r in res.recommendation.reasons if r.text.startswith("priced hybrid"))
    assert "$14,400 of hardware pays back in 9 months" in text and "within the 36-month" in text


def test_the_hybrid_row_and_json_carry_the_payback_of_the_boxes_it_buys():
    """The table's payback column and --json's hybrid.payback_months give the hybrid's own payback (was blank / absent
    while reason 2 gave it): the hand-worked case, 14,400 / (3,168 - (1,966.72 - 400)) = 8.99 months."""
    from rich.console import Console

    from selfhost_advisor.render.cost_json import hybrid_dict
    from selfhost_advisor.render.text_cost import _table

    box, w, p, c = _hand_hybrid_case()
    res = compare("m", "M", w, p, [box], lambda b: c, [contract_price(2.0, 2.0)], explicit_cloud=True)
    assert hybrid_dict(res.hybrid, w.monthly_tokens, res)["payback_months"] == pytest.approx(14_400 / 1_601.28, abs=0.01)
    con = Console(width=200, record=True)
    con.print(_table(res))
    row = next(line for line in con.export_text().splitlines() if line.lstrip().startswith(f"{box.label} + "))
    assert row.rstrip(" │").endswith("9.0 mo")
    # the 5-box all-owned fleet is another purchase: its own row keeps its own payback
    assert res.self_host[0].payback_months != pytest.approx(14_400 / 1_601.28, abs=0.01)
