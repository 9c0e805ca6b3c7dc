"""`advisor cost` at equal quality: the quality floor (cost/floor.py, cost/fleet.py, cost/quality_note.py).

Expected values come from the data files (the format each API is published to serve, the measured scores, the
formats' bits), never from the cost code's output."""
import json
from pathlib import Path

import schemakit
import pytest
import yamlkit

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "cost.schema.json").read_text())
PRICES = yamlkit.safe_load((ROOT / "data" / "prices.yaml").read_text())
QUALITY = yamlkit.safe_load((ROOT / "data" / "quality.yaml").read_text())
BITS = {f["name"]: f["bits"] for f in yamlkit.safe_load((ROOT / "data" / "engines.yaml").read_text())["vllm_formats"]["formats"]}
DAY = ["--price-date", "2026-12-05"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def cost_json(capsys, *argv):
    code, out, err = run(capsys, "cost", *argv, *DAY, "--json")
    assert code == 0, err
    d = json.loads(out)
    schemakit.validate(d, SCHEMA)
    return d


def _boxes(d):
    return d["self_host"] + d["rental"]


def test_default_floor_is_what_the_reference_api_is_published_to_serve(capsys):
    d = cost_json(capsys, "-t", "1e9", "-H", "2x h100-sxm")
    ref = d["reference_cloud"]
    published = PRICES["served_formats"][ref]["format"]  # deepinfra's page: fp8
    f = d["quality_floor"]
    assert (f["format"], f["basis"], f["applied"]) == (published, "api", True)
    assert f["bits"] == BITS[published]
    assert ref in f["reason"] and f["source"] == PRICES["served_formats"][ref]["source"]


def test_every_option_states_its_format_and_meets_the_floor(capsys):
    d = cost_json(capsys, "-t", "1e9")  # the default spread of boxes
    floor_bits = d["quality_floor"]["bits"]
    assert _boxes(d)
    for o in _boxes(d):
        assert o["weight_format"] == o["serving"]["quant"]
        assert BITS[o["weight_format"]] >= floor_bits, o["hardware"]
    for o in d["cloud"]:
        row = PRICES["served_formats"].get(o["id"]) or (PRICES["served_formats"].get(o["provider"])
                                                         if o["open_weight_of"] else None)
        assert o["weight_format"] == (row or {}).get("format"), o["id"]
        if o["weight_format"] is None:
            assert o["weight_format_note"], o["id"]  # says why it is unknown


def test_measured_loss_is_the_model_cards_score_ratio_or_null(capsys):
    d = cost_json(capsys, "-t", "1e9", "-H", "2x h100-sxm", "-H", "2x rtx4090", "--min-quant", "any")
    seen = set()
    for o in _boxes(d) + d["cloud"]:
        fmt = o["weight_format"]
        if fmt is None:
            assert o["quality"] is None
            continue
        rows = QUALITY["served_formats"].get(fmt)
        if not rows:  # AWQ-INT4: no published evaluation of these checkpoints
            assert o["quality"] is None, fmt
            continue
        row = next((r for r in rows if r.get("model") == "llama3.1:70b"), rows[0])
        if row.get("reference") is None:
            assert o["quality"]["loss_pct"] == 0.0
        else:
            assert o["quality"]["loss_pct"] == pytest.approx(100 - 100 * row["score"] / row["reference"], abs=0.006)
            assert o["quality"]["measured_on"] == row["measured_on"]
        seen.add(fmt)
    assert "FP8" in seen


def test_a_box_that_fits_only_below_the_floor_is_replanned_with_more_gpus(capsys):
    # 70B weights at FP8 are ~70 GB: more than 2 x 24 GB, so 2x RTX 4090 serves it only at 4 bits
    d = cost_json(capsys, "-t", "1e9", "-H", "2x rtx4090", "--cloud", "deepinfra/llama3.1:70b")
    (r,) = d["quality_floor"]["replanned"]
    assert r["from"] == "2x rtx-4090" and r["to"] == "4x rtx-4090"
    assert BITS[r["below_format"]] < d["quality_floor"]["bits"]
    (o,) = d["self_host"]
    assert (o["hardware"], o["gpus_per_unit"], o["replanned_from"]) == ("4x rtx-4090", 4, "2x rtx-4090")
    assert BITS[o["weight_format"]] >= d["quality_floor"]["bits"]
    assert any("re-planned as 4x rtx-4090" in t for t in d["recommendation"]["reasons"])
    # the box as given is what --min-quant any compares
    free = cost_json(capsys, "-t", "1e9", "-H", "2x rtx4090", "--cloud", "deepinfra/llama3.1:70b", "--min-quant", "any")
    assert free["self_host"][0]["hardware"] == "2x rtx-4090" and BITS[free["self_host"][0]["weight_format"]] == 4
    assert free["quality_floor"]["format"] is None and not free["quality_floor"]["replanned"]


def test_a_box_no_host_can_grow_to_the_floor_is_excluded_with_the_reason(capsys):
    # BF16 70B (~141 GB) does not fit 4 x 24 GB, and a workstation holds at most 4 GPUs
    d = cost_json(capsys, "-t", "1e9", "-H", "2x rtx4090", "--cloud", "deepinfra/llama3.1:70b", "--min-quant", "bf16")
    assert not d["self_host"] and not d["rental"]
    (r,) = d["quality_floor"]["replanned"]
    assert r["to"] is None and r["from"] == "2x rtx-4090"
    (e,) = d["excluded"]
    assert e["hardware"] == "2x rtx-4090" and "BF16 floor" in e["reason"] and r["below_format"] in e["reason"]
    assert any("2x rtx-4090 excluded" in t for t in d["recommendation"]["reasons"])
    # and the API it is compared with serves less than that floor: the verdict says so
    assert any("deepinfra/llama3.1:70b serves FP8, below this floor" in t for t in d["recommendation"]["reasons"])


@pytest.mark.parametrize("box", ["2x h100-sxm", "2x a100-80gb", "h100-sxm"])
def test_a_higher_floor_never_serves_more_tokens_on_the_same_box(capsys, box):
    caps = []
    for floor in ("any", "fp8", "bf16"):
        d = cost_json(capsys, "-t", "1e9", "-H", box, "--min-quant", floor, "--cloud", "gpt-4o")
        opts = [o for o in d["self_host"] if not o["replanned_from"]]
        caps.append(opts[0]["capacity_tokens_per_month"] if opts else 0)
    assert caps == sorted(caps, reverse=True), caps


def test_verdict_by_floor_agrees_with_rerunning_at_that_floor(capsys):
    args = ["-t", "3e9", "-H", "2x rtx4090", "-H", "2x h100-sxm", "--cloud", "together/llama3.1:70b", "--active-hours", "730"]
    d = cost_json(capsys, *args)
    rows = {v["floor"]: v for v in d["quality_floor"]["verdict_by_floor"]}
    assert set(rows) == {"BF16", "FP8", None} and sum(v["current"] for v in rows.values()) == 1
    sens = {s["parameter"]: s for s in d["sensitivity"]}
    assert rows[d["quality_floor"]["format"]]["verdict"] == sens["monthly_tokens"]["verdict"]
    h = d["hybrid"]  # the hybrid states both halves' formats and losses
    owned = next(o for o in d["self_host"] if o["hardware"] == h["hardware"])
    assert (h["weight_format"], h["quality"]) == (owned["weight_format"], owned["quality"])
    api = next(o for o in d["cloud"] if o["id"] == h["api"])
    assert (h["api_weight_format"], h["api_quality"]) == (api["weight_format"], api["quality"])
    # the floor's sensitivity entry (weight bits: 16 BF16, 8 FP8, 0 none) names the nearest floor with another verdict
    q = sens["quality_floor_bits"]
    assert q["value"] == BITS[d["quality_floor"]["format"]] and q["verdict"] == rows[d["quality_floor"]["format"]]["verdict"]
    for side, key, bits in (("below", None, 0), ("above", "BF16", 16)):
        flips = rows[key]["verdict"] != q["verdict"]
        assert q[f"flips_{side}"] == (bits if flips else None)
        assert q[f"verdict_{side}"] == (rows[key]["verdict"] if flips else None)
    for flag, key in (("any", None), ("bf16", "BF16")):
        other = cost_json(capsys, *args, "--min-quant", flag)
        other_sens = {s["parameter"]: s for s in other["sensitivity"]}
        assert rows[key]["verdict"] == other_sens["monthly_tokens"]["verdict"], flag
        # (the JSON total is the sum of cent-rounded parts: within a cent per part of the unrounded total)
        assert rows[key]["monthly_usd"] == pytest.approx(other["recommendation"]["monthly_usd"], abs=0.03), flag


def test_unpublished_reference_falls_back_to_the_models_hosted_endpoints(capsys):
    # GPT-4o publishes no format and is another model: the floor is the best format a hosted llama3.1:70b endpoint
    # in the price data is published to serve
    d = cost_json(capsys, "-t", "1e9", "-H", "2x h100-sxm", "--cloud", "gpt-4o")
    known = [v["format"] for k, v in PRICES["served_formats"].items()
             if v.get("format") and next((c for c in PRICES["candidates"] if c["id"] == k), {}).get("open_weight_of")
             == "llama3.1:70b"]
    f = d["quality_floor"]
    assert f["basis"] == "same-model" and f["format"] == max(known, key=lambda x: BITS[x])
    assert "gpt-4o does not publish" in f["reason"]


def test_quant_below_the_floor_is_served_as_named_with_a_note(capsys):
    d = cost_json(capsys, "-t", "1e9", "-H", "2x rtx4090", "--quant", "awq-int4", "--cloud", "deepinfra/llama3.1:70b")
    assert d["self_host"][0]["weight_format"] == "AWQ-INT4" and d["quality_floor"]["applied"] is False
    assert any("below the quality floor" in w for w in d["warnings"])


def test_measured_figures_are_not_held_to_the_floor(capsys):
    d = cost_json(capsys, "-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "600", "--prefill-tps", "4000")
    assert d["self_host"][0]["hardware"] == "2x rtx-4090" and d["self_host"][0]["weight_format"] is None
    assert d["quality_floor"]["applied"] is False and not d["quality_floor"]["verdict_by_floor"]


def test_text_names_every_options_format_at_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", "2x rtx4090", "-H", "2x h100-sxm", *DAY)
    assert code == 0, err
    served = [line for line in out.replace("\n", " ").split("served ")[1:]]
    blob = " ".join(served)
    for name in ("4x rtx-4090", "2x h100-sxm", "deepinfra/llama3.1:70b", "gpt-6-astra"):
        assert name in blob, name
    assert "quality floor FP8" in out and "re-planned:" in out
    assert "quality floor" in out.split("Sensitivity", 1)[1]


@pytest.mark.parametrize("value", ["q9_z", "fp4x", ""])
def test_bad_min_quant_exits_2_with_one_line(capsys, value):
    code, out, err = run(capsys, "cost", "-t", "1e9", "--min-quant", value)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("advisor: ") and "--min-quant" in err


def test_an_8_bit_gguf_floor_admits_fp8_and_gguf_types_carry_the_scoreboard_loss(capsys):
    # whole bits: Q8_0 (8.5 bits per weight with its block scales) and FP8 are both 8-bit formats
    d = cost_json(capsys, "-t", "1e9", "-H", "2x h100-sxm", "--min-quant", "q8_0", "--cloud", "gpt-4o")
    assert d["quality_floor"]["format"] == "Q8_0" and d["quality_floor"]["bits"] == 8
    assert d["self_host"] and BITS[d["self_host"][0]["weight_format"]] >= 8
    e = cost_json(capsys, "-t", "5e8", "-m", "llama3.1:8b", "-H", "rtx4090", "--engine", "ollama", "--min-quant", "q8_0",
                  "--cloud", "gpt-4o-mini")
    o = e["self_host"][0]
    row = QUALITY["quants"][o["weight_format"]]
    assert o["quality"]["loss_pct"] == round(100 * row["delta_ppl"] / QUALITY["base_ppl"], 2)
    assert o["quality"]["recovery_pct"] is None and "perplexity" in o["quality"]["metric"]


def test_no_published_format_anywhere_holds_self_hosting_to_the_released_16_bit_weights(capsys):
    # qwen3:32b is hosted in the price data only by Groq, which publishes no per-model format
    hosts = [c["id"] for c in PRICES["candidates"] if c.get("open_weight_of") == "qwen3:32b"]
    assert hosts and not any((PRICES["served_formats"].get(h) or {}).get("format") for h in hosts)
    d = cost_json(capsys, "-t", "1e9", "-m", "qwen3:32b", "-H", "2x h100-sxm")
    f = d["quality_floor"]
    assert (f["format"], f["basis"]) == (QUALITY["cost_floor_fallback"], "fallback")
    assert "does not publish" in f["reason"]
    assert all(o["weight_format"] == "BF16" for o in d["self_host"] + d["rental"])


GGML = yamlkit.safe_load((ROOT / "data" / "ggml_types.yaml").read_text())


def _ggml_whole_bits(name):
    t = next(v for k, v in GGML.items() if isinstance(v, dict) and name in v)[name]
    return int(t["type_size"] * 8 // t["block_size"])


def test_every_published_format_is_sourced_and_names_a_known_format():
    # a served format is a vLLM format or a GGML type, with the page it was read on and when; an unpublished one
    # (format null) says why in a note
    for key, row in PRICES["served_formats"].items():
        assert row.get("as_of"), key
        if row.get("format"):
            assert row["source"].startswith("https://"), key
            assert row["format"] in BITS or any(isinstance(v, dict) and row["format"] in v for v in GGML.values()), key
        else:
            assert row.get("note"), key


def test_together_turbo_endpoints_are_published_fp8_and_no_longer_unknown(capsys):
    # docs.together.ai/docs/serverless-models: "Turbo" = FP8, one Quantization column per model
    d = cost_json(capsys, "-t", "1e9", "-H", "2x h100-sxm")
    fmts = {o["provider"] + "/" + o["model"]: o["weight_format"] for o in d["cloud"]}
    tog = [c for c in d["cloud"] if c["provider"] == "together"]
    assert tog and all(c["weight_format"] == PRICES["served_formats"]["together/llama3.1:70b"]["format"] == "FP8"
                       for c in tog), fmts


def test_gpt_oss_floor_is_the_mxfp4_together_publishes_not_a_16_bit_upcast(capsys):
    # gpt-oss's experts are released in MXFP4 (17 bytes per 32 weights = 4.25 bits, whole bits 4); Groq, the cheapest
    # host, publishes nothing, so the floor is Together's published MXFP4 and no box is re-planned to serve BF16
    d = cost_json(capsys, "-t", "2e9", "-m", "gpt-oss:120b", "-H", "h100-sxm", "-H", "rtx-pro-6000-blackwell")
    f = d["quality_floor"]
    assert (f["format"], f["basis"]) == (PRICES["served_formats"]["together/gpt-oss:120b"]["format"], "same-model")
    assert f["bits"] == _ggml_whole_bits("MXFP4") == 4
    assert d["self_host"] and all(BITS[o["weight_format"]] >= 4 for o in _boxes(d))
    assert not f["replanned"]


def test_a_model_released_below_16_bit_falls_back_to_its_own_format(capsys):
    # gpt-oss 20B is hosted in the price data only by Groq (format unpublished); its experts are released in MXFP4
    # (data/models.yaml native_quant), so "the model as released" is MXFP4, not a 16-bit upcast
    models = yamlkit.safe_load((ROOT / "data" / "models.yaml").read_text())["models"]
    native = next(m["native_quant"] for m in models if m["id"] == "gpt-oss:20b").upper()
    hosts = [c["id"] for c in PRICES["candidates"] if c.get("open_weight_of") == "gpt-oss:20b"]
    assert hosts and not any((PRICES["served_formats"].get(h) or {}).get("format") for h in hosts)
    d = cost_json(capsys, "-t", "1e9", "-m", "gpt-oss:20b", "-H", "rtx4090")
    f = d["quality_floor"]
    assert (f["format"], f["basis"], f["bits"]) == (native, "fallback", _ggml_whole_bits(native))
    assert "ships in MXFP4" in f["reason"]
    assert d["self_host"] and all(BITS[o["weight_format"]] >= f["bits"] for o in d["self_host"])


def test_a_box_too_small_for_any_format_says_the_weights_its_memory_and_what_serves_it(capsys):
    # one 24 GB RTX 4090 cannot hold a 70B at the FP8 floor (~70 GB of weights) nor at 4 bits (~37 GB): the exclusion
    # must say so in memory a buyer can check, and name a box of the same GPU that does serve it, not only repeat
    # vLLM's 'No available memory for the cache blocks'
    import re

    d = cost_json(capsys, "-t", "1e9", "-H", "rtx4090", "--cloud", "deepinfra/llama3.1:70b")
    (e,) = d["excluded"]
    assert e["hardware"] == "rtx-4090"
    need, have = (int(x) for x in re.search(r"needs (\d+) GiB .* has (\d+) GiB", e["reason"]).groups())
    assert have == 24 and need > have
    params = 70.6e9  # Llama 3.1 70B's parameter count
    assert need == pytest.approx(params * BITS[d["quality_floor"]["format"]] / 8 / 2**30, rel=0.1)
    bigger = re.search(r"(\dx rtx-4090) serves it at (\S+)", e["reason"])
    assert bigger and BITS[bigger.group(2)] >= d["quality_floor"]["bits"]
    # the box named there does serve the load at the floor, as given
    d2 = cost_json(capsys, "-t", "1e9", "-H", bigger.group(1).replace("rtx-4090", "rtx4090"),
                   "--cloud", "deepinfra/llama3.1:70b")
    assert d2["self_host"][0]["hardware"] == bigger.group(1) and not d2["quality_floor"]["replanned"]


def test_a_box_the_engine_does_not_run_on_is_not_told_to_buy_more_memory(capsys):
    # vLLM does not run on Apple GPUs: a 128 GB M4 Max under --engine vllm is excluded for that, whatever its memory.
    # The exclusion read 'has 128 GiB ... a GPU with more memory is needed': Fleet._too_small matched 'memory' in
    # 'non-CUDA unified memory'; the serving model now says what a box is short of (ServingCapacity.short_of)
    d = cost_json(capsys, "-t", "1e9", "-H", "m4-max-128gb", "--cloud", "deepinfra/llama3.1:70b", "--engine", "vllm")
    (e,) = d["excluded"]
    assert e["hardware"] == "m4-max-128gb"
    assert "vLLM does not run on Apple GPUs" in e["reason"]
    assert "GiB" not in e["reason"] and "more memory" not in e["reason"]


def test_what_a_box_is_short_of_is_a_kind_not_words():
    from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate.serving import capacity_for_mix
    from selfhost_advisor.estimate.serving.types import SHORT_OF

    m70, m8 = get_model("llama3.1:70b"), get_model("llama3.1:8b")
    kw = dict(prompt_tokens=1500, output_tokens=500)
    cases = [(m70, "m4-max-128gb", {}, "unsupported"), (m70, "rtx-4090", {"quant": "FP8"}, "memory"),
             (m8, "rtx-4090", {"min_stream_tokens_per_s": 1e6}, "targets"), (m8, "rtx-4090", {}, "")]
    for model, hw, extra, want in cases:
        cap = capacity_for_mix(model, machine_from_profile(get_profile(hw)), **kw, **extra)
        assert cap.short_of == want and cap.fits == (want == ""), (hw, extra, cap.short_of, cap.reason)
        assert want == "" or want in SHORT_OF
