"""Probe backends driven by fakes: a stub pynvml, captured sysfs trees, recorded macOS command output, /proc files.

Every vendor path and every failure path: each backend must report what it found and say why something is missing,
never raise. Expected numbers come from vendor spec sheets, not from the code under test.
"""
import json
import shutil
import sys
from pathlib import Path

import pytest

from selfhost_advisor.probe import ProbeSources, probe
from selfhost_advisor.probe.amd import probe_amd
from selfhost_advisor.probe.apple import probe_apple
from selfhost_advisor.probe.cpu import cgroup_memory_limit, parse_proc_cpuinfo, probe_cpu
from selfhost_advisor.probe.files import report_from_probe
from selfhost_advisor.probe.nvidia import bandwidth_from_clocks, probe_nvidia
from selfhost_advisor.render.probe_json import probe_dict

FIX = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIX))
import fake_pynvml  # noqa: E402

GiB = 2**30
RAM64 = (64 * GiB, 60 * GiB)


def FAKE_CPU():
    """py-cpuinfo's answer for roots without /proc/cpuinfo (the real one takes a second and describes the host)."""
    return {"brand_raw": "Intel(R) Xeon(R) Platinum 8480+", "flags": ["avx2", "avx512f", "amx_int8"]}


def sources(**kw):
    kw.setdefault("memory", lambda: RAM64)
    kw.setdefault("cpuinfo_loader", FAKE_CPU)
    kw.setdefault("cache_dir", "")
    kw.setdefault("boot_time", 1.0)
    return ProbeSources(**kw)


def nvidia_box(spec, **kw):
    return probe(sources(root=str(FIX / "none"), nvml=fake_pynvml.make(spec), **kw))


def replay(name):
    """A command runner that answers from tests/fixtures/apple/<name>.<tool>.*, None when no recording exists."""
    files = {"sysctl": f"{name}.sysctl.txt", "ioreg": f"{name}.ioreg.txt",
             "system_profiler": f"{name}.system_profiler.json"}

    def run(argv):
        path = FIX / "apple" / files.get(argv[0], "-")
        return path.read_text() if path.exists() else None

    return run


# --- NVIDIA -------------------------------------------------------------------------------------------------

def test_two_rtx_4090_are_reported_and_matched_with_the_catalog_bandwidth():
    r = nvidia_box("rtx4090x2")
    devs = r.machine.devices
    assert [d.name for d in devs] == ["NVIDIA GeForce RTX 4090"] * 2
    assert devs[0].memory_bytes == 24564 * 2**20  # what NVML reports for a 24 GB 4090
    assert devs[0].matched_profile == "rtx-4090"
    assert devs[0].bandwidth_bytes_per_s == 1008 * 10**9  # NVIDIA spec: 21 Gbps x 384 bit
    d = devs[0].details
    assert (d.compute_capability, d.sm_count, d.pcie_generation, d.pcie_width) == ("8.9", 128, 4, 16)
    assert d.power_limit_watts == 450 and d.mig_enabled is None and d.nvlink_active_links is None
    assert d.driver_version == "580.65.06" and d.cuda_driver_version == "13.0"
    assert d.pci_device_id == "0x2684"  # AD102 [GeForce RTX 4090] in pci.ids


def test_nvml_clock_formula_gives_the_spec_bandwidth_for_gddr6x_and_hbm():
    # RTX 4090 (GDDR6X, 384-bit, NVML max memory clock 10501 MHz): 1008 GB/s per NVIDIA
    assert abs(bandwidth_from_clocks(384, 10501) / 1008e9 - 1) < 0.001
    # A100 40GB (HBM2, 5120-bit, 1215 MHz): 1555 GB/s; H100 SXM5 (HBM3, 2619 MHz): 3.35 TB/s
    assert abs(bandwidth_from_clocks(5120, 1215) / 1555e9 - 1) < 0.001
    assert abs(bandwidth_from_clocks(5120, 2619) / 3350e9 - 1) < 0.002
    # Tesla T4 (GDDR6, 256-bit, 5001 MHz): 320 GB/s
    assert abs(bandwidth_from_clocks(256, 5001) / 320e9 - 1) < 0.001


def test_a_card_without_a_curated_profile_is_matched_in_the_spec_table():
    """Any GPU since 2016 gets its spec-sheet figures: the A100 SXM4 40GB has no curated profile, but its row in
    data/gpu_specs.yaml (TechPowerUp: 1,555 GB/s, 312 TFLOPS FP16 dense) matches by name and memory size."""
    spec = {"driver_version": "550", "cuda_driver_version": 12040, "gpus": [
        {"name": "NVIDIA A100-SXM4-40GB", "total": 40960 * 2**20, "free": 40 * 10**9, "bus_width": 5120,
         "max_clock_mem": 1215, "max_clock_sm": 1410, "cc": [8, 0], "bus_id": "00000000:07:00.0",
         "pci_device_id": 0x20B010DE, "mig": [0, 0]}]}
    dev = nvidia_box(spec).machine.devices[0]
    assert dev.matched_profile == "a100-sxm4-40-gb" and dev.details.bandwidth_source == "catalog:a100-sxm4-40-gb"
    assert abs(dev.bandwidth_bytes_per_s / 1555e9 - 1) < 0.005 and abs(dev.fp16_flops / 312e12 - 1) < 0.02


def test_a_card_missing_from_the_catalog_gets_bandwidth_from_nvml_clocks():
    spec = {"driver_version": "550", "cuda_driver_version": 12040, "gpus": [
        {"name": "NVIDIA Example Accelerator 40GB", "total": 40960 * 2**20, "free": 40 * 10**9, "bus_width": 5120,
         "max_clock_mem": 1215, "max_clock_sm": 1410, "cc": [8, 0], "bus_id": "00000000:07:00.0",
         "pci_device_id": 0x20B010DE, "mig": [0, 0]}]}
    dev = nvidia_box(spec).machine.devices[0]
    assert dev.matched_profile is None
    assert abs(dev.bandwidth_bytes_per_s / 1555e9 - 1) < 0.001  # A100 40GB datasheet
    assert dev.details.bandwidth_source.startswith("nvml:")
    assert dev.details.mig_enabled is False and dev.fp16_flops is None


def test_a100_with_mig_offers_its_largest_instance_to_fit():
    r = nvidia_box("a100_80gb_mig")
    dev = r.machine.devices[0]
    assert dev.matched_profile == "a100-80gb" and dev.details.mig_enabled
    assert [m.name for m in dev.details.mig_instances] == ["NVIDIA A100-SXM4-80GB MIG 3g.40gb"] * 2
    assert dev.usable_memory_bytes == 40192 * 2**20
    assert dev.bandwidth_bytes_per_s == 2039 * 10**9 // 2  # 4 of 8 memory slices of 2039 GB/s
    assert dev.details.nvlink_active_links == 12
    assert any("MIG is enabled" in w for w in r.warnings)


@pytest.mark.parametrize("error, words", [
    (fake_pynvml.NVMLError_LibraryNotFound, "NVML library not found"),
    (fake_pynvml.NVMLError_DriverNotLoaded, "driver not loaded"),
])
def test_nvml_failures_become_warnings(error, words):
    r = probe(sources(root=str(FIX / "none"), nvml=fake_pynvml.make("rtx4090x2", init_error=error)))
    assert r.machine.devices == ()
    assert any(w.startswith("no NVIDIA GPU:") and words in w for w in r.warnings), r.warnings


def test_nvml_absent_zero_devices_and_a_failing_device_are_reported():
    assert "not installed" in probe_nvidia(None).warnings[0]
    assert probe_nvidia(fake_pynvml.make(None)).warnings == ["no NVIDIA GPU: NVML reports 0 devices"]
    broken = json.loads((FIX / "nvml" / "rtx4090x2.json").read_text())
    broken["gpus"][1]["name"] = None  # nvmlDeviceGetName raises NotSupported
    nvml = fake_pynvml.make(broken)
    res = probe_nvidia(nvml)
    assert len(res.devices) == 1 and "NVIDIA GPU 1: skipped" in res.warnings[0]
    assert nvml._state["shutdowns"] == 1


def _pci_tree(root: Path, vendor: str, device: str = "0x2684"):
    d = root / "sys" / "bus" / "pci" / "devices" / "0000:01:00.0"
    d.mkdir(parents=True)
    (d / "class").write_text("0x030000\n")
    (d / "vendor").write_text(vendor + "\n")
    (d / "device").write_text(device + "\n")


def test_nvidia_card_on_the_bus_without_a_working_driver_is_still_reported(tmp_path):
    _pci_tree(tmp_path, "0x10de")
    r = probe(sources(root=str(tmp_path), nvml=fake_pynvml.make(None, fake_pynvml.NVMLError_DriverNotLoaded),
                           memory=lambda: RAM64))
    assert r.machine.devices == ()
    assert [d.name for d in r.machine.other_devices] == ["NVIDIA GPU 10de:2684"]
    assert any("present but NVML did not report it" in w for w in r.warnings)


def test_nvml_is_not_loaded_when_the_pci_bus_shows_no_nvidia_device(tmp_path):
    _pci_tree(tmp_path, "0x1af4", "0x1050")  # a virtio GPU

    class Boom:
        class NVMLError(Exception):
            pass

        def nvmlInit(self):
            raise AssertionError("NVML must not be touched")

    r = probe(sources(root=str(tmp_path), nvml=Boom()))
    assert "no NVIDIA GPU: no NVIDIA display device on the PCI bus" in r.warnings
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "nvidiactl").write_text("")  # a container with the device node: NVML is asked
    with pytest.raises(AssertionError):
        probe(sources(root=str(tmp_path), nvml=Boom()))


# --- AMD, Intel ---------------------------------------------------------------------------------------------

def test_rx_7900_xtx_from_sysfs_without_rocm():
    res = probe_amd(str(FIX / "sysfs" / "rx7900xtx"), amdsmi=None, system_ram_bytes=64 * GiB)
    [dev] = res.devices
    assert dev.name == "AMD Radeon RX 7900 XTX" and dev.matched_profile == "rx-7900-xtx"
    assert dev.memory_bytes == 25753026560  # amdgpu mem_info_vram_total of a 7900 XTX
    assert dev.free_memory_bytes == 25753026560 - 1065467904
    assert dev.bandwidth_bytes_per_s == 960 * 10**9  # AMD spec: 20 Gbps x 384 bit
    assert (dev.details.pcie_generation, dev.details.pcie_width, dev.details.driver) == (4, 16, "amdgpu")
    assert dev.details.pci_bus_id == "0000:03:00.0" and dev.backend == "rocm" and not dev.unified


def test_amdsmi_market_name_is_used_when_present():
    class FakeAmdSmi:
        def amdsmi_init(self): pass
        def amdsmi_shut_down(self): pass
        def amdsmi_get_processor_handles(self): return ["h0"]
        def amdsmi_get_gpu_device_bdf(self, h): return "0000:03:00.0"
        def amdsmi_get_gpu_asic_info(self, h): return {"market_name": "Radeon RX 7900 XTX", "device_id": "0x744c"}

    [dev] = probe_amd(str(FIX / "sysfs" / "rx7900xtx"), amdsmi=FakeAmdSmi()).devices
    assert dev.name == "Radeon RX 7900 XTX" and dev.matched_profile == "rx-7900-xtx"


def test_a_20_gb_rx_7900_xt_named_by_amdsmi_matches_its_spec_table_row(tmp_path):
    class FakeAmdSmi:
        def amdsmi_init(self): pass
        def amdsmi_shut_down(self): pass
        def amdsmi_get_processor_handles(self): return ["h0"]
        def amdsmi_get_gpu_device_bdf(self, h): return "0000:03:00.0"
        def amdsmi_get_gpu_asic_info(self, h): return {"market_name": "AMD Radeon RX 7900 XT", "device_id": "0x744c"}

    root = tmp_path / "t"
    shutil.copytree(FIX / "sysfs" / "rx7900xtx", root, symlinks=True)
    (root / "sys/bus/pci/devices/0000:03:00.0/mem_info_vram_total").write_text("21458059264\n")
    [dev] = probe_amd(str(root), amdsmi=FakeAmdSmi()).devices
    assert dev.matched_profile == "rx-7900-xt" and dev.bandwidth_bytes_per_s == 800 * 10**9  # TechPowerUp: 800 GB/s


@pytest.mark.parametrize("vendor, name, gib, want", [
    ("nvidia", "NVIDIA GeForce RTX 3070", 8, "rtx-3070"),     # no curated profile: the table row
    ("nvidia", "NVIDIA GeForce RTX 3070", 12, None),          # no 12 GB RTX 3070: memory disagrees, no match
    ("nvidia", "NVIDIA GeForce RTX 3060", 8, "rtx-3060-8-gb"),  # the name has two sizes: memory picks the row
    ("amd", "AMD Radeon RX 9070 XT", 16, "rx-9070-xt"),
    ("amd", "NVIDIA GeForce RTX 3070", 8, None),              # the vendor must agree too
])
def test_match_gpu_falls_back_to_the_spec_table_by_name_and_memory(vendor, name, gib, want):
    from selfhost_advisor.probe.match import match_gpu

    got = match_gpu(vendor, name, gib * GiB)
    assert (got.id if got else None) == want


def test_match_apple_finds_the_sold_configuration_by_core_count():
    from selfhost_advisor.probe.match import match_apple

    assert match_apple("Apple M4 Max", 64 * GiB, 40).id == "m4-max-40c-64gb"
    assert match_apple("Apple M4 Max", 36 * GiB, 32).id == "m4-max-32c-36gb"
    assert match_apple("Apple M5", 32 * GiB, 10).id == "m5-10c-32gb"
    assert match_apple("Apple M2 Ultra", 192 * GiB, 76).id == "m2-ultra-192gb"  # the curated profile wins
    assert match_apple("Apple M4 Max", 96 * GiB, 40) is None  # never sold


def test_a_20_gb_navi_31_is_not_taken_for_the_24_gb_xtx(tmp_path):
    root = tmp_path / "t"
    shutil.copytree(FIX / "sysfs" / "rx7900xtx", root, symlinks=True)
    (root / "sys/bus/pci/devices/0000:03:00.0/mem_info_vram_total").write_text("21458059264\n")  # RX 7900 XT
    [dev] = probe_amd(str(root)).devices
    assert dev.matched_profile is None and dev.bandwidth_bytes_per_s is None
    assert "Navi 31" in dev.name


def test_amd_card_without_vram_figure_and_an_integrated_carve_out_are_not_counted(tmp_path):
    root = tmp_path / "t"
    shutil.copytree(FIX / "sysfs" / "rx7900xtx", root, symlinks=True)
    vram = root / "sys/bus/pci/devices/0000:03:00.0/mem_info_vram_total"
    vram.write_text("536870912\n")  # 512 MiB: an APU's UMA frame buffer
    res = probe_amd(str(root))
    assert res.devices == [] and len(res.other_devices) == 1 and "integrated" in res.warnings[0]
    vram.unlink()
    res = probe_amd(str(root))
    assert res.devices == [] and "no VRAM figure" in res.warnings[0]


def test_intel_gpu_is_reported_as_present_without_memory():
    r = probe(sources(root=str(FIX / "sysfs" / "intel-igpu"), nvml=None))
    assert r.machine.devices == ()
    [dev] = r.machine.other_devices
    assert dev.vendor == "intel" and dev.memory_bytes == 0 and dev.details.driver == "i915"
    assert any("Intel GPU present" in w and "--hardware" in w for w in r.warnings)  # and how to name it instead


# --- Apple --------------------------------------------------------------------------------------------------

def _macos(monkeypatch, version):
    import platform
    monkeypatch.setattr(platform, "mac_ver", lambda: (version, ("", "", ""), "arm64"))


def test_m2_ultra_192gb_from_sysctl_and_ioreg(monkeypatch):
    _macos(monkeypatch, "14.5")  # the probed machine's macOS picks the working-set rule
    res = probe_apple(replay("m2-ultra-192gb"))
    [dev] = res.devices
    assert dev.matched_profile == "m2-ultra-192gb" and dev.unified and dev.backend == "metal"
    assert dev.memory_bytes == 192 * GiB and res.ram_bytes == 192 * GiB
    assert dev.usable_memory_bytes == 192 * GiB * 3 // 4  # before macOS 26: 3/4 of RAM above 36 GiB (llama.cpp #3213)
    assert "macOS 14 default" in dev.details.usable_memory_source
    assert dev.bandwidth_bytes_per_s == 800 * 10**9  # Apple: M2 Ultra 800 GB/s
    assert dev.details.gpu_cores == 76 and dev.name == "Apple M2 Ultra (76-core GPU)"
    assert res.cpu.physical_cores == 24 and res.cpu.source == "sysctl"
    assert res.cpu.flags == ("bf16", "dotprod", "i8mm", "neon")


def test_m3_pro_18gb_falls_back_to_system_profiler_for_gpu_cores(monkeypatch):
    _macos(monkeypatch, "26.1")
    res = probe_apple(replay("m3-pro-18gb"))
    [dev] = res.devices
    # the 14-core 18 GB configuration Apple sold (data/apple.yaml), not the 18-core curated profile
    assert dev.matched_profile == "m3-pro-14c-18gb" and dev.details.gpu_cores == 14
    assert dev.bandwidth_bytes_per_s == 150 * 10**9  # Apple: M3 Pro 150 GB/s
    # macOS 26: 0.78 of RAM (26800.60 MB logged on a 32 GiB M4); macOS 15 would give 2/3
    assert abs(dev.usable_memory_bytes / (18 * GiB) - 26800.60e6 / (32 * GiB)) < 0.001
    assert "macOS 26 default" in dev.details.usable_memory_source
    _macos(monkeypatch, "16.0")  # macOS 26 as an older-SDK binary may see it: no macOS 16 exists
    assert probe_apple(replay("m3-pro-18gb")).devices[0].usable_memory_bytes == dev.usable_memory_bytes
    from selfhost_advisor.catalog.hardware import get_profile

    full = get_profile("m3-pro-18gb").fp16_flops  # the 18-core GPU; this binned part has 14
    assert abs(dev.fp16_flops - full * 14 / 18) < 1


def test_apple_raised_wired_limit_and_unknown_chip(tmp_path):
    base = (FIX / "apple" / "m3-pro-18gb.sysctl.txt").read_text()

    def run_with(text):
        return lambda argv: text if argv[0] == "sysctl" else None

    [dev] = probe_apple(run_with(base.replace("iogpu.wired_limit_mb: 0", "iogpu.wired_limit_mb: 16384"))).devices
    assert dev.usable_memory_bytes == 16384 * 2**20 and dev.details.usable_memory_source.startswith("iogpu.wired_limit_mb=16384")
    res = probe_apple(run_with(base.replace("Apple M3 Pro", "Apple M9 Max")))
    assert res.devices[0].matched_profile is None and res.devices[0].bandwidth_bytes_per_s is None
    assert any(w.startswith("unmatched:") for w in res.warnings)
    res = probe_apple(lambda argv: None)
    assert res.devices == [] and "sysctl gave no chip name" in res.warnings[0]


def test_probe_on_macos_uses_unified_memory_as_ram():
    r = probe(sources(platform="darwin", run=replay("m2-ultra-192gb"), memory=lambda: (1, 1)))
    assert r.os == "darwin" and r.machine.ram_bytes == 192 * GiB
    assert r.machine.ram_bandwidth_bytes_per_s == 800 * 10**9 and r.machine.cpu.name == "Apple M2 Ultra"


# --- CPU, RAM, containers -----------------------------------------------------------------------------------

def test_xeon_two_sockets_with_amx():
    p = parse_proc_cpuinfo((FIX / "proc" / "xeon-8480-2s.cpuinfo").read_text())
    assert (p["name"], p["sockets"], p["physical"], p["logical"]) == ("Intel(R) Xeon(R) Platinum 8480+", 2, 4, 4)


def test_no_proc_cpuinfo_falls_back_to_py_cpuinfo_and_its_failure_is_not_fatal(tmp_path):
    cpu = probe_cpu(str(tmp_path), cpuinfo_loader=lambda: {"brand_raw": "Apple M1 (Rosetta)", "flags": ["avx2"]},
                    boot_time=1.0, directory="")
    assert (cpu.name, cpu.source, cpu.flags) == ("Apple M1 (Rosetta)", "py-cpuinfo", ("avx2",))

    def broken():
        raise RuntimeError("cpuinfo subprocess died")

    cpu = probe_cpu(str(tmp_path), cpuinfo_loader=broken, boot_time=1.0, directory="")
    assert cpu.name == "unknown CPU" and cpu.logical_cores


def test_cpu_flags_from_proc(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(FIX / "proc" / "xeon-8480-2s.cpuinfo", tmp_path / "proc" / "cpuinfo")
    cpu = probe_cpu(str(tmp_path), cpuinfo_loader=lambda: pytest.fail("py-cpuinfo not needed"))
    assert {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8", "amx_bf16", "amx_tile"} <= set(cpu.flags)
    assert cpu.sockets == 2 and cpu.source == "proc-cpuinfo"


def test_amx_flags_are_dropped_when_the_kernel_does_not_grant_tile_state(tmp_path):
    """CPUID lists AMX; a kernel that will not manage its tile state (before 5.16, or XTILEDATA not supported) makes
    the first tile instruction fault, so the probe does not count it. Unknown (not Linux x86): kept as listed."""
    (tmp_path / "proc").mkdir()
    shutil.copy(FIX / "proc" / "xeon-8480-2s.cpuinfo", tmp_path / "proc" / "cpuinfo")
    no = probe_cpu(str(tmp_path), amx_check=lambda: False)
    assert not {"amx_int8", "amx_bf16", "amx_tile"} & set(no.flags) and {"avx512f", "avx512_vnni"} <= set(no.flags)
    for answer in (True, None):
        assert "amx_int8" in probe_cpu(str(tmp_path), amx_check=lambda a=answer: a).flags


def test_kernel_amx_question_reads_the_supported_mask(monkeypatch):
    import ctypes

    from selfhost_advisor.probe import cpu as cpu_mod

    monkeypatch.setattr(cpu_mod.platform, "system", lambda: "Linux")
    monkeypatch.setattr(cpu_mod.platform, "machine", lambda: "x86_64")

    class FakeLibc:
        def __init__(self, rc, mask):
            self.rc, self.mask = rc, mask

        def syscall(self, nr, code, ptr):
            assert (nr, code) == (158, 0x1021)
            ctypes.cast(ptr, ctypes.POINTER(ctypes.c_uint64)).contents.value = self.mask
            return self.rc

    for rc, mask, want in ((0, 0x602E7, True), (0, 0x202E7, False), (-1, 0, False)):
        monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: FakeLibc(rc, mask))
        assert cpu_mod.kernel_supports_amx() is want
    monkeypatch.setattr(cpu_mod.platform, "machine", lambda: "aarch64")
    assert cpu_mod.kernel_supports_amx() is None


def test_arm_without_model_name_uses_py_cpuinfo_once_per_boot(tmp_path):
    (tmp_path / "proc").mkdir()
    shutil.copy(FIX / "proc" / "graviton3.cpuinfo", tmp_path / "proc" / "cpuinfo")
    calls = []

    def loader():
        calls.append(1)
        return {"brand_raw": "Neoverse-V1", "flags": []}

    cache = str(tmp_path / "cache")
    a = probe_cpu(str(tmp_path), loader, boot_time=100.0, directory=cache)
    b = probe_cpu(str(tmp_path), loader, boot_time=100.0, directory=cache)
    assert a == b and a.name == "Neoverse-V1" and a.source == "py-cpuinfo" and len(calls) == 1
    assert {"neon", "dotprod", "sve", "i8mm", "bf16"} <= set(a.flags) and "sve2" not in a.flags
    probe_cpu(str(tmp_path), loader, boot_time=200.0, directory=cache)  # rebooted: asked again
    assert len(calls) == 2


def _write(root: Path, rel: str, text: str):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_cgroup_v2_limit_is_the_smallest_along_the_path(tmp_path):
    _write(tmp_path, "proc/self/cgroup", "0::/system.slice/docker-abc.scope\n")
    _write(tmp_path, "sys/fs/cgroup/memory.max", "max\n")
    _write(tmp_path, "sys/fs/cgroup/system.slice/memory.max", "34359738368\n")
    _write(tmp_path, "sys/fs/cgroup/system.slice/docker-abc.scope/memory.max", "17179869184\n")
    assert cgroup_memory_limit(str(tmp_path)) == 16 * GiB
    _write(tmp_path, "sys/fs/cgroup/system.slice/docker-abc.scope/memory.max", "max\n")
    assert cgroup_memory_limit(str(tmp_path)) == 32 * GiB


def test_cgroup_v1_limit_and_unlimited(tmp_path):
    _write(tmp_path, "proc/self/cgroup", "5:devices:/docker/abc\n4:memory:/docker/abc\n0::/\n")
    # inside the container the memory hierarchy is mounted at its own cgroup, so docker/abc is not a directory
    _write(tmp_path, "sys/fs/cgroup/memory/memory.limit_in_bytes", "8589934592\n")
    assert cgroup_memory_limit(str(tmp_path)) == 8 * GiB
    _write(tmp_path, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n")  # v1 "no limit"
    assert cgroup_memory_limit(str(tmp_path)) is None
    assert cgroup_memory_limit(str(tmp_path / "nothing")) is None


def test_a_container_memory_limit_is_the_ram_fit_uses(tmp_path):
    _write(tmp_path, "proc/self/cgroup", "0::/\n")
    _write(tmp_path, "sys/fs/cgroup/memory.max", "17179869184\n")
    _write(tmp_path, ".dockerenv", "")
    r = probe(sources(root=str(tmp_path), nvml=None))
    m = r.machine
    assert (m.ram_bytes, m.physical_ram_bytes, m.cgroup_memory_limit_bytes, m.container) == (16 * GiB, 64 * GiB,
                                                                                           16 * GiB, True)
    assert m.available_ram_bytes == 16 * GiB


# --- JSON round trip ----------------------------------------------------------------------------------------

SCENARIOS = {
    "2x rtx 4090": lambda: nvidia_box("rtx4090x2"),
    "a100 mig": lambda: nvidia_box("a100_80gb_mig"),
    "rx 7900 xtx": lambda: probe(sources(root=str(FIX / "sysfs" / "rx7900xtx"), nvml=None)),
    "m2 ultra": lambda: probe(sources(platform="darwin", run=replay("m2-ultra-192gb"))),
    "m3 pro": lambda: probe(sources(platform="darwin", run=replay("m3-pro-18gb"))),
    "intel igpu": lambda: probe(sources(root=str(FIX / "sysfs" / "intel-igpu"), nvml=None)),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_probe_json_reads_back_to_the_same_json(name):
    report = SCENARIOS[name]()
    data = json.loads(json.dumps(probe_dict(report, show_ids=True)))
    again = probe_dict(report_from_probe(data), show_ids=True)
    assert again == data


def test_ids_are_redacted_unless_asked():
    report = nvidia_box("a100_80gb_mig")
    hidden = json.dumps(probe_dict(report))
    shown = json.dumps(probe_dict(report, show_ids=True))
    for secret in ("GPU-5a4b3c2d", "1322321045678", "00000000:07:00.0", "MIG-0d5f6a7b"):
        assert secret not in hidden and secret in shown


# --- benchmarks/device/capture_nvml.py: what records a real machine's NVML answers as a fixture ----------------

def _capture(spec, monkeypatch, capsys) -> dict:
    import importlib.util

    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml.make(spec))
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "device" / "capture_nvml.py"
    mod_spec = importlib.util.spec_from_file_location("capture_nvml", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["capture_nvml.py", "test"])
    assert module.main() == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("fixture", ["rtx4090x2", "a100_80gb_mig"])
def test_nvml_capture_replays_to_the_same_probe_without_identifiers(fixture, monkeypatch, capsys):
    original = json.loads((FIX / "nvml" / f"{fixture}.json").read_text())
    captured = _capture(fixture, monkeypatch, capsys)
    text = json.dumps(captured)
    for g in original["gpus"]:
        for secret in (g["uuid"], g["serial"], *(m["uuid"] for m in g.get("mig_instances", []))):
            assert not secret or secret not in text
    before, after = nvidia_box(original), nvidia_box(captured)
    assert len(after.machine.devices) == len(original["gpus"])
    assert probe_dict(after) == probe_dict(before)  # identifiers are redacted in the probe's output either way


def test_real_h200_nvml_capture_replays_to_the_probe_captured_with_it():
    """tests/fixtures/nvml/h200.json and probes/h200.probe.json were captured together on a real H200."""
    captured = json.loads((FIX / "probes" / "h200.probe.json").read_text())
    replayed = probe_dict(nvidia_box("h200"))
    assert replayed["devices"] == captured["devices"]
    dev = captured["devices"][0]
    assert dev["matched_profile"] == "h200" and dev["details"]["compute_capability"] == "9.0"
    assert dev["details"]["uuid"] == "redacted" and dev["details"]["serial"] == "redacted"
