"""Hybrid CPUs and SoC fabrics (issue 16, session 11 cpu2): efficiency cores adding their own rate, a CPU cluster that
reaches less than the DRAM's bandwidth, and the probe's clock and core split from cpufreq sysfs on ARM (captured
layouts as fakes: sbc-bench's topology tables of the Snapdragon 8cx Gen 3 and the Cix P1)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
from selfhost_advisor.catalog.hardware import parse_spec
from selfhost_advisor.domain import CpuInfo, Machine
from selfhost_advisor.errors import AdvisorError
from selfhost_advisor.estimate import cpu_kernels
from selfhost_advisor.probe import cpufreq, hostrate
from selfhost_advisor.probe.measure import llama_threads

from cpukit import cpu_speed

Q8B = "custom:cores=8,clock=2.995GHz,simd=neon,ram=8GB,bandwidth=68.3GB/s"


def _speed(machine, model="tinyllama:1.1b", quant="Q4_K_M"):
    return cpu_speed(machine, model, quant)


# --- spec keys: efficiency cores and the CPU cluster's own bandwidth ------------------------------------------------

def test_efficiency_cores_add_their_own_clock_times_flop_per_cycle():
    all_big = parse_custom_cpu(Q8B)
    hybrid = parse_custom_cpu(Q8B + ",e_cores=4,e_clock=2.438GHz")
    # by hand: 4 x 2.995 GHz x 32 (the P-cores, four 128-bit pipes) + 4 x 2.438 GHz x 16 (the default E-core width)
    assert cpu_kernels.vector_flops(hybrid) == pytest.approx(4 * 2.995e9 * 32 + 4 * 2.438e9 * 16)
    assert cpu_kernels.vector_flops(all_big) == pytest.approx(8 * 2.995e9 * 32)
    wide = parse_custom_cpu(Q8B + ",e_cores=4,e_clock=2.438GHz,e_flops_per_cycle=32")
    assert cpu_kernels.vector_flops(wide) == pytest.approx(4 * 2.995e9 * 32 + 4 * 2.438e9 * 32)
    # prefill is compute-bound: it scales with the vector rate, so the hybrid part is slower by exactly that ratio
    ratio = cpu_kernels.vector_flops(hybrid) / cpu_kernels.vector_flops(all_big)
    assert _speed(hybrid).prefill_tokens_per_s == pytest.approx(_speed(all_big).prefill_tokens_per_s * ratio, rel=1e-6)
    assert "4 of them efficiency cores at 2.44 GHz" in hybrid.host_speed_source
    # the FLOPS figure a profile path would read counts the efficiency cores at their own rate too
    assert hybrid.cpu_flops == pytest.approx(4 * 2.995e9 * 32 + 4 * 2.438e9 * 16)


def test_e_clock_defaults_to_the_clock_and_non_hybrid_machines_are_unchanged():
    same_clock = parse_custom_cpu(Q8B + ",e_cores=2")
    assert cpu_kernels.vector_flops(same_clock) == pytest.approx(6 * 2.995e9 * 32 + 2 * 2.995e9 * 16)
    probe_like = Machine(name="x", devices=(), ram_bytes=2**34, cpu=CpuInfo(name="x", flags=("avx2", "fma")),
                         cpu_clock_hz=3e9, cpu_threads=4)
    assert cpu_kernels.vector_flops(probe_like) == 4 * 3e9 * 32


def test_cpu_bandwidth_caps_decode_below_the_drams_rate_and_a_higher_figure_changes_nothing():
    free = parse_custom_cpu(Q8B)
    capped = parse_custom_cpu(Q8B + ",cpu_bandwidth=34.15GB/s")  # half of 68.3
    assert capped.ram_bandwidth_bytes_per_s == int(34.15e9) and free.ram_bandwidth_bytes_per_s == int(68.3e9)
    big = _speed(free, "llama3.1:8b").decode_tokens_per_s
    half = _speed(capped, "llama3.1:8b").decode_tokens_per_s
    assert half == pytest.approx(big / 2, rel=0.02)  # an 8B on 8 cores is memory-bound: half the stream, half the speed
    above = parse_custom_cpu(Q8B + ",cpu_bandwidth=200GB/s")
    assert above.ram_bandwidth_bytes_per_s == free.ram_bandwidth_bytes_per_s
    assert "reach 34.1 GB/s (cpu_bandwidth)" in capped.host_speed_source


def test_cpu_bandwidth_is_per_socket():
    two = parse_custom_cpu("custom:cores=64,clock=3GHz,simd=avx512,ram=768GB,bandwidth=460.8GB/s,sockets=2,"
                           "cpu_bandwidth=150GB/s")
    assert two.ram_bandwidth_bytes_per_s == int(150e9)  # one socket's 230.4 capped at 150


@pytest.mark.parametrize("extra, names", [
    (",e_cores=8", "e_cores=8 must be fewer than cores=8"),
    (",e_cores=0", "e_cores must be between"),
    (",e_cores=-2", "e_cores must be between"),
    (",e_clock=2GHz", "e_clock needs e_cores"),
    (",e_flops_per_cycle=16", "e_flops_per_cycle needs e_cores"),
    (",e_cores=4,e_clock=0", "e_clock"),
    (",e_cores=4,e_clock=-2GHz", "e_clock"),
    (",e_cores=4,e_clock=900GHz", "not a CPU clock"),
    (",e_cores=4,e_flops_per_cycle=64", "e_flops_per_cycle must be one of 8, 16, 32"),
    (",cpu_bandwidth=0", "cpu_bandwidth must be positive"),
    (",cpu_bandwidth=-40GB/s", "cpu_bandwidth must be positive"),
    (",cpu_bandwidth=fast", "cpu_bandwidth='fast' is not a number"),
])
def test_bad_hybrid_and_cluster_keys_are_refused_naming_the_field(extra, names):
    with pytest.raises(AdvisorError) as exc:
        parse_spec(Q8B + extra)
    assert names in str(exc.value)


# --- probe: cpufreq sysfs on ARM, P-cores of hybrid Intel ----------------------------------------------------------

def _cpufreq_tree(root, khz_by_cpu: dict[int, int], present: str):
    base = root / "sys" / "devices" / "system" / "cpu"
    base.mkdir(parents=True, exist_ok=True)
    (base / "present").write_text(present + "\n")
    for cpu, khz in khz_by_cpu.items():
        d = base / f"cpu{cpu}" / "cpufreq"
        d.mkdir(parents=True)
        (d / "cpuinfo_max_freq").write_text(f"{khz}\n")
    return str(root)


def test_the_8cx_gen3_layout_gives_the_x1c_clock_and_four_a78c_efficiency_cores(tmp_path):
    # ThomasKaiser/sbc-bench#141 (Radxa Dragon Q8B): cpu0-3 Cortex-A78C max 2438 MHz, cpu4-7 Cortex-X1C max 2995 MHz
    root = _cpufreq_tree(tmp_path, {**{c: 2438400 for c in range(4)}, **{c: 2995200 for c in range(4, 8)}}, "0-7")
    clock, slow, slow_clock = cpufreq.arm_clusters(root)
    assert (clock, slow, slow_clock) == (2.9952e9, 4, 2.4384e9)


def test_three_clusters_count_every_slower_core_and_near_equal_clocks_are_one_cluster(tmp_path):
    # Cix P1: A720 big and middle clusters, A520 at 1.8 GHz (lscpu in cixtech/cix-linux-main#43); a few MHz apart is
    # one cluster
    freqs = {**{c: 2600000 for c in range(4)}, **{c: 2200000 for c in range(4, 8)},
             **{c: 1800000 for c in range(8, 12)}, 12: 2598000}
    root = _cpufreq_tree(tmp_path, freqs, "0-12")
    clock, slow, slow_clock = cpufreq.arm_clusters(root)
    assert clock == 2.6e9 and slow == 8 and slow_clock == pytest.approx(2.0e9)


def test_no_cpufreq_no_clock_and_garbage_is_ignored(tmp_path):
    assert cpufreq.arm_clusters(str(tmp_path)) is None
    root = _cpufreq_tree(tmp_path, {0: 5, 1: 99999999999}, "0-1")  # 5 kHz and 100 THz: not clocks
    assert cpufreq.arm_clusters(root) is None
    assert cpufreq.parse_cpu_list("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert cpufreq.parse_cpu_list("3-1,x,7-") == [] and cpufreq.parse_cpu_list(None) == []


def test_the_quick_probe_takes_the_sysfs_clock_where_the_add_chain_cannot_run(tmp_path, monkeypatch):
    root = _cpufreq_tree(tmp_path, {**{c: 2438400 for c in range(4)}, **{c: 2995200 for c in range(4, 8)}}, "0-7")
    monkeypatch.setattr(hostrate, "core_clock_hz", lambda *a, **k: None)  # as on aarch64
    monkeypatch.setattr(hostrate, "read_bandwidths", lambda counts, n, reps=3: [30e9, 8e9][:len(counts)])
    r = hostrate.measure_host_rates(8, root=root, arch="aarch64")
    assert (r.clock_hz, r.e_cores, r.e_clock_hz) == (2.9952e9, 4, 2.4384e9)
    assert r.read_bandwidth_bytes_per_s == 30e9 and "cpufreq sysfs" in r.method
    one = hostrate.measure_host_rates(1, root=root, arch="aarch64")  # one thread: on a fast core, no efficiency cores
    assert one.clock_hz == 2.9952e9 and one.e_cores is None
    x86 = hostrate.measure_host_rates(8, root=root, arch="x86_64")  # W^X on x86: the top clock, no cluster split
    assert x86.clock_hz == 2.9952e9 and x86.e_cores is None


def test_the_probed_efficiency_cores_reach_the_machine_and_are_cached(tmp_path):
    from selfhost_advisor.probe import ProbeSources, _with_host_rates

    rates = hostrate.HostRates(2.9952e9, int(30e9), 8, 0.1, "fake", int(8e9), e_cores=4, e_clock_hz=2.4384e9)
    m = Machine(name="arm", devices=(), ram_bytes=2**33, cpu=CpuInfo(name="arm", physical_cores=8,
                                                                     flags=("neon", "dotprod")))
    got = _with_host_rates(m, ProbeSources(root=str(tmp_path), host_rates=lambda t: rates), [])
    assert (got.cpu_threads, got.cpu_e_cores, got.cpu_e_clock_hz) == (8, 4, 2.4384e9)
    assert "4 of them on slower cores at 2.44 GHz" in got.host_speed_source
    cached = hostrate.cached_host_rates(8, 123.0, str(tmp_path), lambda t: rates)
    again = hostrate.cached_host_rates(8, 123.0, str(tmp_path), lambda t: pytest.fail("measured twice"))
    assert (cached.e_cores, again.e_cores, again.e_clock_hz) == (4, 4, 2.4384e9)


def test_hybrid_intel_runs_the_p_cores_only(tmp_path, monkeypatch):
    from selfhost_advisor.probe import measure

    monkeypatch.setattr(measure, "usable_cpus", lambda root="/": 32)  # all 32 logical CPUs usable
    # a 13900K-like layout: cpu0-15 the 8 P-cores' two threads each, cpu16-31 the E-cores (perf PMU cpu lists)
    (tmp_path / "sys" / "devices" / "cpu_core").mkdir(parents=True)
    (tmp_path / "sys" / "devices" / "cpu_atom").mkdir(parents=True)
    (tmp_path / "sys" / "devices" / "cpu_core" / "cpus").write_text("0-15\n")
    (tmp_path / "sys" / "devices" / "cpu_atom" / "cpus").write_text("16-31\n")
    for cpu in range(32):
        t = tmp_path / "sys" / "devices" / "system" / "cpu" / f"cpu{cpu}" / "topology"
        t.mkdir(parents=True)
        (t / "physical_package_id").write_text("0\n")
        (t / "core_id").write_text(f"{cpu // 2 if cpu < 16 else cpu}\n")
    assert cpufreq.intel_p_cores(str(tmp_path)) == 8
    assert cpufreq.intel_p_cores(str(tmp_path / "none")) is None
    assert llama_threads(str(tmp_path), physical_cores=24) == 8  # not the 24 physical cores (8 P + 16 E)
    assert llama_threads(str(tmp_path / "none"), physical_cores=24) == 24  # not hybrid: every physical core


def _cpuinfo(root, parts: dict[int, str]):
    (root / "proc").mkdir(exist_ok=True)
    (root / "proc" / "cpuinfo").write_text("".join(
        f"processor\t: {c}\nBogoMIPS\t: 38.40\nFeatures\t: fp asimd asimddp\nCPU implementer\t: 0x41\n"
        f"CPU part\t: {p}\n\n" for c, p in parts.items()))


def test_arm_part_numbers_give_the_clusters_vector_width(tmp_path):
    root = _cpufreq_tree(tmp_path, {**{c: 2438400 for c in range(4)}, **{c: 2995200 for c in range(4, 8)}}, "0-7")
    _cpuinfo(tmp_path, {**{c: "0xd4b" for c in range(4)}, **{c: "0xd4c" for c in range(4, 8)}})  # A78C, X1C
    assert cpufreq.cpu_parts(root) == {**{c: 0xD4B for c in range(4)}, **{c: 0xD4C for c in range(4, 8)}}
    assert cpufreq.arm_flops_per_cycle(root) == (32, 16)


def test_unknown_or_mixed_parts_keep_the_defaults(tmp_path):
    root = _cpufreq_tree(tmp_path, {c: 2600000 for c in range(4)}, "0-3")
    _cpuinfo(tmp_path, {0: "0xd40", 1: "0xd40", 2: "0xd40", 3: "0xd40"})  # Neoverse V1: not in the table
    assert cpufreq.arm_flops_per_cycle(root) == (None, None)
    _cpuinfo(tmp_path, {0: "0xd44", 1: "0xd41", 2: "garbage", 3: "0xd44"})  # disagreeing parts in one cluster
    assert cpufreq.arm_flops_per_cycle(root) == (None, None)
    assert cpufreq.arm_flops_per_cycle(str(tmp_path / "none")) == (None, None)


def test_measured_cortex_parts_give_two_pipes_for_a76_and_a720_and_one_for_a520(tmp_path):
    # pigirons/cpufp one-core FP32 FMLA: A76 38.37 GFLOPS at 2.4 GHz (Pi 5), A720 41.56 at 2.6 GHz, A520 14.34 at 1.8 GHz
    pi5 = _cpufreq_tree(tmp_path / "pi5", {c: 2400000 for c in range(4)}, "0-3")
    _cpuinfo(tmp_path / "pi5", {c: "0xd0b" for c in range(4)})
    assert cpufreq.arm_flops_per_cycle(pi5) == (16, None)
    cix = _cpufreq_tree(tmp_path / "cix", {**{c: 2600000 for c in range(4)}, **{c: 1800000 for c in range(4, 8)}}, "0-7")
    _cpuinfo(tmp_path / "cix", {**{c: "0xd81" for c in range(4)}, **{c: "0xd80" for c in range(4, 8)}})
    assert cpufreq.arm_flops_per_cycle(cix) == (16, 8)


def test_a_probed_arm_host_takes_its_cores_width(tmp_path):
    from selfhost_advisor.probe import ProbeSources, _with_host_rates

    root = _cpufreq_tree(tmp_path, {**{c: 2438400 for c in range(4)}, **{c: 2995200 for c in range(4, 8)}}, "0-7")
    _cpuinfo(tmp_path, {**{c: "0xd4b" for c in range(4)}, **{c: "0xd4c" for c in range(4, 8)}})
    rates = hostrate.HostRates(2.9952e9, int(30e9), 8, 0.1, "cpufreq sysfs maximum clock per cluster; memchr",
                               int(8e9), e_cores=4, e_clock_hz=2.4384e9)
    m = Machine(name="arm", devices=(), ram_bytes=2**33, cpu=CpuInfo(name="arm", physical_cores=8,
                                                                     flags=("neon", "dotprod")))
    got = _with_host_rates(m, ProbeSources(root=root, host_rates=lambda t: rates), [])
    assert (got.cpu_flops_per_cycle, got.cpu_e_flops_per_cycle) == (32, 16)
    assert cpu_kernels.vector_flops(got) == pytest.approx(4 * 2.9952e9 * 32 + 4 * 2.4384e9 * 16)


def test_a_saved_probe_keeps_the_core_split_and_drops_nonsense():
    import json
    from pathlib import Path

    import schemakit

    from selfhost_advisor.domain import ProbeReport
    from selfhost_advisor.probe.files import report_from_probe
    from selfhost_advisor.render.probe_json import probe_dict

    m = Machine(name="arm", devices=(), ram_bytes=2**33, cpu=CpuInfo(name="arm", physical_cores=8,
                                                                     flags=("neon", "dotprod")),
                ram_bandwidth_bytes_per_s=int(30e9), cpu_clock_hz=2.9952e9, cpu_threads=8, cpu_e_cores=4,
                cpu_e_clock_hz=2.4384e9, cpu_flops_per_cycle=32, cpu_e_flops_per_cycle=16)
    data = probe_dict(ProbeReport(machine=m, warnings=(), os="linux"))
    schema = json.loads((Path(__file__).parents[1] / "docs" / "schema" / "probe.schema.json").read_text())
    schemakit.validate(data, schema)
    back = report_from_probe(json.loads(json.dumps(data))).machine
    assert (back.cpu_e_cores, back.cpu_e_clock_hz, back.cpu_flops_per_cycle, back.cpu_e_flops_per_cycle) == \
        (4, 2.4384e9, 32, 16)
    assert cpu_kernels.vector_flops(back) == pytest.approx(cpu_kernels.vector_flops(m))
    data.update(cpu_e_cores=8, cpu_flops_per_cycle=48)  # as many efficiency cores as threads; no such width
    odd = report_from_probe(data).machine
    assert (odd.cpu_e_cores, odd.cpu_e_clock_hz, odd.cpu_flops_per_cycle, odd.cpu_e_flops_per_cycle) == (None,) * 4
    with pytest.raises(AdvisorError):
        report_from_probe({**data, "cpu_e_cores": -1})
