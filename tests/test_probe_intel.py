"""Intel GPUs in `advisor probe` (probe/intel.py) on fake sysfs trees laid out as the kernel lays them out:
/sys/bus/pci/devices/<bdf> with vendor, device, uevent and a driver link; /sys/class/drm/cardN/device linking to it;
xe's tile0/physical_vram_size_bytes under the PCI device, i915's lmem_total_bytes on the DRM minor (cardN)."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from selfhost_advisor.probe import ProbeSources, probe
from selfhost_advisor.probe.intel import probe_intel
from selfhost_advisor.render.probe_json import probe_dict

GiB = 2**30
LNL_CPU = {"brand_raw": "Intel(R) Core(TM) Ultra 7 258V", "flags": ["avx2"]}
MTL_CPU = {"brand_raw": "Intel(R) Core(TM) Ultra 7 155H", "flags": ["avx2"]}


def intel_card(root: Path, device: str, driver: str, card: str = "card0", bdf: str = "0000:03:00.0",
               tile_vram: str | None = None, lmem: str | None = None) -> Path:
    sysd = root / "sys"
    dev = sysd / "bus" / "pci" / "devices" / bdf
    dev.mkdir(parents=True)
    (dev / "class").write_text("0x030000\n")
    (dev / "vendor").write_text("0x8086\n")
    (dev / "device").write_text(device + "\n")
    (dev / "uevent").write_text(f"DRIVER={driver}\nPCI_ID=8086:{device[2:].upper()}\nPCI_SLOT_NAME={bdf}\n")
    (sysd / "bus" / "pci" / "drivers" / driver).mkdir(parents=True, exist_ok=True)
    os.symlink(f"../../../bus/pci/drivers/{driver}", dev / "driver")
    if tile_vram is not None:
        (dev / "tile0").mkdir()
        (dev / "tile0" / "physical_vram_size_bytes").write_text(tile_vram)
    c = sysd / "class" / "drm" / card
    c.mkdir(parents=True)
    os.symlink(f"../../../bus/pci/devices/{bdf}", c / "device")
    if lmem is not None:
        (c / "lmem_total_bytes").write_text(lmem)
    return dev


def run(root: Path, cpu=LNL_CPU, ram=32 * GiB):
    return probe(ProbeSources(root=str(root), nvml=None, memory=lambda: (ram, ram // 2), cpuinfo_loader=lambda: cpu,
                              cache_dir="", boot_time=1.0, host_rates=None))


def test_arc_b580_on_xe_is_named_sized_and_matched_to_its_spec_row(tmp_path):
    intel_card(tmp_path, "0xe20b", "xe", tile_vram="12884901888\n")  # 12 GiB, as xe prints it ("%llu\n")
    r = run(tmp_path)
    [dev] = r.machine.devices
    assert dev.name == "Intel Arc B580" and dev.memory_bytes == 12 * GiB
    assert dev.matched_profile == "arc-b580" and dev.backend == "sycl" and not dev.unified
    assert dev.bandwidth_bytes_per_s == 456 * 10**9  # gpu_specs row: 192-bit GDDR6 at 19 Gbps
    assert dev.details.driver == "xe" and "physical_vram_size_bytes" in dev.details.usable_memory_source
    assert not any("Intel GPU present" in w for w in r.warnings)


def test_arc_a770_on_i915_takes_its_size_from_lmem_total_bytes_and_picks_the_16_gb_row(tmp_path):
    intel_card(tmp_path, "0x56a0", "i915", lmem="17179869184\n")
    [dev] = run(tmp_path).machine.devices
    assert dev.matched_profile == "arc-a770-16gb" and dev.bandwidth_bytes_per_s == 560 * 10**9
    assert dev.details.usable_memory_source == "i915 sysfs lmem_total_bytes"
    (tmp_path / "sys/class/drm/card0/lmem_total_bytes").write_text("8589934592\n")  # the 8 GB partner card
    [dev] = run(tmp_path).machine.devices
    assert dev.matched_profile == "arc-a770-8gb" and dev.bandwidth_bytes_per_s == 512 * 10**9


def test_a770_on_mainline_i915_without_a_size_is_named_but_not_guessed(tmp_path):
    intel_card(tmp_path, "0x56a0", "i915")  # mainline i915: no lmem_total_bytes; A770 comes in 8 and 16 GB
    r = run(tmp_path)
    assert r.machine.devices == ()
    [dev] = r.machine.other_devices
    assert dev.name == "Intel DG2 [Arc A770]" and dev.memory_bytes == 0
    assert any("no VRAM size" in w and "'arc a770'" in w for w in r.warnings)


def test_b580_without_a_size_uses_the_one_size_it_is_sold_with_and_says_so(tmp_path):
    intel_card(tmp_path, "0xe20b", "xe")
    r = run(tmp_path)
    [dev] = r.machine.devices
    assert dev.memory_bytes == 12 * GiB and "spec table" in dev.details.usable_memory_source
    assert any("taken from the spec table" in w for w in r.warnings)


def test_lunar_lake_igpu_uses_shared_ram_with_the_driver_share(tmp_path):
    intel_card(tmp_path, "0x64a0", "xe", bdf="0000:00:02.0")
    ram = 31 * GiB + 512 * 2**20  # MemTotal of a 32 GB laptop: less than the nominal size
    r = run(tmp_path, LNL_CPU, ram)
    [dev] = r.machine.devices
    assert dev.matched_profile == "arc-140v-lpddr5x-8533-32gb" and dev.unified and dev.backend == "sycl"
    assert dev.memory_bytes == ram and dev.usable_memory_bytes == int(ram * 0.57)  # data/apu.yaml gpu_share
    assert dev.bandwidth_bytes_per_s == int(136.5e9)
    assert "shared system RAM" in dev.details.usable_memory_source and "57%" in dev.details.usable_memory_source
    # on a machine whose GPUs are all unified, the RAM bandwidth is the GPU's
    assert r.machine.ram_bandwidth_bytes_per_s == int(136.5e9)


def test_meteor_lake_igpu_whose_memory_type_is_unknown_is_not_counted_and_the_choices_are_named(tmp_path):
    intel_card(tmp_path, "0x7d55", "i915", bdf="0000:00:02.0")
    r = run(tmp_path, MTL_CPU, 32 * GiB)
    assert r.machine.devices == ()
    [dev] = r.machine.other_devices
    assert dev.name == "Intel Meteor Lake-P [Intel Arc Graphics]"
    [w] = [w for w in r.warnings if "memory type" in w]
    assert "LPDDR5X-7467" in w and "DDR5-5600" in w and "--hardware" in w


def test_arrow_lake_h_arc_140t_is_named_with_its_memory_choices(tmp_path):
    """PCI 0x7d51 (pciids.h INTEL_ARL_H_IDS) with a Core Ultra 9 285H: the Arc 140T of data/apu.yaml (session 15); its
    LPDDR5X-8400 and DDR5-6400 builds differ in bandwidth, so the probe names both rather than pick one."""
    intel_card(tmp_path, "0x7d51", "xe", bdf="0000:00:02.0")
    r = run(tmp_path, {"brand_raw": "Intel(R) Core(TM) Ultra 9 285H", "flags": ["avx2"]}, 32 * GiB)
    assert r.machine.devices == ()
    [w] = [w for w in r.warnings if "memory type" in w]
    assert "Arc 140T LPDDR5X-8400 32GB" in w and "Arc 140T DDR5-6400 32GB" in w and "arc-140t-" in w


def test_igpu_beside_an_arc_card_is_not_counted(tmp_path):
    intel_card(tmp_path, "0x64a0", "xe", bdf="0000:00:02.0", card="card0")
    intel_card(tmp_path, "0xe20b", "xe", bdf="0000:03:00.0", card="card1", tile_vram="12884901888\n")
    r = run(tmp_path, LNL_CPU, 32 * GiB)
    assert [d.matched_profile for d in r.machine.devices] == ["arc-b580"]
    assert [d.matched_profile for d in r.machine.other_devices] == ["arc-140v-lpddr5x-8533-32gb"]


def test_an_unknown_intel_id_is_present_named_by_id_with_a_warning(tmp_path):
    intel_card(tmp_path, "0xa780", "i915", bdf="0000:00:02.0")  # Raptor Lake UHD 770: not in the table
    r = run(tmp_path)
    assert r.machine.devices == ()
    [dev] = r.machine.other_devices
    assert dev.name == "Intel GPU 8086:a780" and dev.memory_bytes == 0
    assert any("Intel GPU present" in w and "--hardware" in w for w in r.warnings)


@pytest.mark.parametrize("content", ["garbage\n", "", "-12884901888\n", "0\n", "9" * 4000 + "\n",
                                     "18446744073709551615\n", "\x1b[31m12\n", "0x\n", "12e9\n"])
def test_hostile_vram_figures_are_ignored_with_a_warning_never_a_traceback(tmp_path, content):
    intel_card(tmp_path, "0x56a0", "i915", lmem=content)
    r = run(tmp_path)  # A770: two sizes, so with no usable figure it is not counted
    assert r.machine.devices == ()
    assert [d.name for d in r.machine.other_devices] == ["Intel DG2 [Arc A770]"]
    assert not any("\x1b" in w for w in r.warnings)
    json.dumps(probe_dict(r))  # the report still renders


def test_a_fifo_in_place_of_a_sysfs_file_does_not_hang(tmp_path):
    dev = intel_card(tmp_path, "0xe20b", "xe")
    (dev / "tile0").mkdir()
    os.mkfifo(dev / "tile0" / "physical_vram_size_bytes")
    os.mkfifo(tmp_path / "sys/class/drm/card0/lmem_total_bytes")
    (dev / "device").unlink()
    os.mkfifo(dev / "device")
    # A blocking open of a FIFO never returns, whatever the load: run the probe in a thread and give it a minute, so
    # that a regression fails here instead of hanging the suite. Its work is bounded in CPU time, not wall time (the
    # old 10 s wall-clock bound measured the neighbours on the shared machine at load average 18).
    import threading

    out: dict = {}

    def probe_it() -> None:
        t0 = time.thread_time()
        out["r"] = run(tmp_path)
        out["cpu"] = time.thread_time() - t0

    worker = threading.Thread(target=probe_it, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the probe blocked on a FIFO"
    assert out["cpu"] < 2, f"{out['cpu']:.2f} s of CPU"
    r = out["r"]
    assert r.machine.devices == ()  # no device id readable: not named


def test_a_fifo_as_the_vram_file_of_a_known_card_is_skipped(tmp_path):
    dev = intel_card(tmp_path, "0x56a0", "i915")
    os.mkfifo(tmp_path / "sys/class/drm/card0/lmem_total_bytes")
    (dev / "tile0").mkdir()
    os.mkfifo(dev / "tile0" / "physical_vram_size_bytes")
    res = probe_intel(str(tmp_path), "", 32 * GiB)
    assert res.devices == [] and [d.name for d in res.other_devices] == ["Intel DG2 [Arc A770]"]


def test_probe_json_validates_reads_back_and_fit_on_it_uses_the_card_as_hardware_arc_b580_does(tmp_path):
    pytest.importorskip("jsonschema")
    import schemakit
    from cliproc import isolated_env, run_inprocess

    from selfhost_advisor.probe.files import report_from_probe

    intel_card(tmp_path, "0xe20b", "xe", tile_vram="12884901888\n")
    data = json.loads(json.dumps(probe_dict(run(tmp_path))))
    schema = json.loads((Path(__file__).resolve().parents[1] / "docs/schema/probe.schema.json").read_text())
    schemakit.validate(data, schema)
    assert probe_dict(report_from_probe(data)) == data
    box = tmp_path / "box.json"
    box.write_text(json.dumps(data))
    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    argv = ["fit", "llama3.1:8b", "--quant", "Q4_K_M", "--json", "--hardware"]
    probed, named = run_inprocess([(argv + [str(box)], env), (argv + ["arc b580"], env)], tmp_path)
    assert probed.returncode == 0 and named.returncode == 0, probed.stderr + named.stderr

    def speed(out: str) -> tuple[float, float, str]:
        d = json.loads(out)
        [opt] = [o for o in d["options"] if o["quant"] == "Q4_K_M"]
        [gpu] = d["hardware"]["devices"]
        return opt["speed"]["decode_tokens_per_s"], opt["speed"]["prefill_tokens_per_s"], gpu["backend"]

    decode, prefill, backend = speed(probed.stdout)
    assert (decode, prefill, backend) == speed(named.stdout) and decode > 0 and backend == "sycl"
