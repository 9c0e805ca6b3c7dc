"""Session 26 review (rev27): typed hardware names around the session's name changes.

- 'quadro a6000' resolved to the RTX A6000 at 88d8b72; the series-word check of 62f29ee (gpu_table._agrees) refused it
  as a word the row's name lacks and suggested Quadro P6000 / P600 / RTX 6000 instead. NVIDIA's professional cards
  after Turing dropped the Quadro brand but are still sold and searched under it ('PNY Quadro RTX A6000').
- A form the name states ('sxm') lost to the PCIe tie rule among same-sized rows: 'h100 sxm 96gb' was the H100 PCIe
  96 GB and 'a100 sxm 40gb' the A100 40GB PCIe (the table's weaker keys drop the form word).
- Full-width input read as ASCII in parse_spec only: a mixed spec joined by a full-width '＋' was unknown hardware,
  and 'advisor hardware ＲＴＸ ４０９０' said the name had backend or link words after it.
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import get_profile
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.cli import main
from selfhost_advisor.errors import UnknownHardwareError
from selfhost_advisor.machine import resolve_machine


@pytest.mark.parametrize("typed, want", [
    ("quadro a6000", "rtx-a6000"), ("quadro rtx a6000", "rtx-a6000"), ("quadro a4000", "rtx-a4000"),
    ("quadro rtx a5000 mobile", "rtx-a5000-mobile"), ("quadro rtx 8000", "quadro-rtx-8000"),
])
def test_quadro_names_nvidias_professional_cards_after_the_brand_was_dropped(typed, want):
    assert get_profile(typed).id == want


@pytest.mark.parametrize("typed", ["quadro 4090", "quadro rtx 4090", "gtx 4090"])
def test_quadro_or_gtx_on_a_geforce_rtx_number_is_still_refused(typed):
    with pytest.raises(UnknownHardwareError):
        get_profile(typed)


@pytest.mark.parametrize("typed, want", [
    ("h100 sxm 96gb", "h100-sxm5-96-gb"),   # was h100-pcie-96-gb
    ("a100 sxm 40gb", "a100-sxm4-40-gb"),   # was a100-40gb-pcie
    ("h100 pcie 96gb", "h100-pcie-96-gb"),
    ("v100 32gb", "tesla-v100-pcie-32-gb"),  # no form stated: the PCIe card, as before
])
def test_a_stated_form_decides_among_cards_of_one_memory_size(typed, want):
    assert get_profile(typed).id == want


def test_a_stated_form_with_two_cards_of_that_form_is_refused_with_those_only():
    # the V100 32 GB came as SXM2 and SXM3 boards (and PCIe, DGXS): 'sxm' leaves two, neither the PCIe card
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("v100 sxm 32gb")
    line = str(err.value)
    assert "tesla-v100-sxm2-32-gb" in line and "tesla-v100-sxm3-32-gb" in line and "pcie" not in line


def test_a_mixed_spec_joined_by_a_full_width_plus_reads_as_two_cards():
    machine, _ = resolve_machine("ＲＴＸ ４０９０ ＋ ＲＴＸ ３０９０", None, None, None)
    assert [d.matched_profile for d in machine.devices] == ["rtx-4090", "rtx-3090"]


def test_hardware_show_reads_a_full_width_name(capsys):
    assert main(["hardware", "show", "ＲＴＸ ４０９０"]) == 0
    assert "id: rtx-4090" in capsys.readouterr().out


def test_a_size_midway_between_two_variants_names_neither():
    """The near-size rule (7047488) took the one variant within 8% of a stated size; 8% of the larger size reaches
    farther, so 'h100 sxm 87gb', 7 GiB from the 80 GB and from the 94 GB SXM5, was the 94 GB card."""
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("h100 sxm 87gb")
    assert "h100-sxm5-94-gb" in str(err.value) and "h100-sxm (80 GiB)" in str(err.value)
    assert get_profile("h100 sxm 88gb").id == "h100-sxm5-94-gb"  # 6 GiB from 94, 8 from 80: the nearer one
    assert get_profile("gh200 141gb").id == "gh200-144-gb"


def test_a_trailing_pcie_that_names_the_card_is_not_only_a_link_word():
    """parse_spec reads a trailing 'pcie' as the GPUs' link unless a curated profile's name holds it, so 'h800 pcie'
    was refused as 'h800' (the PCIe card and the SXM5 board)."""
    from selfhost_advisor.catalog.hardware import parse_spec

    assert parse_spec("h800 pcie")[:2] == (get_profile("h800-pcie-80-gb"), 1)
    assert parse_spec("2x h800 pcie")[1:] == (2, "pcie")
    assert parse_spec("2x rtx 3090 pcie")[0].id == "rtx-3090"  # a card of one form: still the link word
    with pytest.raises(AmbiguousHardwareError) as err:  # the PCIe cards of both sizes, no SXM board
        parse_spec("a100 pcie")
    assert "a100-40gb-pcie" in str(err.value) and "a100-80gb-pcie" in str(err.value) and "sxm" not in str(err.value)
