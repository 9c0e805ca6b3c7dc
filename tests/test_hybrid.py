"""Hybrid models (Gated DeltaNet / Mamba-2 recurrent layers beside attention): tensors, weights, KV cache and the fixed
recurrent state, against what llama.cpp logs and what the model publishers state.

Reference figures are published measurements, not outputs of this code:
- Qwen3.5-0.8B Q4_K_M loaded by llama-server (code-index file id 53333481378, a blog post's full load log):
  320 tensors (133 F32), file 492.61 MiB, n_seq_max 4, n_ctx 262144:
  "llama_kv_cache: size = 3072.00 MiB (262144 cells, 6 layers, 4/1 seqs)" and
  "llama_memory_recurrent: size = 77.06 MiB (4 cells, 24 layers, 4 seqs), R (f32): 5.06 MiB, S (f32): 72.00 MiB".
- A Qwen3.5 model with d_inner 4096 and 24 recurrent layers, one sequence (JamePeng/llama-cpp-python#78):
  "R (f32): 2.25 MiB, S (f32): 48.00 MiB".
- Qwen3-Next / Qwen3-Coder-Next 80B-A3B: published total 79,674,391,296 and active 3,874,929,408 parameters.
"""
from __future__ import annotations

import pytest
from gguf import GGMLQuantizationType as T
from gguf import GGUFValueType as V

from gguf_factory import write_gguf
from selfhost_advisor.catalog.gguf_model import read_local
from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import SSM, FitRequest
from selfhost_advisor.errors import BadFileError, UnknownModelError
from selfhost_advisor.estimate.memory import (kv_cache_bytes, recurrent_state_bytes, state_bytes, weights,
                                              weights_by_tensor)
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params
from selfhost_advisor.record import replace

MIB = 2**20


def test_qwen35_state_and_kv_equal_llama_cpps_log():
    m = get("qwen3.5:0.8b")
    req = FitRequest(context=262144, n_parallel=4)
    total, per_layer = kv_cache_bytes(m, req)
    rs = state_bytes(m, req)
    assert rs == pytest.approx(77.06 * MIB, abs=0.005 * MIB)
    assert total - rs == 3072 * MIB
    # R and S separately: (d_conv - 1)(d_inner + 2 n_group d_state) and d_state x d_inner, F32, 18 layers x 4 seqs
    ssm = m.ssm
    r = 4 * (ssm.d_conv - 1) * (ssm.d_inner + 2 * ssm.n_group * ssm.d_state) * 18 * 4
    assert r == pytest.approx(5.06 * MIB, abs=0.005 * MIB)
    assert rs - r == 72 * MIB
    # only the 6 full-attention layers (every 4th) hold KV; the other 18 hold state, the same amount each
    kinds = {per_layer[i] for i in range(24) if m.is_recurrent(i)}
    assert len(kinds) == 1 and sum(1 for i in range(24) if m.has_attention(i)) == 6


def test_recurrent_state_of_a_d_inner_4096_qwen35_layer_equals_the_log():
    ssm = SSM("gated_deltanet", 4, 4096, 128, 16, 32)
    m = replace(get("qwen3.5:9b"), ssm=ssm)
    per = recurrent_state_bytes(m, 0, 1)
    assert 24 * per == (2.25 + 48.00) * MIB


def test_state_does_not_grow_with_context_and_scales_with_sequences():
    m = get("qwen3-next:80b")
    short, long = FitRequest(context=4096), FitRequest(context=262144)
    assert state_bytes(m, short) == state_bytes(m, long) == 36 * 4 * (3 * 8192 + 128 * 4096)
    assert state_bytes(m, FitRequest(context=4096, n_parallel=3)) == 3 * state_bytes(m, short)
    # KV: 12 attention layers x 2 KV heads x 256 x (K + V) x f16 per token, nothing for the 36 recurrent layers
    kv = kv_cache_bytes(m, long)[0] - state_bytes(m, long)
    assert kv == 262144 * 12 * 2 * 256 * 2 * 2


def test_qwen3_next_tensors_reproduce_the_published_parameter_counts():
    m = get("qwen3-next:80b")
    assert count_params(m) == 79_674_391_296
    assert active_params(m) == 3_874_929_408


def test_qwen35_tensor_list_matches_the_logged_file():
    m, q = get("qwen3.5:0.8b"), get_quant("Q4_K_M")
    typed = weights_by_tensor(m, q)
    assert len(typed) == 320
    assert sum(1 for _, ty, _ in typed if ty == "F32") == 133
    # 492.61 MiB file (made under llama.cpp's older fused-qkv rule, attn_qkv at Q5_K): within 0.5%
    assert abs(weights(m, q).total_bytes / (492.61 * MIB) - 1) < 0.005


def test_mamba2_layers_and_granite_hybrid_counts():
    m = get("granite4:tiny-h")
    assert m.layer_pattern.count("*") == 4 and m.layer_pattern.index("*") == 5
    names = {t.name for t in build_tensors(m) if t.layer == 0}
    assert {"blk.0.ssm_in.weight", "blk.0.ssm_conv1d.weight", "blk.0.ssm_a", "blk.0.ssm_d", "blk.0.ssm_out.weight"} <= names
    assert "blk.0.attn_q.weight" not in names and "blk.5.attn_q.weight" in {t.name for t in build_tensors(m)}
    # IBM: granite-4.0-h-tiny "7B" total, ~1B active; h-1b 1.5B
    assert 6.8e9 < count_params(m) < 7.0e9 and 0.9e9 < active_params(m) < 1.5e9
    assert 1.4e9 < count_params(get("granite4:1b-h")) < 1.6e9
    # conv kernels stay F32 at every quantization (llama-quant.cpp: "do not quantize Mamba's small yet 2D weights")
    typed = {t.name: ty for t, ty, _ in weights_by_tensor(m, get_quant("Q4_K_M"))}
    assert typed["blk.0.ssm_conv1d.weight"] == "F32" and typed["blk.0.ssm_in.weight"] != "F32"


def test_hybrid_kv_is_a_fraction_of_a_dense_models():
    """The point of the issue: Qwen3-Next at its full 262k context needs ~6 GiB of KV, not the ~48 GiB a model with
    48 attention layers of the same shape would."""
    m = get("qwen3-next:80b")
    req = FitRequest(context=262144)
    dense = replace(m, ssm=None, layer_pattern="")
    assert kv_cache_bytes(m, req)[0] < kv_cache_bytes(dense, req)[0] / 3.5


def _qwen35_config(**text):
    cfg = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=64,
               intermediate_size=512, vocab_size=320, linear_num_key_heads=2, linear_key_head_dim=32,
               linear_num_value_heads=4, linear_value_head_dim=32, linear_conv_kernel_dim=4,
               layer_types=["linear_attention"] * 3 + ["full_attention"])
    cfg.update(text)
    return {"architectures": ["Qwen3_5ForCausalLM"], **cfg}


def test_config_layer_types_map_onto_the_pattern():
    m = model_from_config(_qwen35_config(), "x/tiny")
    assert m.layer_pattern == "MMM*" and m.ssm == SSM("gated_deltanet", 4, 128, 32, 2, 4)


@pytest.mark.parametrize("cfg,named", [
    (_qwen35_config(layer_types=["linear_attention", "sliding_attention", "mystery_mixer", "full_attention"]), "sliding_attention"),
    (_qwen35_config(layer_types=["linear_attention", "mystery_mixer", "linear_attention", "full_attention"]), "mystery_mixer"),
    ({"architectures": ["NemotronHForCausalLM"], "hidden_size": 256, "num_hidden_layers": 3, "num_attention_heads": 4,
      "vocab_size": 320, "hybrid_override_pattern": "M*Q", "mamba_num_heads": 4, "mamba_head_dim": 32,
      "ssm_state_size": 16, "n_groups": 1, "conv_kernel": 4}, "'Q'"),
])
def test_an_unknown_layer_kind_is_named(cfg, named):
    with pytest.raises(UnknownModelError, match="unknown layer kind") as exc:
        model_from_config(cfg, "x/odd")
    assert named in str(exc.value)


def test_layer_types_of_the_wrong_length_are_refused():
    with pytest.raises(UnknownModelError, match="3 layer kinds for 4 layers"):
        model_from_config(_qwen35_config(layer_types=["linear_attention"] * 2 + ["full_attention"]), "x/short")


def test_a_hybrid_gguf_reads_its_recurrent_layers_from_its_tensors(tmp_path):
    m = model_from_config(_qwen35_config(tie_word_embeddings=True), "x/tiny")
    tensors = [(t.name, t.shape, T.F32) for t in build_tensors(m)]
    extra = {f"qwen35.{k}": (v, V.UINT32) for k, v in {
        "ssm.conv_kernel": 4, "ssm.inner_size": 128, "ssm.state_size": 32, "ssm.group_count": 2,
        "ssm.time_step_rank": 4, "attention.key_length": 64}.items()}
    path = tmp_path / "q35.gguf"
    write_gguf(path, "qwen35", n_layers=4, d=256, ff=512, n_heads=4, n_kv=2, vocab=320, tensors=tensors, extra=extra)
    g = read_local(str(path)).model
    assert g.layer_pattern == "MMM*" and g.ssm == m.ssm
    req = FitRequest(context=4096, n_parallel=2)
    assert kv_cache_bytes(g, req) == kv_cache_bytes(m, req)
    # a recurrent block without the SSM keys it needs is a bad file, not a crash
    bad = dict(extra)
    bad["qwen35.ssm.time_step_rank"] = (0, V.UINT32)
    write_gguf(path, "qwen35", n_layers=4, d=256, ff=512, n_heads=4, n_kv=2, vocab=320, tensors=tensors, extra=bad)
    with pytest.raises(BadFileError, match="SSM heads"):
        read_local(str(path))


@pytest.mark.parametrize("name,model_id", [
    ("qwen3-next:80b", "qwen3-next:80b"), ("Qwen/Qwen3-Next-80B-A3B-Instruct", "qwen3-next:80b"),
    ("qwen3-next", "qwen3-next:80b"), ("Qwen/Qwen3-Coder-Next", "qwen3-coder-next:80b"),
    ("ibm-granite/granite-4.0-h-tiny", "granite4:tiny-h"), ("Qwen/Qwen3.5-9B", "qwen3.5:9b"),
])
def test_hybrid_models_resolve_offline(name, model_id):
    assert resolve(name).model.id == model_id
