"""DeciLM (Llama-3.3-Nemotron-Super-49B, Llama-3.1-Nemotron-Ultra-253B): each block its own attention and FFN width.

Expected values come from outside the estimator: the reference models the Neural Architecture Search started from
(Llama-3.3-70B, Llama-3.1-405B configs), published GGUF sizes (bartowski), and llama.cpp's / vLLM's allocation rules
worked by hand (src/models/deci.cpp, src/llama-kv-cache.cpp, vllm/model_executor/models/nemotron_nas.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.estimate import vllm
from selfhost_advisor.estimate.deci import ffn_width
from selfhost_advisor.estimate.memory import estimate_memory, kv_cache_bytes
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import build_tensors, count_params

HUB = Path(__file__).resolve().parent / "fixtures" / "hub"
SUPER = "nvidia/Llama-3_3-Nemotron-Super-49B-v1"
ULTRA = "nvidia/Llama-3_1-Nemotron-Ultra-253B-v1"
MIB = 2**20


def config(repo: str) -> dict:
    return json.loads((HUB / repo.replace("/", "--") / "config.json").read_text())


def test_ffn_mult_gives_the_reference_models_widths():
    # ffn_mult 5.25 at hidden 8192 is Llama-3.3-70B's intermediate_size (28672), 4.875 at 16384 Llama-3.1-405B's
    # (53248): the blocks the search kept whole. 1.0 -> int(5461.3) = 5461, rounded up to 256: 5632.
    assert ffn_width(5.25, 8192) == 28672
    assert ffn_width(4.875, 16384) == 53248
    assert ffn_width(1.0, 8192) == 5632
    assert ffn_width(0.5, 8192) == 2816


def test_super_49b_config_keeps_kv_in_49_of_80_blocks():
    m = model_from_config(config(SUPER), SUPER)
    assert m.arch == "deci" and m.n_layers == 80
    assert m.layer_pattern.count("*") == 49 and m.layer_pattern.count("-") == 31
    assert {m.layer_kv_heads(i) for i in range(80) if m.has_attention(i)} == {8}
    # bartowski's BF16 file is 99.74 GB: 2 bytes a parameter plus a few MB of tokenizer
    assert abs(2 * count_params(m) - 99.74e9) / 99.74e9 < 0.001
    # llama.cpp, flash attention on: 49 layers x 8 KV heads x 128 x 2 (K, V) x 2 B = 196 KiB a token
    kv, per_layer = kv_cache_bytes(m, FitRequest(context=32768))
    assert kv == 49 * 32768 * 2 * 8 * 128 * 2 == 6272 * MIB
    assert sum(1 for b in per_layer if b) == 49


def test_ultra_253b_has_81_empty_blocks_and_kv_in_64():
    m = model_from_config(config(ULTRA), ULTRA)
    names = {t.name for t in build_tensors(m)}
    empty = [i for i in range(162) if not any(n.startswith(f"blk.{i}.") for n in names)]
    assert len(empty) == 81  # attention no_op and ffn_mult null: llama.cpp's "dummy layer" (conversion/deci.py)
    kv, _ = kv_cache_bytes(m, FitRequest(context=32768))
    assert kv == 64 * 32768 * 2 * 8 * 128 * 2 == 8 * 2**30  # 64 attention blocks, 16 heads per KV group
    # bartowski's Q4_K_M (6 split files) is 150.94 GB; the weights alone leave a few MB for the header and tokenizer
    w = estimate_memory(m, get_quant("Q4_K_M"), FitRequest(context=512)).weights_bytes
    assert abs(w - 150.94e9) / 150.94e9 < 0.005


def test_hub_config_and_catalog_agree():
    for repo, cid in ((SUPER, "nemotron-super:49b"), (ULTRA, "nemotron-ultra:253b")):
        hub, cat = model_from_config(config(repo), repo), get(cid)
        for q in ("Q4_K_M", "Q8_0"):
            req = FitRequest(context=8192)
            assert estimate_memory(hub, get_quant(q), req) == estimate_memory(cat, get_quant(q), req)


def test_without_flash_attention_every_block_holds_the_widest_v():
    # llama-kv-cache.cpp [TAG_V_CACHE_VARIABLE]: V stored transposed (no flash attention) and V widths that differ
    # across layers (attention-free blocks have 0) -> every layer of the plain cache gets V of n_embd_v_gqa_max.
    m = get("nemotron-super:49b")
    kv, _ = kv_cache_bytes(m, FitRequest(context=8192, flash_attention=False))
    assert kv == 8192 * 2048 * (49 + 80)  # 2048 B of K in the 49 attention blocks, 2048 B of V (1024 f16) in all 80


def test_vllm_caches_only_the_attention_blocks():
    # nemotron_nas.py builds an Attention only where block_config.attention.no_op is false, with
    # num_attention_heads // n_heads_in_group KV heads: one uniform FullAttentionSpec group.
    m = get("nemotron-super:49b")
    assert vllm.kv_bytes_per_token(m, 1) == 49 * 2 * 8 * 128 * 2
    assert vllm.kv_bytes_per_token(m, 8) == 49 * 2 * 1 * 128 * 2


def _linear_block_config() -> dict:
    cfg = config(SUPER)
    cfg["block_configs"][6]["attention"].update(no_op=False, replace_with_linear=True)
    return cfg


def test_a_linear_attention_block_has_one_square_map_and_no_kv():
    # llama.cpp deci: n_head > 0 and n_head_kv 0 -> attn_norm and attn_output {n_embd, n_embd}, nothing cached
    m = model_from_config(_linear_block_config(), "x/linear")
    assert m.layer_kind(6) == "L"
    blk = {t.name: t.shape for t in build_tensors(m) if t.layer == 6}
    assert blk["blk.6.attn_output.weight"] == (8192, 8192) and "blk.6.attn_k.weight" not in blk
    assert kv_cache_bytes(m, FitRequest(context=8192))[1][6] == 0
    with pytest.raises(UnknownModelError, match="linear"):  # vLLM divides by n_heads_in_group (null) there
        vllm.check_request(m, FitRequest(context=8192, engine="vllm"))


@pytest.mark.parametrize("edit, kind", [
    (lambda b: b["ffn"].update(replace_with_linear=True, ffn_mult=None), "ffn replace_with_linear"),
    (lambda b: b["attention"].update(sparsify=["x"]), "attention sparsify"),
    (lambda b: b["attention"].update(window_length=4096), "attention window_length"),
])
def test_block_kinds_no_engine_runs_are_refused_by_name(edit, kind):
    cfg = config(SUPER)
    edit(cfg["block_configs"][3])
    with pytest.raises(UnknownModelError, match=kind) as err:
        model_from_config(cfg, "x/y")
    assert err.value.exit_code == 2


def test_an_80_block_decilm_is_a_70b_to_the_quantizer():
    # load_arch_hparams (src/models/deci.cpp): 80 layers -> LLM_TYPE_70B, whose attn_v rule turns Q3_K/Q4_K into Q5_K.
    # At Q3_K_M, attn_v past the first two is Q4_K elsewhere (the 162-block Ultra is LLM_TYPE_405B: no such rule).
    for cid, expected in (("nemotron-super:49b", {"Q5_K"}), ("nemotron-ultra:253b", {"Q5_K", "Q4_K"})):
        m = get(cid)
        ts = build_tensors(m)
        types = {ty for t, ty in zip(ts, assign_types(m, ts, get_quant("Q3_K_M"))) if t.name.endswith("attn_v.weight")}
        assert types == expected


def test_mlx_caches_only_the_attention_blocks():
    # mlx_lm/models/nemotron-nas.py make_cache: one KVCache per layer whose self_attn is not None (no_op -> None)
    from selfhost_advisor.estimate import mlx

    total, per_layer = mlx.kv_cache_bytes(get("nemotron-super:49b"), 8192, 256)
    assert total == 49 * 8192 * 8 * 128 * 2 * 2 and sum(1 for b in per_layer if b) == 49


def test_blocks_with_different_kv_groups_keep_their_own_kv_width():
    # Llama-3.1-Nemotron-51B-style: n_heads_in_group differs per block. llama.cpp sizes each layer with
    # n_embd_k_gqa(il); vLLM builds each Attention with its own KV heads, all FullAttentionSpec of different sizes:
    # one UniformTypeKVCacheSpecs group, a token costs every attending layer's own K+V.
    cfg = config(SUPER)
    cfg["block_configs"][0]["attention"]["n_heads_in_group"] = 4  # 64 / 4 = 16 KV heads in block 0
    m = model_from_config(cfg, "x/mixed-groups")
    assert m.layer_kv_heads(0) == 16 and m.layer_kv_heads(1) == 8
    _, per_layer = kv_cache_bytes(m, FitRequest(context=4096))
    assert per_layer[0] == 4096 * 16 * 128 * 2 * 2 and per_layer[1] == 4096 * 8 * 128 * 2 * 2
    assert vllm.kv_bytes_per_token(m, 1) == (16 + 48 * 8) * 128 * 2 * 2
