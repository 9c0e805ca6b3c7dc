"""Session-16 catalog additions (data/models.yaml `# --- session 16: newrel4`): releases of Sep - Dec 2026.

Table-driven: one row per model in each table, not one test per model. Expected values come from outside the
estimator: the configs as stored copies state them (each entry's `source`), llama.cpp's load_arch_tensors, the KV
layouts written out by hand from the config (window cells PAD(window + n_ubatch 512, 256), as llama_kv_cache_iswa
sizes them), and the real GGUF files in benchmarks/heldout (recorded before the entries were written; the first
estimate of each is the blind figure in docs/methodology.md).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cliproc import check_cli_table

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.tensors import build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

# MiMo-V2.6-Pro config.json (a stored Rust test of the Hub config, code-index file id 70979721649; vocab, context and
# tie as MiMo-V2.5-Pro's config.json, printed in full by a stored model report, file id 62727537601).
_PRO_FULL = (0, 7, 15, 23, 31, 39, 47, 55, 62, 69)
MIMO_V26_PRO = {
    "architectures": ["MiMoV2ForCausalLM"], "model_type": "mimo_v2", "add_full_attention_sink_bias": False,
    "add_swa_attention_sink_bias": True, "attention_bias": False, "head_dim": 192, "hidden_size": 6144,
    "hybrid_layer_pattern": [0 if i in _PRO_FULL else 1 for i in range(70)], "intermediate_size": 16384,
    "max_position_embeddings": 1048576, "moe_intermediate_size": 2048, "moe_layer_freq": [0] + [1] * 69,
    "n_group": 1, "n_routed_experts": 384, "n_shared_experts": None, "norm_topk_prob": True,
    "num_attention_heads": 128, "num_experts_per_tok": 8, "num_hidden_layers": 70, "num_key_value_heads": 8,
    "partial_rotary_factor": 0.334, "scoring_func": "sigmoid", "sliding_window": 128, "swa_head_dim": 192,
    "swa_num_attention_heads": 128, "swa_num_key_value_heads": 8, "swa_v_head_dim": 128, "tie_word_embeddings": False,
    "topk_method": "noaux_tc", "v_head_dim": 128, "vocab_size": 152576,
}
# Aleph-Alpha/Kolibri-1 config.json as released (a stored engine embeds it, code-index file id 70827747502); context
# as the GGUF's kolibri1.context_length (file id 71000333793).
KOLIBRI_1 = {
    "architectures": ["Kolibri1ForCausalLM"], "model_type": "kolibri1", "hidden_size": 2560, "num_hidden_layers": 50,
    "num_attention_heads": 48, "num_key_value_heads": 4, "head_dim": 128, "rms_norm_eps": 1e-06, "vocab_size": 128000,
    "rope_theta": 10000.0, "num_experts": 384, "num_experts_per_tok": 6, "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512, "norm_topk_prob": False, "sliding_window": 513, "eos_token_id": 127906,
    "layer_types": ["full_attention" if i % 5 == 4 else "sliding_attention" for i in range(50)],
    "max_position_embeddings": 262144, "tie_word_embeddings": False, "attention_bias": False, "hidden_act": "silu",
}

# moonshotai/Kimi-K3 config.json, text_config as a stored model report prints it whole (code-index file id 62826164383)
_K3_FULL = [*range(4, 94, 4), 93]
KIMI_K3 = {
    "architectures": ["KimiK3ForConditionalGeneration"], "model_type": "kimi_k3", "tie_word_embeddings": False,
    "text_config": {
        "architectures": ["KimiLinearForCausalLM"], "model_type": "kimi_linear", "attn_res_block_size": 12,
        "first_k_dense_replace": 1, "hidden_act": "situ", "hidden_size": 7168, "intermediate_size": 33792,
        "kv_lora_rank": 512, "latent_moe_use_norm": True,
        "linear_attn_config": {"full_attn_layers": _K3_FULL, "gate_lower_bound": -5.0, "head_dim": 128,
                               "kda_layers": [i for i in range(1, 94) if i not in _K3_FULL], "num_heads": 96,
                               "short_conv_kernel_size": 4, "use_full_rank_gate": True},
        "max_position_embeddings": 1048576, "mla_use_nope": True, "mla_use_output_gate": True,
        "moe_intermediate_size": 3072, "moe_layer_freq": 1, "moe_router_activation_func": "sigmoid",
        "num_attention_heads": 96, "num_experts": 896, "num_experts_per_token": 16, "num_hidden_layers": 93,
        "num_key_value_heads": 96, "num_shared_experts": 2, "q_lora_rank": 1536, "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64, "routed_expert_hidden_size": 3584, "tie_word_embeddings": False, "v_head_dim": 128,
        "vocab_size": 163840,
    },
}

# openbmb/MiniCPM5-2B config.json at revision cd199ce3 as a stored engine pins it (code-index file id 68464451141)
MINICPM5_2B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 2048, "intermediate_size": 6144,
    "num_hidden_layers": 42, "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 128,
    "vocab_size": 130560, "tie_word_embeddings": False, "rope_theta": 5000000.0, "max_position_embeddings": 131072,
}

_SHAPE = ("arch", "n_layers", "hidden_size", "n_heads", "n_kv_heads", "global_kv_heads", "head_dim", "v_head_dim",
          "vocab_size", "tied_embeddings", "sliding_window", "max_context", "qk_norm", "moe")

# entry id, its config, the repo, the extra keys compared, the tensor count llama.cpp's load_arch_tensors creates
CONFIGS = [
    ("mimo-v2.6-pro:1t", MIMO_V26_PRO, "XiaomiMiMo/MiMo-V2.6-Pro-RL", ("full_attention_layers", "intermediate_size"),
     None),
    # kolibri1.cpp: 18 tensors a layer (4 norms, q/k/v/o, q/k norms, router + bias, 3 routed, 3 shared) + 3
    ("kolibri-1:78b", KOLIBRI_1, "Aleph-Alpha/Kolibri-1", ("sliding_window_pattern",), 50 * 18 + 3),
    # kimi-k3.cpp: per layer 2 norms + 2 res scores, KDA 14 (q/k/v, 3 convs, f_a/f_b, beta, A, dt, g, o_norm, o) or
    # MLA 9 (q_a/q_a_norm/q_b, kv_a/kv_a_norm, k_b, v_b, gate, o); layer 0 a dense FFN (3), the rest 11 MoE tensors
    # (router, bias, routed down/up/norm, 3 experts, 3 shared); + token_embd, output_norm, output, output_res_score
    ("kimi-k3:2.8t", KIMI_K3, "moonshotai/Kimi-K3", ("intermediate_size", "mla", "ssm", "layer_pattern"),
     93 * 4 + 69 * 14 + 24 * 9 + 3 + 92 * 11 + 4),
    # the llama tensor set: 9 a layer + token_embd, output_norm, output
    ("minicpm5:2b", MINICPM5_2B, "openbmb/MiniCPM5-2B", ("intermediate_size",), 42 * 9 + 3),
]


@pytest.mark.parametrize("model_id,config,repo,extra,n_tensors", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_entry_is_what_its_config_gives(model_id, config, repo, extra, n_tensors):
    m, c = get(model_id), model_from_config(config, repo)
    keys = _SHAPE + extra
    assert [getattr(c, k) for k in keys] == [getattr(m, k) for k in keys]
    assert [c.is_sliding(i) for i in range(m.n_layers)] == [m.is_sliding(i) for i in range(m.n_layers)]
    assert count_params(c) == count_params(m) == m.params
    if n_tensors is not None:
        assert len(build_tensors(m)) == n_tensors


def test_kolibri_1_counts_the_published_78_1b_and_its_full_layers_are_every_fifth():
    # Ollama logs Hob-forge's GGUF as 78.1B parameters; the card says 78B total
    m = get("kolibri-1:78b")
    assert round(m.params / 1e9, 1) == 78.1
    assert [i for i in range(50) if not m.is_sliding(i)] == list(range(4, 50, 5))


# context 32768, f16, llama.cpp: full layers hold every token, sliding layers PAD(window + 512, 256) cells
KV = [
    # MiMo-V2.6-Pro: 8 KV heads x (192 K + 128 V) x 2 B = 5,120 B a token a layer; window 128 -> 768 cells
    ("mimo-v2.6-pro:1t", 10 * 32768 * 5120 + 60 * 768 * 5120),
    # Kolibri 1: 4 KV heads x 128 x (K + V) x 2 B = 2,048 B (the stored MLX reading: 20,480 B a token in 10 full
    # layers); window 513 -> 1,280 cells
    ("kolibri-1:78b", 10 * 32768 * 2048 + 40 * 1280 * 2048),
    # Kimi K3: 24 MLA layers cache the 512 + 64 latent (K only, V a view of it) at 2 B; 69 KDA layers keep F32 state of
    # 96 heads x 128 x 128 plus the last 3 inputs of the three 12,288-wide convolutions, per sequence
    ("kimi-k3:2.8t", 24 * 32768 * 576 * 2 + 69 * 4 * (96 * 128 * 128 + 3 * 3 * 12288)),
    # MiniCPM5 2B: every layer full, 2 KV heads x 128 x (K + V) x 2 B
    ("minicpm5:2b", 42 * 32768 * 1024),
]


@pytest.mark.parametrize("model_id,expected", KV, ids=[k[0] for k in KV])
def test_llamacpp_kv_is_the_full_layers_plus_the_window(model_id, expected):
    kv, _ = kv_cache_bytes(get(model_id), FitRequest(context=32768, engine="llamacpp"))
    assert kv == expected


# real files, recorded before the entries (blind, exact bytes: MiMo-V2.6-Pro +0.000%, Kolibri 1 +0.0003%)
# MiniCPM5 2B: blind +0.08% on a GB 2dp figure (+-0.3%), -0.75% on a GB 1dp one (+-1.9%)
HELDOUT = [("mimo-v2.6-pro:1t", "MXFP4_MOE", 0.01), ("kolibri-1:78b", "Q4_K_M", 0.05), ("minicpm5:2b", "Q4_K_M", 0.35),
           ("minicpm5:2b", "Q8_0", 1.9)]


@pytest.mark.parametrize("model_id,quant,within_pct", HELDOUT, ids=[h[0] for h in HELDOUT])
def test_heldout_file_matches(model_id, quant, within_pct):
    (row,) = [r for r in accuracy.heldout_rows() if r["catalog"] == model_id and r["quant"] == quant]
    assert abs(row["error_pct"]) < within_pct and not row["note"], row


def test_kimi_k3_counts_the_xinference_size_and_the_released_checkpoint_bytes():
    # a stored xinference spec sizes the GGUF model at 2779.93 B = the text model + the MoonViT tower and projector
    # (447,358,976 parameters in the checkpoint's tensor list, file id 62826164383), which go to the mmproj
    from selfhost_advisor.estimate.vllm_weights import get_vllm_quant, vllm_weights

    m = get("kimi-k3:2.8t")
    assert round((m.params + 447_358_976) / 1e9, 2) == 2779.93
    # the released checkpoint (MXFP4 experts, the rest BF16): 1453.66 GiB of tensors in its 96 shards, of which the
    # tower is 894,717,952 B; blind -0.0013%, the ~20 MB the checkpoint keeps in F32 (conv, dt_bias, A_log padded to
    # 128) or as unfused res_norm / res_proj pairs
    text = 1453.66 * 2**30 - 447_358_976 * 2
    assert abs(vllm_weights(m, get_vllm_quant("MXFP4")).total / text - 1) < 0.0001


def test_kolibri_1_fp8_weights_are_what_vllm_loaded_on_a_dgx_spark():
    # stock vLLM 0.30.0 on one DGX Spark measured "weights on the GPU 73.55 GiB" for Aleph-Alpha/Kolibri-1 (FP8, block
    # 128; a stored deployment README, code-index file id 70200074809); blind +0.14% (73.65 GiB)
    from selfhost_advisor.estimate.vllm_weights import get_vllm_quant, vllm_weights

    got = vllm_weights(get("kolibri-1:78b"), get_vllm_quant("FP8")).total / 2**30
    assert abs(got / 73.55 - 1) < 0.005, got


NAMES = [
    ("mimo-v2.6-pro", "mimo-v2.6-pro:1t"), ("XiaomiMiMo/MiMo-V2.6-Pro-RL", "mimo-v2.6-pro:1t"),
    ("pcuenq/MiMo-V2.6-Pro-RL-GGUF", "mimo-v2.6-pro:1t"), ("kolibri-1", "kolibri-1:78b"),
    ("Aleph-Alpha/Kolibri-1", "kolibri-1:78b"), ("Hob-forge/Kolibri-1-GGUF", "kolibri-1:78b"),
    ("kimi-k3", "kimi-k3:2.8t"), ("moonshotai/Kimi-K3", "kimi-k3:2.8t"), ("unsloth/Kimi-K3-GGUF", "kimi-k3:2.8t"),
    ("minicpm5", "minicpm5:2b"), ("openbmb/MiniCPM5-2B", "minicpm5:2b"), ("hf.co/openbmb/MiniCPM5-2B-GGUF", "minicpm5:2b"),
]


@pytest.mark.parametrize("name,model_id", NAMES)
def test_names_resolve(name, model_id):
    assert resolve(name).model.id == model_id


@pytest.mark.parametrize("name,why", [
    ("xing4.0-29b-a4b", "four residual streams"), ("XingChen-AGI/Xing4.0-29B-A4B", "custom fork"),
])
def test_releases_without_a_layer_kind_are_refused_naming_why(name, why):
    from selfhost_advisor.errors import NotSizedModelError

    with pytest.raises(NotSizedModelError, match="not sized here") as e:
        resolve(name)
    assert why in str(e.value)


# (argv, exit code, a word the one-line refusal must hold)
CLI = [
    (["fit", "kolibri-1", "--hardware", "rtx-5090", "--context", "32768"], 0, ""),
    (["fit", "kolibri-1", "--hardware", "dgx-spark", "--engine", "vllm", "--context", "32768"], 0, ""),
    (["fit", "kolibri-1", "--hardware", "rtx-5090", "--engine", "ollama"], 2, "kolibri1"),
    (["fit", "mimo-v2.6-pro", "--hardware", "8x h200", "--context", "1048576"], 0, ""),
    (["fit", "kimi-k3", "--hardware", "8x b200", "--context", "131072"], 0, ""),
    (["fit", "kimi-k3", "--hardware", "8x h200", "--engine", "vllm"], 2, "KDA"),
]


def test_fit_cli_runs_what_the_engines_run_and_refuses_the_rest(tmp_path):
    check_cli_table(CLI, tmp_path)