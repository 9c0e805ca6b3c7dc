"""GLM-5 / GLM-5.1 (glm_moe_dsa, llama.cpp arch glm-dsa): DeepSeek-V3.2's MLA + DSA layout at GLM sizes.

Reference figures, none of them outputs of this code:
- GLM-5.1 config.json and its weight report (code-index file id 62604838642): 78 layers, hidden 6144, 64 heads,
  q_lora_rank 2048, kv_lora_rank 512, qk_nope 192 + qk_rope 64, v_head_dim 256, index_n_heads 32, index_head_dim 128,
  256 experts (8 active, 1 shared) of width 2048 after 3 dense layers of 12288; parameter total 753,864,139,008 with
  the NextN block model.layers.78, whose own tensors are eh_proj, enorm, hnorm and shared_head.norm only.
- llama.cpp logs of GLM-5 and GLM-5.1 GGUFs (sokann's cards): "repeating layers = ... 751.961 B parameters".
- llama.cpp src/models/glm-dsa.cpp: the indexer (attn_q_b from q_lora_rank, attn_k, proj, k_norm + bias) on every
  layer; build_attn_inp_k_dsa = llama_kv_cache_dsa (MLA latent + rope key, plus one indexer_head_size key per token).
- ubergarm/GLM-5.1-GGUF card: BF16 1404.406 GiB, Q8_0 746.302 GiB (rows of benchmarks/heldout/gguf_sizes.csv,
  recorded before the entry existed).
"""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.resolve import resolve
from selfhost_advisor.domain import DSA, FitRequest
from selfhost_advisor.estimate.memory import kv_bytes_per_cell, kv_cache_bytes
from selfhost_advisor.estimate.tensors import build_tensors, count_params, file_only_tensors

GLM51_CONFIG = {  # zai-org/GLM-5.1 config.json, the keys that shape the model (verbatim values)
    "architectures": ["GlmMoeDsaForCausalLM"], "model_type": "glm_moe_dsa", "attention_bias": False,
    "first_k_dense_replace": 3, "head_dim": 64, "hidden_size": 6144, "index_head_dim": 128, "index_n_heads": 32,
    "index_topk": 2048, "intermediate_size": 12288, "kv_lora_rank": 512, "max_position_embeddings": 202752,
    "moe_intermediate_size": 2048, "moe_layer_freq": 1, "n_group": 1, "n_routed_experts": 256, "n_shared_experts": 1,
    "norm_topk_prob": True, "num_attention_heads": 64, "num_experts_per_tok": 8, "num_hidden_layers": 78,
    "num_key_value_heads": 64, "num_nextn_predict_layers": 1, "q_lora_rank": 2048, "qk_head_dim": 256,
    "qk_nope_head_dim": 192, "qk_rope_head_dim": 64, "rms_norm_eps": 1e-05, "scoring_func": "sigmoid",
    "tie_word_embeddings": False, "topk_method": "noaux_tc", "v_head_dim": 256, "vocab_size": 154880,
}
GLM = get("glm-5.1:744b")
EMBED = 154880 * 6144


def test_config_maps_to_glm_dsa_with_the_catalog_shapes():
    m = model_from_config(GLM51_CONFIG, "zai-org/GLM-5.1")
    assert m.arch == "glm-dsa" == GLM.arch
    assert m.dsa == GLM.dsa == DSA(index_n_heads=32, index_head_dim=128, index_topk=2048)
    assert (m.mla, m.moe, m.n_layers, m.gguf_nextn_layers) == (GLM.mla, GLM.moe, 78, 1)
    assert count_params(m) == count_params(GLM) == GLM.params


def test_parameters_with_the_nextn_block_equal_the_checkpoint_total():
    nextn = sum(t.n_elements for t in file_only_tensors(GLM))
    assert count_params(GLM) + nextn == 753_864_139_008
    # llama.cpp's "repeating layers" figure: everything but token_embd, output and output_norm
    assert round((count_params(GLM) + nextn - 2 * EMBED - 6144) / 1e9, 3) == 751.961


def test_every_layer_carries_the_indexer_and_the_routing_bias():
    names = {t.name for t in build_tensors(GLM)}
    assert {"blk.77.indexer.attn_q_b.weight", "blk.0.indexer.proj.weight", "blk.3.exp_probs_b.bias"} <= names
    assert "blk.2.exp_probs_b.bias" not in names  # the 3 dense layers have no router


def test_kv_per_token_is_the_mla_latent_plus_one_indexer_key_on_every_layer():
    # (kv_lora_rank 512 + rope 64) f16 latent + index_head_dim 128 f16 indexer key, on each of the 78 layers
    assert kv_bytes_per_cell(GLM, "f16") == ((512 + 64 + 128) * 2, 0)
    kv, per_layer = kv_cache_bytes(GLM, FitRequest(context=32768, engine="llamacpp", n_ubatch=512, kv_cache_type="f16"))
    assert kv == 78 * 32768 * 1408 == 32768 * 109_824 and len(per_layer) == 78


def test_published_gguf_sizes_match_within_a_tenth_of_a_percent():
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "glm-5.1:744b"]
    assert {r["quant"] for r in rows} == {"BF16", "Q8_0"}
    for r in rows:  # whole files: tensor data, the skipped NextN block, header and tokenizer
        assert abs(r["error_pct"]) < 0.1, r  # measured +0.000% (BF16) and +0.001% (Q8_0)


@pytest.mark.parametrize("name", ["zai-org/GLM-5", "zai-org/GLM-5.1", "glm-5", "glm-5.1", "zai-org/GLM-5.1-FP8"])
def test_hub_ids_and_names_resolve_offline(name):
    assert resolve(name).model.id == "glm-5.1:744b"


def test_an_all_full_indexer_types_list_is_the_every_layer_indexer():
    # GLM-5.2's shared layers are tests/test_glm52.py; an explicit all-"full" list is GLM-5.1's layout
    assert model_from_config(dict(GLM51_CONFIG, indexer_types=["full"] * 78), "x/y").dsa == GLM.dsa
