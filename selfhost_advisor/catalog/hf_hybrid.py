"""Hybrid configs' layer layouts (recurrent and attention layers mixed) as Model fields: the recurrent shapes and one
layer-kind character a layer.

Why its own reader: each hybrid family spells its layout its own way (Qwen3-Next / Qwen3.5 layer_types or
full_attention_interval, Granite 4.0-H layer_types, Nemotron-H hybrid_override_pattern or layers_block_type, Falcon-H1
every layer both, LFM2 layer_types or full_attn_idxs, Jamba a period and offset, Kimi Linear / K3 a 1-based list) and
its recurrent block's shapes under its own keys, read into SSM as llama.cpp's converter maps them to its ssm.* keys.
data/hf_architectures.yaml `hybrid` names the layout a class takes; model_from_config (hf_config.py) reads the rest.
"""
from __future__ import annotations

from ..domain import SSM
from ..errors import UnknownModelError
from .hf_deci import _int

# config.json layer_types values -> LAYER_KINDS characters (domain.py). LFM2 calls its short-convolution layers "conv";
# Nemotron-H's layers_block_type spells its pattern out ("mamba", "attention", "mlp", "moe").
_LAYER_TYPES = {"full_attention": "*", "attention": "*", "linear_attention": "M", "mamba": "M", "conv": "M",
                "mlp": "-", "moe": "E"}


def hybrid_layout(kind: str | None, get, need, n_layers: int, repo: str, cls: str) -> tuple[SSM | None, str]:
    """(recurrent shapes, one layer-kind character per layer) of a hybrid config; (None, "") otherwise.

    Qwen3-Next / Qwen3.5 (Gated DeltaNet): linear_* keys, layer_types or every full_attention_interval-th layer
    full attention; llama.cpp's converter maps ssm_d_inner = value heads x value head dim, ssm_d_state = key head
    dim, ssm_n_group = key heads, ssm_dt_rank = value heads. Granite 4.0-H (Mamba-2): mamba_* keys and layer_types;
    d_inner = mamba_n_heads x mamba_d_head. Nemotron-H: hybrid_override_pattern (M mamba, * attention, - MLP).
    """
    if not kind:
        return None, ""
    if kind == "qwen_next":
        types = get("layer_types")
        if isinstance(types, list) and types:
            pattern = _pattern(types, repo, cls)
        else:
            interval = _int(get("full_attention_interval")) or 4
            pattern = "".join("*" if (i + 1) % interval == 0 else "M" for i in range(n_layers))
        v_heads = need("linear_num_value_heads")
        ssm = SSM("gated_deltanet", need("linear_conv_kernel_dim"), v_heads * need("linear_value_head_dim"),
                  need("linear_key_head_dim"), need("linear_num_key_heads"), v_heads)
    elif kind == "granite":
        types = get("layer_types")
        pattern = _pattern(types, repo, cls) if isinstance(types, list) and types else "*" * n_layers
        heads = need("mamba_n_heads")
        d_head = _int(get("mamba_d_head")) or (_int(get("mamba_expand")) or 2) * need("hidden_size") // heads
        ssm = SSM("mamba2", need("mamba_d_conv"), heads * d_head, need("mamba_d_state"),
                  _int(get("mamba_n_groups")) or 1, heads)
    elif kind == "nemotron_h":
        block_types = get("layers_block_type")
        if isinstance(block_types, list) and block_types:  # newer configs spell the pattern out
            pattern = _pattern(block_types, repo, cls)
        else:
            pattern = str(get("hybrid_override_pattern") or "")
        unknown = sorted(set(pattern) - set("M*-E"))
        if unknown:
            raise UnknownModelError(f"{repo}: config.json ({cls}) has an unknown layer kind {unknown[0]!r}",
                                    "known: M (Mamba-2), * (attention), - (MLP), E (MoE)")
        heads = need("mamba_num_heads")
        ssm = SSM("mamba2", need("conv_kernel"), heads * need("mamba_head_dim"), need("ssm_state_size"),
                  need("n_groups"), heads)
    elif kind == "falcon_h1":
        # Falcon-H1: Mamba-2 and attention in parallel in every layer (llama.cpp conversion/falcon_h1.py:
        # ssm.inner_size = mamba_d_ssm, time_step_rank = d_inner / mamba_d_head, group_count = mamba_n_groups).
        pattern = "P" * n_layers
        d_head = need("mamba_d_head")
        d_inner = _int(get("mamba_d_ssm")) or need("mamba_n_heads") * d_head
        ssm = SSM("mamba2", need("mamba_d_conv"), d_inner, need("mamba_d_state"), _int(get("mamba_n_groups")) or 1,
                  d_inner // d_head)
    elif kind == "lfm2":
        # LFM2: layer_types "conv" (a gated short convolution over the hidden state, keeping its last
        # conv_L_cache - 1 inputs) or "full_attention" (llama.cpp conversion/lfm2.py, src/models/lfm2.cpp).
        types, idxs = get("layer_types"), get("full_attn_idxs")  # the first LFM2 configs list attention indices
        if isinstance(types, list) and types:
            pattern = _pattern(types, repo, cls)
        elif isinstance(idxs, list) and idxs and all(isinstance(i, int) for i in idxs):
            pattern = "".join("*" if i in idxs else "M" for i in range(n_layers))
        else:
            raise UnknownModelError(f"{repo}: config.json ({cls}) has neither layer_types nor full_attn_idxs",
                                    "the repo's config may be incomplete")
        ssm = SSM("shortconv", need("conv_L_cache"), need("hidden_size"), 0, 0, 0)
    elif kind == "jamba":
        # Jamba: attention every attn_layer_period-th layer from attn_layer_offset, Mamba-1 elsewhere
        # (llama.cpp conversion/jamba.py; n_group 0: no B/C groups).
        period, offset = _int(get("attn_layer_period")) or 8, _int(get("attn_layer_offset")) or 4
        pattern = "".join("*" if i % period == offset else "M" for i in range(n_layers))
        d_inner = (_int(get("mamba_expand")) or 2) * need("hidden_size")
        dt_rank = _int(get("mamba_dt_rank")) or -(-need("hidden_size") // 16)
        ssm = SSM("mamba", _int(get("mamba_d_conv")) or 4, d_inner, _int(get("mamba_d_state")) or 16, 0, dt_rank)
    elif kind in ("kimi_linear", "kimi_k3"):
        # Kimi Linear: linear_attn_config.full_attn_layers (1-based) are MLA, the rest KDA of num_heads x head_dim
        # (convert_hf_to_gguf.py KimiLinearModel: n_head_kv 0 marks a KDA layer; src/llama-hparams.cpp n_embd_r/s).
        la = get("linear_attn_config") if isinstance(get("linear_attn_config"), dict) else {}
        full, dims = la.get("full_attn_layers"), [_int(la.get(k)) for k in ("short_conv_kernel_size", "num_heads", "head_dim")]
        if not isinstance(full, list) or not all(_int(i) and 1 <= i <= n_layers for i in full) or not all(
                d and d > 0 for d in dims):
            raise UnknownModelError(f"{repo}: config.json ({cls}) lacks a usable linear_attn_config",
                                    "the repo's config may be incomplete")
        k3_parts = (la.get("use_full_rank_gate"), get("mla_use_output_gate"), get("attn_res_block_size"),
                    get("routed_expert_hidden_size"))
        if kind == "kimi_k3" and not all(k3_parts):
            raise UnknownModelError(f"{repo}: config.json ({cls}) lacks one of Kimi K3's layer parts (full-rank KDA "
                                    "gate, MLA output gate, attention residuals, latent MoE)",
                                    "known: Kimi K3's layout with all four; Kimi-Linear-48B-A3B's without them")
        if kind == "kimi_linear" and any(k3_parts):
            raise UnknownModelError(f"{repo}: config.json ({cls}) has an unknown layer kind (full-rank KDA gate, MLA "
                                    "output gate or attention residuals)", "known: Kimi-Linear-48B-A3B's KDA and MLA layers")
        pattern = "".join("*" if i + 1 in full else "M" for i in range(n_layers))
        ssm = SSM("kda", dims[0], dims[1] * dims[2], dims[2], dims[1], dims[1])
    else:
        raise UnknownModelError(f"unknown hybrid layout {kind!r} in data/hf_architectures.yaml")
    if len(pattern) != n_layers:
        raise UnknownModelError(f"{repo}: config.json ({cls}) lists {len(pattern)} layer kinds for {n_layers} layers",
                                "the repo's config may be incomplete")
    return (ssm if ("M" in pattern or "P" in pattern) else None), ("" if set(pattern) == {"*"} else pattern)


def _pattern(types: list, repo: str, cls: str) -> str:
    out = []
    for t in types:
        if not isinstance(t, str) or t not in _LAYER_TYPES:  # [[1]] was a TypeError (unhashable list, exit 3)
            raise UnknownModelError(f"{repo}: config.json ({cls}) has an unknown layer kind {str(t)[:40]!r}",
                                    f"known: {', '.join(_LAYER_TYPES)}")
        out.append(_LAYER_TYPES[t])
    return "".join(out)
