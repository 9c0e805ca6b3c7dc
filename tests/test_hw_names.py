"""Hardware names users type -> one profile, a refusal listing the choices, or up to three suggestions (issue 16).

Spec figures checked here come from TechPowerUp pages (each table row's `source`) and vendor datasheets quoted in
scripts/gen_gpu_specs.py; they test the generator's per-architecture rules, not values copied from its output.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, parse_spec
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError, _curated_twin, apple_profiles, table_profile
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30


def test_every_table_row_resolves_by_its_own_name_and_id():
    """By its id always; by its TechPowerUp name, or (session 32) refused with it among the choices where that name is
    the plain name of a card also sold with another memory size ('Radeon PRO W7800': 32 GB, and 48 GB as 'Radeon PRO
    W7800 48 GB'), never silently the first of them."""
    refused = []
    for row in gpu_table.rows():
        want = _curated_twin(table_profile(row)).id
        assert get_profile(row["id"]).id == want, row["id"]
        try:
            assert get_profile(row["name"]).id == want, row["name"]
        except AmbiguousHardwareError as err:
            assert want in str(err) and "memory sizes" in str(err), row["name"]
            refused.append(row["id"])
    # each a plain-named row with a same-named row of another size (gpu_table._memory_variants)
    assert len(refused) <= 15, refused


def test_every_apple_configuration_resolves_by_its_id_and_name():
    for p in apple_profiles():
        for name in (p.id, p.name):
            got = get_profile(name)
            assert (got.memory_bytes, got.raw.get("gpu_cores")) == (p.memory_bytes, p.raw["gpu_cores"]), name


@pytest.mark.parametrize("typed, vendor, gib, bandwidth_gbps", [
    # TechPowerUp: RTX 4070 12 GB 504.2 GB/s; 4070 Ti 12 GB 504.2; Arc B580 12 GB 456; RX 9070 XT 16 GB 644.6;
    # RTX 3090 Ti 24 GB 1008 (384-bit x 21 Gbps); Radeon AI PRO R9700 32 GB 644.6; Tesla P40 24 GB 347.1
    ("rtx 4070", "nvidia", 12, 504.2), ("4070ti", "nvidia", 12, 504.2), ("arc b580", "intel", 12, 456.0),
    ("rx 9070 xt", "amd", 16, 640.0), ("RTX 3090 Ti", "nvidia", 24, 1008.0), ("Radeon AI PRO R9700", "amd", 32, 644.6),
    ("tesla p40", "nvidia", 24, 347.1), ("RTX 4090 laptop", "nvidia", 16, 576.4),
])
def test_names_from_published_llama_bench_rows_resolve(typed, vendor, gib, bandwidth_gbps):
    p = get_profile(typed)
    assert (p.vendor, p.memory_bytes) == (vendor, gib * GIB)
    assert p.bandwidth_bytes_per_s == pytest.approx(bandwidth_gbps * 1e9, rel=0.005)  # 1.01 TB/s is 1008 GB/s rounded


@pytest.mark.parametrize("typed, choices", [
    ("rtx 3060", {"rtx-3060-12gb", "rtx-3060-8-gb"}),
    ("rtx3060", {"rtx-3060-12gb", "rtx-3060-8-gb"}),  # a curated alias no longer picks the 12 GB card silently
    ("4060ti", {"rtx-4060-ti-16gb", "rtx-4060-ti-8-gb"}),
    ("rtx 5060 ti", {"rtx-5060-ti-16-gb", "rtx-5060-ti-8-gb"}),
    ("m4 max", {"m4-max-32c-36gb", "m4-max-40c-48gb", "m4-max-40c-64gb", "m4-max-128gb"}),
    ("a100", {"a100-40gb-pcie", "a100-80gb", "a100-80gb-pcie"}),
])
def test_a_name_with_several_memory_sizes_is_refused_with_the_choices(typed, choices):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    for c in choices:
        assert c in str(err.value)


def test_m4_max_64gb_is_the_64gb_machine_not_the_128gb_one():
    p = get_profile("m4 max 64gb")
    assert p.memory_bytes == 64 * GIB and p.raw["gpu_cores"] == 40  # Apple sells 64 GB only with the 40-core GPU
    assert p.bandwidth_bytes_per_s == 546e9  # 40-core M4 Max: 546 GB/s (notebookcheck, macmegasite)
    assert get_profile("m4 max 36gb").bandwidth_bytes_per_s == 410e9  # 32-core bin


@pytest.mark.parametrize("typed, has", [("rtx 4090 8gb", "24 GiB, not 8 GB"), ("rtx4090 48gb", "24 GiB, not 48 GB"),
                                         ("m4 max 64gb 128gb", "2 memory sizes"), ("rx 7900 xtx 16gb", "not 16 GB")])
def test_a_stated_memory_size_the_card_was_not_sold_with_is_refused(typed, has):
    """A stated size is taken at its word: before, 'rtx 4090 8gb' silently priced the 24 GB card."""
    with pytest.raises(UnknownHardwareError) as e:
        parse_spec(typed)
    assert has in str(e.value)


@pytest.mark.parametrize("typed, gib", [("rtx 4090 24gb", 24), ("m4 max 64gb", 64), ("tesla v100 32 gb", 32),
                                        ("a100 40gb", 40), ("rtx 6000 ada 48gb", 48)])
def test_a_stated_memory_size_that_matches_resolves(typed, gib):
    assert round(get_profile(typed).memory_bytes / 2**30) == gib


def test_apple_configuration_not_sold_is_refused_with_what_was():
    with pytest.raises(UnknownHardwareError, match="not sold") as err:
        get_profile("m4 max 96gb")
    assert "40-core GPU 128GB" in str(err.value)


def test_same_memory_different_gpu_bins_asks_for_the_core_count():
    with pytest.raises(AmbiguousHardwareError, match="core"):
        get_profile("m2 max 64gb")
    assert get_profile("m2 max 30-core 64gb").raw["gpu_cores"] == 30


# the 14 curated Apple profiles whose memory size was sold with two GPU bins (data/apple.yaml); the priced profile is
# one of them, and a name without a core count named both (session 18: 'm4 pro 48gb' silently became the 20-core one)
_TWO_BINS = {"m1-8gb": (7, 8), "m1-16gb": (7, 8), "m1-pro-32gb": (14, 16), "m1-max-64gb": (24, 32),
             "m1-ultra-128gb": (48, 64), "m2-16gb": (8, 10), "m2-pro-32gb": (16, 19), "m2-ultra-192gb": (60, 76),
             "m3-pro-18gb": (14, 18), "m3-pro-36gb": (14, 18), "m4-16gb": (8, 10), "m4-32gb": (8, 10),
             "m4-pro-48gb": (16, 20), "m4-pro-64gb": (16, 20)}


@pytest.mark.parametrize("pid", sorted(_TWO_BINS))
def test_a_curated_apple_name_of_two_gpu_bins_is_refused_with_both(pid):
    low, high = _TWO_BINS[pid]
    spaced = pid.replace("-", " ")  # 'm4 pro 48gb': the alias form, no core count
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(spaced)
    text = str(err.value)
    chip, gb = pid.rsplit("-", 1)
    assert f"{chip}-{low}c-{gb} ({low}-core GPU)" in text and f"{chip}-{high}c-{gb} ({high}-core GPU)" in text
    assert pid in text  # the priced profile is offered with its bin
    # the listed id and a name with a core count resolve: the curated profile for its own bin, the other bin as sold
    own = get_profile(pid)
    assert own.id == pid and own.raw["gpu_cores"] in (low, high)
    base = spaced.rsplit(" ", 1)[0]
    assert get_profile(f"{base} {own.raw['gpu_cores']}-core {gb}").id == pid
    cores = high if own.raw["gpu_cores"] == low else low
    other = get_profile(f"{base} {cores}-core {gb}")
    assert other.id == f"{chip}-{cores}c-{gb}" and other.raw["gpu_cores"] == cores


def test_curated_apple_profiles_with_one_bin_still_resolve_by_alias():
    for typed, pid in (("m4 max 128gb", "m4-max-128gb"), ("m3 ultra 512gb", "m3-ultra-512gb"), ("m2 max 96gb", "m2-max-96gb")):
        assert get_profile(typed).id == pid


def test_unknown_gpu_gets_at_most_three_suggestions():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("rtx 4070 tii")
    line = str(err.value)
    assert "rtx-4070-ti" in line and "\n" not in line
    assert len(line.split("did you mean ")[1].split("?")[0].split(", ")) <= 3


def test_a_table_gpu_multiplies_and_keeps_its_backend():
    profile, count, _ = parse_spec("2x arc b580")
    assert (profile.id, count, profile.backend) == ("arc-b580", 2, "sycl")
    machine = machine_from_profile(profile, count)
    assert len(machine.devices) == 2 and machine.devices[0].matched_profile == "arc-b580"


def test_derived_tensor_rates_reproduce_vendor_datasheets():
    # NVIDIA T4 datasheet 65 TFLOPS FP16 / 130 TOPS INT8; AMD MI300X 1307.4 / 2614.9; Intel Max 1550 839 FP16.
    t4 = gpu_table.by_id("tesla-t4")
    assert t4["fp16_tflops"] == pytest.approx(65, rel=0.01) and t4["int8_tops"] == pytest.approx(130, rel=0.01)
    mi = gpu_table.by_id("radeon-instinct-mi300x")
    assert mi["fp16_tflops"] == pytest.approx(1307.4, rel=0.005)
    assert gpu_table.by_id("data-center-gpu-max-1550")["fp16_tflops"] == pytest.approx(839, rel=0.005)
    # GeForce: FP32-accumulate is half the FP16-accumulate rate (RTX 4090 165.2 / 330.3, hmc-tech)
    g = gpu_table.by_id("rtx-4090")
    assert (g["fp16_tflops"], g["fp16_acc16_tflops"]) == (165.2, 330.3)


def test_every_row_has_a_source_and_the_speed_model_inputs():
    for row in gpu_table.rows():
        added = row.get("added") and row["source"].startswith("https://")  # gpu_overrides.yaml additions: the page read
        assert added or row["source"].startswith("https://www.techpowerup.com/gpu-specs/"), row["id"]
        assert row["bandwidth_gbps"] > 0 and row["memory_gib"] > 0 and row["backend"] in ("cuda", "rocm", "vulkan", "sycl")
        if row["backend"] == "cuda":
            assert row["shaders"] and row["boost_clock_mhz"], row["id"]


def test_fit_with_a_curated_profile_never_reads_the_spec_table():
    """Start-up stays lean (issue 8): the 700-row table and the Apple configurations load only for other names."""
    code = ("import io, contextlib; from selfhost_advisor.cli import main\n"
            "from selfhost_advisor.catalog import gpu_table, hw_names\n"
            "for hw in ('rtx4090', '2x rtx4090', 'm2-ultra-192gb', 'a100-80gb'):\n"
            "    with contextlib.redirect_stdout(io.StringIO()):\n"
            "        assert main(['fit', 'llama3.1:8b', '--hardware', hw, '--json']) == 0\n"
            "print(gpu_table.rows.cache_info().currsize, hw_names.apple_profiles.cache_info().currsize)\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['fit', 'llama3.1:8b', '--hardware', 'arc b580', '--json'])\n"
            "print(gpu_table.rows.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "0", "1"]


@pytest.mark.parametrize("printed, want", [
    # as ggml_vulkan / NVML / amdsmi print them (llama-bench rows carry these strings)
    ("Intel(R) Arc(TM) A750 Graphics", "arc-a750"),
    ("Intel(R) Arc(TM) B580 Graphics", "arc-b580"),
    ("AMD Radeon RX 7900 XTX (RADV NAVI31)", "rx-7900-xtx"),
    ("AMD Radeon (TM) Pro VII", "radeon-pro-vii"),
    ("NVIDIA GeForce RTX 4090 (NVIDIA)", "rtx-4090"),
    ("AMD Radeon RX 6800 XT (RADV NAVI21)", "rx-6800-xt"),
])
def test_device_names_as_drivers_print_them_resolve(printed, want):
    assert get_profile(printed).id == want


def test_a_cleaned_name_still_refuses_memory_variants_and_unknowns_keep_the_typed_name():
    with pytest.raises(AmbiguousHardwareError):
        get_profile("Radeon 8060S Graphics (RADV GFX1151)")  # three Strix Halo sizes
    with pytest.raises(UnknownHardwareError, match="'nosuch \\(tm\\) gpu'"):
        get_profile("nosuch (tm) gpu")
