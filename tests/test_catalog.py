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
    with pytest.raises(UnknownModelError, match="command-r:35b-v0.1"):
        resolve("command-r")


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
