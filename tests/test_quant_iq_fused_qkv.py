"""The 1-2 bit IQ file types bump fused attn_qkv (and MLA's attn_kv_b) the way they bump attn_v.

Current llama-quant.cpp (llama_tensor_get_type_impl) tests `category_is_attn_v(category)` in its IQ1/IQ2 branch, and
category_is_attn_v is ATTENTION_V, ATTENTION_QKV or ATTENTION_KV_B; the older source (ggml-org/llama.cpp at 8784689f)
matched "attn_v.weight" only there. The expected types below are llama.cpp's own per-tensor snapshot of llama-quantize on
Qwen3.6-27B (tests/snapshots/qwen3.6-27b.schema upstream, n_head 24 / n_head_kv 4, so n_gqa 6 >= 4): at IQ2_XXS, IQ2_XS,
IQ2_S, IQ2_M and IQ1_S every blk.N.attn_qkv.weight is q4_K, like every attn_v.weight. Transcribed from the snapshot, not
from our code."""
from __future__ import annotations

from collections import Counter

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import build_tensors

# ftype -> (output, token_embd, ffn_down of blocks 0-7, attn_output of the full-attention blocks or None = default type)
SNAPSHOT = {
    "IQ2_XXS": ("Q5_K", "Q2_K", "Q2_K", None),
    "IQ2_XS": ("Q5_K", "Q2_K", "Q2_K", None),
    "IQ2_S": ("Q5_K", "IQ3_S", "IQ3_S", "IQ3_S"),
    "IQ2_M": ("Q5_K", "IQ3_S", "IQ3_S", "IQ3_S"),
    "IQ1_S": ("Q5_K", "Q2_K", "Q2_K", "IQ2_XXS"),
}


@pytest.mark.parametrize("ftype", sorted(SNAPSHOT))
def test_qwen3_6_27b_low_iq_types_match_llama_cpp_snapshot(ftype):
    m = get("qwen3.6:27b")
    quant = get_quant(ftype)
    ts = list(build_tensors(m))
    ty = dict(zip((t.name for t in ts), assign_types(m, ts, quant)))
    out, embd, down_head, attn_out = SNAPSHOT[ftype]
    assert ty["output.weight"] == out and ty["token_embd.weight"] == embd
    qkv = [n for n in ty if n.endswith(".attn_qkv.weight")]
    v = [n for n in ty if n.endswith(".attn_v.weight")]
    assert len(qkv) == 48 and len(v) == 16  # 3 of 4 blocks linear attention (fused qkv), every 4th full attention
    assert Counter(ty[n] for n in qkv + v) == Counter({"Q4_K": 64})
    down = {int(n.split(".")[1]): ty[n] for n in ty if n.endswith(".ffn_down.weight")}
    assert {down[i] for i in range(8)} == {down_head} and {down[i] for i in range(8, 64)} == {quant.default_type}
    outs = {ty[n] for n in ty if n.endswith(".attn_output.weight")}
    assert outs == {attn_out or quant.default_type}


def test_an_mha_fused_qkv_model_gets_q2_k_like_attn_v():
    # n_gqa < 4 and no experts: llama-quant.cpp gives attn_v-like tensors Q2_K at IQ2_XXS (IQ3_S at IQ2_S / IQ2_M)
    m = get("phi3:mini")  # Phi-3-mini: 32 heads, 32 KV heads, fused attn_qkv
    ts = list(build_tensors(m))
    for ftype, want in (("IQ2_XXS", "Q2_K"), ("IQ2_M", "IQ3_S")):
        ty = assign_types(m, ts, get_quant(ftype))
        assert {t for t, x in zip(ty, ts) if x.name.endswith("attn_qkv.weight")} == {want}


def test_published_post_change_qwen3_6_27b_iq4_xs_matches_the_same_category_rule():
    # mradermacher's Qwen3.6-27B i1-IQ4_XS (made after the change: attn_qkv at Q5_K by the attn_v rule, n_gqa >= 4) is
    # 14.036 GiB of tensors in a stored llama-perplexity comparison; the row is in benchmarks/heldout/gguf_sizes.csv
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "qwen3.6:27b" and r["quant"] == "IQ4_XS"]
    assert len(rows) == 1 and abs(rows[0]["error_pct"]) < 0.1
