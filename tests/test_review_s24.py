"""Session 24 review (rev24): fit and cost on the same Strix Halo, and a box cost cannot price for want of a TDP.

- `fit -H "ai max+ 395 128gb"` planned on data/apu.yaml's configuration, which carries no price or TDP, while
  `cost -H "ai max+ 395 128gb"` then excluded it ('no price in data/hardware.yaml') though data/hardware.yaml prices
  that very id (ryzen-ai-max-395-128gb, $1,999). The sized name now gives the curated profile, as its id does
  (hw_names._curated_twin); fit's figures are the same either way (same bandwidth, FLOPS, memory and family).
"""
from __future__ import annotations

import json

import pytest

from clikit import run
from selfhost_advisor.catalog.hardware import get_profile

SIZED = ["ai max+ 395 128gb", "ryzen ai max+ 395 128gb", "radeon 8060s 128gb", "strix halo 128gb"]


@pytest.mark.parametrize("name", SIZED)
def test_a_strix_halo_named_with_its_size_is_the_priced_curated_profile(name):
    curated = get_profile("ryzen-ai-max-395-128gb")
    assert curated.price_usd and curated.tdp_watts  # the curated row is priced (data/hardware.yaml, modelfit.io)
    p = get_profile(name)
    assert (p.id, p.name, p.price_usd, p.tdp_watts) == (curated.id, curated.name, curated.price_usd, curated.tdp_watts)


def test_the_other_strix_halo_sizes_stay_apu_configurations():
    """Only the 128 GB build is curated: the 64 GB one is data/apu.yaml's, unpriced (cost says why)."""
    p = get_profile("ai max+ 395 64gb")
    assert p.id == "ryzen-ai-max-395-64gb" and p.price_usd is None


def _fit(capsys, hardware):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "-H", hardware, "-q", "Q4_K_M,Q8_0", "--json")
    assert code == 0
    d = json.loads(out)
    dev = d["hardware"]["devices"][0]
    speeds = [(o["quant"], o.get("decode_tokens_per_s"), o.get("prefill_tokens_per_s")) for o in d["options"]]
    return dev["usable_memory_bytes"], dev["bandwidth_bytes_per_s"], speeds


def test_fit_tells_the_same_story_by_id_and_by_sized_name(capsys):
    assert _fit(capsys, "ai max+ 395 128gb") == _fit(capsys, "ryzen-ai-max-395-128gb")


def test_cost_prices_the_strix_halo_fit_planned_on(capsys):
    code, out, _ = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", "-H", "ai max+ 395 128gb", "--json")
    assert code == 0
    d = json.loads(out)
    assert not d["excluded"], d["excluded"]
    box = d["self_host"][0]
    assert box["hardware"] == "ryzen-ai-max-395-128gb" and box["unit_price_usd"] > 0 and box["gpu_watts"] > 0
