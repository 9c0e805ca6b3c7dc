"""Hardware data of issue 16: the GPU table's sourced corrections (data/gpu_overrides.yaml), its agreement with the
curated profiles, laptop iGPUs named by their CPU, where a unified-memory part's usable memory comes from (fit text and
JSON), dated purchase quotes, and --memory free without a GPU."""
from __future__ import annotations

import importlib.util
import io
import json
import statistics
from pathlib import Path

import pytest
import yamlkit

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, unified_usable
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError, apu_profiles, by_id
from selfhost_advisor.catalog.profiles import profiles
from selfhost_advisor.domain import Machine
from selfhost_advisor.errors import AdvisorError, UnknownHardwareError
from selfhost_advisor.machine import apply_memory_options

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30


def _generator():
    spec = importlib.util.spec_from_file_location("gen_gpu_specs", ROOT / "scripts" / "gen_gpu_specs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- corrections to the generated table -------------------------------------------------------------------------------

def test_every_override_is_in_the_generated_table_with_its_source():
    """The table was regenerated after the last edit of gpu_overrides.yaml (else a fix would silently not apply)."""
    rows = {r["id"]: r for r in gpu_table.rows()}
    for fix in load("gpu_overrides")["fixes"]:
        assert fix["source"].strip(), fix["id"]
        if "variants" in fix:
            assert fix["id"] not in rows, f"{fix['id']} should be split into its variants"
            targets = [(v["id"], v) for v in fix["variants"]]
        else:
            targets = [(fix["id"], fix["set"])]
        for rid, want in targets:
            row = rows[rid]
            for key, value in want.items():
                assert row[key] == value, (rid, key)
            assert row["correction"] == " ".join(str(fix["source"]).split())


def test_apply_overrides_sets_splits_and_refuses_a_fix_naming_no_row():
    gen = _generator()
    base = [{"id": "x-1", "name": "X 1", "memory_gib": 16.0, "bandwidth_gbps": 512.0, "source": "tpu"}]
    split = gen.apply_overrides(base, [{"id": "x-1", "source": "vendor page", "variants": [
        {"id": "x-1-8gb", "name": "X 1 8 GB", "memory_gib": 8.0, "bandwidth_gbps": 512.0},
        {"id": "x-1-16gb", "name": "X 1 16 GB", "memory_gib": 16.0, "bandwidth_gbps": 560.0}]}])
    assert [(r["id"], r["memory_gib"], r["bandwidth_gbps"], r["corrected"]) for r in split] == [
        ("x-1-8gb", 8.0, 512.0, ["memory_gib"]), ("x-1-16gb", 16.0, 560.0, ["bandwidth_gbps"])]
    assert all(r["source"] == "tpu" and r["correction"] == "vendor page" for r in split)
    fixed = gen.apply_overrides(base, [{"id": "x-1", "source": "s", "set": {"bandwidth_gbps": 500.0}}])
    assert fixed[0]["bandwidth_gbps"] == 500.0 and base[0]["bandwidth_gbps"] == 512.0  # input untouched
    with pytest.raises(SystemExit, match="names 0 rows"):
        gen.apply_overrides(base, [{"id": "nosuch", "source": "s", "set": {"bandwidth_gbps": 1.0}}])
    with pytest.raises(SystemExit, match="unknown fields"):
        gen.apply_overrides(base, [{"id": "x-1", "source": "s", "set": {"bandwith_gbps": 1.0}}])


def test_arc_a770_is_two_cards_and_a_bare_name_lists_both():
    # Intel (svethardware.cz, 2022-09): the 16 GB A770 runs 17.5 Gbps = 560 GB/s; the 8 GB board 16 Gbps = 512 GB/s
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("arc a770")
    assert "arc-a770-8gb (8 GiB)" in str(err.value) and "arc-a770-16gb (16 GiB)" in str(err.value)
    big, small = get_profile("arc a770 16gb"), get_profile("Intel Arc A770 8 GB")
    assert (big.memory_bytes, big.bandwidth_bytes_per_s) == (16 * GIB, 560e9)
    assert (small.memory_bytes, small.bandwidth_bytes_per_s) == (8 * GIB, 512e9)
    assert "svethardware.cz" in big.raw["sources"]["correction"]
    from selfhost_advisor.probe.match import match_table
    assert match_table("intel", "Intel(R) Arc(TM) A770 Graphics", 16 * GIB).id == "arc-a770-16gb"  # a probe knows VRAM


def _curated_gpus():
    out = []
    for p in profiles():
        rows = gpu_table.lookup(p.name) if p.kind == "gpu" else []
        if len(rows) == 1:
            out.append((p, rows[0]))
    return out


@pytest.mark.parametrize("p, row", _curated_gpus(), ids=lambda x: getattr(x, "id", None) or x["id"])
def test_table_rows_agree_with_the_curated_sourced_profiles(p, row):
    """Spot check of the generated table: a curated profile's figures come from vendor pages (data/hardware.yaml
    sources); its table row must agree (bandwidth 0.5%, memory exact, FP16 3%) or carry a sourced correction."""
    assert row["bandwidth_gbps"] * 1e9 == pytest.approx(p.bandwidth_bytes_per_s, rel=0.005), row["id"]
    assert round(row["memory_gib"] * GIB) == p.memory_bytes, row["id"]
    if p.fp16_flops and row.get("fp16_tflops"):
        assert row["fp16_tflops"] * 1e12 == pytest.approx(p.fp16_flops, rel=0.03), row["id"]


def test_the_spot_check_covers_the_common_cards():
    checked = {p.id for p, _ in _curated_gpus()}
    assert {"rtx-3090", "rtx-4090", "rtx-5090", "l4", "l40s", "h100-sxm", "h200", "b200", "mi300x",
            "rx-7900-xtx"} <= checked


# --- laptop iGPUs named by CPU ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, sizes", [
    ("ryzen ai 9 hx 370", ("16 GiB", "32 GiB", "64 GiB")), ("AMD Ryzen AI 9 HX 375", ("16 GiB", "64 GiB")),
    ("core ultra 7 268v", ("16 GiB", "32 GiB")), ("intel arc 140v", ("16 GiB", "32 GiB")),
])
def test_a_laptop_chip_without_a_size_is_refused_with_the_sizes_sold(typed, sizes):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    assert all(s in str(err.value) for s in sizes)


@pytest.mark.parametrize("typed, chip, bandwidth", [
    ("ryzen ai 9 hx 370 lpddr5x-7500 32gb", "radeon-890m", 120e9),  # 128-bit LPDDR5X-7500
    ("ryzen ai 9 hx 370 ddr5-5600 96gb", "radeon-890m", 89.6e9),    # two DDR5-5600 SO-DIMMs (Framework)
    ("ryzen ai 9 365 lpddr5x-7500 16gb", "radeon-880m", 120e9),    # the 12-CU part of the same die
    ("core ultra 7 258v 32gb", "arc-140v", 136.5e9),          # 128-bit LPDDR5X-8533 on package
    ("Intel Core Ultra 9 288V 32GB", "arc-140v", 136.5e9),
    ("core ultra 5 234v 16gb", "arc-130v", 136.5e9),          # Core Ultra 5: the 7-Xe-core Arc 130V
    ("core ultra 7 155h ddr5-5600 32gb", "arc-meteor-lake-8xe", 89.6e9),       # Meteor Lake H: 8 Xe on Ultra 7/9
    ("Intel Core Ultra 5 125H LPDDR5X-7467 16GB", "arc-meteor-lake-7xe", 119.5e9),  # 7 Xe on Ultra 5
])
def test_a_laptop_chip_with_a_size_resolves_to_its_igpu(typed, chip, bandwidth):
    p = get_profile(typed)
    assert (p.raw["chip"], p.bandwidth_bytes_per_s, p.unified) == (chip, bandwidth, True)


def test_a_lunar_lake_sku_whose_package_memory_was_read_needs_no_size():
    # notebookcheck.net: 256V and 258V differ only in on-package memory, 16 GB vs 32 GB
    assert get_profile("core ultra 7 258v").memory_bytes == 32 * GIB
    assert get_profile("Intel Core Ultra 7 256V").memory_bytes == 16 * GIB
    with pytest.raises(UnknownHardwareError, match="has 32 GB of memory on its package"):
        get_profile("core ultra 7 258v 16gb")


def test_a_size_sold_with_two_memory_types_lists_both():
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("ryzen ai 9 hx 370 32gb")
    assert "radeon-890m-ddr5-5600-32gb" in str(err.value) and "radeon-890m-lpddr5x-7500-32gb" in str(err.value)


def test_sizes_not_sold_and_other_chips_are_not_guessed():
    with pytest.raises(UnknownHardwareError, match="listed: lpddr5x-8533 16GB, lpddr5x-8533 32GB"):
        get_profile("core ultra 7 268v 64gb")  # memory on package: 16 or 32 GB only
    with pytest.raises(UnknownHardwareError):
        get_profile("core ultra 7 155u 16gb")  # Meteor Lake U: no Arc GPU listed, not mistaken for the H parts
    with pytest.raises(UnknownHardwareError, match="listed: ddr5-5600 16GB"):
        get_profile("core ultra 7 155h lpddr5x-7467 96gb")  # LPDDR5X up to 64 GB; 96 GB only as DDR5 SO-DIMMs


def test_every_igpu_configuration_resolves_by_its_own_id_and_name():
    for p in apu_profiles():
        assert by_id(p.id) == p and get_profile(p.id).id == p.id and get_profile(p.name).id == p.id


def test_arc_140v_xmx_rate_reproduces_intels_67_tops():
    # 8 Xe2 cores x 2048 FP16 FLOP/clk (data/gpu_specs.yaml Xe2 rule); INT8 twice that at the 288V's 2.05 GHz
    p = get_profile("arc 140v 32gb")
    per_clock = p.fp16_flops / 1.95e9
    assert per_clock == pytest.approx(8 * 2048, rel=0.01)
    assert 2 * per_clock * 2.05e9 / 1e12 == pytest.approx(67, rel=0.01)


def test_jetson_thor_tensor_rate_is_nvidias_fp4_figure_not_the_b200_clock_and_cores():
    """Jetson T5000: NVIDIA's 2070 sparse FP4 TFLOPS / 2 / 4 must agree with the Blackwell rule on the SMs and clock
    the module has (20 SMs x 4 tensor cores x 1.575 GHz x 2048), not TechPowerUp's full-chip 96 cores at 2.525 GHz
    (496 TFLOPS)."""
    t5 = gpu_table.by_id("jetson-t5000")
    assert t5["fp16_tflops"] == pytest.approx(2070 / 8, rel=0.01)
    rule = t5["units"] * 4 * t5["boost_clock_mhz"] * 1e6 * 2048 / 1e12
    assert t5["fp16_tflops"] == pytest.approx(rule, rel=0.01)
    t4 = gpu_table.by_id("jetson-t4000")
    assert t4["fp16_tflops"] == pytest.approx(1200 / 8, rel=0.01)
    assert t4["int8_tops"] == pytest.approx(2 * t4["fp16_tflops"], rel=0.01)
    assert get_profile("jetson t5000").fp16_flops < 0.6 * 496.4e12


# --- where usable memory comes from -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, share, words", [
    ("m4 max 64gb", 0.78, "Metal working-set limit 78% (macOS 26 default)"),  # macOS 26: 0.78 up to 96 GiB
    ("m2-16gb", 0.78, "Metal working-set limit 78%"),
    ("ryzen ai max+ 395 128gb", 0.75, "iGPU share 75%"),
    ("core ultra 7 258v 32gb", 0.57, "Intel driver's shared GPU memory default (57%)"),
])
def test_a_unified_part_says_where_its_usable_memory_comes_from(typed, share, words):
    d = machine_from_profile(get_profile(typed), 1).devices[0]
    assert d.usable_memory_bytes == int(d.memory_bytes * share)
    assert words in d.details.usable_memory_source


def test_dgx_spark_uses_the_memory_cuda_reports_not_apples_rule():
    usable, basis = unified_usable(get_profile("dgx spark"))
    assert usable == int(121.69 * GIB) and "CUDA-reported" in basis  # 121.69 GiB of 128 (MiaAI-Lab issue #47)


def test_fit_text_and_json_show_the_usable_memory_and_its_source():
    from selfhost_advisor.cli import main

    out = io.StringIO()
    import contextlib
    with contextlib.redirect_stdout(out):
        assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", "m4 max 64gb", "--wide"]) == 0
    text = out.getvalue()
    assert "Usable   53.6 GB of 68.7 GB: Metal working-set limit 78% (macOS 26 default)" in text and "iogpu.wired_limit_mb" in text
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", "m4 max 64gb", "--gpu-memory", "60GiB", "--json"]) == 0
    dev = json.loads(out.getvalue())["hardware"]["devices"][0]
    assert dev["usable_memory_bytes"] == 60 * GIB and dev["usable_memory_source"].startswith("--gpu-memory 60GiB")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", "rtx 4070", "--wide"]) == 0
    assert "Usable" not in out.getvalue()  # a discrete card: all of its VRAM, nothing to explain


def test_the_apu_probe_states_the_carve_out_and_gtt_split():
    from selfhost_advisor.probe.amd import _split

    text = _split(512 * 2**20, 62 * GIB)
    assert "BIOS-carved VRAM 0.5 GiB" in text and "GTT 62.0 GiB" in text


# --- purchase quotes --------------------------------------------------------------------------------------------------

QUOTED = [e for e in yamlkit.safe_load((ROOT / "data" / "hardware.yaml").read_text())["hardware"] if e.get("price_quotes")]


@pytest.mark.parametrize("e", QUOTED, ids=lambda e: e["id"])
def test_a_quoted_price_is_the_median_of_its_dated_quotes_and_thin_ones_say_so(e):
    quotes = e["price_quotes"]
    assert all(q["url"].startswith("https://") and str(q["published"])[:4].isdigit() and q["usd"] > 0 for q in quotes)
    assert e["price_usd"] == statistics.median(q["usd"] for q in quotes)
    assert ("thin" in e["sources"]["price"]) == (len(quotes) < 3)


def test_l40s_h200_and_b200_can_be_bought():
    assert {e["id"] for e in QUOTED} >= {"l40s", "h200", "b200"}
    assert all(get_profile(pid).price_usd for pid in ("l40s", "h200", "b200"))


# --- --memory free without a GPU ---------------------------------------------------------------------------------------

def test_memory_free_on_a_cpu_machine_fits_against_the_ram_available_now():
    reserve = int(load("engines")["runtime"]["os_reserve_bytes"])
    box = Machine(name="box", devices=(), ram_bytes=64 * GIB, available_ram_bytes=20 * GIB, source="probe")
    free = apply_memory_options(box, "free", None)
    assert free.ram_bytes - reserve == 20 * GIB  # placement keeps the reserve back: what remains is what is free
    assert apply_memory_options(box, "total", None).ram_bytes == 64 * GIB
    with pytest.raises(AdvisorError, match="needs each GPU's free memory"):
        apply_memory_options(Machine(name="p", devices=(), ram_bytes=64 * GIB, source="profile"), "free", None)


def test_cost_says_a_bought_gpu_price_is_the_median_of_quotes_and_marks_thin_ones():
    import contextlib

    from selfhost_advisor.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["cost", "--monthly-tokens", "2e9", "--hardware", "h200", "--wide"]) == 0
    # session 33 (price33): one of the two is an undated page (awesomeagents.ai), which dates nothing and says so
    assert ("buy h200 $32,500/GPU: median of 2 purchase quotes ($30,000-35,000; 1 dated 2026-06; 1 from an undated "
            "page), thin") in out.getvalue()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["cost", "--monthly-tokens", "2e9", "--hardware", "b200", "--json"]) == 0
    bought = json.loads(out.getvalue())["self_host"][0]
    assert (bought["unit_price_usd"] >= 40000, bought["price_quotes"]) == (True, 5)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["cost", "--monthly-tokens", "2e9", "--hardware", "b200", "--gpu-price", "30000", "--json"]) == 0
    assert json.loads(out.getvalue())["self_host"][0]["price_quotes"] == 0  # a given price has no quotes behind it


@pytest.mark.parametrize("check", load("gpu_overrides")["checks"], ids=lambda c: c["id"])
def test_spot_checked_rows_match_the_figures_read_for_them(check):
    row = next(r for r in gpu_table.rows() if r["id"] == check["id"])
    assert row["bandwidth_gbps"] == pytest.approx(check["bandwidth_gbps"], rel=0.005)
    assert row["memory_gib"] == check["memory_gib"] and check["source"].startswith("http")


def test_a_dgx_spark_whose_memory_nvml_does_not_report_is_probed_as_unified_ram():
    """GB10: nvmlDeviceGetMemoryInfo is NotSupported (rossumai/nvgpu PR #37); the OS shows 121.7 GiB (unsloth #10691)."""
    import sys

    from selfhost_advisor.probe import nvidia

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    import fake_pynvml

    spark = {"gpus": [{"name": "NVIDIA GB10", "total": None, "cc": [12, 1], "bus_id": "0000000F:01:00.0"}]}
    ram = int(121.7 * GIB)
    res = nvidia.probe_nvidia(fake_pynvml.make(spark), (ram, int(100 * GIB)))
    [d] = res.devices
    assert (d.unified, d.memory_bytes, d.free_memory_bytes, d.matched_profile) == (True, ram, 100 * GIB, "dgx-spark")
    assert d.usable_memory_bytes == int(121.69 * GIB) and "NVML reports no GPU memory" in d.details.usable_memory_source
    # a discrete GPU whose memory NVML cannot read is still skipped with NVML's reason, not guessed
    res = nvidia.probe_nvidia(fake_pynvml.make({"gpus": [{"name": "NVIDIA GeForce RTX 4090", "total": None}]}), (ram, None))
    assert res.devices == [] and "skipped" in res.warnings[0]


def test_memory_free_says_the_ram_figure_is_what_is_available_now():
    import contextlib

    from selfhost_advisor.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "--memory", "free", "--json"]) == 0
    hw = json.loads(out.getvalue())["hardware"]
    if hw["devices"]:  # a machine with a GPU decides on its free VRAM; the RAM rule is the CPU-only one above
        pytest.skip("this machine has a GPU")
    assert hw["ram_source"] == "free" and hw["ram_bytes"] <= hw["available_ram_bytes"] + 2 * GIB + 1
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "--memory", "free", "--wide"]) == 0
    assert "available now (--memory free)" in out.getvalue()


def test_memory_free_on_a_mac_is_the_ram_available_now_within_the_working_set():
    from selfhost_advisor.domain import Device

    mac = Device(vendor="apple", name="Apple M4 Max", memory_bytes=64 * GIB, unified=True,
                 usable_memory_bytes=48 * GIB, backend="metal")
    for available, want in ((20 * GIB, 20 * GIB), (60 * GIB, 48 * GIB)):  # never above the Metal limit
        box = Machine(name="mac", devices=(mac,), ram_bytes=64 * GIB, available_ram_bytes=available, source="probe")
        d = apply_memory_options(box, "free", None).devices[0]
        assert d.usable_memory_bytes == want and "free now" in d.details.usable_memory_source


@pytest.mark.parametrize("printed, want", [
    ("Intel(R) Arc(TM) 140V GPU (16GB)", "arc-140v-lpddr5x-8533-16gb"),  # SYCL prints the size: it is kept
    ("NVIDIA GB10", "dgx-spark"),
])
def test_igpu_names_as_drivers_print_them_resolve(printed, want):
    assert get_profile(printed).id == want


def test_meteor_lakes_driver_name_lists_both_meteor_lake_gpus():
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile("Intel(R) Arc(TM) Graphics")  # what SYCL/Vulkan print for the 7- and the 8-Xe-core part alike
    assert "arc-meteor-lake-7xe" in str(err.value) and "arc-meteor-lake-8xe" in str(err.value)


def test_a_dual_gpu_board_row_carries_one_gpus_share_of_the_board_power():
    """The Tesla K80 row is one of the board's two GK210 GPUs (its shaders and memory are one GPU's), so its TDP is half
    of TechPowerUp's 300 W board figure; with the board's 300 W, `cost -H "2x tesla k80"` (one board) paid 600 W."""
    row = gpu_table.by_id("tesla-k80")
    assert row["shaders"] == 2496 and row["memory_gib"] == 12.0  # one GK210: 2,496 of the board's 4,992 cores
    assert row["tdp_watts"] * 2 == 300 and by_id("tesla-k80").tdp_watts == 150
