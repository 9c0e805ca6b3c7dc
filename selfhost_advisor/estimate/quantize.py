"""Assign each tensor the GGML type llama.cpp's quantizer gives it for a file type (ftype).

A port of the decision logic of `llama_tensor_get_type` and the `quantize &= ...` filter in
llama_model_quantize_impl (ggml-org/llama.cpp src/llama-quant.cpp), plus the converter's F32 rules
(convert_hf_to_gguf.py prepare_tensors). Assumptions: an importance matrix is used for IQ types
(llama-quantize requires one for IQ1/IQ2 and recommends it for IQ3), not for the others.
Sizes per type come from data/ggml_types.yaml (generated from gguf's GGML_QUANT_SIZES).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..catalog._data import load
from ..domain import Model, Quant
from .tensors import Tensor

_IQ_LOW = frozenset({"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"})
_FLOAT_FTYPES = frozenset({"F32", "F16", "BF16"})
# Tensors in llama-quant.cpp's ATTENTION_V category: fused qkv and MLA's kv_b follow the attn_v rules.
_ATTN_V_LIKE = ("attn_v.weight", "attn_qkv.weight", "attn_kv_b.weight")
# Fallback when a row length is not a multiple of the type's block size (llama-quant.cpp).
_FALLBACK = {
    "TQ1_0": "Q4_0", "TQ2_0": "Q4_0",
    "IQ2_XXS": "IQ4_NL", "IQ2_XS": "IQ4_NL", "IQ2_S": "IQ4_NL", "IQ3_XXS": "IQ4_NL", "IQ3_S": "IQ4_NL",
    "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL", "Q2_K": "Q4_0", "Q3_K": "Q4_0", "IQ4_XS": "IQ4_NL",
    "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0",
}


@lru_cache(maxsize=1)
def ggml_types() -> dict[str, tuple[int, int]]:
    """GGML type name -> (block_size, type_size) from data/ggml_types.yaml."""
    return {name: (v["block_size"], v["type_size"]) for name, v in load("ggml_types")["types"].items()}


def tensor_bytes(ggml_type: str, n_elements: int, row_length: int) -> int:
    """Bytes of a tensor stored as `ggml_type`: rows x (row_length / block) x type_size."""
    block, size = ggml_types()[ggml_type]
    rows = n_elements // row_length
    return rows * (row_length // block) * size


def _use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


def _is_quantizable(t: Tensor) -> bool:
    """llama_model_quantize_impl: only 2D+ weight matrices are quantized; norms and routers are kept."""
    name = t.name
    return (
        name.endswith("weight")
        and t.n_dims >= 2
        and "_norm.weight" not in name
        and "ffn_gate_inp.weight" not in name
        and "pos_embd" not in name
        and "token_types" not in name
    )


def _always_f32(t: Tensor) -> bool:
    """The converter writes 1-D, norm and router tensors (and non-weights) F32 whatever the file type."""
    return t.n_dims <= 1 or t.name.endswith("_norm.weight") or "ffn_gate_inp" in t.name or not t.name.endswith(".weight")


# Tensor categories, tested in the order llama_tensor_get_type tests the names. ATTN_V is attn_v proper (the only
# one the 1-2 bit IQ branch looks at); ATTN_V_FUSED is fused qkv and MLA's kv_b (the general branch's category).
_OUTPUT, _TOKEN_EMBD, _ATTN_V, _ATTN_V_FUSED, _ATTN_K, _ATTN_Q, _FFN_DOWN, _ATTN_OUTPUT, _FFN_GATE, _FFN_UP, _OTHER = range(11)


def _category(name: str, has_output: bool) -> int:
    if name == "output.weight" or (not has_output and name == "token_embd.weight"):
        return _OUTPUT
    if name == "token_embd.weight":
        return _TOKEN_EMBD
    if "attn_v.weight" in name:
        return _ATTN_V
    if any(k in name for k in _ATTN_V_LIKE):
        return _ATTN_V_FUSED
    if "attn_k.weight" in name:
        return _ATTN_K
    if "attn_q.weight" in name:
        return _ATTN_Q
    if "ffn_down" in name:
        return _FFN_DOWN
    if "attn_output.weight" in name:
        return _ATTN_OUTPUT
    if "ffn_gate" in name:
        return _FFN_GATE
    if "ffn_up" in name:
        return _FFN_UP
    return _OTHER


@dataclass(frozen=True, slots=True)
class _Walk:
    """What llama-quantize's walk over a model's tensors needs that does not depend on the file type.

    Computed once per tensor list and reused for every quantization (fit sizes ~20 of them per model).
    """

    order: tuple[int, ...]  # tensor indices in the quantizer's order: by layer, then name
    quantizable: tuple[bool, ...]
    always_f32: tuple[bool, ...]
    gpt_oss_expert: tuple[bool, ...]  # gpt-oss *_exps tensors ship as MXFP4
    category: tuple[int, ...]
    row_length: tuple[int, ...]  # shape[0], the dimension quantization blocks run along
    layer: tuple[int, ...]
    n_attention_wv: int
    has_output: bool


@lru_cache(maxsize=64)
def _walk(model: Model, tensors: tuple[Tensor, ...]) -> _Walk:
    has_output = any(t.name == "output.weight" for t in tensors)
    return _Walk(
        # llama-quantize walks tensors sorted by layer, then name; its counters (i_ffn_down ...) depend on that order.
        order=tuple(sorted(range(len(tensors)), key=lambda k: (tensors[k].layer, tensors[k].name))),
        quantizable=tuple(_is_quantizable(t) for t in tensors),
        always_f32=tuple(_always_f32(t) for t in tensors),
        gpt_oss_expert=tuple(model.arch == "gpt-oss" and "_exps.weight" in t.name for t in tensors),
        category=tuple(_category(t.name, has_output) for t in tensors),
        row_length=tuple(t.shape[0] for t in tensors),
        layer=tuple(t.layer for t in tensors),
        n_attention_wv=sum(1 for t in tensors if any(k in t.name for k in _ATTN_V_LIKE)),
        has_output=has_output,
    )


@dataclass
class _State:
    """Counters llama-quantize keeps while walking the tensors in file order, and the model facts its rules use."""

    n_attention_wv: int
    n_layers: int
    n_gqa: int
    n_expert: int
    is_70b: bool  # LLM_TYPE_70B
    moe: bool  # MoE: ffn rules take the layer from the tensor name (llama-quant.cpp layer_info)
    i_attention_wv: int = 0
    i_ffn_down: int = 0
    i_ffn_gate: int = 0
    i_ffn_up: int = 0


def _bump(cat: int, row_length: int, layer: int, ftype: str, default: str, st: _State, imatrix: bool) -> str:  # noqa: C901
    """llama_tensor_get_type for one quantizable tensor of category `cat` (names as in llama-quant.cpp)."""
    new = default
    n_gqa, n_expert = st.n_gqa, st.n_expert

    if cat == _OUTPUT:
        if row_length % ggml_types()[new][0] != 0:
            return "Q8_0"
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"):
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if cat == _TOKEN_EMBD:
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ftype in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        return new
    if ftype in _IQ_LOW:
        if cat == _ATTN_V:
            if n_gqa >= 4 or n_expert >= 4:
                new = "Q4_K"
            else:
                new = "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
            st.i_attention_wv += 1
        elif n_expert == 8 and cat == _ATTN_K:
            new = "Q4_K"
        elif cat == _FFN_DOWN:
            if st.i_ffn_down < st.n_layers // 8:
                new = "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
            st.i_ffn_down += 1
        elif cat == _ATTN_OUTPUT:
            if n_expert == 8:
                new = "Q5_K"
            elif ftype in ("IQ1_S", "IQ1_M"):
                new = "IQ2_XXS"
            elif ftype in ("IQ2_S", "IQ2_M"):
                new = "IQ3_S"
        return new
    if cat == _ATTN_V or cat == _ATTN_V_FUSED:
        i, n = st.i_attention_wv, st.n_attention_wv
        if ftype == "Q2_K":
            new = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif ftype == "Q2_K_S" and n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_XXS":
            new = "Q4_K" if n_gqa >= 4 else ("IQ3_XXS" if imatrix else "IQ3_S")
        elif ftype in ("IQ3_XS", "IQ3_S") and n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_M":
            new = "Q4_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype in ("IQ4_NL", "IQ4_XS") and n_gqa >= 4:
            new = "Q5_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and _use_more_bits(i, n):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if st.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        if n_expert == 8:
            new = "Q8_0"
        st.i_attention_wv += 1
    elif cat == _ATTN_K:
        if n_expert == 8:
            new = "Q8_0"
        elif ftype == "IQ3_XS":
            new = "IQ3_XXS"
        elif ftype == "IQ3_XXS":
            new = "IQ2_S"
    elif cat == _ATTN_Q:
        if ftype == "IQ3_XS":
            new = "IQ3_XXS"
        elif ftype == "IQ3_XXS":
            new = "IQ2_S"
    elif cat == _FFN_DOWN:
        i, n = (layer if st.moe and layer >= 0 else st.i_ffn_down), st.n_layers
        if ftype == "Q2_K":
            new = "Q3_K"
        elif ftype == "Q2_K_S":
            if i < n // 8:
                new = "Q4_K"
        elif ftype == "IQ3_XXS" and not imatrix:
            new = "Q4_K" if i < n // 8 else "Q3_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < n // 16 else "Q4_K"
        elif ftype == "IQ3_M" and (i < n // 8 or (n_expert == 8 and _use_more_bits(i, n))):
            new = "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype == "Q4_K_M":
            if _use_more_bits(i, n):
                new = "Q6_K"
        elif i < n // 8 and ftype in ("IQ4_NL", "IQ4_XS") and not imatrix:
            new = "Q5_K"
        elif ftype == "Q5_K_M" and _use_more_bits(i, n):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < n // 8:
            new = "Q5_K"
        elif ftype in ("Q4_0", "Q5_0") and imatrix and i < n // 8:
            new = "Q4_1" if ftype == "Q4_0" else "Q5_1"
        st.i_ffn_down += 1
    elif cat == _ATTN_OUTPUT:
        if n_expert == 8:
            if ftype in ("Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M",
                         "IQ3_S", "IQ3_M", "IQ4_XS"):
                new = "Q5_K"
        else:
            new = {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K", "IQ3_M": "Q4_K"}.get(
                ftype, new
            )
    elif cat == _FFN_GATE:
        i, n = (layer if st.moe and layer >= 0 else st.i_ffn_gate), st.n_layers
        if ftype == "IQ3_XS" and n // 8 <= i < 7 * n // 8:
            new = "IQ3_XXS"
        st.i_ffn_gate += 1
    elif cat == _FFN_UP:
        i, n = (layer if st.moe and layer >= 0 else st.i_ffn_up), st.n_layers
        if ftype == "IQ3_XS" and n // 8 <= i < 7 * n // 8:
            new = "IQ3_XXS"
        st.i_ffn_up += 1
    return new


def assign_types(model: Model, tensors: tuple[Tensor, ...], quant: Quant, imatrix: bool | None = None) -> list[str]:
    """GGML type of each tensor in a GGUF of `quant` (e.g. Q4_K_M: default Q4_K, some tensors bumped).

    imatrix: whether an importance matrix was used; by default yes for IQ types (llama-quantize requires one for
    the 1-2 bit IQ types, and the public IQ files are made with one), no for the others.
    """
    ftype, default_type = quant.ftype, quant.default_type
    if imatrix is None:
        imatrix = ftype.startswith("IQ")
    w = _walk(model, tuple(tensors))
    st = _State(
        n_attention_wv=w.n_attention_wv,
        n_layers=model.n_layers,
        n_gqa=model.n_heads // max(1, model.n_kv_heads),
        n_expert=model.moe.experts if model.moe else 0,
        is_70b=model.arch in ("llama", "qwen2") and model.n_layers == 80,
        moe=model.moe is not None,
    )
    kept = "BF16" if ftype == "BF16" else ("F32" if ftype == "F32" else "F16")  # the converter's type, untouched
    quantized_ftype = ftype not in _FLOAT_FTYPES
    block_of = {name: v[0] for name, v in ggml_types().items()}
    types: list[str] = [""] * len(tensors)
    for k in w.order:
        if not w.quantizable[k]:
            types[k] = "F32" if w.always_f32[k] else kept
            continue
        if w.gpt_oss_expert[k]:
            # The converter writes gpt-oss experts as MXFP4; other ftypes keep them (requantizing needs
            # --allow-requantize), as in ggml-org's and unsloth's gpt-oss GGUFs.
            types[k] = "MXFP4"
            continue
        if not quantized_ftype:
            types[k] = default_type
            continue
        cat = w.category[k]
        new = _bump(cat, w.row_length[k], w.layer[k], ftype, default_type, st, imatrix)
        if cat == _OUTPUT and quant.output_type:
            new = quant.output_type
        elif quant.embeddings_type and (cat == _TOKEN_EMBD or (cat == _OUTPUT and not w.has_output)):
            new = quant.embeddings_type
        row = w.row_length[k]
        if row % block_of[new] != 0:
            new = _FALLBACK.get(new, "F16")
            if row % block_of[new] != 0:
                new = "F16"
        types[k] = new
    return types
