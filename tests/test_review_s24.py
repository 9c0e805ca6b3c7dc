"""Session 24 review (rev24): fit and cost on the same Strix Halo, and a box cost cannot price for want of a TDP.

- `fit -H "ai max+ 395 128gb"` planned on data/apu.yaml's configuration, which carries no price or TDP, while
  `cost -H "ai max+ 395 128gb"` then excluded it ('no price in data/hardware.yaml') though data/hardware.yaml prices
  that very id (ryzen-ai-max-395-128gb, $1,999). The sized name now gives the curated profile, as its id does
  (hw_names._curated_twin); fit's figures are the same either way (same bandwidth, FLOPS, memory and family).
- A Mac or APU configuration given --gpu-price but no TDP (data/apple.yaml, data/apu.yaml list none) was excluded and
  the verdict said 'no box in the comparison can serve this model ... hardware with more memory or a smaller
  quantization would bring self-hosting into the comparison': it serves the load, only its electricity is unpriced.
"""
from __future__ import annotations

import json

import pytest

from clikit import one_line_exit_2, run
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


def _cost(capsys, *extra):
    code, out, _ = run(capsys, "cost", "-t", "2e7", "-m", "llama3.1:8b", "-H", "m4 max 64gb", "--min-quant", "any",
                       *extra, "--json")
    assert code == 0
    return json.loads(out)


def test_a_mac_given_a_price_but_no_tdp_is_said_to_serve_the_load(capsys):
    d = _cost(capsys, "--gpu-price", "3000")
    rec = d["recommendation"]
    first = rec["reasons"][0]
    assert "serves this load" in first and "TDP" in first and "can serve" not in first, first
    changes = " ".join(rec["what_would_change"])
    assert "tdp=" in changes and "more memory" not in changes, changes
    [ex] = d["excluded"]
    assert ex["kind"] == "purchase-unpriced" and "no TDP" in ex["reason"] and "data/hardware.yaml" not in ex["reason"]


def test_a_mac_without_price_or_tdp_names_both_and_no_price_to_win(capsys):
    """--gpu-price alone would not price it (no TDP): the verdict asks for both, and the price-to-win search, which
    would find 'no purchase price makes it win' at every price, is not run for it."""
    d = _cost(capsys)
    first = d["recommendation"]["reasons"][0]
    assert "neither a price nor power draw (TDP)" in first, first
    assert "price=, tdp=" in " ".join(d["recommendation"]["what_would_change"])
    assert not d["price_to_win"]
    [ex] = d["excluded"]
    assert "--gpu-price" in ex["reason"] and "no TDP" in ex["reason"]


def test_a_mac_given_a_price_and_air_gapped_asks_for_the_tdp_not_the_price(capsys):
    d = _cost(capsys, "--gpu-price", "3000", "--air-gapped")
    rec = d["recommendation"]
    assert rec["choice"] == "self-host"
    said = " ".join(rec["reasons"])
    assert "no power draw (TDP)" in said and "give the board power in a spec sheet (tdp=)" in said, said
    assert "give --gpu-price" not in said


def test_an_unpriced_gpu_with_a_tdp_keeps_its_price_to_win(capsys):
    """The table's RTX 4070 has a TDP: the price search still runs and the verdict still asks for a price."""
    code, out, _ = run(capsys, "cost", "-t", "2e7", "-m", "llama3.1:8b", "-H", "rtx 4070", "--min-quant", "any",
                       "--json")
    d = json.loads(out)
    assert code == 0 and d["price_to_win"]
    assert "no price is known to buy or rent it" in d["recommendation"]["reasons"][0]


@pytest.mark.parametrize("version,said", [(9, "has schema_version 9, this advisor reads 1.x"),
                                          (True, "has no readable schema_version")])
def test_a_probe_file_with_a_numeric_schema_version_is_named(capsys, tmp_path, version, said):
    """Issue 16, bad input: 'a probe file from another schema version (read it, or exit 2 naming the version)'. A
    JSON number (a hand-written file) was 'no readable schema_version'; it is read as its major version."""
    box = tmp_path / "box.json"
    box.write_text(json.dumps({"schema_version": version, "ram_bytes": 64 * 10**9, "devices": []}))
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", str(box))
    one_line_exit_2(code, out, err, said)


def test_a_probe_file_with_schema_version_1_as_a_number_is_read(capsys, tmp_path):
    box = tmp_path / "box.json"
    box.write_text(json.dumps({"schema_version": 1, "ram_bytes": 64 * 10**9, "devices": []}))
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", str(box), "-q", "Q4_K_M")
    assert code == 0 and "Q4_K_M" in out, err
