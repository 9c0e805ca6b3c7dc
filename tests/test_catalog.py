import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import parse_spec, profiles
from selfhost_advisor.catalog.models import all_models, entries, resolve
from selfhost_advisor.errors import UnknownHardwareError, UnknownModelError
from selfhost_advisor.estimate.tensors import active_params, count_params

REQUIRED = ("id", "hf_id", "arch", "params", "n_layers", "hidden_size", "intermediate_size", "n_heads", "n_kv_heads",
            "head_dim", "vocab_size", "tied_embeddings", "max_context", "source", "as_of")


def test_catalog_has_50_models_with_sources():
    assert len(entries()) >= 50
    for e in entries():
        missing = [k for k in REQUIRED if e.get(k) in (None, "")]
        assert not missing, (e.get("id"), missing)


def test_no_alias_names_two_models():
    seen = {}
    for e in entries():
        for key in {e["id"].lower(), e["hf_id"].lower(), *(a.lower() for a in e.get("aliases") or ())}:
            assert key not in seen, f"{key!r} names {seen.get(key)} and {e['id']}"
            seen[key] = e["id"]


def test_stated_params_agree_with_architecture_within_3pct():
    for m in all_models():
        stated = m.text_params or m.params
        assert abs(count_params(m) / stated - 1) < 0.03, m.id


def test_moe_active_params_match_published_figures():
    # Published: Mixtral 8x7B ~12.9B active, Qwen3-30B-A3B 3.3B, DeepSeek-V3 37B, gpt-oss-120b 5.1B (+ embeddings)
    assert abs(active_params(resolve("mixtral:8x7b").model) / 12.9e9 - 1) < 0.02
    assert abs(active_params(resolve("qwen3:30b").model) / 3.3e9 - 1) < 0.05
    assert abs(active_params(resolve("deepseek-v3:671b").model) / 37e9 - 1) < 0.03


@pytest.mark.parametrize(
    "name,model_id,quant",
    [
        ("llama3.1:70b", "llama3.1:70b", None),
        ("LLAMA3.1:70B", "llama3.1:70b", None),
        ("llama3.1:70b-instruct-q8_0", "llama3.1:70b", "Q8_0"),
        ("llama3.1:70b-instruct-q4_K_M", "llama3.1:70b", "Q4_K_M"),
        ("phi3:mini", "phi3:mini", None),
        ("deepseek-r1:671b", "deepseek-r1:671b", None),
        ("meta-llama/Llama-3.1-70B-Instruct", "llama3.1:70b", None),
        ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5:7b", None),
        ("qwen/qwen3-30b-a3b", "qwen3:30b", None),
        ("mixtral:8x7b", "mixtral:8x7b", None),
        ("gpt-oss:20b", "gpt-oss:20b", None),
        ("Llama-3.1-8B-Instruct", "llama3.1:8b", None),
    ],
)
def test_aliases_resolve_offline(name, model_id, quant):
    r = resolve(name)
    assert r.model.id == model_id
    assert r.quant == quant


def test_unknown_model_suggests_three_close_names():
    with pytest.raises(UnknownModelError) as exc:
        resolve("llama3.1:7b")
    text = str(exc.value)
    assert "did you mean" in text and "llama3.1:8b" in text
    assert "\n" not in text


def test_family_without_a_known_default_lists_sizes():
    # a bare name is FAMILY:latest (tests/test_tags.py); a family whose default the catalog does not know lists sizes
    with pytest.raises(UnknownModelError, match="falcon-h1:0.5b"):
        resolve("falcon-h1")


def test_issue_models_present():
    ids = {e["id"] for e in entries()}
    for wanted in ("llama2:7b", "llama2:70b", "llama3.1:405b", "llama3.2:1b", "llama3.3:70b", "llama4:scout",
                   "mistral:7b", "mistral-nemo:12b", "mixtral:8x22b", "qwen2.5:72b", "qwen3:235b", "gemma2:27b",
                   "gemma3:27b", "phi4:14b", "deepseek-r1:671b", "deepseek-coder-v2:16b", "gpt-oss:120b"):
        assert wanted in ids


# --- hardware ---

def test_hardware_catalog_has_40_profiles_each_sourced():
    assert len(profiles()) >= 40
    for e in load("hardware")["hardware"]:
        assert e.get("sources") and e.get("as_of"), e["id"]
        assert e["memory_bytes"] > 0 and e["memory_bandwidth_gbps"] > 0, e["id"]


@pytest.mark.parametrize(
    "spec,pid,count",
    [("rtx4090", "rtx-4090", 1), ("RTX 4090", "rtx-4090", 1), ("2x rtx4090", "rtx-4090", 2),
     ("rtx4090x2", "rtx-4090", 2), ("8x h100-sxm", "h100-sxm", 8), ("2x rtx3090 nvlink", "rtx-3090", 2),
     ("a100-80gb", "a100-80gb", 1), ("m2-ultra-192gb", "m2-ultra-192gb", 1), ("NVIDIA GeForce RTX 4090", "rtx-4090", 1)],
)
def test_hardware_specs_resolve(spec, pid, count):
    p, n, _ = parse_spec(spec)
    assert (p.id, n) == (pid, count)


@pytest.mark.parametrize("spec", ["rtx4090x0", "3x", "0x rtx4090", "99x rtx4090", "rtx9999", "2x m2-ultra-192gb"])
def test_bad_hardware_specs(spec):
    with pytest.raises(UnknownHardwareError):
        parse_spec(spec)


# --- session 8 dense entries (data/models.yaml, after `# --- session 8: dense`) ---

def test_command_r7b_caches_the_window_on_three_of_four_layers():
    # Config (kvcache-blog table of CohereLabs/c4ai-command-r7b-12-2024): 32 layers, 8 KV heads x 128, sliding_window
    # 4096 with sliding_window_pattern 4 -> 24 sliding + 8 full layers. llama.cpp (llama-kv-cache-iswa.cpp,
    # swa_full=false) keeps PAD(n_ctx, 256) cells on full layers and PAD(n_swa + n_ubatch, 256) on sliding ones.
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate.memory import kv_cache_bytes

    m = resolve("command-r7b:7b").model
    assert sum(m.is_sliding(i) for i in range(m.n_layers)) == 24
    per_token_layer = 2 * 8 * 128 * 2  # K and V, f16
    total, _ = kv_cache_bytes(m, FitRequest(context=32768, engine="llamacpp"))
    assert total == per_token_layer * (8 * 32768 + 24 * (4096 + 512))


def test_session8_dense_params_match_published_counts():
    # Published totals: Seed-OSS-36B 36.15B (stored model listing, code-index file id 56074558135), ERNIE-4.5-0.3B
    # 0.36B (its name; config shapes with tied embeddings), Falcon3-10B 10.3B, Falcon3-1B 1.67B (bartowski's F16 file,
    # 3.34 GB = 2 bytes per parameter).
    for model_id, published, tol in (("seed-oss:36b", 36.15e9, 0.001), ("ernie-4.5:0.3b", 0.36e9, 0.01),
                                     ("falcon3:10b", 10.3e9, 0.01), ("falcon3:1b", 3.34e9 / 2, 0.005)):
        assert abs(count_params(resolve(model_id).model) / published - 1) < tol, model_id


@pytest.mark.parametrize("name,model_id", [("falcon3:10b-instruct-q8_0", "falcon3:10b"), ("tiiuae/Falcon3-1B-Base", "falcon3:1b"),
                                           ("command-r7b:7b-12-2024-q4_K_M", "command-r7b:7b"),
                                           ("CohereForAI/c4ai-command-r7b-12-2024", "command-r7b:7b"),
                                           ("ByteDance-Seed/Seed-OSS-36B-Instruct", "seed-oss:36b"),
                                           ("baidu/ERNIE-4.5-0.3B-PT", "ernie-4.5:0.3b")])
def test_session8_dense_tags_resolve(name, model_id):
    assert resolve(name).model.id == model_id
