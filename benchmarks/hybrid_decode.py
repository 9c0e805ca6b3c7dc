"""Decode of hybrid models (recurrent + attention layers: Qwen3.5 / Qwen3-Next Gated DeltaNet, Nemotron-H / Granite 4
Mamba-2, Falcon-H1) on every published llama-bench row that holds one, each predicted by the SHIPPED model, per backend.

Usage: python benchmarks/hybrid_decode.py [--json]
Rows: benchmarks/published/llamabench_weak.yaml (ROCm, Vulkan, SYCL; fit_speed.predict at the row's build),
llamabench_cuda.yaml (cuda_heldout.rows), llamabench_moe.yaml (moe_accuracy.rows), small_on_big.yaml (llama-server
rows, small_on_big.rows), llamabench_cpu.yaml (cpu_published.report, at the row's max clock). A model is hybrid when its
catalog entry has recurrent layers (Model.ssm). Decode rows (tg*); --prefill: the prompt rows (pp*) instead.
docs/methodology.md 5h-hybrid17 has the blind figures (main before session 17's hybrid change) and the after.
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
sys.path.insert(0, str(ROOT / "benchmarks"))


def _hybrid(model_id: str) -> bool:
    from selfhost_advisor.catalog.models import get as get_model

    return get_model(model_id).ssm is not None


def rows(kind: str = "tg") -> list[dict]:
    """Every published decode (`kind` "tg") or prompt ("pp") row of a hybrid model: source file, backend, measured, predicted, signed error (%)."""
    import cpu_published
    import cuda_heldout
    import fit_speed
    import moe_accuracy
    import small_on_big

    out = []
    for r in fit_speed.published_rows():
        if r.test.startswith(kind) and _hybrid(r.model_id):
            p = fit_speed.predict(r)
            out.append({"file": "weak", "backend": r.backend, "hardware": r.hardware, "model": r.model_id,
                        "quant": r.quant, "test": r.test if "@d" in r.test or not r.cached else f"{r.test}@d{r.cached}",
                        "build": r.build_date or r.build, "measured": r.measured, "predicted": p})
    seen = {(r["hardware"], r["model"], r["quant"], r["test"], r["measured"]) for r in out}
    for name, rs, back in (("cuda", cuda_heldout.rows(), "cuda"), ("moe", moe_accuracy.rows(), None),
                           ("server", small_on_big.rows(), "cuda")):
        for r in rs:
            key = (r["hardware"], r["model"], r["quant"], r["test"], float(r["measured"]))
            if r["test"].startswith(kind) and _hybrid(r["model"]) and key not in seen:  # a row in two files: once
                out.append({"file": name, "backend": back or r["backend"], "hardware": r["hardware"],
                            "model": r["model"], "quant": r["quant"], "test": r["test"],
                            "build": r.get("build", ""), "measured": r["measured"], "predicted": r["predicted"]})
    for r in cpu_published.report():
        if r["test"].startswith(kind) and _hybrid(r["model"]):
            out.append({"file": "cpu", "backend": "cpu", "hardware": f"{r['cpu']} x{r['threads']}", "model": r["model"],
                        "quant": r["quant"], "test": r["test"], "build": "", "measured": r["measured"],
                        "predicted": r["ours_at_max_clock"]})
    for r in out:
        r["error_pct"] = 100.0 * (r["predicted"] / r["measured"] - 1)
    return out


def summary(rs: list[dict]) -> dict:
    """Per backend: row count, median |error| and median signed error (%)."""
    out = {}
    for back in sorted({r["backend"] for r in rs}) + ["all"]:
        k = [r["error_pct"] for r in rs if back in ("all", r["backend"])]
        out[back] = {"n": len(k), "median_abs_pct": round(statistics.median(abs(e) for e in k), 1),
                     "median_signed_pct": round(statistics.median(k), 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--prefill", action="store_true", help="prompt rows (pp*) instead of decode rows")
    a = ap.parse_args()
    rs = rows("pp" if a.prefill else "tg")
    if a.json:
        print(json.dumps({"rows": rs, "summary": summary(rs)}, indent=1))
        return 0
    for r in sorted(rs, key=lambda r: (r["backend"], r["model"], r["hardware"])):
        print(f"{r['backend']:7} {r['file']:6} {r['hardware'][:26]:26} {r['model']:22} {r['quant']:7} {r['test']:12} "
              f"{r['measured']:8.2f} {r['predicted']:8.2f} {r['error_pct']:+7.1f}%")
    for back, s in summary(rs).items():
        print(f"{back:7} n={s['n']:3}  median |err| {s['median_abs_pct']:5.1f}%  median signed {s['median_signed_pct']:+6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
