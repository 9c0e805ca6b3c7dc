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

# "strix halo 128gb" left this list in session 32: the codename covers the Max 390 and 385 too and is refused with
# the three chips (tests/test_typed_names_s32.py)
SIZED = ["ai max+ 395 128gb", "ryzen ai max+ 395 128gb", "radeon 8060s 128gb"]


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


@pytest.mark.parametrize("version,said", [(9, "has schema_version 9, a number"), (1.0, "has schema_version 1.0, a number"),
                                          (True, "has no readable schema_version")])
def test_a_probe_file_with_a_numeric_schema_version_is_named(capsys, tmp_path, version, said):
    """Issue 16, bad input: 'a probe file from another schema version (read it, or exit 2 naming the version)'. A JSON
    number (a hand-written file) said 'no readable schema_version'; it is still refused (tests/test_hostile_s18: the
    schema's version is text) but named, with what this advisor reads."""
    box = tmp_path / "box.json"
    box.write_text(json.dumps({"schema_version": version, "ram_bytes": 64 * 10**9, "devices": []}))
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", str(box))
    one_line_exit_2(code, out, err, said)
    if version is not True:
        assert "reads 1.x" in err


# --- names users type for 2026 hardware (session 24 review): each resolves, or is refused with what to name instead

@pytest.mark.parametrize("name,pid", [
    ("DGX Spark", "dgx-spark"),
    ("RTX PRO 6000 Blackwell", "rtx-pro-6000-blackwell"),
    ("Radeon AI PRO R9700", "radeon-ai-pro-r9700"),
    ("Arc Pro B60", "arc-pro-b60"),
    ("Arc Pro B70", "arc-pro-b70"),
    ("ryzen ai max+ 395 128gb", "ryzen-ai-max-395-128gb"),
    ("m5 16gb", "m5-10c-16gb"),
    ("m5 pro 48gb", "m5-pro-20c-48gb"),
    ("m5 max 128gb", "m5-max-40c-128gb"),
    ("DGX Station GB300", "dgx-station-gb300"),
    ("dgx station (gb300)", "dgx-station-gb300"),
])
def test_a_2026_name_resolves(name, pid):
    assert get_profile(name).id == pid


def test_the_dgx_station_is_its_sourced_blackwell_ultra_gpu():
    """data/gpu_overrides.yaml addition (crowdbyte.ai, rocketnews: 252 GB of HBM3e at 7.1 TB/s beside 496 GB of
    LPDDR5X); the GPU's tensor rates are the GB300 NVL72 GPU's (its 20 PF FP4 is one NVL72 GPU's sparse FP4)."""
    from selfhost_advisor.catalog import gpu_table

    row = gpu_table.by_id("dgx-station-gb300")
    assert row["memory_gib"] == 252 and row["bandwidth_gbps"] == 7100 and "crowdbyte.ai" in row["source"]
    assert row["architecture"] == gpu_table.by_id("b300")["architecture"]
    p = get_profile("dgx station gb300")
    assert p.memory_bytes == 252 * 2**30 and p.bandwidth_bytes_per_s == 7.1e12


def test_a_bare_dgx_station_suggests_the_gb300_one(capsys):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", "DGX Station")
    one_line_exit_2(code, out, err, "did you mean dgx-station-gb300")


@pytest.mark.parametrize("name,said", [
    ("GB200", "--hardware '2x b200' is one GB200"),
    ("nvidia gb200 nvl72", "--hardware '2x b200' is one GB200"),
    ("GB300", "--hardware '4x b300' is one GB300 board"),
    ("gb300 nvl72", "'dgx station gb300'"),
])
def test_a_grace_blackwell_superchip_is_refused_with_the_gpus_to_name(capsys, name, said):
    """It got 'did you mean b200, h200, dgx-spark?': a GB200 is one Grace CPU and two B200 GPUs, a GB300 board two
    Grace CPUs and four B300 GPUs; the named GPUs resolve (fit runs on them)."""
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", name)
    one_line_exit_2(code, out, err, "not one GPU", said)
    assert "dgx-spark" not in err
    hint = said.split("'")[1]
    gpu = hint.split("x ", 1)[1] if hint[0].isdigit() else hint
    assert get_profile(gpu).kind == "gpu"


@pytest.mark.parametrize("name,said", [
    ("M5 Pro", "Apple M5 Pro was sold in more sizes than the sourced ones (20-core GPU 48GB; 20-core GPU 64GB)"),
    ("M5 Max", "(32-core GPU 36GB; 40-core GPU 48GB; 40-core GPU 64GB; 40-core GPU 128GB)"),
    ("m5 max 32c", "(32-core GPU 36GB); name the memory size (e.g. 'm5 max 36gb')"),
    ("m5 pro 24gb", "not among the sourced configurations of Apple M5 Pro"),
])
def test_an_m5_pro_or_max_without_a_size_lists_the_sourced_ones(capsys, name, said):
    """It said 'Apple M5 PRO was sold in more sizes than the sourced Apple M5 Pro 48GB (20-core GPU)' (the chip id
    upper-cased, and only the first sourced configuration), and ended its hint with 'custom:' and nothing after."""
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", name)
    one_line_exit_2(code, out, err, said)
    assert "PRO" not in err and "MAX" not in err and not err.rstrip().endswith("custom:")


# --- cost tells fit's memory story for a unified-memory box (Strix Halo), and takes fit's --gpu-memory

def _fit_usable(capsys, *extra):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "-H", "ai max+ 395 128gb", "-q", "Q4_K_M", *extra, "--json")
    assert code == 0
    dev = json.loads(out)["hardware"]["devices"][0]
    return dev["usable_memory_bytes"], dev["usable_memory_source"]


def _cost_usable(capsys, *extra):
    code, out, _ = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", "-H", "ai max+ 395 128gb", *extra, "--json")
    assert code == 0
    d = json.loads(out)
    mem = d["assumptions"]["usable_memory"]["value"]["ryzen-ai-max-395-128gb"]
    return (mem["usable_bytes"], mem["source"]), d["self_host"][0]["serving"]["max_concurrency"]


@pytest.mark.parametrize("extra", [(), ("--gpu-memory", "64GB")])
def test_cost_is_sized_on_the_usable_memory_fit_states(capsys, extra):
    """fit's Usable line (75% of a Strix Halo's memory: Windows' share; Linux gives half unless raised) was not said
    by cost, and cost had no --gpu-memory: a Linux box at the default share could be fitted but not priced."""
    usable, pool = _cost_usable(capsys, *extra)
    assert usable == _fit_usable(capsys, *extra)


def test_a_smaller_usable_memory_admits_fewer_requests(capsys):
    (_, _), default = _cost_usable(capsys)
    (usable, _), stated = _cost_usable(capsys, "--gpu-memory", "48GB")
    assert usable == 48 * 10**9 and stated < default


def test_cost_text_says_the_usable_line(capsys):
    code, out, _ = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", "-H", "ai max+ 395 128gb")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("Usable"))
    assert "ryzen-ai-max-395-128gb: 103.1 GB of 137.4 GB: iGPU share 75%" in line


def test_cost_without_a_unified_box_has_no_usable_note(capsys):
    code, out, _ = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", "-H", "rtx-4090", "--json")
    assert code == 0 and "usable_memory" not in json.loads(out)["assumptions"]


@pytest.mark.parametrize("hardware,said", [
    (["-H", "rtx-4090"], "has no unified-memory GPU"),
    ([], "give exactly one --hardware"),
    (["-H", "m4-max-128gb,ryzen-ai-max-395-128gb"], "give exactly one --hardware"),
    (["-H", "ai max+ 395 64gb"], "exceeds"),
    (["-H", "custom:vram=64GB,bandwidth=256GB/s,fp16=59TFLOPS,unified=true"], "not a spec sheet"),
])
def test_cost_gpu_memory_where_it_does_not_apply_is_one_line(capsys, hardware, said):
    size = "100GB" if "64gb" in " ".join(hardware) else "32GB"
    code, out, err = run(capsys, "cost", "-t", "2e8", "-m", "llama3.1:8b", *hardware, "--gpu-memory", size)
    one_line_exit_2(code, out, err, said)


def test_serve_takes_fit_gpu_memory_and_says_its_usable_line(capsys):
    """serve sized a Strix Halo on the 75% share too, without a Usable line and without --gpu-memory."""
    code, out, _ = run(capsys, "serve", "llama3.1:8b", "-H", "ai max+ 395 128gb", "--concurrency", "1")
    assert code == 0 and "Usable    103.1 GB of 137.4 GB: iGPU share 75%" in out
    code, out, _ = run(capsys, "serve", "llama3.1:8b", "-H", "ai max+ 395 128gb", "--gpu-memory", "48GB", "--json")
    assert code == 0
    assert json.loads(out)["hardware"]["devices"][0]["usable_memory_bytes"] == 48 * 10**9
    code, text, _ = run(capsys, "serve", "llama3.1:8b", "-H", "ai max+ 395 128gb", "--gpu-memory", "48GB")
    assert code == 0 and "Usable    48.0 GB of 137.4 GB: --gpu-memory 48GB" in text
    code, out, err = run(capsys, "serve", "llama3.1:8b", "-H", "rtx-4090", "--gpu-memory", "48GB")
    one_line_exit_2(code, out, err, "has no unified-memory GPU")


@pytest.mark.parametrize("name,said", [
    ("ai max+ 395 48gb", "no such memory size of the AMD Ryzen AI Max+ 395; sizes: 32 GB, 64 GB, 96 GB, 128 GB"),
    ("ryzen ai max+ 395 256gb", "no such memory size of the AMD Ryzen AI Max+ 395"),  # 96 GB is sold (apu31)
    ("ai max+ 380 64gb", "no sourced Ryzen AI Max 380"),
])
def test_a_max_plus_name_with_a_wrong_size_is_refused_as_that_chip(capsys, name, said):
    """The '+' of 'Max+' was read as the mixed-GPU separator once the size was wrong: 'unknown hardware 'ai max'; did
    you mean m4-max-128gb ...' (machine._MAX_PLUS)."""
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", name)
    one_line_exit_2(code, out, err, said)
    assert "'ai max'" not in err and "m4-max" not in err


def test_a_mixed_spec_still_splits_at_its_plus(capsys):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "-H", "rtx4090+rtx3090", "-q", "Q4_K_M", "--json")
    assert code == 0 and len(json.loads(out)["hardware"]["devices"]) == 2
