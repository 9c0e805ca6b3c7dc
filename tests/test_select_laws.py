"""Laws of the selection rule (estimate/select.py), on synthetic option sets and on the README's cases.

The synthetic sets draw quantizations (measured llama.cpp types, or the unmeasured MLX formats), a placement tier
and a decode speed for each; the laws are stated independently of the rule's implementation: what the pick must
never be, whatever the speeds and tiers.
"""
import pytest
from hypothesis import given, settings, strategies as st

from selfhost_advisor import api
from selfhost_advisor.catalog.quants import get_quant, listed_quants
from selfhost_advisor.domain import FitOption, MemoryBreakdown, Placement, Speed
from selfhost_advisor.estimate.mlx import mlx_quants
from selfhost_advisor.estimate.quality import at_least, loss, same_quality_tolerance, usable_tps
from selfhost_advisor.estimate.select import TIERS, Gate, choose, decode_tps, gate, meets, select

LLAMA = listed_quants()
MLX = mlx_quants()


def option(q, tier: str, tps: float | None) -> FitOption:
    mem = MemoryBreakdown(weights_bytes=int(q.rank + 1) * 10**9, kv_cache_bytes=0, compute_buffer_bytes=0,
                          runtime_bytes=0)
    return FitOption(quant=q, memory=mem, placement=Placement(tier, 1, 1, 0, 0),
                     speed=None if tps is None else Speed(tps, None, "calibrated"))


def quality_key(options, o):
    """Independent reading of "better quality": lower measured perplexity change when every option is measured;
    the engine's order (rank) otherwise."""
    losses = [loss(x.quant.name, x.quant.base) for x in options]
    if all(x is not None for x in losses):
        return (loss(o.quant.name, o.quant.base), o.quant.rank)
    return (o.quant.rank,)


@st.composite
def option_sets(draw):
    pool = draw(st.sampled_from([LLAMA, MLX]))
    quants = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8, unique_by=lambda q: q.name))
    quants.sort(key=lambda q: q.rank)
    tiers = st.sampled_from(TIERS + ("no",))
    speeds = st.one_of(st.none(), st.floats(0.2, 120.0))
    return [option(q, draw(tiers), draw(speeds)) for q in quants]


gates = st.builds(gate, st.sampled_from([None, "gpu", "partial", "any"]), st.one_of(st.none(), st.floats(0.5, 60.0)),
                  st.just(None), st.sampled_from([None, None, "Q4_K_M", "IQ3_M", "F16"]))


@settings(max_examples=100, deadline=None)
@given(option_sets(), gates)
def test_pick_meets_every_gate_in_the_best_tier_and_nothing_faster_is_better(options, g):
    pick = choose(options, g)
    eligible = [o for o in options if meets(o, g)]
    if pick.option is None:
        assert not eligible and pick.rule == "none"
        return
    p = pick.option
    assert meets(p, g)  # every gate: tier, --min-tps, --min-quant
    best_tier = next(t for t in g.tiers if any(o.placement.fit == t for o in eligible))
    assert p.placement.fit == best_tier  # gpu > partial > cpu, whatever the speeds
    same = [o for o in eligible if o.placement.fit == best_tier]
    for o in same:  # no eligible option of the tier is at least as fast and better
        if (decode_tps(o) or 0.0) >= (decode_tps(p) or 0.0) and decode_tps(p) is not None:
            assert quality_key(options, o) >= quality_key(options, p), (o.quant.name, p.quant.name)
    floor = g.min_tps if g.min_tps is not None else usable_tps()
    if decode_tps(p) is not None and decode_tps(p) < floor:
        # slow only when nothing in the tier the default floor may trade down to (Q4_K_M or better) is usable
        tradable = [o for o in same if g.min_tps is not None or at_least(o.quant.name, o.quant.base, "Q4_K_M")]
        assert all(decode_tps(o) is not None and decode_tps(o) < floor for o in tradable)
        assert decode_tps(p) >= max((decode_tps(o) for o in tradable), default=0.0)
    top = min(same, key=lambda o: quality_key(options, o))
    if p is not top and (decode_tps(top) is None or decode_tps(top) >= floor):
        # a usable best option is passed over only for one as good by measured loss, and only for a faster one
        assert pick.rule == "same_quality"
        assert loss(p.quant.name, p.quant.base) - loss(top.quant.name, top.quant.base) <= same_quality_tolerance()
        assert (decode_tps(p) or 0.0) >= (decode_tps(top) or 0.0)


@settings(max_examples=100, deadline=None)
@given(option_sets(), st.sampled_from([None, "gpu", "partial", "any"]), st.floats(0.5, 60.0), st.floats(0.5, 60.0))
def test_raising_min_tps_never_picks_a_slower_option(options, require, a, b):
    lo, hi = sorted((a, b))
    p_lo, p_hi = select(options, gate(require, lo)), select(options, gate(require, hi))
    if p_hi is not None:
        assert p_lo is not None and decode_tps(p_hi) >= decode_tps(p_lo)
    # no --min-tps prefers reading speed; an explicit floor at or above it never picks slower
    p_none = select(options, gate(require, None))
    if p_hi is not None and hi >= usable_tps() and decode_tps(p_none) is not None:
        assert decode_tps(p_hi) >= decode_tps(p_none)


# (tier, F16 tok/s, Q8_0 tok/s): the same tier, Q8_0 faster, as a memory-bound decode gives
F16_Q8 = [("gpu", 4.7, 8.3), ("gpu", 51.0, 88.0), ("partial", 1.0, 1.9), ("cpu", 3.0, 5.6), ("gpu", 30.0, 30.5)]


@pytest.mark.parametrize("tier,f16,q8", F16_Q8)
def test_f16_beside_q8_0_picks_q8_0_unless_asked(tier, f16, q8):
    options = [option(get_quant("F16"), tier, f16), option(get_quant("Q8_0"), tier, q8),
               option(get_quant("Q6_K"), tier, q8 * 1.2)]
    pick = choose(options, Gate())
    assert pick.option.quant.name != "F16"  # never the slower of two options as good as each other
    assert select(options, Gate(min_quant="F16")).quant.name == "F16"  # --min-quant F16
    assert select(options[:1], Gate()).quant.name == "F16"  # --quant F16
    # Q6_K is measurably worse: faster alone does not win it the pick while Q8_0 is usable
    if q8 >= usable_tps():
        assert pick.option.quant.name == "Q8_0" and pick.rule == "same_quality" and "as good as F16" in pick.reason()


def test_below_reading_speed_a_faster_option_of_the_same_tier_wins_but_never_one_of_a_worse_tier():
    q = {n: get_quant(n) for n in ("Q8_0", "Q6_K", "Q4_K_M", "IQ3_M")}
    opts = [option(q["Q8_0"], "partial", 1.1), option(q["Q6_K"], "partial", 1.6),
            option(q["Q4_K_M"], "partial", 6.0), option(q["IQ3_M"], "partial", 9.0)]
    pick = choose(opts, Gate())
    assert pick.option.quant.name == "Q4_K_M" and pick.rule == "usable_speed"  # best quality that is usable
    assert "Q8_0: 1.1" in pick.reason()
    gpu = opts[:3] + [option(q["IQ3_M"], "gpu", 40.0)]
    assert select(gpu, Gate()).quant.name == "IQ3_M"  # a GPU fit of an eligible quant beats any partial offload
    slow = [option(q["Q8_0"], "cpu", 0.9), option(q["Q4_K_M"], "cpu", 2.0), option(q["IQ3_M"], "cpu", 2.6)]
    pick = choose(slow, Gate())
    # nothing usable: the fastest down to Q4_K_M (llama.cpp's recommended type), not the 3-bit IQ3_M
    assert pick.option.quant.name == "Q4_K_M" and pick.rule == "fastest" and "the best quality, Q8_0, decodes at 0.9" in pick.reason()
    assert choose(slow[2:], Gate()).option.quant.name == "IQ3_M"  # nothing at Q4_K_M or better: the best there is
    assert choose(slow, gate(None, 0.5)).option.quant.name == "Q8_0"  # --min-tps 0.5: the user's own floor
    assert choose(slow, gate(None, 2.5)).option.quant.name == "IQ3_M"  # --min-tps trades down to --min-quant


# README-like cases: (model, hardware, extra fit arguments, the old pick it must not be, a check on the new one)
CASES = [
    ("qwen2.5:72b", "m2-ultra-192gb", {}, "F16", lambda o: o.quant.name == "Q8_0"),
    ("qwen3:32b", "m2-ultra-192gb", {}, "F16", lambda o: o.quant.name == "Q8_0"),
    ("deepseek-r1:70b", "rtx4090", {"ram": "64GB"}, "Q8_0", lambda o: decode_tps(o) > 2 * 1.1 and o.quant.name in
     ("Q6_K", "Q5_K_M", "Q5_K_S", "Q5_0", "Q4_K_M")),
    ("llama3.1:8b", "rtx4090", {}, "F16", lambda o: o.quant.name == "Q8_0"),
]


@pytest.mark.parametrize("model,hw,kw,old,ok", CASES)
def test_readme_cases_pick_what_a_user_should_run(model, hw, kw, old, ok):
    r = api.fit(model, hw, **kw)
    pick = next(o for o in r.options if o.quant.name == r.recommended)
    assert r.recommended != old and ok(pick), (r.recommended, r.pick.reason())
    assert r.pick.option is pick and r.pick.reason()
    # the slower options stay in the table
    assert old in [o.quant.name for o in r.options]


def test_asking_for_f16_still_gets_f16():
    assert api.fit("qwen2.5:72b", "m2-ultra-192gb", min_quant="F16").recommended == "F16"
    assert api.fit("qwen2.5:72b", "m2-ultra-192gb", quant="F16").recommended == "F16"
