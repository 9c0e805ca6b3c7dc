"""The fitted figures of data/speed.yaml vulkan_intel (docs/methodology.md 5b-vkintel2, 5b-vkintel3, 5b-vkintel4):
`igpu_dispatch_us` (integrated GPUs' decode rows: a time per counted dispatch; session 15's `igpu_layer_us` before it), `decode_share` and `vector_path_share`, each the value at which the median signed error of the Intel Vulkan rows it
applies to is zero, over the rows held BEFORE session 14 only (session 14's block, `--block vkintel3` of
benchmarks/vulkan_heldout.py, scores the result blind).

Usage: python benchmarks/vulkan_intel_fit.py [--loho-igpu | --ratio]
Rows: every Intel Vulkan row of benchmarks/published/llamabench_weak.yaml (and of the fit) before the line
`# --- session 14: vkintel2`, each predicted as benchmarks/weak_backends.py predicts it (leave-one-hardware-out for a
GPU in the fit). decode_share: the decode rows it applies to (not the Xe2 class from `xe2_large_matvec_since`,
estimate/vulkan_intel.py decode_at_law; every earlier row predates it);
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
            for r in yaml.load(before, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]  # noqa: S506
            if r["backend"] == "vulkan" and r["hardware"].startswith("arc")}


def _applies(row: fit_speed.Row, kind: str) -> bool:
    d = row.machine.devices[0]
    with vulkan_path.as_of_build(row.build_date or "", row.vulkan_path), vulkan_intel.with_driver(row.driver):
        if kind == "igpu":  # igpu_dispatch_us: the integrated GPUs' decode rows (sessions 15-16, 5b-vkintel3/4)
            return bool(d.unified)
        if kind == "law":  # every decode row asked for (xe_lpg_ratio)
            return True
        if kind == "decode":
            return not d.unified and not vulkan_intel.decode_at_law(vulkan_path.architecture(d), row.build_date or "")
        return vulkan_path.features(d, vulkan_path._rules_data())[0] == "none"


def _clear_caches() -> None:
    """Every memoized per-row or per-device figure that holds a share (fit_speed's unit seconds, vulkan_path's)."""
    for mod in (fit_speed, vulkan_path):
        for name, obj in vars(mod).items():
            if callable(getattr(obj, "cache_clear", None)) and name not in ("_rules_data", "_amd_rules"):
                obj.cache_clear()
    weak_backends._MEMO.clear()  # rows_report's memo of the shipped fit's figures would answer the old value


def errors(key: str, value: float, kind: str, keys: set[tuple] | None = None) -> list[tuple[tuple, float]]:
    """(row key, signed error %) of the Intel rows of `kind` in `keys` (default: the earlier rows) with
    vulkan_intel[`key`] = value."""
    rules = dict(vulkan_intel._rules())
    rules[key] = value
    saved = vulkan_intel._rules
    vulkan_intel._rules = lambda: rules
    try:
        _clear_caches()
        keys = _earlier_keys() if keys is None else keys
        rows = {(r.hardware, r.quant, r.test, r.measured): r for r in fit_speed.published_rows()}
        out = []
        for r in weak_backends.rows_report(only={k[0] for k in keys}):
            k = (r["hardware"], r["quant"], r["test"], r["measured"])
            if (r["backend"] == "vulkan" and r["kind"] == ("decode" if kind in ("igpu", "law") else kind)
                    and r["error_pct"] is not None and k in keys and _applies(rows[k], kind)):
                out.append((k, r["error_pct"]))
    finally:
        vulkan_intel._rules = saved
        _clear_caches()
    return out


def signed_median(key: str, value: float, kind: str, keys: set[tuple] | None = None) -> tuple[float, int]:
    """Median signed error (%) of the earlier Intel rows of `kind` (or of `keys`) with vulkan_intel[`key`] = value."""
    errs = [e for _, e in errors(key, value, kind, keys)]
    return statistics.median(errs), len(errs)


def solve(key: str, kind: str, lo: float = 0.05, hi: float = 1.0, rising: bool = True, digits: int = 3,
          keys: set[tuple] | None = None) -> tuple[float, int]:
    """Bisection on the value: a larger share predicts faster (the signed error rises with it, `rising`); a larger
    time per layer predicts slower."""
    for _ in range(16):
        mid = (lo + hi) / 2
        med, _ = signed_median(key, mid, kind, keys)
        lo, hi = (lo, mid) if (med > 0) == rising else (mid, hi)
    value = round((lo + hi) / 2, digits)
    return value, signed_median(key, value, kind, keys)[1]


def xe_lpg_ratio() -> tuple[float, list[tuple[tuple, float]]]:
    """xe_lpg_dispatch_ratio (MEASURED): the fixed decode time per layer of the A770 over the B580's on PR #14001's
    Windows rows of Gemma 2 2B Q4_K_M (same model, builds b5583 / b5589, Intel's Windows driver): each row's measured
    seconds per token less the family's law with share 1 (decode_share 1, no iGPU term), over its layers; the A770's
    over the mean of the B580's. Returns (ratio, [(row key, ms per layer)])."""
    keys = {(r.hardware, r.quant, r.test, r.measured) for r in fit_speed.published_rows()
            if r.backend == "vulkan" and r.hardware in ("arc a770 16gb", "arc b580") and r.model_id == "gemma2:2b"
            and r.test.startswith("tg") and r.driver == "windows"}
    rows = {(r.hardware, r.quant, r.test, r.measured): r for r in fit_speed.published_rows()}
    out = []
    for k, e in errors("decode_share", 1.0, "law", keys):
        law = k[3] * (1 + e / 100)
        out.append((k, (1 / k[3] - 1 / law) * 1e3 / weak_backends.get_model(rows[k].model_id).n_layers))
    a770 = [ms for k, ms in out if k[0] == "arc a770 16gb"]
    b580 = [ms for k, ms in out if k[0] == "arc b580"]
    return statistics.mean(a770) / statistics.mean(b580), out


def igpu_loho() -> list[tuple[tuple, float, float]]:
    """Leave-one-hardware-out for igpu_dispatch_us over every integrated-GPU Intel Vulkan decode row of the file (all
    sessions): per GPU, the value fitted on the other GPUs' rows, and that GPU's rows' errors under it. Returns
    (row key, fitted value, signed error %)."""
    every = {(r.hardware, r.quant, r.test, r.measured) for r in fit_speed.published_rows()
             if r.backend == "vulkan" and r.machine.devices[0].vendor == "intel" and r.machine.devices[0].unified
             and r.test.startswith("tg")}
    out = []
    for hw in sorted({k[0] for k in every}):
        value, _ = solve("igpu_dispatch_us", "igpu", 0.0, 200.0, rising=False, digits=1,
                         keys={k for k in every if k[0] != hw})
        out += [(k, value, e) for k, e in errors("igpu_dispatch_us", value, "igpu", {k for k in every if k[0] == hw})]
    return out


def main() -> int:
    if "--loho-igpu" in sys.argv[1:]:
        rows = igpu_loho()
        for k, value, e in rows:
            print(f"{k[0]:40} {k[1]:7} {k[3]:8.2f}  igpu_dispatch_us {value:5.1f} (other GPUs)  error {e:+7.1f}%")
        print(f"median |error| {statistics.median(abs(e) for _, _, e in rows):.1f}% over {len(rows)} rows")
        return 0
    if "--ratio" in sys.argv[1:]:
        ratio, rows = xe_lpg_ratio()
        for k, ms in rows:
            print(f"{k[0]:20} {k[1]:7} {k[3]:8.2f}  fixed time per layer {ms:.3f} ms")
        print(f"xe_lpg_dispatch_ratio: {ratio:.2f}")
        return 0
    # igpu_dispatch_us first: the iGPU rows leave decode_share's domain (sessions 15-16, 5b-vkintel3/4)
    value, n = solve("igpu_dispatch_us", "igpu", 0.0, 200.0, rising=False, digits=1)
    print(f"igpu_dispatch_us: {value:.1f}  ({n} earlier Intel iGPU decode rows, median signed error 0)")
    for key, kind in (("decode_share", "decode"), ("vector_path_share", "prefill")):
        value, n = solve(key, kind)
        print(f"{key}: {value}  ({n} earlier Intel {kind} rows, median signed error 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
