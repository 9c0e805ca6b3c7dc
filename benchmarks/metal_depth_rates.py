"""What the decode time that depth adds on the M2 Ultra reads as, per K / V byte and per attention FLOP, for each model
of the published M2 Ultra depth rows (docs/methodology.md 5e-metal-s28; metal_fa_decode in data/speed.yaml).

Usage: python benchmarks/metal_depth_rates.py [--json] [--grid]
Why: metal_fa_decode.flops_share (5c-s20) prices the vec flash-attention kernel per query head's FLOPs, measured on GQA
7-8 models, where the K / V bytes the depth adds give the same reading (bytes per FLOP = 1 / GQA). This prints both
readings for every model with tg32 rows at two depths: (1 / t_deep - 1 / t_shallow) against the K / V bytes
(speed_work.kv_read_by_layer, sliding layers at their window) and the attention FLOPs (attention_flops_by_layer) the
deeper row adds, as shares of the chip's spec bandwidth and FP16 peak. --grid (session 30, 5e-metal30): per model the
vec flash-attention kernel's launch at depth 32768 (threadgroups, simdgroups a GPU core) beside the K / V byte rate of
a line through all its tg32 depths, the check that the depth term is not parallel-limited. Reads rows only; predicts
nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PUBLISHED = ROOT / "benchmarks" / "published"
# (file, hardware as the file names it, group): ggml-org's M2 Ultra bench file (build 7948) and session 27's blind rows
SOURCES = ((PUBLISHED / "llamabench_moe.yaml", "m2-ultra-192gb", "llamabench_moe"),
           (PUBLISHED / "unseen_s27_b1_metal.yaml", "m2 ultra 76c 192gb", "unseen_s27 (blind)"))
PAIRS = (("tg32@d4096", "tg32@d16384"), ("tg32@d16384", "tg32@d32768"))


def _depth(test: str) -> int:
    """The mean cached depth of a tgN@dD row: D plus half of its N generated tokens (llama-bench -d D -n N)."""
    head, _, depth = test.partition("@d")
    return int(depth or 0) + int(head.removeprefix("tg")) // 2


@lru_cache(maxsize=1)
def _tg_rows() -> dict[tuple[str, str, str], dict[str, float]]:
    """(group, model, quant) -> {test: tokens/s} of every tg32 row of the sources' M2 Ultra (parsed once a process:
    rates and grid_rates both read it; neither changes it)."""
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for path, hardware, group in SOURCES:
        raw = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        for r in raw["rows"] if isinstance(raw, dict) else raw:
            if r.get("hardware") == hardware and str(r.get("test", "")).startswith("tg32"):
                out.setdefault((group, r["model"], r["quant"]), {})[r["test"]] = float(r["tokens_per_s"])
    return out


def rates() -> list[dict]:
    """Per model and depth pair: GQA (query heads per KV head, 0 for MLA's shared latent), the seconds the depth adds,
    and that time read as a share of the M2 Ultra's spec bandwidth over the K / V bytes and of its FP16 peak over the
    attention FLOPs the deeper row adds."""
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed_work import attention_flops_by_layer, kv_read_by_layer, token_work

    device = machine_from_profile(hw_names.resolve("m2-ultra-192gb"), 1).devices[0]
    out = []
    for (group, model_id, quant), tests in sorted(_tg_rows().items()):
        model = get_model(model_id)
        work = token_work(model, get_quant(quant))
        gqa = 0 if model.mla is not None else max(
            model.layer_n_heads(i) // model.layer_kv_heads(i) for i in range(model.n_layers) if model.layer_kv_heads(i))
        for shallow, deep in PAIRS:
            if shallow not in tests or deep not in tests:
                continue
            added_s = 1.0 / tests[deep] - 1.0 / tests[shallow]
            a, b = _depth(shallow), _depth(deep)
            kv = sum(kv_read_by_layer(model, work, b)) - sum(kv_read_by_layer(model, work, a))
            flops = sum(attention_flops_by_layer(model, b)) - sum(attention_flops_by_layer(model, a))
            out.append({"group": group, "model": model_id, "quant": quant, "gqa": gqa, "from": shallow, "to": deep,
                        "added_ms": round(added_s * 1e3, 3),
                        "kv_bandwidth_share": round(kv / added_s / device.bandwidth_bytes_per_s, 3),
                        "flops_share": round(flops / added_s / device.fp16_flops, 4)})
    return out


# ggml-org/ggml d99724f2 (2026-08-21) src/ggml-metal/ggml-metal-ops.cpp ggml_metal_op_flash_attn_ext, vec path:
# nhptg = 1 head per threadgroup, nwg = 32 workgroups over the KV length, nsg = 1 simdgroup doubled while
# 2 x nwg x nsg x ncpsg < ne11 (the cache length) and nsg < 4; ggml-metal-impl.h OP_FLASH_ATTN_EXT_VEC_NCPSG = 32
# cache cells a simdgroup pass; dispatch ((ne01 + nqptg - 1) / nqptg, (ne02 + nhptg - 1) / nhptg, ne03 x nwg)
# threadgroups of 32 x nsg threads
VEC_NWG, VEC_NCPSG, VEC_NSG_MAX = 32, 32, 4


def vec_simdgroups(n_q_heads: int, n_kv: int) -> tuple[int, int]:
    """(threadgroups, simdgroups) kernel_flash_attn_ext_vec launches for one decoded token (one query row) of a layer
    with `n_q_heads` query heads over a cache of `n_kv` cells, as ggml_metal_op_flash_attn_ext sizes its grid."""
    nsg = 1
    while 2 * VEC_NWG * nsg * VEC_NCPSG < n_kv and nsg < VEC_NSG_MAX:
        nsg *= 2
    groups = n_q_heads * VEC_NWG
    return groups, groups * nsg


def _full_heads(model) -> int:
    """Query heads of the model's full-attention layers (the layers whose cache grows with depth)."""
    return max(model.layer_n_heads(i) for i in range(model.n_layers) if model.layer_kv_heads(i))


def grid_rates(depth: int = 32768) -> list[dict]:
    """Per model of the M2 Ultra rows: the vec kernel's launch at `depth` (threadgroups, simdgroups, simdgroups per GPU
    core: what a parallel-limited depth term would scale with) beside the K / V byte rate of all its tg32 depths, a
    least-squares line time = intercept + K / V bytes / rate over d0 .. d32768 (each row at its mean depth), as a
    share of the spec bandwidth; the intercept less the d0 row's time is the fixed cost the first cached cells add."""
    from selfhost_advisor.catalog import hw_names
    from selfhost_advisor.catalog.hardware import machine_from_profile
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate.speed_work import kv_read_by_layer, token_work

    profile = hw_names.resolve("m2-ultra-192gb")
    device = machine_from_profile(profile, 1).devices[0]
    cores = int(profile.raw["gpu_cores"])
    out = []
    for (group, model_id, quant), tests in sorted(_tg_rows().items()):
        model = get_model(model_id)
        if model.mla is not None or "tg32" not in tests or len(tests) < 4:
            continue
        work = token_work(model, get_quant(quant))
        xs = [sum(kv_read_by_layer(model, work, _depth(t))) for t in tests]
        ys = [1.0 / v for v in tests.values()]
        n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        intercept = my - slope * mx
        heads = _full_heads(model)
        groups, simdgroups = vec_simdgroups(heads, depth + 32)
        out.append({"group": group, "model": model_id, "quant": quant, "head_dim": model.head_dim,
                    "q_heads": heads, "threadgroups": groups, "simdgroups": simdgroups,
                    "simdgroups_per_core": round(simdgroups / cores, 1), "depths": n,
                    "kv_bandwidth_share": round(1.0 / slope / device.bandwidth_bytes_per_s, 3),
                    "offset_ms": round((intercept - 1.0 / tests["tg32"]) * 1e3, 3)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--grid", action="store_true", help="the vec kernel's launch grid beside each model's byte rate")
    args = ap.parse_args()
    rs = grid_rates() if args.grid else rates()
    if args.json:
        print(json.dumps(rs, indent=2))
        return 0
    if args.grid:
        for r in rs:
            print(f"{r['group']:18s} {r['model']:18s} head {r['head_dim']:3d} x {r['q_heads']:2d} query heads: "
                  f"{r['threadgroups']:4d} threadgroups, {r['simdgroups']:4d} simdgroups"
                  f" ({r['simdgroups_per_core']:5.1f} a core) | {r['depths']} depths: K/V bytes at"
                  f" {r['kv_bandwidth_share']:.3f} x bandwidth,"
                  f" offset {r['offset_ms']:+.3f} ms")
        return 0
    for r in rs:
        print(f"{r['group']:18s} {r['model']:20s} {r['quant']:9s} GQA {r['gqa'] or 'MLA':>3} {r['from']:>12s} ->"
              f" {r['to']:12s} +{r['added_ms']:6.2f} ms  K/V bytes at {r['kv_bandwidth_share']:.3f} x bandwidth,"
              f" FLOPs at {r['flops_share']:.4f} x FP16 peak")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
