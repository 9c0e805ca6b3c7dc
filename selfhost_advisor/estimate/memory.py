"""Memory an LLM needs at run time: weights (per tensor), KV cache, compute buffer, runtime overhead.

Formulas and their sources are in docs/methodology.md; each function's docstring names the upstream code.
"""
from __future__ import annotations

from functools import lru_cache

from ..catalog.data import load
from ..domain import FitRequest, MemoryBreakdown, Model, Quant
from ..errors import BadOptionError
from ..record import record
from .encoder import NO_MEMORY_ARCHS, encoder_compute_bytes
from .quantize import assign_types, ggml_types, model_walk, tensor_bytes, walk_types
from .tensors import Tensor, build_tensors, exact_tensors


def _pad(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple if multiple > 1 else n


@lru_cache(maxsize=1)
def _engines() -> dict:
    return load("engines")


def engine_params(engine: str) -> dict:
    try:
        return _engines()["engines"][engine]
    except KeyError:
        raise BadOptionError(
            f"unknown engine {engine!r}", f"use one of: {', '.join(_engines()['engines'])}"
        ) from None


def kv_type(name: str) -> str:
    """GGML type of a KV cache type name (f16, q8_0, q4_0 ...)."""
    types = _engines()["kv_cache_types"]
    key = name.lower()
    if key not in types:
        raise BadOptionError(f"unknown KV cache type {name!r}", f"use one of: {', '.join(types)}")
    return types[key]


@record
class Weights:
    """A model's weights at one quantization, summed the ways the estimates read them.

    One pass per (model, quant), cached: fit sizes ~20 quantizations, planning commands hundreds of pairs, and
    memory, placement and speed all read the same sums.
    """

    total_bytes: int
    params: int
    layer_bytes: tuple[int, ...]  # weights of each repeating layer
    input_embedding_bytes: int  # token_embd
    other_bytes: int  # output.weight, output_norm and any other non-repeating tensor
    by_type: tuple[tuple[str, int], ...]  # bytes per GGML type, in first-seen order
    # Per decoded token: MoE expert tensors (*_exps) count with the routed share active/experts.
    layer_active_bytes: tuple[int, ...]
    layer_active_flops: tuple[int, ...]  # 2 FLOPs per active weight of each matrix
    output_head_bytes: int  # output.weight, or the tied token_embd that serves as the head
    # Per decoded token, the matrices of each repeating layer as (GGML type, active weights, active bytes), one
    # entry per type: what the mat-vec kernel rate of speed.py is applied to. The head: (type, weights).
    layer_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()
    output_head_matrix: tuple[str, int] = ("F16", 0)
    # Routed-expert tensors (ffn_{gate,up,down}_exps) of each layer: what --n-cpu-moe keeps in RAM, and the part of
    # them one decoded token reads (active/experts). Shared experts (*_shexp) are not among them.
    layer_expert_bytes: tuple[int, ...] = ()
    layer_expert_read_bytes: tuple[int, ...] = ()
    # Gemma 3n's per_layer_token_embd: an input table like token_embd (host memory), never the output head
    per_layer_embedding_bytes: int = 0
    # The routed experts' part of layer_matrices, (GGML type, active weights, active bytes) per layer: what MoE prefill
    # pays again for the column tiles its experts leave empty (estimate/moe_tiles.py).
    layer_expert_matrices: tuple[tuple[tuple[str, int, int], ...], ...] = ()


class _Sums:
    """Running sums of `Weights`; `add` takes one tensor."""

    def __init__(self, model: Model, n_layers: int | None = None) -> None:
        self.tied = model.tied_embeddings
        self.share = model.moe.active / model.moe.experts if model.moe else 1.0
        n = model.n_layers if n_layers is None else n_layers
        self.layer, self.read, self.flops = [0] * n, [0] * n, [0] * n
        self.exps, self.exps_read = [0] * n, [0] * n
        self.mats: list[dict[str, list[int]]] = [{} for _ in range(n)]
        self.exp_mats: list[dict[str, list[int]]] = [{} for _ in range(n)]
        self.head_matrix = ("F16", 0)
        self.by_type: dict[str, int] = {}
        self.total = self.params = self.embd = self.other = self.head = self.ple = 0

    def add(self, t: Tensor, ty: str, b: int, slot: int | None = None) -> None:
        """Count tensor t of type ty and b bytes; a repeating tensor goes to its layer, or to `slot` if given."""
        self.total += b
        self.params += t.n_elements
        self.by_type[ty] = self.by_type.get(ty, 0) + b
        if t.layer >= 0:
            i = t.layer if slot is None else slot
            frac = self.share if "_exps" in t.name else 1.0
            self.layer[i] += b
            self.read[i] += int(b * frac)
            if "_exps" in t.name:
                self.exps[i] += b
                self.exps_read[i] += int(b * frac)
            if t.n_dims >= 2:
                self.flops[i] += int(2 * t.n_elements * frac)
                m = self.mats[i].setdefault(ty, [0, 0])
                m[0] += int(t.n_elements * frac)
                m[1] += int(b * frac)
                if "_exps" in t.name:
                    e = self.exp_mats[i].setdefault(ty, [0, 0])
                    e[0] += int(t.n_elements * frac)
                    e[1] += int(b * frac)
            return
        if t.name == "token_embd.weight":
            self.embd = b
        elif t.name == "per_layer_token_embd.weight":
            self.ple = b
        else:
            self.other += b
        if t.name == "output.weight" or (t.name == "token_embd.weight" and self.tied):
            self.head += b
            self.head_matrix = (ty, t.n_elements)

    def result(self) -> Weights:
        mats = tuple(tuple((ty, w, b) for ty, (w, b) in m.items()) for m in self.mats)
        exp_mats = tuple(tuple((ty, w, b) for ty, (w, b) in m.items()) for m in self.exp_mats)
        return Weights(self.total, self.params, tuple(self.layer), self.embd, self.other, tuple(self.by_type.items()),
                       tuple(self.read), tuple(self.flops), self.head, mats, self.head_matrix,
                       tuple(self.exps), tuple(self.exps_read), self.ple, exp_mats)


@lru_cache(maxsize=1024)
def _template_facts(model: Model) -> tuple[tuple[tuple[int, int, bool, bool], ...], ...]:
    """Per template of model_walk(model), per tensor in walk order: (elements, row length, routed expert, matrix):
    what weights() reads of a repeating tensor, once per model rather than once per (model, quant)."""
    return tuple(tuple((f.tensor.n_elements, f.tensor.shape[0], "_exps" in f.tensor.name, f.tensor.n_dims >= 2)
                       for f in tpl) for tpl in model_walk(model).templates)


class _Block:
    """One repeating block's sums at one typing: what _Sums.add(..., slot=0) gives for its tensors, in one loop,
    with the per-layer matrix list built once per block instead of once per layer."""

    __slots__ = ("total", "params", "read", "flops", "exps", "exps_read", "by_type", "mats", "exp_mats")

    def __init__(self, facts: tuple[tuple[int, int, bool, bool], ...], types: tuple[str, ...], share: float) -> None:
        sizes = ggml_types()
        total = params = read = flops = exps = exps_read = 0
        by_type: dict[str, int] = {}
        mats: dict[str, list[int]] = {}
        exp_mats: dict[str, list[int]] = {}
        for (n, row, routed, matrix), ty in zip(facts, types):
            block, size = sizes[ty]
            b = (n // row) * (row // block) * size  # ggml.tensor_bytes
            total += b
            params += n
            by_type[ty] = by_type.get(ty, 0) + b
            frac = share if routed else 1.0
            read += int(b * frac)
            if routed:
                exps += b
                exps_read += int(b * frac)
            if matrix:
                flops += int(2 * n * frac)
                m = mats.get(ty)
                if m is None:
                    m = mats[ty] = [0, 0]
                m[0] += int(n * frac)
                m[1] += int(b * frac)
                if routed:
                    e = exp_mats.get(ty)
                    if e is None:
                        e = exp_mats[ty] = [0, 0]
                    e[0] += int(n * frac)
                    e[1] += int(b * frac)
        self.total, self.params, self.read, self.flops = total, params, read, flops
        self.exps, self.exps_read, self.by_type = exps, exps_read, by_type
        self.mats = tuple((ty, w, b) for ty, (w, b) in mats.items())
        self.exp_mats = tuple((ty, w, b) for ty, (w, b) in exp_mats.items())


@lru_cache(maxsize=4096)
def weights(model: Model, quant: Quant) -> Weights:
    """Weights of `model` at `quant`: from a GGUF header's own tensors when the model has them, else per tensor
    with llama.cpp's quantizer type rules (quantize.walk_types).

    Repeating blocks with the same tensors and types are summed once and copied (a 70B model has 80 blocks and a
    handful of distinct typings); the sums are the per-tensor sums all the same (tests/test_quants.py compares).
    """
    sums = _Sums(model)
    if model.tensor_types is not None:
        for t, ty, b in exact_tensors(model):
            if model.gguf_nextn_layers and _past_trunk(t.name, model.n_layers):
                continue  # a NextN / MTP block: llama.cpp creates it TENSOR_SKIP unless it runs MTP decoding
            sums.add(t, ty, b)
        return sums.result()
    w = model_walk(model)
    singles, blocks = walk_types(w, model, quant)
    for f, ty in zip(w.singles, singles):
        sums.add(f.tensor, ty, _bytes(f.tensor, ty))
    # Each distinct (template, types) block is summed once; model_walk has one block per layer, in layer order.
    facts = _template_facts(model)
    done: dict[tuple, _Block] = {}
    uses: dict[tuple, int] = {}
    per_layer: list[_Block] = []
    for (_, k), types in zip(w.blocks, blocks):
        key = (k, types)
        block = done.get(key)
        if block is None:
            block = done[key] = _Block(facts[k], types, sums.share)
            uses[key] = 0
        uses[key] += 1
        per_layer.append(block)
    assert len(per_layer) == model.n_layers
    total, params, by_type = sums.total, sums.params, sums.by_type
    for key, block in done.items():
        n = uses[key]
        total += n * block.total
        params += n * block.params
        for ty, b in block.by_type.items():
            by_type[ty] = by_type.get(ty, 0) + n * b
    layer = tuple([b.total for b in per_layer])
    return Weights(total, params, layer, sums.embd, sums.other, tuple(by_type.items()),
                   tuple([b.read for b in per_layer]), tuple([b.flops for b in per_layer]), sums.head,
                   tuple([b.mats for b in per_layer]), sums.head_matrix, tuple([b.exps for b in per_layer]),
                   tuple([b.exps_read for b in per_layer]), sums.ple, tuple([b.exp_mats for b in per_layer]))


def _past_trunk(name: str, n_layers: int) -> bool:
    """blk.N.* with N >= n_layers: a GGUF's NextN / MTP blocks, which follow the trunk's n_layer() blocks
    (llama-hparams.cpp n_layer() = block_count - nextn_predict_layers)."""
    head = name[4:].split(".", 1)[0] if name.startswith("blk.") else ""
    return head.isdigit() and int(head) >= n_layers


@lru_cache(maxsize=1024)
def layer_weights_floor(model: Model) -> int:
    """A floor under the repeating layers' weights at any quantization: each tensor at the GGML type that stores it
    in the fewest bytes (over the whole type table, so no quantizer rule goes below it; bytes counted as
    ggml.tensor_bytes counts them, whole blocks per row). estimate.fit uses it to skip models that cannot be on GPU."""
    from .tensors import layout  # the tensors without the quantizer's facts: cheaper than model_walk

    sizes = tuple(ggml_types().values())
    cheapest: dict[int, int] = {}
    lay = layout(model)
    per_template = []
    for tpl in lay.templates:
        total = 0
        for t in tpl:
            n, row = t.n_elements, t.shape[0] if t.shape else 0
            if row <= 0:
                continue
            least = cheapest.get(row)
            if least is None:
                least = cheapest[row] = min((row // block) * size for block, size in sizes)
            total += (n // row) * least
        per_template.append(total)
    return sum(per_template[k] for k in lay.kinds)


def weights_by_tensor(model: Model, quant: Quant) -> list[tuple[Tensor, str, int]]:
    """(tensor, ggml type, bytes) for every tensor of the model quantized as `quant`.

    A model read from a GGUF header carries its exact tensors (`tensor_types`): those are used as they are
    (bytes padded to the file's alignment, as laid out in the file), whatever `quant` says.
    """
    if model.tensor_types is not None:
        return list(exact_tensors(model))
    tensors = build_tensors(model)
    return [(t, ty, _bytes(t, ty)) for t, ty in zip(tensors, assign_types(model, tensors, quant))]


def _bytes(t: Tensor, ggml_type: str) -> int:
    return tensor_bytes(ggml_type, t.n_elements, t.shape[0])


# llama.cpp ignores the configured window for these (src/llama-model.cpp, LLM_ARCH_PHI3: "Phi SWA is currently
# disabled", swa_type NONE), so every layer caches the whole context.
_SWA_IGNORED_ARCHS = frozenset({"phi3"})


def uses_window(model: Model, layer: int) -> bool:
    """Whether `layer` caches only its sliding window (not for architectures whose window llama.cpp ignores)."""
    return model.is_sliding(layer) and model.arch not in _SWA_IGNORED_ARCHS


def caches_kv(model: Model, layer: int) -> bool:
    """Whether `layer` keeps a KV cache of its own: attention layers do; recurrent (Mamba-2, Gated DeltaNet) and
    feed-forward-only layers do not (llama-memory-hybrid.cpp gives the KV cache only the non-recurrent layers), nor
    Gemma 3n's last kv_shared_layers, which reuse an earlier layer's (llama-model.cpp create_memory `reuse`)."""
    if model.kv_shared_layers and layer >= model.n_layers - model.kv_shared_layers:
        return False
    if model.arch in NO_MEMORY_ARCHS:  # non-causal embedders: llama.cpp creates no memory module at all
        return False
    return model.has_attention(layer)


def recurrent_state_bytes(model: Model, layer: int, n_seq: int) -> int:
    """Fixed recurrent state of one layer for n_seq sequences, as llama.cpp allocates it (llama-memory-recurrent.cpp:
    r = n_embd_r() x mem_size and s = n_embd_s() x mem_size, both F32, mem_size = max(1, n_seq_max)).

    llama-hparams.cpp: n_embd_r = (ssm_d_conv - 1) x (ssm_d_inner + 2 ssm_n_group ssm_d_state) (the convolution's
    last d_conv - 1 inputs) and n_embd_s = ssm_d_state x ssm_d_inner (the SSM / delta-rule state). Independent of
    the context length. Kimi Delta Attention (kind "kda", n_embd_head_kda != 0): n_embd_r = 3 (ssm_d_conv - 1) x
    heads x head_dim (the q, k and v convolutions) and n_embd_s = head_dim x head_dim x heads.
    """
    ssm = model.ssm
    if ssm is None or not model.is_recurrent(layer):
        return 0
    if ssm.kind == "kda":
        return 4 * (3 * (ssm.d_conv - 1) * ssm.d_inner + ssm.d_state * ssm.d_state * ssm.dt_rank) * max(1, n_seq)
    n_embd_r = (ssm.d_conv - 1) * (ssm.d_inner + 2 * ssm.n_group * ssm.d_state)
    n_embd_s = ssm.d_state * ssm.d_inner
    return 4 * (n_embd_r + n_embd_s) * max(1, n_seq)


def kv_cells(model: Model, layer: int, n_ctx: int, n_seq: int, n_ubatch: int, pad: int, unified: bool = True) -> int:
    """KV cells (token slots) llama.cpp allocates for one layer, over all sequences.

    One stream shared by the sequences (kv_unified): full-attention layers hold PAD(n_ctx, 256); sliding-window
    layers the window per sequence plus one micro-batch, PAD(min(n_ctx, n_swa * n_seq + n_ubatch), 256)
    (src/llama-kv-cache-iswa.cpp, swa_full=false as in llama-server). One stream per sequence (llama-server with an
    explicit -np, data/engines.yaml kv_unified): each of the n_seq streams holds n_ctx_seq = PAD(PAD(n_ctx, 256) /
    n_seq, 256) cells (src/llama-context.cpp), and a sliding-window layer PAD(min(n_ctx_seq, n_swa + n_ubatch), 256).
    """
    if not unified and n_seq > 1:
        per_seq = _pad(_pad(n_ctx, pad) // n_seq, pad)
        if uses_window(model, layer):
            assert model.sliding_window is not None
            return n_seq * _pad(min(per_seq, model.sliding_window + n_ubatch), pad)
        return n_seq * per_seq
    if uses_window(model, layer):
        assert model.sliding_window is not None
        return _pad(min(_pad(n_ctx, pad), model.sliding_window * n_seq + n_ubatch), pad)
    return _pad(n_ctx, pad)


def kv_unified(req: FitRequest) -> bool:
    """Whether the engine keeps one KV stream for all slots (data/engines.yaml kv_unified; Ollama: per release)."""
    return _engine_rule(req, "kv_unified", "true").lower() != "false"


def kv_bytes_per_cell(model: Model, cache_type: str, layer: int = -1) -> tuple[int, int]:
    """(K bytes, V bytes) per token of `layer` (-1: a sliding layer, the one head size most models have).

    GQA: K and V each store n_kv_heads x head_dim values; Gemma 4's full layers their own (llama-kv-cache.cpp sizes
    each layer with n_embd_k_gqa(il) / n_embd_v_gqa(il); with attention_k_eq_v V is still cached). MLA (DeepSeek): llama.cpp caches the compressed
    latent (kv_lora_rank) plus the decoupled RoPE key (qk_rope_head_dim) as K, and V is a view of it.
    DeepSeek-V3.2 (DSA) adds the lightning indexer's key cache, counted here with K: llama_kv_cache_dsa pairs the
    MLA cache with a second llama_kv_cache of the same cells, one key head of index_head_dim per layer, K only, in
    the same --cache-type-k (llama.cpp PR #23346, src/llama-kv-cache-dsa.cpp). GLM-5.2: that second cache holds
    only the layers whose indexer is full (create_memory's filter_lid: is_indexer_full(il) for LLM_ARCH_GLM_DSA);
    layer -1 counts the indexer key (a full layer).
    """
    ggml = kv_type(cache_type)
    if model.mla is not None:
        width = model.mla.kv_lora_rank + model.mla.qk_rope_head_dim
        has_indexer = model.dsa is not None and (layer < 0 or model.dsa.has_indexer(layer, model.n_layers))
        return tensor_bytes(ggml, width, width) + (indexer_bytes_per_cell(model, ggml) if has_indexer else 0), 0
    width = model.n_kv_heads * model.head_dim
    v_width = model.n_kv_heads * (model.v_head_dim or model.head_dim)
    if layer >= 0:
        width = model.layer_kv_heads(layer) * model.layer_head_dim(layer)
        v_width = model.layer_kv_heads(layer) * model.layer_v_head_dim(layer)  # MiMo-V2: n_embd_v_gqa(il) < n_embd_k_gqa(il)
    return tensor_bytes(ggml, width, width), tensor_bytes(ggml, v_width, v_width)


def layer_kv_bytes_per_cell(model: Model, cache_type: str, v_trans: bool = False) -> tuple[int, ...]:
    """K + V bytes per cached token, per layer (the same for every layer but Gemma 4's full-attention ones).

    v_trans (llama.cpp without flash attention stores V transposed): when the layers' V widths differ
    (is_n_embd_v_gqa_variable over every layer, those without attention at width 0), every layer of the KV cache gets
    V at the widest width (llama-kv-cache.cpp [TAG_V_CACHE_VARIABLE]: "padding V cache to n_embd_v_gqa_max"). A plain
    (non-hybrid) cache holds every layer, so DeciLM's attention-free blocks then hold a V cache too (kv_cache_layers)."""
    per = [kv_bytes_per_cell(model, cache_type, i) if model.has_attention(i) else (0, 0) for i in range(model.n_layers)]
    if v_trans and model.mla is None and len({v for _, v in per}) > 1:
        widest = max(v for _, v in per)
        return tuple(k + widest for k, _ in per)
    return tuple(k + v for k, v in per)


def kv_cache_layers(model: Model) -> tuple[bool, ...]:
    """Which layers llama.cpp's KV cache allocates (create_memory): a hybrid's cache only its attention layers
    (filter_attn); a plain cache every layer that has_kv (not Gemma 3n/4's KV-sharing ones), attention or not
    (DeciLM's no-attention blocks get zero-width K and V, or the padded V of layer_kv_bytes_per_cell)."""
    if model.ssm is not None or model.arch in NO_MEMORY_ARCHS:
        return tuple(caches_kv(model, i) for i in range(model.n_layers))
    return tuple(not _shares_kv(model, i) for i in range(model.n_layers))


def _shares_kv(model: Model, layer: int) -> bool:
    return bool(model.kv_shared_layers) and layer >= model.n_layers - model.kv_shared_layers


def indexer_bytes_per_cell(model: Model, ggml_type: str) -> int:
    """Bytes per token per layer of DeepSeek sparse attention's indexer key cache in llama.cpp: index_head_dim
    values of the K cache type (f16: 256 B for V3.2's 128). 0 for models without DSA. vLLM and SGLang store it as
    FP8 plus one FP32 scale per 128 values (132 B); that rule belongs with their engines."""
    if model.dsa is None:
        return 0
    x = model.dsa.index_head_dim
    return tensor_bytes(ggml_type, x, x)


def indexer_bytes_per_token_fp8(model: Model) -> int:
    """Bytes per token per layer of the DSA indexer key cache in the paged engines (vLLM DeepseekV32IndexerCache,
    SGLang NSATokenToKVPool): index_head_dim FP8 values plus one FP32 scale per 128-value block (132 B for V3.2).
    For the engine modules; checked against SGLang's logged KV sizes with and without the index (tests)."""
    if model.dsa is None:
        return 0
    x = model.dsa.index_head_dim
    return x + 4 * -(-x // 128)


@lru_cache(maxsize=256)
def kv_cache_bytes(model: Model, req: FitRequest) -> tuple[int, tuple[int, ...]]:
    """Total context memory (KV cache of the attention layers plus the recurrent state of recurrent layers) and
    the per-layer split, for llama.cpp-style up-front allocation."""
    eng = engine_params(req.engine)
    n_seq = req.n_parallel
    n_ctx = total_context(req)
    cell = layer_kv_bytes_per_cell(model, req.kv_cache_type, v_trans=not req.flash_attention)
    cached = kv_cache_layers(model)
    unified = kv_unified(req)
    # A Falcon-H1 layer ("P") keeps both: llama.cpp's hybrid memory passes every layer to both caches for it.
    per_layer = [
        (kv_cells(model, i, n_ctx, n_seq, req.n_ubatch, int(eng["kv_pad"]), unified) * cell[i] if cached[i] else 0)
        + recurrent_state_bytes(model, i, n_seq) + cross_attention_kv_bytes(model, i, req.kv_cache_type)
        for i in range(model.n_layers)
    ]
    return sum(per_layer), tuple(per_layer)


def cross_attention_kv_bytes(model: Model, layer: int, cache_type: str) -> int:
    """K and V of one image in a cross-attention layer (mllama "X"): cross_attention_tokens (1601 patches x 4 tiles)
    x KV heads x head_dim each, in the cache type, whatever the context. Ollama's engine keeps them in its
    EncoderCache (model/models/mllama: kvcache.NewWrapperCache(NewEncoderCache(), NewCausalCache(...)), one image at a
    time: server/prompt.go and routes.go refuse more than one image for mllama). 0 for every other layer."""
    if model.layer_kind(layer) != "X":
        return 0
    width = model.n_kv_heads * model.head_dim
    return 2 * model.cross_attention_tokens * tensor_bytes(kv_type(cache_type), width, width)


def state_bytes(model: Model, req: FitRequest) -> int:
    """The recurrent-state part of kv_cache_bytes (0 for attention-only models)."""
    if model.ssm is None:
        return 0
    return sum(recurrent_state_bytes(model, i, req.n_parallel) for i in range(model.n_layers))


def total_context(req: FitRequest) -> int:
    """Context the engine passes to llama.cpp as -c: Ollama multiplies num_ctx by its parallel slots."""
    eng = engine_params(req.engine)
    return req.context * (req.n_parallel if eng["parallel_multiplies_context"] else 1)


def _batch_and_kv_len(req: FitRequest) -> tuple[int, int]:
    """(tokens in the reserved micro-batch, KV length the graph is reserved for: the padded total context).

    With one KV stream (kv_unified) the reserved graph's attention spans every slot's cells. With a stream per slot
    (llama-server with an explicit -np) llama-graph.cpp's mask is [n_kv, n_tokens / n_stream, 1, n_stream], whose
    size by the source is the per-slot length times the micro-batch; we keep the total length anyway, because the two
    logs with slots read better with it: Qwen3-4B at 4 slots (85.01 MiB, -2.4%) and an Ollama 0.33.2 ministral-3 3B
    run with 2 streams (168.03 MiB: -2.4% with the total length, -11.9% with the per-slot one; engine_logs.yaml).
    """
    n_ctx = total_context(req)
    return min(req.n_ubatch, n_ctx), _pad(n_ctx, int(engine_params(req.engine)["kv_pad"]))


def reserved_outputs(req: FitRequest) -> int:
    """Logit rows of the reserved prompt graph: min(n_ubatch, n_outputs_max).

    llama-server sets n_outputs_max = n_parallel x (1 + draft tokens) (server-context.cpp server_n_outputs_max,
    llama.cpp PR #23861); builds before it (and library callers leaving n_outputs_max = 0) reserve n_batch rows,
    i.e. a whole micro-batch of logits. data/engines.yaml `reserve_outputs` says which rule an engine follows.
    """
    ub, _ = _batch_and_kv_len(req)
    if _engine_rule(req, "reserve_outputs", "n_ubatch") == "n_parallel":
        return min(ub, req.n_parallel)
    return ub


def _engine_rule(req: FitRequest, key: str, default: str) -> str:
    """An engine setting, taken from the release record that applies to the request where the engine keeps releases
    (data/engines.yaml `ollama.versions`: from 0.30.0 Ollama runs llama-server, which reserves n_parallel logit rows)."""
    eng = engine_params(req.engine)
    if eng.get("versions"):
        from ..engines import get_engine

        rec = get_engine(req.engine).release(req.engine_version)  # type: ignore[attr-defined]
        if key in rec:
            return str(rec[key])
    return str(eng.get(key, default))


def compute_buffer_bytes(model: Model, req: FitRequest, *, n_outputs: int | None = None) -> int:
    """Peak scratch memory (one device) of a forward pass over a micro-batch of n_ubatch tokens, f32 activations.

    llama.cpp reserves the worst case at start-up (llama_context::sched_reserve -> graph_reserve: n_ubatch tokens,
    n_outputs = reserved_outputs(), n_kv = the whole cache) and the graph allocator reuses memory, so the buffer is
    the largest of three phases (llama-graph.cpp build_attn_mha, build_ffn, the output head):
    - attention: KQ scores n_kv x n_ubatch x n_heads f32 plus the mask (with flash attention: the mask, f32 + f16);
    - FFN: the layer input and its norm, gate, up and the fused GLU product (ggml_swiglu_split), while the KQ mask
      (f32, n_kv x n_ubatch), which every layer's attention reads, is still alive;
    - output: the last hidden states plus logits n_vocab x n_outputs (and the selected rows' hidden states).
    Reproduces the logged 258.50 / 560.00 / 2144.00 MiB of builds that reserved a micro-batch of logits (Llama-3-8B at
    n_ctx 512 / 8192, a Mistral-7B-class model at 32768, no flash attention) and 85.01 MiB (-2.4%) of a 2026 llama-server
    (Qwen3-4B, n_ctx 8192, 4 slots, flash attention), whose logits are 4 rows.
    `n_outputs` overrides the engine's rule (benchmarks replaying logs of older builds).
    """
    ub, n_kv = _batch_and_kv_len(req)
    encoder = encoder_compute_bytes(model, ub, req.flash_attention)
    if encoder is not None:  # BERT kinds: attention within the micro-batch, no logits (estimate/encoder.py)
        return encoder
    n_out = reserved_outputs(req) if n_outputs is None else min(n_outputs, ub)
    d = model.hidden_size
    if req.flash_attention:
        attention = 4 * ub * (1 + 4 * d) + 6 * n_kv * ub
    else:
        attention = 4 * ub * (1 + 4 * d + n_kv * (1 + model.n_heads))
    if model.moe is not None:
        n_ff = max(model.intermediate_size if model.moe.first_dense_layers or model.moe.moe_layer_step > 1 else 0,
                   model.moe.expert_intermediate_size * model.moe.active)
    else:
        n_ff = model.intermediate_size
    ffn = 4 * ub * (2 * d + 3 * n_ff) + 4 * n_kv * ub
    output = 4 * ub * d + (4 * n_out * (d + model.vocab_size) if n_out < ub else 4 * ub * model.vocab_size)
    return max(attention, ffn, output)


def host_buffer_bytes(model: Model, req: FitRequest) -> int:
    """Host-side buffers: input embeddings and KQ mask for the micro-batch, and the logits output buffer."""
    ub, n_kv = _batch_and_kv_len(req)
    return 4 * ub * model.hidden_size + 4 * n_kv * ub + 4 * model.vocab_size * req.n_parallel


def runtime_bytes(n_gpus: int, backend: str) -> int:
    """GPU context per device (CUDA: ~384 MiB, not in llama.cpp's logged buffers; Metal: none)."""
    rt = _engines()["runtime"]
    if n_gpus == 0:
        return 0
    per_device = rt["metal_context_bytes"] if backend == "metal" else rt["cuda_context_bytes"]
    return int(per_device) * n_gpus


def estimate_memory(model: Model, quant: Quant, req: FitRequest, *, n_gpus: int = 1, backend: str = "cuda") -> MemoryBreakdown:
    """Weights, KV cache and overhead of `model` at `quant` under `req`, each in bytes."""
    w = weights(model, quant)
    kv_total, kv_layers = kv_cache_bytes(model, req)
    host = host_buffer_bytes(model, req)
    input_embd, output = w.input_embedding_bytes + w.per_layer_embedding_bytes, w.other_bytes
    if model.tied_embeddings:
        output += w.input_embedding_bytes  # llama.cpp duplicates the tied matrix as the output head on the GPU
    return MemoryBreakdown(
        weights_bytes=w.total_bytes,
        kv_cache_bytes=kv_total,
        state_bytes=state_bytes(model, req),
        compute_buffer_bytes=compute_buffer_bytes(model, req),
        runtime_bytes=runtime_bytes(n_gpus, backend) + host,
        host_bytes=host,
        input_embedding_bytes=input_embd,
        output_bytes=output,
        layer_bytes=tuple(lw + k for lw, k in zip(w.layer_bytes, kv_layers)),
        bits_per_weight=8.0 * w.total_bytes / w.params if w.params else 0.0,
    )


def bytes_per_type(model: Model, quant: Quant) -> dict[str, int]:
    """Weight bytes grouped by GGML type, e.g. {'Q4_K': ..., 'Q6_K': ..., 'F32': ...}."""
    return dict(weights(model, quant).by_type)


__all__ = ["weights", "Weights", "estimate_memory", "kv_cache_bytes", "compute_buffer_bytes", "weights_by_tensor", "ggml_types"]
