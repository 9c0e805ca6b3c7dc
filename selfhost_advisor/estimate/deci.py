"""DeciLM blocks (Llama-3.x Nemotron Super 49B / Ultra 253B, llama.cpp `deci`): each block its own attention and FFN.

Why: Neural Architecture Search left these models with blocks that drop attention (no KV), replace it by one linear
map, or drop the FFN, and with a different FFN width per block; an 80-layer Llama tensor list would count 70B.
Tensors follow llama.cpp src/models/deci.cpp load_arch_tensors: attention blocks (n_head_kv > 0) attn_norm,
attn_q/k/v/output; linear blocks (n_head > 0, n_head_kv 0) attn_norm and an n_embd x n_embd attn_output; no-op
blocks nothing; ffn_norm and ffn_gate/up/down only where n_ff > 0. The widths are the converter's
(convert_hf_to_gguf.py DeciModel; vLLM nemotron_nas.py _ffn_mult_to_intermediate_size): ffn_mult x 2/3 x hidden,
truncated, rounded up to a multiple of 256.
"""
from __future__ import annotations

from ..domain import Model

DECI_ARCHS = frozenset({"deci"})


def ffn_width(ffn_mult: float, hidden: int) -> int:
    """DeciLM's FFN width for one block: int(2 x ffn_mult x hidden / 3) rounded up to a multiple of 256."""
    width = int(2 * ffn_mult * hidden / 3)
    return -(-width // 256) * 256


def deci_layer(model: Model, i: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name, GGUF shape) of block i's tensors."""
    p, d = f"blk.{i}.", model.hidden_size
    kind, out = model.layer_kind(i), []
    if kind == "*":
        hd, kv = model.layer_head_dim(i), model.layer_kv_heads(i)
        out += [(p + "attn_norm.weight", (d,)), (p + "attn_q.weight", (d, model.n_heads * hd)),
                (p + "attn_k.weight", (d, kv * hd)), (p + "attn_v.weight", (d, kv * hd)),
                (p + "attn_output.weight", (model.n_heads * hd, d))]
    elif kind == "L":
        out += [(p + "attn_norm.weight", (d,)), (p + "attn_output.weight", (d, d))]
    ff = model.layer_intermediate_size(i)
    if ff > 0:
        out += [(p + "ffn_norm.weight", (d,)), (p + "ffn_gate.weight", (d, ff)), (p + "ffn_up.weight", (d, ff)),
                (p + "ffn_down.weight", (ff, d))]
    return out
