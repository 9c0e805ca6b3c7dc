"""Intel GPUs under ggml-vulkan: Lunar Lake is Xe2 to ggml-vulkan, and Intel's Linux driver (Mesa ANV) decodes at the
ratio PR #14001 measured against Intel's Windows driver (estimate/vulkan_intel.py; docs/methodology.md 5b-vkintel)."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import yaml

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_intel as vi
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import _speed_data, estimate_speed
from selfhost_advisor.record import replace

ROOT = Path(__file__).resolve().parents[1]
RULES = _speed_data()["vulkan_prefill_path"]


def _machine(name: str, backend: str = "vulkan", driver: str = ""):
    m = machine_from_profile(hw_names.resolve(name), 1)
    d = replace(m.devices[0], backend=backend, vulkan_driver=driver)
    return replace(m, devices=(d,))


def _decode(name: str, backend: str = "vulkan", driver: str = "") -> float:
    model = get_model("llama3.1:8b")
    placement = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0)
    return estimate_speed(model, get_quant("Q4_K_M"), placement, _machine(name, backend, driver)).decode_tokens_per_s


def test_lunar_lake_is_xe2_and_gets_khr_coopmat_from_pr_14001():
    """get_device_architecture: minSubgroupSize 16 -> INTEL_XE2 (Xe2's SIMD16 engines, Lunar Lake as Battlemage);
    PR #14001 (b5589, 2025-06-05) enables KHR coopmat there: "currently Lunar Lake and Battlemage"."""
    d = _machine("arc 140v 32gb").devices[0]
    assert vp.architecture(d) == "Xe2-LPG"
    with vp.as_of_build("2025-06-04"):
        assert vp.features(d, RULES)[0] == "none"
    with vp.as_of_build("2025-06-05"):
        assert vp.features(d, RULES)[0] == "coopmat"
        assert vp.matmul_path(d, "Q4_K", RULES) == "coopmat_dequant"  # K-quant MMQ came with PR #16536 (2025-10)
    a770 = _machine("arc a770 16gb").devices[0]  # Xe-HPG: "has performance regressions", no coopmat
    assert vp.features(a770, RULES)[0] == "none"


def test_mesa_decodes_at_the_measured_anv_ratio_before_the_2026_fixes_and_nothing_else_moves():
    with vp.as_of_build("2025-06-05"):  # PR #14001's build
        windows = _decode("arc b580", driver="windows")
        mesa = _decode("arc b580", driver="mesa")
        assert abs(mesa / windows - RULES_INTEL()["anv_decode_ratio"]) < 1e-9
        assert _decode("arc b580") == windows  # unknown driver: Intel's Windows driver, the one the fit saw
        assert _decode("arc b580", backend="sycl", driver="mesa") == _decode("arc b580", backend="sycl")  # no ANV
        assert _decode("rx 7900 xtx", driver="mesa") == _decode("rx 7900 xtx")  # ANV is Intel's driver only
    fixed = RULES_INTEL()["anv_fixed_since"]
    with vp.as_of_build(fixed):  # the April 2026 B60 rows decode at the Windows-driver estimate
        assert _decode("arc b580", driver="mesa") == _decode("arc b580", driver="windows")
    assert _decode("arc b580", driver="mesa") == _decode("arc b580", driver="windows")  # today's build


def test_a_row_driver_applies_where_the_device_states_none():
    base = _machine("arc b580").devices[0]
    with vi.with_driver("mesa"):
        assert vi.decode_factor(base, "2024-12-08") < 1
        # the device's own wins: Windows, no ANV ratio (the Windows-driver share alone, 5b-vkintel2)
        assert vi.decode_factor(replace(base, vulkan_driver="windows"), "2024-12-08") == RULES_INTEL()["decode_share"]
    assert vi.unknown_driver(base) and not vi.unknown_driver(replace(base, vulkan_driver="mesa"))


def test_a_stated_mesa_25_keeps_the_anv_ratio_in_a_2026_build():
    """The ANV fixes are Mesa compiler work of April 2026: a row stating a Mesa 25 release takes the ratio whatever its
    llama.cpp date (the Arc 140V's Mesa 25.2.8 rows of 2026-06-29, docs/methodology.md 5b-vkintel9); Mesa 26 and an
    unstated release keep the date rule."""
    assert vi.mesa_release("master cloned 2026-06-29, GGML_VULKAN=ON, Mesa 25.2.8 ANV, KHR_coopmat") == "25.2.8"
    assert vi.mesa_release("b29c606e2 (10964), Mesa 26.2.3 (ANV)") == "26.2.3"
    assert vi.mesa_release("Intel Mesa 24.2.8 (ANV)") == "24.2.8" and vi.mesa_release("b5589, Windows") == ""
    base = replace(_machine("arc 140v 32gb").devices[0], vulkan_driver="mesa")
    law = vi.decode_factor(replace(base, vulkan_driver="windows"), "2026-06-29")
    ratio = RULES_INTEL()["anv_decode_ratio"]
    assert vi.decode_factor(base, "2026-06-29") == law  # no Mesa stated: the date decides (fixed)
    with vi.with_mesa("25.2.8"):
        assert abs(vi.decode_factor(base, "2026-06-29") - ratio * law) < 1e-12
        assert vi.anv_matrix_share(base, "coopmat", "2026-06-29") == RULES_INTEL()["anv_coopmat_prefill_ratio"]
    with vi.with_mesa("26.2.3"):
        assert vi.decode_factor(base, "2026-10-01") == law and vi.anv_matrix_share(base, "coopmat", "2026-10-01") == 1
        assert vi.decode_factor(base, "2025-06-04") < law  # a new Mesa does not lift a build before the date


def RULES_INTEL() -> dict:
    return _speed_data()["vulkan_intel"]


def test_anv_ratio_is_pr_14001s_same_machine_same_build_pairs():
    """anv_decode_ratio = median over the three cards of PR #14001 of (Mesa / Windows tg128, same build column),
    recomputed from the rows in benchmarks/published/llamabench_weak.yaml."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    rows = yaml.load((ROOT / "benchmarks/published/llamabench_weak.yaml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
    pr = [r for r in rows if r["url"].endswith("/pull/14001") and r["test"] == "tg128" and r["backend"] == "vulkan"]
    by = {(r["hardware"], r["build_date"], fit_speed.row_driver(r)): r["tokens_per_s"] for r in pr}
    cards = {}
    for (hw, date, drv), tps in by.items():
        if drv == "mesa" and (hw, date, "windows") in by:
            cards.setdefault(hw, []).append(tps / by[(hw, date, "windows")])
    assert sorted(cards) == ["arc 140v 32gb", "arc a770 16gb", "arc b580"]
    ratio = statistics.median(statistics.mean(v) for v in cards.values())
    assert abs(ratio - RULES_INTEL()["anv_decode_ratio"]) < 0.0015


def test_a_named_gpu_takes_vulkan_and_intels_driver_from_trailing_words():
    """'arc b580 vulkan mesa': llama.cpp's Vulkan backend on Mesa's ANV; without 'vulkan' the table's backend (SYCL);
    without a driver word the driver is unknown (fit notes it). The same in a spec sheet: driver=mesa, an Intel GPU."""
    from selfhost_advisor.catalog.hardware import parse_spec
    from selfhost_advisor.catalog.custom_hw import parse_custom

    def device(spec: str):
        p, n, _ = parse_spec(spec)
        return machine_from_profile(p, n).devices[0]

    assert (device("arc b580").backend, device("arc b580").vulkan_driver) == ("sycl", "")
    assert (device("arc b580 vulkan").backend, device("arc b580 vulkan").vulkan_driver) == ("vulkan", "")
    assert device("2x arc b580 vulkan anv").vulkan_driver == "mesa"
    assert device("arc a770 16gb vulkan windows").vulkan_driver == "windows"
    assert device("rx 7900 xtx vulkan").backend == "vulkan" and device("rx 7900 xtx vulkan").vulkan_driver == ""
    p, _ = parse_custom("custom:vram=12GB,bandwidth=456GB/s,fp16=110TFLOPS,backend=vulkan,driver=mesa")
    d = machine_from_profile(p, 1).devices[0]
    assert (d.vendor, d.backend, d.vulkan_driver) == ("intel", "vulkan", "mesa")
    # no architecture: not known to be Xe2, so the Windows-driver share (5b-vkintel2) always, ANV's ratio before 2026
    assert vi.decode_factor(d, "2025-06-04") == RULES_INTEL()["anv_decode_ratio"] * RULES_INTEL()["decode_share"]
    assert vi.decode_factor(d) == RULES_INTEL()["decode_share"]  # today's build: the 2026 fixes


def test_fit_notes_what_an_older_mesa_does_unless_the_windows_driver_is_stated():
    from selfhost_advisor import api

    def notes(hw: str) -> list[str]:
        return [w for w in api.fit("llama3.1:8b", hw, quant="Q4_K_M").warnings if "Intel GPU under Vulkan" in w]

    assert "driver not stated" in notes("arc b580 vulkan")[0]
    assert "Mesa's ANV" in notes("arc b580 vulkan mesa")[0] and "0.37x" in notes("arc b580 vulkan mesa")[0]
    assert notes("arc b580 vulkan windows") == [] and notes("arc b580") == []  # SYCL: no Vulkan driver
