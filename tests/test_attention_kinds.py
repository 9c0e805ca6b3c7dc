"""Attention kinds beyond dense / sliding / MLA (issue 17 item 2): DeepSeek-V3.2 sparse attention's indexer cache and
Nemotron-H (Mamba-2 + attention + MLP layers), and unknown layer kinds as bad input.

Reference figures, none of them outputs of this code:
- DeepSeek-V3 MLA cache in llama.cpp at 32,768 tokens, f16: "KV self size = 2196.00 MiB, K^R (f16): 244.00 MiB,
  c^KV (f16): 1952.00 MiB" (ggml-org/llama.cpp PR #11446, jukofyork's log).
- DeepSeek-V3.2 official config.json: index_n_heads 64, index_head_dim 128, index_topk 2048 (as quoted in
  ai-dynamo/aiconfigurator's DSA notes, code-index file id 40243802001; transformers PR #41251 docs).
- llama.cpp DeepSeek-V3.2 (PR #23346, merged 2026-05-19): llama_kv_cache_dsa = the MLA cache plus a second
  llama_kv_cache of the same cells with one key head of indexer_head_size, K only, in --cache-type-k.
- SGLang PR #11309 (DeepSeek-V3.2-Exp, 8xB200, per rank): without the index, "#tokens: 1462784, KV size: 54.52 GB";
  the index adds to it, "KV size including index is actually 65.49 GB"; with it counted, "#tokens: 975424, KV size:
  43.67 GB" (SGLang prints GiB). The first gives 656 B per token per layer (fp8 latent + scales + bf16 rope).
- Nemotron Nano 9B v2: BF16 checkpoint 17.78 GB, 8.89B parameters, 27 Mamba-2 / 4 attention / 25 MLP layers
  (model card of its FP8 conversion, weathermanj/Nemotron-nano-9b-fp8).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from gguf import GGMLQuantizationType as T
from gguf import GGUFValueType as V
from hubfake import FakeHub, install

from gguf_factory import write_gguf
from selfhost_advisor.catalog.gguf_model import read_local
from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get
from selfhost_advisor.cli import main
from selfhost_advisor.domain import DSA, FitRequest
from selfhost_advisor.estimate.memory import (indexer_bytes_per_token_fp8, kv_bytes_per_cell, kv_cache_bytes,
                                              recurrent_state_bytes, state_bytes)
from selfhost_advisor.estimate.tensors import build_tensors, count_params

MIB, GIB = 2**20, 2**30
V3_CONFIG = json.loads((Path(__file__).parent / "fixtures" / "hub" / "deepseek-ai--DeepSeek-V3" / "config.json").read_text())


def _v32_config() -> dict:
    cfg = dict(V3_CONFIG)
    cfg.update(architectures=["DeepseekV32ForCausalLM"], model_type="deepseek_v32", index_n_heads=64,
               index_head_dim=128, index_topk=2048)
    return cfg


def _req(ctx: int, kv: str = "f16") -> FitRequest:
    return FitRequest(context=ctx, engine="llamacpp", n_ubatch=512, kv_cache_type=kv)


V32 = model_from_config(_v32_config(), "deepseek-ai/DeepSeek-V3.2")
V3 = model_from_config(V3_CONFIG, "deepseek-ai/DeepSeek-V3")


def test_v32_config_maps_the_indexer_and_llama_cpp_architecture():
    assert V32.dsa == DSA(index_n_heads=64, index_head_dim=128, index_topk=2048)
    assert V32.arch == "deepseek32" and V32.mla == V3.mla and V3.dsa is None


def test_v32_kv_is_the_mla_cache_plus_one_f16_indexer_key_per_token_and_layer():
    v3, _ = kv_cache_bytes(V3, _req(32768))
    v32, per_layer = kv_cache_bytes(V32, _req(32768))
    assert v3 == 2196 * MIB  # the V3 log above: K^R 244.00 + c^KV 1952.00 MiB
    # indexer: 61 layers x 32,768 cells x 128 f16 values = 488 MiB (a fork's log line reads the same 256 B per token)
    assert v32 - v3 == 61 * 32768 * 128 * 2 == 488 * MIB
    assert len(per_layer) == 61 and len(set(per_layer)) == 1  # every V3.2 layer runs its own indexer
    # the indexer key follows --cache-type-k: q8_0 stores 128 values in 4 blocks of 34 bytes
    assert kv_bytes_per_cell(V32, "q8_0")[0] - kv_bytes_per_cell(V3, "q8_0")[0] == 4 * 34


def test_v32_fp8_indexer_rule_reproduces_sglangs_logged_kv_sizes():
    per_token_layer = indexer_bytes_per_token_fp8(V32)
    assert per_token_layer == 132  # 128 fp8 + one fp32 scale
    latent = round(54.52 * GIB / (1462784 * 61))  # bytes per token per layer without the index, from the log
    assert latent == 656
    assert round((latent + per_token_layer) * 61 * 975424 / GIB, 2) == 43.67
    assert abs((latent + per_token_layer) * 61 * 1462784 / GIB - 65.49) < 0.01
    assert indexer_bytes_per_token_fp8(V3) == 0


def test_v32_weights_add_the_indexer_tensors_llama_cpp_loads():
    names = {t.name for t in build_tensors(V32) if t.layer == 0}
    assert {"blk.0.indexer.attn_q_b.weight", "blk.0.indexer.attn_k.weight", "blk.0.indexer.proj.weight",
            "blk.0.indexer.k_norm.weight", "blk.0.indexer.k_norm.bias"} <= names
    # per layer: q_b 1536 x (64 x 128), k 7168 x 128, proj 7168 x 64, norm weight and bias 128 each
    assert count_params(V32) - count_params(V3) == 61 * (1536 * 64 * 128 + 7168 * 128 + 7168 * 64 + 2 * 128)


def test_deepseek32_gguf_header_carries_the_indexer(tmp_path):
    d = 256
    tensors = [("token_embd.weight", (d, 320), T.Q8_0), ("output_norm.weight", (d,), T.F32),
               ("output.weight", (d, 320), T.Q8_0)]
    extra = {
        "deepseek32.attention.kv_lora_rank": (512, V.UINT32), "deepseek32.rope.dimension_count": (64, V.UINT32),
        "deepseek32.attention.key_length": (576, V.UINT32), "deepseek32.attention.value_length": (512, V.UINT32),
        "deepseek32.attention.key_length_mla": (192, V.UINT32), "deepseek32.attention.value_length_mla": (128, V.UINT32),
        "deepseek32.attention.indexer.head_count": (64, V.UINT32),
        "deepseek32.attention.indexer.key_length": (128, V.UINT32),
        "deepseek32.attention.indexer.top_k": (2048, V.UINT32),
    }
    path = tmp_path / "ds32.gguf"
    write_gguf(path, "deepseek32", n_layers=2, d=d, n_heads=16, n_kv=1, tensors=tensors, extra=extra)
    m = read_local(str(path)).model
    assert m.dsa == DSA(64, 128, 2048)
    assert kv_bytes_per_cell(m, "f16") == ((512 + 64) * 2 + 128 * 2, 0)


# --- Nemotron-H ---------------------------------------------------------------------------------------------------

NANO = get("nemotron-nano:9b-v2")
NANO_CONFIG = {"architectures": ["NemotronHForCausalLM"], "vocab_size": 131072, "hidden_size": 4480,
               "intermediate_size": 15680, "num_hidden_layers": 56, "num_attention_heads": 40,
               "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 131072,
               "hybrid_override_pattern": "M-M-M-MM-M-M-M*-M-M-M*-M-M-M-M*-M-M-M-M*-M-MM-M-M-M-M-M-",
               "mamba_num_heads": 128, "mamba_head_dim": 80, "n_groups": 8, "ssm_state_size": 128,
               "conv_kernel": 4, "tie_word_embeddings": False}


def test_nemotron_h_entry_is_what_its_config_maps_to():
    hub = model_from_config(NANO_CONFIG, NANO.hf_id)
    for field in ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim",
                  "vocab_size", "tied_embeddings", "max_context", "ssm", "layer_pattern"):
        assert getattr(hub, field) == getattr(NANO, field), field
    p = NANO.layer_pattern
    assert (p.count("M"), p.count("*"), p.count("-")) == (27, 4, 25)  # as the FP8 card lists them
    assert count_params(NANO) == NANO.params and round(NANO.params * 2 / 1e9, 2) == 17.78  # BF16 checkpoint size


def test_nemotron_h_state_is_llama_cpps_f32_mamba2_state_and_kv_only_in_attention_layers():
    # llama-hparams.cpp: n_embd_r = (d_conv - 1)(d_inner + 2 n_group d_state) = 3 x (10240 + 2048);
    # n_embd_s = d_state x d_inner = 128 x 10240; F32, one slot per sequence.
    per_layer = 4 * (3 * (10240 + 2 * 8 * 128) + 128 * 10240)
    assert per_layer == 5_390_336
    first_mamba = NANO.layer_pattern.index("M")
    assert recurrent_state_bytes(NANO, first_mamba, 1) == per_layer
    assert recurrent_state_bytes(NANO, first_mamba, 4) == 4 * per_layer
    assert state_bytes(NANO, _req(8192)) == 27 * per_layer  # 138.80 MiB, whatever the context
    total, layers = kv_cache_bytes(NANO, _req(131072))
    kv = 4 * 131072 * 8 * 128 * 2 * 2  # 4 attention layers, K and V, f16
    assert total == kv + 27 * per_layer and kv == 2048 * MIB
    assert sum(1 for b in layers if b == 0) == 25  # MLP-only layers hold nothing


# --- unknown layer kinds: bad input naming the kind ---------------------------------------------------------------

@pytest.mark.parametrize("cfg,named", [
    (dict(NANO_CONFIG, hybrid_override_pattern="M*Q" + "-" * 53), "'Q'"),
    ({"architectures": ["Qwen3_5ForCausalLM"], "hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
      "num_key_value_heads": 2, "head_dim": 64, "intermediate_size": 512, "vocab_size": 320,
      "layer_types": ["linear_attention", "mystery_mixer", "linear_attention", "full_attention"],
      "linear_conv_kernel_dim": 4, "linear_key_head_dim": 32, "linear_value_head_dim": 32, "linear_num_key_heads": 2,
      "linear_num_value_heads": 4}, "mystery_mixer"),
])
def test_fit_of_a_hub_config_with_an_unknown_layer_kind_is_exit_2_naming_it(monkeypatch, capsys, cfg, named):
    hub = install(monkeypatch, FakeHub())
    hub.add("acme/odd", {"config.json": json.dumps(cfg).encode()})
    assert main(["fit", "hf:acme/odd", "--vram", "24GB"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "unknown layer kind" in err and named in err


def test_fit_json_names_the_indexer_it_counted():
    from selfhost_advisor.render.jsonout import model_dict

    arch = model_dict(V32)["architecture"]
    assert arch["dsa"] == {"index_n_heads": 64, "index_head_dim": 128, "index_topk": 2048} and arch["attention"] == "mla"
    assert "dsa" not in model_dict(V3)["architecture"]


def test_vllm_v32_pool_counts_the_indexer_key_of_every_layer():
    # vllm deepseek_v2.py DeepseekV32IndexerCache: an MLAAttentionSpec of one 132-byte head (128 fp8 + fp32 scale),
    # merged with the latent's MLA spec into one UniformTypeKVCacheSpecs group (kv_cache_utils): a token costs both
    from selfhost_advisor.estimate.vllm import kv_bytes_per_token, kv_pool_tokens
    assert kv_bytes_per_token(V32, 8) - kv_bytes_per_token(V3, 8) == 61 * 132
    assert kv_bytes_per_token(V32, 8, 1) == 61 * (576 + 132)  # fp8 latent: the indexer key stays 132 B
    pool = 40 * GIB
    assert kv_pool_tokens(V32, 8, pool) < kv_pool_tokens(V3, 8, pool) * (576 * 2) / (576 * 2 + 132) + 16
