"""docs/methodology.md "Worked case, end to end": `advisor cost` on a fully specified case, recomputed here from the
published prices and the formulas in the methodology, in plain arithmetic, without calling the cost code (only the CLI's
JSON is read). Every figure in the doc is asserted, and the sensitivity flips are found again by scanning an
independent re-implementation of the verdict (buy, rent, hybrid, API: the cheapest wins)."""
import json
import math

import pytest

from selfhost_advisor.cli import main

ARGV = ["cost", "-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "600", "--prefill-tps", "4000", "--gpu-price", "1599",
        "--cloud", "claude-sonnet-5-5", "--cached-input-share", "0.5", "--cache-write-share", "0.1",
        "--price-date", "2026-12-05", "--json"]

# Inputs, each from its source (docs/methodology.md, data/*.yaml, genai-prices 0.2.5):
GPU_USD, HOST_USD, GPUS = 1599.0, 1314.0, 2  # RTX 4090 launch MSRP, given (its catalog price until session 33); workstation host
TDP, HOST_ACTIVE, HOST_IDLE, IDLE_SHARE = 450.0, 200.0, 60.0, 0.12
KWH_USD, PUE, MONTHS, H_MONTH = 0.13, 1.56, 36.0, 730.0
OPS_FIXED_H, OPS_BOX_H, OPS_RATE = 8.0, 1.7, 90.0
ACTIVE_H, PEAK = 176.0, 2.0
SHARE_OUT = 500 / 2000
SEC_PER_TOKEN = (1 - SHARE_OUT) / 4000 + SHARE_OUT / 600  # measured prefill 4,000 and decode 600 tokens/s
RENT_GPU_H = 0.575  # median of the 4 RTX 4090 quotes in data/cost.yaml: (0.55 + 0.60) / 2
# Claude Sonnet 5.5: $2 input, $0.10 cache read, $2.50 cache write, $10 output per Mtok; 50% read, 10% written
API_PER_TOKEN = ((1 - SHARE_OUT) * (0.4 * 2.0 + 0.5 * 0.10 + 0.1 * 2.50) + SHARE_OUT * 10.0) / 1e6

IDLE_W = GPUS * TDP * IDLE_SHARE + HOST_IDLE  # 168 W
ACTIVE_W = GPUS * TDP + HOST_ACTIVE  # 1,100 W
BOX_USD = GPUS * GPU_USD + HOST_USD  # $4,512
PER_BOX = int(ACTIVE_H * 3600 / PEAK / SEC_PER_TOKEN)  # tokens one box serves a month at the peak


def units(t):
    return max(1, math.ceil(t / PER_BOX))


def owned(n, served, kwh=KWH_USD, gpu_factor=1.0, ops=1.0, months=MONTHS):
    busy = served * SEC_PER_TOKEN / 3600
    energy = (n * IDLE_W * H_MONTH + (ACTIVE_W - IDLE_W) * busy) / 1000 * PUE
    box = GPUS * GPU_USD * gpu_factor + HOST_USD
    return n * box / months + energy * kwh + (OPS_FIXED_H + OPS_BOX_H * n) * OPS_RATE * ops


def overflow(t, n):  # linear load-duration curve, peak 2x: from 2a down to 0 over the active hours
    a = t / ACTIVE_H
    k = n * 3600 / SEC_PER_TOKEN
    slope = 2 * (PEAK - 1) * a / ACTIVE_H
    return 0.0 if k >= PEAK * a else (PEAK * a - k) ** 2 / (2 * slope)


def overflow_hours(t, n):  # hours in which the load line 2a - slope x h lies above n boxes
    a = t / ACTIVE_H
    k = n * 3600 / SEC_PER_TOKEN
    return max(0.0, (PEAK * a - k) / (2 * (PEAK - 1) * a / ACTIVE_H))


def options(t, kwh=KWH_USD, gpu_factor=1.0, ops=1.0, months=MONTHS):
    n = units(t)
    out = {"self-host (buy)": owned(n, t, kwh, gpu_factor, ops, months),
           "self-host (rent)": n * GPUS * RENT_GPU_H * ACTIVE_H + (OPS_FIXED_H + OPS_BOX_H * n) * OPS_RATE * ops,
           "cloud": t * API_PER_TOKEN}
    splits = {m: owned(m, t - overflow(t, m), kwh, gpu_factor, ops, months) + overflow(t, m) * API_PER_TOKEN
              for m in range(1, n)}
    # a split is a hybrid when the API serves in at least 1 hour of the month (data/cost.yaml
    # hybrid_min_overflow_hours); boxes short only inside the busiest hour are owning those boxes
    mixes = [usd for m, usd in splits.items() if overflow_hours(t, m) >= 1.0]
    tails = [usd for m, usd in splits.items() if overflow_hours(t, m) < 1.0]
    if mixes:
        out["hybrid"] = min(mixes)
    if tails:
        out["self-host (buy)"] = min(out["self-host (buy)"], *tails)
    return out


def verdict(t, **kw):
    opts = options(t, **kw)
    return min(opts, key=opts.get)


@pytest.fixture(scope="module")
def result():
    import io
    import contextlib

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(ARGV) == 0
    return json.loads(buf.getvalue())


def test_every_figure_of_the_worked_case(result):
    t = 1_000_000_000
    o, r, api = result["self_host"][0], result["rental"][0], result["cloud"][0]
    assert PER_BOX == 524_358_620 and o["capacity_tokens_per_month"] == PER_BOX
    assert o["units"] == units(t) == 2
    busy = t * SEC_PER_TOKEN / 3600  # 167.82 box-hours
    assert o["busy_hours_per_month"] == pytest.approx(busy, abs=0.01)
    energy = (2 * IDLE_W * H_MONTH + (ACTIVE_W - IDLE_W) * busy) / 1000 * PUE  # 626.64 kWh
    assert o["energy_kwh"] == pytest.approx(energy, abs=0.01)
    m = o["monthly_usd"]
    assert (m["amortization"], m["power"], m["operations"]) == pytest.approx(
        (2 * BOX_USD / MONTHS, energy * KWH_USD, (8 + 1.7 * 2) * 90), abs=0.006)  # 250.67, 81.46, 1,026
    assert m["total"] == pytest.approx(owned(2, t), abs=0.01) == pytest.approx(1358.13, abs=0.01)
    assert r["units"] == 2 and r["usd_per_gpu_hour"] == RENT_GPU_H
    assert r["monthly_usd"]["total"] == pytest.approx(2 * 2 * 0.575 * 176 + 1026, abs=0.01)  # 404.80 + 1,026
    assert api["monthly_usd"] == pytest.approx(t * API_PER_TOKEN) == pytest.approx(3325.0)  # 825 + 2,500
    assert result["recommendation"]["choice"] == "self-host"
    # the hybrid with one box: 226.2M tokens overflow above 5.96M tokens/h, $1,800 > $1,358 all owned: no mix
    assert overflow(t, 1) == pytest.approx(226.2e6, rel=1e-3)
    assert options(t)["hybrid"] == pytest.approx(1799.97, abs=0.05)
    assert result["hybrid"]["is_mix"] is False
    # payback: capex / (API - power - operations); break-even on one box: (A + B) / (c - v)
    assert o["payback_months"] == pytest.approx(2 * BOX_USD / (3325.0 - energy * KWH_USD - 1026.0), abs=0.01)  # 4.07
    a = BOX_USD / MONTHS + IDLE_W * H_MONTH / 1000 * PUE * KWH_USD + OPS_BOX_H * OPS_RATE  # $303.20 per box
    v = (ACTIVE_W - IDLE_W) / 1000 * PUE * KWH_USD * SEC_PER_TOKEN / 3600  # $/token of busy power
    t_star = (a + OPS_FIXED_H * OPS_RATE) / (API_PER_TOKEN - v)  # 310.7M tokens/month
    assert o["break_even_monthly_tokens"] == pytest.approx(t_star, rel=1e-6)


def _scan(v0, toward, step, at):
    """First value from v0 towards `toward` (geometric steps) whose verdict differs."""
    base, v = at(v0), v0
    while (v < toward) if toward > v0 else (v > toward):
        v = v * step if toward > v0 else v / step
        if at(v) != base:
            return v, at(v)
    return None, None


def test_sensitivity_flips_match_an_independent_scan(result):
    s = {x["parameter"]: x for x in result["sensitivity"]}
    t0 = 1e9
    for flips, verdict_key, toward in (("flips_below", "verdict_below", t0 / 100), ("flips_above", "verdict_above", t0 * 100)):
        got, who = _scan(t0, toward, 1.0002, lambda t: verdict(int(t)))
        assert s["monthly_tokens"][flips] == pytest.approx(got, rel=2e-3) and s["monthly_tokens"][verdict_key] == who
    # electricity: buying stops winning where 1,276.67 + 626.64 kWh x e = 1,430.80 (renting): e = $0.2460/kWh
    got, who = _scan(KWH_USD, 2.6, 1.0002, lambda e: verdict(t0, kwh=e))
    assert got == pytest.approx(0.2460, abs=2e-4) and who == "self-host (rent)"
    assert s["electricity_usd_per_kwh"]["flips_above"] == pytest.approx(got, rel=2e-3)
    assert s["electricity_usd_per_kwh"]["verdict_above"] == who
    # GPU price: 177.67 f + 1,180.46 = 1,430.80 at f = 1.409
    got, who = _scan(1.0, 10.0, 1.0002, lambda f: verdict(t0, gpu_factor=f))
    assert got == pytest.approx(1.409, abs=1e-3) and who == "self-host (rent)"
    assert s["gpu_price_factor"]["flips_above"] == pytest.approx(got, rel=2e-3)
    # hardware life: buying costs 2 x $4,512 / n + $1,107.46 (power and operations); renting ($1,430.80) wins below
    # n = 9,024 / 323.34 = 27.91 months; a longer life only makes buying cheaper (none up to 120)
    got, who = _scan(MONTHS, 6.0, 1.0002, lambda n: verdict(t0, months=n))
    assert got == pytest.approx(27.91, abs=0.01) and who == "self-host (rent)"
    assert s["amortize_months"]["flips_below"] == pytest.approx(got, rel=2e-3)
    assert s["amortize_months"]["verdict_below"] == who and s["amortize_months"]["flips_above"] is None
    # operations: buying costs $332.13 + $1,026 x f; the API ($3,325) wins from f = 2,992.87 / 1,026 = 2.917
    got, who = _scan(1.0, 10.0, 1.0002, lambda f: verdict(t0, ops=f))
    assert got == pytest.approx(2.917, abs=1e-3) and who == "cloud"
    assert s["ops_cost_factor"]["flips_above"] == pytest.approx(got, rel=2e-3)
