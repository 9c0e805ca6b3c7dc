"""Embedding families of Ollama's most-pulled list (issue 17): tensors, parameter counts and file sizes held to
published figures. The files compared are rows of benchmarks/heldout/gguf_sizes.csv (one source URL each)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate.quantize import assign_types
from selfhost_advisor.estimate.tensors import build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402


def _file_error(model_id: str, quant: str, real_bytes: int) -> float:
    return accuracy.file_bytes(resolve(model_id).model, get_quant(quant)) / real_bytes - 1


def test_xlm_roberta_large_counts_the_published_classifier_checkpoint():
    # A stored plan pins an XLMRobertaForSequenceClassification fine-tune of bge-m3 at 567,755,777 parameters
    # (code-index file id 60378559056): the encoder with its 8194-row position table, no pooler, plus the
    # classification head (dense 1024 x 1024 + bias, out_proj 1024 x 1 + bias). llama.cpp's converter drops the first
    # pad_token_id + 1 = 2 position rows (convert_hf_to_gguf.py XLMRobertaModel.modify_tensors).
    m = resolve("bge-m3").model
    head = 1024 * 1024 + 1024 + 1024 + 1
    assert count_params(m) + 2 * 1024 + head == 567_755_777
    shapes = {t.name: t.shape for t in build_tensors(m)}
    assert shapes["token_types.weight"] == (1024, 1)  # type_vocab_size 1
    assert shapes["position_embd.weight"] == (1024, 8192)
    assert shapes["token_embd.weight"] == (1024, 250002)


def test_position_table_and_token_types_stay_f32_in_quantized_files():
    # convert_hf_to_gguf.py writes POS_EMBD and TOKEN_TYPES F32 ("always in float32"); llama-quant.cpp leaves them
    # unquantized ("do not quantize positional embeddings and token types (BERT)").
    m = resolve("bge-m3").model
    tensors = list(build_tensors(m))
    for quant in ("Q4_K_M", "Q8_0", "F16"):
        types = dict(zip((t.name for t in tensors), assign_types(m, tensors, get_quant(quant))))
        assert types["position_embd.weight"] == types["token_types.weight"] == "F32", quant
        assert types["blk.0.attn_q.weight"] != "F32"


@pytest.mark.parametrize(("model_id", "quant", "real_bytes", "tolerance"), [
    # gpustack/bge-m3-GGUF bge-m3-Q8_0.gguf: exact bytes pinned by two stored download scripts
    ("bge-m3", "Q8_0", 634_553_760, 0.01),
    # lm-kit/bge-m3-gguf bge-m3-Q4_K_M.gguf: 438 MB to 3 significant figures in a stored app catalog (+-0.11%)
    ("bge-m3", "Q4_K_M", 438_000_000, 0.0111),
    # Casual-Autopsy/snowflake-arctic-embed-l-v2.0-gguf q8_0: exact bytes in a stored app test
    ("snowflake-arctic-embed2", "Q8_0", 634_554_752, 0.01),
    # Ollama's default snowflake-arctic-embed (335m, F16): 670MB (morphllm's Ollama embedding table)
    ("snowflake-arctic-embed", "F16", 670_000_000, 0.0108),
    # ggml-org/embeddinggemma-300M-GGUF Q8_0: exact bytes (stored app test with sha256 and revision)
    ("embeddinggemma", "Q8_0", 333_590_944, 0.01),
    # Qwen/Qwen3-Embedding-0.6B-GGUF Q8_0 and Q4_K_M: 639 MB and 397 MB in a stored app catalog (+-0.08%, +-0.13%)
    ("qwen3-embedding:0.6b", "Q8_0", 639_000_000, 0.011),
    ("qwen3-embedding:0.6b", "Q4_K_M", 397_000_000, 0.0113),
    # Ollama library table (a stored copy): bge-large 671MB, paraphrase-multilingual and granite-embedding:278m 563MB,
    # snowflake-arctic-embed:110m 219MB and :137m 274MB, all F16; qwen3-embedding:8b Q4_K_M 4.7 GB (+-1.1%)
    ("bge-large", "F16", 671_000_000, 0.011),
    ("paraphrase-multilingual", "F16", 563_000_000, 0.011),
    ("granite-embedding:278m", "F16", 563_000_000, 0.011),
    ("snowflake-arctic-embed:110m", "F16", 219_000_000, 0.0123),
    ("snowflake-arctic-embed:137m", "F16", 274_000_000, 0.0119),
    ("qwen3-embedding", "Q4_K_M", 4_700_000_000, 0.0207),
])
def test_file_size_within_1pct_of_the_published_file(model_id, quant, real_bytes, tolerance):
    # tolerance: 1% plus half the last published digit where the size is rounded (639 MB is 638.5..639.5 MB)
    assert abs(_file_error(model_id, quant, real_bytes)) < tolerance


def test_every_heldout_row_of_the_new_families_is_within_1pct():
    families = ("bge-m3", "snowflake-arctic-embed", "embeddinggemma", "qwen3-embedding", "bge-large",
                "paraphrase-multilingual", "granite-embedding")
    rows = [r for r in accuracy.heldout_rows() if r["catalog"].startswith(families)]
    assert len(rows) >= 13
    for r in rows:
        assert abs(r["error_pct"]) < 1.0, r


@pytest.mark.parametrize(("name", "model_id", "stated_m"), [
    ("snowflake-arctic-embed:22m", "snowflake-arctic-embed:22m", 22),
    ("snowflake-arctic-embed:33m", "snowflake-arctic-embed:33m", 33),
    ("snowflake-arctic-embed:110m", "snowflake-arctic-embed:110m", 110),
    ("snowflake-arctic-embed:137m", "snowflake-arctic-embed:137m", 137),
    ("snowflake-arctic-embed", "snowflake-arctic-embed:335m", 335),
    ("snowflake-arctic-embed:latest", "snowflake-arctic-embed:335m", 335),
    ("snowflake-arctic-embed2", "snowflake-arctic-embed2:568m", 568),
    ("bge-m3:latest", "bge-m3:567m", 568),
])
def test_ollama_tags_resolve_to_the_stated_size(name, model_id, stated_m):
    # Snowflake's card: xs 22M, s 33M, m 110M, m-long 137M, l 335M; arctic-embed-l-v2.0 and bge-m3 568M, whole
    # millions. The BERT and XLM-R checkpoints carry a pooler (hidden x hidden + bias) that llama.cpp's converter drops.
    m = resolve(name).model
    assert m.id == model_id and "embedding" in m.use_cases
    pooler = 0 if m.arch == "nomic-bert" else m.hidden_size ** 2 + m.hidden_size
    assert abs((count_params(m) + pooler) / 1e6 - stated_m) < 1.0


def test_llama_server_command_has_embedding_and_says_what_bounds_an_input():
    # llama.cpp common/arg.cpp {"--embedding", "--embeddings"}: "restrict to only support embedding use case"
    from selfhost_advisor import api

    r = api.fit("bge-m3", "rtx-4090", quant="Q8_0")
    cmd = r.options[0].command.split()
    assert "--embedding" in cmd and cmd[cmd.index("-c") + 1] == "8192"
    # a non-causal encoder embeds one input per physical batch (-ub 512): the warning says how to raise it
    assert any("-ub 8192" in w and "refused" in w for w in r.warnings)
    chat = api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M")
    assert "--embedding" not in chat.options[0].command.split()


def test_vllm_command_uses_the_pooling_runner_and_no_decode_for_an_encoder():
    # vLLM --runner pooling (replaced --task embed; vLLM's own pooling tests start servers with it)
    from selfhost_advisor import api

    r = api.fit("bge-m3", "rtx-4090", engine="vllm", quant="BF16")
    o = r.options[0]
    assert o.placement.fit == "gpu" and o.command.endswith("--runner pooling")
    assert o.memory.kv_cache_bytes == 0 and o.speed.decode_tokens_per_s is None and o.speed.prefill_tokens_per_s > 0
    chat = api.fit("llama3.1:8b", "rtx-4090", engine="vllm", quant="FP8")
    assert "--runner" not in chat.options[0].command
    decoder = api.fit("qwen3-embedding:0.6b", "rtx-4090", engine="vllm", quant="BF16").options[0].command
    assert decoder.endswith("--runner pooling --convert embed")  # Qwen3ForCausalLM converted to an embedder


def test_xlm_roberta_base_is_the_published_xlm_roberta_base_count():
    # xlm-roberta-base: 278,043,648 parameters (a stored count, code-index file id 16398057144) = the GGUF's tensors +
    # the 2 position rows the converter cuts + the pooler (768 x 768 + 768) it drops
    for name in ("paraphrase-multilingual", "granite-embedding:278m"):
        m = resolve(name).model
        assert m.arch == "xlm-roberta" and count_params(m) + 2 * 768 + 768 * 768 + 768 == 278_043_648


@pytest.mark.parametrize(("model_id", "mb"), [("snowflake-arctic-embed:22m", 46), ("snowflake-arctic-embed:33m", 67),
                                             ("all-minilm:33m", 67), ("granite-embedding", 63)])
def test_small_f16_files_within_1pct_of_the_rounded_size(model_id, mb):
    # Ollama library table: 46MB and 67MB, whole MB, so the file is in [mb - 0.5, mb + 0.5) MB
    est = accuracy.file_bytes(resolve(model_id).model, get_quant("F16"))
    assert (mb - 0.5) * 1e6 * 0.99 < est < (mb + 0.5) * 1e6 * 1.01


def test_embeddinggemma_is_gemma3_blocks_plus_two_dense_projections_and_no_kv_cache():
    from selfhost_advisor import api

    m = resolve("embeddinggemma").model
    # SentenceTransformer prints 307,581,696 parameters for google/embeddinggemma-300m (stored outputs), the Dense
    # projections 768 -> 3072 -> 768 included
    assert count_params(m) == 307_581_696
    shapes = {t.name: t.shape for t in build_tensors(m)}
    assert shapes["dense_2.weight"] == (768, 3072) and shapes["dense_3.weight"] == (3072, 768)
    assert {"blk.0.attn_q_norm.weight", "blk.0.post_ffw_norm.weight", "output_norm.weight"} <= set(shapes)
    assert "output.weight" not in shapes
    r = api.fit("embeddinggemma", "rtx-4090", quant="Q8_0")
    o = r.options[0]
    assert o.memory.kv_cache_bytes == 0 and o.speed.decode_tokens_per_s is None  # llama.cpp: no memory module
    assert r.request.context == 2048 and "--embedding" in o.command.split()


def test_qwen3_embedding_is_a_causal_qwen3_with_a_kv_cache_but_no_head_and_no_decode():
    from selfhost_advisor import api

    m = resolve("qwen3-embedding").model
    assert m.id == "qwen3-embedding:8b" and m.arch == "qwen3"
    assert "output.weight" not in {t.name for t in build_tensors(m)}  # the checkpoint has no lm_head
    r = api.fit("qwen3-embedding:0.6b", "rtx-4090", quant="Q8_0", context=8192)
    o = r.options[0]
    # llama.cpp keeps a KV cache for a causal model: 28 layers x 2 x 8192 x 8 KV heads x 128 x 2 bytes = 896 MiB
    assert o.memory.kv_cache_bytes == 28 * 2 * 8192 * 8 * 128 * 2
    assert o.speed.decode_tokens_per_s is None and o.speed.prefill_tokens_per_s > 0  # it only ever prefills
    assert "--embedding" in o.command.split()
    assert not any("-ub" in w for w in r.warnings)  # a causal model with last-token pooling splits long inputs


def test_hub_configs_size_as_the_catalog_entries():
    # `fit hf:...` reads config.json: EmbeddingGemma's (as inlined in stored code, code-index file id 66106802056) and
    # bge-m3's (code-index file id 8145895975) give the catalog's kinds, counts and maxima
    from selfhost_advisor.catalog.hf_config import model_from_config

    gemma = {"architectures": ["Gemma3TextModel"], "model_type": "gemma3_text", "_sliding_window_pattern": 6,
             "head_dim": 256, "hidden_size": 768, "intermediate_size": 1152, "max_position_embeddings": 2048,
             "num_attention_heads": 3, "num_hidden_layers": 24, "num_key_value_heads": 1, "query_pre_attn_scalar": 256,
             "sliding_window": 512, "use_bidirectional_attention": True, "vocab_size": 262144}
    m = model_from_config(gemma, "google/embeddinggemma-300m")
    assert (m.arch, m.max_context, count_params(m)) == ("gemma-embedding", 2048, 307_581_696)
    xlmr = {"architectures": ["XLMRobertaModel"], "hidden_size": 1024, "intermediate_size": 4096,
            "max_position_embeddings": 8194, "model_type": "xlm-roberta", "num_attention_heads": 16,
            "num_hidden_layers": 24, "pad_token_id": 1, "type_vocab_size": 1, "vocab_size": 250002}
    m = model_from_config(xlmr, "BAAI/bge-m3")
    assert (m.arch, m.max_context, count_params(m)) == ("xlm-roberta", 8192, resolve("bge-m3").model.params)


def test_granite_embedding_30m_is_a_roberta_with_a_bpe_vocabulary():
    # config.json: RobertaModel, 6 x 384, vocab 50265, 514 positions, type_vocab_size 2; Ollama's blob: bert, gpt2 tokenizer
    from selfhost_advisor.estimate.gguf_file import tokenizer_kind

    m = resolve("granite-embedding:latest").model
    assert m.id == "granite-embedding:30m" and m.arch == "roberta" and tokenizer_kind(m) == "bpe"
    shapes = {t.name: t.shape for t in build_tensors(m)}
    assert shapes["position_embd.weight"] == (384, 512) and shapes["token_types.weight"] == (384, 2)
    assert abs(count_params(m) / 30e6 - 1) < 0.01  # IBM: 30M


@pytest.mark.parametrize(("tag", "model_id", "quant"), [
    ("bge-m3:567m-fp16", "bge-m3:567m", "F16"), ("qwen3-embedding:8b-q8_0", "qwen3-embedding:8b", "Q8_0"),
    ("embeddinggemma:300m-qat-q4_0", "embeddinggemma:300m", "Q4_0"),  # Ollama's QAT tags (stored configs)
    ("granite-embedding:30m-en-fp16", "granite-embedding:30m", "F16"),  # the tag of Ollama's 63MB blob page
    ("granite-embedding:278m-fp16", "granite-embedding:278m", "F16"),
])
def test_ollama_quant_tags_resolve_with_their_quantization(tag, model_id, quant):
    r = resolve(tag)
    assert (r.model.id, r.quant) == (model_id, quant)


def test_bge_m3_against_a_llama_server_load_log():
    # A 2026 llama-server (run by Ollama) loading bge-m3:latest F16 (a stored server log, code-index file id 59785994622):
    # "389 tensors", "type f32: 244 tensors", "type f16: 145 tensors", "CPU model buffer size = 1097.52 MiB",
    # n_ctx 4096, n_ubatch 2048, flash attention enabled, "CPU compute buffer size = 64.02 MiB", no KV cache line
    from collections import Counter

    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.memory import compute_buffer_bytes, estimate_memory

    m = resolve("bge-m3").model
    tensors = list(build_tensors(m))
    assert len(tensors) == 389
    assert Counter(assign_types(m, tensors, get_quant("F16"))) == {"F32": 244, "F16": 145}
    req = FitRequest(context=4096, n_ubatch=2048, flash_attention=True)
    mem = estimate_memory(m, get_quant("F16"), req)
    assert abs(mem.weights_bytes / (1097.52 * 2**20) - 1) < 0.0005 and mem.kv_cache_bytes == 0
    assert abs(compute_buffer_bytes(m, req) / (64.02 * 2**20) - 1) < 0.005


def test_an_embedding_model_shows_no_chat_perplexity_loss_in_text_or_json(tmp_path):
    """data/quality.yaml measures a causal LM's perplexity (Llama 3 8B): it says nothing about retrieval quality."""
    from selfhost_advisor import api
    from selfhost_advisor.render.jsonout import fit_dict
    from cliproc import isolated_env, run_inprocess

    emb = fit_dict(api.fit("bge-m3", "rtx-4090", quant="Q8_0"))
    assert [o["quality"] for o in emb["options"]] == [None]
    chat = fit_dict(api.fit("llama3.1:8b", "rtx-4090", quant="Q8_0"))
    assert chat["options"][0]["quality"]["ppl_delta_pct"] is not None
    env = {**isolated_env(tmp_path, tmp_path / "no-ollama"), "COLUMNS": "200"}
    out = run_inprocess([(["fit", "bge-m3", "--hardware", "rtx-4090", "--quant", "Q8_0"], env)], tmp_path)[0].stdout
    assert "not shown for an embedding model" in out and "perplexity increase vs 16-bit" not in out


def test_an_embedding_models_recommendation_claims_no_measured_quality(tmp_path):
    """fit shows no loss for an embedding model, so its Recommended reason (text and JSON) must not call the pick the
    best measured quality; a chat model keeps that reason."""
    from selfhost_advisor import api
    from selfhost_advisor.render.jsonout import fit_dict
    from cliproc import isolated_env, run_inprocess

    for name in ("bge-m3", "qwen3-embedding:0.6b"):  # an encoder and a decoder pooled into embeddings
        reason = fit_dict(api.fit(name, "rtx-4090", quant="F16,Q8_0,Q4_K_M"))["recommended_reason"]
        assert "measured quality" not in reason and "no quality is measured for embedding models" in reason, reason
    chat = fit_dict(api.fit("llama3.1:8b", "rtx-4090", quant="Q8_0"))["recommended_reason"]
    assert "best measured quality" in chat
    env = {**isolated_env(tmp_path, tmp_path / "no-ollama"), "COLUMNS": "200"}
    out = run_inprocess([(["fit", "bge-large", "--hardware", "rtx-4090"], env)], tmp_path)[0].stdout
    line = " ".join(next(l for l in out.splitlines() if l.startswith("Recommended:")).split())
    assert line.startswith("Recommended: F16 ") and "measured quality" not in line and "embedding models" in line
