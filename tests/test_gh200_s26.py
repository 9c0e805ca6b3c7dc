"""Session 26 (hw26): the NVIDIA GH200 Grace Hopper Superchip's GPU by name, by the names NVML prints, and probed.

`--hardware gh200` was unknown ("did you mean h200, b200..."), though GH200 nodes are rented widely (Lambda, CSCS
Alps, JUPITER). Its GPU comes with 96 GB HBM3 or 144 GB HBM3e (data/gpu_overrides.yaml additions), so a bare 'gh200'
is refused with both. NVML names the 96 GB GPU by the Grace CPU's LPDDR5X ("NVIDIA GH200 480GB", "NVIDIA GH200
120GB"), which the table's size rule refused as a size no GH200 has, offering '5x gh200 96 gb'.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import gpu_table
from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, parse_spec
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

FIX = Path(__file__).resolve().parent / "fixtures"
sys.path.insert(0, str(FIX))
import fake_pynvml  # noqa: E402

GiB = 2**30
# nvidia-smi memory.total on a 96 GB GH200 (named "NVIDIA GH200 120GB" on CSCS Alps / Isambard-AI, "NVIDIA GH200
# 480GB" at Lambda), and the bytes CUDA reports for "NVIDIA GH200 144G HBM3e" (cuDeviceTotalMem): public logs of
# those machines, read 2026-12-07
NVML_96GB_TOTAL = 97871 * 2**20
CUDA_144GB_TOTAL = 153008209920

# The figures as the cited sources state them (stas00/ml-engineering compute/accelerator/README.md at 744d01e, which
# cites NVIDIA's GH200 page; NVIDIA/mig-parted config-default.yaml for the 144 GB size), typed here, not read off the
# rows: dense FP16/BF16 989 TFLOPS, FP8 and INT8 1979, 132 SMs; 96 GB HBM3 at 4.00 TB/s; 144 GB HBM3e at 4.80 TB/s
# (stas00's memory table; NVIDIA is quoted at 4.9, not read); the module's "up to 1000W".
SHEET = {
    "gh200-96-gb": {"memory_gib": 96, "memory_type": "HBM3", "bandwidth_gbps": 4000},
    "gh200-144-gb": {"memory_gib": 144, "memory_type": "HBM3e", "bandwidth_gbps": 4800},
}


@pytest.mark.parametrize("row_id", sorted(SHEET))
def test_gh200_rows_carry_the_cited_figures(row_id):
    row = gpu_table.by_id(row_id)
    want = SHEET[row_id]
    assert row["added"] and row["vendor"] == "nvidia" and row["backend"] == "cuda" and row["architecture"] == "Hopper"
    assert row["memory_gib"] == want["memory_gib"] and row["memory_type"] == want["memory_type"]
    assert row["bandwidth_gbps"] == want["bandwidth_gbps"]
    assert abs(row["fp16_tflops"] - 989) <= 1 and abs(row["int8_tops"] - 1979) <= 1
    assert abs(row["fp8_tflops"] - 1979) <= 1
    assert row["units"] == 132 and row["tdp_watts"] == 1000
    # the Hopper rule of scripts/gen_gpu_specs.py at the H100's 1.83 GHz tensor clock gives the same spec (989.6)
    assert abs(132 * 4 * 1024 * 1.83e9 / 1e12 - row["fp16_tflops"]) / row["fp16_tflops"] < 0.01
    # the source says the TDP is the whole module's, an upper bound, as the DGX Station row does
    assert "upper bound" in row["source"]


@pytest.mark.parametrize("typed, want", [
    ("gh200 96gb", "gh200-96-gb"), ("GH200 96 GB", "gh200-96-gb"), ("gh200-96-gb", "gh200-96-gb"),
    ("nvidia gh200 96gb", "gh200-96-gb"),
    ("gh200 144gb", "gh200-144-gb"), ("GH200 144 GB", "gh200-144-gb"), ("gh200-144-gb", "gh200-144-gb"),
])
def test_each_gh200_gpu_resolves_by_its_name(typed, want):
    assert get_profile(typed).id == want


@pytest.mark.parametrize("typed", ["gh200", "nvidia gh200", "GH200"])
def test_a_bare_gh200_is_refused_with_its_two_sizes(typed):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(typed)
    line = str(err.value)
    assert "gh200-96-gb (96 GiB)" in line and "gh200-144-gb (144 GiB)" in line
    assert "memory sizes" in line


@pytest.mark.parametrize("nvml_name, want", [
    ("NVIDIA GH200 480GB", "gh200-96-gb"),       # Lambda, CoreWeave: the Grace CPU's 480 GB LPDDR5X in the name
    ("NVIDIA GH200 120GB", "gh200-96-gb"),       # CSCS Alps, Isambard-AI: 120 GB of LPDDR5X
    ("NVIDIA GH200 144G HBM3e", "gh200-144-gb"),  # mig-parted PR #139
    ("gh200 480gb", "gh200-96-gb"),              # as a user copies it from nvidia-smi
])
def test_the_names_nvml_prints_resolve_to_the_gpu_they_are(nvml_name, want):
    assert get_profile(nvml_name).id == want


def test_a_gh200_named_by_its_lpddr5x_is_not_offered_five_gpus():
    """The table's size rule said "none of the cards it names has 480 GB ... or 5 GPUs of 96 GiB" for the name NVML
    prints on one superchip; two of them are two GPUs."""
    profile, count, _ = parse_spec("2x NVIDIA GH200 480GB")
    assert (profile.id, count) == ("gh200-96-gb", 2)


def test_a_size_no_gh200_has_is_still_refused_with_the_choices():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("gh200 64gb")
    assert "gh200-96-gb" in str(err.value) and "gh200-144-gb" in str(err.value)


@pytest.mark.parametrize("name, total, want", [
    ("NVIDIA GH200 480GB", NVML_96GB_TOTAL, "gh200-96-gb"),
    ("NVIDIA GH200 120GB", NVML_96GB_TOTAL, "gh200-96-gb"),
    ("NVIDIA GH200 144G HBM3e", CUDA_144GB_TOTAL, "gh200-144-gb"),
    ("NVIDIA GH200 144G HBM3e", NVML_96GB_TOTAL, None),  # the memory must agree: no 96 GB GPU of that name
])
def test_probe_matches_a_gh200_by_its_nvml_name_and_memory(name, total, want):
    from selfhost_advisor.probe import ProbeSources, probe

    spec = {"driver_version": "580.105.08", "cuda_driver_version": 13000, "gpus": [
        {"name": name, "total": total, "free": total - 2**30, "bus_width": 6144, "max_clock_mem": 2619,
         "max_clock_sm": 1980, "cc": [9, 0], "bus_id": "00000009:01:00.0", "pci_device_id": 0x234210DE,
         "mig": [0, 0]}]}
    src = ProbeSources(root=str(FIX / "none"), nvml=fake_pynvml.make(spec), memory=lambda: (480 * 10**9, 400 * 10**9),
                       cpuinfo_loader=lambda: {"brand_raw": "Neoverse-V2", "flags": []}, cache_dir="", boot_time=1.0)
    dev = probe(src).machine.devices[0]
    assert dev.matched_profile == want
    if want:
        assert dev.details.bandwidth_source == f"catalog:{want}"
        assert dev.bandwidth_bytes_per_s == SHEET[want]["bandwidth_gbps"] * 10**9


def test_gh200_is_priced_as_the_h100_family_it_shares_a_die_with():
    """llama.cpp's MMQ mma.sync share of the spec rate and vLLM's FP8 GEMM gain are the H100 family's (the same GH100
    die); unlisted, the row fell to the 'nvidia-hopper' family, which has neither."""
    from selfhost_advisor.estimate.speed_factors import _hardware_family

    assert _hardware_family("gh200-96-gb") == _hardware_family("gh200-144-gb") == _hardware_family("h100-sxm")


def test_vllm_serves_a_gh200_with_its_fp8_rate():
    from selfhost_advisor.estimate.serving.rates import matmul_flops
    from selfhost_advisor.estimate.vllm import get_vllm_quant, serving_gpus

    m = machine_from_profile(get_profile("NVIDIA GH200 144G HBM3e"))
    assert serving_gpus(m)  # its own HBM: a discrete CUDA device for vLLM
    assert matmul_flops(m, get_vllm_quant("FP8"), spec=True) == pytest.approx(1979e12)


# --- the sweep of current datacenter / workstation names (methodology 4c-hw26) ----------------------------------

@pytest.mark.parametrize("driver_name, want", [
    ("NVIDIA B300 SXM6 AC", "b300"),  # torch.cuda.get_device_name() on a B300 (NVIDIA/cosmos-framework PR #114)
    ("NVIDIA RTX PRO 4000 Blackwell SFF Edition", "rtx-pro-4000-blackwell-sff"),  # pci.ids 10de:2c33
    # the edition words that already read keep reading
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000-blackwell-server"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "rtx-pro-6000-blackwell-max-q"),
])
def test_driver_names_of_current_datacenter_and_workstation_gpus_resolve(driver_name, want):
    assert get_profile(driver_name).id == want


def test_probe_matches_a_b300_by_the_name_torch_and_nvml_print():
    from selfhost_advisor.probe.match import match_gpu

    # 288 GB of HBM3e is 268 GiB: within the probe's 8% of the row's figure, as NVML reports it
    assert match_gpu("nvidia", "NVIDIA B300 SXM6 AC", 268 * GiB).id == "b300"
    assert match_gpu("nvidia", "NVIDIA B300 SXM6 AC", 96 * GiB) is None  # another memory is another GPU


@pytest.mark.parametrize("mem_clock, want", [
    (2619, "h800-sxm5"),        # HBM3 at 2619 MHz on 5120 bits: 3.35 TB/s (NVIDIA/DCGM issue #120's H800 node)
    (1593, "h800-pcie-80-gb"),  # HBM2e at 1593 MHz: 2.04 TB/s, the PCIe card's row
    (None, None),               # no clocks: the two 80 GB rows stay unmatched, as before
])
def test_probe_tells_an_h800_sxm5_from_the_pcie_card_by_its_memory_clock(mem_clock, want):
    """NVML names the H800 SXM5 plain "NVIDIA H800"; the table holds it and the PCIe card at 80 GB each, so name and
    memory did not decide and the probe had no FLOPS for it. The bus width x memory clock picks the row."""
    from selfhost_advisor.probe import ProbeSources, probe

    gpu = {"name": "NVIDIA H800", "total": 81559 * 2**20, "free": 80 * 10**9, "cc": [9, 0],
           "bus_id": "00000000:88:00.0", "pci_device_id": 0x232410DE, "mig": [0, 0]}
    if mem_clock:
        gpu.update(bus_width=5120, max_clock_mem=mem_clock, max_clock_sm=1980)
    spec = {"driver_version": "550", "cuda_driver_version": 12040, "gpus": [gpu]}
    src = ProbeSources(root=str(FIX / "none"), nvml=fake_pynvml.make(spec), memory=lambda: (512 * GiB, 500 * GiB),
                       cpuinfo_loader=lambda: {"brand_raw": "Intel(R) Xeon(R) Platinum 8480+", "flags": []},
                       cache_dir="", boot_time=1.0)
    dev = probe(src).machine.devices[0]
    assert dev.matched_profile == want
    if want:
        assert dev.fp16_flops and dev.details.bandwidth_source == f"catalog:{want}"


@pytest.mark.parametrize("typed, want", [
    ("gh200 141gb", "gh200-144-gb"),         # stas00's memory table lists the HBM3e GH200 at 141 GB
    ("rtx 4060 ti 15gb", "rtx-4060-ti-16gb"),  # 16 GB is 14.9 GiB: a size read in GiB
    ("a100 75gb", "a100-80gb-pcie"),          # 80 GB is 74.5 GiB; of the A100 80 GB rows, the PCIe card (the tie rule)
])
def test_a_stated_size_near_one_variant_names_it(typed, want):
    """A size no variant has exactly, within 8% of one variant's (the tolerance _memory_checked gives a card sold in one
    size: GB or GiB), names that variant; 'gh200 141gb' was told it "names several memory sizes ... name one of them,
    e.g. with its memory size" though it had given one."""
    assert get_profile(typed).id == want


def test_a_stated_size_near_two_variants_is_still_refused():
    with pytest.raises(AmbiguousHardwareError):
        get_profile("h100 90gb")  # 94 and 96 GB variants are both within 8%
