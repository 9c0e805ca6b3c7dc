"""The serving estimate as one more unknown of the cost verdict (session 20): every box's throughput times a factor,
searched like the other unknowns, and set against the band published vLLM runs fell in (data/serving.yaml
throughput_band, moe_throughput_band). A verdict whose flip lies inside that band rests on the serving model being
right within its own measured error, and "what would change the verdict" says so."""
import pytest

from costkit import work
from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.capacity import measured_capacity
from selfhost_advisor.cost.compare import compare
from selfhost_advisor.cost.sensitivity import reconcile, scale_capacity, sensitivities, throughput_line, verdict_key
from selfhost_advisor.cost.types import CloudPrice, CostParams
from selfhost_advisor.record import replace
from selfhost_advisor.render.text_cost import sensitivity_lines

API = CloudPrice("api", "API", "x", "m", "mid", 2.5, 10.0, "test", "test")
PARAMS = CostParams(electricity_usd_per_kwh=0.13, pue=1.56, amortize_months=36, ops_hours_per_month=8,
                    ops_usd_per_hour=90, ops_hours_per_box=0.0)


def modelled(w, band=(0.38, 0.89)):
    """A capacity as the serving model gives one: extrapolated, with the band published runs fell in."""
    return replace(measured_capacity(600.0, 4000.0, w, "vllm"), confidence="extrapolated", low_factor=band[0],
                   high_factor=band[1], total_tokens_per_s=700.0, output_tokens_per_s=175.0)


def setup(tokens, band=(0.38, 0.89)):
    w = work(tokens)
    cap = modelled(w, band)
    boxes = [replace(box_from_spec("2x rtx4090"), rental_usd_per_gpu_hour=None)]

    def rerun(w2, p2, b2, pr2, capacity=lambda b: cap, verdict_only=False):
        return compare("m", "M", w2, p2, b2, capacity, pr2, explicit_cloud=True, verdict_only=verdict_only)

    def by_factor(f, verdict_only=True):
        return rerun(w, PARAMS, boxes, [API], capacity=lambda b: scale_capacity(cap, f), verdict_only=verdict_only)

    base = rerun(w, PARAMS, boxes, [API])
    sens = sensitivities(base, boxes, [API], lambda *a: rerun(*a, verdict_only=True), by_factor)
    return reconcile(replace(base, sensitivity=sens)), by_factor


def throughput(c):
    return next(s for s in c.sensitivity if s.parameter == "serving_capacity_factor")


def test_scale_capacity_scales_every_rate_and_nothing_else():
    cap = modelled(work(10**9))
    half = scale_capacity(cap, 0.5)
    assert (half.total_tokens_per_s, half.output_tokens_per_s, half.aggregate_decode_tokens_per_s,
            half.prefill_tokens_per_s) == (350.0, 87.5, 300.0, 2000.0)
    assert (half.low_factor, half.high_factor, half.confidence, half.fits) == (0.38, 0.89, "extrapolated", True)


@pytest.mark.parametrize("tokens", [300_000_000, 2_000_000_000])
def test_the_throughput_flip_is_real_and_the_verdict_holds_short_of_it(tokens):
    c, by_factor = setup(tokens)
    s = throughput(c)
    assert s.value == 1.0 and s.verdict == verdict_key(c)
    flips = [(f, v, t) for f, v, t in ((s.flips_below, s.verdict_below, 1.003), (s.flips_above, s.verdict_above,
                                                                                 1 / 1.003)) if f is not None]
    assert flips, "a 2x RTX 4090 box against a $2.5/$10 API must flip somewhere between x0.2 and x5"
    for flip, verdict, toward in flips:
        assert verdict != s.verdict and verdict_key(by_factor(flip)) == verdict
        assert verdict_key(by_factor(flip * toward)) == s.verdict


@pytest.mark.parametrize("tokens", [300_000_000, 600_000_000, 1_000_000_000, 2_000_000_000])
def test_a_flip_inside_the_measured_band_is_named_in_what_would_change(tokens):
    c, _ = setup(tokens)
    s = throughput(c)
    named = [line for line in c.recommendation.what_would_change if "of the estimated throughput" in line]
    below = s.flips_below is not None and s.flips_below >= 0.38  # the band reaches under the flip
    above = s.flips_above is not None and s.flips_above <= 0.89
    assert len(named) == (below or above)  # one line, naming each flip the band reaches
    for line in named:
        assert "published vLLM runs came in at x0.38-0.89 of our estimate" in line
        assert all(f"x{f:.2f}" in line for f, ok in ((s.flips_below, below), (s.flips_above, above)) if ok)
    if below and not above and s.flips_below > 0.89:  # every published run came in under the flip
        assert "all of them under it" in named[0]
    # the same comparison judged against a band that ends short of both flips: nothing to flag
    lo = max([f * 1.1 for f in (s.flips_below,) if f is not None] + [0.38])
    hi = min([f / 1.1 for f in (s.flips_above,) if f is not None] + [0.89])
    narrow = replace(c, self_host=tuple(
        replace(o, capacity=replace(o.capacity, low_factor=lo, high_factor=max(hi, lo * 1.01))) for o in c.self_host))
    if hi > lo:
        assert throughput_line(narrow) == ()


def test_the_text_shows_the_band_under_the_throughput_line_within_80_columns():
    c, _ = setup(300_000_000)
    lines = sensitivity_lines(c)
    i = next(i for i, line in enumerate(lines) if line.split()[:1] == ["throughput"])
    assert "published vLLM runs: x0.38-0.89 of the estimate" in lines[i + 1]
    assert all(len(line) <= 80 for line in lines)


def test_the_band_names_what_it_was_measured_on_for_each_engine():
    """A llama.cpp / Ollama box's band is the speed model's llama-bench band, not published vLLM runs (session 20
    review: `cost --engine llamacpp` said 'published runs')."""
    c, _ = setup(300_000_000)
    for engine, source in (("vllm", "published vLLM runs"), ("llamacpp", "llama-bench rows"),
                           ("ollama", "llama-bench rows")):
        lines = sensitivity_lines(replace(c, engine=engine))
        i = next(i for i, line in enumerate(lines) if line.split()[:1] == ["throughput"])
        assert lines[i + 1].split(":")[0].strip() == source
        assert all(len(line) <= 80 for line in lines)


def test_a_measured_box_has_no_throughput_line():
    # cost/run.py passes no capacity re-run with --decode-tps / --prefill-tps: the user's own measurement
    w = work(300_000_000)
    cap = measured_capacity(600.0, 4000.0, w, "vllm")
    boxes = [replace(box_from_spec("2x rtx4090"), rental_usd_per_gpu_hour=None)]

    def rerun(w2, p2, b2, pr2, verdict_only=False):
        return compare("m", "M", w2, p2, b2, lambda b: cap, pr2, explicit_cloud=True, verdict_only=verdict_only)

    base = rerun(w, PARAMS, boxes, [API])
    sens = sensitivities(base, boxes, [API], lambda *a: rerun(*a, verdict_only=True))
    assert "serving_capacity_factor" not in {s.parameter for s in sens}
