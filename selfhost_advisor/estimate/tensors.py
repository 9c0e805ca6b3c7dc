"""Build a model's GGUF tensor list (names and shapes) from its architecture facts.

Why: weights are sized per tensor, because llama.cpp's quantizer gives different tensors different types
(Q4_K_M puts some attn_v/ffn_down and the output head at Q6_K; 1-D tensors stay F32).
Names and shapes follow llama.cpp's gguf-py/gguf/tensor_mapping.py and src/llama-model.cpp (load_tensors):
ne[0] (the first dimension) is the row length, the one quantization blocks run along.
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Model, ParamCounts
from ..record import record
from .arch_traits import (
    FFN_NORM_NAME,
    GEMMA4_ARCHS,
    KIMI_K3_ARCHS,
    GLM4MOE_ARCHS,
    NO_FFN_NORM_ARCHS,
    POST_NORM_ARCHS,
    POST_NORM_ONLY_ARCHS,
    QWEN_NEXT_ARCHS,
    ROPE_FREQS_ARCHS,
    SINGLE_KIND_ARCHS,
    STARCODER2_ARCHS,
    SWA_SINK_ARCHS,
)
from .deci import DECI_ARCHS as _DECI_ARCHS, deci_layer
from .encoder import ENCODER_ARCHS as _ENCODER_ARCHS, encoder_head, encoder_layer
from .ggml import tensor_bytes
from .tensor import Tensor as Tensor  # re-exported: the estimators import it from here
from .tensors_ffn import ffn_tensors
from .tensors_legacy import LEGACY_ARCHS, legacy_head, legacy_layer
from .tensors_mixer import attention_tensors, recurrent_tensors

# EmbeddingGemma (llama.cpp LLM_ARCH_GEMMA_EMBEDDING): Gemma 3's blocks, and after pooling the sentence-transformers
# 2_Dense (768 -> 3072) and 3_Dense (3072 -> 768) projections without bias, dense_2 / dense_3, which the converter writes
# with --sentence-transformers-dense-modules (convert_hf_to_gguf.py EmbeddingGemma reads modules.json for them; ggml-org's
# Q8_0 has them: without them the estimate misses it by 1.5%).
_DENSE_HEAD_ARCHS = frozenset({"gemma-embedding"})
_DENSE_WIDTH = 4  # 2_Dense out_features / in_features of embeddinggemma-300m: 3072 / 768


def layer_tensors(model: Model, i: int) -> list[Tensor]:
    """All tensors of repeating block `i`, in the order llama.cpp's converter writes them."""
    p, d = f"blk.{i}.", model.hidden_size
    if model.arch in _ENCODER_ARCHS:  # BERT-style embedding models (estimate/encoder.py)
        return [Tensor(name, shape, i) for name, shape in encoder_layer(model, i)]
    if model.arch in _DECI_ARCHS:  # DeciLM: per-block attention kind and FFN width (estimate/deci.py)
        return [Tensor(name, shape, i) for name, shape in deci_layer(model, i)]
    if model.arch in LEGACY_ARCHS:  # LayerNorm-with-bias layouts: phi2, starcoder, falcon ... (tensors_legacy.py)
        return legacy_layer(model, i)
    if model.arch in POST_NORM_ONLY_ARCHS:
        return (attention_tensors(model, i) + [Tensor(p + "post_attention_norm.weight", (d,), i)] + ffn_tensors(model, i)
                + [Tensor(p + "post_ffw_norm.weight", (d,), i)])
    out = [Tensor(p + "attn_norm.weight", (d,), i)]
    if model.arch in KIMI_K3_ARCHS:  # cross-layer attention residuals: one score vector before attention, one before FFN
        out += [Tensor(p + "attn_res_score.weight", (d,), i), Tensor(p + "ffn_res_score.weight", (d,), i)]
    if model.arch in STARCODER2_ARCHS:
        out.append(Tensor(p + "attn_norm.bias", (d,), i))
    kind = model.layer_kind(i)
    if model.arch in SINGLE_KIND_ARCHS:
        if kind == "*":
            return out + attention_tensors(model, i)
        if kind == "M":
            return out + recurrent_tensors(model, i)
        return out + ffn_tensors(model, i)  # "-" MLP or "E" MoE
    if kind == "P":  # Falcon-H1: Mamba-2 and attention side by side on the same normed input
        out += recurrent_tensors(model, i) + attention_tensors(model, i)
    elif kind == "X":  # mllama: cross-attention into the image in place of self-attention
        out += cross_attention_tensors(model, i)
    else:
        out += recurrent_tensors(model, i) if kind == "M" else attention_tensors(model, i)
    if model.arch in QWEN_NEXT_ARCHS:
        return out + [Tensor(p + "post_attention_norm.weight", (d,), i)] + ffn_tensors(model, i)
    if model.arch in POST_NORM_ARCHS:
        out.append(Tensor(p + "post_attention_norm.weight", (d,), i))
    if model.arch in GLM4MOE_ARCHS:
        out.append(Tensor(p + "post_attention_norm.weight", (d,), i))
    elif model.arch not in NO_FFN_NORM_ARCHS:
        # gpt-oss calls it post_attention_norm; same size, same F32 type.
        out.append(Tensor(p + FFN_NORM_NAME.get(model.arch, "ffn_norm") + ".weight", (d,), i))
        if model.arch in STARCODER2_ARCHS:
            out.append(Tensor(p + "ffn_norm.bias", (d,), i))
    out += ffn_tensors(model, i)
    if model.arch in POST_NORM_ARCHS:
        out.append(Tensor(p + "post_ffw_norm.weight", (d,), i))
    if model.arch in GEMMA4_ARCHS:
        out.append(Tensor(p + "layer_output_scale.weight", (1,), i))
    if model.altup is not None:
        out += _altup_block(model, i)
    return out


def cross_attention_tensors(model: Model, i: int) -> list[Tensor]:
    """A Llama 3.2 Vision cross-attention layer's mixer: q/k/v/o without biases, RMSNorms on q and k (head_dim), and
    the two tanh gates (attention and MLP, one value each). Names as Ollama's convert_mllama.go writes them
    ("cross_attn." -> "cross_attn_"); shapes from transformers' MllamaTextCrossAttention."""
    p, d, hd = f"blk.{i}.", model.hidden_size, model.head_dim
    q, kv = model.n_heads * hd, model.n_kv_heads * hd
    return [Tensor(p + "cross_attn_q_proj.weight", (d, q), i), Tensor(p + "cross_attn_k_proj.weight", (d, kv), i),
            Tensor(p + "cross_attn_v_proj.weight", (d, kv), i), Tensor(p + "cross_attn_o_proj.weight", (q, d), i),
            Tensor(p + "cross_attn_q_norm.weight", (hd,), i), Tensor(p + "cross_attn_k_norm.weight", (hd,), i),
            Tensor(p + "cross_attn_attn_gate", (1,), i), Tensor(p + "cross_attn_mlp_gate", (1,), i)]


def _altup_block(model: Model, i: int) -> list[Tensor]:
    """Gemma 3n's per-layer input gate and projection, AltUp's router and coefficients, LAuReL's low-rank pair
    (src/models/gemma3n.cpp load_arch_tensors; GGUF names from llama-arch.cpp: blk.N.inp_gate, blk.N.proj ...)."""
    a = model.altup
    assert a is not None
    p, d, n = f"blk.{i}.", model.hidden_size, a.n_inputs
    per_layer = [
        Tensor(p + "inp_gate.weight", (d, a.per_layer_width), i),
        Tensor(p + "proj.weight", (a.per_layer_width, d), i),
        Tensor(p + "post_norm.weight", (d,), i),
    ]
    if n == 0:  # Gemma 4: per-layer embeddings without AltUp / LAuReL
        return per_layer
    return per_layer + [
        Tensor(p + "altup_correct_coef.weight", (n, n), i),
        Tensor(p + "altup_correct_scale.weight", (d,), i),
        Tensor(p + "altup_predict_coef.weight", (n, n * n), i),
        Tensor(p + "altup_router.weight", (d, n), i),
        Tensor(p + "altup_router_norm.weight", (d,), i),
        Tensor(p + "laurel_l.weight", (d, a.laurel_rank), i),
        Tensor(p + "laurel_r.weight", (a.laurel_rank, d), i),
        Tensor(p + "laurel_post_norm.weight", (d,), i),
    ]


def _head_tensors(model: Model) -> tuple[list[Tensor], list[Tensor]]:
    """The non-repeating tensors: (before the blocks, after them)."""
    d = model.hidden_size
    if model.arch in _ENCODER_ARCHS:  # no output_norm, no output head
        return [Tensor(name, shape) for name, shape in encoder_head(model)], []
    if model.arch in LEGACY_ARCHS:
        return legacy_head(model)
    tail = [Tensor("output_norm.weight", (d,))]
    if model.arch in STARCODER2_ARCHS:
        tail.append(Tensor("output_norm.bias", (d,)))
    if not model.tied_embeddings:
        tail.append(Tensor("output.weight", (d, model.vocab_size)))
    if model.arch in KIMI_K3_ARCHS:
        tail.append(Tensor("output_res_score.weight", (d,)))
    if model.arch in _DENSE_HEAD_ARCHS:
        tail += [Tensor("dense_2.weight", (d, _DENSE_WIDTH * d)), Tensor("dense_3.weight", (_DENSE_WIDTH * d, d))]
    # mllama: embed_tokens has 8 rows past vocab_size (128264 x 4096 in Llama 3.2 Vision), the output head does not
    head = [Tensor("token_embd.weight", (d, model.embedding_rows or model.vocab_size))]
    a = model.altup
    if a is not None:  # Gemma 3n: the per-layer embedding table, its projection and AltUp's projections
        width = a.per_layer_width * model.n_layers
        head += [Tensor("per_layer_token_embd.weight", (width, a.per_layer_vocab)),
                 Tensor("per_layer_model_proj.weight", (d, width)),
                 Tensor("per_layer_proj_norm.weight", (a.per_layer_width,))]
        if a.n_inputs:
            head += [Tensor("altup_proj.weight", (d, d, a.n_inputs - 1)),
                     Tensor("altup_unembd_proj.weight", (d, d, a.n_inputs - 1))]
    if model.arch in GEMMA4_ARCHS:  # one table for every full layer (the others load it TENSOR_DUPLICATED)
        head.append(Tensor("rope_freqs.weight", ((model.global_head_dim or model.head_dim) // 2,)))
    if model.arch in ROPE_FREQS_ARCHS:  # Step-3.5: one llama3 factor table for the full layers
        head.append(Tensor("rope_freqs.weight", (model.head_dim // 2,)))
    if model.cross_attention_tokens:  # mllama: Llama 3.1's rope scaling factors (Ollama's blob: 396 tensors with it)
        head.append(Tensor("rope_freqs.weight", (model.head_dim // 2,)))
    return head, tail


def file_only_tensors(model: Model) -> list[Tensor]:
    """Tensors a GGUF holds that llama.cpp never loads: GLM-4.5's NextN blocks (a full MoE block after the last
    one, plus eh_proj, its norms and the block's own embedding and head; src/models/glm4-moe.cpp loads them with
    TENSOR_SKIP; GLM-4.6 ships the block without its own embedding and head, gguf_nextn_shares_head). They count in a
    file's size, not in memory."""
    out: list[Tensor] = []
    d = model.hidden_size
    for i in range(model.n_layers, model.n_layers + model.gguf_nextn_layers):
        p = f"blk.{i}."
        out += layer_tensors(model, i)
        out += [Tensor(p + "nextn.eh_proj.weight", (2 * d, d), i), Tensor(p + "nextn.enorm.weight", (d,), i),
                Tensor(p + "nextn.hnorm.weight", (d,), i), Tensor(p + "nextn.shared_head_norm.weight", (d,), i)]
        if not model.gguf_nextn_shares_head:  # llama.cpp loads these two TENSOR_NOT_REQUIRED: absent in GLM-4.6
            out += [Tensor(p + "nextn.embed_tokens.weight", (d, model.vocab_size), i),
                    Tensor(p + "nextn.shared_head_head.weight", (d, model.vocab_size), i)]
    return out


@lru_cache(maxsize=1024)
def build_tensors(model: Model) -> tuple[Tensor, ...]:
    """The model's full tensor list: token_embd, every block, output_norm and (unless tied) output."""
    head, tail = _head_tensors(model)
    tensors = head
    for i in range(model.n_layers):
        tensors += layer_tensors(model, i)
    return tuple(tensors + tail)


@lru_cache(maxsize=256)
def fused_gate_up_experts(model: Model) -> bool:
    """Whether the model's GGUF holds each MoE layer's gate and up experts as one `ffn_gate_up_exps` tensor (Gemma 4,
    as gemma4.cpp loads it; estimate/tensors_ffn.py lists it): llama.cpp's build_moe_ffn then runs one MUL_MAT_ID for
    both and takes gate and up as two views of its output (no kernel), so an MoE layer runs one expert matmul fewer:
    two (gate_up, down), not three. Shared by the backends that count expert calls or graph nodes per MoE layer
    (sycl_path.expert_prefill_seconds, layer_nodes.graph_nodes, cpu_sync.moe_extra_barriers,
    metal_path.mm_id_map_seconds)."""
    return any(t.name.endswith("ffn_gate_up_exps.weight") for t in build_tensors(model))


def layer_kind(model: Model, i: int) -> tuple:
    """Everything besides the index that layer_tensors(model, i) depends on: whether block i is an MoE block,
    its mixer (attention, recurrent, feed-forward only) and Gemma 4's per-layer head size, KV heads and FFN width. Blocks of one kind hold the same tensors (names past
    blk.N., shapes); tests check this on the catalog. GLM-5.2: whether the block has its own DSA indexer; MiMo-V2: whether it slides (its sinks)."""
    return (model.is_moe_layer(i), model.layer_kind(i), model.layer_head_dim(i), model.layer_kv_heads(i),
            model.layer_intermediate_size(i), model.layer_has_v(i),
            model.dsa is None or model.dsa.has_indexer(i, model.n_layers),
            model.arch in SWA_SINK_ARCHS and model.is_sliding(i), model.layer_n_heads(i))


@record
class Layout:
    """A model's tensors without spelling out every block: the estimators size one block of each kind."""

    singles: tuple[Tensor, ...]  # non-repeating tensors (token_embd, output_norm, output)
    kinds: tuple[int, ...]  # per layer: which template its block repeats
    templates: tuple[tuple[Tensor, ...], ...]  # the tensors of the first block of each kind


@lru_cache(maxsize=1024)
def layout(model: Model) -> Layout:
    head, tail = _head_tensors(model)
    first: dict[tuple, int] = {}
    kinds, templates = [], []
    for i in range(model.n_layers):
        kind = layer_kind(model, i)
        if kind not in first:
            first[kind] = len(templates)
            templates.append(tuple(layer_tensors(model, i)))
        kinds.append(first[kind])
    return Layout(tuple(head + tail), tuple(kinds), tuple(templates))


def _param_tensors(model: Model) -> tuple[Tensor, ...] | list[Tensor]:
    if model.tensor_types is not None:  # read from a GGUF header: the file's own tensors
        return [t for t, _, _ in exact_tensors(model)]
    return build_tensors(model)


def count_params(model: Model) -> int:
    """Parameters implied by the architecture (text model only), for checking catalog entries."""
    return sum(t.n_elements for t in _param_tensors(model))


def active_params(model: Model) -> int:
    """Parameters read per token: MoE layers count only `active` routed experts plus shared ones."""
    total = 0
    for t in _param_tensors(model):
        n = t.n_elements
        if "_exps." in t.name and model.moe is not None:
            n = n * model.moe.active // model.moe.experts
        total += n
    return total


@lru_cache(maxsize=1024)
def param_counts(model: Model) -> ParamCounts:
    """count_params and active_params together, once per model: what the result records carry for render."""
    return ParamCounts(count_params(model), active_params(model))


def _layer_of_name(name: str, n_layers: int) -> int:
    """blk.N.* -> N; -1 for non-repeating tensors (and for blocks past n_layers, which no layer holds)."""
    if name.startswith("blk."):
        head = name[4:].split(".", 1)[0]
        if head.isascii() and head.isdigit() and int(head) < n_layers:
            return int(head)
    return -1


@lru_cache(maxsize=8)
def exact_tensors(model: Model) -> list[tuple[Tensor, str, int]]:
    """(tensor, ggml type, bytes) straight from a GGUF header's tensor infos; bytes padded to the file's alignment."""
    assert model.tensor_types is not None
    align = max(1, model.gguf_alignment)
    out = []
    for name, shape, ggml_type in model.tensor_types:
        t = Tensor(name, tuple(shape), _layer_of_name(name, model.n_layers))
        n_bytes = tensor_bytes(ggml_type, t.n_elements, t.shape[0]) if t.shape and t.shape[0] else 0
        out.append((t, ggml_type, -(-n_bytes // align) * align))
    return out
