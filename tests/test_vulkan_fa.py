"""Vulkan prompt processing on AMD at depth and session 17's held-out rows (docs/methodology.md 5b-vkamd5)."""
from __future__ import annotations


def test_session_17_block_scores_at_the_documented_figure():
    """docs/methodology.md 5b-vkamd5: session 17's 19 rows (vulkan_heldout.py --block vkamd5), scored blind under main
    08d20a2 before any formula of that pass: prefill 14 rows 104.6%, decode 5 rows 21.5%."""
    from heldoutkit import abs_errors, assert_median_within, vulkan_block

    assert_median_within(abs_errors(vulkan_block("vkamd5"), "prefill"), 14, 104.6)
    assert_median_within(abs_errors(vulkan_block("vkamd5"), "decode"), 5, 21.5)
