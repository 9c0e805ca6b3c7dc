"""Tensor layouts added with the catalog's 2025-2026 families, checked against counts published for real checkpoints
and GGUF files (sources in each test; data/models.yaml names the configs)."""
from __future__ import annotations

import sys
from pathlib import Path

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import estimate_memory
from selfhost_advisor.estimate.tensors import build_tensors, count_params, file_only_tensors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402


def test_minimax_m2_tensors_match_the_checkpoint():
    # A stored report of MiniMax-M2.7's safetensors (code-index file id 62693775865) lists 228,703,644,928 parameters,
    # of which 13,880,064 are FP8 block scales (weight_scale_inv: 3 x 256 x 12 x 24 per layer for the experts plus
    # 48x24 + 8x24 + 8x24 + 24x48 for attention, x 62 layers). A GGUF of it holds 809 tensors (quantize log of
    # W0lfland/MiniMax-M2.7-Greg-Knee-GGUF: "all 809 tensors").
    m = resolve("minimax-m2.7:230b").model
    scales = 62 * (3 * 256 * 12 * 24 + 48 * 24 + 8 * 24 + 8 * 24 + 24 * 48)
    assert scales == 13_880_064
    assert count_params(m) == 228_703_644_928 - scales
    assert len(build_tensors(m)) == 809
    q_norm = next(t for t in build_tensors(m) if t.name == "blk.0.attn_q_norm.weight")
    assert q_norm.shape == (48 * 128,)  # the whole projection, not one head (src/models/minimax-m2.cpp)


def test_glm45_air_file_holds_the_nextn_block_memory_does_not():
    # ubergarm/GLM-4.5-Air-GGUF: BF16 205.811 GiB, Q8_0 109.381 GiB. llama.cpp loads the NextN block with
    # TENSOR_SKIP (never allocated), so the weights in memory are the file less that block.
    m = resolve("glm-4.5-air:106b").model
    assert m.gguf_nextn_layers == 1
    for quant, gib in (("BF16", 205.811), ("Q8_0", 109.381)):
        assert abs(accuracy.file_weights_bytes(m, get_quant(quant)) / (gib * 2**30) - 1) < 0.001
    loaded = estimate_memory(m, get_quant("BF16"), FitRequest(context=512)).weights_bytes
    nextn = sum(t.n_elements for t in file_only_tensors(m)) * 2
    assert abs((loaded + nextn) / (205.811 * 2**30) - 1) < 0.001
    assert nextn / (205.811 * 2**30) > 0.03  # a whole MoE block plus its own embedding and head


def test_qwen3_vl_text_model_has_the_qwen3_tensors():
    # A stored note on unsloth's Qwen3-VL-8B-Instruct-Q4_K_M.gguf: 399 tensors, "36 blocks of 11 plus an embedding,
    # a norm and an output head" (code-index file id 60241773705); no vision tensors (those ship as mmproj).
    m = resolve("qwen3-vl:8b").model
    assert m.arch == "qwen3vl" and len(build_tensors(m)) == 36 * 11 + 3


def test_chatglm_reads_thudm_keys_and_fuses_qkv_with_bias():
    # GLM-4-9B-Chat config (THUDM spelling: num_layers, multi_query_group_num, kv_channels, ffn_hidden_size,
    # padded_vocab_size, seq_length; add_qkv_bias). llama.cpp LLM_ARCH_CHATGLM: attn_qkv + its bias, ffn_up {n_embd, 2 n_ff}.
    from selfhost_advisor.catalog.hf_config import model_from_config

    cfg = {"architectures": ["ChatGLMModel"], "num_layers": 40, "hidden_size": 4096, "ffn_hidden_size": 13696,
           "num_attention_heads": 32, "multi_query_group_num": 2, "kv_channels": 128, "padded_vocab_size": 151552,
           "seq_length": 131072, "add_qkv_bias": True}
    m = model_from_config(cfg, "THUDM/glm-4-9b-chat")
    assert (m.arch, m.n_layers, m.n_kv_heads, m.head_dim, m.intermediate_size, m.vocab_size, m.max_context) == (
        "chatglm", 40, 2, 128, 13696, 151552, 131072)
    names = {t.name: t.shape for t in build_tensors(resolve("glm4:9b").model)}
    assert names["blk.0.attn_qkv.weight"] == (4096, 4096 + 2 * 256)
    assert names["blk.0.attn_qkv.bias"] == (4096 + 2 * 256,)
    assert names["blk.0.ffn_up.weight"] == (4096, 2 * 13696)
    assert "blk.0.attn_q.weight" not in names and "blk.0.ffn_gate.weight" not in names


def test_granite_dense_is_the_llama_tensor_set_with_tied_embeddings():
    # granite-3.3-8b-instruct config (vllm-spyre fixture): 40 layers, 4096, 12800, 32/8 heads, vocab 49159, tied.
    # IBM's F16 GGUF is 16,344,139,552 bytes; the weights are 2 bytes x 8,170,864,640 params plus ~2 MB of metadata.
    m = resolve("granite3.3:8b").model
    names = {t.name for t in build_tensors(m)}
    assert m.arch == "granite" and "output.weight" not in names and "blk.39.ffn_gate.weight" in names
    assert count_params(m) == 8_170_864_640
    assert 0 < 16_344_139_552 - 2 * count_params(m) < 3_000_000


def test_qwen35_27b_35b_9b_kv_and_state_equal_published_llama_cpp_logs():
    # Stored llama.cpp logs (code-index file ids 68664296548 and 52911601095):
    # qwen35, block_count 64, 26.9B, heads 24/4, key_length 256, ssm state 128 x 16 groups, at 24576 cells, 1 seq:
    #   "llama_kv_cache: size = 1536.00 MiB (24576 cells, 16 layers)" and
    #   "llama_memory_recurrent: size = 149.62 MiB (1 cell, 64 layers) R(f32) 5.62 + S(f32) 144.00";
    # qwen35moe, ssm.inner_size 4096, time_step_rank 32, 40 layers, 4 seqs:
    #   "llama_memory_recurrent: size = 251.25 MiB (4 cells, 40 layers, 4 seqs) R (f32): 11.25 MiB, S (f32): 240.00 MiB";
    # Qwen3.5-9B Q8_0 (file id 59045670747): "llama_kv_cache: size = 4224.00 MiB (135168 cells, 8 layers, 4/1 seqs)",
    #   "llama_memory_recurrent: size = 201.00 MiB (4 cells, 32 layers, 4 seqs), R (f32): 9.00 MiB, S (f32): 192.00 MiB".
    from selfhost_advisor.estimate.memory import kv_cache_bytes, state_bytes

    mib = 2**20
    for model_id, ctx, seqs, kv_mib, r_mib, s_mib in (("qwen3.5:27b", 24576, 1, 1536.0, 5.625, 144.0),
                                                      ("qwen3.5:35b", 4096, 4, None, 11.25, 240.0),
                                                      ("qwen3.5:9b", 135168, 4, 4224.0, 9.0, 192.0)):
        m = resolve(model_id).model
        req = FitRequest(context=ctx, n_parallel=seqs)
        total, _ = kv_cache_bytes(m, req)
        state = state_bytes(m, req)
        assert state == (r_mib + s_mib) * mib
        n_rec = sum(1 for i in range(m.n_layers) if m.is_recurrent(i))
        r = 4 * (m.ssm.d_conv - 1) * (m.ssm.d_inner + 2 * m.ssm.n_group * m.ssm.d_state) * n_rec * seqs
        assert r == r_mib * mib
        if kv_mib is not None:
            assert total - state == kv_mib * mib


def test_starcoder2_is_layernorm_with_biases_and_a_non_gated_mlp():
    # llama.cpp LLM_ARCH_STARCODER2 (src/llama-model.cpp): attn_norm/ffn_norm/output_norm carry a bias, q/k/v/o carry a
    # bias, the MLP is ffn_up + ffn_down with biases (GELU, no gate), and without output.weight the head is the
    # embedding. bigcode/starcoder2-3b: hidden 3072, 30 layers, 24/2 heads, intermediate 12288 (stored config copies).
    m = resolve("starcoder2:3b").model
    names = {t.name: t.shape for t in build_tensors(m)}
    for bias, width in (("attn_norm.bias", 3072), ("ffn_norm.bias", 3072), ("attn_q.bias", 3072), ("attn_k.bias", 256),
                        ("attn_v.bias", 256), ("attn_output.bias", 3072), ("ffn_up.bias", 12288), ("ffn_down.bias", 3072)):
        assert names[f"blk.29.{bias}"] == (width,), bias
    assert names["output_norm.bias"] == (3072,)
    assert "blk.0.ffn_gate.weight" not in names and "output.weight" not in names
    # per layer: 2 norms x (weight, bias) + 4 projections x (weight, bias) + 2 MLP x (weight, bias) = 16 tensors
    assert len(build_tensors(m)) == 30 * 16 + 3


def test_ernie45_moe_config_keys_map_onto_the_deepseek_layout():
    # baidu/ERNIE-4.5-21B-A3B-PT config.json as copied in a stored test (code-index file id 55221413519): ERNIE's own key
    # names (moe_num_experts, moe_k, moe_num_shared_experts, moe_layer_start_index); read through data/hf_architectures.yaml
    # it must give the catalog entry's shapes, and the catalog entry the published 21B total / 3B active.
    from selfhost_advisor.catalog.hf_config import model_from_config
    from selfhost_advisor.estimate.tensors import active_params

    cfg = {"architectures": ["Ernie4_5_MoeForCausalLM"], "model_type": "ernie4_5_moe", "hidden_size": 2560,
           "intermediate_size": 12288, "max_position_embeddings": 131072, "num_attention_heads": 20,
           "num_key_value_heads": 4, "head_dim": None, "num_hidden_layers": 28, "vocab_size": 103424,
           "use_bias": False, "tie_word_embeddings": True, "moe_num_experts": 64, "moe_layer_start_index": 1,
           "moe_intermediate_size": 1536, "moe_k": 6, "moe_layer_interval": 1, "moe_num_shared_experts": 2,
           "moe_layer_end_index": None}
    hub = model_from_config(cfg, "baidu/ERNIE-4.5-21B-A3B-PT")
    cat = resolve("ernie-4.5:21b-a3b").model
    assert hub.moe == cat.moe and hub.head_dim == cat.head_dim == 128 and hub.tied_embeddings
    assert count_params(hub) == count_params(cat)
    assert 21.0e9 < count_params(cat) < 22.0e9 and 3.0e9 < active_params(cat) < 3.5e9
    names = {t.name: t.shape for t in build_tensors(cat)}
    assert names["blk.0.ffn_up.weight"] == (2560, 12288)  # layer 0 is dense (moe_layer_start_index 1)
    assert names["blk.1.ffn_up_shexp.weight"] == (2560, 2 * 1536)  # two shared experts as one MLP


def test_hunyuan_dense_config_gives_the_catalog_entry_with_per_head_qk_norms():
    # tencent Hunyuan-7B config as copied in a stored test (code-index file id 70310250827): use_qk_norm true, no
    # tie_word_embeddings key (HunYuanDenseV1 ties by default; data/hf_architectures.yaml). llama.cpp
    # LLM_ARCH_HUNYUAN_DENSE: attn_q_norm / attn_k_norm of one head's width.
    from selfhost_advisor.catalog.hf_config import model_from_config

    cfg = {"model_type": "hunyuan_v1_dense", "architectures": ["HunYuanDenseV1ForCausalLM"], "num_hidden_layers": 32,
           "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32, "num_key_value_heads": 8,
           "vocab_size": 128167, "max_position_embeddings": 262144, "use_qk_norm": True, "use_cla": False}
    hub = model_from_config(cfg, "tencent/Hunyuan-7B-Instruct")
    cat = resolve("hunyuan:7b").model
    assert (hub.qk_norm, hub.tied_embeddings, hub.head_dim, hub.max_context) == (True, True, 128, 262144)
    assert count_params(hub) == count_params(cat)
    names = {t.name: t.shape for t in build_tensors(cat)}
    assert names["blk.0.attn_q_norm.weight"] == (128,) and "output.weight" not in names


def test_olmo3_is_olmo2_blocks_with_three_sliding_layers_of_four():
    # A Hub repo of an Olmo-3-1025-7B fine-tune declares 7,298,011,136 parameters (code-index file id 71548498080); the
    # OLMo 2 tensor set with the 7B's config gives exactly that. llama.cpp LLM_ARCH_OLMO2 load_hparams: a GGUF with a
    # sliding window gets set_swa_pattern(4) (stored src/llama-model.cpp, code-index file id 319911200), so 24 of 32
    # layers keep PAD(n_swa + n_ubatch, 256) cells and 8 the whole context (llama-kv-cache-iswa.cpp).
    from selfhost_advisor.estimate.memory import kv_cache_bytes

    m = resolve("olmo-3:7b").model
    assert count_params(m) == 7_298_011_136
    assert [m.is_sliding(i) for i in range(4)] == [True, True, True, False]
    total, _ = kv_cache_bytes(m, FitRequest(context=65536, engine="llamacpp"))
    per_token_layer = 2 * 32 * 128 * 2  # MHA: 32 KV heads x 128, K and V, f16
    assert total == per_token_layer * (8 * 65536 + 24 * (4096 + 512))
    # OLMo 2 (same architecture, no window in its config) keeps the whole context on every layer
    old = resolve("olmo2:7b").model
    assert old.sliding_window is None


def test_apertus_has_a_non_gated_mlp_and_per_head_qk_norms():
    # An Apertus 8B config copied in stored code (code-index file id 52548283625): hidden_act xielu, mlp_bias false,
    # qk_norm true, untied. llama.cpp LLM_ARCH_APERTUS loads ffn_up/ffn_down only (xIELU, no gate) and per-head q/k
    # norms; read through data/hf_architectures.yaml, the config gives the catalog entry's tensors.
    from selfhost_advisor.catalog.hf_config import model_from_config

    cfg = {"architectures": ["ApertusForCausalLM"], "hidden_act": "xielu", "hidden_size": 4096,
           "intermediate_size": 21504, "max_position_embeddings": 8192, "mlp_bias": False, "model_type": "apertus",
           "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "qk_norm": True,
           "tie_word_embeddings": False, "vocab_size": 131072}
    hub = model_from_config(cfg, "swiss-ai/Apertus-8B-2509")
    cat = resolve("apertus:8b").model
    assert count_params(hub) == count_params(cat)
    names = {t.name: t.shape for t in build_tensors(cat)}
    assert "blk.0.ffn_gate.weight" not in names and names["blk.0.ffn_up.weight"] == (4096, 21504)
    assert names["blk.0.attn_q_norm.weight"] == (128,) and "output.weight" in names
