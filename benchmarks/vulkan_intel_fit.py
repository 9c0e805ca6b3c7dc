"""The two shares of data/speed.yaml vulkan_intel that are fitted, not derived (docs/methodology.md 5b-vkintel2):
`decode_share` and `vector_path_share`, each the value at which the median signed error of the Intel Vulkan rows it
applies to is zero, over the rows held BEFORE session 14 only (session 14's block, `--block vkintel3` of
benchmarks/vulkan_heldout.py, scores the result blind).

Usage: python benchmarks/vulkan_intel_fit.py
Rows: every Intel Vulkan row of benchmarks/published/llamabench_weak.yaml (and of the fit) before the line
`# --- session 14: vkintel2`, each predicted as benchmarks/weak_backends.py predicts it (leave-one-hardware-out for a
GPU in the fit). decode_share: the decode rows it applies to (not Xe2 from April 2026, estimate/vulkan_intel.py);
vector_path_share: the prefill rows of a build in which ggml-vulkan gave the card no cooperative matrix.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import fit_speed  # noqa: E402
import weak_backends  # noqa: E402
from selfhost_advisor.estimate import vulkan_intel, vulkan_path  # noqa: E402

MARK = "# --- session 14: vkintel2"


def _earlier_keys() -> set[tuple]:
    import yaml

    text = fit_speed.PUBLISHED.read_text()
    before = text[:text.index(MARK)] if MARK in text else text
    return {(r["hardware"], r["quant"], r["test"], float(r["tokens_per_s"]))
            for r in yaml.safe_load(before)["rows"] if r["backend"] == "vulkan" and r["hardware"].startswith("arc")}


def _applies(row: fit_speed.Row, kind: str) -> bool:
    d = row.machine.devices[0]
    with vulkan_path.as_of_build(row.build_date or "", row.vulkan_path), vulkan_intel.with_driver(row.driver):
        if kind == "decode":
            return not vulkan_intel.decode_at_law(vulkan_path.architecture(d), row.build_date or "")
        return vulkan_path.features(d, vulkan_path._rules_data())[0] == "none"


def _clear_caches() -> None:
    """Every memoized per-row or per-device figure that holds a share (fit_speed's unit seconds, vulkan_path's)."""
    for mod in (fit_speed, vulkan_path):
        for name, obj in vars(mod).items():
            if callable(getattr(obj, "cache_clear", None)) and name not in ("_rules_data", "_amd_rules"):
                obj.cache_clear()


def signed_median(key: str, value: float, kind: str) -> tuple[float, int]:
    """Median signed error (%) of the earlier Intel rows of `kind` with vulkan_intel[`key`] = value."""
    rules = dict(vulkan_intel._rules())
    rules[key] = value
    saved = vulkan_intel._rules
    vulkan_intel._rules = lambda: rules
    try:
        _clear_caches()
        keys = _earlier_keys()
        rows = {(r.hardware, r.quant, r.test, r.measured): r for r in fit_speed.published_rows()}
        errs = [r["error_pct"] for r in weak_backends.rows_report(only={k[0] for k in keys})
                if r["backend"] == "vulkan" and r["kind"] == kind and r["error_pct"] is not None
                and (r["hardware"], r["quant"], r["test"], r["measured"]) in keys
                and _applies(rows[(r["hardware"], r["quant"], r["test"], r["measured"])], kind)]
    finally:
        vulkan_intel._rules = saved
    return statistics.median(errs), len(errs)


def solve(key: str, kind: str, lo: float = 0.05, hi: float = 1.0) -> tuple[float, int]:
    """Bisection on the share (a larger share predicts faster: the signed error rises with it)."""
    for _ in range(14):
        mid = (lo + hi) / 2
        med, _ = signed_median(key, mid, kind)
        lo, hi = (lo, mid) if med > 0 else (mid, hi)
    value = round((lo + hi) / 2, 3)
    return value, signed_median(key, value, kind)[1]


def main() -> int:
    for key, kind in (("decode_share", "decode"), ("vector_path_share", "prefill")):
        value, n = solve(key, kind)
        print(f"{key}: {value}  ({n} earlier Intel {kind} rows, median signed error 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
