"""Payback as a finance lead signs it (session 31, cost31): the monthly saving that repays the hardware is the API bill
less everything the boxes cost a month once bought (power, operations and colocation space), so that a payback within
the amortization means what the monthly totals say. Expected values are worked by hand below from the catalog's
figures for one 2x H100 SXM box (data/hardware.yaml: $27,500 a GPU, 700 W TDP; data/cost.yaml data-centre host:
$4,000, 150 W active / 50 W idle per GPU slot) and a measured capacity, not read off the code."""
import pytest

from selfhost_advisor.cost.boxes import box_from_spec
from selfhost_advisor.cost.capacity import measured_capacity
from selfhost_advisor.cost.cloud import contract_price
from selfhost_advisor.cost.compare import compare
from selfhost_advisor.cost.types import CostParams
from costkit import work

# One box, round the clock at a flat load (peak/average 1), 1e9 tokens a month, a quarter of them output.
# Measured 2,000 decode and 8,000 prefill tokens/s: R = 1 / (0.75/8000 + 0.25/2000) = 4,571.43 tokens/s, so the
# box carries 730 x 3600 x 4571.43 = 12.0B tokens a month (one box) and is busy 1e9 / 4571.43 / 3600 = 60.764 h.
TOKENS = 1_000_000_000
CAPEX = 2 * 27_500 + 2 * 4_000                      # $63,000
AMORT = CAPEX / 36                                  # $1,750.00 a month
BUSY_H = TOKENS / (1 / (0.75 / 8000 + 0.25 / 2000)) / 3600
IDLE_W = 2 * 700 * 0.12 + 2 * 50                     # 268 W all month
ACTIVE_W = 2 * 700 + 2 * 150                         # 1,700 W while busy
POWER = (IDLE_W * 730 + (ACTIVE_W - IDLE_W) * BUSY_H) / 1000 * 1.56 * 0.13   # $57.32
OPS = 8 * 90                                         # CostParams default: 8 fixed hours x $90, no hours per box
API = 8_750.0                                        # $8.75/Mtok in and out: 1e9 tokens


def _run(params):
    w = work(TOKENS, peak=1.0, hours=730.0)
    res = compare("m", "M", w, params, [box_from_spec("2x h100-sxm")],
                  lambda b: measured_capacity(2000, 8000, w, "vllm"), [contract_price(8.75, 8.75)],
                  explicit_cloud=True)
    return res, res.self_host[0]


def test_hand_worked_box_before_any_finance_option():
    _, o = _run(CostParams())
    assert o.units == 1
    assert POWER == pytest.approx(57.32, abs=0.01)
    assert o.monthly_usd.total == pytest.approx(AMORT + POWER + OPS, rel=1e-6)
    assert o.payback_months == pytest.approx(CAPEX / (API - POWER - OPS), rel=1e-6)   # 7.902 months


def test_colocation_space_is_paid_out_of_the_saving_that_repays_the_hardware():
    # $3,000 a month of rack space: the saving is 8,750 - 57.32 - 720 - 3,000 = $4,972.68, so 63,000 / 4,972.68 =
    # 12.67 months (the space was left out: 63,000 / 7,972.68 = 7.90 months)
    _, o = _run(CostParams(space_usd_per_box=3000.0))
    assert o.monthly_usd.space == 3000.0
    assert o.payback_months == pytest.approx(CAPEX / (API - POWER - OPS - 3000.0), rel=1e-6)
    assert o.payback_months == pytest.approx(12.669, abs=0.01)


def test_space_that_makes_owning_dearer_than_the_api_never_pays_back_within_the_amortization():
    # $7,000 of space: owning costs 1,750 + 57.32 + 720 + 7,000 = $9,527.32 a month against the API's $8,750, so the
    # hardware cannot pay back within its 36 months: 63,000 / (8,750 - 7,777.32) = 64.8 months (was 7.9, "a win")
    res, o = _run(CostParams(space_usd_per_box=7000.0))
    assert o.monthly_usd.total == pytest.approx(AMORT + POWER + OPS + 7000.0, rel=1e-6)
    assert o.monthly_usd.total > API
    assert o.payback_months == pytest.approx(CAPEX / (API - POWER - OPS - 7000.0), rel=1e-6)
    assert o.payback_months == pytest.approx(64.77, abs=0.01) and o.payback_months > 36
    assert any("beyond its 36-month amortization" in r.text for r in res.recommendation.reasons)


def test_space_above_the_saving_never_pays_back_and_the_reason_counts_it():
    # $8,000 of space: running the box costs 57.32 + 720 + 8,000 = $8,777.32 a month, above the API's $8,750
    res, o = _run(CostParams(space_usd_per_box=8000.0))
    assert o.payback_months is None
    text = next(r.text for r in res.recommendation.reasons if "never pays back" in r.text)
    assert "running it ($8,777/month)" in text
