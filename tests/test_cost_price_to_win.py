"""`advisor cost` when nothing self-hosted is priced (session 19, serve10).

A new user naming a GPU from the spec table (data/gpu_specs.yaml: specs, no prices) got an API verdict, a line saying a
price 'would bring' the box in, and a sensitivity table whose every row read 'same down to ...; same up to ...': with
no priced option nothing can move the verdict, so the table said nothing. Now the search is skipped and the price a GPU
(and a GPU-hour) below which the box would win is found by re-running the comparison with the box priced at it
(cost/sensitivity.py prices_to_win)."""
import json
from pathlib import Path

import schemakit

from selfhost_advisor.api import as_json, cost
from selfhost_advisor.cli import main
from selfhost_advisor.cost.sensitivity import verdict_key

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs/schema/cost.schema.json").read_text())
# 30B tokens a month of Llama 3.1 8B against GPT-4o mini: an RTX 4070 box (spec table, unpriced) can win if cheap enough
WINS = dict(model="llama3.1:8b", hardware="rtx 4070", cloud=["gpt-4o-mini"])


def test_the_quoted_gpu_price_is_where_the_verdict_turns():
    c = cost("3e10", **WINS)
    assert c.recommendation.choice == "cloud" and not c.self_host and not c.rental
    (t,) = c.price_to_win
    assert t.box == "2x rtx-4070" and t.buy_gpu_usd is not None and t.buy_verdict in ("self-host (buy)", "hybrid")
    below = cost("3e10", gpu_price=t.buy_gpu_usd * 0.98, **WINS)
    above = cost("3e10", gpu_price=t.buy_gpu_usd * 1.02, **WINS)
    assert verdict_key(below) == t.buy_verdict and verdict_key(above) == "cloud"
    assert any(line.startswith("buying 2x rtx-4070 wins below $") for line in c.recommendation.what_would_change)
    assert not any("would bring" in line for line in c.recommendation.what_would_change)


def test_when_not_even_free_gpus_win_it_says_what_the_boxes_still_cost():
    c = cost("2e9", model="llama3.1:8b", hardware="rtx 4070")  # the reference API: $110 a month
    (t,) = c.price_to_win
    assert t.buy_gpu_usd is None and t.free_gpus_monthly_usd > t.api_monthly_usd
    cent = cost("2e9", model="llama3.1:8b", hardware="rtx 4070", gpu_price=0.01)  # --gpu-price must be above 0
    assert verdict_key(cent) == "cloud"
    assert abs(cent.self_host[0].monthly_usd.total - t.free_gpus_monthly_usd) < 1.0
    assert any(line.startswith("no purchase price (--gpu-price) makes 2x rtx-4070 win") for line in c.recommendation.what_would_change)


def test_no_sensitivity_rows_that_cannot_move_and_json_validates(capsys):
    argv = ["cost", "-t", "3e10", "-m", "llama3.1:8b", "-H", "rtx 4070", "--cloud", "gpt-4o-mini"]
    assert main(argv) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "same down to" not in text and "no box that serves this load is priced" in text
    assert "price to win buying 2x rtx-4070 wins below $" in text
    assert main([*argv, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    schemakit.validate(d, SCHEMA)
    assert [s["parameter"] for s in d["sensitivity"]] == ["quality_floor_bits"]
    assert d["price_to_win"][0]["hardware"] == "2x rtx-4070" and d["price_to_win"][0]["buy_gpu_usd"] > 0


def test_a_priced_comparison_keeps_its_sensitivity_search_and_has_no_price_to_win():
    c = cost("3e10", gpu_price=150.0, **WINS)
    assert c.self_host and not c.price_to_win
    assert {s.parameter for s in c.sensitivity} >= {"monthly_tokens", "gpu_price_factor", "api_price_factor"}
    assert as_json(c)["price_to_win"] == []


def test_no_box_serving_the_model_says_so_and_quotes_no_price(capsys):
    assert main(["cost", "-t", "2e9", "-H", "rtx 4070"]) == 0  # llama3.1:70b cannot fit 12 GB cards
    text = " ".join(capsys.readouterr().out.split())
    assert "no box in the comparison serves this load" in text and "same down to" not in text
    assert "price to win" not in text


def test_a_forced_verdict_quotes_no_price_and_says_what_forced_it(capsys):
    c = cost("2e10", need_frontier=True, **WINS)
    assert c.recommendation.choice == "cloud" and c.price_to_win == ()  # no price moves a forced verdict
    assert main(["cost", "-t", "2e10", "-m", "llama3.1:8b", "-H", "rtx 4070", "--need-frontier"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Sensitivity (API verdict, forced by --need-frontier): no box that serves this load is priced" in text


def test_regulated_data_with_an_unpriced_box_says_it_serves_the_load_not_that_no_box_can():
    """--regulated excludes the APIs and rented GPUs, so the verdict is owning; a spec-table GPU that serves the load
    was reported as 'no box in the comparison can serve this model and load: add --hardware'."""
    c = cost("2e10", model="llama3.1:8b", hardware="rtx 4070", regulated="hipaa")
    text = " ".join(r.text for r in c.recommendation.reasons)
    assert c.recommendation.choice == "self-host" and not c.self_host
    assert "no box in the comparison can serve" not in text
    assert "2x rtx-4070 serves this model and load but no price is known to buy it" in text and "--gpu-price" in text
    priced = cost("2e10", model="llama3.1:8b", hardware="rtx 4070", regulated="hipaa", gpu_price=600.0)
    assert priced.self_host and priced.self_host[0].box.label == "2x rtx-4070"


def test_an_apple_machine_is_priced_as_a_machine_not_a_gpu():
    """--gpu-price of an Apple configuration is the whole computer's (no host priced apart), so the line says so."""
    c = cost("2e10", model="qwen3:8b", hardware="m4 max 128gb", engine="llamacpp")
    (t,) = c.price_to_win
    assert t.unit == "machine" and t.buy_gpu_usd is not None
    line = next(x for x in c.recommendation.what_would_change if x.startswith("buying m4-max-128gb"))
    assert " a machine (--gpu-price)" in line and " a GPU" not in line
    assert cost("3e10", **WINS).price_to_win[0].unit == "GPU"
