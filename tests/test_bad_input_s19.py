"""Bad-input gaps found in session 19, checked in-process below the CLI (the CLI rows are in test_bad_input.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from selfhost_advisor.errors import BadOptionError


def test_price_date_before_the_price_data_is_refused_and_its_first_day_accepted():
    from selfhost_advisor.cost.cloud import price_data_dates
    from selfhost_advisor.cost.run import _price_date

    first, newest = price_data_dates()
    assert first <= newest
    with pytest.raises(BadOptionError, match=f"observed {first.isoformat()} to {newest.isoformat()}"):
        _price_date((first - timedelta(days=1)).isoformat())
    with pytest.raises(BadOptionError, match="0001-01-01"):
        _price_date("0001-01-01")
    assert _price_date(first.isoformat()).date() == first


def test_custom_vram_below_the_runtime_context_is_refused_at_the_engines_own_figure():
    from selfhost_advisor.catalog.custom_hw import parse_custom
    from selfhost_advisor.estimate.memory_engine import runtime_bytes

    floor = runtime_bytes(1, "cuda")
    assert floor > 0
    sheet = "custom:vram={}B,bandwidth=448GB/s,fp16=60TFLOPS"
    with pytest.raises(BadOptionError, match="runtime context"):
        parse_custom(sheet.format(floor - 1))
    with pytest.raises(BadOptionError, match="vram=1e-9GB is 1 byte,"):
        parse_custom(sheet.format("1e-9G"))
    assert parse_custom(sheet.format(floor))[0].memory_bytes == floor
    # Metal counts no separate context (data/engines.yaml); its floor is the RAM kept for the OS (a Mac's GPU memory is
    # its RAM: session 20, tests/test_hygiene_s20.py)
    assert runtime_bytes(1, "metal") == 0
    with pytest.raises(BadOptionError, match="kept for the OS"):
        parse_custom(sheet.format(floor - 1) + ",backend=metal")


@pytest.mark.parametrize("spec, digits, profile", [
    ("dual 3090", "2x 3090", "rtx-3090"), ("Quad RTX 4090", "4x rtx 4090", "rtx-4090"),
    ("dual-rtx3090 nvlink", "2x rtx3090 nvlink", "rtx-3090"), ("dual 7900xtx", "2x 7900xtx", "rx-7900-xtx"),
])
def test_dual_and_quad_count_gpus_as_2x_and_4x_do(spec, digits, profile):
    from selfhost_advisor.catalog.hardware import parse_spec

    p, n, link = parse_spec(spec)
    assert p.id == profile and (p.id, n, link) == (parse_spec(digits)[0].id, *parse_spec(digits)[1:])
    assert n == int(digits[0])


def test_dual_and_quad_stay_out_of_other_names():
    from selfhost_advisor.catalog.hardware import parse_spec
    from selfhost_advisor.errors import UnknownHardwareError

    assert parse_spec("quadro rtx 4000")[:2] == (parse_spec("quadro-rtx-4000")[0], 1)  # 'quad' needs a separator
    box, n, _ = parse_spec("dual epyc genoa")  # a two-socket CPU server's own name, not 2 x 'epyc genoa'
    assert n == 1 and box.kind == "cpu"
    with pytest.raises(UnknownHardwareError, match="gives the count twice"):
        parse_spec("dual 2x 3090")


def test_dual_counts_a_spec_sheet_as_2x_does():
    from selfhost_advisor.catalog.hardware import parse_spec

    sheet = "custom:vram=24GB,bandwidth=1TB/s,fp16=80TFLOPS"
    assert parse_spec(f"dual {sheet}")[1] == parse_spec(f"2x {sheet}")[1] == 2
    assert parse_spec(f"quad-{sheet}")[1] == 4
