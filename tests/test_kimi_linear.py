"""Kimi Linear 48B-A3B (llama.cpp arch kimi-linear): 20 Kimi Delta Attention layers and 7 MLA layers, MoE.

Reference figures, none of them outputs of this code:
- config.json of moonshotai/Kimi-Linear-48B-A3B-Instruct as copied in stored code (code-index file ids 69403024771,
  59839768689): hidden 2304, 27 layers, 32 heads, kv_lora_rank 512, q_lora_rank null, qk_nope 128 + qk_rope 64,
  v_head_dim 128, intermediate 9216 (first_k_dense_replace 1), 256 experts of 1024, 8 per token, 1 shared, vocab 163840,
  untied; linear_attn_config: full_attn_layers [4, 8, 12, 16, 20, 24, 27] (1-based), num_heads 32, head_dim 128,
  short_conv_kernel_size 4.
- llama.cpp src/models/kimi-linear.cpp load_arch_tensors (the tensor list) and src/llama-hparams.cpp: for KDA layers
  n_embd_r = 3 (ssm_d_conv - 1) n_head n_embd_head_kda and n_embd_s = n_embd_head_kda^2 n_head, both F32 per sequence
  (llama-memory-recurrent.cpp); the MLA layers cache kv_lora_rank + rope (576 values) per token.
- llama-bench in llama.cpp PR #17592: "kimi-linear 48B.A3B Q2_K - Medium | 16.78 GiB | 49.12 B"; ymcki's GGUF card:
  Q5_K_M 34.87 GB, Q4_K_M 29.70 GB, IQ4_XS 26.27 GB (rows of benchmarks/heldout/gguf_sizes.csv, recorded before the
  entry existed). The MoonshotAI/Kimi-Linear README: 48B total, 3B activated.
"""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.resolve import resolve
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import kv_cache_bytes, recurrent_state_bytes, state_bytes
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

KIMI = resolve("kimi-linear").model
D, V, H, HD, W = 2304, 163840, 32, 128, 32 * 128  # hidden, vocab, KDA heads, KDA head dim, KDA width
MLA_LAYERS = [3, 7, 11, 15, 19, 23, 26]  # full_attn_layers [4, 8, ..., 24, 27] made 0-based
CONFIG = {  # moonshotai/Kimi-Linear-48B-A3B-Instruct config.json, the keys that shape the model (verbatim values)
    "architectures": ["KimiLinearForCausalLM"], "model_type": "kimi_linear", "vocab_size": 163840, "hidden_size": 2304,
    "head_dim": 72, "intermediate_size": 9216, "num_hidden_layers": 27, "num_attention_heads": 32,
    "num_key_value_heads": 32, "tie_word_embeddings": False, "first_k_dense_replace": 1, "moe_intermediate_size": 1024,
    "moe_layer_freq": 1, "num_experts": 256, "num_experts_per_token": 8, "num_shared_experts": 1, "q_lora_rank": None,
    "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "mla_use_nope": True,
    "num_nextn_predict_layers": 0, "model_max_length": 1048576,
    "linear_attn_config": {"full_attn_layers": [4, 8, 12, 16, 20, 24, 27], "head_dim": 128,
                           "kda_layers": [1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 17, 18, 19, 21, 22, 23, 25, 26],
                           "num_heads": 32, "short_conv_kernel_size": 4},
}


def _by_hand() -> int:
    """The parameter total from the config, written out tensor by tensor from kimi-linear.cpp."""
    kda = 3 * D * W + 3 * 4 * W + D * HD + HD * W + D * H + H + W + D * HD + HD * W + HD + W * D
    mla = D * H * 192 + D * (512 + 64) + 512 + 128 * 512 * H + 512 * 128 * H + H * 128 * D
    moe = D * 256 + 3 * D * 1024 * 256 + 256 + 3 * D * 1024
    return 2 * V * D + D + 27 * 2 * D + 20 * kda + 7 * mla + 3 * D * 9216 + 26 * moe


def test_layer_pattern_follows_full_attn_layers():
    assert [i for i in range(27) if KIMI.has_attention(i)] == MLA_LAYERS
    assert sum(KIMI.is_recurrent(i) for i in range(27)) == 20


def test_parameter_total_matches_the_config_arithmetic_and_llama_bench():
    assert count_params(KIMI) == _by_hand() == KIMI.params
    assert round(count_params(KIMI) / 1e9, 2) == 49.12  # llama-bench "49.12 B"
    # The card's 48B / 3B count the transformer without the token embedding and output tables.
    assert round((count_params(KIMI) - 2 * V * D) / 1e9) == 48
    assert round((active_params(KIMI) - 2 * V * D) / 1e9) == 3


def test_kda_layers_carry_the_kimi_tensors_and_mla_layers_the_latent():
    names = {t.name for t in build_tensors(KIMI)}
    assert {"blk.0.ssm_conv1d_q.weight", "blk.0.ssm_f_b.weight", "blk.0.ssm_g_a.weight", "blk.0.ssm_beta.weight",
            "blk.0.ssm_a", "blk.3.attn_kv_a_mqa.weight", "blk.3.attn_k_b.weight", "blk.1.exp_probs_b.bias"} <= names
    assert "blk.3.ssm_conv1d_q.weight" not in names and "blk.0.attn_kv_a_mqa.weight" not in names
    assert "blk.0.exp_probs_b.bias" not in names and "blk.0.ffn_gate.weight" in names  # one dense layer first


def test_kv_cache_is_the_mla_latent_of_seven_layers_plus_a_fixed_kda_state():
    per_seq_state = 20 * 4 * (3 * 3 * W + HD * HD * H)  # 20 KDA layers of n_embd_r + n_embd_s, F32
    assert recurrent_state_bytes(KIMI, 0, 1) == 4 * (36864 + 524288)
    req = FitRequest(context=32768, engine="llamacpp", n_ubatch=512, kv_cache_type="f16")
    kv, per_layer = kv_cache_bytes(KIMI, req)
    assert state_bytes(KIMI, req) == per_seq_state == 44_892_160
    assert kv == 7 * 32768 * 576 * 2 + per_seq_state  # 8,064 B/token at f16
    assert all(per_layer[i] == 32768 * 1152 for i in MLA_LAYERS)
    req4 = FitRequest(context=32768, engine="llamacpp", n_ubatch=512, kv_cache_type="f16", n_parallel=4)
    assert state_bytes(KIMI, req4) == 4 * per_seq_state  # one state per sequence, whatever the context


def test_published_gguf_sizes_match_within_a_tenth_of_a_percent():
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "kimi-linear:48b"]
    assert {r["quant"] for r in rows} == {"Q5_K_M", "Q4_K_M", "IQ4_XS", "Q2_K"}
    for r in rows:  # measured -0.014% (Q5_K_M), +0.001% (Q4_K_M), -0.006% (IQ4_XS), +0.012% (Q2_K, tensor bytes)
        assert abs(r["error_pct"]) < 0.1, r


@pytest.mark.parametrize("name", ["moonshotai/Kimi-Linear-48B-A3B-Instruct", "moonshotai/Kimi-Linear-48B-A3B-Base",
                                  "kimi-linear", "kimi-linear:48b"])
def test_hub_ids_and_names_resolve_offline(name):
    assert resolve(name).model.id == "kimi-linear:48b"


@pytest.mark.parametrize("engine,hw", [("vllm", "rtx-4090"), ("mlx", "m4-max-128gb"), ("ollama", "rtx-4090")])
def test_engines_whose_kimi_memory_is_not_modelled_refuse_with_one_line(engine, hw, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "kimi-linear", "-H", hw, "--engine", engine]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "kimi-linear:48b" in err[0] and "llamacpp" in err[0]
    assert main(["fit", "kimi-linear", "-H", "rtx-4090"]) in (0, 1)  # llama.cpp sizes it


def test_config_maps_to_the_catalog_entry():
    m = model_from_config(CONFIG, "moonshotai/Kimi-Linear-48B-A3B-Instruct")
    assert (m.arch, m.ssm, m.mla, m.moe, m.layer_pattern) == (KIMI.arch, KIMI.ssm, KIMI.mla, KIMI.moe, KIMI.layer_pattern)
    assert m.max_context == 1048576 and count_params(m) == KIMI.params


@pytest.mark.parametrize("change", [{"full_attn_layers": [4, 28]}, {"num_heads": 0}, {"use_full_rank_gate": True}])
def test_unusable_or_unknown_kda_configs_are_refused(change):
    bad = dict(CONFIG, linear_attn_config=dict(CONFIG["linear_attn_config"], **change))
    with pytest.raises(UnknownModelError):
        model_from_config(bad, "x/kimi")
