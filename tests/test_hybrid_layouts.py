"""The hybrid layouts added in session 8: Nemotron-H MoE (Nemotron 3 Nano), Falcon-H1 (attention and Mamba-2 side by
side in every layer), LFM2 (gated short convolutions) and Jamba's Mamba-1; memory per layer kind as llama.cpp
allocates it, checked against published counts and real GGUF files, not against this code.

Sources of the expected numbers (data/models.yaml names each entry's config):
- LFM2 card (huface.ru/LiquidAI/LFM2-2.6B): 354,483,968 / 1,170,340,608 / 2,569,272,320 parameters.
- Nemotron 3 Nano: 31.6B total (card); GGUF keys ssm.inner_size 4096, time_step_rank 64, group_count 8 (LM Studio
  bug-tracker #1365 load log); bartowski Q4_K_M 24,655,899,872 B.
- Exact GGUF byte sizes: code-index file ids 70908152962 (fetch table) and 69435888322 (IBM H-Micro pins).
- llama.cpp src/llama-hparams.cpp n_embd_r / n_embd_s and src/llama-model.cpp create_memory (layer filters).
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
from selfhost_advisor.errors import UnknownModelError
from selfhost_advisor.estimate import vllm_hybrid
from selfhost_advisor.estimate.memory import kv_cache_bytes, state_bytes, weights, weights_by_tensor
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

MIB = 2**20


def _err(model_id: str, quant: str, real: int) -> float:
    return weights(get(model_id), get_quant(quant)).total_bytes / real - 1


# --- Nemotron 3 Nano (nemotron_h_moe) ---------------------------------------------------------------------------

def test_nemotron3_nano_layout_counts_and_gguf_keys():
    m = get("nemotron-3-nano:30b")
    assert (m.arch, m.layer_pattern.count("M"), m.layer_pattern.count("E"), m.layer_pattern.count("*")) == (
        "nemotron_h_moe", 23, 23, 6)
    # the llama.cpp keys of the published GGUF (LM Studio #1365)
    assert (m.ssm.d_inner, m.ssm.dt_rank, m.ssm.n_group, m.ssm.d_state, m.ssm.d_conv) == (4096, 64, 8, 128, 4)
    assert (m.moe.experts, m.moe.expert_intermediate_size, m.moe.shared_intermediate_size) == (128, 1856, 3712)
    assert round(count_params(m) / 1e9, 1) == 31.6  # "31.6B total"
    names = {t.name for t in build_tensors(m)}
    # ungated squared-ReLU experts and shared expert, a routing bias (src/models/nemotron-h.cpp)
    assert "blk.1.ffn_up_exps.weight" in names and "blk.1.ffn_gate_exps.weight" not in names
    assert "blk.1.ffn_up_shexp.weight" in names and "blk.1.ffn_gate_shexp.weight" not in names
    assert "blk.1.exp_probs_b.bias" in names and "blk.0.ffn_up_exps.weight" not in names


def test_nemotron3_nano_state_and_kv_per_layer_kind():
    m = get("nemotron-3-nano:30b")
    req = FitRequest(context=32768, n_parallel=2)
    _, per_layer = kv_cache_bytes(m, req)
    # Mamba-2 layer: F32 r = 3 x (4096 + 2 x 8 x 128) and s = 128 x 4096 per sequence; MoE layers hold nothing
    state = 4 * (3 * (4096 + 2 * 8 * 128) + 128 * 4096) * 2
    assert {per_layer[i] for i in range(52) if m.layer_pattern[i] == "M"} == {state}
    assert {per_layer[i] for i in range(52) if m.layer_pattern[i] == "E"} == {0}
    assert state_bytes(m, req) == 23 * state
    kv = {per_layer[i] for i in range(52) if m.layer_pattern[i] == "*"}
    assert kv == {32768 * 2 * 128 * 2 * 2}  # cells x KV heads x head dim x (K + V) x f16


def test_nemotron3_nano_q4_k_m_matches_bartowskis_file():
    assert abs(_err("nemotron-3-nano:30b", "Q4_K_M", 24_655_899_872)) < 0.01


def _nemotron_cfg(**kw):
    cfg = {"architectures": ["NemotronHForCausalLM"], "hidden_size": 256, "num_hidden_layers": 4,
           "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 320,
           "hybrid_override_pattern": "ME*E", "mamba_num_heads": 4, "mamba_head_dim": 32, "ssm_state_size": 16,
           "n_groups": 2, "conv_kernel": 4, "n_routed_experts": 8, "num_experts_per_tok": 2,
           "moe_intermediate_size": 64, "moe_shared_expert_intermediate_size": 128, "n_shared_experts": 1}
    cfg.update(kw)
    return cfg


def test_a_nemotron_h_config_with_moe_layers_is_sized_not_refused():
    m = model_from_config(_nemotron_cfg(), "x/nano")
    assert m.arch == "nemotron_h_moe" and m.layer_pattern == "ME*E" and m.moe.experts == 8
    assert [m.is_moe_layer(i) for i in range(4)] == [False, True, False, True]
    spelled = _nemotron_cfg(layers_block_type=["mamba", "moe", "attention", "moe"])
    del spelled["hybrid_override_pattern"]
    assert model_from_config(spelled, "x/nano2").layer_pattern == "ME*E"


def test_an_unknown_block_type_is_named():
    # (a latent MoE, once refused here, is sized since session 9: tests/test_latent_moe.py)
    with pytest.raises(UnknownModelError, match="unknown layer kind 'retention'"):
        model_from_config(_nemotron_cfg(layers_block_type=["mamba", "retention", "attention", "moe"]), "x/odd")


# --- Falcon-H1: every layer attention + Mamba-2 ------------------------------------------------------------------

def test_falcon_h1_gives_every_layer_both_kv_and_state():
    m = get("falcon-h1:7b")
    req = FitRequest(context=8192)
    _, per_layer = kv_cache_bytes(m, req)
    kv = 8192 * 2 * 128 * 2 * 2
    state = 4 * (3 * (3072 + 2 * 256) + 256 * 3072)
    assert set(per_layer) == {kv + state}  # llama.cpp create_memory: filter_attn and filter_recr both true
    assert state_bytes(m, req) == 44 * state
    names = {t.name for t in build_tensors(m) if t.layer == 0}
    assert {"blk.0.ssm_in.weight", "blk.0.attn_q.weight", "blk.0.ffn_gate.weight"} <= names
    assert "blk.0.ssm_norm.weight" not in names  # mamba_rms_norm false


def test_falcon_h1_q8_0_and_q4_k_m_match_tiis_files():
    assert abs(_err("falcon-h1:1.5b", "Q8_0", 1_656_492_736)) < 0.005
    assert abs(_err("falcon-h1:0.5b", "Q4_K_M", 314_806_560)) < 0.01  # tensor data only: +the tokenizer's bytes
    assert round(count_params(get("falcon-h1:0.5b")) / 1e6) == 521  # "521 million parameters"


# --- LFM2: gated short convolutions ------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id,params", [("lfm2:350m", 354_483_968), ("lfm2:1.2b", 1_170_340_608),
                                             ("lfm2:2.6b", 2_569_272_320)])
def test_lfm2_tensors_reproduce_the_cards_parameter_counts(model_id, params):
    assert count_params(get(model_id)) == params


def test_lfm2_conv_layers_keep_two_inputs_and_no_state():
    m = get("lfm2:1.2b")
    assert m.ssm == SSM("shortconv", 3, 2048, 0, 0, 0) and m.layer_pattern.count("*") == 6
    req = FitRequest(context=4096, n_parallel=3)
    # llama-hparams.cpp n_embd_r = n_embd x (l_cache - 1), n_embd_s = 0; F32, one row per sequence
    assert state_bytes(m, req) == 10 * 4 * 2048 * 2 * 3
    # llama-server -c 4096 -np 3 (an explicit -np: one KV stream per slot, src/llama-context.cpp): n_ctx_seq =
    # PAD(4096 / 3, 256) = 1536 cells per slot, 4608 in all
    assert kv_cache_bytes(m, req)[0] - state_bytes(m, req) == 6 * 3 * 1536 * 8 * 64 * 2 * 2
    typed = {t.name: ty for t, ty, _ in weights_by_tensor(m, get_quant("Q4_K_M"))}
    assert typed["blk.0.shortconv.conv.weight"] == "F32"  # llama-quant.cpp keeps shortconv.conv unquantized


def test_lfm2_gguf_files_match_and_the_350m_gap_is_the_shared_tokenizer():
    e350, e12 = _err("lfm2:350m", "Q4_K_M", 229_309_376), _err("lfm2:1.2b", "Q4_K_M", 730_893_248)
    assert abs(e12) < 0.005 and abs(_err("lfm2:8b-a1b", "Q4_K_M", 5_044_779_712)) < 0.005
    # both files are short of the estimate by the same ~2.4 MB: the 65,536-token tokenizer both carry
    gap350 = 229_309_376 - weights(get("lfm2:350m"), get_quant("Q4_K_M")).total_bytes
    gap12 = 730_893_248 - weights(get("lfm2:1.2b"), get_quant("Q4_K_M")).total_bytes
    assert gap350 == gap12 and 2e6 < gap350 < 3e6 and abs(e350) < 0.011


def test_lfm2_config_spellings():
    base = {"architectures": ["Lfm2ForCausalLM"], "hidden_size": 256, "num_hidden_layers": 4,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 320, "conv_L_cache": 3,
            "block_ff_dim": 768, "block_auto_adjust_ff_dim": True, "block_ffn_dim_multiplier": 1.0,
            "block_multiple_of": 256}
    a = model_from_config(dict(base, full_attn_idxs=[1, 3]), "x/a")
    b = model_from_config(dict(base, layer_types=["conv", "full_attention", "conv", "full_attention"]), "x/b")
    assert a.layer_pattern == b.layer_pattern == "M*M*" and a.tied_embeddings
    assert a.intermediate_size == 512  # conversion/lfm2.py: 2/3 of 768, rounded up to 256
    with pytest.raises(UnknownModelError, match="unknown layer kind 'sliding_conv'"):
        model_from_config(dict(base, layer_types=["conv", "sliding_conv", "conv", "full_attention"]), "x/c")


# --- Granite 4.0 H-Micro --------------------------------------------------------------------------------------

@pytest.mark.parametrize("quant,real", [("Q2_K", 1_226_247_840), ("Q3_K_M", 1_555_472_032), ("Q4_K_M", 1_942_564_512),
                                        ("Q5_K_M", 2_273_455_776), ("Q8_0", 3_397_676_704)])
def test_granite4_h_micro_matches_ibms_files(quant, real):
    assert abs(_err("granite4:micro-h", quant, real)) < 0.003


def test_granite4_h_small_matches_ibms_q4_k_m_only_with_one_bc_group():
    # IBM's granite-4.0-h-small-Q4_K_M.gguf: 19,476,621,984 B (code-index file id 67060207828). The config copy gives
    # no mamba_n_groups; transformers' default (1) lands within 0.05%, 8 groups (Nemotron's) would be +0.8%.
    from selfhost_advisor.record import replace

    m = get("granite4:small-h")
    assert abs(_err("granite4:small-h", "Q4_K_M", 19_476_621_984)) < 0.0005
    eight = replace(m, ssm=replace(m.ssm, n_group=8))
    assert weights(eight, get_quant("Q4_K_M")).total_bytes / 19_476_621_984 - 1 > 0.007
    assert round(count_params(m) / 1e9) == 32 and round(active_params(m) / 1e9) == 9  # "32B total / 9B active"


# --- GGUF headers and Jamba's Mamba-1 ---------------------------------------------------------------------------

def test_gguf_headers_tell_parallel_shortconv_and_moe_blocks_apart(tmp_path):
    def blocks(i: int, kinds: str) -> list:
        p, out = f"blk.{i}.", [(f"blk.{i}.attn_norm.weight", (64,), T.F32)]
        if "c" in kinds:
            out.append((p + "ssm_conv1d.weight", (4, 96), T.F32))
        if "s" in kinds:
            out.append((p + "shortconv.conv.weight", (3, 64), T.F32))
        if "a" in kinds:
            out += [(p + "attn_k.weight", (64, 32), T.F16), (p + "attn_output.weight", (64, 64), T.F16)]
        if "e" in kinds:
            out.append((p + "ffn_up_exps.weight", (64, 32, 4), T.F16))
        return out

    def read(arch, kinds, extra):
        ts = [("token_embd.weight", (64, 320), T.F16)] + [t for i, k in enumerate(kinds) for t in blocks(i, k)]
        path = tmp_path / f"{arch}.gguf"
        write_gguf(path, arch, n_layers=len(kinds), d=64, ff=128, n_heads=2, n_kv=1, vocab=320, tensors=ts,
                   extra={f"{arch}.{k}": (v, V.UINT32) for k, v in extra.items()})
        return read_local(str(path)).model

    ssm = {"ssm.conv_kernel": 4, "ssm.inner_size": 64, "ssm.state_size": 16, "ssm.group_count": 1,
           "ssm.time_step_rank": 2}
    assert read("falcon-h1", ["ca", "ca"], ssm).layer_pattern == "PP"
    assert read("nemotron_h_moe", ["c", "e", "a", "e"], dict(ssm, expert_count=4, expert_used_count=2)).layer_pattern == "ME*E"
    lfm = read("lfm2", ["s", "a", "s"], {"shortconv.l_cache": 3})
    assert lfm.layer_pattern == "M*M" and lfm.ssm == SSM("shortconv", 3, 64, 0, 0, 0)


def test_jamba_config_maps_mamba1_and_its_moe_layers():
    cfg = {"architectures": ["JambaForCausalLM"], "hidden_size": 256, "num_hidden_layers": 8,
           "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 512, "vocab_size": 320,
           "attn_layer_period": 8, "attn_layer_offset": 4, "expert_layer_period": 2, "expert_layer_offset": 1,
           "num_experts": 4, "num_experts_per_tok": 2, "mamba_d_state": 16, "mamba_d_conv": 4, "mamba_expand": 2,
           "mamba_dt_rank": 16}
    m = model_from_config(cfg, "x/jamba")
    assert m.layer_pattern == "MMMM*MMM" and m.ssm == SSM("mamba", 4, 512, 16, 0, 16)
    assert [m.is_moe_layer(i) for i in range(4)] == [False, True, False, True]
    # Mamba-1: n_embd_r = (d_conv - 1) x d_inner, n_embd_s = d_state x d_inner (llama-hparams.cpp, n_group 0)
    assert state_bytes(m, FitRequest(context=1024)) == 7 * 4 * (3 * 512 + 16 * 512)
    names = {t.name for t in build_tensors(m)}
    assert {"blk.0.ssm_x.weight", "blk.0.ssm_dt_norm.weight", "blk.1.ffn_gate_exps.weight"} <= names
    assert count_params(m) > active_params(m)


# --- vLLM keeps the same kinds in its hybrid pool --------------------------------------------------------------

def test_vllm_groups_the_new_hybrids():
    assert vllm_hybrid.group_counts(get("nemotron-3-nano:30b")) == (6, 1, 4)  # 6 attention, 23 Mamba layers
    assert vllm_hybrid.group_counts(get("falcon-h1:7b")) == (44, 1, 1)  # one attention and one Mamba layer each
    lfm = get("lfm2:1.2b")
    assert vllm_hybrid.is_hybrid(lfm)
    # a short-convolution layer's page: (L - 1) x hidden / TP in 16 bits, no temporal state
    assert vllm_hybrid.state_page_bytes(lfm, 1) == 2 * 2048 * 2


@pytest.mark.parametrize("name,model_id", [("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "nemotron-3-nano:30b"),
                                           ("tiiuae/Falcon-H1-7B-Instruct", "falcon-h1:7b"),
                                           ("LiquidAI/LFM2-1.2B", "lfm2:1.2b"), ("granite-4.0-h-micro", "granite4:micro-h")])
def test_new_hybrids_resolve_offline(name, model_id):
    assert resolve(name).model.id == model_id


# --- Gemma 3n: per-layer embeddings in host memory, KV shared by the last layers ----------------------------------

def test_gemma3n_tensors_match_a_published_file_listing():
    # llamafile#772: LM Studio's gemma-3n-E4B-it-Q4_K_M.gguf (June 2025) holds 847 tensors: f32 422, f16 108,
    # q4_K 282, q6_K 35. Ours: the same count and float types; current llama-quant types the tied per-layer table
    # like the output head (Q6_K) where that file, made under the rule of its month, has Q4_K: one tensor moves.
    from collections import Counter

    typed = weights_by_tensor(get("gemma3n:e4b"), get_quant("Q4_K_M"))
    counts = Counter(ty for _, ty, _ in typed)
    assert len(typed) == 847 and counts["F32"] == 422 and counts["F16"] == 108
    assert (counts["Q4_K"], counts["Q6_K"]) == (282 - 1, 35 + 1)
    assert {t.name: ty for t, ty, _ in typed}["per_layer_token_embd.weight"] == "Q6_K"


@pytest.mark.parametrize("model_id,real", [("gemma3n:e4b", 7_353_292_256), ("gemma3n:e2b", 4_788_112_064)])
def test_gemma3n_q8_0_matches_ggml_orgs_files(model_id, real):
    assert abs(_err(model_id, "Q8_0", real)) < 0.002


def test_gemma3n_keeps_kv_in_20_layers_and_the_per_layer_table_on_the_host():
    from selfhost_advisor.estimate.memory import estimate_memory

    m = get("gemma3n:e4b")
    _, per_layer = kv_cache_bytes(m, FitRequest(context=32768))
    # create_memory's reuse: layers >= 20 attend with layer 18's / 19's cache; of the 20, every 5th is full
    assert [i for i, b in enumerate(per_layer) if b] == list(range(20))
    cell = 2 * 2 * 256 * 2  # K + V, 2 KV heads x 256, f16
    assert sum(per_layer) == 4 * 32768 * cell + 16 * 1024 * cell  # window 512 + ubatch 512 -> 1024 cells
    w = weights(m, get_quant("Q8_0"))
    mem = estimate_memory(m, get_quant("Q8_0"), FitRequest(context=4096))
    assert mem.input_embedding_bytes == w.input_embedding_bytes + w.per_layer_embedding_bytes
    assert w.per_layer_embedding_bytes > 0.3 * w.total_bytes  # 35 x 256 values per token: a third of the file
    assert mem.output_bytes - w.other_bytes == w.input_embedding_bytes  # the tied head duplicates token_embd only


def test_gemma3n_config_maps_per_layer_lists_and_refuses_uneven_ones():
    cfg = {"architectures": ["Gemma3nForConditionalGeneration"], "text_config": {
        "vocab_size": 512, "vocab_size_per_layer_input": 500, "hidden_size": 64, "hidden_size_per_layer_input": 8,
        "intermediate_size": [128] * 5, "num_hidden_layers": 5, "num_attention_heads": 2, "num_key_value_heads": 1,
        "head_dim": 32, "sliding_window": 16, "altup_num_inputs": 4, "laurel_rank": 4, "num_kv_shared_layers": 2,
        "layer_types": ["sliding_attention"] * 4 + ["full_attention"]}}
    m = model_from_config(cfg, "x/g3n")
    assert (m.intermediate_size, m.kv_shared_layers, m.altup.per_layer_vocab, m.sliding_window_pattern) == (128, 2, 512, 5)
    cfg["text_config"]["intermediate_size"] = [128, 128, 256, 128, 128]
    with pytest.raises(UnknownModelError, match="per-layer FFN widths"):
        model_from_config(cfg, "x/g3n")


def test_vllm_block_and_pool_of_the_nemotron3_geometry_match_a_logged_engine():
    # A stored deployment note of NVIDIA-Nemotron-3.5-Lightning-30B-A3B (code-index file id 57869249367): the same
    # 6 attention (2 KV heads x 128) + 23 Mamba-2 layers as Nemotron 3 Nano, 542,720 state values per layer, served
    # with --mamba-ssm-cache-dtype float16. Its vLLM log: "Setting attention block size to 1072 tokens" (bf16 KV;
    # 2128 with fp8 KV), and a 1 GiB pool holds 163 blocks.
    m = get("nemotron-3-nano:30b")
    ssm = m.ssm
    assert (ssm.d_conv - 1) * (ssm.d_inner + 2 * ssm.n_group * ssm.d_state) + ssm.d_state * ssm.d_inner == 542_720
    assert vllm_hybrid.block_tokens(m, 1, 2) == 1072 and vllm_hybrid.block_tokens(m, 1, 1) == 2128
    size, _, _ = vllm_hybrid.group_counts(m)
    assert (1 << 30) // (size * vllm_hybrid.page_bytes(m, 1, 2)) == 163


def test_a_decilm_gguf_keeps_kv_only_in_blocks_that_attend(tmp_path):
    # llama.cpp `deci` (Llama-3.x Nemotron Super / Ultra): n_head_kv 0 blocks have no attention, or one linear map
    # (attn_output only); src/models/deci.cpp. The Ultra 253B's GGUF lists n_head_kv 0 for many of its 162 layers
    # (ggml-org/llama.cpp#12843 load log).
    def block(i: int, kind: str) -> list:
        p = f"blk.{i}."
        out = [(p + "ffn_norm.weight", (64,), T.F32), (p + "ffn_up.weight", (64, 128), T.F16)]
        if kind == "attn":
            out += [(p + "attn_norm.weight", (64,), T.F32), (p + "attn_k.weight", (64, 32), T.F16),
                    (p + "attn_output.weight", (64, 64), T.F16)]
        elif kind == "linear":
            out += [(p + "attn_norm.weight", (64,), T.F32), (p + "attn_output.weight", (64, 64), T.F16)]
        return out

    kinds = ["attn", "linear", "none", "attn"]
    ts = [("token_embd.weight", (64, 320), T.F16)] + [t for i, k in enumerate(kinds) for t in block(i, k)]
    path = tmp_path / "deci.gguf"
    write_gguf(path, "deci", n_layers=4, d=64, ff=128, n_heads=2, n_kv=1, vocab=320, tensors=ts)
    m = read_local(str(path)).model
    assert m.layer_pattern == "*--*" and m.ssm is None
    _, per_layer = kv_cache_bytes(m, FitRequest(context=1024))
    assert [b > 0 for b in per_layer] == [True, False, False, True]


def test_granite4_h_tiny_state_rows_equal_llama_cpps_own_n_embd_r_and_n_embd_s():
    # A gdb session on llama.cpp with unsloth's granite-4.0-h-tiny-Q4_0.gguf (danbev's llama.cpp notes, stored copy,
    # code-index file id 39910662524) prints hparams.n_embd_r() = 9984 and hparams.n_embd_s() = 393216, and the F32
    # state tensors cache_r_l0 {9984, 1} and the SSM states {393216, 1} for its one sequence slot.
    m = get("granite4:tiny-h")
    per_layer = state_bytes(m, FitRequest(context=4096)) // m.layer_pattern.count("M")
    assert per_layer == 4 * (9984 + 393216)
