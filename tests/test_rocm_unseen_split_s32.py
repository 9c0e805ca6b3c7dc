"""benchmarks/rocm_unseen_split.py (docs/methodology.md 5f-rocm33): each row lands in the group of the kernel path that
is known to miss, by card, type, model size and attention shape, not by its error."""
from __future__ import annotations

import rocm_unseen_split as split


def _row(hardware, model, quant, kind="decode", test="tg128", profile=""):
    return {"hardware": hardware, "profile": profile, "model": model, "quant": quant, "kind": kind, "test": test}


def test_gfx906_float_matrices_are_their_own_group_whatever_the_model():
    assert split.group(_row("AMD Instinct MI50 32GB", "ministral-3:14b", "BF16")) == split.GROUPS[0]
    # a small float model on gfx906 is still the float path's row
    assert split.group(_row("x", "qwen3:0.6b", "F16", profile="radeon-instinct-mi50-16gb")) == split.GROUPS[0]
    # the same card's quantized rows are not
    assert split.group(_row("AMD Instinct MI50 32GB", "llama2:7b", "Q4_0")) == split.GROUPS[3]


def test_small_models_by_parameter_count_on_any_card():
    assert split.group(_row("rx 9070 xt", "qwen3:4b", "Q4_K_M")) == split.GROUPS[1]
    assert split.group(_row("rx 9070 xt", "qwen3:8b", "Q4_K_M")) == split.GROUPS[3]


def test_mha_depth_prompt_on_gfx906_only_without_gqa():
    depth = dict(kind="prefill", test="pp2048@d32768 ub2048")
    assert split.group(_row("AMD Instinct MI50 32GB", "llama2:7b", "Q4_0", **depth)) == split.GROUPS[2]
    # GQA (32 query / 8 KV heads) at the same depth, and MHA at depth 0, are the rest
    assert split.group(_row("AMD Instinct MI50 32GB", "gpt-oss:20b", "MXFP4_MOE", **depth)) == split.GROUPS[3]
    assert split.group(_row("AMD Instinct MI50 32GB", "llama2:7b", "Q4_0", kind="prefill", test="pp512")) == split.GROUPS[3]
    # the same test on an RDNA 4 card is the rest
    assert split.group(_row("radeon ai pro r9700", "llama2:7b", "Q4_0", **depth)) == split.GROUPS[3]
