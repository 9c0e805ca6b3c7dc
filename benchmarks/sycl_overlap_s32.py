"""Session 32 (sycl32): where a SYCL decode row's time goes under the shipped model, and one what-if, printed per row.

A record script, not a scorer (no formula of the package changes; docs/methodology.md 5b-sycl32). For every SYCL decode
row of benchmarks/published/llamabench_weak.yaml and the unseen SYCL files it prints the shipped prediction, the part of
it that is the family's fixed per-layer time (the per-layer unit feature x layer_cycles at the device's clock, less the
eventless-submission saving at the row's build: what speed_decode adds on top of the streaming), and `share0`, the share
of the spec sheet's bandwidth the row's bytes (weights, K/V, states) would stream at if the row's whole measured time
were streaming. Then it scores the what-if of 5b-sycl32: on an Xe2 discrete GPU at a 2026 build, a dense model's fixed
time overlaps its streaming (a token costs max(streaming + the rest, fixed) instead of their sum), as an in-order queue
without host waits allows (ggml_backend_sycl_graph_compute_impl at ggml d99724f2) where the runtime submits at once
(Level Zero immediate command lists: the UR L0 v2 adapter, default for Intel GPU IP >= 20.1 in intel/llvm). The
constants stay the shipped ones: nothing is refitted.

    python benchmarks/sycl_overlap_s32.py            # the summary groups
    python benchmarks/sycl_overlap_s32.py --rows     # and each B70 row
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import fit_speed  # noqa: E402
from selfhost_advisor.catalog.gpu_table import by_id  # noqa: E402
from selfhost_advisor.estimate.kernel_path import gpu_clock_hz  # noqa: E402
from selfhost_advisor.estimate.speed import efficiency  # noqa: E402
from selfhost_advisor.estimate.sycl_path import assume_build, parse_build, submission_saving_seconds  # noqa: E402

PUBLISHED = ROOT / "benchmarks" / "published"
FILES = [PUBLISHED / "llamabench_weak.yaml", *sorted(PUBLISHED.glob("unseen_s*_sycl.yaml")),
         PUBLISHED / "unseen_s26_b3_weak.yaml"]
XE2_DGPU = ("Xe2-HPG",)


def _year(row) -> str:
    date = parse_build(row.build or "").date or (row.build_date or "")
    return date[:4] or "?"


def rows() -> list[dict]:
    """Each SYCL decode row with a bandwidth: measured and predicted tokens/s, the fixed per-layer seconds inside the
    prediction, the unit-bandwidth seconds (bytes / spec) and the structure flags the what-if keys on."""
    eff = efficiency("sycl")
    out = []
    for path in FILES:
        for r in fit_speed.published_rows(path):
            if r.backend != "sycl" or r.kind != fit_speed.DECODE or not r.machine.devices:
                continue
            d = r.machine.devices[0]
            if not d.bandwidth_bytes_per_s:
                continue
            model = fit_speed.get_model(r.model_id)
            layers = fit_speed._unit_seconds(r, "layer")  # layers x node ratio, as speed_decode charges them
            with assume_build(r.build, r.build_date):
                saving = submission_saving_seconds()
            fixed = layers * max(0.0, eff.layer_cycles / (gpu_clock_hz(d) or eff.clock_fallback_hz) - saving)
            out.append({
                "file": path.name, "gpu": str(r.gpu), "year": _year(r),
                "arch": str((by_id(d.matched_profile or "") or {}).get("architecture") or ""),
                "model": r.model_id, "quant": r.quant, "test": r.test, "via": r.via,
                "dense": model.moe is None and model.ssm is None,
                "measured": r.measured, "predicted": fit_speed.predict(r), "fixed_s": fixed,
                "unit_bw_s": fit_speed._unit_seconds(r, "bandwidth"), "unseen": path.name.startswith("unseen"),
            })
    return out


def overlapped(r: dict) -> bool:
    """The what-if's rows: a dense (no MoE, no recurrent layer) model on an Xe2 discrete GPU at a 2026 build."""
    return r["dense"] and r["arch"] in XE2_DGPU and r["year"] == "2026"


def what_if_tokens_per_s(r: dict) -> float:
    t = 1.0 / r["predicted"]
    if overlapped(r):
        t = max(t - r["fixed_s"], r["fixed_s"])
    return 1.0 / t


def _error(pred: float, r: dict) -> float:
    return 100.0 * (pred / r["measured"] - 1.0)


def main(argv: list[str]) -> int:
    rs = rows()
    groups: dict[tuple, list[dict]] = {}
    for r in rs:
        key = ("unseen" if r["unseen"] else "held-out", r["gpu"], r["year"], "dense" if r["dense"] else "MoE/hybrid")
        groups.setdefault(key, []).append(r)
        groups.setdefault(("unseen" if r["unseen"] else "held-out", "every GPU", "", ""), []).append(r)
    print("SYCL decode, signed median error (+ = predicted faster) and median |error|: shipped -> what-if")
    for key in sorted(groups):
        g = groups[key]
        before = [_error(r["predicted"], r) for r in g]
        after = [_error(what_if_tokens_per_s(r), r) for r in g]
        print(f"  {' / '.join(k for k in key if k):58s} {len(g):3d} rows  signed {statistics.median(before):+6.1f} -> "
              f"{statistics.median(after):+6.1f}   |error| {statistics.median(map(abs, before)):5.1f} -> "
              f"{statistics.median(map(abs, after)):5.1f}")
    if "--rows" in argv:
        print("\nArc Pro B70 rows: share0 = bytes / spec over the measured time; fixed = the per-layer time inside the "
              "prediction")
        for r in rs:
            if not r["gpu"].startswith("arc-pro-b70"):
                continue
            share0 = r["unit_bw_s"] * r["measured"]
            print(f"  {'U' if r['unseen'] else 'H'} {r['year']} {r['model'][:24]:24s} {r['quant']:10s} {r['test'][:14]:14s} "
                  f"{r['via'][:6]:6s} {'dense' if r['dense'] else 'other':5s} measured {r['measured']:7.2f} "
                  f"share0 {share0:.3f} fixed {1e3 * r['fixed_s']:5.2f} ms of {1e3 / r['predicted']:7.2f}  "
                  f"shipped {_error(r['predicted'], r):+6.1f}  what-if {_error(what_if_tokens_per_s(r), r):+6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
