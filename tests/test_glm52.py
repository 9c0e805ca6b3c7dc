"""GLM-5.2 (glm_moe_dsa with IndexShare): GLM-5.1's MLA + DSA layout where only the "full" layers of config.json
indexer_types run their own DSA indexer; "shared" layers reuse the previous full layer's top-k.

Reference figures, none of them outputs of this code:
- zai-org/GLM-5.2 config.json as quoted in stored code (code-index file id 61920764968): GLM-5.1's shapes,
  max_position_embeddings 1,048,576, indexer_types full at 0, 1, 2 and every 4th layer from 6 to 74 (21 of 78).
- llama.cpp src/models/glm-dsa.cpp: GLM_5_2_DEFAULT_INDEXER_TYPES (the same 21 layers; the default for a GGUF without
  indexer.types whose trained context is 1,048,576, all full below that); the five indexer tensors are loaded
  TENSOR_NOT_REQUIRED; create_memory's filter_lid keeps indexer keys only where is_indexer_full(il) for glm-dsa.
- Hugging Face API safetensors total of zai-org/GLM-5.2: 753,329,940,480 parameters (stored notes, code-index file
  ids 58123340717, 69839374991), the trunk plus the NextN block.
"""
from __future__ import annotations

import pytest
from test_glm5 import GLM51_CONFIG

from selfhost_advisor.catalog.gguf_model import _indexer_layers
from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.catalog.resolve import resolve
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.estimate.memory import kv_cache_bytes, layer_kv_bytes_per_cell, weights
from selfhost_advisor.estimate.tensors import build_tensors, count_params, file_only_tensors
from selfhost_advisor.estimate.vllm import check_request

FULL = (0, 1, 2, 6, 10, 14, 18, 22, 26, 30, 34, 38, 42, 46, 50, 54, 58, 62, 66, 70, 74)
GLM52_CONFIG = dict(GLM51_CONFIG, max_position_embeddings=1048576, index_topk_freq=4, index_skip_topk_offset=3,
                    indexer_types=["full"] * 3 + (["shared"] * 3 + ["full"]) * 18 + ["shared"] * 3)
GLM52 = get("glm-5.2:744b")


def test_config_indexer_types_give_the_21_full_layers_of_llama_cpps_table():
    assert len(GLM52_CONFIG["indexer_types"]) == 78
    m = model_from_config(GLM52_CONFIG, "zai-org/GLM-5.2")
    assert m.dsa.indexer_layers == GLM52.dsa.indexer_layers == FULL
    assert (m.arch, m.mla, m.moe, m.max_context) == (GLM52.arch, GLM52.mla, GLM52.moe, 1048576)
    assert count_params(m) == count_params(GLM52) == GLM52.params


def test_parameters_with_the_nextn_block_equal_the_hub_total():
    nextn = file_only_tensors(GLM52)
    assert "blk.78.indexer.attn_q_b.weight" in {t.name for t in nextn}  # the MTP block keeps a full indexer
    assert count_params(GLM52) + sum(t.n_elements for t in nextn) == 753_329_940_480
    # GLM-5.1 less the 57 shared layers' indexers: q_b 2048 x 32*128, attn_k 6144 x 128, proj 6144 x 32, k_norm 2 x 128
    per_layer = 2048 * 32 * 128 + 6144 * 128 + 6144 * 32 + 2 * 128
    assert count_params(get("glm-5.1:744b")) - count_params(GLM52) == 57 * per_layer


def test_shared_layers_carry_no_indexer_tensors():
    names = {t.name for t in build_tensors(GLM52)}
    assert {f"blk.{i}.indexer.attn_k.weight" for i in FULL} <= names
    assert not {n for n in names if ".indexer." in n and int(n.split(".")[1]) not in FULL}
    assert sum(".indexer." in n for n in names) == 21 * 5
    # the per-kind sizing (tensors.layout) must tell a shared block from a full one
    assert weights(GLM52, get_quant("F16")).params == count_params(GLM52)


def test_kv_per_token_keeps_indexer_keys_on_the_full_layers_only():
    per_layer = layer_kv_bytes_per_cell(GLM52, "f16")
    assert {per_layer[i] for i in FULL} == {(512 + 64 + 128) * 2}
    assert {per_layer[i] for i in range(78) if i not in FULL} == {(512 + 64) * 2}
    assert sum(per_layer) == 78 * 576 * 2 + 21 * 128 * 2 == 95_232
    kv, _ = kv_cache_bytes(GLM52, FitRequest(context=32768, engine="llamacpp", n_ubatch=512, kv_cache_type="f16"))
    assert kv == 32768 * 95_232


def test_gguf_indexer_types_and_llama_cpps_default_when_the_key_is_absent():
    bools = [i in FULL for i in range(78)]
    assert _indexer_layers("glm-dsa", bools, 78, 1048576) == FULL
    assert _indexer_layers("glm-dsa", None, 78, 1048576) == FULL  # glm-dsa.cpp: GLM-5.2's table
    assert _indexer_layers("glm-dsa", None, 78, 202752) is None  # GLM-5 / 5.1: every layer full
    assert _indexer_layers("glm-dsa", [True] * 78, 78, 1048576) is None
    assert _indexer_layers("deepseek32", None, 61, 163840) is None


@pytest.mark.parametrize("types, message", [
    (["full"] * 77 + ["sparse"], "unknown layer kind 'sparse'"),
    (["shared"] + ["full"] * 77, "starts with a shared layer"),
    (["full"] * 77, "not a list of 78 layer kinds"),
])
def test_bad_indexer_types_are_refused(types, message):
    with pytest.raises(UnknownModelError, match=message):
        model_from_config(dict(GLM51_CONFIG, indexer_types=types), "x/y")


def test_vllm_sizes_glm52s_indexer_cache_on_its_21_indexer_layers_only():
    # vllm deepseek_v2.py DeepseekV2MLAAttention (IndexCache): an Indexer, and its DeepseekV32IndexerCache, only where
    # max(layer_id - index_skip_topk_offset + 1, 0) % index_topk_freq == 0 (offset 3, freq 4: layers 0-2, 6, 10 ... 74,
    # the 21 layers whose indexer weights the checkpoint has). By hand, 16-bit latent: 78 x (512 + 64) x 2 = 89,856 B
    # a token, + 21 x 132 B of indexer keys (128 fp8 values + a 4-byte scale) = 92,628; GLM-5.1 (an indexer on every
    # layer) 89,856 + 78 x 132 = 100,152
    from selfhost_advisor.estimate.vllm import kv_bytes_per_token

    req = FitRequest(context=32768, engine="vllm")
    check_request(GLM52, req, 8)
    check_request(get("glm-5.1:744b"), req, 8)
    assert tuple(i for i in range(78) if max(i - 3 + 1, 0) % 4 == 0) == FULL
    assert kv_bytes_per_token(GLM52, 8) == 92_628
    assert kv_bytes_per_token(get("glm-5.1:744b"), 8) == 100_152
    # MiniMax-M3's MSA indexer keys sit beside a GQA cache, which vLLM's sizing here does not cover: still refused
    with pytest.raises(UnknownModelError, match="indexer keys beside a GQA cache"):
        check_request(get("minimax-m3:428b"), req, 8)


@pytest.mark.parametrize("name", ["zai-org/GLM-5.2", "zai-org/GLM-5.2-FP8", "glm-5.2", "glm-5.2:744b"])
def test_hub_ids_and_names_resolve_offline(name):
    assert resolve(name).model.id == "glm-5.2:744b"


def test_models_fits_on_vllm_leaves_out_the_layer_kinds_vllm_does_not_size():
    # MiniMax-M3's MSA indexer (GLM-5.2's shared indexers until session 21) and DeciLM's linear-attention blocks are
    # refused by fit on vLLM (exit 2); the catalog-wide listing must leave them out rather than stop on the first one
    # (it did: the docs/cli.md example `models --fits "2x rtx3090" --engine vllm` exited 2 on glm-5.2)
    from selfhost_advisor.api import models_that_fit
    from selfhost_advisor.engines import get_engine

    vllm = get_engine("vllm")
    assert not vllm.runs(get("minimax-m3:428b")) and vllm.runs(get("glm-5.1")) and vllm.runs(get("glm-5.2"))
    assert get_engine("llamacpp").runs(get("minimax-m3:428b"))
    from test_deci import _linear_block_config

    assert not vllm.runs(model_from_config(_linear_block_config(), "x/linear"))
    r = models_that_fit("2x rtx3090", engine="vllm", family="glm-5.1,glm-5.2,minimax-m3")
    ids = {m.model.id for m in r.models}
    assert "glm-5.1:744b" in ids and "glm-5.2:744b" in ids and "minimax-m3:428b" not in ids
