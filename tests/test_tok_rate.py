"""A positive tokens/s figure never prints as zero (session 23 review: a custom spec of 1 MB/s printed '0.0 tok/s',
read as no speed at all, and the --min-tps refusal said the fastest option ran at 0.0 tokens/s)."""
from __future__ import annotations

import re

import pytest

from selfhost_advisor.cli import main
from selfhost_advisor.units import tok_rate


@pytest.mark.parametrize("x, fmt", [(48.04, ".1f"), (0.05, ".1f"), (44.4, ".0f"), (1234.5, ",.1f"), (0.0, ".1f")])
def test_a_rate_the_format_shows_is_unchanged(x, fmt):
    assert tok_rate(x, fmt) == format(x, fmt)


@pytest.mark.parametrize("x", [0.049, 0.0042, 9.3e-05, 1.2e-09, 0.4])
def test_a_rate_the_format_rounds_to_zero_keeps_two_significant_digits(x):
    text = tok_rate(x, ".0f")
    assert "e" not in text and float(text) > 0
    assert abs(float(text) - x) <= 0.05 * x + 1e-15  # two significant digits: within 5%


SLOW = "custom:vram=16GB,bandwidth=1MB/s,fp16=60TFLOPS"


def test_fit_prints_a_slow_box_s_speed_and_the_gate_names_it(capsys):
    code = main(["fit", "llama3.1:8b", "--hardware", SLOW, "--quant", "Q4_K_M", "--wide"])
    out, _ = capsys.readouterr()
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("Q4_K_M"))
    decode, prefill = (c.split()[0] for c in row.split("│")[-2:])  # 'decode (band)', prefill
    assert float(decode) > 0 and float(prefill) > 0, row
    code = main(["fit", "llama3.1:8b", "--hardware", SLOW, "--wide"])  # the pick's reason names the best quality's
    out, _ = capsys.readouterr()
    reason = re.search(r"Q8_0, decodes at ([0-9.]+)\)", " ".join(out.split()))
    assert code == 0 and reason and float(reason.group(1)) > 0, out
    code = main(["fit", "llama3.1:8b", "--hardware", SLOW, "--min-tps", "1"])
    _, err = capsys.readouterr()
    assert code == 1
    got = re.search(r"at ([0-9.]+) tokens/s", err)
    assert got and float(got.group(1)) > 0, err
