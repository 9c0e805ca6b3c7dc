"""benchmarks/vulkan_heldout.py --vendor: every blind Vulkan row of one vendor's GPUs, with the prompt matmul path its
build takes (the list the Vulkan owners' figures come from)."""
from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def _amd() -> tuple[dict, ...]:
    for sub in ("benchmarks", "scripts"):
        if str(ROOT / sub) not in sys.path:
            sys.path.insert(0, str(ROOT / sub))
    import vulkan_heldout

    return tuple(vulkan_heldout.vendor_report("amd"))


def test_only_blind_amd_vulkan_rows():
    rows = _amd()
    assert rows and all(r["backend"] == "vulkan" and r["blind"] for r in rows)
    assert not any(r["hardware"].startswith(("arc", "rtx", "nvidia")) for r in rows)
    assert {r["kind"] for r in rows} == {"decode", "prefill"}
    # the matmul path is the prompt's: decode rows carry none (their mat-vec kernels are others)
    assert all(r["path"] == "" and r["tile_tokens"] == 0 for r in rows if r["kind"] == "decode")
    assert all(r["path"] for r in rows if r["kind"] == "prefill")


def test_mmq_only_on_int_dot_gpus_without_coopmat():
    """The integer-dot MMQ pipeline is what ggml_vk_mul_mat_q_f16 runs on AMD where KHR coopmat is off (GCN 5.1,
    RDNA 2); RDNA 3+ rows take the dequantizing coopmat path, GCN 4 the shader."""
    mmq = {r["architecture"] for r in _amd() if r["path"] == "mmq"}
    assert mmq and mmq <= {"GCN 5.1", "RDNA 2.0"}
    assert all(r["path"] != "mmq" for r in _amd() if r["architecture"].startswith(("GCN 4", "RDNA 3", "RDNA 4")))


def test_k_quant_mmq_follows_the_build_date():
    """Pro VII Q4_K_S: the shader path on a build before PR #16536 (2025-10-29), MMQ after."""
    by_date = {r["build_date"]: r["path"] for r in _amd()
               if r["hardware"] == "radeon pro vii" and r["quant"] == "Q4_K_S" and r["test"] == "pp512"}
    assert by_date["2025-09-07"] == "shader" and by_date["2026-06-19"] == "mmq"


def test_by_source_separates_a_box_level_from_the_rows_scatter():
    """Two boxes, one 2x too fast on every row, one right: each group's median is its level, and what is left inside
    the groups is the rows' own scatter (5 and 10% here), not the 2x."""
    import vulkan_heldout

    rows = ([{"kind": "prefill", "hardware": "a", "source": "p/1", "driver": "radv", "error_pct": e}
             for e in (90.0, 100.0, 110.0)]  # 1.9x, 2.0x, 2.1x the measured speed
            + [{"kind": "prefill", "hardware": "b", "source": "p/2", "driver": "", "error_pct": e} for e in (-10.0, 0.0, 10.0)]
            + [{"kind": "decode", "hardware": "a", "source": "p/1", "driver": "radv", "error_pct": 500.0}])
    groups, left = vulkan_heldout.by_source(rows)
    assert [(g["hardware"], g["rows"], g["median_error_pct"]) for g in groups] == [("a", 3, 100.0), ("b", 3, 0.0)]
    assert left == 5.0  # |1.9/2 - 1| = |2.1/2 - 1| = 5%, the middle rows 0%, box b's rows 10, 0, 10


def test_page_of_a_row():
    import vulkan_heldout

    assert vulkan_heldout._page("https://github.com/ggml-org/llama.cpp/pull/18280#issuecomment-1") == \
        "ggml-org/llama.cpp/pull/18280"
    assert vulkan_heldout._page("https://github.com/kyuz0/amd-strix-halo-toolboxes/blob/abc/x.log") == \
        "kyuz0/amd-strix-halo-toolboxes"


def test_session_19_rows_scored_blind():
    """docs/methodology.md 5b-vkamd7: the four 8060S prompt rows of PRs #18280 / #19075, blind, median 62.6%."""
    from heldoutkit import abs_errors, assert_median_within, vulkan_block

    rows = vulkan_block("vkamd7")
    assert all(r["blind"] and r["hardware"].startswith("ryzen ai max") for r in rows)
    assert_median_within(abs_errors(rows, "prefill"), 4, 62.6)


def test_tile_shown_is_the_rows_driver_tile():
    """AMD's Windows driver never gets the large 128 x 128 tile (PR #18763: mul_mat_l is false on eAmdProprietary),
    so its rows print the medium tile's 64 tokens; a RADV row of the same build date on a coopmat GPU prints 128. The
    list printed the large tile for Windows rows until session 20 (the prediction already took the driver)."""
    rows = [r for r in _amd() if r["kind"] == "prefill" and r["path"] == "coopmat_dequant"]
    windows = [r for r in rows if r["driver"] == "windows"]
    assert windows and all(r["tile_tokens"] == 64 for r in windows)
    assert any(r["tile_tokens"] == 128 and r["driver"] == "radv" and r["build_date"] >= "2026-03-08" for r in rows)


def test_session_20_rows_scored_blind():
    """docs/methodology.md 5b-vkamd8: the third Radeon 890M box (HX 470, Windows AMD driver, Qwen3-8B Q4_K_M pp512 at
    b10809 / b10991), blind under main bfc0233: +29.9 / +5.1 / -11.3 / -18.0%, median 14.7%."""
    from heldoutkit import abs_errors, assert_median_within, vulkan_block

    rows = vulkan_block("vkamd8")
    assert len(rows) == 4 and all(r["blind"] and r["hardware"].startswith("radeon-890m") for r in rows)
    assert_median_within(abs_errors(rows, "prefill"), 4, 14.7)


def test_pro_vii_integer_dot_prompt_rows_within_30_percent_at_depth_0():
    """The Radeon Pro VII's integer-dot prompt rows (all held out, none fitted) read +30..+101% at depth 0 under the
    Ampere-level MMQ rate (session 21: the 23 mmq rows' median 52.6%); with GCN's VALU issue share (5b-vkamd10) the
    2025 Q4_0 / Q8_0 rows read +8%, the 2026 Llama 3.1 8B Q4_0 -16..-19%, Gemma 3 12B -29%. The RX 6800 XT's row
    went the other way (+14.5 -> -31%): the check is the GCN rows only."""
    rows = [r for r in _amd() if r["hardware"] == "radeon pro vii" and r["path"] == "mmq" and "@d" not in r["test"]]
    assert len(rows) >= 8
    assert all(abs(r["error_pct"]) < 30 for r in rows), [(r["test"], r["quant"], r["error_pct"]) for r in rows]


def test_by_architecture_groups_by_what_the_rows_run_on():
    """The rows are grouped by architecture, matmul path and tile width, each group with its median signed and
    absolute error; decode rows and rows without an error stay out."""
    import vulkan_heldout

    def row(arch, path, bn, e, kind="prefill"):
        return {"kind": kind, "architecture": "profile-id", "vk_architecture": arch, "path": path,
                "tile_tokens": bn, "error_pct": e}

    rows = ([row("RDNA 3.5", "coopmat_dequant", 128, e) for e in (10.0, 30.0, 50.0)]
            + [row("RDNA 3.5", "coopmat_dequant", 64, e) for e in (-20.0, 10.0)]
            + [row("RDNA 4.0", "coopmat_dequant", 128, -2.0), row("RDNA 4.0", "coopmat_dequant", 128, 900.0, "decode"),
               row("GCN 5.1", "mmq", 64, None)])
    groups = vulkan_heldout.by_architecture(rows)
    assert [(g["architecture"], g["tile_tokens"], g["rows"], g["median_error_pct"], g["median_abs_error_pct"])
            for g in groups] == [("RDNA 3.5", 64, 2, -5.0, 15.0), ("RDNA 3.5", 128, 3, 30.0, 30.0),
                                 ("RDNA 4.0", 128, 1, -2.0, 2.0)]


def test_apu_rows_are_grouped_under_their_architecture():
    """An iGPU profile that the spec table has no row for (Radeon 890M, 780M) is grouped under the architecture the
    path model gives it by profile prefix (vulkan_path._ARCH_BY_PREFIX), not under its profile id."""
    apu = [r for r in _amd() if r["hardware"].startswith(("radeon-890m", "radeon-780m"))]
    assert apu and {r["vk_architecture"] for r in apu} <= {"RDNA 3.0", "RDNA 3.5"}
    assert {r["vk_architecture"] for r in apu if r["hardware"].startswith("radeon-890m")} == {"RDNA 3.5"}
