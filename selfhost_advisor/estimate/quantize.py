"""Assign each tensor the GGML type llama.cpp's quantizer gives it for a file type (ftype).

A port of the decision logic of `llama_tensor_get_type` and the `quantize &= ...` filter in
llama_model_quantize_impl (ggml-org/llama.cpp src/llama-quant.cpp), plus the converter's F32 rules
(convert_hf_to_gguf.py prepare_tensors). Assumptions: an importance matrix is used for IQ types
(llama-quantize requires one for IQ1/IQ2 and recommends it for IQ3), not for the others.
Sizes per type come from data/ggml_types.yaml (generated from gguf's GGML_QUANT_SIZES).
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import Model, Quant
from ..record import record
from .ggml import ggml_types, tensor_bytes  # noqa: F401  (re-exported: memory.py imports them from here)
from .tensors import Tensor, layout

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


def _use_more_bits(i_layer: int, n_layers: int) -> bool:
    return i_layer < n_layers // 8 or i_layer >= 7 * n_layers // 8 or (i_layer - n_layers // 8) % 3 == 2


# MiniMax-M3's MSA indexer projections: llama-quant.cpp never quantizes them, and they are stored F32 (bartowski's
# MiniMax-M3 Q8_0 is 224.1 M parameters x 2.94 B above a Q8_0 indexer: F32, not BF16; the converter's rule was not read).
_MSA_INDEXER = ("indexer.q_proj.weight", "indexer.k_proj.weight")


def _is_quantizable(t: Tensor) -> bool:
    """llama_model_quantize_impl: only 2D+ weight matrices are quantized; norms and routers are kept."""
    name = t.name
    return (
        name.endswith("weight")
        and t.n_dims >= 2
        and "_norm.weight" not in name
        and "ffn_gate_inp.weight" not in name
        and name not in ("position_embd.weight", "token_types.weight")  # "do not quantize positional embeddings
        # and token types (BERT)": llama-quant.cpp compares with LLM_TN(arch)(LLM_TENSOR_POS_EMBD / TOKEN_TYPES)
        and "ssm_conv1d.weight" not in name  # "do not quantize Mamba's small yet 2D weights"
        and "shortconv.conv.weight" not in name  # LFM2's short convolution, likewise
        and not name.endswith(_MSA_INDEXER)  # "do not quantize MiniMax's indexer projection weights, they are tiny"
        and "altup" not in name and "laurel" not in name  # Gemma 3n: "these are very small (e.g. 4x4)"
        and "per_layer_model_proj" not in name  # "these are not too big so keep them as it is"
    )


def _always_f32(t: Tensor) -> bool:
    """The converter writes 1-D, norm and router tensors (and non-weights) F32 whatever the file type; also BERT's
    position table and token types (convert_hf_to_gguf.py: "Some tensor types are always in float32": POS_EMBD,
    TOKEN_TYPES)."""
    return (t.n_dims <= 1 or t.name.endswith("_norm.weight") or "ffn_gate_inp" in t.name or "ssm_conv1d" in t.name
            or t.name in ("position_embd.weight", "token_types.weight")
            or "shortconv.conv" in t.name or "altup_correct_coef" in t.name or "altup_predict_coef" in t.name
            or t.name.endswith(_MSA_INDEXER)
            or not t.name.endswith(".weight"))


# Tensor categories, tested in the order llama_tensor_get_type tests the names. ATTN_V is attn_v proper; ATTN_V_FUSED is
# fused qkv and MLA's kv_b. Current llama-quant.cpp treats both alike (category_is_attn_v) in the 1-2 bit IQ branch and
# in the general one; before that change (2026) only attn_v was bumped, so older files are scored as legacy.
_OUTPUT, _TOKEN_EMBD, _ATTN_V, _ATTN_V_FUSED, _ATTN_K, _ATTN_Q, _FFN_DOWN, _ATTN_OUTPUT, _FFN_GATE, _FFN_UP, _OTHER = range(11)


# The categories whose rules read a walk counter or the layer index; every other tensor's type depends only on
# the tensor and the file type.
_COUNTED = frozenset({_ATTN_V, _ATTN_V_FUSED, _FFN_DOWN, _FFN_GATE, _FFN_UP})


_EMBEDDINGS = ("token_embd.weight", "per_layer_token_embd.weight")  # llama-quant.cpp tensor_name_match_token_embd


def _category(name: str, has_output: bool) -> int:
    # With tied embeddings every TOKEN_EMBD tensor takes the output head's rule (llama_tensor_get_type:
    # `category == OUTPUT || (qs.has_tied_embeddings && category == TOKEN_EMBD)`), Gemma 3n's per-layer table included.
    if name == "output.weight" or (not has_output and name in _EMBEDDINGS):
        return _OUTPUT
    if name in _EMBEDDINGS:
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


@record
class Facts:
    """What llama-quantize's rules read of one tensor, whatever the file type."""

    tensor: Tensor
    category: int
    quantizable: bool
    always_f32: bool
    gpt_oss_expert: bool  # gpt-oss *_exps tensors ship as MXFP4


def _facts(model: Model, t: Tensor, has_output: bool) -> Facts:
    return Facts(t, _category(t.name, has_output), _is_quantizable(t), _always_f32(t),
                 model.arch == "gpt-oss" and "_exps.weight" in t.name)


@record
class Walk:
    """llama-quantize's walk over a model's tensors (by layer, then name: the order its counters advance in),
    with every fact its rules read that does not depend on the file type. Built once per model and reused for
    every quantization (fit sizes ~20 per model). Repeating blocks are described once per template.
    """

    singles: tuple[Facts, ...]  # the non-repeating tensors, by name
    templates: tuple[tuple[Facts, ...], ...]  # each template's tensors, by name
    blocks: tuple[tuple[int, int], ...]  # (layer, template), by layer
    counted: tuple[tuple[int, int, int, int], ...]  # per template: tensors per counter (attn_v, down, gate, up)
    n_attention_wv: int
    has_output: bool


def _build_walk(model: Model, singles: list[Tensor], templates: list[tuple[Tensor, ...]],
                blocks: list[tuple[int, int]]) -> Walk:
    names = [t.name for t in singles] + [t.name for tpl in templates for t in tpl]
    has_output = "output.weight" in names
    facts = tuple(tuple(_facts(model, t, has_output) for t in sorted(tpl, key=lambda t: t.name)) for tpl in templates)
    counted = tuple(
        (sum(1 for f in tpl if f.category in (_ATTN_V, _ATTN_V_FUSED)),
         sum(1 for f in tpl if f.category == _FFN_DOWN), sum(1 for f in tpl if f.category == _FFN_GATE),
         sum(1 for f in tpl if f.category == _FFN_UP))
        for tpl in facts
    )
    return Walk(
        singles=tuple(_facts(model, t, has_output) for t in sorted(singles, key=lambda t: t.name)),
        templates=facts, blocks=tuple(sorted(blocks)), counted=counted,
        # llama-quantize's n_attention_wv: every attn_v-like tensor (attn_v, attn_qkv, attn_kv_b), all in blocks.
        n_attention_wv=sum(counted[k][0] for _, k in blocks), has_output=has_output,
    )


@lru_cache(maxsize=1024)
def model_walk(model: Model) -> Walk:
    """The walk over the tensors build_tensors lists, from one template per block kind (tensors.layout)."""
    lay = layout(model)
    return _build_walk(model, list(lay.singles), list(lay.templates), list(enumerate(lay.kinds)))


def _walk_of(model: Model, tensors: tuple[Tensor, ...]) -> tuple[Walk, list[int]]:
    """The walk over any tensor list (e.g. a GGUF's), and each walk position's index in `tensors`."""
    order = sorted(range(len(tensors)), key=lambda k: (tensors[k].layer, tensors[k].name))
    singles = [tensors[k] for k in order if tensors[k].layer < 0]
    templates: list[tuple[Tensor, ...]] = []
    shape_ids: dict[tuple, int] = {}
    blocks = []
    by_layer: dict[int, list[Tensor]] = {}
    for k in order:
        if tensors[k].layer >= 0:
            by_layer.setdefault(tensors[k].layer, []).append(tensors[k])
    for layer, ts in by_layer.items():
        key = tuple((t.name.split(".", 2)[-1], t.shape) for t in ts)
        if key not in shape_ids:
            shape_ids[key] = len(templates)
            templates.append(tuple(ts))
        blocks.append((layer, shape_ids[key]))
    return _build_walk(model, singles, templates, blocks), order


class _State:
    """Counters llama-quantize keeps while walking the tensors in file order, and the model facts its rules use.

    Mutable, so a plain slotted class rather than a record."""

    __slots__ = ("n_attention_wv", "n_layers", "n_gqa", "n_expert", "is_70b", "moe", "falcon",
                 "i_attention_wv", "i_ffn_down", "i_ffn_gate", "i_ffn_up")

    def __init__(self, n_attention_wv: int, n_layers: int, n_gqa: int, n_expert: int, is_70b: bool, moe: bool,
                 falcon: bool = False) -> None:
        self.n_attention_wv, self.n_layers, self.n_gqa, self.n_expert = n_attention_wv, n_layers, n_gqa, n_expert
        self.is_70b = is_70b  # LLM_TYPE_70B
        self.moe = moe  # MoE: ffn rules take the layer from the tensor name (llama-quant.cpp layer_info)
        self.falcon = falcon  # LLM_ARCH_FALCON: its own output, ffn_down and attn_output rules
        self.i_attention_wv = self.i_ffn_down = self.i_ffn_gate = self.i_ffn_up = 0


def _bump(cat: int, row_length: int, layer: int, ftype: str, default: str, st: _State, imatrix: bool) -> str:  # noqa: C901
    """llama_tensor_get_type for one quantizable tensor of category `cat` (names as in llama-quant.cpp)."""
    new = default
    n_gqa, n_expert = st.n_gqa, st.n_expert

    if cat == _OUTPUT:
        if st.falcon or row_length % ggml_types()[new][0] != 0:
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
        if cat == _ATTN_V or cat == _ATTN_V_FUSED:  # category_is_attn_v: attn_v, attn_qkv, attn_kv_b
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
            new = "Q5_K" if i < n // 16 else ("Q4_K" if not st.falcon or _use_more_bits(i, n) else "Q3_K")
        elif ftype == "IQ3_M" and (i < n // 8 or (n_expert == 8 and _use_more_bits(i, n))):
            new = "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q4_K" if st.falcon else "Q5_K"
        elif ftype == "Q4_K_M":
            if st.falcon:
                new = "Q6_K" if i < n // 16 else ("Q5_K" if _use_more_bits(i, n) else "Q4_K")
            elif _use_more_bits(i, n):
                new = "Q6_K"
        elif i < n // 8 and ftype in ("IQ4_NL", "IQ4_XS") and not imatrix:
            new = "Q5_K"
        elif ftype == "Q5_K_M" and _use_more_bits(i, n):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and not st.falcon and i < n // 8:
            new = "Q5_K"
        elif ftype in ("Q4_0", "Q5_0") and imatrix and i < n // 8:
            new = "Q4_1" if ftype == "Q4_0" else "Q5_1"
        st.i_ffn_down += 1
    elif cat == _ATTN_OUTPUT:
        if st.falcon:
            if ftype == "Q3_K_L":
                new = "Q4_K"
        elif n_expert == 8:
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


def _counter_class(x: int, n: int) -> tuple:
    """Everything llama-quant.cpp's rules can tell about a counter or layer index x of n: i < 2, i < 4, i < n/16,
    i < n/8, i >= 7n/8 and, between n/8 and 7n/8, (i - n/8) mod 3 (use_more_bits). Two blocks whose counters
    fall in the same classes get the same types."""
    lo, hi = n // 8, 7 * n // 8
    return (x < 2, x < 4, x < n // 16, x < lo, x >= hi, (x - lo) % 3 if lo <= x < hi else -1)


@lru_cache(maxsize=32)
def _classes(n: int, size: int) -> tuple[int, ...]:
    """_counter_class(x, n) for x in 0..size-1, each class as a small int (equal classes, equal ints): the block
    keys of walk_types hash slices of these, and ints hash faster than 6-tuples."""
    ids: dict[tuple, int] = {}
    return tuple(ids.setdefault(_counter_class(x, n), len(ids)) for x in range(size))


def walk_types(w: Walk, model: Model, quant: Quant, imatrix: bool | None = None, *,
               reuse_blocks: bool = True) -> tuple[list[str], list[tuple[str, ...]]]:
    """GGML types in a GGUF of `quant` (e.g. Q4_K_M: default Q4_K, some tensors bumped): (one per single tensor,
    one tuple per block), both in walk order.

    imatrix: whether an importance matrix was used; by default yes for IQ types (llama-quantize requires one for
    the 1-2 bit IQ types, and the public IQ files are made with one), no for the others.

    Exactly the per-tensor walk, done once per distinct block: a block's types depend only on its tensors and
    on the classes (_counter_class) of the counters and layer index its rules read, so a repeat is copied with
    the counter advances it made (reuse_blocks=False walks every tensor; tests/test_quants.py compares the two).

    Cached per distinct input (_walk_types): the walk and the model facts the rules read (_rule_facts), so a fine-tune
    laid out as its base reuses its base's types (models --fits asks ~2,200 times for ~1,200 distinct inputs).
    """
    singles, blocks = _walk_types(w, _rule_facts(model), quant, imatrix, reuse_blocks)
    return list(singles), list(blocks)


# The architectures whose Unsloth UD-Q4_K_M file was read (data/quants.yaml UD-Q4_K_M: Qwen3.6-35B-A3B's loader
# counts); other models' UD files differ per tensor and take Q4_K_M's rules.
_UD_Q4_K_M_READ = ("qwen35moe",)
# The architectures whose Unsloth UD-Q4_K_XL file was read (data/quants.yaml UD-Q4_K_XL: Qwen3.5-35B-A3B's loader
# counts, docs/methodology.md 5c-s29u); `fit` refuses the quant for any other model (ud_q4_k_xl_read).
_UD_Q4_K_XL_READ = ("qwen35moe",)


def ud_q4_k_m_read(model: Model) -> bool:
    """Whether Unsloth's UD-Q4_K_M layout was read for this model's architecture (_UD_Q4_K_M_READ); elsewhere the quant
    is sized by Q4_K_M's rules and fit says so."""
    return model.moe is not None and model.arch in _UD_Q4_K_M_READ


def ud_q4_k_xl_read(model: Model) -> bool:
    """Whether Unsloth's UD-Q4_K_XL layout was read for this model's architecture (_UD_Q4_K_XL_READ); elsewhere fit
    refuses the quant (no recipe is invented: Unsloth chooses each model's layout, 5c-s29u)."""
    return model.moe is not None and model.arch in _UD_Q4_K_XL_READ


def _ud_read(model: Model) -> tuple[str, ...]:
    """The Unsloth dynamic quants whose layout was read for this model (the names _walk_types dispatches on)."""
    return tuple(name for name, read in (("UD-Q4_K_M", ud_q4_k_m_read(model)), ("UD-Q4_K_XL", ud_q4_k_xl_read(model)))
                 if read)


def _rule_facts(model: Model) -> tuple[int, int, int, bool, bool, bool, tuple[str, ...]]:
    """What llama-quantize's rules read of the model (_State's facts): layers, query heads per KV head, experts,
    LLM_TYPE_70B, MoE, Falcon; and which Unsloth dynamic layouts were read for it (_ud_read)."""
    return (model.n_layers, model.n_heads // max(1, model.n_kv_heads), model.moe.experts if model.moe else 0,
            # LLM_TYPE_70B: load_arch_hparams sets it for 80 layers in llama, qwen2 and deci (src/models/deci.cpp)
            model.arch in ("llama", "qwen2", "deci") and model.n_layers == 80, model.moe is not None,
            model.arch == "falcon", _ud_read(model))


@lru_cache(maxsize=4096)
def _walk_types(w: Walk, facts: tuple[int, int, int, bool, bool, bool, tuple[str, ...]], quant: Quant, imatrix: bool | None,
                reuse_blocks: bool) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """walk_types of a walk and the model's _rule_facts (tuples: the cache's answers are shared)."""
    ftype, default_type = quant.ftype, quant.default_type
    if imatrix is None:
        imatrix = ftype.startswith("IQ")
    n_layers, n_gqa, n_expert, is_70b, moe, falcon, ud_read = facts
    st = _State(n_attention_wv=w.n_attention_wv, n_layers=n_layers, n_gqa=n_gqa, n_expert=n_expert, is_70b=is_70b,
                moe=moe, falcon=falcon)
    kept = "BF16" if ftype == "BF16" else ("F32" if ftype == "F32" else "F16")  # the converter's type, untouched
    quantized_ftype = ftype not in _FLOAT_FTYPES
    block_of = {name: v[0] for name, v in ggml_types().items()}

    fixed: dict[int, str] = {}  # id(facts) -> type, for tensors whose type reads no counter and no layer index

    def type_of(f: Facts, layer: int) -> str:
        if f.category in _COUNTED:
            return _type_of(f, layer)
        known = fixed.get(id(f))
        if known is None:
            known = fixed[id(f)] = _type_of(f, layer)
        return known

    def _type_of(f: Facts, layer: int) -> str:
        if not f.quantizable:
            return "F32" if f.always_f32 else kept
        if f.gpt_oss_expert:
            # The converter writes gpt-oss experts as MXFP4; other ftypes keep them (requantizing needs
            # --allow-requantize), as in ggml-org's and unsloth's gpt-oss GGUFs.
            return "MXFP4"
        if not quantized_ftype:
            return default_type
        cat, row = f.category, f.tensor.shape[0]
        if ftype == "MXFP4_MOE":
            # llama_tensor_get_type_impl: every 3-D tensor (ne[2] > 1: the stacked experts) MXFP4, every other
            # quantizable tensor Q8_0, the output head and token_embd included; no mixing rule, no counters.
            new = "MXFP4" if f.tensor.n_dims >= 3 and f.tensor.shape[2] > 1 else "Q8_0"
            if row % block_of[new] != 0:
                new = _FALLBACK.get(new, "F16")
            return new if row % block_of[new] == 0 else "F16"
        if quant.name in ud_read:
            new = (_unsloth_dynamic_q4_k_m if quant.name == "UD-Q4_K_M" else _unsloth_dynamic_q4_k_xl)(f, cat)
            if row % block_of[new] != 0:
                new = _FALLBACK.get(new, "F16")
            return new if row % block_of[new] == 0 else "F16"
        new = _bump(cat, row, layer, ftype, default_type, st, imatrix)
        if cat == _OUTPUT and quant.output_type:
            new = quant.output_type
        elif quant.embeddings_type and (cat == _TOKEN_EMBD or (cat == _OUTPUT and not w.has_output)):
            new = quant.embeddings_type
        if row % block_of[new] != 0:
            new = _FALLBACK.get(new, "F16")
            if row % block_of[new] != 0:
                new = "F16"
        return new

    singles = [type_of(f, -1) for f in w.singles]
    # Counters never pass the number of tensors in blocks; index layers too with the same table.
    size = max(n_layers, sum(sum(w.counted[k]) for _, k in w.blocks)) + 1
    by_layers, by_wv = _classes(n_layers, size), _classes(w.n_attention_wv, size)
    seen: dict[tuple, tuple[tuple[str, ...], tuple[int, int, int, int]]] = {}
    blocks: list[tuple[str, ...]] = []
    a = d = g = u = 0  # the walk's counters (st's, kept in locals between the blocks that need _bump)
    for layer, k in w.blocks:
        c_v, c_d, c_g, c_u = w.counted[k]
        key = (k, by_layers[layer], by_wv[a:a + c_v], by_layers[d:d + c_d], by_layers[g:g + c_g],
               by_layers[u:u + c_u])
        hit = seen.get(key) if reuse_blocks else None
        if hit is None:
            st.i_attention_wv, st.i_ffn_down, st.i_ffn_gate, st.i_ffn_up = a, d, g, u
            block_types = tuple(type_of(f, layer) for f in w.templates[k])
            hit = seen[key] = (block_types, (st.i_attention_wv - a, st.i_ffn_down - d, st.i_ffn_gate - g,
                                             st.i_ffn_up - u))
        blocks.append(hit[0])
        adv = hit[1]
        a, d, g, u = a + adv[0], d + adv[1], g + adv[2], u + adv[3]
    return tuple(singles), tuple(blocks)


def _unsloth_dynamic_q4_k_m(f: Facts, cat: int) -> str:
    """The type of a quantizable tensor in Unsloth's UD-Q4_K_M file of an MoE model, as its loader counts it for
    Qwen3.6-35B-A3B (data/quants.yaml UD-Q4_K_M; docs/methodology.md 5c-s28b): the stacked experts (ne[2] > 1) gate /
    up Q4_K and down Q5_K, the output head Q6_K, a delta-net layer's ssm_alpha / ssm_beta F32, every other quantizable
    tensor (attention, delta-net projections, shared experts, token_embd) Q8_0. No mixing rule, no counters."""
    if f.tensor.n_dims >= 3 and f.tensor.shape[2] > 1:
        return "Q5_K" if cat == _FFN_DOWN else "Q4_K"
    if cat == _OUTPUT:
        return "Q6_K"
    if "ssm_alpha" in f.tensor.name or "ssm_beta" in f.tensor.name:
        return "F32"
    return "Q8_0"


def _unsloth_dynamic_q4_k_xl(f: Facts, cat: int) -> str:
    """The type of a quantizable tensor in Unsloth's UD-Q4_K_XL file of a Qwen3.5 / 3.6 MoE, as its loader counts it for
    Qwen3.5-35B-A3B (data/quants.yaml UD-Q4_K_XL; docs/methodology.md 5c-s29u: "301 x f32, 312 x q8_0, 78 x q4_K,
    41 x q5_K, 1 x q6_K", 20.70 GiB): the stacked experts gate / up Q4_K and down Q5_K, every other quantizable tensor
    Q8_0, the output head and a delta-net layer's ssm_alpha / ssm_beta included (UD-Q4_K_M keeps those Q6_K / F32).
    The file raises three of its 120 equal-sized expert tensors one type further (which, not stated): not placed here."""
    if f.tensor.n_dims >= 3 and f.tensor.shape[2] > 1:
        return "Q5_K" if cat == _FFN_DOWN else "Q4_K"
    return "Q8_0"


def assign_types(model: Model, tensors: tuple[Tensor, ...] | list[Tensor], quant: Quant,
                 imatrix: bool | None = None) -> list[str]:
    """GGML type of each tensor (in the order given) in a GGUF of `quant`; see walk_types."""
    w, order = _walk_of(model, tuple(tensors))
    singles, blocks = walk_types(w, model, quant, imatrix)
    in_walk = singles + [ty for block in blocks for ty in block]
    types = [""] * len(in_walk)
    for p, k in enumerate(order):
        types[k] = in_walk[p]
    return types
