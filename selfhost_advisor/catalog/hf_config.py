"""Map a Hugging Face config.json onto the estimator's Model (no code from the repository is ever run).

Why: users size the model they found on the Hub this morning; its config.json states every shape the estimator
needs. Class defaults for absent keys and the class -> llama.cpp architecture mapping are in
data/hf_architectures.yaml; the same mapping regenerates the catalog (scripts/refresh_catalog.py), so a
Hub-resolved model and its catalog entry give the same estimate.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..domain import DSA, MLA, AltUp, Model, MoE
from ..errors import UnknownModelError
from ..record import replace
from .data import load
from .hf_deci import _int, deci_blocks  # _int: a config integer (2.0 counts, True does not)
from .hf_hybrid import hybrid_layout
from .hf_mimo import laguna_fields, mimo2_fields, step35_fields
from .hf_minimax import minimax_m3_fields
from .hf_moe import moe_from_config as _moe
from .shape import check_layers, check_shape


@lru_cache(maxsize=1)
def supported() -> dict[str, dict]:
    return load("hf_architectures")["architectures"]


def _text_model_class(config: dict, spec: dict) -> str | None:
    """The class a multimodal wrapper is sized as when its text_config's model_type names another one
    (Mistral3ForConditionalGeneration holding a mistral4 text_config: Mistral Small 4, data/hf_architectures.yaml
    text_model_types); None for any other wrapper or an unusable text_config."""
    text = config.get("text_config")
    kind = text.get("model_type") if isinstance(text, dict) else None
    return (spec.get("text_model_types") or {}).get(kind) if isinstance(kind, str) else None


def architecture_of(config: dict, repo: str) -> tuple[str, dict]:
    """(HF class name, its mapping) or a clear error naming the unsupported class; a wrapper sized as its text model's
    class (_text_model_class) gives that class, its mapping noting the wrapper's name ("wrapper")."""
    classes = config.get("architectures") or []
    if not isinstance(classes, list) or not classes:
        raise UnknownModelError(f"{repo}: config.json names no architecture", "is this a transformers model repo?")
    for cls in classes:
        if isinstance(cls, str) and cls in supported():
            spec = supported()[cls]
            inner = _text_model_class(config, spec)
            if inner:
                return inner, {**supported()[inner], "text_config": True, "wrapper": cls}
            return cls, spec
    remote = " (it needs trust_remote_code, which advisor never runs)" if config.get("auto_map") else ""
    import difflib

    from ..termsafe import clipped

    names = sorted(supported())  # all of them made a 3,700-character line
    close = difflib.get_close_matches(str(classes[0])[:200], names, n=3, cutoff=0.6)
    raise UnknownModelError(
        f"{repo}: architecture {clipped(str(classes[0]))} is not supported{remote}",
        f"{len(names)} architectures are supported" + (f"; the closest: {', '.join(close)}" if close else "")
        + "; a GGUF of the model (hf:ORG/REPO-GGUF) may resolve where its config does not",
    )


def _pattern_from_layer_types(layer_types: list) -> int | None:
    """["sliding_attention", ..., "full_attention"] -> N when every Nth layer is full (1: all sliding)."""
    sliding = [t == "sliding_attention" for t in layer_types]
    if not any(sliding):
        return None
    if all(sliding):
        return 1
    n = sliding.index(False) + 1
    if all(sliding[i] == ((i + 1) % n != 0) for i in range(len(sliding))):
        return n
    return None


def _indexer_layers(types: Any, n_layers: int, repo: str, cls: str) -> tuple[int, ...] | None:
    """GLM-5.2's indexer_types -> the layers with their own DSA indexer ("full"); "shared" layers reuse the previous
    full layer's top-k (llama.cpp glm-dsa.cpp; the converter writes the list as the GGUF's indexer.types). None when
    absent or all full (DeepSeek-V3.2, GLM-5 / 5.1)."""
    if types is None:
        return None
    if not isinstance(types, list) or len(types) != n_layers:
        raise UnknownModelError(f"{repo}: config.json ({cls}) indexer_types is not a list of {n_layers} layer kinds",
                                "the repo's config may be incomplete")
    unknown = [t for t in types if t not in ("full", "shared")]
    if unknown:
        raise UnknownModelError(f"{repo}: config.json ({cls}) has an unknown layer kind {str(unknown[0])[:40]!r}",
                                "known indexer_types: full, shared")
    if types[0] != "full":  # a shared layer reuses an earlier full layer's top-k: the first has none to reuse
        raise UnknownModelError(f"{repo}: config.json ({cls}) indexer_types starts with a shared layer",
                                "layer 0 must run its own indexer (full)")
    full = tuple(i for i, t in enumerate(types) if t == "full")
    return None if len(full) == n_layers else full


def model_from_config(
    config: dict, repo: str, *, params: int | None = None, source: str = "", model_id: str | None = None
) -> Model:
    """Model from config.json; `params` is the checkpoint's stated count (safetensors metadata) when known."""
    if not isinstance(config, dict):
        raise UnknownModelError(f"{repo}: config.json is not a JSON object", "is this a transformers model repo?")
    cls, spec = architecture_of(config, repo)
    cls = spec.get("wrapper") or cls  # errors name the class config.json has, not the one a wrapper is sized as
    cfg = config.get("text_config") if spec.get("text_config") and isinstance(config.get("text_config"), dict) else config
    where = "text_config." if cfg is not config else ""  # where a missing field is expected
    defaults = spec.get("defaults") or {}
    keys = spec.get("keys") or {}  # this class's own spelling of a standard key (ChatGLM: ffn_hidden_size ...)

    # DBRX keeps some shapes one level down (attn_config, ffn_config): those blocks are searched after the top level
    scopes = [cfg] + [cfg[n] for n in spec.get("nested") or () if isinstance(cfg.get(n), dict)]

    def get(key: str, default: Any = None) -> Any:
        for scope in scopes:
            if key in scope and scope[key] is not None:
                return scope[key]
            if keys.get(key) in scope and scope[keys[key]] is not None:
                return scope[keys[key]]
        if key in config and config[key] is not None and key == "tie_word_embeddings":
            return config[key]  # multimodal configs put it at the top level
        return defaults.get(key, default)

    def need(key: str) -> int:
        value = _int(get(key))
        if value is None or value <= 0:
            raise UnknownModelError(f"{repo}: config.json ({cls}) lacks a usable {where}{key}",
                                    "the repo's config may be incomplete")
        return value

    n_layers, hidden, n_heads = need("num_hidden_layers"), need("hidden_size"), need("num_attention_heads")
    check_layers(n_layers, UnknownModelError, f"{repo} config.json")  # before the per-layer patterns below
    n_kv = _int(get("num_key_value_heads")) or n_heads
    if spec.get("multi_query") and get("multi_query") and not _int(get("num_key_value_heads")):
        n_kv = 1  # GPTBigCode, Falcon-7B: multi-query attention, one K/V head shared by every query head
    head_dim = _int(get("head_dim")) or hidden // n_heads
    ff = _int(get("intermediate_size")) or _uniform(get("intermediate_size"), repo, cls) or 0
    if spec.get("ff_halved"):  # QWen (v1): intermediate_size counts gate and up together (QWenMLP: // 2 each)
        ff //= 2
    if not ff and spec.get("ff_default_times_hidden"):  # GPTBigCode n_inner / Falcon ffn_hidden_size: None = 4 x hidden
        ff = spec["ff_default_times_hidden"] * hidden
    moe = _moe(spec.get("moe"), get, need, ff)
    mla = None
    if spec.get("mla"):
        rope, nope = need("qk_rope_head_dim"), need("qk_nope_head_dim")
        mla = MLA(kv_lora_rank=need("kv_lora_rank"), qk_rope_head_dim=rope, qk_nope_head_dim=nope,
                  v_head_dim=need("v_head_dim"), q_lora_rank=_int(get("q_lora_rank")) or None)
        head_dim = rope + nope
    dsa = None
    if spec.get("dsa"):  # DeepSeek-V3.2: the lightning indexer's shapes (config.json index_*)
        dsa = DSA(index_n_heads=need("index_n_heads"), index_head_dim=need("index_head_dim"),
                  index_topk=need("index_topk"), indexer_layers=_indexer_layers(get("indexer_types"), n_layers, repo, cls))
    if spec.get("moe") == "llama4":
        ff = _int(get("intermediate_size_mlp")) or ff
    window, pattern = _sliding(spec, get)
    ssm, layer_pattern = hybrid_layout(spec.get("hybrid"), get, need, n_layers, repo, cls)
    if spec.get("hybrid") == "granite" and moe is None:
        ff = _int(get("shared_intermediate_size")) or ff  # dense Granite 4.0-H: the "shared" MLP is the FFN
    arch = spec["arch"]
    if spec.get("hybrid") == "nemotron_h" and "E" in layer_pattern:
        # Nemotron-H MoE (Nemotron 3 Nano, Super): llama.cpp's converter writes LLM_ARCH_NEMOTRON_H_MOE; Super's
        # LatentMoE runs its experts at moe_latent_size (src/models/nemotron-h.cpp moe_n_embd).
        arch = "nemotron_h_moe"
        moe = MoE(experts=need("n_routed_experts"), active=need("num_experts_per_tok"),
                  expert_intermediate_size=need("moe_intermediate_size"),
                  shared_experts=_int(get("n_shared_experts")) or 0,
                  shared_intermediate_size=_int(get("moe_shared_expert_intermediate_size")) or 0,
                  latent_size=_int(get("moe_latent_size")) or 0)
        ff = ff or moe.expert_intermediate_size
    if arch == "lfm2":
        ff = _lfm2_ff(get, ff)
    if spec.get("hybrid") == "kimi_k3" and moe is not None:  # K3's latent MoE (kimi-k3.cpp n_expert_latent)
        moe = replace(moe, latent_size=need("routed_expert_hidden_size"))
    deci: dict = {}
    if spec.get("deci"):  # DeciLM (Nemotron Super / Ultra): each block its own attention kind and FFN width
        deci = deci_blocks(get("block_configs"), n_layers, n_heads, hidden, repo, cls)
        layer_pattern = deci.pop("layer_pattern")
        n_kv, ff = deci.pop("n_kv_heads"), deci.pop("intermediate_size")
    if spec.get("hybrid") == "falcon_h1":
        head_dim = _int(get("head_dim")) or head_dim
    altup = None
    if spec.get("altup"):  # Gemma 3n: per-layer embeddings, AltUp, LAuReL, KV shared by the last layers
        altup = AltUp(per_layer_width=need("hidden_size_per_layer_input"),
                      # conversion/gemma.py pads embed_tokens_per_layer (vocab_size_per_layer_input rows) to vocab_size
                      per_layer_vocab=need("vocab_size"),
                      n_inputs=need("altup_num_inputs"), laurel_rank=need("laurel_rank"))
    g4 = _gemma4(get, need) if spec.get("gemma4") else {}
    if g4.get("moe"):
        moe = g4.pop("moe")
    if g4.get("altup"):
        altup = g4.pop("altup")
    mimo = mimo2_fields(get, need, n_layers, repo, cls) if spec.get("mimo2") else {}
    if mimo:
        moe, n_kv, head_dim = mimo.pop("moe"), mimo.pop("n_kv_heads"), mimo.pop("head_dim")
        window, pattern = mimo.pop("sliding_window"), mimo.pop("sliding_window_pattern")
    if spec.get("step35"):  # the sliding layers' own query heads, full layers named, moe_* keys
        mimo = step35_fields(get, need, n_layers, repo, cls)
        moe, n_kv, head_dim, pattern = mimo.pop("moe"), mimo.pop("n_kv_heads"), mimo.pop("head_dim"), None
        window = _int(get("sliding_window"))
    if spec.get("minimax_m3"):  # experts under intermediate_size, dense_intermediate_size, the MSA indexer
        moe, ff, dsa = minimax_m3_fields(get, need, n_layers, repo, cls)
    if spec.get("laguna"):  # per-layer query heads, full layers named, mlp_only_layers
        mimo = laguna_fields(get, need, n_layers, repo, cls)
        moe, n_heads, pattern, window = mimo.pop("moe"), mimo.pop("n_heads"), None, _int(get("sliding_window"))
    mllama = _mllama(config, n_layers, need, repo, cls) if spec.get("mllama") else {}
    layer_pattern = mllama.pop("layer_pattern", layer_pattern)
    max_context = _int(get(spec.get("context_key") or "max_position_embeddings")) or _int(get("max_position_embeddings")) or 2048
    if arch == "xlm-roberta" and _int(get("pad_token_id")) is not None:
        # convert_hf_to_gguf.py XLMRobertaModel: positions start at pad_token_id + 1, the table is cut by that many rows
        max_context -= 1 + (_int(get("pad_token_id")) or 0)
    return check_shape(Model(
        id=model_id or f"hf:{repo}",
        name=repo.rsplit("/", 1)[-1],
        arch=arch,
        n_layers=n_layers,
        hidden_size=hidden,
        intermediate_size=ff,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=head_dim,
        vocab_size=need("vocab_size"),
        tied_embeddings=bool(get("tie_word_embeddings", False)),
        max_context=max_context,
        params=params or 0,
        hf_id=repo,
        attention_bias=bool(spec.get("attention_bias") or get("attention_bias", False)),
        qk_norm=bool(spec.get("qk_norm") or get("use_qk_norm", False)),
        parallel_residual=bool(get("use_parallel_residual", False)),
        attn_norm_2=bool(spec.get("attn_norm_2_flag") and get(spec["attn_norm_2_flag"], False)),
        sliding_window=window,
        sliding_window_pattern=pattern,
        moe=moe,
        mla=mla,
        dsa=dsa,
        ssm=ssm,
        layer_pattern=layer_pattern,
        gguf_nextn_layers=(_int(get("num_nextn_predict_layers")) or 0) if spec.get("nextn_in_gguf") else 0,
        kv_shared_layers=(_int(get("num_kv_shared_layers")) or 0) if spec.get("altup") or spec.get("gemma4") else 0,
        altup=altup,
        **{k: v for k, v in g4.items() if k not in ("moe", "altup")},
        **deci,
        **mllama,
        **mimo,
        source=source or f"https://huggingface.co/{repo}/blob/main/config.json",
    ), UnknownModelError, f"{repo} config.json")


def _gemma4(get, need) -> dict:
    """Gemma 4's extra shapes as transformers' Gemma4TextConfig reads them: full layers take global_head_dim and,
    only when attention_k_eq_v, num_global_key_value_heads (its per_layer_config); per-layer embeddings when
    hidden_size_per_layer_input > 0 (no AltUp / LAuReL); experts beside the dense MLP when enable_moe_block."""
    k_eq_v = bool(get("attention_k_eq_v", False))
    out: dict = {"global_head_dim": need("global_head_dim"), "k_eq_v": k_eq_v,
                 "global_kv_heads": (_int(get("num_global_key_value_heads")) or 0) if k_eq_v else 0,
                 "double_wide_shared_ffn": bool(get("use_double_wide_mlp", False))}
    per_layer = _int(get("hidden_size_per_layer_input")) or 0
    if per_layer:
        out["altup"] = AltUp(per_layer_width=per_layer, per_layer_vocab=need("vocab_size"), n_inputs=0, laurel_rank=0)
    if get("enable_moe_block", False):
        out["moe"] = MoE(experts=need("num_experts"), active=need("top_k_experts"),
                         expert_intermediate_size=need("moe_intermediate_size"))
    return out


def _mllama(config: dict, n_layers: int, need, repo: str, cls: str) -> dict:
    """Llama 3.2 Vision: text_config.cross_attention_layers become "X" layers holding one image's K/V, 1601 x 4 tokens
    ((image_size / patch_size)^2 + the class token, x max_num_tiles, from vision_config); embed_tokens has vocab_size + 8
    rows (transformers MllamaTextModel)."""
    text, vision = config.get("text_config"), config.get("vision_config")
    layers = text.get("cross_attention_layers") if isinstance(text, dict) else None
    vision = vision if isinstance(vision, dict) else {}  # a number or list here was an AttributeError (exit 3)
    if not isinstance(layers, list) or not all(isinstance(i, int) and 0 <= i < n_layers for i in layers):
        raise UnknownModelError(f"{repo}: config.json ({cls}) lacks usable cross_attention_layers", "the repo's config may be incomplete")
    image, patch, tiles = (_int(vision.get(k)) for k in ("image_size", "patch_size", "max_num_tiles"))
    if not (image and patch and tiles):
        raise UnknownModelError(f"{repo}: config.json ({cls}) lacks vision_config image_size, patch_size or max_num_tiles",
                                "the repo's config may be incomplete")
    cross = set(layers)
    return {"layer_pattern": "".join("X" if i in cross else "*" for i in range(n_layers)),
            "cross_attention_tokens": ((image // patch) ** 2 + 1) * tiles, "embedding_rows": need("vocab_size") + 8}


def _sliding(spec: dict, get) -> tuple[int | None, int | None]:
    if spec.get("ignore_sliding_window"):
        return None, None
    flag = spec.get("sliding_window_flag")
    if flag and not get(flag, False):
        return None, None
    if spec.get("moe") == "llama4":
        window = _int(get("attention_chunk_size"))
        return (window, spec.get("swa_pattern")) if window else (None, None)
    window = _int(get("sliding_window"))
    if not window:
        return None, None
    layer_types = get("layer_types")
    if isinstance(layer_types, list) and layer_types:
        pattern = _pattern_from_layer_types(layer_types)
        return (window, pattern) if pattern else (None, None)
    pattern = _int(get("sliding_window_pattern")) or spec.get("swa_pattern") or 1
    return window, pattern


def _uniform(value: Any, repo: str, cls: str) -> int | None:
    """A per-layer list of one width (Gemma 3n's intermediate_size) as that width; a list of several is refused."""
    if not isinstance(value, list) or not value:
        return None
    widths = {_int(v) for v in value}
    if len(widths) != 1 or None in widths:
        raise UnknownModelError(f"{repo}: config.json ({cls}) has per-layer FFN widths, not supported yet",
                                "size a GGUF of this model instead")
    return widths.pop()


def _lfm2_ff(get, ff: int) -> int:
    """LFM2's feed-forward width as llama.cpp's converter writes it (conversion/lfm2.py _add_feed_forward_length):
    block_ff_dim (else intermediate_size), and with block_auto_adjust_ff_dim 2/3 of it, times
    block_ffn_dim_multiplier, rounded up to block_multiple_of."""
    width = _int(get("block_ff_dim")) or ff
    if get("block_auto_adjust_ff_dim", False):
        width = int(2 * width / 3)
        mult = get("block_ffn_dim_multiplier")
        if isinstance(mult, (int, float)) and not isinstance(mult, bool):
            width = int(mult * width)
        multiple = _int(get("block_multiple_of")) or 1
        width = multiple * -(-width // multiple)
    return width
