"""llama.cpp's qwen (v1), internlm2 and dbrx architectures (estimate/arch_traits.py FUSED_QKV_ONLY_ARCHS, FFN_NORM_NAME):
tensor sets from llama.cpp's load_tensors, parameter counts against published ones, GGUF files against published sizes
(benchmarks/heldout/gguf_sizes.csv holds every compared file), and the Ollama tags of the qwen, internlm2, dbrx and
bespoke-minicheck families."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest, Model
from selfhost_advisor.estimate.gguf_file import tokenizer_kind
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params
from selfhost_advisor.record import replace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

GiB = 2**30


def _shapes(model: Model) -> dict[str, tuple[int, ...]]:
    return {t.name: t.shape for t in build_tensors(model)}


def _file_error(model: Model, quant, real_bytes: float) -> float:
    return accuracy.file_bytes(model, quant) / real_bytes - 1


# --- Qwen v1 (LLM_ARCH_QWEN) ---

def test_qwen_v1_block_is_one_biased_qkv_and_a_halved_gated_mlp():
    # llama.cpp llama-model.cpp LLM_ARCH_QWEN: attn_qkv {n_embd, n_embd*3} + bias {n_embd*3}, attn_output {n_embd, n_embd},
    # ffn_gate/ffn_up {n_embd, n_ff/2}, ffn_down {n_ff/2, n_embd}; output untied. Qwen-7B's config intermediate_size is
    # 22016, so the matrices are 11008 wide.
    m = resolve("Qwen/Qwen-7B-Chat").model
    assert m.arch == "qwen" and m.intermediate_size == 22016 // 2
    names = _shapes(m)
    assert names["blk.0.attn_qkv.weight"] == (4096, 3 * 4096) and names["blk.0.attn_qkv.bias"] == (3 * 4096,)
    assert names["blk.0.ffn_gate.weight"] == (4096, 11008) and names["blk.0.ffn_down.weight"] == (11008, 4096)
    assert not any(".attn_q." in n or ".attn_k." in n or "attn_output.bias" in n for n in names)
    assert len(names) == 32 * 8 + 3 and "output.weight" in names


def test_qwen_v1_7b_parameter_count_and_q4_0_file():
    # izumi04/Qwen-7b-Chat-GGUF (and RichardErkhov/Qwen_-_Qwen-7B-Chat-gguf): the Hub reads "7.72B params, architecture
    # qwen" from the GGUF; its qwen-7b-chat-q4_0.gguf is 4.51 GB (HF tree listing).
    m = resolve("qwen-v1:7b").model
    assert round(count_params(m) / 1e9, 2) == 7.72
    assert abs(_file_error(m, get_quant("Q4_0"), 4.51e9)) < 0.005  # measured +0.04%


def test_qwen_v1_fused_qkv_takes_the_attn_v_rules():
    # llama-quant.cpp category_is_attn_v: ATTENTION_QKV counts as attn_v (n_attention_wv, use_more_bits): at Q4_K_M the
    # first n/8, last n/8 and every third qkv between are Q6_K, the rest Q4_K; 32 layers -> 4 + 4 + 8 = 16 of 32.
    m = resolve("qwen-v1:7b").model
    tensors = build_tensors(m)
    types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q4_K_M"))))
    qkv = Counter(types[f"blk.{i}.attn_qkv.weight"] for i in range(32))
    assert qkv == Counter({"Q6_K": 16, "Q4_K": 16}) and types["blk.0.attn_qkv.bias"] == "F32"


# --- Qwen1.5: Ollama's `qwen` family (qwen2 layout) ---

def test_ollama_qwen_family_is_qwen15_with_4b_as_latest():
    # The library's qwen page describes Qwen 1.5; qwen:latest is 2.3 GB, the size of :4b (Alpaca model list, 2026-04-03).
    for name in ("qwen", "qwen:latest", "qwen:4b", "qwen:4b-chat"):
        m = resolve(name).model
        assert m.id == "qwen:4b" and m.arch == "qwen2" and m.hf_id == "Qwen/Qwen1.5-4B-Chat"
    assert {resolve(f"qwen:{s}").model.arch for s in ("0.5b", "1.8b", "7b", "14b", "32b", "72b", "110b")} == {"qwen2"}


def test_qwen15_official_q4_k_m_files_match_to_the_byte_scale():
    # Qwen's own Qwen1.5-*-Chat-GGUF files, exact bytes with sha256 in a stored app catalogue (code-index file id
    # 59699160537). The 0.5B and 1.8B files only fit an untied output head (tied they would be 21% / 14% short).
    for tag, quant, real in [("qwen:0.5b", "Q4_K_M", 407_155_552), ("qwen:1.8b", "Q4_K_M", 1_217_752_928),
                             ("qwen:4b", "Q4_K_M", 2_455_115_872), ("qwen:7b", "Q4_K_M", 4_767_104_224),
                             ("qwen:14b", "Q4_K_M", 9_191_034_336), ("qwen:72b", "Q3_K_M", 35_927_611_744),
                             ("qwen:110b", "Q2_K", 41_175_701_952)]:
        m = resolve(tag).model
        assert abs(_file_error(m, get_quant(quant), real)) < 0.001, tag  # measured within 0.003%
    tied = replace(resolve("qwen:1.8b").model, tied_embeddings=True)
    assert _file_error(tied, get_quant("Q4_K_M"), 1_217_752_928) < -0.10


def test_qwen15_14b_ffn_down_rows_fall_back_to_legacy_types():
    # intermediate 13696 = 53.5 x 256: llama-quant.cpp tensor_type_fallback turns ffn_down's Q4_K into Q5_0 and Q6_K into
    # Q8_0 (rows of 13696); gate/up rows are 5120 long and keep K-quants.
    m = resolve("qwen:14b").model
    tensors = build_tensors(m)
    types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q4_K_M"))))
    assert {types[f"blk.{i}.ffn_down.weight"] for i in range(40)} == {"Q5_0", "Q8_0"}
    assert types["blk.0.ffn_up.weight"] == "Q4_K"


def test_qwen15_110b_is_the_only_gqa_size_and_its_kv_cache_shows_it():
    # Qwen1.5-110B config: 8 KV heads of 128 over 80 layers -> 2 x 80 x 8 x 128 x 2 bytes = 320 KiB a token (f16);
    # Qwen1.5-72B: 64 KV heads -> 2.5 MiB a token.
    req = FitRequest(context=32768, engine="llamacpp")
    kv110, _ = kv_cache_bytes(resolve("qwen:110b").model, req)
    kv72, _ = kv_cache_bytes(resolve("qwen:72b").model, req)
    assert kv110 == 32768 * 2 * 80 * 8 * 128 * 2 and kv72 == 8 * kv110


# --- InternLM2 / 2.5 (LLM_ARCH_INTERNLM2) ---

def test_internlm2_gguf_is_the_llama_tensor_set_with_a_sentencepiece_vocab():
    # convert_hf_to_gguf.py InternLM2Model.modify_tensors splits the fused wqkv into attn_q/k/v; src/models/internlm2.cpp
    # loads attn_norm, q/k/v, attn_output, ffn_norm, gate/up/down, untied output; no biases. set_vocab writes
    # tokens + scores + token types (SentencePiece), no merges.
    m = resolve("internlm2").model
    assert m.id == "internlm2:7b" and m.arch == "internlm2"
    names = _shapes(m)
    assert names["blk.0.attn_k.weight"] == (4096, 8 * 128) and "blk.0.attn_qkv.weight" not in names
    assert not any(n.endswith(".bias") for n in names) and len(names) == 32 * 9 + 3
    assert tokenizer_kind(m) == "spm"


def test_internlm25_7b_parameter_count_matches_a_loaded_weights_report():
    # A stored parameter report of the 7B loaded in transformers (code-index file id 60519112762): total_parameters
    # 7,737,708,544, embedding 758,120,448 (92544 x 4096 x 2), hidden 4096, 32 layers, vocab 92544.
    m = resolve("internlm2:7b").model
    assert count_params(m) == 7_737_708_544


def test_internlm25_files_match_published_sizes():
    # bartowski internlm2_5-7b-chat Q4_K_M 4494 MiB (app catalogue, code-index file id 70129493958); bartowski's
    # internlm2_5-20b-chat files, Git LFS sizes on their Hub pages (3 significant figures).
    assert abs(_file_error(resolve("internlm2:7b").model, get_quant("Q4_K_M"), 4494 * 2**20)) < 0.002
    m20 = resolve("internlm2:20b").model
    for quant, gb in (("Q8_0", 21.1), ("Q5_K_M", 14.1), ("Q4_K_S", 11.4), ("Q3_K_M", 9.72), ("Q3_K_S", 8.76)):
        assert abs(_file_error(m20, get_quant(quant), gb * 1e9)) < 0.005, quant  # measured within 0.2%


def test_internlm25_1m_l_files_are_explained_by_f16_embeddings():
    # bartowski's internlm2_5-7b-chat-1m _L files (July 2024) are 11-17% above today's _L recipe (Q8_0 token_embd and
    # output); with both at F16, as bartowski's mid-2024 _L files had them, they match: the heldout CSV's legacy note.
    m = resolve("internlm2:1m").model
    for quant, gb in (("Q5_K_L", 6.45), ("Q4_K_L", 5.7), ("Q2_K_L", 4.09)):
        f16 = replace(get_quant(quant), embeddings_type="F16", output_type="F16")
        assert abs(_file_error(m, f16, gb * 1e9)) < 0.002, quant
        assert _file_error(m, get_quant(quant), gb * 1e9) < -0.10


def test_bespoke_minicheck_is_internlm25_7b_with_six_more_vocab_rows():
    # bespokelabs/Bespoke-MiniCheck-7B config.json: InternLM2ForCausalLM, internlm2_5-7b-chat shapes, vocab_size 92550;
    # Ollama lists one size (7b, 4.7 GB): only Q4_K_M matches it (data/ollama_default_quants.yaml).
    m = resolve("bespoke-minicheck").model
    base = resolve("internlm2:7b").model
    assert m.arch == "internlm2" and m.vocab_size == 92550
    assert count_params(m) - count_params(base) == 2 * 6 * 4096
    assert resolve("bespoke-minicheck:latest").model.id == "bespoke-minicheck:7b"


# --- DBRX (LLM_ARCH_DBRX) ---

def test_dbrx_tensor_set_matches_llama_cpp_load_tensors_and_its_log():
    # src/models/dbrx.cpp: attn_norm, attn_qkv {n_embd, n_embd + 2 n_embd_gqa}, attn_output, attn_output_norm,
    # ffn_gate_inp, ffn_gate/down/up_exps; token_embd, output_norm, output: 40 x 8 + 3 = 323 tensors, the count of
    # llama.cpp's DBRX conversion log (ggml-org/llama.cpp#6515: "323 tensors"). LayerNorms without bias.
    m = resolve("dbrx").model
    names = _shapes(m)
    assert len(names) == 323
    assert names["blk.0.attn_qkv.weight"] == (6144, 6144 + 2 * 8 * 128)
    assert names["blk.39.attn_output_norm.weight"] == (6144,) and "blk.0.ffn_norm.weight" not in names
    assert names["blk.0.ffn_gate_exps.weight"] == (6144, 10752, 16) and names["blk.0.ffn_down_exps.weight"] == (10752, 6144, 16)
    assert not any(n.endswith(".bias") for n in names)


def test_dbrx_parameters_match_the_card():
    # databricks/dbrx card: "132B total parameters of which 36B parameters are active on any input" (4 of 16 experts).
    m = resolve("dbrx:132b").model
    assert round(count_params(m) / 1e9) == 132 and round(active_params(m) / 1e9) == 36


def test_dbrx_static_files_match_mradermachers_table():
    # mradermacher/dbrx-instruct-GGUF card table (GB, 1 decimal), static quants: all within 1% (Q2_K +0.88%, the rest
    # within 0.2%).
    m = resolve("dbrx").model
    for quant, gb in (("Q8_0", 139.9), ("Q6_K", 108.1), ("Q5_K_M", 93.7), ("Q4_K_M", 80.0), ("Q4_K_S", 75.0),
                      ("Q3_K_M", 63.2), ("Q2_K", 48.0)):
        assert abs(_file_error(m, get_quant(quant), gb * 1e9)) < 0.01, quant


def test_dbrx_sixteen_experts_do_not_take_the_eight_expert_rules():
    # llama-quant.cpp bumps attn_v/attn_k to Q8_0 only when n_expert == 8 (Mixtral); DBRX has 16, so its attn_qkv
    # follows the plain attn_v rules (Q4_K_M: use_more_bits layers at Q6_K).
    m = resolve("dbrx").model
    tensors = build_tensors(m)
    types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q4_K_M"))))
    assert {types[f"blk.{i}.attn_qkv.weight"] for i in range(40)} == {"Q6_K", "Q4_K"}
    assert types["blk.0.ffn_gate_inp.weight"] == "F32" and types["blk.0.attn_output_norm.weight"] == "F32"


def test_dbrx_kv_cache_is_standard_per_layer():
    # 40 layers x 8 KV heads x 128 x (K + V) x f16 at 32768 tokens = 5 GiB.
    total, _ = kv_cache_bytes(resolve("dbrx").model, FitRequest(context=32768, engine="llamacpp"))
    assert total == 40 * 8 * 128 * 2 * 2 * 32768 == 5 * GiB


# --- Hub config.json path (catalog/hf_config.py, data/hf_architectures.yaml) ---

def test_hub_configs_of_the_three_archs_give_the_catalog_layouts():
    # The configs as published: DBRX's nested attn_config / ffn_config (databricks/dbrx-instruct, copied in code-index
    # file id 61021081746), QWen's doubled intermediate_size and seq_length (Qwen-1_8B-Chat, mlc-llm model_preset "qwen"),
    # InternLM2's standard keys with `bias` (internlm2_5-7b-chat, mlc-llm "internlm2_5_7b"). Each must build the same
    # tensor list as its catalog entry.
    from selfhost_advisor.catalog.hf_config import model_from_config

    dbrx = {"architectures": ["DbrxForCausalLM"], "d_model": 6144, "n_heads": 48, "n_layers": 40, "vocab_size": 100352,
            "max_seq_len": 32768, "tie_word_embeddings": False,
            "attn_config": {"clip_qkv": 8, "kv_n_heads": 8, "rope_theta": 500000},
            "ffn_config": {"ffn_hidden_size": 10752, "moe_num_experts": 16, "moe_top_k": 4}}
    qwen = {"architectures": ["QWenLMHeadModel"], "hidden_size": 2048, "intermediate_size": 11008, "kv_channels": 128,
            "max_position_embeddings": 8192, "num_attention_heads": 16, "num_hidden_layers": 24, "seq_length": 8192,
            "tie_word_embeddings": False, "vocab_size": 151936, "no_bias": True}
    internlm = {"architectures": ["InternLM2ForCausalLM"], "bias": False, "hidden_size": 4096, "intermediate_size": 14336,
                "max_position_embeddings": 32768, "num_attention_heads": 32, "num_hidden_layers": 32,
                "num_key_value_heads": 8, "tie_word_embeddings": False, "vocab_size": 92544}
    for config, repo, entry in ((dbrx, "databricks/dbrx-instruct", "dbrx:132b"),
                                (qwen, "Qwen/Qwen-1_8B-Chat", "qwen-v1:1.8b"),
                                (internlm, "internlm/internlm2_5-7b-chat", "internlm2:7b")):
        hub = model_from_config(config, repo)
        catalog = resolve(entry).model
        assert _shapes(hub) == _shapes(catalog), entry
        assert hub.max_context == catalog.max_context and hub.moe == catalog.moe, entry


def test_qwen15_small_checkpoints_tie_the_head_for_vllm_but_their_ggufs_hold_it():
    # Qwen1.5-0.5B-Chat's config ties the head; its checkpoint stores lm_head, which the GGUF keeps (the exact file above).
    # vLLM follows the config and loads one matrix (estimate/vllm_weights.py), llama.cpp loads both.
    from selfhost_advisor.estimate.vllm_weights import get_vllm_quant, vllm_weights

    m = resolve("qwen:0.5b").model
    assert m.gguf_has_output and not m.tied_embeddings
    assert vllm_weights(m, get_vllm_quant("BF16")).params == count_params(m) - 1024 * 151936


def test_ollama_qwen_v15_quant_tags_resolve_to_their_size_and_quant():
    # Tags as people pull them: qwen:0.5b-chat-v1.5-q4_0, qwen:4b-chat-v1.5-q4_0, qwen:7b-chat-v1.5-q2_K (a docker setup
    # script, code-index file id 38783613960), qwen:7b-chat-v1.5-q8_0 / -fp16 (a benchmark table, file id 30931323797),
    # qwen:7b-chat-v1.5-q4_K_M (file id 4629934844).
    for tag, entry, quant in (("qwen:0.5b-chat-v1.5-q4_0", "qwen:0.5b", "Q4_0"), ("qwen:4b-chat-v1.5-q4_0", "qwen:4b", "Q4_0"),
                              ("qwen:7b-chat-v1.5-q2_K", "qwen:7b", "Q2_K"), ("qwen:7b-chat-v1.5-fp16", "qwen:7b", "F16"),
                              ("qwen:7b-chat-v1.5-q4_K_M", "qwen:7b", "Q4_K_M")):
        r = resolve(tag)
        assert (r.model.id, r.quant) == (entry, quant), tag
