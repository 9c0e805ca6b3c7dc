"""`advisor cost` end to end: JSON contract (validated against docs/schema/cost.schema.json), gates, bad input, prices."""
import json
import subprocess
import sys
from pathlib import Path

import schemakit
import pytest

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "cost.schema.json").read_text())
MEASURED = ["--decode-tps", "600", "--prefill-tps", "4000"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cost_json(capsys, *argv):
    code, out, err = run(capsys, "cost", *argv, "--json")
    assert code == 0, err
    data = json.loads(out)
    schemakit.validate(data, SCHEMA)
    return data


def test_default_run_matches_schema_and_contract(capsys):
    d = cost_json(capsys, "--monthly-tokens", "2e9")
    assert (d["monthly_tokens"], d["input_tokens"], d["output_tokens"]) == (2 * 10**9, 15 * 10**8, 5 * 10**8)
    assert d["self_host"] and d["cloud"] and d["recommendation"]["reasons"]
    totals = [o["monthly_usd"]["total"] for o in d["self_host"]]
    assert totals == sorted(totals)  # cheapest first (DESIGN.md contract)
    assert [o["monthly_usd"] for o in d["cloud"]] == sorted(o["monthly_usd"] for o in d["cloud"])
    for o in d["self_host"]:
        m = o["monthly_usd"]
        assert m["total"] == pytest.approx(m["amortization"] + m["power"] + m["operations"], abs=0.02)
        assert o["serving"]["engine"] == "vllm"
    # default candidates: a frontier model, a mid-tier model and the same open model hosted elsewhere
    tiers = {o["tier"] for o in d["cloud"]}
    assert {"frontier", "mid", "open-weight"} <= tiers
    assert {o["provider"] for o in d["cloud"] if o["tier"] == "open-weight"} == {"together", "groq", "deepinfra"}
    assert all(a["source"] for a in d["assumptions"].values())


def test_json_is_deterministic(capsys):
    a = run(capsys, "cost", "--monthly-tokens", "500M", "--hardware", "rtx4090", "--model", "llama3.1:8b", "--json")[1]
    b = run(capsys, "cost", "--monthly-tokens", "500M", "--hardware", "rtx4090", "--model", "llama3.1:8b", "--json")[1]
    assert a == b


def test_issue_examples_run(capsys):
    d = cost_json(capsys, "--monthly-tokens", "500M", "--output-share", "0.3", "--model", "llama3.1:8b",
                  "--hardware", "rtx4090", "--cloud", "gpt-4o-mini,claude-haiku")
    assert [o["hardware"] for o in d["self_host"]] == ["rtx-4090"]
    assert {o["id"] for o in d["cloud"]} == {"gpt-4o-mini", "claude-haiku-5-5"}
    assert d["output_tokens"] == 150_000_000
    d = cost_json(capsys, "--monthly-tokens", "5e9", "--model", "llama3.1:70b", "--hardware", "2x rtx4090",
                  "--electricity", "0.31", "--amortize-months", "36")
    assert d["assumptions"]["electricity_usd_per_kwh"]["value"] == 0.31
    assert "--electricity" in d["assumptions"]["electricity_usd_per_kwh"]["source"]
    d = cost_json(capsys, "--monthly-tokens", "1e8", "--regulated", "hipaa")
    assert d["recommendation"]["choice"] == "self-host" and "HIPAA" in d["recommendation"]["reasons"][0]
    assert all(o["excluded"] for o in d["cloud"])
    d = cost_json(capsys, "--monthly-tokens", "1e8", "--air-gapped")
    assert d["recommendation"]["choice"] == "self-host" and d["rental"] == []


def test_genai_prices_are_used_with_version_and_snapshot(capsys):
    pytest.importorskip("genai_prices")
    d = cost_json(capsys, "--monthly-tokens", "1e9", "--cloud", "gpt-4o", *MEASURED, "--hardware", "2x rtx4090")
    o = d["cloud"][0]
    assert o["via"].startswith("genai-prices ") and "snapshot" in o["prices_as_of"]
    # OpenAI's published GPT-4o price: $2.50 in / $10 out per million tokens
    assert (o["input_usd_per_mtok"], o["output_usd_per_mtok"]) == (2.5, 10.0)


def test_long_context_tier_is_priced_per_request_not_per_month(capsys):
    pytest.importorskip("genai_prices")
    # Claude Sonnet 4.5 charges $3/$15 per Mtok up to 200k input tokens per request, $6/$22.5 above (genai-prices).
    # A month of 1e9 tokens is far above 200k, but each typical request (1,500 in) is not: the base rate applies.
    d = cost_json(capsys, "--monthly-tokens", "1e9", "--cloud", "anthropic:claude-sonnet-4-5", *MEASURED,
                  "--hardware", "2x rtx4090")
    assert (d["cloud"][0]["input_usd_per_mtok"], d["cloud"][0]["output_usd_per_mtok"]) == (3.0, 15.0)
    d = cost_json(capsys, "--monthly-tokens", "1e9", "--cloud", "anthropic:claude-sonnet-4-5", "--request-tokens",
                  "300000", *MEASURED, "--hardware", "2x rtx4090")
    assert (d["cloud"][0]["input_usd_per_mtok"], d["cloud"][0]["output_usd_per_mtok"]) == (6.0, 22.5)


def test_fallback_prices_without_genai_prices(capsys, monkeypatch):
    import selfhost_advisor.cost.cloud as cloud

    monkeypatch.setattr(cloud, "genai_prices_version", lambda: None)
    d = cost_json(capsys, "--monthly-tokens", "1e9", "--cloud", "gpt-4o,deepinfra/llama3.1:70b", *MEASURED,
                  "--hardware", "2x rtx4090")
    assert {o["via"] for o in d["cloud"]} == {"data/prices.yaml"}
    assert all(o["prices_as_of"][:4] == "2026" for o in d["cloud"])


def test_contract_price_replaces_list_prices(capsys):
    d = cost_json(capsys, "--monthly-tokens", "1e9", "--price-in", "1", "--price-out", "3", *MEASURED,
                  "--hardware", "2x rtx4090")
    # 7.5e8 x $1/M + 2.5e8 x $3/M = $1,500
    assert [(o["id"], o["monthly_usd"]) for o in d["cloud"]] == [("contract", 1500.0)]
    assert d["reference_cloud"] == "contract"


def test_seed_example_2x_rtx4090_vs_gpt4o_pays_back_only_at_high_volume(capsys):
    # A 2x RTX 4090 box serving Llama 3.1 70B around the clock (730 h, flat load), priced against GPT-4o.
    args = ["--hardware", "2x rtx4090", "--cloud", "gpt-4o", "--active-hours", "730", "--peak-to-average", "1"]
    low = cost_json(capsys, "--monthly-tokens", "20M", *args)["self_host"][0]
    high = cost_json(capsys, "--monthly-tokens", "300M", *args)["self_host"][0]
    assert low["units"] == high["units"] == 1
    assert low["payback_months"] is None  # GPT-4o would cost ~$88/month: less than power + operations
    assert high["payback_months"] is not None and high["payback_months"] < 24
    be = high["break_even_monthly_tokens"]
    assert be is not None and 20e6 < be < 300e6


def test_require_and_max_monthly_gates_exit_1(capsys):
    base = ["cost", "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", *MEASURED, "--cloud", "gpt-4o"]
    assert run(capsys, *base, "--require", "self-host")[0] == 0
    code, out, err = run(capsys, *base, "--require", "cloud")
    assert code == 1 and "--require cloud" in err
    code, _, err = run(capsys, *base, "--max-monthly-usd", "1000")  # 4 boxes cost ~$2,041/month ($1,800 a GPU)
    assert code == 1 and "max-monthly-usd" in err
    assert run(capsys, *base, "--max-monthly-usd", "2500")[0] == 0


def test_text_output_has_table_verdict_and_chart(capsys, tmp_path):
    svg = tmp_path / "c.svg"
    code, out, err = run(capsys, "cost", "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", *MEASURED,
                         "--cloud", "gpt-4o", "--chart", str(svg))
    assert code == 0, err
    assert "Verdict" in out and "SELF-HOST" in out and "break-even" in out and "gpt-4o" in out
    assert "monthly USD" in out and "▲ now 2B" in out
    assert svg.read_text().startswith("<svg")


BAD = [
    ["cost", "--monthly-tokens", "-5"],
    ["cost", "--monthly-tokens", "lots"],
    ["cost", "--monthly-tokens", "0"],
    ["cost", "--monthly-tokens", "1e9", "--output-share", "1.5"],
    ["cost", "--monthly-tokens", "1e9", "--output-share", "0"],
    ["cost", "--monthly-tokens", "1e9", "--cloud", "gpt-17-ultra"],
    ["cost", "--monthly-tokens", "1e9", "--peak-to-average", "0.5"],
    ["cost", "--monthly-tokens", "1e9", "--active-hours", "800"],
    ["cost", "--monthly-tokens", "1e9", "--electricity", "-0.1"],
    ["cost", "--monthly-tokens", "1e9", "--pue", "0.9"],
    ["cost", "--monthly-tokens", "1e9", "--amortize-months", "0"],
    ["cost", "--monthly-tokens", "1e9", "--regulated", "sox"],
    ["cost", "--monthly-tokens", "1e9", "--price-in", "1"],
    ["cost", "--monthly-tokens", "1e9", "--price-in", "-1", "--price-out", "2"],
    ["cost", "--monthly-tokens", "1e9", "--require", "maybe"],
    ["cost", "--monthly-tokens", "1e9", "--chart", "c.png"],
    ["cost", "--monthly-tokens", "1e9", "--hardware", "rtx9999"],
    ["cost", "--monthly-tokens", "1e9", "--hardware", "host-workstation"],
    ["cost", "--monthly-tokens", "1e9", "--hardware", "5x rtx4090"],
    ["cost", "--monthly-tokens", "1e9", "--model", "nosuchmodel"],
    ["cost", "--monthly-tokens", "1e9", "--decode-tps", "100"],
    ["cost", "--monthly-tokens", "1e9", "--decode-tps", "100", "--prefill-tps", "100", "--hardware", "rtx4090,rtx5090"],
    ["cost", "--monthly-tokens", "1e9", "--quant", "Q4_K_M"],
    ["cost"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_bad_input_exits_2_with_one_line(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("advisor: ")


def test_cost_json_does_not_import_rich_numpy_or_gguf():
    code = ("import sys; from selfhost_advisor.cli import main; "
            "rc = main(['cost', '--monthly-tokens', '1e9', '--hardware', '2x rtx4090', '--json']); "
            "bad = [m for m in ('rich', 'numpy', 'gguf', 'huggingface_hub') if m in sys.modules]; "
            "print(rc, bad, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.stderr.strip().splitlines()[-1] == "0 []", res.stderr
    json.loads(res.stdout)


def test_capacity_follows_the_request_mix_not_the_context(capsys):
    # issue 14: sizing every request at the full --context put one 8k stream in a 2x RTX 4090 KV pool; the request
    # (1,500 + 500 tokens) is what each stream holds, so the admitted context does not change the fleet
    base = ["--monthly-tokens", "1e9", "--model", "llama3.1:70b", "--hardware", "2x rtx4090", "--cloud", "gpt-4o",
            "--price-date", "2026-12-05"]
    at_8k = cost_json(capsys, *base, "-c", "8192")["self_host"][0]
    at_32k = cost_json(capsys, *base, "-c", "32768")["self_host"][0]
    assert at_8k["units"] == at_32k["units"]
    assert at_8k["capacity_tokens_per_month"] == at_32k["capacity_tokens_per_month"]
    assert at_8k["serving"]["concurrency"] > 1  # more than one request shares the box
    # a longer request holds more KV per stream: never more capacity
    longer = cost_json(capsys, *base, "--prompt-tokens", "6000", "--output-tokens", "2000")["self_host"][0]
    assert longer["capacity_tokens_per_month"] <= at_8k["capacity_tokens_per_month"]


def test_new_flags_reach_the_json(capsys):
    d = cost_json(capsys, "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", *MEASURED, "--cloud", "gpt-4o",
                  "--prompt-tokens", "1200", "--output-tokens", "300", "--active-hours", "730", "--peak-to-average", "3",
                  "--spare", "1", "--ops-hours-per-box", "2", "--gpu-price", "1800", "--host-price", "2000",
                  "--rent-price", "0.4", "--amortization-months", "24", "--cached-input-share", "0.5",
                  "--batch-share", "0.1", "--price-date", "2026-12-05")
    assert (d["workload"]["prompt_tokens"], d["workload"]["output_tokens"]) == (1200, 300)
    assert d["output_tokens"] == round(2e9 * 300 / 1500)
    buy, rent = d["self_host"][0], d["rental"][0]
    assert buy["unit_price_usd"] == 2 * 1800 + 2000 and buy["spare_units"] == 1
    assert buy["monthly_usd"]["amortization"] == pytest.approx(buy["units"] * 5600 / 24, abs=0.01)
    assert buy["monthly_usd"]["operations"] == pytest.approx((8 + 2 * buy["units"]) * 90, abs=0.01)
    assert rent["usd_per_gpu_hour"] == 0.4 and rent["units"] == buy["units"] - 1  # spares are owned only
    assert rent["utilisation"] == pytest.approx(buy["busy_hours_per_month"] / (rent["units"] * 730), abs=1e-4)
    assert d["assumptions"]["spare_units"]["value"] == 1 and d["assumptions"]["prices_date"]["value"] == "2026-12-05"
    assert d["hybrid"] is not None and d["hybrid"]["monthly_usd"]["total"] <= min(
        buy["monthly_usd"]["total"], d["cloud"][0]["monthly_usd"]) + 0.01
    # the old spellings still work and mean the same
    old = cost_json(capsys, "--monthly-tokens", "2e9", "--hardware", "2x rtx4090", *MEASURED, "--cloud", "gpt-4o",
                    "--request-tokens", "1200", "--output-share", "0.2", "--amortize-months", "24",
                    "--price-date", "2026-12-05")
    assert (old["workload"]["prompt_tokens"], old["workload"]["output_tokens"]) == (1200, 300)
    assert old["assumptions"]["amortize_months"]["value"] == 24


def test_latency_targets_cap_the_batch_and_never_lower_cost(capsys):
    # the serving model picks the highest-throughput concurrency that meets the targets: a stricter per-user speed
    # never admits more streams, never serves more tokens per box, never costs less
    # (no quality floor: at the default FP8 floor a 70B leaves one H100 KV room for 4 streams at any target)
    base = ["--monthly-tokens", "3e9", "--hardware", "h100-sxm", "--cloud", "gpt-4o", "--price-date", "2026-12-05",
            "--min-quant", "any"]
    rows = [cost_json(capsys, *base, "--min-stream-speed", str(v))["self_host"][0] for v in (5, 10, 20, 30)]
    conc = [r["serving"]["concurrency"] for r in rows]
    cap = [r["capacity_tokens_per_month"] for r in rows]
    usd = [r["monthly_usd"]["total"] for r in rows]
    assert conc == sorted(conc, reverse=True) and conc[0] > conc[-1]
    assert cap == sorted(cap, reverse=True) and usd == sorted(usd)
    # a time-to-first-token no box can meet excludes it with the reason, and the verdict is the API
    d = cost_json(capsys, *base, "--max-ttft", "0.01")
    assert d["self_host"] == [] and "time to first token" in d["excluded"][0]["reason"]
    assert d["recommendation"]["choice"] == "cloud"
