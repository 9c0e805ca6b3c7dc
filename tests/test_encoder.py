"""Encoder-only embedding models (llama.cpp LLM_ARCH_BERT, LLM_ARCH_NOMIC_BERT): tensors, no KV cache, no decode."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import schemakit

from cliproc import isolated_env, run_inprocess
from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate.tensors import build_tensors, count_params
from selfhost_advisor.record import replace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "docs/schema/fit.schema.json").read_text())


def _bert(hidden: int, layers: int, heads: int, ff: int):
    base = resolve("nomic-embed-text").model
    return replace(base, id="bert-test", arch="bert", n_layers=layers, hidden_size=hidden,
                               intermediate_size=ff, n_heads=heads, n_kv_heads=heads, head_dim=hidden // heads,
                               vocab_size=30522, max_context=512)


def test_bert_kind_counts_the_transformers_checkpoints_less_the_pooler():
    # transformers BertModel counts (code-index file id 2228351197): bert-base-uncased 109,482,240, bert-large-uncased
    # 335,141,888. Both include the pooler (hidden x hidden + bias), which llama.cpp's converter drops.
    for (hidden, layers, heads, ff), published in (((768, 12, 12, 3072), 109_482_240),
                                                   ((1024, 24, 16, 4096), 335_141_888)):
        assert count_params(_bert(hidden, layers, heads, ff)) + hidden * hidden + hidden == published


def test_nomic_embed_text_tensors():
    m = resolve("nomic-embed-text").model
    assert m.id == "nomic-embed-text:v1.5" and resolve("nomic-embed-text:latest").model.id == m.id
    assert count_params(m) == m.params and abs(m.params / 137e6 - 1) < 0.005  # Nomic states 137M
    names = {t.name for t in build_tensors(m)}
    assert {"token_types.weight", "token_embd_norm.bias", "blk.11.attn_qkv.weight", "blk.0.ffn_gate.weight",
            "blk.0.layer_output_norm.bias"} <= names
    assert not names & {"output.weight", "output_norm.weight", "position_embd.weight", "blk.0.attn_qkv.bias"}
    # A stored Ollama server log loading nomic-embed-text's nomic-bert blob: "24 key-value pairs and 112 tensors"
    # (code-index file id 48135913484): 4 embedding tensors and 9 per block, no head after the blocks.
    assert len(build_tensors(m)) == len(names) == 112


def test_fit_has_no_kv_cache_and_no_decode_figure(tmp_path):
    env = isolated_env(tmp_path / "home", tmp_path / "no-ollama")
    fit, models = run_inprocess([(["fit", "nomic-embed-text", "--hardware", "rtx-4090", "--json"], env),
                                 (["models", "--use-case", "embedding", "--json"], env)], tmp_path)
    assert fit.returncode == 0, fit.stderr
    doc = json.loads(fit.stdout)
    schemakit.validate(doc, SCHEMA)
    for opt in doc["options"]:
        assert opt["memory"]["kv_cache_bytes"] == 0 and opt["memory"]["recurrent_state_bytes"] == 0
        assert opt["speed"]["decode_tokens_per_s"] is None and opt["speed"]["prefill_tokens_per_s"] > 0
    f16 = next(o for o in doc["options"] if o["quant"] == "F16")
    assert abs(f16["memory"]["weights_bytes"] / 274e6 - 1) < 0.01  # Ollama's F16 blob: 274 MB (ollama list)
    assert models.returncode == 0 and "nomic-embed-text:v1.5" in models.stdout
    assert "mxbai-embed-large:335m" in models.stdout and "all-minilm:l6-v2" in models.stdout


def test_mxbai_embed_large_is_bert_large():
    # transformers' bert-large-uncased: 335,141,888 with the pooler (code-index file id 2228351197); Ollama: 335M, 670MB F16
    m = resolve("mxbai-embed-large").model
    assert m.id == "mxbai-embed-large:335m" and m.arch == "bert"
    assert count_params(m) == m.params == 335_141_888 - (1024 * 1024 + 1024)
    assert len(build_tensors(m)) == 5 + 24 * 16  # position_embd added; 16 per block with the biases


def test_all_minilm_is_a_six_layer_bert():
    m = resolve("all-minilm").model
    assert m.id == "all-minilm:l6-v2" and count_params(m) == m.params
    assert len(build_tensors(m)) == 5 + 6 * 16
    # Ollama's default all-minilm is 46MB F16 (https://www.morphllm.com/ollama-embedding-models; too small a file for
    # benchmarks/heldout/gguf_sizes.csv, whose rows start at 100 MB): within the 1.1% that rounding to 1 MB allows
    assert abs(accuracy.file_bytes(m, get_quant("F16")) / 46e6 - 1) < 0.011  # tensors + tokenizer metadata
