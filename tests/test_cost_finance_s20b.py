"""What a finance lead reads first in `advisor cost` (session 20, costux2): reason 1 says which verdict the published
throughput measurements favour when the throughput flip lies inside their band and most of the band is past it; the
table counts boxes, not GPUs, and says so; the footer naming hidden columns fits an 80-column terminal."""
import pytest

from selfhost_advisor.cost.sensitivity import likelier_outcome
from selfhost_advisor.record import replace
from selfhost_advisor.render.table import hidden_footer
from selfhost_advisor.render.text_cost import render_cost
from test_cost_throughput_s20 import setup, throughput

TOKENS = 300_000_000


def with_band(c, lo, hi):
    """The same comparison judged against another measured band (the flips do not depend on it)."""
    def banded(opts):
        return tuple(replace(o, capacity=replace(o.capacity, low_factor=lo, high_factor=hi)) for o in opts)
    return replace(c, self_host=banded(c.self_host), rental=banded(c.rental))


def reason_one(c):
    return next(r.text for r in c.recommendation.reasons if r.text.startswith("cost at this volume"))


def flip_below():
    c, _ = setup(TOKENS, band=(0.2, 0.99))
    s = throughput(c)
    assert s.flips_below is not None and 0.3 < s.flips_below < 0.99, s
    return c, s


def test_most_of_the_band_under_the_flip_makes_the_other_verdict_the_likelier_one():
    c, s = flip_below()
    f = s.flips_below
    lo, hi = f - 0.3, f + 0.05  # 0.3 of the band's 0.35 lies under the flip
    c2, _ = setup(TOKENS, band=(lo, hi))
    text = reason_one(c2)
    who = {"cloud": "the API alone", "self-host (buy)": "buying", "hybrid": "the hybrid"}[s.verdict_below]
    assert f"but on published measurements {who} is the likelier outcome" in text
    assert f"under x{f:.2f}" in text and f"x{lo:.2f}-{hi:.2f} band published vLLM runs came in at lies below" in text


@pytest.mark.parametrize("part", [0.5, 0.2, -0.1])  # under the flip: half, a fifth, none of the band
def test_no_claim_when_most_of_the_band_is_on_the_verdicts_own_side(part):
    c, s = flip_below()
    f = s.flips_below
    lo, hi = f - 0.4 * part, f - 0.4 * part + 0.4
    assert likelier_outcome(with_band(c, lo, hi)) is None
    assert likelier_outcome(with_band(c, f - 0.21, f + 0.19)) is not None  # just past half: the claim


def test_a_measured_capacity_or_a_forced_verdict_makes_no_claim():
    c, s = flip_below()
    banded = with_band(c, s.flips_below - 0.3, s.flips_below + 0.05)
    assert likelier_outcome(banded) is not None
    assert likelier_outcome(replace(banded, self_host=tuple(
        replace(o, capacity=replace(o.capacity, confidence="measured")) for o in banded.self_host))) is None
    forced = replace(banded, constraints=replace(banded.constraints, no_ops_team=True))
    assert likelier_outcome(forced) is None


def test_the_table_counts_boxes_and_the_hidden_footer_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    c, _ = setup(TOKENS)
    render_cost(c)
    out = capsys.readouterr()[0]
    header = next(line for line in out.splitlines() if line.startswith("option"))
    assert "boxes" in header.split("┃")[1] and "units" not in header
    assert "(hidden at 80 columns:" in out and "--wide shows all)" in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize("width", [40, 60, 80, 120])
def test_the_hidden_footer_breaks_between_names_only(width):
    names = ["util", "served", "kind", "break-even tok/mo", "$/Mtok"]
    text = hidden_footer(width, names)
    lines = text.split("\n")
    assert all(len(line) <= width for line in lines)
    assert " ".join(lines) == f"(hidden at {width} columns: {', '.join(names)}; --wide shows all)"
    assert "--wide shows all)" in lines[-1]
    assert len(lines) == 1 if width >= 87 else len(lines) > 1


def test_a_long_sensitivity_line_continues_under_the_values_within_80_columns():
    """gpt-oss:120b at 5B tokens/month: 'quality floor MXFP4 API at BF16 ($1,312); API at FP8 ($1,312); hybrid with
    none' was 86 characters, and rich broke it inside its last clause at the left margin."""
    from selfhost_advisor.cost.quality_note import FloorVerdict
    from selfhost_advisor.render.text_cost import sensitivity_lines

    c, _ = setup(TOKENS)
    floors = (FloorVerdict("MXFP4", "hybrid", 1248.0, "h", current=True),
              FloorVerdict("BF16", "cloud", 131_200.0, "api"), FloorVerdict("FP8", "cloud", 131_200.0, "api"),
              FloorVerdict(None, "hybrid", 1248.0, "h"))
    lines = sensitivity_lines(replace(c, floor_verdicts=floors))
    i = next(i for i, line in enumerate(lines) if line.split()[:2] == ["quality", "floor"])
    assert all(len(line) <= 80 for line in lines)
    assert lines[i].endswith("API at FP8 ($131,200);") and lines[i + 1] == " " * 28 + "hybrid with none"


def test_the_extrapolated_note_quotes_the_band_as_the_sensitivity_line_does():
    """One band, one notation: the note said 'band x0.388..x0.895' two lines under 'x0.39-0.90 of the estimate'."""
    from selfhost_advisor.render.text_cost import sensitivity_lines

    c, _ = setup(TOKENS, band=(0.388, 0.895))
    note = next(w for w in c.warnings if "serving capacity is extrapolated" in w)
    assert "(band x0.39-0.90); box counts may differ" in note
    assert any("x0.39-0.90 of the estimate" in line for line in sensitivity_lines(c))


def test_a_band_wholly_past_the_flip_makes_the_other_verdict_the_likelier_one():
    """Session 21: gpt-oss:120b at 5B tokens/month flipped at x0.94 with the MoE band at x0.41-0.92, all of it under the
    flip; reason 1 said nothing (the flip had to lie inside the band) while 'what would change' said 'all of them under
    it'. All of the band past the flip is the strongest case for the other verdict, and reason 1 says so."""
    c, s = flip_below()
    f = s.flips_below
    lo, hi = f - 0.5, f - 0.02  # the whole band under the flip
    text = reason_one(setup(TOKENS, band=(lo, hi))[0])
    assert "is the likelier outcome" in text
    assert f"all of the x{lo:.2f}-{hi:.2f} band published vLLM runs came in at lies below" in text
    assert likelier_outcome(with_band(c, f - 0.3, f + 0.05)).count("most of the") == 1
