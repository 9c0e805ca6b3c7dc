"""A name's vendor word must agree with the card it finds; a stated size the card was not sold with is refused with
the sizes it was, also through the shortened spellings; Hawk Point CPUs name their Radeon 780M (session 20 review).

Before: 'rtx 6800s' ran as AMD's RX 6800S, 'rx 4090' as the RTX 4090, 'rtx b580' as the Arc B580 (the series word
was stripped to find a card by its number); '4070s 99gb' said "did you mean t400-4-gb"; 'ryzen 7 8845hs' was unknown.
"""
from __future__ import annotations

import re

import pytest

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.hardware import get_profile, parse_spec
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.catalog.profiles import profiles
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30
# a series word -> its vendor, and a word of another vendor to put in its place
_SERIES = re.compile(r"\b(RTX|GTX|RX|Arc)\b(.*)$")
_VENDOR = {"rtx": "nvidia", "gtx": "nvidia", "rx": "amd", "arc": "intel"}
_OTHER = {"rtx": "rx", "gtx": "arc", "rx": "rtx", "arc": "gtx"}


@pytest.mark.parametrize("typed, card, offered", [
    ("rtx 6800s", "rx-6800s", "nvidia"), ("rtx6800s", "rx-6800s", "nvidia"), ("quadro 6800s", "rx-6800s", "nvidia"),
    ("rx 4090", "rtx-4090", "amd"), ("arc 4090", "rtx-4090", "intel"), ("rtx b580", "arc-b580", "nvidia"),
    ("gtx 7900 xtx", "rx-7900-xtx", "nvidia"),
])
def test_a_vendor_word_that_contradicts_the_card_is_refused_with_that_vendors_cards(typed, card, offered):
    with pytest.raises(UnknownHardwareError) as e:
        get_profile(typed)
    text = str(e.value)
    assert "did you mean" in text and card in text  # names what its number matched, as a way out
    offers = text.split("did you mean ")[1].split("?")[0].split(", ")
    assert 1 <= len(offers) <= 3 and all(get_profile(o).vendor == offered for o in offers), offers


def test_a_vendor_word_that_contradicts_every_memory_variant_is_refused_not_listed():
    """'radeon a770' was refused with Intel's two A770 sizes, inviting the user to pick an Intel card."""
    with pytest.raises(UnknownHardwareError) as e:
        get_profile("radeon a770")
    assert not isinstance(e.value, AmbiguousHardwareError) and "names AMD" in str(e.value)


def test_every_table_row_with_its_series_word_resolves_and_with_another_vendors_word_never_finds_it(no_hints):
    """Property over the whole spec table (381 rows carry RTX, GTX, RX or Arc): the row's own series and model
    resolve to a card of that vendor; the same model after another vendor's word is refused or, where that vendor
    sells such a card, resolves to that vendor's card, never to this row."""
    checked = 0
    for row in gpu_table.rows():
        m = _SERIES.search(row["name"])
        if not m:
            continue
        word = m.group(1).lower()
        try:
            found = [get_profile(row["name"])]
        except AmbiguousHardwareError as err:  # session 32: a plain name also sold in another size lists both
            found = list(err.candidates)
        assert {p.vendor for p in found} == {row["vendor"]} == {_VENDOR[word]}, row["name"]
        swapped = _OTHER[word] + m.group(2)
        try:
            p = get_profile(swapped)
        except UnknownHardwareError:
            pass
        else:
            assert p.vendor == _VENDOR[_OTHER[word]], (swapped, p.id)
        checked += 1
    assert checked > 300


def test_curated_profiles_resolve_by_names_and_aliases_with_vendor_words():
    from selfhost_advisor.catalog.hw_names import named_vendors
    for p in profiles():
        for name in (p.name, *(p.raw.get("aliases") or ())):
            if named_vendors(str(name)):
                try:
                    assert get_profile(str(name)).vendor == p.vendor, name
                except AmbiguousHardwareError:
                    pass  # an alias of several sizes ('radeon 8060s') is refused with them, by design


def test_a_name_of_two_vendors_may_find_either():
    """Kaby Lake G: an Intel CPU with AMD's Radeon RX Vega M; both words name the part, neither contradicts it."""
    from selfhost_advisor.catalog.hw_names import named_vendors
    assert named_vendors("Intel Core i7-8809G Radeon RX Vega M GH") == {"intel", "amd"}
    assert named_vendors("rtx4090") == {"nvidia"} and named_vendors("arcb580") == {"intel"}
    assert named_vendors("NVIDIA GeForce RTX 4090") == {"nvidia"} and named_vendors("m4 max") == set()
    assert named_vendors("Intel(R) Arc(TM) A770 Graphics") == {"intel"}


@pytest.mark.parametrize("typed, has", [("4070s 99gb", "12 GiB, not 99 GB"), ("rtx 4070s 99gb", "12 GiB, not 99 GB"),
                                         ("4080 s 7gb", "16 GiB, not 7 GB")])
def test_a_size_not_sold_is_refused_with_the_cards_size_through_a_short_spelling(typed, has):
    """'4070s 99gb' (the SUPER as shops shorten it) said 'did you mean t400-4-gb': the fallback spelling found the
    card, and its size refusal was swallowed as 'unknown'."""
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec(typed)
    assert has in str(e.value) and "t400" not in str(e.value)
    assert repr(typed) in str(e.value)  # said as typed


@pytest.mark.parametrize("cpu", ["ryzen 7 8845hs", "AMD Ryzen 7 8840HS", "ryzen 7 7840h", "ryzen 9 8945hs",
                                 "ryzen 7 8745hs"])
def test_hawk_point_and_7840h_cpus_name_the_radeon_780m(cpu):
    p = get_profile(f"{cpu} ddr5-5600 32gb")
    assert p.id == "radeon-780m-ddr5-5600-32gb"
    with pytest.raises(AmbiguousHardwareError) as e:  # without memory: the 780M's configurations
        get_profile(cpu)
    assert "radeon-780m-lpddr5x-7500-16gb" in str(e.value)


def test_the_7840h_pattern_does_not_take_other_parts():
    for other in ("ryzen 7 7845hx ddr5-5600 32gb", "ryzen 7 8845h ddr5-5600 32gb"):
        with pytest.raises(UnknownHardwareError) as e:
            get_profile(other)
        assert not isinstance(e.value, AmbiguousHardwareError)


@pytest.mark.parametrize("typed, sizes", [("rtx 3080 16gb", ["10 GiB", "12 GiB", "rtx-3080-12-gb"]),
                                           ("rtx 2060 8gb", ["6 GiB", "12 GiB", "rtx-2060-12-gb"])])
def test_a_size_not_sold_names_every_size_the_card_was_sold_with(typed, sizes):
    """'rtx 3080 16gb' said only 'has 10 GiB': the 12 GB RTX 3080 (its own TechPowerUp row) went unnamed."""
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec(typed)
    assert all(s in str(e.value) for s in sizes), str(e.value)


def test_a_card_sold_in_one_size_names_no_other():
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec("rtx 4090 8gb")
    assert "also sold" not in str(e.value)  # the 4090 D and the Mobile 16 GB are other cards


@pytest.mark.parametrize("typed", ["rtx 6800s x2", "2x rtx 6800s", "rtx6800s x 2"])
def test_a_counted_name_with_a_contradicting_vendor_word_says_so(typed):
    """'rtx 6800s x2' said 'unknown hardware' and offered AMD's cards: the count was not split off."""
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec(typed)
    assert "names NVIDIA" in str(e.value) and "rx-6800s" in str(e.value)


@pytest.mark.parametrize("printed, has", [("Intel(R) Arc(TM) 140V GPU (99GB)", "lpddr5x-8533 32GB"),
                                           ("AMD Radeon 8060S Graphics 99GB", "32 GB, 64 GB, 96 GB, 128 GB")])
def test_an_igpu_size_not_sold_is_refused_with_its_sizes_through_a_driver_spelling(printed, has):
    """A driver-printed iGPU name with a size it was not sold with said 'unknown hardware' with no choices."""
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec(printed)
    assert has in str(e.value) and "unknown hardware" not in str(e.value)
