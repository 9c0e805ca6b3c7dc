"""Session-31 catalog work (docs/methodology.md 1b "Session 31 (models31)"): Hunyuan-A13B, ERNIE 4.5 300B-A47B and
Apertus 70B added; ':' and '-' between a family and its size tag read as one separator when exactly one entry answers;
a release sized with another release's entry (GLM-4.7 with GLM-4.6's) says so in text and JSON.

Expected values come from outside the estimator: the configs as the stored sources print them (copied below), llama.cpp's
hunyuan-moe tensor list, a real llama.cpp load log and an EXL3 card's BF16 size; resolver cases are names users typed.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from cliproc import check_cli_table, isolated_env, run_inprocess
from hypothesis import given, settings
from hypothesis import strategies as st

from selfhost_advisor.catalog import models as catalog
from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import entries, get, resolve
from selfhost_advisor.catalog.name_forms import separator_forms
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.estimate.memory_weights import weights_by_tensor
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

ROOT = Path(__file__).resolve().parents[1]

# Tencent-Hunyuan/Hunyuan-A13B models/config.json (tianyu1412/Hunyuan-A13B at df832ebc, code-index file id 18400128734)
HUNYUAN_A13B = {
    "architectures": ["HunYuanMoEV1ForCausalLM"], "model_type": "hunyuan", "hidden_size": 4096, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "attention_head_dim": 128, "intermediate_size": 3072,
    "moe_intermediate_size": [3072] * 32, "moe_topk": [8] * 32, "num_experts": 64, "num_shared_expert": [1] * 32,
    "use_mixed_mlp_moe": True, "use_qk_norm": True, "use_cla": False, "vocab_size": 128167, "tie_word_embeddings": True,
    "max_position_embeddings": 32768, "attention_bias": False, "mlp_bias": False,
}
# ERNIE-4.5-300B-A47B as stored engine tests copy it (code-index file ids 20121695617, 20695270586), with the untied head
# the EXL3 card's size settles (test below)
ERNIE_300B = {
    "architectures": ["Ernie4_5_MoeForCausalLM"], "model_type": "ernie4_5_moe", "hidden_size": 8192,
    "intermediate_size": 28672, "max_position_embeddings": 131072, "num_attention_heads": 64, "num_key_value_heads": 8,
    "num_hidden_layers": 54, "vocab_size": 103424, "moe_num_experts": 64, "moe_num_shared_experts": 0,
    "moe_layer_start_index": 3, "moe_layer_end_index": 53, "moe_intermediate_size": 3584, "moe_k": 8,
    "moe_layer_interval": 1, "tie_word_embeddings": False, "use_bias": False,
}
_SHAPE = ("arch", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads", "head_dim", "vocab_size",
          "tied_embeddings", "qk_norm", "moe")


def test_hunyuan_a13b_entry_is_what_its_config_gives():
    m, c = get("hunyuan-a13b:80b"), model_from_config(HUNYUAN_A13B, "tencent/Hunyuan-A13B-Instruct")
    assert [getattr(c, k) for k in _SHAPE] == [getattr(m, k) for k in _SHAPE]
    assert count_params(c) == count_params(m) == m.params
    # the card's "80B total, 13B active"
    assert round(m.params / 1e9) == 80 and 12.5e9 < active_params(m) < 13.5e9
    # llama.cpp LLM_ARCH_HUNYUAN_MOE load_tensors: attn_norm, q, k, v, output, q_norm, k_norm, ffn_norm, gate_inp,
    # 3 routed experts, 3 shared-expert matrices = 15 a layer, + token_embd and output_norm (the head is the embedding)
    assert len(build_tensors(m)) == 32 * 15 + 2


def test_a_hunyuan_config_with_per_layer_expert_counts_that_differ_is_refused():
    uneven = dict(HUNYUAN_A13B, moe_topk=[8] * 31 + [4])
    with pytest.raises(UnknownModelError, match="moe_topk"):
        model_from_config(uneven, "x/hunyuan-uneven")


def test_hunyuan_q4_k_m_is_near_the_llama_cpp_log_of_a_q4_k_m_file():
    """ggml-org/llama.cpp PR #14425 (turn 51): a Hunyuan-A13B-Instruct Q4_K_M, 'file size = 45.38 GiB' (the tensor data,
    2 decimals). That file also held 96 q5_K tensors, which llama-quantize's Q4_K_M does not write, so this is a loose
    check of the layout, not a held-out row."""
    total = sum(b for *_, b in weights_by_tensor(get("hunyuan-a13b:80b"), get_quant("Q4_K_M")))
    assert abs(total / 2**30 / 45.38 - 1) < 0.005


def test_ernie_300b_entry_is_what_its_config_gives():
    m, c = get("ernie-4.5:300b-a47b"), model_from_config(ERNIE_300B, "baidu/ERNIE-4.5-300B-A47B-PT")
    assert [getattr(c, k) for k in _SHAPE] == [getattr(m, k) for k in _SHAPE]
    assert count_params(c) == count_params(m) == m.params
    assert round(m.params / 1e9) == 299 and 46e9 < active_params(m) < 49e9  # the card: 300B total, 47B active


def test_ernie_300b_head_is_untied_as_the_bf16_size_without_the_embedding_says():
    """turboderp/ERNIE-4.5-300B-A47B-PT-exl3 card: 'Original 597.1 GB', the .safetensors size excluding the embedding
    layer (BF16, 2 bytes a weight; the checkpoint's MTP layer is not part of what EXL3 loads)."""
    m = get("ernie-4.5:300b-a47b")
    embedding = m.vocab_size * m.hidden_size
    untied = (count_params(m) - embedding) * 2 / 1e9
    tied = untied - embedding * 2 / 1e9
    assert abs(untied / 597.1 - 1) < 0.001 < abs(tied / 597.1 - 1)


def test_apertus_70b_is_the_8b_architecture_at_the_tech_reports_70b_shapes():
    m, small = get("apertus:70b"), get("apertus:8b")
    # arXiv 2509.14233 Table 1: 80 layers, 8192 wide, 64 query / 8 KV heads, 65,536 context, untied, 131,072 vocabulary
    assert (m.n_layers, m.hidden_size, m.n_heads, m.n_kv_heads, m.max_context) == (80, 8192, 64, 8, 65536)
    assert (m.arch, m.qk_norm, m.tied_embeddings, m.vocab_size) == (small.arch, True, False, small.vocab_size)
    # the MLP is as wide relative to the model as the 8B's read 21504 / 4096
    assert m.intermediate_size * small.hidden_size == small.intermediate_size * m.hidden_size
    assert round(m.params / 1e9) in (70, 71)
    # apertus: q, k, v, o, q_norm, k_norm, attn_norm, ffn_norm, ffn_up, ffn_down (no gate) + token_embd, norm, output
    assert len(build_tensors(m)) == 80 * 10 + 3


NAMES = [
    ("hunyuan-a13b", "hunyuan-a13b:80b"), ("tencent/Hunyuan-A13B-Instruct", "hunyuan-a13b:80b"),
    ("Hunyuan A13B", "hunyuan-a13b:80b"), ("unsloth/Hunyuan-A13B-Instruct-GGUF", "hunyuan-a13b:80b"),
    ("baidu/ERNIE-4.5-300B-A47B-PT", "ernie-4.5:300b-a47b"), ("ernie-4.5-300b-a47b", "ernie-4.5:300b-a47b"),
    ("swiss-ai/Apertus-70B-2509", "apertus:70b"), ("swiss-ai/Apertus-70B-Instruct-2509", "apertus:70b"),
    ("apertus 70b", "apertus:70b"), ("apertus-70b", "apertus:70b"),
    # ':' and '-' between family and size, one entry answering
    ("exaone-4.0:32b", "exaone4:32b"), ("llama-3.3-nemotron-super:49b", "nemotron-super:49b"),
    ("EXAONE-4.0:32B", "exaone4:32b"), ("exaone-4.0:32b-q8_0", "exaone4:32b"), ("ernie-4.5-21b-a3b", "ernie-4.5:21b-a3b"),
    ("inclusionAI/Ring-flash-2.0", "ling-flash-2.0:100b"),
]


@pytest.mark.parametrize("name,model_id", NAMES)
def test_names_resolve(name, model_id):
    assert resolve(name).model.id == model_id


def test_a_quant_tag_after_the_swapped_separator_is_kept():
    r = resolve("exaone-4.0:32b-q8_0")
    assert r.model.id == "exaone4:32b" and r.quant == "Q8_0"


def test_separator_forms_swap_only_before_a_size_tag():
    assert separator_forms("exaone-4.0:32b") == ["exaone-4.0-32b"]
    assert separator_forms("llama-3.3-nemotron-super-49b") == ["llama-3.3-nemotron-super:49b"]
    assert separator_forms("qwen3-30b-a3b") == ["qwen3:30b-a3b"]
    assert separator_forms("mixtral-8x7b") == ["mixtral:8x7b"]
    # no size tag after the separator, a Hub id, a spaced name: nothing to swap
    assert separator_forms("qwen3-coder") == separator_forms("foo:latest") == []
    assert separator_forms("meta-llama/llama-3-8b") == separator_forms("exaone 4.0 32b") == []


def test_several_entries_under_the_swapped_separator_are_refused_with_the_choices(monkeypatch):
    # 'x-7b-8b' reads as 'x:7b-8b' and as 'x-7b:8b': two entries, no silent pick
    index, two = {"x:7b-8b": 0, "x-7b:8b": 1}, [get("qwen3:8b"), get("llama3.1:8b")]
    monkeypatch.setattr(catalog, "_index", lambda: index)
    monkeypatch.setattr(catalog, "_model_at", lambda pos: two[pos])
    monkeypatch.setattr(catalog, "entries", lambda: ())
    assert catalog.lookup("x-7b-8b") is None
    with pytest.raises(UnknownModelError, match="several catalog entries") as e:
        resolve("x-7b-8b")
    assert "llama3.1:8b" in e.value.hint and "qwen3:8b" in e.value.hint


_IDS = sorted({e["id"] for e in entries() if ":" in e["id"] and separator_forms(e["id"].lower())})


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(_IDS), st.booleans())
def test_a_catalog_id_with_the_other_separator_names_that_entry_or_a_key_of_its_own(model_id, upper):
    """'family-size' for a catalog 'family:size' resolves to that entry unless the catalog lists the '-' form itself
    (then that key wins, as before); either way never to an entry no key of the name's forms points at."""
    swapped = separator_forms(model_id.lower())[0]
    name = swapped.upper() if upper else swapped
    index = catalog._index()
    got = resolve(name).model.id
    assert got == model_id or (swapped in index and got == catalog._model_at(index[swapped]).id)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefgkmx0123456789.-:", min_size=1, max_size=24))
def test_a_name_found_only_under_the_other_separator_is_one_of_its_forms_keys(name):
    """Whatever lookup() finds through the swapped separator is the entry a key among the name's forms points at."""
    got = catalog.lookup(name)
    index = catalog._index()
    direct = any(c in index for s in catalog._spellings(catalog._name_and_quant(name)[0]) for c in catalog._candidates(s))
    if got is None or direct:
        return
    forms = separator_forms(catalog._name_and_quant(name)[0])
    keys = {c for f in forms for c in catalog._candidates(f) if c in index}
    assert got.model.id in {catalog._model_at(index[k]).id for k in keys}


def test_other_releases_are_aliases_of_their_entry_with_a_reason():
    seen = 0
    for e in entries():
        keys = {str(a).lower() for a in (e.get("aliases") or ())} | {e["id"].lower(), str(e.get("hf_id", "")).lower()}
        for rec in e.get("other_releases") or ():
            seen += 1
            assert rec["release"] and rec["reason"] and rec["names"], e["id"]
            assert {str(n).lower() for n in rec["names"]} <= keys, (e["id"], rec["release"])
    assert seen >= 7  # LLaVA 1.6 Vicuna 7B, LLaVA 1.5 13B and WizardLM 13B V1.0 became entries (alias31: tokens, context)


@pytest.mark.parametrize("name,release,entry", [
    ("glm-4.7", "GLM-4.7", "glm-4.6:355b"), ("zai-org/GLM-4.7", "GLM-4.7", "glm-4.6:355b"),
    ("glm-5", "GLM-5", "glm-5.1:744b"), ("leanstral", "Leanstral 1.5", "mistral-small4:119b"),
    ("ring-flash-2.0", "Ring-flash-2.0", "ling-flash-2.0:100b"),
    ("moonshotai/Kimi-K2-Instruct-0905", "Kimi K2 Instruct (0905)", "kimi-k2:1t"),
])
def test_a_release_sized_with_another_entry_is_named_as_such(name, release, entry):
    m = resolve(name).model
    assert m.id == entry and m.sized_as is not None and m.sized_as.release == release
    assert m.name.startswith(f"{release} (sized as {get(entry).name}: ")
    # the entry's own names keep its name
    assert resolve(entry).model.sized_as is None and resolve(entry).model.name == get(entry).name


def test_glm_4_7_says_so_in_text_and_json(tmp_path):
    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    jobs = [(["fit", "glm-4.7", "--hardware", "h100-sxm", "--json"], env),
            (["fit", "glm-4.7", "--hardware", "h100-sxm"], env),
            (["fit", "glm-4.6", "--hardware", "h100-sxm", "--json"], env)]
    js, text, own = run_inprocess(jobs, tmp_path)
    assert js.returncode == text.returncode == own.returncode == 0, (js.stderr, text.stderr)
    d = json.loads(js.stdout)
    jsonschema.validate(d, json.loads((ROOT / "docs/schema/fit.schema.json").read_text()))
    assert d["model"]["id"] == "glm-4.6:355b" and d["model"]["name"].startswith("GLM-4.7 (sized as GLM-4.6")
    assert d["model"]["sized_as"] == {"release": "GLM-4.7", "entry": "glm-4.6:355b", "entry_name": get("glm-4.6:355b").name,
                                      "reason": "same config shapes"}
    assert "GLM-4.7 (sized as GLM-4.6" in " ".join(text.stdout.split())
    assert "sized_as" not in json.loads(own.stdout)["model"]


CLI = [
    (["fit", "hunyuan-a13b", "--hardware", "h100-sxm"], 0, ""),
    (["fit", "tencent/Hunyuan-A13B-Instruct", "--hardware", "h100-sxm", "--engine", "vllm"], 0, ""),
    (["fit", "baidu/ERNIE-4.5-300B-A47B-PT", "--hardware", "8x h100-sxm", "--engine", "vllm"], 0, ""),
    (["fit", "swiss-ai/Apertus-70B-2509", "--hardware", "h100-sxm"], 0, ""),
    (["fit", "exaone-4.0:32b", "--hardware", "h100-sxm"], 0, ""),
    (["fit", "llama-3.3-nemotron-super:49b", "--hardware", "h100-sxm"], 0, ""),
    (["fit", "apertus", "--hardware", "h100-sxm"], 2, "apertus:70b"),
    (["fit", "mistral-large-3", "--hardware", "h100-sxm"], 2, "params.json"),
    (["fit", "mistral-large3", "--hardware", "h100-sxm"], 2, "params.json"),
]


def test_fit_cli(tmp_path):
    check_cli_table(CLI, tmp_path)