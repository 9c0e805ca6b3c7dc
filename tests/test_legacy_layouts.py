"""The GPT-2-era and other own-layout architectures (estimate/tensors_legacy.py, arch_traits.py), checked against
llama.cpp load logs and published GGUF files (sources in each test; data/models.yaml names the configs)."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest, Model, MoE
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

MiB, GiB = 2**20, 2**30


def _shapes(model: Model) -> dict[str, tuple[int, ...]]:
    return {t.name: t.shape for t in build_tensors(model)}


def test_phi2_is_a_parallel_block_with_biases_everywhere_and_an_untied_biased_head():
    # llama.cpp src/models/phi2.cpp: attn_norm w+b, fused qkv (or q/k/v) with biases, attn_output w+b, ffn_up/ffn_down
    # w+b read from the same normed input (no ffn_norm), output_norm w+b, output w+b. A llama.cpp load log of phi-2
    # prints "model params = 2.78 B" (ggml-org/llama.cpp#4437).
    m = resolve("phi:2.7b").model
    names = _shapes(m)
    assert names["output.bias"] == (51200,) and names["output_norm.bias"] == (2560,)
    assert names["blk.31.attn_qkv.bias"] == (3 * 2560,) and names["blk.31.ffn_up.bias"] == (10240,)
    assert not any("ffn_norm" in n or "ffn_gate" in n for n in names)
    assert len(names) == 32 * 10 + 5  # 2 norm + 2 qkv + 2 out + 4 MLP tensors per block
    assert round(count_params(m) / 1e9, 2) == 2.78


def test_starcoder_tensor_count_types_and_size_match_its_llama_cpp_log():
    # osukhoroslov-hw/starcoder-Q5_K_M-GGUF load log (code-index file id 14594768867): 485 tensors; type f32: 323,
    # q5_K: 101, q6_K: 61; model params = 15.82 B; model size = 10.90 GiB. The f32 count includes position_embd (the
    # converter and llama-quantize keep it F32) and the biases. That file predates attn_qkv taking the attn_v rules:
    # all 40 attn_qkv are Q6_K there (the old ATTENTION_QKV branch), 20 under today's use_more_bits rule.
    m = resolve("starcoder:15b").model
    tensors = build_tensors(m)
    assert len(tensors) == 485 and round(count_params(m) / 1e9, 2) == 15.82
    types = Counter(assign_types(m, tensors, get_quant("Q5_K_M")))
    assert types["F32"] == 323 and types["Q5_K"] + types["Q6_K"] == 162
    assert types["Q6_K"] == 61 - 20  # output + 20 ffn_down + 20 attn_qkv (the log's file: all 40 attn_qkv)
    est = accuracy.file_weights_bytes(m, get_quant("Q5_K_M"))
    assert abs(est / (10.90 * GiB) - 1) < 0.01


def test_starcoder_multi_query_kv_cache_matches_its_log():
    # Same log: "KV self size = 40.00 MiB, K (f16): 20.00 MiB, V (f16): 20.00 MiB" at n_ctx 2048: one KV head of 128.
    total, _ = kv_cache_bytes(resolve("starcoder:15b").model, FitRequest(context=2048, engine="llamacpp"))
    assert total == 40 * MiB


def test_starcoder_vllm_loads_one_copy_of_the_tied_head():
    # The config ties lm_head to wte (vLLM GPTBigCode shares them); the GGUF keeps both (gguf_has_output).
    from selfhost_advisor.estimate.vllm_weights import get_vllm_quant, vllm_weights

    m = resolve("starcoder:15b").model
    w = vllm_weights(m, get_vllm_quant("BF16"))
    assert w.output < 6144 * 49152 * 2 and w.params == count_params(m) - 6144 * 49152


def test_nemotron_is_layernorm_with_bias_and_a_squared_relu_mlp():
    # llama.cpp src/models/nemotron.cpp: attn_norm/ffn_norm/output_norm with bias, q/k/v/o without bias, ffn_up and
    # ffn_down only (LLM_FFN_RELU_SQR), untied output.
    m = resolve("nemotron-mini:4b").model
    names = _shapes(m)
    assert names["blk.0.ffn_norm.bias"] == (3072,) and names["output_norm.bias"] == (3072,)
    assert names["blk.0.attn_q.weight"] == (3072, 24 * 128) and names["blk.0.attn_k.weight"] == (3072, 8 * 128)
    assert "blk.0.ffn_gate.weight" not in names and "blk.0.attn_q.bias" not in names and "output.weight" in names


def test_nemotron_mini_files_match_bartowskis_table():
    # bartowski/Nemotron-Mini-4B-Instruct-GGUF (b3715) card: Q8_0 4.46 GB, Q6_K 3.45, Q5_K_M 3.06, Q4_K_M 2.70, Q4_K_S 2.58.
    m = resolve("nemotron-mini:4b").model
    for quant, gb in (("Q8_0", 4.46), ("Q6_K", 3.45), ("Q5_K_M", 3.06), ("Q4_K_M", 2.70), ("Q4_K_S", 2.58)):
        assert abs(accuracy.file_bytes(m, get_quant(quant)) / (gb * 1e9) - 1) < 0.01, quant


def test_granite_moe_1b_matches_the_exact_q4_k_m_file_and_reads_about_400m_per_token():
    # bartowski/granite-3.1-1b-a400m-instruct-GGUF Q4_K_M: 821,847,360 bytes (HF API, in a stored spike report,
    # code-index file id 69268828802). "1b-a400m": about 1.3 B stored, 0.4 B read per token.
    m = resolve("granite3.1-moe:1b").model
    assert abs(accuracy.file_bytes(m, get_quant("Q4_K_M")) / 821_847_360 - 1) < 0.001
    assert 0.40e9 < active_params(m) < 0.45e9 and 1.30e9 < count_params(m) < 1.35e9
    names = _shapes(m)
    assert names["blk.0.ffn_up_exps.weight"] == (1024, 512, 32) and "output.weight" not in names
    assert not any("shexp" in n for n in names)


def test_exaone35_32b_matches_bartowskis_table():
    # bartowski/EXAONE-3.5-32B-Instruct-GGUF (b4273): F16 64.01 GB, Q8_0 34.01 GB, Q6_K 26.26 GB.
    m = resolve("exaone3.5:32b").model
    for quant, gb in (("F16", 64.01), ("Q8_0", 34.01), ("Q6_K", 26.26)):
        assert abs(accuracy.file_bytes(m, get_quant(quant)) / (gb * 1e9) - 1) < 0.002, quant


def _falcon(layers: int = 32, kv: int = 1, norm2: bool = False, hidden: int = 4544, heads: int = 71) -> Model:
    return Model(id="falcon-test", name="falcon-test", arch="falcon", n_layers=layers, hidden_size=hidden,
                 intermediate_size=4 * hidden, n_heads=heads, n_kv_heads=kv, head_dim=64, vocab_size=65024,
                 tied_embeddings=False, max_context=2048, params=0, attn_norm_2=norm2)


def test_falcon_takes_its_own_quantizer_rules():
    # llama-quant.cpp llama_tensor_get_type: the output head is Q8_0 for LLM_ARCH_FALCON whatever the file type;
    # Q4_K_M ffn_down is Q6_K in the first n/16 layers, Q5_K where use_more_bits, else Q4_K (other archs: Q6_K or Q4_K);
    # Q3_K_L ffn_down and attn_output are Q4_K. Falcon-40B widths (8192: rows whole K-quant blocks; Falcon-7B's 4544
    # rows fall back to Q5_0/Q5_1/Q8_0, a different test).
    m = _falcon(layers=60, kv=8, norm2=True, hidden=8192, heads=128)
    tensors = build_tensors(m)
    types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q4_K_M"))))
    assert types["output.weight"] == "Q8_0"
    # 60 layers: n/16 = 3; use_more_bits(i) = i < 7 or i >= 52 or (i - 7) % 3 == 2
    assert [types[f"blk.{i}.ffn_down.weight"] for i in (0, 2, 3, 6, 7, 9)] == ["Q6_K", "Q6_K", "Q5_K", "Q5_K", "Q4_K", "Q5_K"]
    q3l = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q3_K_L"))))
    assert q3l["blk.10.ffn_down.weight"] == "Q4_K" and q3l["blk.10.attn_output.weight"] == "Q4_K"
    assert q3l["output.weight"] == "Q8_0"


def test_falcon_7b_rows_fall_back_to_legacy_types():
    # n_embd 4544 is not a multiple of 256: llama-quant.cpp's fallback turns Q4_K into Q5_0, Q5_K into Q5_1 (and so on)
    # for tensors whose rows are 4544 long; ffn_down (rows of 18176 = 71 x 256) keeps K-quants.
    m = _falcon()
    tensors = build_tensors(m)
    types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant("Q4_K_M"))))
    assert types["blk.10.ffn_up.weight"] == "Q5_0" and types["blk.10.ffn_down.weight"] in ("Q4_K", "Q5_K")


def test_falcon_40b_blocks_have_a_second_input_norm():
    # src/models/falcon.cpp: attn_norm_2 (w+b) when present (Falcon-40B/180B new_decoder_architecture: ln_mlp).
    names = _shapes(_falcon(kv=8, norm2=True))
    assert names["blk.0.attn_norm_2.bias"] == (4544,) and names["blk.0.attn_qkv.weight"] == (4544, 4544 + 2 * 8 * 64)
    assert "blk.0.attn_norm_2.weight" not in _shapes(_falcon())


def test_command_r_plus_qk_norms_are_two_dimensional_per_head():
    # llama.cpp command-r load_tensors: with use_qk_norm (n_layer >= 64) attn_q_norm {n_embd_head_k, n_head} and
    # attn_k_norm {n_embd_head_k, n_head_kv}; 2-D but norms, so F32 and unquantized.
    m = Model(id="crp", name="crp", arch="command-r", n_layers=64, hidden_size=12288, intermediate_size=33792,
              n_heads=96, n_kv_heads=8, head_dim=128, vocab_size=256000, tied_embeddings=True, max_context=131072,
              params=0, qk_norm=True)
    tensors = build_tensors(m)
    names = {t.name: t.shape for t in tensors}
    assert names["blk.0.attn_q_norm.weight"] == (128, 96) and names["blk.0.attn_k_norm.weight"] == (128, 8)
    types = dict(zip(names, assign_types(m, tensors, get_quant("Q4_K_M"))))
    assert types["blk.0.attn_q_norm.weight"] == "F32"
    assert len(tensors) == 64 * 10 + 2  # Ollama's command-r-plus 08-2024 blob: 642 tensors (ollama/ollama#6595)


def test_olmoe_qk_norms_span_the_whole_projection():
    # src/models/olmoe.cpp: attn_q_norm and attn_k_norm {n_embd}; 64 experts of 1024, 8 active, no shared expert.
    m = Model(id="olmoe", name="olmoe", arch="olmoe", n_layers=16, hidden_size=2048, intermediate_size=1024, n_heads=16,
              n_kv_heads=16, head_dim=128, vocab_size=50304, tied_embeddings=False, max_context=4096, params=0,
              qk_norm=True, moe=MoE(experts=64, active=8, expert_intermediate_size=1024))
    names = _shapes(m)
    assert names["blk.0.attn_q_norm.weight"] == (2048,) and names["blk.0.attn_k_norm.weight"] == (2048,)
    assert names["blk.0.ffn_gate_exps.weight"] == (2048, 1024, 64)


def test_position_table_stays_f32_in_every_file_type():
    # convert_hf_to_gguf.py prepare_tensors keeps MODEL_TENSOR.POS_EMBD F32; llama-quantize skips
    # "position_embd.weight" by exact name ("do not quantize positional embeddings and token types (BERT)").
    m = resolve("starcoder:15b").model
    tensors = build_tensors(m)
    for quant in ("F16", "Q8_0", "Q4_K_M", "Q2_K"):
        types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant(quant))))
        assert types["position_embd.weight"] == "F32", quant


def test_gpt_bigcode_and_falcon_configs_map_onto_the_catalog_layouts():
    # GPTBigCode uses GPT-2 key names and multi_query; Falcon num_kv_heads / new_decoder_architecture (transformers
    # configuration_gpt_bigcode.py / configuration_falcon.py; data/hf_architectures.yaml).
    from selfhost_advisor.catalog.hf_config import model_from_config

    sc = model_from_config({"architectures": ["GPTBigCodeForCausalLM"], "n_embd": 6144, "n_head": 48, "n_layer": 40,
                            "n_inner": 24576, "n_positions": 8192, "vocab_size": 49152, "multi_query": True},
                           "bigcode/starcoder")
    assert (sc.arch, sc.n_kv_heads, sc.head_dim, sc.intermediate_size, sc.max_context) == ("starcoder", 1, 128, 24576, 8192)
    fa = model_from_config({"architectures": ["FalconForCausalLM"], "hidden_size": 8192, "num_attention_heads": 128,
                            "num_hidden_layers": 60, "num_kv_heads": 8, "new_decoder_architecture": True,
                            "vocab_size": 65024}, "tiiuae/falcon-40b")
    assert (fa.arch, fa.n_kv_heads, fa.intermediate_size, fa.attn_norm_2) == ("falcon", 8, 4 * 8192, True)
    assert "blk.0.attn_norm_2.weight" in _shapes(fa)


def test_ollama_phi_default_is_the_phi2_q4_0_blob():
    # A stored copy of the library listing: "phi:latest | 1.6 GB | ... A 2.7B language model by Microsoft Research"
    # (code-index file id 34281473652). Q4_0 takes every matrix to Q4_0 (output Q6_K), fused qkv or not.
    m = resolve("phi").model
    assert m.id == "phi:2.7b" and resolve("phi:latest").model.id == "phi:2.7b"
    assert abs(accuracy.file_bytes(m, get_quant("Q4_0")) / 1.6e9 - 1) < 0.01


def test_phi2_fused_qkv_matches_thebloke_q4_k_m_exactly():
    # TheBloke/phi-2-GGUF phi-2.Q4_K_M.gguf: 1,789,239,136 bytes (exact, a stored app catalog, code-index file id
    # 71506167196). Made in Dec 2023 from the phi-msft checkpoint (fused Wqkv), under the old attn_qkv rule (Q5_K in every
    # layer of Q4_K_M): +0.01% with it, +0.15% with today's attn_v rules for attn_qkv; split q/k/v would give -2.9%.
    m = resolve("phi:2.7b").model
    assert abs(accuracy.file_bytes(m, get_quant("Q4_K_M")) / 1_789_239_136 - 1) < 0.005


def test_exact_files_of_stablelm2_aya_expanse_starcoderbase_nemotron_mini():
    # Exact bytes from a stored app catalog (code-index file id 71506167196): mradermacher stablelm-2-1_6b Q4_K_M
    # 1,031,442,496; bartowski aya-expanse-8b Q4_K_M 5,056,982,720; mradermacher starcoderbase-1b Q4_K_M 793,436,000;
    # bartowski Nemotron-Mini-4B-Instruct Q4_K_M 2,697,387,072.
    for tag, real in (("stablelm2:1.6b", 1_031_442_496), ("aya-expanse:8b", 5_056_982_720),
                      ("starcoder:1b", 793_436_000), ("nemotron-mini:4b", 2_697_387_072)):
        assert abs(accuracy.file_bytes(resolve(tag).model, get_quant("Q4_K_M")) / real - 1) < 0.005, tag


def test_stablelm2_tensors_and_q8_0_size_match_its_llama_cpp_log():
    # stablelm-2-1_6b-chat Q8_0 load log (code-index file id 6950872103): 340 tensors, model params = 1.64 B,
    # model size = 1.63 GiB. LayerNorms with bias, q/k/v biases (use_qkv_bias), ffn_norm, gated MLP.
    m = resolve("stablelm2:1.6b").model
    names = _shapes(m)
    assert len(names) == 340 and round(count_params(m) / 1e9, 2) == 1.64
    assert names["blk.0.attn_k.bias"] == (2048,) and names["blk.0.ffn_norm.bias"] == (2048,)
    assert "blk.0.ffn_gate.weight" in names and "blk.0.attn_output.bias" not in names
    assert abs(accuracy.file_weights_bytes(m, get_quant("Q8_0")) / (1.63 * GiB) - 1) < 0.005


def test_falcon_7b_q4_0_matches_the_gpt4all_falcon_blob():
    # GPT4All's Falcon-7B fine-tune, gpt4all-falcon-newbpe-q4_0.gguf: "Model Size: 4015.92 MB" in a stored validation
    # report (code-index file id 57815307052), MiB by its value: the untied GGUF (output.weight Q8_0, llama-quant.cpp's
    # Falcon rule) gives it within 0.01%.
    m = resolve("falcon:7b").model
    assert abs(accuracy.file_bytes(m, get_quant("Q4_0")) / (4015.92 * MiB) - 1) < 0.001


def test_olmoe_catalog_entry_matches_allenais_gguf_and_reads_1_3b_per_token():
    # allenai/OLMoE-1B-7B-0924-Instruct-GGUF Q4_K_M: 4,213,512,672 bytes (exact; code-index file id 71506167196).
    # "1B-7B": 6.9 B stored, about 1.3 B read per token (8 of 64 experts). The config maps through OlmoeForCausalLM.
    from selfhost_advisor.catalog.hf_config import model_from_config

    m = resolve("olmoe:7b").model
    assert abs(accuracy.file_bytes(m, get_quant("Q4_K_M")) / 4_213_512_672 - 1) < 0.002
    assert 6.9e9 < count_params(m) < 6.95e9 and 1.25e9 < active_params(m) < 1.32e9
    hub = model_from_config({"architectures": ["OlmoeForCausalLM"], "hidden_size": 2048, "intermediate_size": 1024,
                             "num_hidden_layers": 16, "num_experts": 64, "num_experts_per_tok": 8,
                             "num_attention_heads": 16, "num_key_value_heads": 16, "vocab_size": 50304,
                             "tie_word_embeddings": False}, "allenai/OLMoE-1B-7B-0924")
    assert count_params(hub) == count_params(m)


def test_granite_code_8b_is_the_llama_layout_and_matches_sanctums_table():
    # Granite Code 3B/8B are LlamaForCausalLM (llama.cpp llama); SanctumAI/granite-8b-code-instruct-GGUF's card
    # (code-index file id 13576556707): F16 16.12 GB, Q8_0 8.57, Q4_K_M 4.88, Q2_K 3.06. The calibration log of the 128k
    # variant states 8.05 B parameters.
    m = resolve("granite-code:8b").model
    assert m.arch == "llama" and round(count_params(m) / 1e9, 2) == 8.05
    for quant, gb in (("F16", 16.12), ("Q8_0", 8.57), ("Q4_K_M", 4.88), ("Q2_K", 3.06)):
        assert abs(accuracy.file_bytes(m, get_quant(quant)) / (gb * 1e9) - 1) < 0.005, quant
