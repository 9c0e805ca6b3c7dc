"""Findings of the session 12 sweep over bad input and first use (benchmarks/hostile.py and a README walk), each held
by a test that failed before its fix. In-process through cli.main: each row costs its own work only.

- a YAML spec sheet's `build_date: 2024-11-08`, written as the docs write it, was refused: safe_load made it a
  datetime.date ("must be one value, not a date"), and an impossible one (2024-02-30) said "not valid YAML".
- `2x custom:vram=...` (as '2x rtx4090' is written) said "cannot read hardware file" in fit / serve / models (its
  '1TB/s' has a '/') and "unknown hardware 'custom:vram=24GB'" in cost: now read as count=2 (tests/test_custom_count.py).
- `price=$2,500` inline (the form custom_hw's docstring gave) came apart at its comma: cost said "unknown hardware
  '500'", fit "'500' is not key=value".
- cost: two spec sheets of one label (two quotes for one card, or a sheet named as a catalog box) were priced as
  one, the other dropped without a word.
- cost --decode-tps 1e-10 or --active-hours 1e-300 (positive, so accepted) left a box serving 0 tokens a month, and
  --cost-of-capital 1e-17 a monthly rate of 0 that two formulas divided by: exit 3 each.
- serve / cost --engine mlx on an Apple box: KeyError on an MLX format in the slot model, exit 3.
- `models --fits 2x h100-sxm --engine mlx` listed "0 of 404 models run" (fit exits 2 naming Apple Silicon).
- `hardware show custom:...` answered "unknown hardware; or give a spec: --hardware custom:...".
- `fit fara1.5` (one catalog size, no default tag) said "has several sizes; name one: fara1.5:27b".
- README walk (a fresh clone, `pip install .` as the README says): `probe --measure` needs numpy, which that install
  does not bring (README now says so), and the empty box.json the shell leaves behind read as "not valid JSON".
"""
from __future__ import annotations

import json

import pytest

from selfhost_advisor.cli import main

CPU = "cores: 16\nclock: 4.5GHz\nsimd: avx512\nram: 64GB\nchannels: 2\nmts: 5600\n"
CPU_INLINE = "custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600"
GPU = "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS"


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, argv, named):
    code, out, err = run(capsys, argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("advisor: "), err
    assert named in err, err
    return err


def prefill(out):
    return [o["speed"]["prefill_tokens_per_s"] for o in json.loads(out)["options"]]


def test_a_yaml_build_date_written_as_a_date_is_read_as_the_inline_one(tmp_path, capsys):
    (tmp_path / "box.yaml").write_text(CPU + "build_date: 2024-11-08\n")
    code, out, err = run(capsys, ["fit", "llama3.1:8b", "--json", "-q", "Q4_0,Q4_K_M", "-H", str(tmp_path / "box.yaml")])
    assert code == 0, err
    code, inline, err = run(capsys, ["fit", "llama3.1:8b", "--json", "-q", "Q4_0,Q4_K_M", "-H",
                                     CPU_INLINE + ",build_date=2024-11-08"])
    assert code == 0, err
    code, newest, err = run(capsys, ["fit", "llama3.1:8b", "--json", "-q", "Q4_0,Q4_K_M", "-H", CPU_INLINE])
    assert prefill(out) == prefill(inline) != prefill(newest)  # the date is used, not dropped


@pytest.mark.parametrize("value, named", [("2024-02-30", "not a calendar date"),
                                          ("2024-11-08 10:00:00", "not a date such as")])
def test_a_yaml_build_date_that_is_no_build_date_names_the_key(tmp_path, capsys, value, named):
    (tmp_path / "box.yaml").write_text(CPU + f"build_date: {value}\n")
    err = refused(capsys, ["fit", "llama3.1:8b", "--json", "-H", str(tmp_path / "box.yaml")], named)
    assert "build_date" in err and "not valid YAML" not in err, err


@pytest.mark.parametrize("argv", [["fit", "llama3.1:8b"], ["serve", "llama3.1:8b"], ["models", "--fits"],
                                  ["cost", "-t", "1e9", "-m", "llama3.1:8b", "--gpu-price", "2000", "-H"],
                                  ["cost", "-t", "1e9", "-H", "rtx4090", "-H"]])
def test_a_count_before_a_spec_sheet_reads_as_count(capsys, argv):
    """'2x custom:...' answers as 'custom:...,count=2' does, in every command that takes hardware (beside a
    catalog box, the sheet carries its own price=)."""
    outs = []
    sheet = GPU + (",price=2000" if "rtx4090" in argv else "")
    for hw in (f"2x {sheet}", sheet + ",count=2"):
        full = argv + ([] if argv[-1] in ("-H", "--fits") else ["-H"]) + [hw, "--json"]
        code = main(full)
        out, err = capsys.readouterr()
        assert code != 2 and "No such file" not in err and "unknown hardware" not in err, err
        d = json.loads(out)
        d.pop("hardware", None)  # the label keeps the spec as typed
        outs.append((code, json.dumps(d, sort_keys=True).replace(hw, "HW")))
    assert outs[0] == outs[1]


@pytest.mark.parametrize("argv", [["fit", "llama3.1:8b", "-H", GPU + ",price=$2,500"],
                                  ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", GPU + ",price=$2,500"],
                                  ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", GPU + ",price=2,500.50,tdp=300W"]])
def test_a_thousands_comma_in_a_spec_value_is_named(capsys, argv):
    err = refused(capsys, argv, "thousands separators")
    assert "unknown hardware" not in err and "'500' is not key=value" not in err, err


def test_a_dollar_price_with_a_comma_still_reads_in_a_spec_file(tmp_path, capsys):
    (tmp_path / "card.yaml").write_text("vram: 24GB\nbandwidth: 1TB/s\nfp16: 80TFLOPS\nprice: $2,500\n")
    code, out, err = run(capsys, ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", str(tmp_path / "card.yaml"), "--json"])
    assert code == 0, err
    code, inline, err = run(capsys, ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", GPU + ",price=2500", "--json"])
    assert code == 0, err
    assert [r["unit_price_usd"] for r in json.loads(out)["self_host"]] == \
        [r["unit_price_usd"] for r in json.loads(inline)["self_host"]]


def hardware_of(out):
    return sorted(r["hardware"] for r in json.loads(out)["self_host"])


@pytest.mark.parametrize("boxes", [[f"{GPU},price=2500", f"{GPU},price=4000"],
                                   [f"{GPU},price=2500", f"{GPU},price=2500,backend=rocm"],
                                   [f"{GPU},price=2500,name=rtx-4090", "rtx4090"],
                                   ["rtx4090", f"{GPU},price=2500,name=rtx-4090"]])
def test_cost_refuses_two_different_boxes_of_one_name(capsys, boxes):
    argv = ["cost", "-t", "1e9", "-m", "llama3.1:8b", "--json"] + [a for b in boxes for a in ("-H", b)]
    refused(capsys, argv, "name=")


def test_cost_compares_two_quotes_of_one_card_once_they_are_named(capsys):
    argv = ["cost", "-t", "1e9", "-m", "llama3.1:8b", "--json", "-H", f"{GPU},price=2500,name=Quote A",
            "-H", f"{GPU},price=4000,name=Quote B"]
    code, out, err = run(capsys, argv)
    assert code == 0, err
    assert hardware_of(out) == ["Quote A", "Quote B"]


def test_cost_prices_one_spec_file_named_two_ways_once(tmp_path, capsys, monkeypatch):
    (tmp_path / "card.yaml").write_text("vram: 24GB\nbandwidth: 1TB/s\nfp16: 80TFLOPS\nprice: 2500\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, ["cost", "-t", "1e9", "-m", "llama3.1:8b", "--json", "-H", "./card.yaml",
                                  "-H", str(tmp_path / "card.yaml")])
    assert code == 0, err
    assert hardware_of(out) == ["custom 24GB 1000GB/s 80TFLOPS"]


def test_an_empty_probe_file_says_it_is_empty(tmp_path, capsys):
    """The README walk: `advisor probe --measure --json > box.json` without numpy (which `pip install .` does not
    bring) exits 2 and the shell leaves box.json empty; `fit --hardware box.json` then said 'not valid JSON'."""
    (tmp_path / "box.json").write_text("\n")
    err = refused(capsys, ["fit", "llama3.1:8b", "--hardware", str(tmp_path / "box.json")], "is empty")
    assert "exits 0" in err, err


@pytest.mark.parametrize("decode, prefill", [("1e-300", "1e-300"), ("1e-10", "6000"), ("900", "1e-300"),
                                             ("5e-324", "6000")])
def test_measured_rates_that_serve_nothing_are_bad_input_not_a_crash(capsys, decode, prefill):
    """--decode-tps 1e-10 passed the '> 0' check and left a box that serves 0 tokens a month: tco's ValueError, exit 3."""
    refused(capsys, ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--decode-tps", decode,
                     "--prefill-tps", prefill], "less than one token a month")


@pytest.mark.parametrize("rate", ["1e-300", "1e-17"])
def test_a_cost_of_capital_too_small_for_a_float_is_straight_line(capsys, rate):
    """The monthly rate (1 + r)^(1/12) - 1 rounds to 0: the capital recovery factor and the NPV's annuity factor
    divided by it (ZeroDivisionError, exit 3). Such a rate is 0 to every printed digit: straight-line, as at 0."""
    base = ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--json"]
    code, out, err = run(capsys, base + ["--cost-of-capital", rate])
    assert code == 0, err
    code, zero, err = run(capsys, base + ["--cost-of-capital", "0"])
    pick = lambda text: [(r["monthly_usd"], r["npv_vs_reference_usd"]) for r in json.loads(text)["self_host"]]  # noqa: E731
    assert pick(out) == pick(zero)


def test_active_hours_too_few_to_serve_a_token_exclude_the_box(capsys):
    """--active-hours 1e-300 (above its open 0 bound) left every box serving 0 tokens a month: tco's ValueError, exit 3.
    The box is excluded saying why; the APIs are still priced. (--peak-to-average 1: under one active hour the
    traffic has no busiest hour above its average, and the default 2 is refused since session 31.)"""
    code, out, err = run(capsys, ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--active-hours", "1e-300",
                                  "--peak-to-average", "1", "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["self_host"] == [] and "less than one token" in data["excluded"][0]["reason"]


def test_a_family_of_one_size_is_not_said_to_have_several():
    """'advisor fit fara1.5' (a family new this session) said "has several sizes; name one: fara1.5:27b": one size.
    Every catalog family with one entry and no default tag (12 of them) now names that one size."""
    from collections import Counter

    from selfhost_advisor.catalog.models import entries, resolve
    from selfhost_advisor.errors import AdvisorError

    one = [f for f, n in Counter(e["id"].split(":")[0] for e in entries()).items() if n == 1]
    # a family some other entry also answers by FAMILY:TAG (lfm2.5:1.2b, an alias of lfm2:1.2b) has two sizes to
    # name (audit33b: 'lfm2.5' said the catalog's one size was lfm2.5:8b-a1b)
    names = [(e["id"].split(":")[0], str(a).lower().partition(":")) for e in entries() for a in e.get("aliases") or ()]
    tagged = {fam for own, (fam, _, tag) in names if fam != own and tag not in ("", "latest")}
    one = [f for f in one if f not in tagged]
    refused = []
    for family in one:
        try:
            resolve(family)
        except AdvisorError as exc:
            refused.append(family)
            text = f"{exc} {getattr(exc, 'hint', '')}"
            assert "several" not in text and f"{family}:" in text, text
    assert "fara1.5" in refused


@pytest.mark.parametrize("argv", [["serve", "llama3.1:8b", "--engine", "mlx", "-H", "m4-max-128gb"],
                                  ["serve", "devstral-small-2", "--engine", "mlx", "-H", "m4-max-128gb"],
                                  ["cost", "-t", "1e9", "-m", "llama3.1:8b", "--engine", "mlx", "-H", "m4-max-128gb"]])
def test_serving_with_mlx_is_refused_not_a_crash(capsys, argv):
    """serve / cost --engine mlx on an Apple box sent MLX's formats to llama-server's slot model, whose quantizer
    knows GGUF types only: KeyError 'MLX_BF16', exit 3 (found sweeping the new families across engines)."""
    refused(capsys, argv, "--engine mlx")


def test_hardware_show_of_a_spec_sheet_says_where_a_spec_goes(capsys):
    """'hardware show custom:...' said "unknown hardware 'custom:...'; ... or give a spec: --hardware custom:...",
    asking for the very thing given."""
    err = refused(capsys, ["hardware", "show", GPU], "catalog profiles")
    assert "unknown hardware" not in err and "--hardware" in err, err


def test_models_fits_with_mlx_off_apple_says_so(capsys):
    """fit --engine mlx off Apple exits 2 naming Apple Silicon; models --fits listed every model as not running."""
    refused(capsys, ["models", "--fits", "2x h100-sxm", "--engine", "mlx"], "Apple Silicon only")


@pytest.mark.parametrize("pre", ["-2x ", "2x 2x ", "nanx ", "\u0662x "])
@pytest.mark.parametrize("argv", [["fit", "llama3.1:8b", "-H"], ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H"]])
def test_custom_after_something_that_is_no_count_is_named(capsys, pre, argv):
    """After '2x custom:...' was read as count=2 (9cd26c0), '-2x custom:...' or '2x 2x custom:...' still said 'cannot
    read hardware file' (fit: the '/' of GB/s) or "unknown hardware '-2x custom:vram=24GB'" (cost)."""
    err = refused(capsys, argv + [pre + GPU], "'custom:' must start it")
    assert "No such file" not in err and "unknown hardware" not in err, err


def test_a_count_too_large_before_a_spec_sheet_is_not_echoed_as_another_number(capsys):
    """'99999999x custom:...' said '1000000x: the count must be between 1 and 64' (the count capped before int())."""
    err = refused(capsys, ["fit", "llama3.1:8b", "-H", "99999999x " + GPU], "between 1 and 64")
    assert "1000000x" not in err, err
