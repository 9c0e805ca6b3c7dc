"""The shortcuts that make `advisor cost` fast give exactly what the full computation gives (benchmarks/cost_speed.py
measures the time; benchmarks/same_output.py checks the printed bytes on fixed cases; these check random ones)."""
from hypothesis import given, settings, strategies as st

from costkit import priced, work
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.capacity import measured_capacity
from selfhost_advisor.cost.compare import compare
from selfhost_advisor.cost.hybrid import best_hybrid, hybrid_at
from selfhost_advisor.cost.cloud import price_cloud
from selfhost_advisor.cost.sensitivity import verdict_key
from selfhost_advisor.cost.types import Constraints, CostParams

PRICED = ["rtx4090", "2x rtx4090", "rtx5090", "a100-80gb", "2x h100-sxm"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(PRICED), min_size=1, max_size=3, unique=True), st.integers(10**6, 10**11),
       st.floats(1, 6), st.floats(20, 730), st.floats(50, 5000), st.floats(200, 20000), st.floats(0.01, 30),
       st.floats(0.01, 60), st.integers(0, 2), st.sampled_from([Constraints(), Constraints(regulated="hipaa"),
                                                                Constraints(no_ops_team=True),
                                                                Constraints(need_frontier=True),
                                                                Constraints(air_gapped=True)]))
def test_verdict_only_rerun_gives_the_same_verdict_and_totals(specs, tokens, peak, hours, decode, prefill, p_in, p_out,
                                                              spare, constraints):
    # the sensitivity re-runs skip break-even, payback and parity, the reasons, levers and warnings: the verdict, the
    # names it gives and every total agree
    w = work(tokens, peak=peak, hours=hours)
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare)
    args = ("m", "M", w, p, [box_from_spec(s) for s in specs],
            lambda b: measured_capacity(decode, prefill, w, "vllm"), [priced(p_in, p_out)], constraints)
    full, quick = compare(*args, explicit_cloud=True), compare(*args, explicit_cloud=True, verdict_only=True)
    assert verdict_key(quick) == verdict_key(full)
    assert quick.recommendation.choice == full.recommendation.choice
    assert (quick.recommendation.best_self_host, quick.recommendation.best_cloud) == \
        (full.recommendation.best_self_host, full.recommendation.best_cloud)
    assert quick.recommendation.reasons == quick.recommendation.what_would_change == quick.warnings == ()
    for a, b in ((full.self_host, quick.self_host), (full.rental, quick.rental)):
        assert [(o.box.label, o.units, o.monthly_usd) for o in a] == [(o.box.label, o.units, o.monthly_usd) for o in b]
    assert full.hybrid == quick.hybrid


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(PRICED), st.integers(10**6, 10**11), st.floats(1, 8), st.floats(20, 730), st.floats(50, 5000),
       st.floats(200, 20000), st.floats(0.01, 30), st.integers(0, 2))
def test_best_hybrid_is_the_cheapest_of_every_fleet_size(spec, tokens, peak, hours, decode, prefill, usd, spare):
    # best_hybrid bisects (and remembers each fleet size it priced): it must equal pricing every N from 0 to all-owned
    box, w = box_from_spec(spec), work(tokens, peak=peak, hours=hours)
    cap = measured_capacity(decode, prefill, w, "vllm")
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare)
    api = price_cloud(priced(usd, usd), w)
    best = best_hybrid(box, cap, w, p, api)
    every = [hybrid_at(box, cap, w, p, api, n) for n in range(0, best.all_owned_units + 1)]
    assert best in every
    assert best.total_usd <= min(h.total_usd for h in every) + 1e-6
    # the bisection prices totals without building Hybrids: each must be the record's total to the last bit
    from selfhost_advisor.cost.hybrid import _pricer

    total = _pricer(box, cap, w, p, api)[1]
    assert [total(n) for n in range(0, best.all_owned_units + 2)] == [h.total_usd for h in every] + [every[-1].total_usd]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(PRICED), min_size=1, max_size=5, unique=True), st.integers(10**6, 10**11),
       st.floats(1, 8), st.floats(20, 730), st.floats(50, 5000), st.floats(200, 20000), st.floats(0.01, 30),
       st.integers(0, 2), st.floats(0, 1))
def test_cheapest_hybrid_is_the_plain_min_over_every_box(specs, tokens, peak, hours, decode, prefill, usd, spare, kwh):
    # compare() skips a box whose every split costs at least the best so far: the pick must be min()'s, first of equals
    from selfhost_advisor.cost import tco
    from selfhost_advisor.cost.hybrid import cheapest_hybrid

    w = work(tokens, peak=peak, hours=hours)
    p = CostParams(ops_hours_per_box=1.7, spare_units=spare, electricity_usd_per_kwh=kwh)
    cap = measured_capacity(decode, prefill, w, "vllm")
    owned = [tco.price_box(box_from_spec(s), cap, w, p, "buy") for s in specs]
    api = price_cloud(priced(usd, usd), w)
    plain = min((best_hybrid(o.box, o.capacity, w, p, api) for o in owned), key=lambda h: h.total_usd)
    assert cheapest_hybrid(owned, w, p, api) == plain
