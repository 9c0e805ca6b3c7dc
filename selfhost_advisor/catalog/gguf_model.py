"""Turn GGUF headers (local files, split files, Ollama blobs, Hub files) into a Model with its exact tensors.

Why: a GGUF header states the architecture (the `<arch>.*` keys llama.cpp itself reads) and every tensor's type
and shape, so weights need no estimate: the Model carries `tensor_types` and estimate.memory sums them.
Key names: llama.cpp gguf-py/gguf/constants.py (Keys.LLM, Keys.Attention); defaults llama.cpp applies in code
are in data/gguf_arch.yaml.
"""
from __future__ import annotations

import math
import os
import re
from functools import lru_cache
from typing import Any

from ..domain import DSA, MLA, SSM, Model, MoE
from ..errors import BadFileError
from ..limits import MAX_FILE_NAME_CHARS, MAX_GGUF_INT
from ..record import record
from ..termsafe import clipped
from .data import load
from .gguf_header import ArraySummary, GGUFHeader, read_file_header
from .shape import check_layers, check_shape

_SPLIT = re.compile(r"^(?P<stem>.*)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$", re.I)


@lru_cache(maxsize=1)
def ggml_type_ids() -> dict[int, tuple[str, int, int]]:
    """GGML type id -> (name, block size, type size), from data/ggml_types.yaml."""
    return {int(v["id"]): (name, int(v["block_size"]), int(v["type_size"])) for name, v in load("ggml_types")["types"].items()}


def file_type_name(ftype: Any) -> str | None:
    """general.file_type (llama_ftype) -> llama-quantize's name for it (15 -> Q4_K_M); None if unknown."""
    if not isinstance(ftype, int) or isinstance(ftype, bool):
        return None
    return load("ggml_types").get("file_types", {}).get(str(ftype))  # data keys are strings (JSON)


@record
class GGUFModel:
    """A model read from one GGUF (or the parts of a split GGUF)."""

    model: Model
    quant: str  # llama-quantize file type (Q4_K_M ...) or, if the header names none, the dominant tensor type
    files: tuple[str, ...]
    data_bytes: int  # tensor data of all parts, padded as laid out in the files
    file_type_known: bool


def split_parts(path: str) -> list[str]:
    """All parts of a split GGUF (name-00001-of-00003.gguf), in order; [path] for a single file."""
    m = _SPLIT.match(os.path.basename(path))
    if not m:
        return [path]
    count, no = int(m.group("count")), int(m.group("no"))
    if not 1 <= no <= count:  # '-00001-of-00000' read no part at all and said "m: no GGUF header"
        raise BadFileError(f"{os.path.basename(path)}: part {no} of {count} is not a split GGUF's name",
                           "a split file's parts are numbered 00001 to their count; a single file needs no such suffix")
    folder = os.path.dirname(path)
    parts = [os.path.join(folder, f"{m.group('stem')}-{i:05d}-of-{count:05d}.gguf") for i in range(1, count + 1)]
    missing = [p for p in parts if not os.path.isfile(p)]
    if missing:
        raise BadFileError(
            f"split GGUF {os.path.basename(path)} is missing {len(missing)} of its {count} parts",
            f"e.g. {os.path.basename(missing[0])}; download every part into one folder",
        )
    return parts


def read_local(path: str) -> GGUFModel:
    """Read a local GGUF (all parts if split) without touching the tensor data."""
    if not os.path.exists(path):
        if os.path.islink(path):  # os.path.exists follows the link: a dangling one or a loop read 'no such file'
            raise BadFileError(f"{path} is a symbolic link to nothing (its target is missing, or it loops)",
                               "point it at the .gguf file, or give the file's own path")
        raise BadFileError(f"no such file: {path}", "check the path (a model by name needs no .gguf: "
                                                     "'advisor models' lists the catalog)")
    if os.path.isdir(path):
        raise BadFileError(f"{path} is a folder, not a GGUF file")
    parts = split_parts(path)
    headers = [read_file_header(p, ggml_type_ids()) for p in parts]
    label = _display_name(path)
    return from_headers(headers, model_id=label, source=os.path.abspath(path), files=tuple(parts))


def _display_name(path: str) -> str:
    base = os.path.basename(path)
    m = _SPLIT.match(base)
    stem = m.group("stem") if m else base
    return stem[:-5] if stem.lower().endswith(".gguf") else stem


def _check_tensors(tensors: list, model_id: str) -> None:
    """Refuse what llama.cpp refuses before sizing it (session 33). No tensors: llama.cpp's vocabulary-only files
    (models/ggml-vocab-*.gguf: the model's whole header, no weights) were sized as a 0 MB model that 'fits fully on
    GPU'; llama-server stops at the first missing tensor. A tensor named twice, in one part or across split parts: ggml's
    gguf.cpp ("duplicate tensor name") and llama-model-loader.cpp ("invalid model: tensor '%s' is duplicated") refuse
    the file; it was counted twice."""
    if not tensors:
        raise BadFileError(f"{model_id}: GGUF holds no tensors, only metadata (a vocabulary-only file such as "
                           "llama.cpp's ggml-vocab-*.gguf?); llama.cpp cannot run it",
                           "give the model's GGUF with its weights")
    seen: set[str] = set()
    for t in tensors:
        if t.name in seen:
            raise BadFileError(f"{model_id}: GGUF names tensor {clipped(t.name, 60)!r} twice (llama.cpp refuses "
                               "such a file: 'invalid model: tensor is duplicated')", "download or convert it again")
        seen.add(t.name)


def from_headers(headers: list[GGUFHeader], *, model_id: str, source: str, files: tuple[str, ...]) -> GGUFModel:
    """Model + quant from the header of each part (the first part carries the metadata)."""
    if not headers:
        raise BadFileError(f"{model_id}: no GGUF header")
    first = headers[0]
    tensors = [t for h in headers for t in h.tensors]
    split_count = first.metadata.get("split.count")
    if isinstance(split_count, int) and split_count > 1 and len(headers) != split_count:
        raise BadFileError(
            f"{model_id} is part of a split GGUF with {split_count} parts", "give the first part, with all parts beside it"
        )
    alignments = {h.alignment for h in headers}
    model = model_from_metadata(
        first.metadata, [(t.name, t.shape, t.ggml_type) for t in tensors], model_id=model_id, source=source,
        alignment=max(alignments),
    )
    _check_tensors(tensors, model_id)  # after the metadata: a header without block_count says that first
    ftype = file_type_name(first.metadata.get("general.file_type"))
    if ftype is None:
        by_type: dict[str, int] = {}
        for t in tensors:
            by_type[t.ggml_type] = by_type.get(t.ggml_type, 0) + t.n_bytes
        ftype = max(by_type, key=lambda k: by_type[k]) if by_type else "F32"
    return GGUFModel(
        model=model, quant=ftype, files=files, data_bytes=sum(h.data_bytes for h in headers),
        file_type_known=file_type_name(first.metadata.get("general.file_type")) is not None,
    )


def _int(v: Any, default: int = 0, where: str = "GGUF metadata") -> int:
    """An integer key; per-layer arrays (head_count_kv on some models) count by their largest value.

    A count is a whole number from 0 to MAX_GGUF_INT: NaN, infinity, 2.5, -7 or 2^63 in a count is a corrupt file
    (BadFileError naming the key), checked before any arithmetic uses it. So is a key of another type (session 34):
    llama.cpp's loader checks each key's type ("key %s has wrong type %s but expected type %s", llama-model-loader.cpp
    GKV::validate_type); a boolean was read as the count 1 (Python's True is an int) and a string or a nested array as
    absent. An empty array or one too long to keep (ArraySummary) reads as absent, as before."""
    if v is None or v == [] or isinstance(v, ArraySummary):
        return default
    if isinstance(v, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return max(_int(x, default, where) for x in v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        kind = ("a boolean" if isinstance(v, bool) else "text" if isinstance(v, str)
                else "an array of non-numbers" if isinstance(v, list) else type(v).__name__)
        raise BadFileError(f"{where} is {kind}, not a count (llama.cpp refuses a key of the wrong type)",
                           "the file is corrupt: convert it again")
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()) or not 0 <= v <= MAX_GGUF_INT:
        raise BadFileError(f"{where} is {v!r}, not a count from 0 to 2^40", "the file is corrupt: convert it again")
    return int(v)


def _swa_pattern(arch: str, value: Any, n_layers: int) -> int | None:
    """Every-Nth-layer-global pattern from <arch>.attention.sliding_window_pattern (int or per-layer bools)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, list) and value and all(isinstance(x, bool) for x in value):
        if all(value):
            return 1
        n = value.index(False) + 1
        if all(value[i] == ((i + 1) % n != 0) for i in range(len(value))):
            return n
        return None  # not periodic: caller treats every layer as global (never underestimates the KV cache)
    return load("gguf_arch")["swa_pattern"].get(arch)


def _indexer_layers(arch: str, value: Any, n_layers: int, n_ctx_train: int) -> tuple[int, ...] | None:
    """Layers with their own DSA indexer from <arch>.attention.indexer.types (per-layer bools, GLM-5.2's "full").
    Without the key, llama.cpp's glm-dsa.cpp takes every layer as full for a trained context under 1,048,576 (GLM-5 /
    5.1) and GLM-5.2's table otherwise (full at 0, 1, 2, then every 4th from 6 to 74). None: every layer full."""
    if isinstance(value, list) and len(value) >= n_layers and all(isinstance(x, (bool, int)) for x in value):
        full = tuple(i for i in range(n_layers) if value[i])
    elif arch == "glm-dsa" and n_ctx_train >= 1048576:
        full = tuple(i for i in (0, 1, 2, *range(6, 78, 4)) if i < n_layers)
    else:
        return None
    return None if len(full) == n_layers else full


# llama.cpp architectures whose recurrent layers are Gated DeltaNet (the rest with ssm.* keys are Mamba-style).
_DELTANET_ARCHS = frozenset({"qwen3next", "qwen35", "qwen35moe"})
_MAMBA1_ARCHS = frozenset({"jamba", "mamba"})
# One mixer or FFN per block, MoE blocks told apart by their expert tensors (Nemotron 3 Nano).
_SINGLE_KIND_MOE_ARCHS = frozenset({"nemotron_h_moe"})


def _attention_free_blocks(names: dict, n_layers: int) -> str:
    """"" when every block attends; otherwise "*" / "-" per block. DeciLM (Llama-3.x Nemotron Super / Ultra, llama.cpp
    `deci`) drops attention from some blocks or replaces it by one linear map (attn_output only, n_head_kv 0): those
    keep no KV (src/models/deci.cpp load_arch_tensors)."""
    if n_layers > len(names):  # more blocks than tensors: not a real file's count (and a hostile 2**40 would hang here)
        return ""
    attends = [any(f"blk.{i}.{t}.weight" in names for t in ("attn_k", "attn_qkv", "attn_kv_a_mqa"))
               for i in range(n_layers)]
    if all(attends) or not any(attends):
        return ""
    return "".join("*" if a else "-" for a in attends)


def _hybrid_from_gguf(arch: str, key, names: dict, n_layers: int) -> tuple[SSM | None, str]:
    """The recurrent shapes (<arch>.ssm.* keys, as llama.cpp's load_hparams reads them) and which layers are
    recurrent, read from the file's own tensors: a block with ssm_conv1d is recurrent, one with attn_k / attn_qkv
    outside it attends, any other (Nemotron-H's MLP blocks) is feed-forward only."""
    conv, inner = _int(key("ssm.conv_kernel")), _int(key("ssm.inner_size"))
    l_cache = _int(key("shortconv.l_cache"))
    if l_cache > 0:  # LFM2: short convolutions keep (l_cache - 1) x n_embd inputs (llama-hparams.cpp n_embd_r)
        ssm = SSM("shortconv", l_cache, _int(key("embedding_length")), 0, 0, 0)
    elif conv <= 0 or inner <= 0:
        return None, _attention_free_blocks(names, n_layers)
    elif arch in _MAMBA1_ARCHS:  # Mamba-1: no B/C groups
        ssm = SSM("mamba", conv, inner, _int(key("ssm.state_size")), 0, _int(key("ssm.time_step_rank")))
    else:
        ssm = SSM("gated_deltanet" if arch in _DELTANET_ARCHS else "mamba2", conv, inner, _int(key("ssm.state_size")),
                  _int(key("ssm.group_count"), 1) or 1, _int(key("ssm.time_step_rank")))
    pattern = []
    for i in range(n_layers):
        p = f"blk.{i}."
        recurrent = p + "ssm_conv1d.weight" in names or p + "shortconv.conv.weight" in names
        attends = p + "attn_k.weight" in names or p + "attn_qkv.weight" in names or p + "attn_kv_a_mqa.weight" in names
        if recurrent and p + "attn_output.weight" in names:  # Falcon-H1: both mixers in one block (Qwen3.5's
            # recurrent blocks carry an attn_qkv too, but their output projection is ssm_out)
            pattern.append("P")
        elif recurrent:
            pattern.append("M")
        elif attends:
            pattern.append("*")
        elif arch in _SINGLE_KIND_MOE_ARCHS and p + "ffn_up_exps.weight" in names:
            pattern.append("E")
        else:
            pattern.append("-")
    return (ssm if ("M" in pattern or "P" in pattern) else None), "".join(pattern)


def model_from_metadata(
    md: dict[str, Any],
    tensor_types: list[tuple[str, tuple[int, ...], str]],
    *,
    model_id: str,
    source: str,
    alignment: int = 32,
) -> Model:
    """Map a GGUF's metadata keys onto Model; the tensors are kept exactly."""
    arch = md.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        raise BadFileError(f"{model_id}: GGUF has no general.architecture", "is this a model file (not a LoRA or projector)?")
    if len(arch) > 64:  # llama.cpp's longest (LLM_ARCH_NAMES) is under 30; a 100,000-character one was quoted whole
        raise BadFileError(f"{model_id}: GGUF general.architecture is {len(arch):,} characters long, "
                           f"{clipped(arch, 40)!r}: no llama.cpp architecture is", "is this a model file?")
    if md.get("general.type") not in (None, "model"):
        raise BadFileError(f"{model_id}: GGUF holds a {clipped(str(md.get('general.type')), 40)!r}, not a model")

    def key(name: str, default: Any = None) -> Any:
        return md.get(f"{arch}.{name}", default)

    def num(name: str, default: int = 0) -> int:
        return _int(key(name), default, f"{model_id}: GGUF key {arch}.{name}")

    names = {t[0]: t for t in tensor_types}
    n_layers = num("block_count")
    # NextN / MTP blocks (GLM-4.5, Nemotron 3 Super, ...) follow the trunk: llama.cpp's n_layer() is block_count -
    # nextn_predict_layers, and it loads those blocks only for MTP decoding (TENSOR_SKIP)
    nextn = num("nextn_predict_layers")
    if 0 < nextn < n_layers:
        n_layers -= nextn
    else:
        nextn = 0
    hidden = num("embedding_length")
    n_heads = num("attention.head_count")
    if n_layers <= 0 or hidden <= 0 or n_heads <= 0:
        raise BadFileError(
            f"{model_id}: GGUF lacks {arch}.block_count / embedding_length / attention.head_count",
            "architectures without attention heads (e.g. pure state-space models) are not supported",
        )
    check_layers(n_layers, BadFileError, model_id)  # before the per-layer loops below (_hybrid_from_gguf, MSA)
    n_kv = num("attention.head_count_kv", n_heads) or n_heads
    head_dim = num("attention.key_length", hidden // n_heads)
    embd = names.get("token_embd.weight")
    vocab = num("vocab_size")
    if not vocab and embd is not None and len(embd[1]) >= 2:
        vocab = embd[1][1]
    if not vocab:
        tokens = md.get("tokenizer.ggml.tokens")
        vocab = tokens.length if isinstance(tokens, ArraySummary) else len(tokens) if isinstance(tokens, list) else 0
    ff = num("feed_forward_length")
    moe = None
    n_expert = num("expert_count")
    if n_expert > 0:
        moe = MoE(
            experts=n_expert,
            active=num("expert_used_count", 1),
            expert_intermediate_size=num("expert_feed_forward_length", ff),
            shared_experts=num("expert_shared_count"),
            shared_intermediate_size=num("expert_shared_feed_forward_length"),
            first_dense_layers=num("leading_dense_block_count"),
            moe_layer_step=num("interleave_moe_layer_step", 1) or 1,
            latent_size=num("moe_latent_size"),  # Nemotron 3 Super's LatentMoE (nemotron-h.cpp)
        )
    mla = None
    kv_lora = num("attention.kv_lora_rank")
    if kv_lora > 0:
        rope = num("rope.dimension_count", 64)
        # Newer converters store the absorbed MLA sizes in key_length and the per-head ones in key_length_mla.
        k_len = num("attention.key_length_mla", num("attention.key_length"))
        v_len = num("attention.value_length_mla", num("attention.value_length"))
        mla = MLA(kv_lora_rank=kv_lora, qk_rope_head_dim=rope, qk_nope_head_dim=max(0, k_len - rope),
                  v_head_dim=v_len, q_lora_rank=num("attention.q_lora_rank") or None)
        head_dim = k_len or head_dim
    dsa = None
    if mla is not None and num("attention.indexer.key_length") > 0:  # DeepSeek-V3.2 (deepseek32): DSA indexer
        dsa = DSA(index_n_heads=num("attention.indexer.head_count"), index_head_dim=num("attention.indexer.key_length"),
                  index_topk=num("attention.indexer.top_k"),
                  indexer_layers=_indexer_layers(arch, key("attention.indexer.types"), n_layers, num("context_length")))
    elif arch == "minimax-m3" and num("attention.indexer.key_length") > 0:
        # MiniMax-M3's MSA indexer: in every layer past the leading dense ones (minimax-m3.cpp), top_k counted in blocks
        lead = num("leading_dense_block_count")
        dsa = DSA(index_n_heads=num("attention.indexer.head_count"), index_head_dim=num("attention.indexer.key_length"),
                  index_topk=num("attention.indexer.top_k") * max(1, num("attention.indexer.block_size", 1)),
                  indexer_layers=tuple(range(lead, n_layers)))
    window = num("attention.sliding_window") or load("gguf_arch")["swa_window"].get(arch) or None
    pattern = _swa_pattern(arch, key("attention.sliding_window_pattern"), n_layers) if window else None
    if window and pattern is None:
        window = None
    ssm, layer_pattern = _hybrid_from_gguf(arch, key, names, n_layers)
    # Gemma 4: key_length is the full layers' head size, key_length_swa the sliding layers'; head_count_kv per layer
    global_head_dim = global_kv = 0
    k_swa = num("attention.key_length_swa")
    if mla is None and k_swa and k_swa != head_dim:
        global_head_dim, head_dim = head_dim, k_swa
        swa_layers, kv_list = key("attention.sliding_window_pattern"), key("attention.head_count_kv")
        if nextn and isinstance(swa_layers, list) and isinstance(kv_list, list):  # per-layer arrays span the NextN blocks
            swa_layers, kv_list = swa_layers[:n_layers], kv_list[:n_layers]
        if isinstance(swa_layers, list) and isinstance(kv_list, list) and len(kv_list) == len(swa_layers) == n_layers:
            full = [_int(h, 0, f"{model_id}: GGUF key {arch}.attention.head_count_kv")
                    for h, swa in zip(kv_list, swa_layers) if not swa]
            global_kv = full[0] if full and full[0] != n_kv else 0
    kv_by_layer: tuple[int, ...] = ()
    kv_list = key("attention.head_count_kv")
    if (arch == "deci" and isinstance(kv_list, list) and len(kv_list) == n_layers
            and len({h for h in kv_list if h}) > 1):  # DeciLM blocks with different n_heads_in_group (Nemotron 51B)
        kv_by_layer = tuple(_int(h, 0, f"{model_id}: GGUF key {arch}.attention.head_count_kv") for h in kv_list)
    v_head_dim, full_layers, sliding_heads = 0, (), 0
    if arch in ("mimo2", "step35"):  # per-layer SWA bools with their own head_count_kv (MiMo-V2) / head_count (Step-3.5)
        if arch == "mimo2":  # MiMo-V2: value_length < key_length
            v_head_dim = num("attention.value_length") if num("attention.value_length") != head_dim else 0
        swa_list, kv_list = key("attention.sliding_window_pattern"), key("attention.head_count_kv")
        if num("attention.sliding_window") and isinstance(swa_list, list) and len(swa_list) >= n_layers:
            window, pattern = num("attention.sliding_window"), None
            full_layers = tuple(i for i, swa in enumerate(swa_list[:n_layers]) if not swa) or (n_layers,)
            if isinstance(kv_list, list) and len(kv_list) >= n_layers:
                label = f"{model_id}: GGUF key {arch}.attention.head_count_kv"
                swa_kv = [_int(h, 0, label) for h, swa in zip(kv_list, swa_list[:n_layers]) if swa]
                full_kv = [_int(h, 0, label) for h, swa in zip(kv_list, swa_list[:n_layers]) if not swa]
                n_kv = swa_kv[0] if swa_kv else n_kv
                global_kv = full_kv[0] if full_kv and full_kv[0] != n_kv else 0
            heads = key("attention.head_count")
            if isinstance(heads, list) and len(heads) >= n_layers:
                label = f"{model_id}: GGUF key {arch}.attention.head_count"
                full_h = [_int(h, 0, label) for h, swa in zip(heads, swa_list[:n_layers]) if not swa]
                swa_h = [_int(h, 0, label) for h, swa in zip(heads, swa_list[:n_layers]) if swa]
                n_heads = full_h[0] if full_h else n_heads
                sliding_heads = swa_h[0] if swa_h and swa_h[0] != n_heads else 0
    n_params = 0
    for _, shape, _ in tensor_types:
        n = 1
        for dim in shape:
            n *= dim
        n_params += n
    name = md.get("general.name")
    return check_shape(Model(
        id=model_id,
        name=clipped(name, MAX_FILE_NAME_CHARS) if isinstance(name, str) and name else model_id,
        arch=arch,
        n_layers=n_layers,
        hidden_size=hidden,
        intermediate_size=ff,
        n_heads=n_heads,
        n_kv_heads=n_kv,
        head_dim=head_dim,
        vocab_size=vocab,
        tied_embeddings="output.weight" not in names,
        max_context=num("context_length", 2048) or 2048,
        params=n_params,
        attention_bias="blk.0.attn_q.bias" in names or "blk.0.attn_qkv.bias" in names,
        qk_norm="blk.0.attn_q_norm.weight" in names,
        sliding_window=window,
        sliding_window_pattern=pattern,
        v_head_dim=v_head_dim,
        full_attention_layers=full_layers,
        sliding_n_heads=sliding_heads,
        moe=moe,
        mla=mla,
        dsa=dsa,
        ssm=ssm,
        layer_pattern=layer_pattern,
        kv_shared_layers=num("attention.shared_kv_layers"),
        global_head_dim=global_head_dim,
        global_kv_heads=global_kv,
        kv_heads_by_layer=kv_by_layer,
        gguf_nextn_layers=nextn,
        license=str(md.get("general.license", "")),
        source=source,
        tensor_types=tuple((n, tuple(int(d) for d in s), ty) for n, s, ty in tensor_types),
        gguf_alignment=alignment,
    ), BadFileError, model_id)
