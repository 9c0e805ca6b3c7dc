import pytest
from hypothesis import given, settings, strategies as st

from selfhost_advisor.errors import AdvisorError, BadNumberError, BadSizeError
from selfhost_advisor.units import parse_context, parse_count, parse_size


@pytest.mark.parametrize(
    "text,expected",
    [
        ("24GB", 24 * 10**9),
        ("24 GB", 24 * 10**9),
        ("24GiB", 24 * 2**30),
        ("24 gib", 24 * 2**30),
        ("1.5T", 1_500_000_000_000),
        ("512MiB", 512 * 2**20),
        ("80gb", 80 * 10**9),
        ("1e9B", 10**9),
    ],
)
def test_parse_size_units_are_decimal_or_binary_as_written(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["24GBs", "24 gbs", "-5GB", "GB", "", "24 GBB", "0GB", "nan", "1e99TB", "24XB"])
def test_parse_size_rejects_malformed(text):
    with pytest.raises(BadSizeError):
        parse_size(text)


@pytest.mark.parametrize("text", ["24", "0.4", "1e5", " 80 "])
def test_a_bare_number_is_refused_with_the_fix_never_read_as_bytes(text):
    # issue 19: `--vram 24` meant 24 bytes. The message gives both readings to choose from.
    with pytest.raises(BadSizeError) as e:
        parse_size(text, what="--vram")
    assert "no unit" in str(e.value) and f"{text.strip()}GB" in str(e.value) and f"{text.strip()}GiB" in str(e.value)


@pytest.mark.parametrize("text,written", [("16000000000", "16GB"), ("1e9", "1GB"), ("17179869184", "16GiB"),
                                          ("5e8", "500MB"), ("24576000000", "24.58GB")])
def test_a_bare_byte_count_is_refused_offering_its_byte_reading_not_a_million_gb(text, written):
    # a spec file's `vram: 16000000000` was told 'write 16000000000GB (10^9 bytes)': 16 exabytes. No memory is a
    # million GB, so a bare number of a million or more is offered as the byte count it is, and still refused.
    with pytest.raises(BadSizeError) as e:
        parse_size(text, what="--vram")
    msg = str(e.value)
    assert "no unit" in msg and f"as a byte count it is {written}: write {written}" in msg and f"{text}GB" not in msg
    assert parse_size(written) == pytest.approx(float(text), rel=1e-3)  # the offered text reads back as that count


@pytest.mark.parametrize(
    "text,expected",
    [("2e9", 2 * 10**9), ("500M", 500 * 10**6), ("1.5B", 1_500_000_000), ("2_000_000", 2_000_000), ("10k", 10_000)],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", ["-1", "-2e9", "abc", "1.5X", "", "1e30"])
def test_parse_count_rejects(text):
    with pytest.raises(BadNumberError):
        parse_count(text)


def test_parse_context_forms():
    assert parse_context("8192") == 8192
    assert parse_context("32k") == 32768
    assert parse_context("max", 131072) == 131072
    for bad in ("-5", "0", "8k5", "lots", "1.5M", "17M"):
        with pytest.raises(BadNumberError):
            parse_context(bad, 4096)


def test_parse_context_reads_million_token_windows_as_configs_state_them():
    # the range message says "between 1 and 16M tokens" and docs/cli.md "the longest context windows are 10M": both
    # must parse. Llama 4 Scout's config.json max_position_embeddings 10485760 is "10M" (binary, as 32k = 32768);
    # Llama 4 Maverick's 1048576 is "1M" (data/models.yaml llama4:scout / llama4:maverick max_context)
    assert parse_context("10M") == 10485760
    assert parse_context("1m") == 1048576
    assert parse_context("16M") == 16 * 1024 * 1024


@given(st.text(max_size=30))
def test_parse_size_never_raises_anything_but_advisor_errors(text):
    try:
        value = parse_size(text)
    except AdvisorError:
        return
    assert isinstance(value, int) and value > 0


@given(st.text(max_size=30))
def test_parse_count_never_raises_anything_but_advisor_errors(text):
    try:
        value = parse_count(text)
    except AdvisorError:
        return
    assert isinstance(value, int) and value >= 1


@given(st.text(max_size=20))
def test_parse_context_never_raises_anything_but_advisor_errors(text):
    try:
        value = parse_context(text, 131072)
    except AdvisorError:
        return
    assert 1 <= value <= 2**24


# --- properties over near-valid strings (a grammar that reaches the accepting branches, unlike st.text) ---
# What the units mean, from DESIGN.md ("GB vs GiB stated explicitly"): decimal units are powers of 10, binary are 2^10.
DECIMAL = {"b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12}
BINARY = {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
NEAR_SIZE = st.from_regex(r"\A\s?[-+]?[0-9._]{0,8}([eE][-+]?[0-9]{1,6})?\s?[a-zA-Z]{0,4}\s?\Z")
NEAR_COUNT = st.from_regex(r"\A\s?[-+]?[0-9._]{0,10}([eE][-+]?[0-9]{1,6})?\s?[a-zA-Z]{0,2}\s?\Z")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**6), st.sampled_from(sorted({**DECIMAL, **BINARY})), st.booleans(), st.booleans())
def test_integer_sizes_mean_exactly_number_times_unit(n, unit, upper, space):
    factor = {**DECIMAL, **BINARY}[unit]
    if n * factor > 2**60:
        return
    assert parse_size(f"{n}{' ' if space else ''}{unit.upper() if upper else unit}") == n * factor


@settings(max_examples=200, deadline=None)
@given(st.floats(0.001, 10_000, allow_nan=False), st.sampled_from(["GB", "GiB", "TB", "MiB"]))
def test_fractional_sizes_round_to_the_nearest_byte(x, unit):
    factor = {**DECIMAL, **BINARY}[unit.lower()]
    text = f"{x:.3f}{unit}"
    assert abs(parse_size(text) - float(f"{x:.3f}") * factor) <= 1


@settings(max_examples=200, deadline=None)
@given(NEAR_SIZE | st.text(max_size=12))
def test_size_parser_gives_a_positive_byte_count_or_bad_size(text):
    try:
        value = parse_size(text)
    except BadSizeError:
        return
    assert isinstance(value, int) and 1 <= value <= 2**60
    assert not text.strip().startswith("-")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**15), st.sampled_from(["", "k", "M", "B", "T"]), st.booleans())
def test_integer_token_counts_mean_exactly_number_times_suffix(n, suffix, underscores):
    factor = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}[suffix.lower()]
    if n * factor > 10**18:
        return
    digits = f"{n:_}" if underscores else str(n)
    assert parse_count(f"{digits}{suffix}") == n * factor


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9), st.integers(0, 17))
def test_scientific_token_counts(mantissa, exponent):
    assert parse_count(f"{mantissa}e{exponent}") == mantissa * 10**exponent


@settings(max_examples=200, deadline=None)
@given(NEAR_COUNT | st.text(max_size=12))
def test_count_parser_gives_a_positive_count_or_bad_number(text):
    try:
        value = parse_count(text)
    except BadNumberError:
        return
    assert isinstance(value, int) and 1 <= value <= 10**18
    assert not text.strip().startswith("-")


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**6, 10**12))
def test_negative_and_zero_counts_are_refused(n):
    if n >= 1:
        assert parse_count(str(n)) == n
    else:
        with pytest.raises(BadNumberError):
            parse_count(str(n))


@pytest.mark.parametrize("text", ["1e400", "1e99999999999", "1e400GB", "0.4", "1e-7", "0.4b"])
def test_huge_exponents_and_sub_byte_sizes_are_refused_quickly(text):
    # 1e99999999999 once built 10**99999999999 as an int (minutes of CPU); 0.4 bytes once rounded to 0 = "no GPU"
    with pytest.raises(BadSizeError):
        parse_size(text)
    if text[-1].isdigit():
        with pytest.raises(BadNumberError):
            parse_count(text)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 2**24), st.booleans())
def test_context_in_tokens_or_binary_k(n, as_k):
    if as_k:
        if n * 1024 <= 2**24:
            assert parse_context(f"{n}k") == n * 1024 == parse_context(f"{n}K")
    else:
        assert parse_context(f" {n} ") == n


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A\s?[-+]?[0-9]{0,9}[kKmM]?\s?\Z") | st.sampled_from(["max", "MAX", " max ", "maxk"]),
       st.none() | st.integers(1, 2**20))
def test_context_parser_gives_a_length_in_range_or_bad_number(text, max_context):
    try:
        value = parse_context(text, max_context)
    except BadNumberError:
        return
    assert 1 <= value <= max(2**24, max_context or 0)
    if text.strip().lower() == "max":
        assert value == max_context


@pytest.mark.parametrize("text", ["0" * 5000 + "1", "1" * 5000, "1e" + "9" * 5000, "1." + "0" * 5000])
def test_thousands_of_digits_are_an_advisor_error_not_pythons_int_limit(text):
    # Python refuses int() of more than 4300 digits with ValueError; the parsers must answer themselves.
    for parse in (parse_size, parse_count):
        try:
            value = parse(text)
        except AdvisorError:
            continue
        assert value == 1  # only "000...01" could be read, as 1
