"""Session-11 layer kinds and families (data/models.yaml `# --- session 11: newarch`): Ling 2.0 (bailingmoe2), Trinity (afmoe).

Expected values come from outside the estimator: llama.cpp's own parameter counts of real files (llama-server's
/v1/models, llama-bench's params column), the Hub's safetensors totals, the configs as stored copies state them (each
entry's `source`), llama.cpp's cache rules worked by hand (src/llama-kv-cache-iswa.cpp) and the real GGUF files in
benchmarks/heldout (recorded before the layouts were written).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get, resolve
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.tensors import active_params, build_tensors, count_params

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402

NEW = ("ling-mini-2.0:16b", "ling-flash-2.0:100b", "ling-1t:1t", "trinity-nano:6b", "trinity-mini:26b", "mimo-v2-flash:309b")

# mlx-community/Trinity-Nano-Preview-4bit config.json as a stored MLX port's test copies it field for field (code-index
# file id 61156496130), its layer_types written out for all 56 layers as that file's own rule states them (3 sliding :
# 1 full; a llama-server run reports 14 full + 42 sliding layers, file id 68961337833).
TRINITY_NANO = {
    "architectures": ["AfmoeForCausalLM"], "global_attn_every_n_layers": 4, "head_dim": 128, "hidden_size": 1024,
    "intermediate_size": 3072, "max_position_embeddings": 131072, "model_type": "afmoe", "moe_intermediate_size": 256,
    "num_attention_heads": 8, "num_dense_layers": 2, "num_experts": 128, "num_experts_per_tok": 8,
    "num_hidden_layers": 56, "num_key_value_heads": 2, "num_shared_experts": 1, "sliding_window": 2048,
    "tie_word_embeddings": False, "vocab_size": 200192,
    "layer_types": ["full_attention" if (i + 1) % 4 == 0 else "sliding_attention" for i in range(56)],
}
# The official configuration_bailing_moe_v2.py defaults, which are Ling-mini-2.0's (NVIDIA's mirror of it, file id
# 54836822099), and the Ming-flash-omni-2.0 language model's (= Ling-flash-2.0) adapter defaults (file id 55041003747).
LING_MINI = {
    "architectures": ["BailingMoeV2ForCausalLM"], "vocab_size": 157184, "hidden_size": 2048, "intermediate_size": 5120,
    "num_hidden_layers": 20, "num_attention_heads": 16, "num_key_value_heads": 4, "tie_word_embeddings": False,
    "max_position_embeddings": 32768, "num_experts": 256, "num_shared_experts": 1, "num_experts_per_tok": 8,
    "moe_intermediate_size": 512, "first_k_dense_replace": 1, "head_dim": 128, "use_qk_norm": True,
    "num_nextn_predict_layers": 0,
}
# Trinity Mini: the Nano config with the Mini's "key differences from Nano" (a stored Neuron port's tests, file id 52090868887)
TRINITY_MINI = {**TRINITY_NANO, "hidden_size": 2048, "intermediate_size": 6144, "moe_intermediate_size": 1024,
                "num_attention_heads": 32, "num_dense_layers": 2, "num_hidden_layers": 32, "num_key_value_heads": 4,
                "layer_types": ["full_attention" if (i + 1) % 4 == 0 else "sliding_attention" for i in range(32)]}
LING_FLASH = {**LING_MINI, "hidden_size": 4096, "intermediate_size": 9216, "num_hidden_layers": 32,
              "num_attention_heads": 32, "moe_intermediate_size": 1024}


def test_ling_mini_total_is_llama_cpps_count_of_the_real_file():
    # llama-server /v1/models on bartowski's Q4_K_M: "n_params: 16.26 B" (code-index file id 60388857260); the card's
    # 1.4B activated per token
    m = get("ling-mini-2.0:16b")
    assert round(count_params(m) / 1e9, 2) == 16.26
    assert round(active_params(m) / 1e9, 1) == 1.4


def test_ling_flash_total_is_the_hubs_safetensors_count_exactly():
    # inclusionAI/Ling-flash-2.0 on the Hub: safetensors total 102,889,705,216 (F32 7,936 = 31 x 256 expert biases);
    # llama-bench of a Q4_K_M: 102.89 B params. The card: 6.1B activated.
    m = get("ling-flash-2.0:100b")
    assert count_params(m) == 102_889_705_216
    assert sum(t.n_elements for t in build_tensors(m) if t.name.endswith("exp_probs_b.bias")) == 7_936
    assert round(active_params(m) / 1e9, 1) == 6.2 and abs(active_params(m) / 6.1e9 - 1) < 0.01


def test_ling_1t_is_llama_cpps_load_of_the_real_q8_0():
    # ik_llama.cpp loading ubergarm's Ling-1T Q8_0 (code-index file id 38973713801): 1103 tensors, "type f32: 473
    # tensors, type q8_0: 630 tensors", model params = 999.705 B, KV self size = 160.00 MiB at n_ctx 512
    from collections import Counter

    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.memory import weights_by_tensor

    m = get("ling-1t:1t")
    assert round(count_params(m) / 1e9, 3) == 999.705 and len(build_tensors(m)) == 1103
    assert Counter(ty for _, ty, _ in weights_by_tensor(m, get_quant("Q8_0"))) == {"Q8_0": 630, "F32": 473}
    kv, _ = kv_cache_bytes(m, FitRequest(context=512, engine="llamacpp"))
    assert kv == 160 * 2**20


def test_ling_block_is_llama_cpps_bailingmoe2_tensor_set():
    # src/models/bailingmoe2.cpp load_arch_tensors: attn_qkv {n_embd, n_embd + 2 n_embd_gqa}, per-head q/k norms, the
    # first n_layer_dense_lead blocks dense, the rest router + exp_probs_b + experts + shared expert
    names = {t.name: t.shape for t in build_tensors(get("ling-mini-2.0:16b"))}
    assert names["blk.0.attn_qkv.weight"] == (2048, 2048 + 2 * 4 * 128)
    assert names["blk.0.attn_q_norm.weight"] == (128,) and "blk.0.attn_q.weight" not in names
    assert "blk.0.ffn_gate.weight" in names and "blk.0.ffn_gate_inp.weight" not in names
    assert names["blk.1.ffn_gate_exps.weight"] == (2048, 512, 256) and names["blk.1.exp_probs_b.bias"] == (256,)
    assert names["blk.1.ffn_up_shexp.weight"] == (2048, 512)
    assert "output.weight" in names


@pytest.mark.parametrize("model_id,config", [("ling-mini-2.0:16b", LING_MINI), ("ling-flash-2.0:100b", LING_FLASH),
                                             ("trinity-nano:6b", TRINITY_NANO), ("trinity-mini:26b", TRINITY_MINI)])
def test_entries_are_what_their_configs_give(model_id, config):
    m, c = get(model_id), model_from_config(config, "repo/x")
    assert (c.arch, c.n_layers, c.moe, c.sliding_window, c.sliding_window_pattern, c.qk_norm) == (
        m.arch, m.n_layers, m.moe, m.sliding_window, m.sliding_window_pattern, True)
    assert count_params(c) == count_params(m)


def test_trinity_nano_matches_its_card_and_has_the_afmoe_block():
    m = get("trinity-nano:6b")
    # the Hub card: 6B total, 1B active (a stored survey of the Hub API, file id 68838893465)
    assert round(count_params(m) / 1e9) == 6 and round(active_params(m) / 1e9) == 1
    names = {t.name: t.shape for t in build_tensors(m)}
    # afmoe.cpp: attn_gate beside q/k/v, four norms a block, two dense lead layers
    assert names["blk.0.attn_gate.weight"] == (1024, 8 * 128)
    for norm in ("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"):
        assert names[f"blk.5.{norm}.weight"] == (1024,)
    assert "blk.1.ffn_gate.weight" in names and names["blk.2.ffn_gate_exps.weight"] == (1024, 256, 128)


def test_trinity_mini_matches_its_stated_size():
    # the Hub survey: Trinity Mini 26B total, 3B active (its name: 26B-A3B); a stored Ollama table lists the GGUF at 26.1 B
    m = get("trinity-mini:26b")
    assert round(count_params(m) / 1e9, 1) == 26.1 and 3e9 < active_params(m) < 3.5e9


def test_trinity_kv_is_full_context_in_14_layers_and_the_window_in_42():
    # llama.cpp afmoe: LLAMA_SWA_TYPE_STANDARD, every 4th layer full (il + 1) % 4 == 0. llama_kv_cache_iswa: full
    # layers PAD(n_ctx, 256) cells, sliding layers PAD(min(n_ctx, n_swa + n_ubatch), 256) = 2048 + 512 = 2560 cells.
    # A cell: 2 KV heads x 128 x (K + V) x 2 bytes (f16) = 1024 bytes.
    kv, per_layer = kv_cache_bytes(get("trinity-nano:6b"), FitRequest(context=32768, engine="llamacpp"))
    assert kv == 1024 * (14 * 32768 + 42 * 2560)
    assert per_layer[3] == 1024 * 32768 and per_layer[0] == 1024 * 2560


def test_ling_kv_is_plain_gqa_in_every_layer():
    # bailingmoe2.cpp build_attn_inp_kv: one unified cache, 4 KV heads x 128 x (K + V) x f16 per layer and token
    for model_id, layers in (("ling-mini-2.0:16b", 20), ("ling-flash-2.0:100b", 32)):
        kv, _ = kv_cache_bytes(get(model_id), FitRequest(context=16384, engine="llamacpp"))
        assert kv == layers * 16384 * 4 * 128 * 2 * 2, model_id


@pytest.mark.parametrize("name,model_id", [
    ("inclusionAI/Ling-mini-2.0", "ling-mini-2.0:16b"), ("ling-mini-2.0", "ling-mini-2.0:16b"),
    ("inclusionAI/Ling-flash-2.0", "ling-flash-2.0:100b"), ("ling-flash-2.0", "ling-flash-2.0:100b"),
    ("inclusionAI/Ling-1T", "ling-1t:1t"),
    ("arcee-ai/Trinity-Nano-Preview", "trinity-nano:6b"), ("trinity-nano", "trinity-nano:6b"),
    ("arcee-ai/Trinity-Mini", "trinity-mini:26b"), ("XiaomiMiMo/MiMo-V2-Flash", "mimo-v2-flash:309b"),
    ("step-3.7-flash", "step-3.7-flash:197b"), ("laguna-xs-2.1", "laguna-xs-2.1:33b"),
])
def test_names_resolve(name, model_id):
    assert resolve(name).model.id == model_id


def test_heldout_files_of_the_new_layouts():
    rows = {(r["model"], r["quant"]): r["error_pct"] for r in accuracy.heldout_rows() if r["catalog"] in NEW}
    assert len(rows) == 6
    # Ling-1T Q8_0: llama.cpp's model size (989.678 GiB of tensors) to the printed precision
    assert abs(rows[("ubergarm/Ling-1T-GGUF", "Q8_0")]) < 0.001
    # inclusionAI's own Ling-mini Q4_K_M (exact bytes) and a llama-bench Ling-flash Q4_K_M (tensor bytes, GiB 2dp)
    assert abs(rows[("inclusionAI/Ling-mini-2.0-GGUF", "Q4_K_M")]) < 0.05
    assert abs(next(e for (n, q), e in rows.items() if n.startswith("inclusionAI/Ling-flash"))) < 0.05
    # bartowski's Ling-mini Q4_K_M is 30 MB above inclusionAI's (-0.30%); arcee-ai's Trinity-Nano files -0.75% / -0.46%
    # (not explained: benchmarks/heldout/README.md)
    assert all(abs(e) < 1.0 for e in rows.values())


# XiaomiMiMo/MiMo-V2-Flash config.json as a stored Rust port's test spells the Hub config (code-index file id
# 70922684183), with the two per-layer lists written out by that test's own rule.
MIMO_V2_FLASH = {
    "architectures": ["MiMoV2FlashForCausalLM"], "model_type": "mimo_v2_flash", "vocab_size": 152576,
    "hidden_size": 4096, "num_hidden_layers": 48, "num_attention_heads": 64, "num_key_value_heads": 4, "head_dim": 192,
    "v_head_dim": 128, "swa_num_attention_heads": 64, "swa_num_key_value_heads": 8, "swa_head_dim": 192,
    "swa_v_head_dim": 128, "sliding_window": 128, "sliding_window_size": 128,
    "hybrid_layer_pattern": [int(not (i == 0 or (i + 1) % 6 == 0)) for i in range(48)],
    "moe_layer_freq": [int(i != 0) for i in range(48)], "add_swa_attention_sink_bias": True,
    "add_full_attention_sink_bias": False, "intermediate_size": 16384, "n_routed_experts": 256,
    "num_experts_per_tok": 8, "moe_intermediate_size": 2048, "max_position_embeddings": 262144,
    "tie_word_embeddings": False,
}


def test_mimo_v2_flash_entry_is_what_its_config_gives():
    m, c = get("mimo-v2-flash:309b"), model_from_config(MIMO_V2_FLASH, "XiaomiMiMo/MiMo-V2-Flash")
    assert (c.full_attention_layers, c.n_kv_heads, c.global_kv_heads, c.head_dim, c.v_head_dim, c.moe) == (
        m.full_attention_layers, 8, 4, 192, 128, m.moe)
    assert count_params(c) == count_params(m)
    # a config without max_position_embeddings takes transformers' MiMoV2FlashConfig default, 262144
    no_ctx = {k: v for k, v in MIMO_V2_FLASH.items() if k != "max_position_embeddings"}
    assert model_from_config(no_ctx, "XiaomiMiMo/MiMo-V2-Flash").max_context == 262144 == m.max_context
    # SGLang's day-0 post with Xiaomi: 309B total, 15B activated
    assert round(count_params(m) / 1e9) == 309 and round(active_params(m) / 1e9) == 15


def test_mimo2_block_is_llama_cpps_and_with_its_mtp_blocks_gives_llama_cpps_count_of_a_real_file():
    m = get("mimo-v2-flash:309b")
    names = {t.name: t.shape for t in build_tensors(m)}
    # mimo2.cpp: k {n_embd, n_embd_k_gqa(il)}, v {n_embd, n_embd_v_gqa(il)}, wo {n_embd_head_v x n_head, n_embd}, sinks on
    # the sliding layers (add_swa_attention_sink_bias), no shared expert
    assert names["blk.0.attn_k.weight"] == (4096, 4 * 192) and names["blk.0.attn_v.weight"] == (4096, 4 * 128)
    assert names["blk.1.attn_k.weight"] == (4096, 8 * 192) and names["blk.1.attn_v.weight"] == (4096, 8 * 128)
    assert names["blk.1.attn_output.weight"] == (64 * 128, 4096)
    assert "blk.1.attn_sinks.weight" in names and "blk.0.attn_sinks.weight" not in names
    assert not any("shexp" in n for n in names)
    # llama-bench of a real mimo2 GGUF (MiMo-V2.5 UD-IQ2_M, whose 48-layer trunk has these shapes: the verbatim V2.6-Flash
    # config, file id 69700804720) reports 309,766,601,088 params (code-index file id 58184120915): our trunk plus its 3
    # MTP blocks as mimo2.cpp creates them (a sliding dense layer, eh_proj {2 n_embd, n_embd}, enorm, hnorm,
    # layer_out_norm), counted here by hand
    mtp_block = (4096 + 4096 * 64 * 192 + 4096 * 8 * 192 + 4096 * 8 * 128 + 64 * 128 * 4096 + 64 + 4096
                 + 3 * 4096 * 16384 + 2 * 4096 * 4096 + 3 * 4096)
    assert count_params(m) + 3 * mtp_block == 309_766_601_088


def test_mimo2_kv_per_layer_uses_its_own_k_and_v_widths():
    # llama_kv_cache_iswa: 9 full layers x PAD(n_ctx, 256) cells of 4 KV heads x (192 + 128) x 2 B; 39 sliding layers x
    # PAD(min(n_ctx, 128 + n_ubatch 512), 256) = 768 cells of 8 KV heads x (192 + 128) x 2 B
    kv, per_layer = kv_cache_bytes(get("mimo-v2-flash:309b"), FitRequest(context=32768, engine="llamacpp"))
    assert kv == 9 * 32768 * 4 * 320 * 2 + 39 * 768 * 8 * 320 * 2
    assert per_layer[5] == 32768 * 2560 and per_layer[6] == 768 * 5120


@pytest.mark.parametrize("engine", ["vllm", "mlx", "ollama"])
def test_mimo2_is_refused_where_its_cache_is_not_modelled(engine):
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.errors import NotSizedModelError

    with pytest.raises(NotSizedModelError, match="llama.cpp"):
        get_engine(engine).check_runs(get("mimo-v2-flash:309b"))
    get_engine("llamacpp").check_runs(get("mimo-v2-flash:309b"))


def test_ling_and_trinity_run_on_llamacpp_vllm_mlx_and_are_refused_on_ollama():
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.errors import NotSizedModelError

    for model_id in ("ling-mini-2.0:16b", "trinity-nano:6b"):
        for engine in ("llamacpp", "vllm", "mlx"):
            get_engine(engine).check_runs(get(model_id))
        with pytest.raises(NotSizedModelError, match="Ollama releases"):
            get_engine("ollama").check_runs(get(model_id))


def test_a_mimo2_gguf_header_gives_its_per_layer_k_v_widths_and_window(tmp_path):
    # convert_hf_to_gguf.py MiMoV2Model / mimo2.cpp load_arch_hparams: key_length (K head), value_length (V head),
    # head_count_kv per layer, sliding_window_pattern per-layer bools (get_key_or_arr), sliding_window
    from gguf import GGMLQuantizationType as T
    from gguf import GGUFValueType as V

    from gguf_factory import write_gguf
    from selfhost_advisor.catalog.gguf_model import read_local

    d, layers = 64, 3
    ts = [("token_embd.weight", (d, 320), T.F16), ("output_norm.weight", (d,), T.F32)]
    for i, kv in enumerate([1, 2, 2]):
        ts += [(f"blk.{i}.attn_q.weight", (d, 2 * 24), T.F16), (f"blk.{i}.attn_k.weight", (d, kv * 24), T.F16),
               (f"blk.{i}.attn_v.weight", (d, kv * 16), T.F16), (f"blk.{i}.attn_output.weight", (2 * 16, d), T.F16),
               (f"blk.{i}.ffn_up.weight", (d, 128), T.F16)]
    path = tmp_path / "mimo.gguf"
    write_gguf(path, "mimo2", n_layers=layers, d=d, ff=128, n_heads=2, n_kv=[1, 2, 2], vocab=320, tensors=ts,
               extra={"mimo2.attention.key_length": (24, V.UINT32), "mimo2.attention.value_length": (16, V.UINT32),
                      "mimo2.attention.sliding_window": (8, V.UINT32),
                      "mimo2.attention.sliding_window_pattern": ([False, True, True], V.ARRAY)})
    m = read_local(str(path)).model
    assert (m.head_dim, m.v_head_dim, m.n_kv_heads, m.global_kv_heads, m.full_attention_layers) == (24, 16, 2, 1, (0,))
    _, per_layer = kv_cache_bytes(m, FitRequest(context=1024))
    # full layer 0: 1024 cells of 1 x (24 + 16) f16; sliding: PAD(8 + ubatch 512, 256) = 768 cells of 2 x (24 + 16)
    assert per_layer[0] == 1024 * 1 * 40 * 2 and per_layer[1] == 768 * 2 * 40 * 2


@pytest.mark.parametrize("name,engine_named", [
    ("deepseek-v4-flash", "deepseek4"), ("deepseek-v4-pro", "deepseek4"),
    ("step-3.5-flash", "step35"), ("longcat-flash", "SGLang"), ("mistral-large-3", "vLLM"),
])
def test_families_without_a_layer_kind_or_config_are_refused_naming_why(name, engine_named):
    # docs/methodology.md 1b: an answer that says why and which engine runs it, not "unknown model" and not a near layout
    from selfhost_advisor.errors import NotSizedModelError

    with pytest.raises(NotSizedModelError, match="not sized here") as e:
        resolve(name)
    assert engine_named in str(e.value)


def test_fit_refuses_an_unsized_family_with_exit_2_and_one_line(tmp_path):
    from cliproc import isolated_env, run_inprocess

    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    r, j = run_inprocess([(["fit", "deepseek-v4-flash", "--hardware", "rtx4090"], env),
                          (["fit", "mimo-v2-flash", "--engine", "vllm", "--hardware", "h100-sxm", "--json"], env)], tmp_path)
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and "DeepSeek V4" in r.stderr
    assert j.returncode == 2 and j.stdout == "" and j.stderr.count("\n") == 1 and "llama.cpp" in j.stderr


# stepfun-ai/Step-3.7-Flash config.json's text_config as a stored test asserts it (code-index file id 57398570390) with the
# sliding layers' attention_other_setting as SGLang's Step35Config spells the key (file id 54564160582) and the values a
# stored contract of a real Step 3.7 GGUF checks (96 query heads, 8 KV heads of 128; file id 68865537399)
STEP37 = {
    "architectures": ["Step3p7ForConditionalGeneration"],
    "text_config": {
        "architectures": ["Step3p5ForCausalLM"], "num_hidden_layers": 45, "hidden_size": 4096, "intermediate_size": 11264,
        "vocab_size": 128896, "max_position_embeddings": 262144, "num_attention_heads": 64, "num_attention_groups": 8,
        "head_dim": 128, "attention_other_setting": {"attention_type": "sliding_attention", "num_attention_heads": 96,
                                                     "num_attention_groups": 8, "head_dim": 128},
        "layer_types": ["sliding_attention" if i % 4 else "full_attention" for i in range(45)], "sliding_window": 512,
        "moe_layers_enum": ",".join(str(i) for i in range(3, 45)), "moe_num_experts": 288, "moe_top_k": 8,
        "moe_intermediate_size": 1280, "share_expert_dim": 1280, "tie_word_embeddings": False,
    },
}


def test_step37_is_the_754_tensor_contract_of_a_real_gguf():
    # the contract (file id 68865537399) lists every tensor of the file: 754, with these shapes (GGUF order ne0, ne1)
    m = get("step-3.7-flash:197b")
    t = {x.name: x.shape for x in build_tensors(m)}
    assert len(t) == 754
    assert t["rope_freqs.weight"] == (64,) and t["token_embd.weight"] == (4096, 128896) and "output.weight" in t
    assert t["blk.0.attn_q.weight"] == (4096, 64 * 128) and t["blk.1.attn_q.weight"] == (4096, 96 * 128)
    assert t["blk.0.attn_gate.weight"] == (4096, 64) and t["blk.1.attn_gate.weight"] == (4096, 96)
    assert t["blk.1.attn_output.weight"] == (96 * 128, 4096) and t["blk.44.attn_k.weight"] == (4096, 8 * 128)
    assert t["blk.2.ffn_down.weight"] == (11264, 4096) and "blk.3.ffn_gate.weight" not in t
    assert t["blk.3.ffn_gate_exps.weight"] == (4096, 1280, 288) and t["blk.3.ffn_up_shexp.weight"] == (4096, 1280)
    assert t["blk.3.exp_probs_b.bias"] == (288,)
    c = model_from_config(STEP37, "stepfun-ai/Step-3.7-Flash")
    assert count_params(c) == count_params(m) and c.full_attention_layers == m.full_attention_layers


def test_step37_kv_full_layers_hold_the_context_sliding_ones_512():
    # llama_kv_cache_iswa: 12 full layers (i % 4 == 0) x PAD(n_ctx, 256) cells; 33 sliding layers x PAD(512 + 512, 256)
    # cells; a cell 8 KV heads x 128 x (K + V) x 2 B = 4096 B in every layer
    kv, per_layer = kv_cache_bytes(get("step-3.7-flash:197b"), FitRequest(context=65536, engine="llamacpp"))
    assert kv == 4096 * (12 * 65536 + 33 * 1024)
    assert per_layer[4] == 4096 * 65536 and per_layer[5] == 4096 * 1024


def test_a_step35_gguf_header_gives_per_layer_query_heads(tmp_path):
    from gguf import GGMLQuantizationType as T
    from gguf import GGUFValueType as V

    from gguf_factory import write_gguf
    from selfhost_advisor.catalog.gguf_model import read_local

    d = 64
    ts = [("token_embd.weight", (d, 320), T.F16), ("output_norm.weight", (d,), T.F32)]
    for i, h in enumerate([2, 3, 3]):
        ts += [(f"blk.{i}.attn_q.weight", (d, h * 16), T.F16), (f"blk.{i}.attn_k.weight", (d, 16), T.F16),
               (f"blk.{i}.attn_output.weight", (h * 16, d), T.F16), (f"blk.{i}.ffn_up.weight", (d, 128), T.F16)]
    path = tmp_path / "step.gguf"
    write_gguf(path, "step35", n_layers=3, d=d, ff=128, n_heads=[2, 3, 3], n_kv=[1, 1, 1], vocab=320, tensors=ts,
               extra={"step35.attention.key_length": (16, V.UINT32), "step35.attention.value_length": (16, V.UINT32),
                      "step35.attention.sliding_window": (8, V.UINT32),
                      "step35.attention.sliding_window_pattern": ([False, True, True], V.ARRAY)})
    m = read_local(str(path)).model
    assert (m.n_heads, m.sliding_n_heads, m.full_attention_layers, m.n_kv_heads) == (2, 3, (0,), 1)


# poolside/Laguna-XS-2.1 config.json as a stored MLX adapter checks a real artifact against it (code-index file id
# 68855934982), with num_attention_heads_per_layer and max_position_embeddings from a stored loader test (file id 65719506938)
LAGUNA_XS = {
    "architectures": ["LagunaForCausalLM"], "model_type": "laguna", "vocab_size": 100352, "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 40, "num_attention_heads": 48, "num_key_value_heads": 8,
    "head_dim": 128, "sliding_window": 512, "num_experts": 256, "num_experts_per_tok": 8, "moe_intermediate_size": 512,
    "shared_expert_intermediate_size": 512, "mlp_only_layers": [0], "tie_word_embeddings": False,
    "max_position_embeddings": 262144,
    "layer_types": ["full_attention" if i % 4 == 0 else "sliding_attention" for i in range(40)],
    "num_attention_heads_per_layer": [48 if i % 4 == 0 else 64 for i in range(40)],
}


def test_laguna_block_is_llama_cpps_and_its_entry_is_its_config():
    # src/models/laguna.cpp: attn_q {n_embd, head_dim x n_head(il)}, attn_gate {n_embd, n_head(il)} ("NOT
    # n_head_il*head_dim"), per-head q/k norms, no post-norms, layer 0 dense, then router + exp_probs_b + experts + shexp
    m = get("laguna-xs-2.1:33b")
    t = {x.name: x.shape for x in build_tensors(m)}
    assert t["blk.0.attn_q.weight"] == (2048, 48 * 128) and t["blk.1.attn_q.weight"] == (2048, 64 * 128)
    assert t["blk.0.attn_gate.weight"] == (2048, 48) and t["blk.1.attn_gate.weight"] == (2048, 64)
    assert t["blk.1.attn_k.weight"] == (2048, 8 * 128) and "blk.1.post_attention_norm.weight" not in t
    assert t["blk.0.ffn_gate.weight"] == (2048, 8192) and t["blk.1.ffn_up_shexp.weight"] == (2048, 512)
    assert t["blk.1.exp_probs_b.bias"] == (256,) and t["blk.1.ffn_down_exps.weight"] == (512, 2048, 256)
    c = model_from_config(LAGUNA_XS, "poolside/Laguna-XS-2.1")
    assert (c.n_heads, c.sliding_n_heads, c.full_attention_layers, c.moe) == (48, 64, m.full_attention_layers, m.moe)
    assert count_params(c) == count_params(m)
    # KV: 10 full layers x PAD(n_ctx, 256) + 30 sliding x PAD(512 + 512, 256) cells of 8 x 128 x 2 x 2 B
    kv, _ = kv_cache_bytes(m, FitRequest(context=32768, engine="llamacpp"))
    assert kv == 4096 * (10 * 32768 + 30 * 1024)
