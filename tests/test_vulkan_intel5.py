"""Intel under Vulkan, session 17 (docs/methodology.md 5b-vkintel5): the Arrow / Panther Lake rows held out first
(benchmarks/vulkan_heldout.py --block vkintel5), Xe3 as ggml-vulkan's INTEL_XE2 class, and Intel's 16-bit coopmat
matmul priced on the vector lanes as its quantized one is."""
from __future__ import annotations

import pytest
from heldoutkit import abs_errors, assert_median_within, vulkan_block

from selfhost_advisor.catalog import hw_names
from selfhost_advisor.catalog.hardware import machine_from_profile
from selfhost_advisor.estimate import vulkan_path as vp
from selfhost_advisor.estimate.speed import _speed_data
from selfhost_advisor.record import replace

RULES = _speed_data()["vulkan_prefill_path"]


def _device(name: str, driver: str = "windows"):
    d = machine_from_profile(hw_names.resolve(name), 1).devices[0]
    return replace(d, backend="vulkan", vulkan_driver=driver)


def test_intels_16_bit_coopmat_matmul_is_priced_on_the_lanes_as_its_quantized_one():
    """mul_mm.comp's COOPMAT shader multiplies 16-bit and dequantized weight tiles alike; the model priced Intel's
    quantized coopmat on the vector lanes (5b-vkintel3) but its F16 / BF16 one at the listed XMX rate, 3.5x more on a
    B60 than any Intel coopmat row reaches. AMD's and NVIDIA's coopmat stays at the matrix rate."""
    flops = 1e14
    with vp.as_of_build("2025-12-31"):  # before PR #18178 both on the lanes
        for name in ("arc pro b60", "arc-140v-lpddr5x-8533-32gb", "arc-b390-lpddr5x-9600-32gb"):
            d = _device(name, "windows")
            assert vp.intel_lanes_basis(d, RULES)
            assert vp.peak(d, "coopmat", RULES, flops) == vp.peak(d, "coopmat_dequant", RULES, flops) < flops / 3
    with vp.as_of_build("2026-08-21"):  # from it the quantized one takes the matrix-rate split (5b-vkintel7)
        for name in ("arc pro b60", "arc-140v-lpddr5x-8533-32gb", "arc-b390-lpddr5x-9600-32gb"):
            d = _device(name, "mesa")
            assert vp.intel_lanes_basis(d, RULES)
            assert vp.peak(d, "coopmat", RULES, flops) < flops / 3 < vp.peak(d, "coopmat_dequant", RULES, flops)
        amd = replace(_device("rx 7900 xtx"), vulkan_driver="radv")
        assert not vp.intel_lanes_basis(amd, RULES) and vp.peak(amd, "coopmat", RULES, flops) == flops


def test_the_2026_anv_bf16_rows_leave_the_xmx_rate():
    """The two BF16 rows on a 2026 ANV (BF16 coopmat exposed), blind: the B60's Qwen3.5-9B (5b-vkintel, second batch)
    +175.7 -> +37.3% (Qwen3.5's Gated DeltaNet reads 19-64% fast on every backend), the 140V's Gemma 4 E2B
    (5b-vkintel3) +238.7 -> -7.7%; since 5b-vkintel6's scalar flash attention on Intel's lanes (attention at the
    prompt's average depth costs more) +35.0% and -14.9%; since 5b-vkhyb's serial delta-net step (the 9B is hybrid) the
    B60 row +19.6%; since 5b-vkintel8 (Intel's BF16 at the FP32 shader's measured rate, 128 lanes per Xe core, on every
    driver) -10.3% and +18.7%; since 5c-fa32 / fa33 (llama-bench's -fa 0 default until 2026-05-30: both rows state no
    -fa and are of 2026-04, so they run KQ / soft_max / KQV with the fa 0 score traffic) -9.4% and +31.6%."""
    b60 = [r for r in vulkan_block("vkintel2") if r["quant"] == "BF16" and r["kind"] == "prefill"]
    v140 = [r for r in vulkan_block("vkintel4") if r["quant"] == "BF16" and r["kind"] == "prefill"]
    assert [round(r["error_pct"], 1) for r in b60] == [pytest.approx(-9.4, abs=0.5)]
    assert [round(r["error_pct"], 1) for r in v140] == [pytest.approx(31.6, abs=0.5)]


def test_session_17_block_scores_at_the_documented_figures():
    """5b-vkintel5: five Intel Windows prompt rows of Arrow Lake H's Arc 140T (before and after PR #24404's coopmat)
    and Panther Lake (PR #27471), blind 53.1% under main 08d20a2; Panther Lake -89.4 / -87.2 -> -60.5 / -52.2% with Xe3
    in the INTEL_XE2 class; the block's median 52.2%. Since 5b-vkintel6 (Intel's flash attention on the scalar shader,
    at the lanes' measured rate) 57.0%, worse: these rows were already predicted too slow and the attention at the
    prompt's average depth adds time (Panther Lake -63.2 / -57.0%). Since 5b-vkintel7 (Intel's quantized coopmat
    matmuls of builds from PR #18178 as coopMatMulAdd at the XMX rate plus the per-tile work) 37.4%: Panther Lake -45.4
    / -37.4%, the 140T's Gemma 4 31B -47.8 -> +4.4%, its Qwen3 0.6B -20.5 -> +25.4% (worse). Since 5c-fa32 / fa33 (the
    rows' own "fa 0", read by fit_speed.row_fa, where the date alone had put them on the FA shader) 42.1%: Panther Lake
    -42.1 / -31.6%, the 140T's Qwen3 0.6B pp1024 -61.1 -> -54.1%, its pp512 +25.4 -> +88.7%, Gemma 4 31B +17.1%."""
    rows = vulkan_block("vkintel5")
    assert_median_within(abs_errors(rows, "prefill"), 5, 42.1)
    ptl = sorted(r["error_pct"] for r in rows if r["hardware"].startswith("arc-b390"))
    assert ptl == [pytest.approx(-42.1, abs=1.0), pytest.approx(-31.6, abs=1.0)]


def test_session_19_block_scores_at_the_documented_figures():
    """5b-vkintel7's two rows, blind under main fd9d70a: the Arc A310's pp4096 on ANV (2025-10, the vector-lane shader
    path with the attention at the prompt's depth) -7.3%, the B580's Windows pp512 of March 2025 (before MMQ and before
    Intel's coopmat) -10.0%. Since 5c-fa32 / fa33 the A310's row (b6715, its llama-bench table has no fa column: the
    tool's -fa 0 default then) multiplies KQ and KQV on the shader with the fa 0 score traffic: +7.7%."""
    rows = {r["hardware"]: r["error_pct"] for r in vulkan_block("vkintel7") if r["kind"] == "prefill"}
    assert rows == {"arc a310": pytest.approx(7.7, abs=1.0), "arc b580": pytest.approx(-10.0, abs=1.0)}
