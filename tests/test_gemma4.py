"""Gemma 4 (llama.cpp gemma4): per-layer-kind head sizes (full layers 512-wide, with their own KV heads and, when
attention_k_eq_v, no V projection), E2B/E4B per-layer embeddings and KV sharing, and the 26B-A4B's experts beside a
dense MLP; checked against published counts and GGUF files, not against this code.

Sources of the expected numbers:
- llama.cpp src/models/gemma4.cpp load_arch_tensors (per-layer n_embd_head_k(il), n_embd_k_gqa(il), attn_v optional,
  layer_output_scale, one rope_freqs), convert_hf_to_gguf.py Gemma4Model (key_length = global_head_dim,
  key_length_swa = head_dim, head_count_kv per layer from num_global_key_value_heads).
- E2B load log (ikawrakow/ik_llama.cpp#1936): n_embd_k_gqa = [256, 256, 256, 256, 512, ...].
- E4B print_info "model params = 7.52 B" (canonical/inference-snaps#275); 31B 833 tensors (ggml-org/llama.cpp#21690,
  #21760); 26B-A4B 658 tensors (ikawrakow/ik_llama.cpp#1772).
- GGUF sizes: benchmarks/heldout/gguf_sizes.csv (Google's QAT Q4_0 files, exact bytes from HilbertraumAI/HilbertRaum#82;
  plain Q4_K_M of E2B 3.412 GB from the Asystemoffields PMRA card).
"""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate import mlx, vllm
from selfhost_advisor.estimate.memory import kv_cache_bytes, weights, weights_by_tensor
from selfhost_advisor.estimate.quantize import model_walk
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

F16 = 2


def _err(model_id: str, quant: str, real: int) -> float:
    return weights(get(model_id), get_quant(quant)).total_bytes / real - 1


def test_per_layer_head_sizes_follow_the_layer_kind():
    # ik_llama.cpp#1936, E2B: n_embd_k_gqa = [256, 256, 256, 256, 512, ...] (1 KV head; every 5th layer full)
    e2b = get("gemma4:e2b")
    assert [e2b.layer_kv_heads(i) * e2b.layer_head_dim(i) for i in range(10)] == [256] * 4 + [512] + [256] * 4 + [512]
    m = get("gemma4:31b")  # config: 16 KV heads x 256 on sliding layers, num_global_key_value_heads 4 x 512 on full
    assert (m.layer_kv_heads(0), m.layer_head_dim(0), m.layer_kv_heads(5), m.layer_head_dim(5)) == (16, 256, 4, 512)
    assert sum(not m.is_sliding(i) for i in range(m.n_layers)) == 10 and not m.is_sliding(m.n_layers - 1)


def test_tensor_counts_and_parameters_match_published_files():
    assert len(build_tensors(get("gemma4:31b"))) == 833  # llama.cpp#21690 / #21760 load logs
    assert len(build_tensors(get("gemma4:26b"))) == 658  # ik_llama.cpp#1772 load log
    assert round(count_params(get("gemma4:e4b")) / 1e9, 2) == 7.52  # print_info, inference-snaps#275
    assert round(count_params(get("gemma4:31b")) / 1e9, 1) == 30.7  # model card: 30.7B
    assert round(active_params(get("gemma4:26b")) / 1e9, 1) == 3.8  # "~3.8B active" (HilbertRaum#83)


def test_k_eq_v_drops_v_only_on_full_layers():
    m = get("gemma4:31b")
    names = {t.name for t in build_tensors(m)}
    assert "blk.0.attn_v.weight" in names and "blk.5.attn_v.weight" not in names
    assert "blk.5.attn_k.weight" in names  # K serves as V
    shapes = {t.name: t.shape for t in build_tensors(m)}
    assert shapes["blk.5.attn_q.weight"] == (5376, 32 * 512) and shapes["blk.5.attn_k.weight"] == (5376, 4 * 512)
    assert shapes["blk.0.attn_k.weight"] == (5376, 16 * 256)
    assert model_walk(m).n_attention_wv == 50  # llama-quantize counts only the attn_v that exist


def test_e2b_doubles_the_ffn_of_its_kv_sharing_layers():
    # checkpoint down_proj of the shared layers: [1536, 12288] (code-index file id 63016053390)
    shapes = {t.name: t.shape for t in build_tensors(get("gemma4:e2b"))}
    assert shapes["blk.14.ffn_down.weight"] == (6144, 1536) and shapes["blk.15.ffn_down.weight"] == (12288, 1536)
    assert "altup_proj.weight" not in shapes and "blk.0.laurel_l.weight" not in shapes
    assert shapes["per_layer_token_embd.weight"] == (35 * 256, 262144)


def test_31b_kv_cache_at_32k_f16():
    m = get("gemma4:31b")
    total, per_layer = kv_cache_bytes(m, FitRequest(context=32768))
    full = 32768 * 2 * 4 * 512 * F16  # K + V, 4 KV heads x 512, every cell
    swa = 1536 * 2 * 16 * 256 * F16  # window 1024 + ubatch 512 cells, 16 KV heads x 256
    assert per_layer[5] == full and per_layer[0] == swa
    assert total == 10 * full + 50 * swa  # 2560 MiB + 1200 MiB


def test_e4b_keeps_kv_in_its_first_24_layers_only():
    m = get("gemma4:e4b")
    _, per_layer = kv_cache_bytes(m, FitRequest(context=8192))
    assert [i for i, b in enumerate(per_layer) if b] == list(range(24))  # 42 layers, 18 shared
    assert per_layer[23] == 8192 * 2 * 2 * 512 * F16 and per_layer[22] == 1024 * 2 * 2 * 256 * F16


def test_vllm_and_mlx_size_each_layer_with_its_own_head():
    m = get("gemma4:31b")
    assert vllm.kv_bytes_per_token(m, 1) == 50 * 2 * 16 * 256 * F16 + 10 * 2 * 4 * 512 * F16
    assert vllm.kv_bytes_per_token(m, 4) == 50 * 2 * 4 * 256 * F16 + 10 * 2 * 1 * 512 * F16
    assert mlx.kv_bytes_per_token(m, 5) == 2 * 4 * 512 * F16 and mlx.kv_bytes_per_token(m, 0) == 2 * 16 * 256 * F16


@pytest.mark.parametrize("model_id,quant,real,tol", [
    ("gemma4:e2b", "Q4_0", 3_349_516_256, 0.005),  # Google's QAT Q4_0 GGUFs, exact bytes (recipe not stated)
    ("gemma4:e4b", "Q4_0", 5_154_941_280, 0.005),
    ("gemma4:26b", "Q4_0", 14_439_363_584, 0.005),
    ("gemma4:e2b", "Q4_K_M", 3_412_000_000, 0.002),  # plain Q4_K_M, 3.412 GB (PMRA card)
])
def test_weights_match_published_gguf_files(model_id, quant, real, tol):
    assert abs(_err(model_id, quant, real)) < tol


def test_moe_layer_holds_dense_mlp_and_experts():
    m = get("gemma4:26b")
    shapes = {t.name: t.shape for t in build_tensors(m) if t.layer == 0}
    assert shapes["blk.0.ffn_down.weight"] == (2112, 2816)
    assert shapes["blk.0.ffn_gate_up_exps.weight"] == (2816, 2 * 704, 128)
    assert shapes["blk.0.ffn_down_exps.weight"] == (704, 2816, 128)
    types = {t.name: ty for t, ty, _ in weights_by_tensor(m, get_quant("Q4_K_M"))}
    # rows of 704 and 2112 are not multiples of 256: llama-quant falls back (Q4_K -> Q5_0, Q6_K -> Q8_0)
    assert types["blk.0.ffn_down_exps.weight"] in ("Q5_0", "Q8_0") and types["blk.0.ffn_gate_up_exps.weight"] == "Q4_K"


def _cfg(text: dict) -> dict:
    return {"architectures": ["Gemma4ForConditionalGeneration"], "model_type": "gemma4", "text_config": text}


_SLIDING, _FULL = "sliding_attention", "full_attention"


def test_hub_configs_give_the_catalog_models():
    # 31B and E2B text_config values as quoted in stored code (data/models.yaml sources)
    c31 = {"hidden_size": 5376, "num_hidden_layers": 60, "intermediate_size": 21504, "num_attention_heads": 32,
           "num_key_value_heads": 16, "num_global_key_value_heads": 4, "head_dim": 256, "global_head_dim": 512,
           "vocab_size": 262144, "max_position_embeddings": 262144, "sliding_window": 1024,
           "attention_k_eq_v": True, "tie_word_embeddings": True, "hidden_size_per_layer_input": 0,
           "num_kv_shared_layers": 0, "layer_types": ([_SLIDING] * 5 + [_FULL]) * 10}
    m = model_from_config(_cfg(c31), "google/gemma-4-31B-it")
    assert count_params(m) == count_params(get("gemma4:31b"))
    assert kv_cache_bytes(m, FitRequest(context=8192)) == kv_cache_bytes(get("gemma4:31b"), FitRequest(context=8192))
    e2b = {"hidden_size": 1536, "num_hidden_layers": 35, "intermediate_size": 6144, "num_attention_heads": 8,
           "head_dim": 256, "global_head_dim": 512, "vocab_size": 262144, "vocab_size_per_layer_input": 262144,
           "num_key_value_heads": 1, "num_kv_shared_layers": 20, "hidden_size_per_layer_input": 256,
           "sliding_window": 512, "max_position_embeddings": 131072, "use_double_wide_mlp": True,
           "layer_types": ([_SLIDING] * 4 + [_FULL]) * 7}
    m = model_from_config(_cfg(e2b), "google/gemma-4-E2B-it")
    assert count_params(m) == count_params(get("gemma4:e2b"))
    # without attention_k_eq_v transformers ignores num_global_key_value_heads (configuration_gemma4.py)
    c31.update(attention_k_eq_v=False)
    assert model_from_config(_cfg(c31), "x/g4").global_kv_heads == 0


@pytest.mark.parametrize("name,model_id", [("google/gemma-4-31B-it", "gemma4:31b"), ("gemma-4-E4B-it", "gemma4:e4b"),
                                           ("google/gemma-4-26B-A4B-it", "gemma4:26b")])
def test_gemma4_resolves_offline(name, model_id):
    assert resolve(name).model.id == model_id


def test_a_gemma4_gguf_header_gives_per_layer_kind_heads(tmp_path):
    # convert_hf_to_gguf.py Gemma4Model: key_length = global_head_dim, key_length_swa = head_dim, head_count_kv per
    # layer (sliding 2, full 1 here), sliding_window_pattern per-layer bools
    from gguf import GGMLQuantizationType as T
    from gguf import GGUFValueType as V

    from gguf_factory import write_gguf
    from selfhost_advisor.catalog.gguf_model import read_local

    d, layers = 64, 3
    ts = [("token_embd.weight", (d, 320), T.F16), ("output_norm.weight", (d,), T.F32)]
    for i, (hd, kv) in enumerate([(32, 2), (32, 2), (64, 1)]):
        ts += [(f"blk.{i}.attn_q.weight", (d, 2 * hd), T.F16), (f"blk.{i}.attn_k.weight", (d, kv * hd), T.F16),
               (f"blk.{i}.attn_output.weight", (2 * hd, d), T.F16), (f"blk.{i}.ffn_up.weight", (d, 128), T.F16)]
    path = tmp_path / "g4.gguf"
    write_gguf(path, "gemma4", n_layers=layers, d=d, ff=128, n_heads=2, n_kv=[2, 2, 1], vocab=320, tensors=ts,
               extra={"gemma4.attention.key_length": (64, V.UINT32), "gemma4.attention.key_length_swa": (32, V.UINT32),
                      "gemma4.attention.sliding_window": (16, V.UINT32),
                      "gemma4.attention.sliding_window_pattern": ([True, True, False], V.ARRAY)})
    m = read_local(str(path)).model
    assert (m.head_dim, m.global_head_dim, m.n_kv_heads, m.global_kv_heads) == (32, 64, 2, 1)
    _, per_layer = kv_cache_bytes(m, FitRequest(context=1024))
    # full layer: 1024 cells of 1 x 64; sliding: PAD(16 + ubatch 512, 256) = 768 cells of 2 x 32
    assert per_layer[2] == 1024 * 2 * 1 * 64 * F16 and per_layer[0] == 768 * 2 * 2 * 32 * F16


def test_decode_reads_each_layers_own_kv_width():
    # speed.token_work: per-layer K + V bytes per cached token (f16): 31B sliding 2 x 16 x 256 x 2, full 2 x 4 x 512 x 2
    from selfhost_advisor.estimate.speed import token_work

    work = token_work(get("gemma4:31b"), get_quant("Q4_K_M"))
    assert work.layer_kv_bytes[:6] == (16384,) * 5 + (8192,)
    assert sum(work.layer_kv_bytes) == 50 * 16384 + 10 * 8192
