"""Build every --json object from the records of domain.py and cost/types.py, in one place. Sizes are integer bytes.

The shapes are fixed by docs/schema/*.schema.json (tests validate real outputs against them).
"""
from __future__ import annotations

import json
import math
from typing import Any

from .. import SCHEMA_VERSION
from ..domain import Device, FitOption, FitResult, Machine, Model, ParamCounts
from ..estimate.quality import low_bits, quality


def dumps(obj: dict, *, ascii_only: bool = False) -> str:
    """Deterministic JSON: same inputs, byte-identical output. Strict: NaN or infinity raises ValueError (JSON has
    neither; `Infinity` would break every reader), so a non-finite figure is caught as a bug, never printed.

    Terminal controls json.dumps leaves raw (DEL, the C1 set with CSI U+009B, the bidirectional overrides, the line
    separators U+2028 / U+2029) are written as \\u escapes: a GGUF's general.name, a probe file's device name or a
    search text is chosen by whoever wrote it, and `advisor ... --json` is often read on a terminal. The parsed
    strings are the same; only those characters are spelt differently (C0 controls json.dumps escapes itself)."""
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=ascii_only, allow_nan=False)
    return text if text.isascii() else escape_controls(text)


def escape_controls(text: str) -> str:
    """JSON text with the controls json.dumps leaves raw (termsafe.JSON_RAW_CONTROL) as \\u escapes. Inside
    JSON text they can only stand in strings (the syntax is ASCII), where \\uXXXX is the same character."""
    import re

    from ..termsafe import JSON_RAW_CONTROL

    return re.sub(JSON_RAW_CONTROL, lambda m: f"\\u{ord(m.group()):04x}", text)


def _round(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


def round_finite(x: float | None, nd: int = 2) -> float | None:
    """`x` rounded to nd places; None for None and for a non-finite float: cost and serve figures that may be
    infinite by design (a payback never reached, a stream that never starts) print null. Everywhere else a non-finite
    figure is a bug that dumps refuses (_round)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return round(float(x), nd)


def model_dict(model: Model, counts: ParamCounts | None = None) -> dict[str, Any]:
    """The model block of every --json output; `counts` from the result record (fit, serve, hardware --for carry
    them). Without them (a caller holding only a Model) they are counted here, the one place render does so."""
    if counts is None:
        from ..estimate.tensors import param_counts

        counts = param_counts(model)
    arch: dict[str, Any] = {
        "arch": model.arch,
        "n_layers": model.n_layers,
        "hidden_size": model.hidden_size,
        "intermediate_size": model.intermediate_size,
        "n_heads": model.n_heads,
        "n_kv_heads": model.n_kv_heads,
        "head_dim": model.head_dim,
        "vocab_size": model.vocab_size,
        "tied_embeddings": model.tied_embeddings,
        "max_context": model.max_context,
        "attention": "mla" if model.mla else ("hybrid" if model.ssm else ("sliding" if model.sliding_window else "full")),
    }
    if model.ssm:
        arch["ssm"] = {"kind": model.ssm.kind, "d_conv": model.ssm.d_conv, "d_inner": model.ssm.d_inner,
                       "d_state": model.ssm.d_state, "n_group": model.ssm.n_group, "dt_rank": model.ssm.dt_rank,
                       "layer_pattern": model.layer_pattern}
    if model.sliding_window:
        arch["sliding_window"] = model.sliding_window
        arch["sliding_window_pattern"] = model.sliding_window_pattern
    if model.moe:
        arch["moe"] = {
            "experts": model.moe.experts, "active": model.moe.active, "shared_experts": model.moe.shared_experts,
            "expert_intermediate_size": model.moe.expert_intermediate_size,
        }
    if model.mla:
        arch["mla"] = {"kv_lora_rank": model.mla.kv_lora_rank, "qk_rope_head_dim": model.mla.qk_rope_head_dim}
    if model.dsa:  # DeepSeek-V3.2 sparse attention: the indexer's key cache is part of kv_cache_bytes
        arch["dsa"] = {"index_n_heads": model.dsa.index_n_heads, "index_head_dim": model.dsa.index_head_dim,
                       "index_topk": model.dsa.index_topk}
    out = {
        "id": model.id,
        "name": model.name,
        "hf_id": model.hf_id,
        "params": counts.total,
        "stated_params": model.params,
        "active_params": counts.active,
        "architecture": arch,
        "source": model.source,
    }
    if model.sized_as is not None:  # since 1.26.0: a release named by the query, sized with another entry's shapes
        s = model.sized_as
        out["sized_as"] = {"release": s.release, "entry": s.entry, "entry_name": s.entry_name, "reason": s.reason}
    return out


def device_dict(d: Device) -> dict[str, Any]:
    return {
        "vendor": d.vendor,
        "name": d.name,
        "memory_bytes": d.memory_bytes,
        "free_memory_bytes": d.free_memory_bytes,
        "usable_memory_bytes": d.usable_memory_bytes if d.usable_memory_bytes is not None else d.memory_bytes,
        "usable_memory_source": d.details.usable_memory_source if d.details else None,
        "bandwidth_bytes_per_s": d.bandwidth_bytes_per_s,
        "fp16_flops": d.fp16_flops,
        "fp16_acc16_flops": d.fp16_acc16_flops,
        "unified": d.unified,
        "matched_profile": d.matched_profile,
        "backend": d.backend,
    } | ({"vulkan_driver": d.vulkan_driver} if d.vulkan_driver else {}) \
        | ({"sycl_build": d.sycl_build} if d.sycl_build else {})  # Intel: Vulkan driver / GGML_SYCL_F16 as named


def machine_dict(m: Machine) -> dict[str, Any]:
    return {
        "name": m.name,
        "source": m.source,
        "devices": [device_dict(d) for d in m.devices],
        "cpu": {"name": m.cpu_name},
        "ram_bytes": m.ram_bytes,
        "available_ram_bytes": m.available_ram_bytes,
        "ram_source": m.ram_source or "total",
        "ram_bandwidth_bytes_per_s": m.ram_bandwidth_bytes_per_s,
        "cpu_flops": m.cpu_flops,
        "host_speed_source": m.host_speed_source or None,
        "interconnect": m.interconnect or None,
    }


def option_dict(opt: FitOption, embedding: bool = False) -> dict[str, Any]:
    """One fit option. `embedding`: the model embeds text, so the measured losses (a causal LM's perplexity and KL
    divergence, data/quality.yaml) say nothing about it: quality is null, as for an unmeasured format."""
    mem, pl, sp = opt.memory, opt.placement, opt.speed

    return {
        "quant": opt.quant.name,
        "bits_per_weight": round(mem.bits_per_weight, 2),
        "quality": None if embedding else quality(opt.quant.name),
        "low_bits": low_bits(opt.quant.name),
        "memory": {
            "weights_bytes": mem.weights_bytes,
            "kv_cache_bytes": mem.kv_cache_bytes,
            "recurrent_state_bytes": mem.state_bytes,
            "overhead_bytes": mem.overhead_bytes,
            "compute_buffer_bytes": mem.compute_buffer_bytes,
            "runtime_bytes": mem.runtime_bytes,
            "projector_bytes": mem.projector_bytes,
            "total_bytes": mem.total_bytes,
            "kv_pool_bytes": mem.kv_pool_bytes,
            "kv_pool_tokens": mem.kv_pool_tokens,
        },
        "placement": {
            "fit": pl.fit,
            "gpu_layers": pl.gpu_layers,
            "total_layers": pl.total_layers,
            "gpu_bytes": pl.gpu_bytes,
            "cpu_bytes": pl.cpu_bytes,
            "missing_bytes": pl.missing_bytes,
            "per_device_layer_bytes": list(pl.per_device_bytes),
            "per_device_layers": list(pl.per_device_layers),
            "cpu_moe_layers": pl.cpu_moe_layers,
            "note": pl.note or None,
        },
        "max_concurrency": opt.max_concurrency,
        "command": opt.command or None,
        "engine_log": list(opt.engine_log) or None,
        "speed": None
        if sp is None
        else {
            "decode_tokens_per_s": _round(sp.decode_tokens_per_s),
            "decode_tokens_per_s_low": _round(sp.decode_low),
            "decode_tokens_per_s_high": _round(sp.decode_high),
            "served_decode_tokens_per_s": _round(sp.served_decode_tokens_per_s),
            "prefill_tokens_per_s": _round(sp.prefill_tokens_per_s),
            "prefill_tokens_per_s_low": _round(sp.prefill_low),
            "prefill_tokens_per_s_high": _round(sp.prefill_high),
            "confidence": sp.confidence,
            "note": sp.note or None,
            "caveats": list(sp.caveats),
        },
    }


def gate_dict(g: Any) -> dict[str, Any] | None:
    """fit's --require-fit/--min-tps outcome (estimate.select.GateResult), or None without a gate."""
    if g is None:
        return None
    return {"require_fit": g.require_fit, "min_tps": g.min_tps, "passed": g.passed,
            "quant": g.option.quant.name if g.option else None}


def fit_dict(r: FitResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "model": model_dict(r.model, r.params),
        "hardware": machine_dict(r.machine),
        "context": r.request.context,
        "engine": r.request.engine,
        "kv_cache_type": r.request.kv_cache_type,
        "options": [option_dict(o, "embedding" in r.model.use_cases) for o in r.options],
        "recommended": r.recommended,
        "recommended_rule": r.pick.rule if r.pick is not None else None,
        "recommended_reason": r.pick.reason() if r.pick is not None and r.pick.option is not None else None,
        "min_quant": r.assumptions.get("min_quant"),
        "smaller_alternative": r.alternative,
        "gate": gate_dict(r.gate),
        "assumptions": dict(sorted(r.assumptions.items())),
        "warnings": list(r.warnings),
    }


def models_dict(result: Any) -> dict[str, Any]:
    """`advisor models --json` from an api.list_models ModelList: the filter, the order, and each row."""
    flt = result.filter
    return {
        "schema_version": SCHEMA_VERSION,
        "query": flt.search,
        "filters": flt.as_dict(),
        "order": ORDER_SEARCH if flt.search else ORDER_PLAIN,
        "models": [
            {
                "id": m.id, "name": m.name, "hf_id": m.hf_id, "arch": m.arch, "family": m.id.split(":", 1)[0],
                "params": m.params, "active_params": mt.active_params,
                "max_context": m.max_context, "license": m.license, "use_cases": list(m.use_cases),
                "released": m.released, "aliases": list(m.aliases), "match": mt.tier,
            }
            for mt in result.matches
            for m in (mt.model,)
        ],
    }


ORDER_PLAIN = "family, then params (smallest first), then id"
ORDER_SEARCH = "match (exact, prefix, substring, fuzzy), then family, then params, then id"
