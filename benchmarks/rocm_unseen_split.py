"""Where the ROCm error of the pooled one-card unseen rows sits, by the kernel path that is known to miss
(docs/methodology.md 5f-rocm33, session 32): each row predicted by the SHIPPED model (unseen_s27.rows), then split into
gfx906 (GCN 5.1) float matrices (5f-rocm27 / 5f-rocm31: untuned rocBLAS BF16 GEMM, mmvf at ~0.6 of the HBM2), models
under 4.5 B parameters (5f-small28 / 5f-rocm32: no time per kernel or micro-batch in the prompt, Windows HIP rows), the
gfx906 MHA prompt at depth (5f-rocm28) and the rest, for GPUs outside and inside the ROCm fit.

Usage: python benchmarks/rocm_unseen_split.py [SESSIONS]   (default 26,27,28,29,30,31)
Nothing here is fitted; the split names paths, it does not change a prediction.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SMALL_PARAMS = 4.5e9
GROUPS = ("gfx906 float matrices", "models under 4.5B", "gfx906 MHA prompt at depth", "the rest")


def group(row: dict) -> str:
    from selfhost_advisor.catalog.models import get

    gfx906 = "mi50" in row["hardware"].lower() or "mi50" in (row.get("profile") or "")
    if gfx906 and row["quant"] in ("BF16", "F16", "F32"):
        return GROUPS[0]
    if get(row["model"]).params < SMALL_PARAMS:
        return GROUPS[1]
    if gfx906 and row["kind"] == "prefill" and "@d" in row["test"] and get(row["model"]).n_kv_heads == get(
            row["model"]).n_heads:
        return GROUPS[2]
    return GROUPS[3]


def rows(sessions: list[int]) -> list[dict]:
    import unseen_s26
    import unseen_s27

    out = []
    for s in sessions:
        files = unseen_s26.session_files(s)
        if files:
            out += [r for r in unseen_s27.rows(files) if r["backend"] == "rocm" and r["n_gpus"] in (1, None)
                    and r["error_pct"] is not None]
    return out


def main(argv: list[str]) -> int:
    sessions = [int(x) for x in (argv[0] if argv else "26,27,28,29,30,31").split(",")]
    rs = rows(sessions)
    for in_fit in (False, True):
        for kind in ("decode", "prefill"):
            k = [r for r in rs if r["kind"] == kind and bool(r["gpu_in_fit"]) == in_fit]
            if not k:
                continue
            label = "GPU in the fit" if in_fit else "GPU outside the fit"
            print(f"{kind:7s} {label:20s} {len(k):3d} rows  signed median {statistics.median(r['error_pct'] for r in k):+6.1f}%")
            for g in GROUPS:
                v = sorted(r["error_pct"] for r in k if group(r) == g)
                if v:
                    print(f"    {g:28s} {len(v):3d} rows  signed median {statistics.median(v):+6.1f}%  "
                          + " ".join(f"{x:+.0f}" for x in v))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
