"""A CPU-only box named by its CPU and RAM (catalog/cpu_names.py, data/cpus.yaml; docs/methodology.md 4e-cpu16):
every row resolves by its own name, takes the spec-sheet path, and the bad forms exit 2 with one line."""
from __future__ import annotations

import json

import pytest

from selfhost_advisor.catalog import cpu_names
from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, parse_spec
from selfhost_advisor.errors import UnknownHardwareError
from selfhost_advisor.machine import resolve_machine

from clikit import one_line_exit_2, run
from cpukit import cpu_speed

ROWS = cpu_names.rows()


def _machine(spec: str):
    return resolve_machine(spec, None, None, None)[0]


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_table_row_resolves_by_its_own_name_with_a_ram_size(row):
    aliases = [f"{a} 64gb" for a in row.get("aliases", ())]
    for name in (f"{row['name']} 64gb", f"{row['id']} 64gb", cpu_names.example_name(row), *aliases):
        p = get_profile(name)
        assert (p.id, p.kind, p.name) == (row["id"], "cpu", row["name"]), name


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_row_carries_a_source_and_the_keys_a_spec_sheet_needs(row):
    assert len(row["source"]) > 20 and row["as_of"] <= "2026-12-07"
    assert row["simd"] in ("avx2", "avx_vnni", "avx512", "neon", "neon_i8mm")
    assert row["flops_per_cycle"] in (16, 32, 64) and row["cores"] >= 1 and 0.5 < row["clock_ghz"] < 7
    assert bool(row.get("channels")) != bool(row.get("bandwidth_gbps")), "channels x MT/s, or a fixed bandwidth"
    assert row.get("base_clock_ghz", 0) <= row["clock_ghz"]  # the clock used is the stated maximum, never below base


def test_a_named_cpu_is_the_spec_sheet_machine_of_its_fields():
    """'ryzen 9 7950x 64gb' must price the box exactly as the custom spec of its table row: AMD states 16 cores,
    5.7 GHz maximum boost and DDR5-5200 on 2 channels for the 7950X."""
    named = _machine("ryzen 9 7950x 64gb")
    spec = parse_custom_cpu("custom:cores=16,clock=5.7GHz,simd=avx512,ram=64GiB,channels=2,mts=5200,"
                            "flops_per_cycle=32,name=AMD Ryzen 9 7950X")
    for field in ("cpu_threads", "cpu_clock_hz", "ram_bandwidth_bytes_per_s", "ram_bytes", "cpu_flops_per_cycle",
                  "cpu_flops", "cpu_e_cores"):
        assert getattr(named, field) == getattr(spec, field), field
    assert cpu_speed(named, "llama3.1:8b", "Q4_K_M") == cpu_speed(spec, "llama3.1:8b", "Q4_K_M")
    assert "AMD Ryzen 9 7950X's spec sheet" in named.host_speed_source


def test_short_and_vendor_forms_name_the_same_cpu():
    for name in ("7950x 64gb", "AMD Ryzen 9 7950X 16-Core Processor 64GB", "amd ryzen 9 7950x 64 gb"):
        assert get_profile(name).id == "ryzen-9-7950x", name
    assert get_profile("i9-13900k 128gb").id == get_profile("intel core i9-13900k 128gb").id == "i9-13900k"
    assert get_profile("epyc 9654 2s 768gb").id == "epyc-9654"
    assert get_profile("13900kf 64gb").id == "i9-13900k"  # ARK: the KF part has the K part's cores, clocks, memory
    with pytest.raises(UnknownHardwareError, match="at most 1 socket"):
        get_profile("epyc 9554p 2s 768gb")  # the P part is AMD's one-socket SKU
    assert _machine("dual epyc 9654 768gb").cpu.sockets == _machine("epyc 9654 dual socket 768gb").cpu.sockets == 2


def test_a_hybrid_intel_part_runs_its_p_cores_the_linux_default():
    """ARK: the i9-13900K has 8 P-cores and 16 E-cores; llama.cpp's cpu_get_num_math counts the P-cores on Linux."""
    m = _machine("i9-13900k 64gb")
    assert (m.cpu_threads, m.cpu_e_cores) == (8, None)
    assert "16 E-cores idle" in m.host_speed_source


def test_two_sockets_double_cores_and_bandwidth_and_decode_reads_one_socket():
    one, two = _machine("epyc 9654 384gb"), _machine("epyc 9654 2s 768gb")
    assert two.cpu_threads == 2 * one.cpu_threads and two.cpu.sockets == 2
    assert two.ram_bandwidth_bytes_per_s == one.ram_bandwidth_bytes_per_s  # one socket's share (custom_cpu)
    with pytest.raises(UnknownHardwareError, match="at most 1 socket"):
        get_profile("ryzen 9 7950x 2s 64gb")


def test_a_memory_word_picks_a_supported_type_or_speed_and_refuses_others():
    base = _machine("i9-13900k 64gb").ram_bandwidth_bytes_per_s
    assert _machine("i9-13900k 64gb ddr4").ram_bandwidth_bytes_per_s < base  # DDR4-3200 < DDR5-5600 (ARK)
    fast = _machine("ryzen 9 7950x 64gb ddr5-6000").ram_bandwidth_bytes_per_s
    assert fast > _machine("ryzen 9 7950x 64gb").ram_bandwidth_bytes_per_s
    for bad in ("ryzen 9 7950x 64gb ddr4", "ryzen 9 7950x 64gb ddr5-99999", "ryzen 9 7950x 64gb ddr5-1000",
                "raspberry pi 5 8gb ddr5", "ryzen 9 5950x 64gb ddr5-6000"):
        with pytest.raises(UnknownHardwareError):
            get_profile(bad)


def test_curated_cpu_profiles_keep_their_names():
    for name, pid in (("epyc-9654", "epyc-genoa-1s-384gb"), ("genoa-2s", "epyc-genoa-2s-768gb"),
                      ("desktop-ddr5-64gb", "desktop-ddr5-64gb")):
        assert get_profile(name).id == pid


def test_a_plus_inside_a_cpu_name_is_not_the_gpu_separator():
    m = _machine("xeon platinum 8480+ 512gb")
    assert m.cpu_name == "Intel Xeon Platinum 8480+" and m.devices == ()
    two = _machine("rtx4090+rtx3090")
    assert [d.name for d in two.devices] == ["NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 3090"]
    profile, count, _ = parse_spec("xeon platinum 8480+ 1tb")
    # a name's '1tb' is the DIMMs' binary size, as '64gb' is 64 GiB (4e-cpu18)
    assert (profile.id, count, machine_from_profile(profile).ram_bytes) == ("xeon-platinum-8480-plus", 1, 2**40)


def test_an_apu_name_stays_an_apu_and_an_unknown_cpu_gets_cpu_suggestions():
    assert get_profile("ryzen ai max+ 395 128gb").kind == "apu"  # 'ryzen' alone does not make a name a CPU
    with pytest.raises(UnknownHardwareError, match="unknown CPU .*i7-13700k"):
        get_profile("i7-14700k 64gb")  # not in the table (no spec sheet read): CPUs offered, not a Radeon Instinct
    with pytest.raises(UnknownHardwareError, match="no sourced Ryzen AI Max 380"):
        get_profile("ryzen ai max 380")  # the APU rule's own refusal stays


def test_a_gpu_name_is_never_read_as_a_cpu():
    for name in ("rx 7900 xt", "rtx 4090", "arc b580"):
        assert cpu_names.row_for(name) is None
        assert get_profile(name).kind == "gpu"


@pytest.mark.parametrize("spec,said", [
    ("ryzen 9 7950x", "'ryzen 9 7950x 64gb'"),
    ("xeon platinum 8480+", "'xeon platinum 8480+ 512gb'"),
    ("raspberry pi 5", "'raspberry pi 5 8gb'"),
])
def test_a_cpu_without_its_ram_is_refused_with_an_example(capsys, spec, said):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", spec)
    one_line_exit_2(code, out, err, "RAM size", said)


@pytest.mark.parametrize("spec", [
    "ryzen 9 7950x 99999999999999999999gb", "ryzen 9 7950x 0gb", "ryzen 9 7950x 64gb 128gb",
    "ryzen 9 7950x\x1b[31m 64gb", "ryzen 9 7950x 64gb ddr5-" + "9" * 5000, "i9-99999k 64gb", "epyc 9654 9s 64gb",
    "ryzen 9 7950x 64gb \x1b]0;x\x07",
])
def test_odd_and_hostile_cpu_names_exit_2_with_one_line(capsys, spec):
    code, out, err = run(capsys, "fit", "llama3.1:8b", "-H", spec)
    one_line_exit_2(code, out, err)
    assert "\x1b" not in err


def test_the_json_of_a_named_cpu_fit_carries_its_name_and_bandwidth(capsys):
    code, out, _ = run(capsys, "fit", "llama3.1:8b", "-H", "ryzen 9 7950x 64gb", "--quant", "Q4_K_M", "--json")
    hw = json.loads(out)["hardware"]
    assert code == 0 and hw["cpu"]["name"] == "AMD Ryzen 9 7950X"
    assert hw["ram_bandwidth_bytes_per_s"] == 2 * 5200e6 * 8  # 2 channels x DDR5-5200 x 8 B
    assert "spec sheet" in hw["host_speed_source"]


@pytest.mark.parametrize("curated, named", [("epyc-9654", "epyc 9654 384gb"), ("genoa-2s", "epyc 9654 2s 768gb")])
def test_a_curated_cpu_profile_and_its_named_box_price_the_same_machine(curated, named):
    """The curated Genoa profiles were at the EPYC 9654's 2.4 GHz base while the named box 'epyc 9654 384gb' takes AMD's
    3.7 GHz maximum (the clock the published CPU rows are scored at, methodology 4e-cpu16): the same server priced
    two ways, prefill 402 vs 620 tokens/s on llama3.1:8b Q4_K_M. One box, one answer (4e-cpu18)."""
    a, b = _machine(curated), _machine(named)
    for field in ("cpu_threads", "cpu_clock_hz", "ram_bandwidth_bytes_per_s", "ram_bytes", "cpu_flops_per_cycle"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.cpu_flops == pytest.approx(b.cpu_flops, rel=1e-3)  # the profile's FP32 TFLOPS to 4 figures
    assert cpu_speed(a, "llama3.1:8b") == cpu_speed(b, "llama3.1:8b")


def test_every_curated_cpu_profile_naming_a_table_cpu_states_its_cores_and_clock():
    """A curated CPU profile whose name names a CPU of data/cpus.yaml holds that row's cores (x sockets), maximum clock,
    SIMD and FLOP per cycle, so a profile added later cannot drift from the table."""
    import re

    from selfhost_advisor.catalog.data import load

    checked = 0
    for p in load("hardware")["hardware"]:
        if p.get("kind") != "cpu":
            continue
        for row in ROWS:
            if re.search(re.escape(row["name"]) + r"(?![\w+])", p["name"]):
                sockets = p.get("sockets", 1)
                assert (p["cpu_cores"], p["cpu_clock_ghz"], p["simd"], p["flops_per_cycle"]) == \
                    (row["cores"] * sockets, row["clock_ghz"], row["simd"], row["flops_per_cycle"]), p["id"]
                checked += 1
    assert checked >= 2


@pytest.mark.parametrize("name, gib", [("ryzen 9 7950x 64gb", 64), ("ryzen 9 7950x 64 GB", 64), ("7950x 96gib", 96),
                                       ("epyc 9654 2s 1.5tb", 1536)])
def test_a_named_box_ram_is_the_binary_size_its_dimms_hold(name, gib):
    """'64gb' in a CPU box's name was 64 x 10^9 bytes, 7% under the 64 GiB two 32 GB DIMMs hold and under what the
    curated 'desktop-ddr5-64gb', an Apple 'm4 max 64gb' or an APU '... 128gb' mean by the same words: a model that fits
    such a box could be called too big for it."""
    assert _machine(name).ram_bytes == gib * 2**30
    assert _machine(name).ram_bytes == _machine(name.replace("gb", "gib").replace("GB", "GiB").replace("tb", "tib")
                                                ).ram_bytes


def test_an_x86_box_named_by_its_cpu_is_labelled_as_the_curated_profile_an_arm_one_is_not():
    """The curated 'epyc-9654' said 'calibrated' (family cpu-x86: the calibration holds x86 CPU llama-bench rows) while
    the same server named 'epyc 9654 384gb' said 'extrapolated'; an ARM box has no calibration row."""
    assert cpu_speed(_machine("epyc 9654 384gb"), "llama3.1:8b").confidence == "calibrated"
    assert cpu_speed(_machine("ryzen 9 7950x 64gb"), "llama3.1:8b").confidence == "calibrated"
    assert cpu_speed(_machine("graviton3 64gb"), "llama3.1:8b").confidence == "extrapolated"


@pytest.mark.parametrize("name", ["ryzen 9 7950x 64 tb", "raspberry pi 5 128gb", "epyc 9654 13tb", "i9-13900k 2tb"])
def test_a_ram_size_no_box_of_that_segment_holds_is_refused(capsys, name):
    """'ryzen 9 7950x 64 tb' was priced as a desktop with 70 TB of RAM (the only guard was 64 TiB for any box): a
    typo, refused in one line (exit 2) with an example."""
    one_line_exit_2(*run(capsys, "fit", "llama3.1:8b", "-q", "Q4_K_M", "-H", name), "more RAM than", "e.g.")


@pytest.mark.parametrize("name, tib", [("ryzen 9 7950x 256gb", 0.25), ("epyc 9654 2s 24tb", 24), ("epyc 9654 6tb", 6)])
def test_a_large_but_real_ram_size_is_the_users(name, tib):
    assert _machine(name).ram_bytes == int(tib * 2**40)
