"""Session 26 (lead): names that stated something the resolved card contradicts, and full-width input.

'gtx 4090' and 'rtx 4090 sxm6' resolved, quietly, to the GeForce RTX 4090: the spec table's weaker keys drop the series
word and the form word, so a typo or a card that does not exist was answered for another card. Issue 16: an unknown
name gets one line with up to three suggestions. East Asian input methods type full-width letters ('ＲＴＸ ４０９０'):
those were unknown with no suggestion.
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.hardware import get_profile, parse_spec
from selfhost_advisor.errors import UnknownHardwareError


@pytest.mark.parametrize("typed, suggested", [
    ("gtx 4090", "rtx-4090"),          # no GeForce GTX 4090 was made
    ("rtx 4090 sxm5", "rtx-4090"),     # a GeForce is a PCIe card; SXM carries server parts only
    ("rtx 4090 sxm6", "rtx-4090"),
    ("gtx 3090", "rtx-3090"),
])
def test_a_series_or_module_word_the_card_lacks_is_refused_with_suggestions(typed, suggested):
    with pytest.raises(UnknownHardwareError) as err:
        parse_spec(typed)
    line = str(err.value)
    assert "\n" not in line
    assert suggested in line.split("did you mean ")[1].split("?")[0].split(", ")


@pytest.mark.parametrize("typed, want", [
    ("gtx 1080", "gtx-1080"), ("gt 1030", "gt-1030"), ("geforce gtx 1650", "gtx-1650"), ("gtx 1660 super", "gtx-1660-super"),
    ("quadro rtx 6000", "quadro-rtx-6000"), ("titan rtx", "titan-rtx"), ("rtx a4000", "rtx-a4000"),
    ("rx 7900 xtx", "rx-7900-xtx"), ("4090", "rtx-4090"),
    # a row whose name has no series word takes its vendor's ('gtx titan xp': NVIDIA named it TITAN Xp)
    ("gtx titan xp", "titan-xp"), ("gtx titan v", "titan-v"),
    # module forms on the server parts that carry them, also where the table's name states none (MI300X is OAM only)
    ("h100 sxm5", "h100-sxm"), ("mi300x oam", "mi300x"), ("b200 sxm", "b200"),
])
def test_names_whose_words_agree_with_the_card_still_resolve(typed, want):
    assert get_profile(typed).id == want


def test_every_table_row_still_resolves_by_its_own_name():
    """The agreement check reads the typed words against the row's own name: no row may lose its own name."""
    lost = [r["name"] for r in gpu_table.rows() if r not in gpu_table.lookup(r["name"])]
    assert not lost


@pytest.mark.parametrize("wide, ascii_", [
    ("ＲＴＸ　４０９０", "rtx 4090"), ("２ｘ ｒｔｘ４０９０", "2x rtx4090"), ("ａｒｃ ｂ５８０", "arc b580"),
    ("Ｍ４ Ｍａｘ ６４ＧＢ", "m4 max 64gb"),
])
def test_full_width_letters_read_as_their_ascii(wide, ascii_):
    got, want = parse_spec(wide), parse_spec(ascii_)
    assert (got[0].id, got[1]) == (want[0].id, want[1])


def test_an_unknown_full_width_name_gets_suggestions_in_one_line():
    with pytest.raises(UnknownHardwareError) as err:
        parse_spec("ＲＴＸ ４０９９")
    line = str(err.value)
    assert "\n" not in line and "rtx-4090" in line
