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
