"""Intel under Vulkan, session 25 (docs/methodology.md 5b-vkintel11): on a Mesa without the 2026 ANV compiler fixes, a
build that runs the integer-dot K-quant mat-vec on Intel's Linux driver decodes each weight type at its own measured
ratio to Intel's Windows driver (one A770, the same build, llama.cpp PR #19988: the K-quant file 32 / 52, Q4_0 44 / 56
t/s), float weights at none (estimate/vulkan_intel.py anv_tier / anv_type_ratio / anv_weight_seconds)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
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


def _rules() -> dict:
    return _speed_data()["vulkan_intel"]["anv_type_ratios"]


def _rows() -> list[dict]:
    return yaml.load((ROOT / "benchmarks/published/llamabench_weak.yaml").read_text(),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506


def _decode(name: str, model: str, quant: str, driver: str, date: str, mesa: str = "") -> float:
    m = machine_from_profile(hw_names.resolve(name), 1)
    m = replace(m, devices=(replace(m.devices[0], backend="vulkan", vulkan_driver=driver),))
    mdl = get_model(model)
    place = Placement("gpu", mdl.n_layers + 1, mdl.n_layers + 1, 0, 0)
    with vp.as_of_build(date), vi.with_mesa(mesa):
        return estimate_speed(mdl, get_quant(quant), place, m).decode_tokens_per_s


def test_the_type_ratios_are_pr_19988s_same_card_same_build_pairs():
    """quantized = Linux / Windows tg of the A770's Llama 3.1 8B Q4_K_M at b8191, legacy = the same of its Llama 2 7B
    Q4_0, recomputed from the rows in benchmarks/published/llamabench_weak.yaml (block session 25: vkintel11)."""
    pair = {}
    for r in _rows():
        if r["url"].endswith("/pull/19988") and r["test"] == "tg128":
            pair.setdefault(r["quant"], {})[r["driver"]] = r["tokens_per_s"]
    assert pair["Q4_K_M"]["mesa"] / pair["Q4_K_M"]["windows"] == pytest.approx(_rules()["quantized"], abs=0.001)
    assert pair["Q4_0"]["mesa"] / pair["Q4_0"]["windows"] == pytest.approx(_rules()["legacy"], abs=0.001)
    assert "Q4_0" in _rules()["legacy_types"] and "Q4_K" not in _rules()["legacy_types"]


def test_the_tier_follows_the_build_and_the_stated_mesa_release():
    since, fixed = _rules()["since"], _speed_data()["vulkan_intel"]["anv_fixed_since"]
    assert vi.anv_tier("2025-06-05") == "ratio"  # PR #14001's era: one ratio on the whole token
    assert vi.anv_tier(since) == "type" and vi.anv_tier("2026-03") == "type"  # K-quant MMVQ on Linux, before the fixes
    assert vi.anv_tier(fixed) == "fixed" and vi.anv_tier("") == "fixed"  # unstated Mesa: the date decides
    with vi.with_mesa("25.2.8"):  # a Mesa 25 keeps the whole-token ratio in any build (5b-vkintel9)
        assert vi.anv_tier("2026-06-29") == "ratio"
    with vi.with_mesa("26.0.5"):  # a stock 26.0 lacks the fixes (the B60 author patched 26.0.3) in any 2026 build
        assert vi.anv_tier("2026-05-06") == "type" and vi.anv_tier("2026-03") == "type"
    for release in ("26.1", "26.1.4", "26.2.3"):
        with vi.with_mesa(release):
            assert vi.anv_tier("2026-05-06") == "fixed"


def test_float_weights_take_no_ratio_and_each_block_type_its_own():
    """In the "type" tier a BF16 file decodes as on Intel's Windows driver; Q4_0 and a K-quant file are slower by at
    most their own ratio (the KV cache and fixed per-layer time take none), and only on Mesa's ANV."""
    date, mesa = "2026-05-06", "26.0"
    for model, quant, key in (("llama3.1:8b", "BF16", None), ("llama2:7b", "Q4_0", "legacy"),
                              ("llama3.1:8b", "Q4_K_M", "quantized")):
        win = _decode("arc pro b70", model, quant, "windows", date, mesa)
        anv = _decode("arc pro b70", model, quant, "mesa", date, mesa)
        if key is None:
            assert anv == pytest.approx(win, rel=1e-12)
        else:
            assert _rules()[key] * win < anv < win
        assert _decode("arc pro b70", model, quant, "mesa", date, "26.1.4") == pytest.approx(win, rel=1e-12)
    # the legacy ratio is the milder one: Q4_0 loses less than the K-quant file
    q40 = _decode("arc pro b70", "llama2:7b", "Q4_0", "mesa", date, mesa) / _decode(
        "arc pro b70", "llama2:7b", "Q4_0", "windows", date, mesa)
    qk = _decode("arc pro b70", "llama3.1:8b", "Q4_K_M", "mesa", date, mesa) / _decode(
        "arc pro b70", "llama3.1:8b", "Q4_K_M", "windows", date, mesa)
    assert qk < q40


def test_the_weight_seconds_are_each_types_stream_over_its_ratio():
    b70 = replace(machine_from_profile(hw_names.resolve("arc pro b70"), 1).devices[0], backend="vulkan",
                  vulkan_driver="mesa")
    mats = ((("Q4_K", 10**9, 5 * 10**8), ("Q6_K", 10**8, 8 * 10**7), ("BF16", 10**7, 2 * 10**7), ("Q4_0", 10**8, 5 * 10**7)),)
    bw = 5e11
    with vi.with_mesa("26.0"):
        got = vi.anv_weight_seconds(b70, mats, bw, "2026-05-06", "Xe2-HPG")
    q, legacy = _rules()["quantized"], _rules()["legacy"]
    want = (5e8 + 8e7) / bw * (1 / q - 1) + 5e7 / bw * (1 / legacy - 1)  # Xe2 in 2026: no Intel share (decode_at_law)
    assert got == pytest.approx(want, rel=1e-12)
    assert vi.anv_weight_seconds(replace(b70, vulkan_driver="windows"), mats, bw, "2026-05-06", "Xe2-HPG") == 0
    assert vi.anv_weight_seconds(b70, mats, bw, "", "Xe2-HPG") == 0  # today's build, no release stated


def test_a_users_estimate_is_unchanged():
    """`fit` states a driver, never a Mesa release, and prices today's build: the fixed tier."""
    assert _decode("arc b580", "llama3.1:8b", "Q4_K_M", "mesa", "") == pytest.approx(
        _decode("arc b580", "llama3.1:8b", "Q4_K_M", "windows", ""), rel=1e-12)


def test_the_b70s_stock_fedora_rows_state_a_26_0_release():
    """The Arc Pro B70 rows (kyuz0, 2026-05-06, Fedora 43's stock Mesa) carry the release Fedora shipped then: 26.0.x
    (Fedora 44 shipped mesa 26.0.3 at release and 26.0.8 in June 2026; 26.1 branched 2026-04-15)."""
    b70 = [r for r in _rows() if r["hardware"] == "arc pro b70" and "kyuz0" in r["url"] and r["backend"] == "vulkan"]
    assert len(b70) == 24 and {vi.mesa_release(r["build"]) for r in b70} == {"26.0"}
    sys.path.insert(0, str(ROOT / "scripts"))
    import fit_speed

    assert {fit_speed.row_driver(r) for r in b70} == {"mesa"}


def test_every_blind_intel_vulkan_decode_row_within_the_documented_median():
    """5b-vkintel11: every blind Intel Vulkan decode row (`vulkan_heldout.py --vendor intel`), 45 rows with the A770
    pair of PR #19988: 18.0% blind, 11.7% with the per-type tier; the B70's BF16 rows still at the law (within 20%,
    their depth rows' attention included)."""
    from heldoutkit import assert_median_within

    for sub in ("benchmarks", "scripts"):
        sys.path.insert(0, str(ROOT / sub))
    import vulkan_heldout

    rows = [r for r in vulkan_heldout.vendor_report("intel") if r["kind"] == "decode"]
    assert_median_within([abs(r["error_pct"]) for r in rows], 45, 11.7)
    bf16 = [r["error_pct"] for r in rows if r["hardware"] == "arc pro b70" and r["quant"] == "BF16"]
    assert len(bf16) == 6 and max(abs(e) for e in bf16) < 20
