"""Metal llama-bench rows in no fit (benchmarks/published/llamabench_weak.yaml), each predicted by the shipped model at
its build, with the fixed time per layer the measurement implies (docs/methodology.md 5e-metal4).

Usage: python benchmarks/metal_heldout.py [--json] [--rates]
Implied fixed time = (1 / measured - the model's seconds with the per-layer time set to 0) / layers: what a row says
the per-layer time is once the model's bytes are streamed at the fitted bandwidth share. Both it and the modelled time
leave out the M1 mat-vec issue bound (5e-metal7), printed apart as "+ mat-vec" (its seconds a token). It is the figure sessions 11-18
compared across chips and builds (137 us modelled on builds from 2025-09-13, 96 us on M3+ from then on, 195 us before). Decode rows only for the
implied time; prefill rows carry their error. The session-18 blind outputs (benchmarks/metal_s18_blind.txt) were
printed from the same rows and predictions.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def rows(select=None) -> list[dict]:
    """Every Metal row (or those `select(row)` keeps): predicted, error (%), and for decode rows the implied and the
    modelled fixed time per layer (us)."""
    import fit_speed
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate import metal_path
    from selfhost_advisor.estimate.speed_factors import _fitted
    from selfhost_advisor.record import replace

    table = {f: _fitted(f) for f in ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu")}
    no_layer = dict(table, metal=replace(table["metal"], layer_s=0.0))
    out = []
    for r in fit_speed.published_rows():
        if r.backend != "metal" or (select is not None and not select(r)):
            continue
        p = fit_speed.predict(r)
        row = {"hardware": r.hardware, "model": r.model_id, "quant": r.quant, "test": r.test,
               "build_date": r.build_date, "measured": r.measured, "predicted": p,
               "error_pct": 100.0 * (p / r.measured - 1)}
        if r.test.startswith("tg"):
            # the streamed bytes and the per-layer time without M1's mat-vec issue bound (metal_path, 5e-metal7): what
            # the rows say about the kernels stays the same figure as before the bound; `matvec_us` is what it adds
            with metal_path.matvec_issue_off():
                streamed = 1.0 / fit_speed.predict(r, no_layer)
                plain = 1.0 / fit_speed.predict(r)
            layers = get_model(r.model_id).n_layers
            row["implied_layer_us"] = 1e6 * (1.0 / r.measured - streamed) / layers
            row["modelled_layer_us"] = 1e6 * (plain - streamed) / layers
            row["matvec_us"] = 1e6 * (1.0 / p - plain)
            row.update(_weight_rate(r, streamed, plain - streamed))
        out.append(row)
    return out


def _weight_rate(r, streamed: float, layer_s: float) -> dict:
    """What a decode row says about the mat-vec kernels once the modelled per-layer time is taken off: `stream_ratio`,
    the seconds left over the seconds the model streams its bytes in (> 1: slower than the fitted bandwidth share),
    and `lane_cycles_per_weight`, those seconds x the shader ALUs' lane-cycles per second (FP16 FLOPS / 2: one FMA a
    lane a cycle; M5+: the SIMD share, metal_path.simd_flops) over the weights the token runs through matrix kernels (a row at depth: its attention's time included).
    A row whose ratio is > 1 at a steady lane-cycles per weight across model sizes is bound by the kernel's ALU work
    per weight, not by memory or a per-layer cost (docs/methodology.md 5e-metal6)."""
    import fit_speed
    from selfhost_advisor.estimate import metal_path

    d = r.machine.devices[0]
    left = 1.0 / r.measured - layer_s
    weights = sum(w for w, _ in fit_speed._matrix_totals(r).values())
    lanes = metal_path.simd_flops(d, d.fp16_flops) / 2 if d.fp16_flops else 0.0
    return {"stream_ratio": left / streamed, "lane_cycles_per_weight": left * lanes / weights if lanes else None}


def summary(rs: list[dict]) -> dict:
    """Median |error| and row count, decode and prefill."""
    out = {}
    for kind, prefix in (("decode", "tg"), ("prefill", "pp")):
        errs = [abs(r["error_pct"]) for r in rs if r["test"].startswith(prefix)]
        out[kind] = {"n": len(errs), "median_abs_pct": round(statistics.median(errs), 1) if errs else None}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rates", action="store_true", help="decode rows: time over streaming, lane-cycles per weight")
    a = ap.parse_args()
    rs = rows()
    if a.json:
        print(json.dumps({"rows": rs, "summary": summary(rs)}, indent=1))
        return 0
    for r in sorted(rs, key=lambda r: (r["hardware"], r["model"], r["test"])):
        implied = f"  layer {r['implied_layer_us']:5.0f} us (model {r['modelled_layer_us']:3.0f})" if "implied_layer_us" in r else ""
        if r.get("matvec_us"):  # M1: the mat-vec issue bound's time a token (5e-metal7)
            implied += f"  + mat-vec {r['matvec_us']:6.0f} us"
        if a.rates:
            if "stream_ratio" not in r:
                continue
            cyc = r["lane_cycles_per_weight"]
            implied = f"  x{r['stream_ratio']:4.2f} of streaming  {cyc:5.1f} lane-cycles/weight" if cyc else ""
        print(f"{r['hardware'][:20]:20} {r['model']:18} {r['quant']:7} {r['test']:13} {str(r['build_date'] or '')[:10]:10} "
              f"{r['measured']:8.2f} {r['predicted']:8.2f} {r['error_pct']:+6.1f}%{implied}")
    for kind, s in summary(rs).items():
        print(f"{kind:8} n={s['n']:3}  median |err| {s['median_abs_pct']}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
