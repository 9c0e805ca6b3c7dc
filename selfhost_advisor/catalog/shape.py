"""Reject model shapes no estimate can use, at the edge where a config.json or GGUF header becomes a Model.

Why: the estimator divides by widths and loops over layers; a corrupt header (head_dim 0, block_count 2^63,
a tensor with an empty dimension) must be a one-line error naming the field, not a ZeroDivisionError or a hang.
Bounds are far outside real models (the largest have ~130 layers, widths below 2^18, 256 experts).
"""
from __future__ import annotations

from ..domain import LAYER_KINDS, Model
from ..errors import AdvisorError

MAX_LAYERS = 10_000
MAX_WIDTH = 2**24
MAX_EXPERTS = 2**16
MAX_CONTEXT = 2**32
MAX_DIM = 2**40  # one tensor dimension (vocab x width tensors stay far below)
SSM_KINDS = ("mamba2", "gated_deltanet", "mamba", "shortconv", "kda")


def check_layers(n_layers: int, error: type[AdvisorError], where: str) -> int:
    """`n_layers`, or `error` as check_shape words it. Called where the count is read, before any per-layer work:
    the recurrent-layer pattern, the MSA indexer's layer tuple and the hybrid configs' pattern strings loop over it,
    and a corrupt count of 10^9 (under the 2^40 a GGUF count may hold) hung there before check_shape saw it."""
    if not 1 <= n_layers <= MAX_LAYERS:
        raise error(f"{where}: unusable layers {n_layers}", f"expected 1 to {MAX_LAYERS}; the file or config may be corrupt")
    return n_layers


def check_shape(model: Model, error: type[AdvisorError], where: str) -> Model:
    """`model` unchanged, or `error` naming the first unusable field of `where` (a file or repo)."""
    mo, mla = model.moe, model.mla
    # Built from the architecture (no GGUF tensor list), a dense FFN layer has intermediate_size rows: 0 is no layer.
    has_dense = mo is None or mo.first_dense_layers > 0 or mo.moe_layer_step > 1
    ff_lowest = 1 if has_dense and model.tensor_types is None else 0
    checks: list[tuple[str, int | None, int, int]] = [  # (field, value, lowest, highest); None = absent, fine
        ("layers", model.n_layers, 1, MAX_LAYERS),
        ("hidden size", model.hidden_size, 1, MAX_WIDTH),
        ("attention heads", model.n_heads, 1, MAX_WIDTH),
        ("KV heads", model.n_kv_heads, 1, MAX_WIDTH),
        ("head dimension", model.head_dim, 1, MAX_WIDTH),
        ("vocabulary size", model.vocab_size, 1, MAX_WIDTH),
        ("intermediate size", model.intermediate_size, ff_lowest, MAX_WIDTH),
        ("maximum context", model.max_context, 1, MAX_CONTEXT),
        ("sliding window", model.sliding_window, 1, MAX_CONTEXT),
        ("sliding window pattern", model.sliding_window_pattern, 1, MAX_CONTEXT),
    ]
    if mo is not None:
        checks += [
            ("expert count", mo.experts, 1, MAX_EXPERTS),
            ("active experts", mo.active, 1, mo.experts),
            ("expert intermediate size", mo.expert_intermediate_size, 1 if model.tensor_types is None else 0, MAX_WIDTH),
            ("shared experts", mo.shared_experts, 0, MAX_EXPERTS),
            ("shared expert intermediate size", mo.shared_intermediate_size, 0, MAX_WIDTH),
            ("leading dense layers", mo.first_dense_layers, 0, MAX_LAYERS),
            ("MoE layer step", mo.moe_layer_step, 1, MAX_LAYERS),
            ("MoE latent size", mo.latent_size, 0, MAX_WIDTH),
        ]
    if mla is not None:
        checks += [
            ("MLA kv_lora_rank", mla.kv_lora_rank, 1, MAX_WIDTH),
            ("MLA rope dimension", mla.qk_rope_head_dim, 0, MAX_WIDTH),
            ("MLA nope dimension", mla.qk_nope_head_dim, 0, MAX_WIDTH),
            ("MLA value dimension", mla.v_head_dim, 1, MAX_WIDTH),
            ("MLA q_lora_rank", mla.q_lora_rank, 1, MAX_WIDTH),
        ]
    dsa = model.dsa
    if dsa is not None:
        checks += [
            ("DSA indexer heads", dsa.index_n_heads, 1, MAX_WIDTH),
            ("DSA indexer head size", dsa.index_head_dim, 1, MAX_WIDTH),
            ("DSA indexer top-k", dsa.index_topk, 1, 2**24),
        ]
        if dsa.indexer_layers is not None:  # GLM-5.2: the full-indexer layers, each within the trunk
            ends = dsa.indexer_layers[:1] + dsa.indexer_layers[-1:]  # sorted: the first and last bound them all
            checks += [("DSA indexer layer", i, 0, model.n_layers - 1) for i in ends]
    ssm = model.ssm
    if ssm is not None:
        # Mamba-1 has no B/C groups (n_group 0); LFM2's short convolution has no state and no heads.
        conv_only, no_groups = ssm.kind == "shortconv", ssm.kind in ("shortconv", "mamba")
        checks += [
            ("SSM conv kernel", ssm.d_conv, 1, 64),
            ("SSM inner size", ssm.d_inner, 1, MAX_WIDTH),
            ("SSM state size", ssm.d_state, 0 if conv_only else 1, MAX_WIDTH),
            ("SSM group count", ssm.n_group, 0 if no_groups else 1, ssm.d_inner),
            ("SSM heads", ssm.dt_rank, 0 if conv_only else 1, ssm.d_inner),
        ]
    checks.append(("KV-sharing layers", model.kv_shared_layers, 0, model.n_layers - 1))
    if model.altup is not None:
        a = model.altup
        checks += [
            ("per-layer embedding width", a.per_layer_width, 1, MAX_WIDTH),
            ("per-layer embedding vocabulary", a.per_layer_vocab, 1, MAX_WIDTH),
            # Gemma 4 keeps the per-layer embeddings without AltUp and LAuReL (both 0)
            ("AltUp inputs", a.n_inputs, 0 if a.n_inputs == 0 else 2, 64),
            ("LAuReL rank", a.laurel_rank, 0, MAX_WIDTH),
        ]
    checks += [("full-attention head dimension", model.global_head_dim, 0, MAX_WIDTH),
               ("full-attention KV heads", model.global_kv_heads, 0, MAX_WIDTH)]
    for field, value, lo, hi in checks:
        if value is not None and not lo <= value <= hi:
            raise error(f"{where}: unusable {field} {value}", f"expected {lo} to {hi}; the file or config may be corrupt")
    if model.layer_pattern:
        unknown = sorted(set(model.layer_pattern) - set(LAYER_KINDS))
        if unknown:
            raise error(f"{where}: unknown layer kind {unknown[0]!r}", f"known kinds: {', '.join(LAYER_KINDS.values())}")
        if len(model.layer_pattern) != model.n_layers:
            raise error(f"{where}: {len(model.layer_pattern)} layer kinds for {model.n_layers} layers",
                        "the file or config may be corrupt")
        if ("M" in model.layer_pattern or "P" in model.layer_pattern) and ssm is None:
            raise error(f"{where}: recurrent layers without SSM shapes", "the file or config may be corrupt")
        if "E" in model.layer_pattern and mo is None:
            raise error(f"{where}: MoE layers without expert shapes", "the file or config may be corrupt")
    for field, per_layer in (("FFN widths", model.ffn_widths), ("per-layer KV heads", model.kv_heads_by_layer)):
        if per_layer and (len(per_layer) != model.n_layers or not all(0 <= v <= MAX_WIDTH for v in per_layer)):
            raise error(f"{where}: unusable {field} ({len(per_layer)} values for {model.n_layers} layers)",
                        "the file or config may be corrupt")
    if ssm is not None:
        if ssm.kind not in SSM_KINDS:
            raise error(f"{where}: unknown recurrent layer kind {ssm.kind!r}", f"known: {', '.join(SSM_KINDS)}")
        if ssm.kind in ("mamba2", "gated_deltanet", "kda") and (ssm.d_inner % ssm.n_group or ssm.d_inner % ssm.dt_rank):
            raise error(f"{where}: SSM inner size {ssm.d_inner} does not split into {ssm.n_group} groups and "
                        f"{ssm.dt_rank} heads", "the file or config may be corrupt")
    for name, dims, _ in model.tensor_types or ():
        if not dims or not all(1 <= d <= MAX_DIM for d in dims):
            raise error(f"{where}: tensor {name!r} has an unusable shape {tuple(dims)}", "the file may be corrupt")
    return model
