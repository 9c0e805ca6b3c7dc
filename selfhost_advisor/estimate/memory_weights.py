"""Weights memory, per tensor: each tensor at the GGML type llama.cpp's quantizer gives it (or a GGUF header's own),
summed the ways the estimates read them (total, per layer, per type, active per token, routed experts).
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Model, Quant
from ..record import record
from .quantize import assign_types, ggml_types, model_walk, tensor_bytes, walk_types
from .tensors import Tensor, build_tensors, exact_tensors


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
    # Per layer, per GGML type: the input elements of its dense (not routed-expert) mat-vecs, each matrix's row length
    # once (attn_q/k/v/o, gate, up: the hidden size; ffn_down: the FFN's): what one decoded token's activation
    # conversions to the type's dot format cover (estimate/cpu_sync.py quant_seconds).
    layer_inputs: tuple[tuple[tuple[str, int], ...], ...] = ()


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
        self.inputs: list[dict[str, int]] = [{} for _ in range(n)]
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
                else:
                    self.inputs[i][ty] = self.inputs[i].get(ty, 0) + t.shape[0]
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
        inputs = tuple(tuple(m.items()) for m in self.inputs)
        return Weights(self.total, self.params, tuple(self.layer), self.embd, self.other, tuple(self.by_type.items()),
                       tuple(self.read), tuple(self.flops), self.head, mats, self.head_matrix,
                       tuple(self.exps), tuple(self.exps_read), self.ple, exp_mats, inputs)


@lru_cache(maxsize=1024)
def _template_facts(model: Model) -> tuple[tuple[tuple[int, int, bool, bool], ...], ...]:
    """Per template of model_walk(model), per tensor in walk order: (elements, row length, routed expert, matrix):
    what weights() reads of a repeating tensor, once per model rather than once per (model, quant)."""
    return tuple(tuple((f.tensor.n_elements, f.tensor.shape[0], "_exps" in f.tensor.name, f.tensor.n_dims >= 2)
                       for f in tpl) for tpl in model_walk(model).templates)


class _Block:
    """One repeating block's sums at one typing: what _Sums.add(..., slot=0) gives for its tensors, in one loop,
    with the per-layer matrix list built once per block instead of once per layer."""

    __slots__ = ("total", "params", "read", "flops", "exps", "exps_read", "by_type", "mats", "exp_mats", "inputs")

    def __init__(self, facts: tuple[tuple[int, int, bool, bool], ...], types: tuple[str, ...], share: float) -> None:
        sizes = ggml_types()
        total = params = read = flops = exps = exps_read = 0
        by_type: dict[str, int] = {}
        mats: dict[str, list[int]] = {}
        exp_mats: dict[str, list[int]] = {}
        inputs: dict[str, int] = {}
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
                else:
                    inputs[ty] = inputs.get(ty, 0) + row
        self.total, self.params, self.read, self.flops = total, params, read, flops
        self.exps, self.exps_read, self.by_type = exps, exps_read, by_type
        self.mats = tuple((ty, w, b) for ty, (w, b) in mats.items())
        self.exp_mats = tuple((ty, w, b) for ty, (w, b) in exp_mats.items())
        self.inputs = tuple(inputs.items())


@lru_cache(maxsize=4096)
def weights(model: Model, quant: Quant) -> Weights:
    """Weights of `model` at `quant`: from a GGUF header's own tensors when the model has them, else per tensor
    with llama.cpp's quantizer type rules (quantize.walk_types).

    Repeating blocks with the same tensors and types are summed once and copied (a 70B model has 80 blocks and a
    handful of distinct typings); the sums are the per-tensor sums all the same (tests/test_quants.py compares).
    """
    if model.tensor_types is not None:
        sums = _Sums(model)
        for t, ty, b in exact_tensors(model):
            if model.gguf_nextn_layers and _past_trunk(t.name, model.n_layers):
                continue  # a NextN / MTP block: llama.cpp creates it TENSOR_SKIP unless it runs MTP decoding
            sums.add(t, ty, b)
        return sums.result()
    w = model_walk(model)
    singles, blocks = walk_types(w, model, quant)
    sums = _Sums(model, n_layers=0)  # only the singles (layer -1) go through it: no per-layer lists to fill
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
                   tuple([b.exps_read for b in per_layer]), sums.ple, tuple([b.exp_mats for b in per_layer]),
                   tuple([b.inputs for b in per_layer]))


def _past_trunk(name: str, n_layers: int) -> bool:
    """blk.N.* with N >= n_layers: a GGUF's NextN / MTP blocks, which follow the trunk's n_layer() blocks
    (llama-hparams.cpp n_layer() = block_count - nextn_predict_layers)."""
    head = name[4:].split(".", 1)[0] if name.startswith("blk.") else ""
    return head.isascii() and head.isdigit() and int(head) >= n_layers


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


def bytes_per_type(model: Model, quant: Quant) -> dict[str, int]:
    """Weight bytes grouped by GGML type, e.g. {'Q4_K': ..., 'Q6_K': ..., 'F32': ...}."""
    return dict(weights(model, quant).by_type)
