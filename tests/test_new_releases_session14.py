"""Session-14 catalog additions (data/models.yaml `# --- session 14: newrel2`): 2026 releases missing from the catalog.

Expected values come from outside the estimator: the configs as stored copies state them (each entry's `source`), the
GGUF metadata's parameter total, llama.cpp's load_arch_tensors, and the real GGUF files in benchmarks/heldout
(recorded before the entries and layouts were written).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from cliproc import isolated_env, run_inprocess

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines import get_engine
from selfhost_advisor.errors import NotSizedModelError
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.tensors import build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

# meta-models/Muse-Glimmer-30B config.json text_config as a stored TPU port and a stored functional port record it
# (code-index file ids 62622323943, 60584161949): the shape keys, and layer_types 39 sliding + 13 full ([S,S,S,F]).
MUSE_GLIMMER = {
    "architectures": ["MuseGlimmerForConditionalGeneration"], "model_type": "muse_glimmer",
    "text_config": {
        "model_type": "muse_glimmer_text", "hidden_size": 6656, "num_hidden_layers": 52, "intermediate_size": 19968,
        "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128, "vocab_size": 202048,
        "sliding_window": 2048, "tie_word_embeddings": False, "max_position_embeddings": 131072,
        "attention_bias": False,
        "layer_types": ["full_attention" if i % 4 == 3 else "sliding_attention" for i in range(52)],
    },
}


def test_muse_glimmer_total_is_the_gguf_metadata_count():
    # the GGUF metadata's `total: 27854794240` (a stored verification note of the Hub API, code-index file id 68635025417)
    assert count_params(get("muse-glimmer:30b")) == 27_854_794_240


def test_muse_glimmer_block_is_llama_cpps_tensor_set():
    # src/models/muse-glimmer.cpp load_arch_tensors: 14 tensors a layer (four norms, q/k/v/o, q/k norms {head_dim},
    # attn_gate {n_embd, n_head x head_dim}, ffn gate/up/down) plus token_embd, output_norm and an untied output
    tensors = build_tensors(get("muse-glimmer:30b"))
    assert len(tensors) == 52 * 14 + 3
    blk = {t.name.removeprefix("blk.0."): t.shape for t in tensors if t.name.startswith("blk.0.")}
    assert blk["attn_gate.weight"] == (6656, 32 * 128)
    assert blk["attn_q_norm.weight"] == (128,) and blk["attn_k_norm.weight"] == (128,)
    assert {"post_attention_norm.weight", "post_ffw_norm.weight", "ffn_norm.weight", "attn_norm.weight"} <= set(blk)
    assert blk["attn_k.weight"] == (6656, 2 * 128)


def test_muse_glimmer_entry_is_what_its_config_gives():
    m, c = get("muse-glimmer:30b"), model_from_config(MUSE_GLIMMER, "meta-models/Muse-Glimmer-30B")
    shape = ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
             "tied_embeddings", "sliding_window", "max_context", "qk_norm")
    assert [getattr(c, k) for k in shape] == [getattr(m, k) for k in shape]
    assert [c.is_sliding(i) for i in range(52)] == [i % 4 != 3 for i in range(52)]
    assert [m.is_sliding(i) for i in range(52)] == [i % 4 != 3 for i in range(52)]
    assert count_params(c) == count_params(m)


def test_muse_glimmer_kv_is_full_context_in_13_layers_and_the_window_in_39():
    # llama_kv_cache_iswa (build_attn_inp_kv_iswa in muse-glimmer.cpp): full layers n_ctx cells, sliding layers
    # n_swa + n_ubatch = 2048 + 512; a cell is 2 KV heads x 128 x (K + V) x 2 bytes (f16) = 1024 bytes
    kv, per_layer = kv_cache_bytes(get("muse-glimmer:30b"), FitRequest(context=32768, engine="llamacpp"))
    assert kv == 1024 * (13 * 32768 + 39 * 2560)
    assert per_layer[3] == 1024 * 32768 and per_layer[0] == 1024 * 2560


def test_heldout_muse_glimmer_file():
    # Meta's own Q4_K_M ("KQuant-17GB"), exact bytes, recorded before the layout existed; blind error +1.03%
    # (docs/methodology.md, session 14): within the 2% target, not explained further (no type count of the file found)
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "muse-glimmer:30b"]
    assert len(rows) == 1
    assert abs(rows[0]["error_pct"]) < 2.0, rows


@pytest.mark.parametrize("name", ["muse-glimmer", "Muse-Glimmer-30B", "meta-models/Muse-Glimmer-30B",
                                  "meta-models/Muse-Glimmer-30B-GGUF", "muse-glimmer:30b", "MUSE-GLIMMER-30B"])
def test_names_resolve(name):
    assert resolve(name).model.id == "muse-glimmer:30b"


@pytest.mark.parametrize("engine", ["llamacpp", "vllm", "mlx", "ollama"])
def test_muse_glimmer_runs_on_the_engines_that_load_it(engine):
    get_engine(engine).check_runs(get("muse-glimmer:30b"))  # Ollama: its default release (0.33.0-rc2) >= 0.32.8


def test_muse_glimmer_is_refused_on_ollama_before_0_32_8():
    with pytest.raises(NotSizedModelError, match="0.32.8"):
        get_engine("ollama").check_runs(get("muse-glimmer:30b"), "0.32.6")
    get_engine("ollama").check_runs(get("muse-glimmer:30b"), "0.32.8")


def test_fit_cli_sizes_it_and_refuses_old_ollama_with_exit_2(tmp_path):
    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    ok, old = run_inprocess([
        (["fit", "muse-glimmer", "--hardware", "rtx-4090", "--context", "32768", "--json"], env),
        (["fit", "muse-glimmer", "--engine", "ollama", "--engine-version", "0.32.6", "--hardware", "rtx-4090"], env),
    ], tmp_path)
    assert ok.returncode == 0, ok.stderr
    q4 = next(o for o in json.loads(ok.stdout)["options"] if o["quant"] == "Q4_K_M")
    # weights alone are 16.9 GB (the file is 16.76 GB); the 24 GB card holds them with a 32k cache
    assert 16.5e9 < q4["memory"]["weights_bytes"] < 17.5e9
    assert q4["memory"]["kv_cache_bytes"] == 1024 * (13 * 32768 + 39 * 2560)
    assert q4["placement"]["fit"] == "gpu"
    assert old.returncode == 2 and old.stdout == "" and len(old.stderr.strip().splitlines()) == 1, old


def test_qwen38_27b_is_qwen36_27bs_shapes_and_ggml_orgs_q8_0_matches():
    # LoongForge PR #176 / fak #9739 read its config: Qwen3.6-27B's shapes; ggml-org's Q8_0 (exact bytes, recorded
    # before the entry) is the check: blind -0.004%
    m, q36 = get("qwen3.8:27b"), get("qwen3.6:27b")
    shape = ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
             "tied_embeddings", "ssm", "layer_pattern", "max_context")
    assert [getattr(m, k) for k in shape] == [getattr(q36, k) for k in shape]
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "qwen3.8:27b"]
    assert len(rows) == 1 and abs(rows[0]["error_pct"]) < 0.1, rows


def test_qwen38_27b_q8_kv_at_262k_is_the_logged_8704_mib():
    # a llama-server run on an RTX 4000 SFF Ada logs 8,704 MiB of q8_0 KV at 262,144 tokens (code-index file id
    # 63169118391): only the 16 full-attention layers cache K/V
    m = get("qwen3.8:27b")
    _, per_layer = kv_cache_bytes(m, FitRequest(context=262144, engine="llamacpp", kv_cache_type="q8_0"))
    full = [i for i in range(m.n_layers) if m.layer_pattern[i] == "*"]
    assert len(full) == 16 and sum(per_layer[i] for i in full) == 8704 * 2**20


@pytest.mark.parametrize("name,model_id", [
    ("qwen3.8", "qwen3.8:27b"), ("qwen3.8:latest", "qwen3.8:27b"), ("Qwen/Qwen3.8-27B", "qwen3.8:27b"),
    ("qwen3.8-27b", "qwen3.8:27b"), ("qwen3.8:2.4t", "qwen3.8:2.4t"),
])
def test_qwen38_names_resolve(name, model_id):
    assert resolve(name).model.id == model_id


@pytest.mark.parametrize("name", ["glm-5.3-flash", "zai-org/GLM-5.3-Flash", "qwen3.8-flash-next",
                                  "qwen3.8-flash-next:125b-mlx"])
def test_unsized_2026_families_exit_2_with_why(tmp_path, name):
    (ran,) = run_inprocess([(["fit", name, "--hardware", "rtx-4090"], isolated_env(tmp_path / "h", tmp_path / "o"))],
                           tmp_path)
    assert ran.returncode == 2 and ran.stdout == "", ran
    assert "not sized here" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1, ran.stderr
