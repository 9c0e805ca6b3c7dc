"""The rate of ROCm's 16-bit routed-expert GEMMs in a prompt on a Radeon 8060S, as a share of its 16-bit peak, solved
off kyuz0's Strix Halo logs (data/speed.yaml rocm_16bit_expert_rate; docs/methodology.md 5f-rocm29).

Usage: python scripts/rocm_expert_rate.py
For each log (Qwen3-30B-A3B BF16 pp512, build 8577, -ub 512: 32 tokens an expert; down projection on the generic
hipBLAS path, gate / up on mmf) it bisects the share at which the shipped model, every other term as it is, gives the
log's rate, and prints each and their median (the figure data/speed.yaml carries). No scorer reads these logs.
"""
from __future__ import annotations

import statistics
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fit_speed import published_rows, predict  # noqa: E402

from selfhost_advisor.estimate.rocm_experts import share_override  # noqa: E402

# kyuz0/amd-strix-halo-toolboxes a7ace8d (2026-03-30), benchmark/results/Qwen3-30B-A3B-BF16-00001-of-00002__<t>.log
LOGS = {
    "rocm-7_2__fa1": 474.42, "rocm-7_2__hblt0__fa1": 479.78,
    "rocm6_4_4__fa1": 556.96, "rocm6_4_4__hblt0__fa1": 556.80,
    "rocm7-nightlies__fa1": 503.77, "rocm7-nightlies__hblt0__fa1": 482.99,
}
BUILD_DATE = "2026-03-29"  # build 2405d59cb (8577): the results/29-03-2026 run


def solve(measured: float) -> float:
    """The peak share at which the model's pp512 for the row equals `measured` (bisection; the rate rises with it)."""
    # the machine exactly as the published Strix Halo ROCm rows resolve it (fit_speed.published_rows)
    tmpl = next(r for r in published_rows(ROOT / "benchmarks" / "published" / "unseen_s27_b2_rocm.yaml")
                if r.backend == "rocm" and r.hardware == "ryzen ai max+ 395 128gb" and r.test == "pp512")
    # fa=True: every log ran -fa 1 (the `__fa1` of its name); llama-bench's own default was -fa 0 until 2026-05-30
    row = replace(tmpl, model_id="qwen3:30b-a3b", quant="BF16", measured=measured, build_date=BUILD_DATE,
                  n_ubatch=512, held_out=False, blind=False, fa=True)
    lo, hi = 1e-4, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        with share_override(mid):
            rate = predict(row)
        lo, hi = (lo, mid) if rate > measured else (mid, hi)
    return (lo + hi) / 2


def main() -> int:
    shares = {}
    for name, rate in LOGS.items():
        shares[name] = solve(rate)
        print(f"{name:30s} pp512 {rate:8.2f}  share {shares[name]:.4f}")
    print(f"median share: {statistics.median(shares.values()):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
