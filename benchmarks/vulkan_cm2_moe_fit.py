"""The NV_coopmat2 MUL_MAT_ID weight-decode cost, fitted (data/speed.yaml moe_tiles.vulkan.coopmat2.decode_mma_units;
docs/methodology.md 5c-s22v).

Usage: python benchmarks/vulkan_cm2_moe_fit.py
For each fit row (RTX 5090 Vulkan pp512 rows of benchmarks/published/llamabench_moe.yaml: Qwen3-30B-A3B and
Qwen3-Next-80B-A3B at builds after PR #15546) the decode_mma_units that predicts the row exactly, found by bisection
with the rest of the model as shipped; the median is the shipped value. Then every RTX 5090 / RTX 3090 Vulkan MoE
prompt row with the median, the held-out ones (gpt-oss, GLM-4.7-Flash, depth rows, the 3090) marked.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

FIT = {("qwen3:30b-a3b", "pp512"), ("qwen3-next:80b", "pp512")}
GPUS = ("rtx 5090", "rtx 3090")


def _rows() -> list[dict]:
    import moe_accuracy

    return [r for r in moe_accuracy.published_rows()
            if r["backend"] == "vulkan" and r["hardware"] in GPUS and r["test"].startswith("pp") and not r.get("dense")
            and str(r.get("date") or "") >= "2025-08-31"]


def predict(r: dict, units: float | None = None) -> float:
    import moe_accuracy
    from selfhost_advisor.estimate import moe_tiles
    from selfhost_advisor.estimate.vulkan_path import as_of_build

    real = moe_tiles.coopmat2_padding

    def patched(n, e, k, rule):
        return real(n, e, k, {**rule, "decode_mma_units": units} if units is not None else rule)

    with mock.patch.object(moe_tiles, "coopmat2_padding", patched), as_of_build(str(r.get("date") or "")):
        return moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"], int(r.get("n_ubatch", 512)), 0)


def solve(r: dict) -> float:
    """decode_mma_units at which the row is predicted exactly (predictions fall as the units rise)."""
    lo, hi = 0.0, 400.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if predict(r, mid) > r["tokens_per_s"]:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def main() -> int:
    rows = _rows()
    fit = [r for r in rows if r["hardware"] == "rtx 5090" and (r["model"], r["test"]) in FIT]
    units = []
    for r in fit:
        u = solve(r)
        units.append(u)
        print(f"fit  {r['hardware']:9s} {r['model']:18s} {r['quant']:9s} {r['test']:13s} {r.get('date')}  units {u:6.1f}")
    med = statistics.median(units)
    print(f"median decode_mma_units {med:.1f} over {len(units)} rows")
    for r in rows:
        p = predict(r, med)
        tag = "fit " if r in fit else "held"
        print(f"{tag} {r['hardware']:9s} {r['model']:18s} {r['quant']:9s} {r['test']:13s} {r.get('date')}  "
              f"measured {r['tokens_per_s']:8.1f} predicted {p:8.1f} {100 * (p / r['tokens_per_s'] - 1):+6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
