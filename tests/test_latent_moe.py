"""Nemotron 3 Super 120B-A12B: Nemotron-H MoE with LatentMoE (llama.cpp nemotron_h_moe, src/models/nemotron-h.cpp).

Expected values come from outside the estimator: the published parameter count (123.61B, which includes the one MTP
block), llama.cpp's tensor shapes for the MTP block worked by hand, unsloth's Q8_0 download size, and llama.cpp's
KV / recurrent-state rules (llama-kv-cache.cpp, llama-hparams.cpp n_embd_r / n_embd_s) with Super's shapes.
"""
from __future__ import annotations

from selfhost_advisor.catalog.hf_config import model_from_config
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import estimate_memory, kv_cache_bytes, state_bytes
from selfhost_advisor.estimate.tensors import build_tensors, count_params

# config.json values as the stored copies state them (data/models.yaml nemotron-3-super:120b `source`)
SUPER = {
    "architectures": ["NemotronHForCausalLM"], "num_hidden_layers": 88, "hidden_size": 4096,
    "num_attention_heads": 32, "num_key_value_heads": 2, "head_dim": 128, "vocab_size": 131072,
    "tie_word_embeddings": False, "max_position_embeddings": 262144,
    "hybrid_override_pattern": "MEMEMEM*EMEMEMEM*EMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEM*EMEMEMEME",
    "mamba_num_heads": 128, "mamba_head_dim": 64, "ssm_state_size": 128, "conv_kernel": 4, "n_groups": 8,
    "n_routed_experts": 512, "num_experts_per_tok": 22, "moe_intermediate_size": 2688, "n_shared_experts": 1,
    "moe_shared_expert_intermediate_size": 5376, "moe_latent_size": 1024, "num_nextn_predict_layers": 1,
}


def _mtp_block_params() -> int:
    """nemotron-h.cpp load_arch_tensors, the NextN block: enorm, hnorm, eh_proj {2d, d}, shared_head_norm; attention
    (attn_norm, q, k, v, o); attn_post_norm, router + bias, latent down / up, up / down experts at the latent width,
    and the shared expert at full width."""
    d, lat, ff, ne, sh, kv = 4096, 1024, 2688, 512, 5376, 2 * 128
    nextn = 3 * d + 2 * d * d
    attention = d + d * d + 2 * d * kv + d * d
    moe = d + d * ne + ne + 2 * d * lat + 2 * lat * ff * ne + 2 * d * sh
    return nextn + attention + moe


def test_latent_moe_tensors_and_the_published_parameter_count():
    m = model_from_config(SUPER, "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16")
    assert m.arch == "nemotron_h_moe" and m.moe.latent_size == 1024
    shapes = {t.name: t.shape for t in build_tensors(m) if t.layer == 1}  # layer 1 is "E"
    assert shapes["blk.1.ffn_latent_down.weight"] == (4096, 1024)
    assert shapes["blk.1.ffn_up_exps.weight"] == (1024, 2688, 512)
    assert shapes["blk.1.ffn_down_exps.weight"] == (2688, 1024, 512)
    assert shapes["blk.1.ffn_up_shexp.weight"] == (4096, 5376) and shapes["blk.1.ffn_gate_inp.weight"] == (4096, 512)
    # the checkpoint's 123.61B counts the MTP block llama.cpp leaves unloaded
    assert abs(count_params(m) + _mtp_block_params() - 123.61e9) < 0.005e9


def test_super_keeps_kv_in_8_blocks_and_state_in_40():
    m = get("nemotron-3-super:120b")
    req = FitRequest(context=262144)
    kv, _ = kv_cache_bytes(m, req)
    state = state_bytes(m, req)
    # 8 attention blocks x 262,144 cells x 2 KV heads x 128 x (K + V) x f16 = 8 KiB a token
    assert kv - state == 8 * 262144 * 2 * 128 * 2 * 2
    # 40 Mamba-2 blocks, F32: (d_conv - 1) x (d_inner + 2 groups x d_state) + d_state x d_inner, d_inner = 128 x 64
    assert state == 40 * 4 * (3 * (8192 + 2 * 8 * 128) + 128 * 8192)


def test_unsloth_q8_0_file_size():
    # unsloth's Q8_0 (4 split files) is listed as ~128.5 GB; the weights alone leave its header and tokenizer
    w = estimate_memory(get("nemotron-3-super:120b"), get_quant("Q8_0"), FitRequest(context=512)).weights_bytes
    assert abs(w - 128.5e9) / 128.5e9 < 0.005



def test_a_gguf_with_an_mtp_block_loads_only_the_trunk(tmp_path):
    # llama-hparams.cpp n_layer() = block_count - nextn_predict_layers; the NextN / MTP block after the trunk is created
    # TENSOR_SKIP unless llama.cpp runs MTP decoding (src/models/nemotron-h.cpp mtp_flags), so it is file, not memory.
    from gguf import GGUFValueType as V
    from gguf_factory import llama_tensors, write_gguf
    from selfhost_advisor.catalog.gguf_model import read_local
    from selfhost_advisor.estimate.tensors import exact_tensors

    ts = llama_tensors(3, 256, 512, 4, 2, 320)  # blk.0-1 trunk, blk.2 the MTP block
    path = tmp_path / "mtp.gguf"
    write_gguf(path, n_layers=3, tensors=ts, extra={"llama.nextn_predict_layers": (1, V.UINT32)})
    g = read_local(str(path))
    m = g.model
    assert m.n_layers == 2 and m.gguf_nextn_layers == 1
    mtp = sum(b for t, _, b in exact_tensors(m) if t.name.startswith("blk.2."))
    assert mtp > 0
    w = estimate_memory(m, get_quant("Q4_K_M"), FitRequest(context=512)).weights_bytes
    assert w == g.data_bytes - mtp
    assert kv_cache_bytes(m, FitRequest(context=512))[0] == 2 * 512 * 2 * 64 * 2 * 2  # 2 layers, 2 KV heads x 64
