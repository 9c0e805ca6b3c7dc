"""Session 32 (fin32): what a finance lead signing `advisor cost` rejected, each fixed and held here.

Expected values are the documented inputs (docs/methodology.md, "Self-host monthly cost": the H100 SXM's $27,500, a
data-centre server slot's $4,000, the RTX 4090's $1,599 launch price, the $1,314 workstation host) put through the
formulas by hand, or prices read from genai-prices directly; never the cost code's own figure."""
import re

import pytest
from costkit import cost_json as run_json

from selfhost_advisor.cli import main

DAY = ["--price-date", "2026-12-05"]


def run_text(capsys, monkeypatch, *args, columns="220"):
    monkeypatch.setenv("COLUMNS", columns)
    assert main(["cost", *args, *DAY]) == 0
    return capsys.readouterr().out


def test_capex_is_rebuilt_from_the_json_prices(capsys):
    """capex_usd = units x (GPUs x gpu_price_usd + host_price_usd), each part with its source (schema 1.28)."""
    d = run_json(capsys, "-t", "2e9", "-H", "2x h100-sxm", "-H", "4x rtx4090", "--cloud", "gpt-4o")
    rows = {o["hardware"]: o for o in d["self_host"]}
    h100, rtx = rows["2x h100-sxm"], rows["4x rtx-4090"]
    # session 33 (price33): the H100 is the median of $30,000 (mid-2026), $30,000 and $27,500 (undated pages), the RTX
    # 4090 the median of $2,200 (2026-02), $1,800 (2026-05) and $1,800 (2026) new-card quotes
    assert (h100["gpu_price_usd"], h100["host_price_usd"]) == (30_000, 2 * 4_000)
    assert h100["unit_price_usd"] == 2 * 30_000 + 2 * 4_000 == 68_000
    assert (rtx["gpu_price_usd"], rtx["host_price_usd"]) == (1_800, 1_314)
    for o in (h100, rtx):
        assert o["capex_usd"] == pytest.approx(o["units"] * (o["gpus_per_unit"] * o["gpu_price_usd"] + o["host_price_usd"]))
    # a median of quotes is dated by its oldest dated quote; the two undated pages are counted, not dated
    assert h100["gpu_price_as_of"] == "2026-06" and h100["price_quotes_undated"] == 2 and not h100["gpu_price_undated"]
    assert rtx["gpu_price_as_of"] == "2026" and rtx["price_quotes_undated"] == 0  # "early 2026": a year, not a month
    assert "host_systems.server" in h100["host_price_source"] and h100["host_price_as_of"] == "2023"
    assert "price_quotes" in rtx["gpu_price_source"] and "host_systems.workstation" in rtx["host_price_source"]
    assert rtx["host_price_as_of"] == "2026-11-25" and rtx["host_price_undated"]  # an undated build page, read then
    assert d["schema_version"] == "1.30.0"


def test_quoted_and_given_prices_say_so(capsys):
    """A median of dated quotes is dated by its oldest quote; a --gpu-price is 'given', with no date."""
    d = run_json(capsys, "-t", "2e9", "-m", "llama3.1:8b", "-H", "l40s", "--cloud", "gpt-4o")
    o = d["self_host"][0]
    # three undated pages (session 33: two until then, printed as "dated"): the read day, said to be one
    assert o["gpu_price_usd"] == 8_500 and o["gpu_price_as_of"] == "2026-12-05" and o["gpu_price_undated"]
    assert o["price_quotes"] == o["price_quotes_undated"] == 3
    d = run_json(capsys, "-t", "2e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--gpu-price", "1800", "--host-price",
                 "2500", "--cloud", "gpt-4o")
    o = d["self_host"][0]
    assert (o["gpu_price_usd"], o["host_price_usd"], o["unit_price_usd"]) == (1_800, 2_500, 4_300)
    assert o["gpu_price_source"] == "given with --gpu-price" and o["gpu_price_as_of"] is None
    assert o["host_price_source"] == "given with --host-price"


def test_wide_table_gives_space_its_own_column_and_capital_in_percent(capsys, monkeypatch):
    """--space-per-box had been added into 'hw $/mo' under a header that did not say so; the header printed the cost
    of capital as 0.08/yr beside a sensitivity line in %/yr."""
    out = run_text(capsys, monkeypatch, "-t", "2e9", "-H", "2x h100-sxm", "--cloud", "gpt-4o", "--cost-of-capital",
                   "0.08", "--residual-value", "0.25", "--space-per-box", "300", "--wide", "--gpu-price", "27500")
    assert "cost of capital 8%/yr, 25% resale at the end, space $300/box" in " ".join(out.split())
    header = next(line for line in out.splitlines() if line.startswith("option"))
    assert [c.strip() for c in header.split("┃")][-4:] == ["hw $/mo", "power $/mo", "ops $/mo", "space $/mo"]
    buy = next(line for line in out.splitlines() if "│ buy" in line)
    cells = [c.strip() for c in buy.split("│")]
    money = [int(re.sub(r"[$,]", "", c)) for c in cells[-4:]]
    # the capital recovery of $63,000 at 8%/yr with a quarter back after 36 months, by hand
    i = 1.08 ** (1 / 12) - 1
    charge = (63_000 - 15_750 * 1.08 ** -3) * i / (1 - 1.08 ** -3)
    assert money[0] == round(charge) == 1_576
    assert money[3] == 300
    assert abs(sum(money) - int(re.sub(r"[$,]", "", cells[4]))) <= 2
    rent = next(line for line in out.splitlines() if "│ rent" in line)
    assert rent.rstrip().endswith("│")  # a rented box pays no space: a blank cell, not $0


def test_both_constraints_named_in_what_would_change(capsys):
    """Dropping --air-gapped alone leaves --regulated's exclusions: the lever names both."""
    d = run_json(capsys, "-t", "1e9", "--air-gapped", "--regulated", "hipaa")
    change = " ".join(d["recommendation"]["what_would_change"])
    assert "without --air-gapped and --regulated hipaa the cheapest option would be" in change
    d = run_json(capsys, "-t", "1e9", "--air-gapped")
    assert "without --air-gapped the cheapest" in " ".join(d["recommendation"]["what_would_change"])


genai = pytest.importorskip("genai_prices")


def _bill(provider, model, n_in, n_out, tokens_in, tokens_out):
    """The month's bill from genai-prices' own price of one typical request, scaled by the month's tokens."""
    from datetime import datetime, timezone

    r = genai.calc_price(genai.Usage(input_tokens=n_in, output_tokens=n_out), model, provider_id=provider,
                         genai_request_timestamp=datetime(2026, 12, 5, 12, tzinfo=timezone.utc))
    return float(r.input_price) / n_in * tokens_in + float(r.output_price) / n_out * tokens_out


def test_same_open_weights_named_by_provider_model_compare_like_for_like(capsys):
    """`--cloud openrouter:meta-llama/llama-3.1-8b-instruct` against Llama 3.1 8B was called 'not the same open
    weights ... a different model'."""
    d = run_json(capsys, "-t", "2e8", "-m", "llama3.1:8b", "-H", "rtx4090", "--cloud",
                 "openrouter:meta-llama/llama-3.1-8b-instruct")
    assert d["cloud"][0]["open_weight_of"] == "llama3.1:8b"
    assert not any("different model" in r for r in d["recommendation"]["reasons"])
    # a different model named the same way is still a different model
    d = run_json(capsys, "-t", "2e8", "-m", "llama3.1:8b", "-H", "rtx4090", "--cloud", "openai:gpt-4o-mini")
    assert any("is a different model from Llama 3.1 8B Instruct" in r for r in d["recommendation"]["reasons"])


def test_a_model_without_a_listed_endpoint_names_the_cheapest_genai_prices_lists(capsys):
    """Qwen2.5-Coder 32B has no data/prices.yaml endpoint; genai-prices prices it at OpenRouter, Cloudflare and
    Hugging Face's nscale route. The reason against the mid-tier API names the cheapest with its bill."""
    d = run_json(capsys, "-t", "2e8", "-m", "qwen2.5-coder:32b", "-H", "2x rtx-pro-6000", "--prompt-tokens", "4000",
                 "--output-tokens", "400")
    reason = next(r for r in d["recommendation"]["reasons"] if "is a different model" in r)
    assert "no hosted endpoint of the same open model is listed" not in reason
    bills = {f"{p}:{m}": _bill(p, m, 4000, 400, d["input_tokens"], d["output_tokens"]) / 1e6 * 1e6
             for p, m in (("openrouter", "qwen/qwen-2.5-coder-32b-instruct"),
                          ("cloudflare", "@cf/qwen/qwen2.5-coder-32b-instruct"),
                          ("huggingface_nscale", "Qwen/Qwen2.5-Coder-32B-Instruct"))}
    name, bill = min(bills.items(), key=lambda kv: kv[1])
    assert f"the cheapest {name} at ${bill:,.0f}/month" in reason
    assert f"compare with --cloud {name}" in reason


def test_every_shown_bought_box_states_its_price_basis(capsys, monkeypatch):
    """The basis of a catalog GPU price (launch list, used, street) was printed for the cheapest box alone."""
    out = run_text(capsys, monkeypatch, "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "-H",
                   "rtx-pro-6000-blackwell", "--cloud", "gpt-4o")
    flat = " ".join(out.split())
    # session 33 (price33): the RTX 4090 is a median of 2026 quotes (its 2022 launch MSRP until then); the RTX PRO
    # 6000's price is one dated retail range; the workstation host under both says its page was undated
    assert "buy rtx-4090 $1,800/GPU: median of 3 dated purchase quotes ($1,800-2,200, oldest 2026)" in flat
    assert ("host workstation $1,314/box: one build price (undated page read 2026-11-25), not a dated quote "
            "(--host-price for yours)") in flat
    assert "buy rtx-pro-6000-blackwell $8,600/GPU: median of 1 dated purchase quote (of 2026-04), thin" in flat
