"""Out-of-sample errors of the weak backends (ROCm, Vulkan, SYCL) on published llama-bench rows, by backend,
GPU architecture, quant type and model size (docs/methodology.md 5b).

Usage: python benchmarks/weak_backends.py [--json]
Every row is predicted by the fit redone without all rows of its GPU (leave-one-hardware-out): the error to expect
on hardware nobody has shown us. Rows of benchmarks/published/llamabench_weak.yaml marked held_out were once scored
by a fit that never saw them (figures recorded in methodology 5b) and now join the fit too; rows marked `in_fit: false`
are in no fit: each is predicted by a fit with no row of its GPU (the shipped fit for a GPU all of whose rows are
blind), the blind figure, reported apart. The weak families' fits do not use our H200 rows, so every refit here takes a fraction of a second and
tests/test_weak_backends.py asserts the medians printed here.
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

import fit_speed  # noqa: E402
from selfhost_advisor.catalog.models import get as get_model  # noqa: E402
from selfhost_advisor.estimate.speed import family  # noqa: E402

WEAK = ("rocm", "vulkan", "sycl")
# profiles that are not rows of data/gpu_specs.yaml: their architecture by id prefix
_ARCH = {"ryzen-ai-max": "RDNA 3.5", "m4": "Apple M4", "mi300x": "CDNA 3.0"}


def architecture(row: fit_speed.Row) -> str:
    """The GPU architecture of a row's hardware, as data/gpu_specs.yaml names it ("RDNA 3.0", "Xe2-HPG", ...)."""
    from selfhost_advisor.catalog.gpu_table import by_id

    pid = row.machine.devices[0].matched_profile or ""
    spec = by_id(pid)
    if spec and spec.get("architecture"):
        return str(spec["architecture"])
    return next((a for prefix, a in _ARCH.items() if pid.startswith(prefix)), pid)


def size_class(model_id: str) -> str:
    params = get_model(model_id).params
    return "<4B" if params < 4e9 else ("4-20B" if params < 20e9 else ">20B")


def rows_report(fit=None, only: set[str] | None = None, shipped_table=None) -> list[dict]:
    """Every weak-backend row (the calibration file's and PUBLISHED's) with its shipped-fit error and its
    leave-one-hardware-out error: the fit redone without every row of that GPU, then asked for it. PUBLISHED's Metal
    rows and the blind ones (`in_fit: false`; in no fit) get the shipped fit's error as both, except blind rows of a
    GPU whose other rows are in the fit: the fit without that GPU predicts them. `fit` (default
    fit_speed.fit) lets a test refit another way; `only` (hardware names) reports those GPUs' rows alone;
    `shipped_table` stands in for data/speed.yaml's factors (a test scoring an earlier model)."""
    default = fit is None
    fit = fit or (lambda rows: fit_speed.fit_families(rows, WEAK))
    fit_rows = fit_speed.fit_rows()
    weak_fit = [r for r in fit_rows if family(r.backend) in WEAK]
    out = []
    outside = [r for r in fit_speed.published_rows() if family(r.backend) == "metal" or r.blind]
    if default and shipped_table is None:
        # The shipped fit's figures: each card's fold and each row's entry computed once per process for these rows
        # under these scoped switches (estimate/scoped.state). Why: vulkan_heldout / sycl_heldout blocks and five test
        # files asked again and again, refitting the same cards' folds each time (~5% of the suite's CPU).
        from selfhost_advisor.estimate.scoped import state

        key = (tuple(fit_rows), tuple(outside), state())
        if key not in _MEMO:
            if len(_MEMO) >= 8:
                _MEMO.clear()
            _MEMO[key] = ({}, {})
        folds, done = _MEMO[key]
    else:
        folds, done = {}, {}
    # the default fit refits in each fold only the families of the left-out card's rows: each family is fitted on its
    # own rows (fit_speed.fit_families), so the others' factors would be the full fit's and predict no row of that
    # card (refitting all three per card was most of this report's time: suite time)
    card_families: dict[str, set[str]] = {}
    for r in weak_fit + outside:
        card_families.setdefault(r.gpu, set()).add(family(r.backend))
    fitted_gpus = {r.gpu for r in fit_rows}
    for r in weak_fit + outside:
        if only is not None and r.hardware not in only:
            continue
        if r in done:
            out.append(dict(done[r]))
            continue
        shipped = fit_speed.predict(r, shipped_table) / r.measured - 1
        if family(r.backend) == "metal" or (r.blind and r.gpu not in fitted_gpus):  # no fit saw this GPU
            oos = shipped
        else:  # a row in the fit, or a blind row of a GPU that has others there: the fit without that GPU
            if r.gpu not in folds:  # every row of that card, whatever name a file gives it
                rest = [x for x in fit_rows if x.gpu != r.gpu]
                fitted = (fit_speed.fit_families(rest, tuple(f for f in WEAK if f in card_families[r.gpu]))
                          if default else fit(rest))
                folds[r.gpu] = (fit_speed._table(fitted), {(family(x.backend), x.kind) for x in rest})
            table, left = folds[r.gpu]
            # no rows of this backend and test left without this hardware: nothing to predict it from
            oos = fit_speed.predict(r, table) / r.measured - 1 if (family(r.backend), r.kind) in left else None
        out.append({"hardware": r.hardware, "backend": family(r.backend), "architecture": architecture(r),
                    "model": r.model_id, "size": size_class(r.model_id), "quant": r.quant, "test": r.test,
                    "kind": "decode" if r.kind == fit_speed.DECODE else "prefill", "measured": r.measured,
                    "shipped_error_pct": 100 * shipped, "error_pct": None if oos is None else 100 * oos,
                    "held_out": r.held_out, "blind": r.blind,
                    "blind_gpu_fitted": r.blind and r.gpu in fitted_gpus})
        done[r] = dict(out[-1])
    return out


# (fit rows, rows outside the fit, estimate.scoped.state()) -> (folds by card, entry by row) of the default report
_MEMO: dict[tuple, tuple[dict, dict]] = {}


def _stats(errs: list[float | None]) -> dict:
    a = [abs(e) for e in errs if e is not None]
    return {"rows": len(a), "median_abs_error_pct": round(statistics.median(a), 1) if a else None,
            "max_abs_error_pct": round(max(a), 1) if a else None}


def summary(rows: list[dict]) -> dict:
    """Per backend and test: leave-one-hardware-out over all rows (and over those once held out, for comparison
    with the figures recorded when they were scored blind), in-sample; then the leave-one-hardware-out errors grouped
    by architecture, quant type and model size."""
    out: dict = {"backend": {}, "architecture": {}, "quant": {}, "size": {}}
    for be in WEAK + ("metal",):
        for kind in ("decode", "prefill"):
            every = [r for r in rows if r["backend"] == be and r["kind"] == kind]
            rs = [r for r in every if not r["blind"]]
            if every:
                out["backend"][f"{be} {kind}"] = {
                    "leave_one_hardware_out": _stats([r["error_pct"] for r in rs]),
                    "loho_rows_once_held_out": _stats([r["error_pct"] for r in rs if r["held_out"]]),
                    "in_sample": _stats([r["shipped_error_pct"] for r in rs]),
                    "blind": _stats([r["error_pct"] for r in every if r["blind"]])}
    for key in ("architecture", "quant", "size"):
        for value in sorted({r[key] for r in rows}):
            for kind in ("decode", "prefill"):
                rs = [r for r in rows if r[key] == value and r["kind"] == kind and r["backend"] in WEAK
                      and r["error_pct"] is not None and not r["blind"]]
                if rs:
                    errs = [r["error_pct"] for r in rs]
                    out[key][f"{value} {kind}"] = _stats(errs) | {"median_error_pct": round(statistics.median(errs), 1)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = rows_report()
    s = summary(rows)
    if args.json:
        print(json.dumps({"rows": rows, "summary": s}, indent=2))
        return 0
    for r in rows:
        print(f"{r['backend']:6} {r['architecture'][:10]:10} {r['hardware'][:24]:24} {r['model']:12} {r['quant']:6} "
              f"{r['test']:12} measured {r['measured']:8.1f}  shipped {r['shipped_error_pct']:+7.1f}%  "
              + "hardware left out " + (
                  f"{r['error_pct']:+7.1f}%" if r["error_pct"] is not None else "n/a (no rows of this test left)")
              + (" (blind row; fit without its GPU)" if r["blind_gpu_fitted"] else " (blind: GPU in no fit)" if r["blind"] else " (once held out)" if r["held_out"] else ""))
    print("\n|error| per backend: leave-one-hardware-out over the rows in the fit | of it, the rows once held out |"
          " in-sample | blind (in_fit: false rows, each by a fit with no row of its GPU)")
    for key, v in s["backend"].items():
        loho, held, ins, bl = (v["leave_one_hardware_out"], v["loho_rows_once_held_out"], v["in_sample"], v["blind"])
        print(f"  {key:15} LOHO {loho['rows']:2d} rows median {loho['median_abs_error_pct']}"
              f" | once held out {held['rows']:2d} rows median {held['median_abs_error_pct']}"
              f" | in-sample median {ins['median_abs_error_pct']} | blind {bl['rows']} rows median"
              f" {bl['median_abs_error_pct']}")
    for key in ("architecture", "quant", "size"):
        print(f"\nleave-one-hardware-out error by {key} (signed median; + = predicted faster than measured):")
        for k, v in s[key].items():
            print(f"  {k:22} {v['rows']:2d} rows  median {v['median_error_pct']:+6.1f}%  |median| "
                  f"{v['median_abs_error_pct']:5.1f}%  max {v['max_abs_error_pct']:6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
