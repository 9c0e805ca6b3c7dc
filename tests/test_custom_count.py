"""A count before a spec sheet, as before a catalog name: "2x custom:vram=...,bandwidth=...,fp16=..." (fit, serve, cost).

Before: fit read it as a file path (the spec holds '/' in 'GB/s') and said "cannot read hardware file"; cost split it
at its commas and named 'custom:vram=32GB' unknown hardware. The documented key count= still works; both given must agree.
"""
from __future__ import annotations

import json

import pytest

from selfhost_advisor.catalog.custom_hw import parse_custom
from selfhost_advisor.cli import main
from selfhost_advisor.record import replace

CARD = "custom:vram=32GB,bandwidth=1.8TB/s,fp16=105TFLOPS"


@pytest.mark.parametrize("prefix", ["2x ", "2x", "2 x ", "2×", " 2X "])
def test_a_prefixed_count_equals_the_count_key(prefix):
    with_prefix, n = parse_custom(prefix + CARD)
    with_key, m = parse_custom(CARD + ",count=2")
    assert (n, m) == (2, 2)
    assert replace(with_prefix, raw={}) == replace(with_key, raw={})  # raw holds the spec as typed


def test_fit_json_of_a_prefixed_spec_is_the_count_keys(capsys):
    outs = []
    for hw in ("2x " + CARD, CARD + ",count=2"):
        assert main(["fit", "llama3.1:70b", "-q", "Q4_K_M", "-H", hw, "--json"]) == 0
        outs.append(json.loads(capsys.readouterr().out))
    a, b = outs
    assert a["options"] == b["options"] and a["hardware"]["devices"] == b["hardware"]["devices"]
    main(["fit", "llama3.1:70b", "-q", "Q4_K_M", "-H", CARD, "--json"])
    one = json.loads(capsys.readouterr().out)
    assert len(a["hardware"]["devices"]) == 2 * len(one["hardware"]["devices"])  # the count took effect


def test_cost_prices_a_prefixed_spec_as_one_box_of_that_many_gpus(capsys):
    rows = []
    for hw in ("4x " + CARD, CARD + ",count=4"):
        code = main(["cost", "-t", "2e9", "-m", "llama3.1:70b", "--json", "-H", hw, "--gpu-price", "2500", "--host-price", "3000"])
        out, err = capsys.readouterr()
        assert code == 0, err
        rows.append(json.loads(out)["self_host"][0])
    assert rows[0]["unit_price_usd"] == rows[1]["unit_price_usd"] == 4 * 2500 + 3000
    assert rows[0]["units"] == rows[1]["units"]


@pytest.mark.parametrize("hw, names", [
    ("2x " + CARD + ",count=3", "disagree"),
    ("0x " + CARD, "between 1 and"),
    ("99999999999x " + CARD, "between 1 and"),
    ("2x custom:cores=8,clock=4GHz,simd=avx2,ram=32GB,channels=2,mts=4800", "only GPUs"),
])
def test_bad_counts_exit_2_in_one_line(capsys, hw, names):
    assert main(["fit", "llama3.1:8b", "-H", hw]) == 2
    err = capsys.readouterr().err.strip()
    assert names in err and "\n" not in err and "Traceback" not in err
