"""Metal decode rows by host: the streaming share and the per-layer time a host's own rows imply (docs/methodology.md
5e-metal31).

Usage: python benchmarks/metal_host_rate.py [--json] [FILE ...]
For each host (the row's hardware id and its build year) with dense decode rows at depth 0: the measured seconds a
token against the seconds the shipped model streams the row's bytes in (the Metal family's bandwidth share, no
per-layer time, no M1 mat-vec bound: metal_heldout's `streamed`), fitted by least squares as
    measured = k x streamed + c x layers,
which gives the host's implied share (family share / k) and per-layer time (c), beside the model's. The ratio
measured / streamed is also given for the smaller and the larger half of the host's rows (by streamed seconds): a ratio
that stays level from small to large models is a bandwidth level; one that falls with size is a fixed time a token or
a layer; one that rises with size is what memory pressure (a working set near the Metal limit, compression, swap)
would show. MoE rows (a token streams a fraction of the file), rows at depth and
decode tests longer than 512 tokens are left out; a host needs 3 rows, and with fewer than about 8 the two-term fit is
loose (read the ratios). On M1 hosts the K-quant rows also carry the mat-vec bound the model adds apart (5e-metal7), so
their implied share is low by that. Not a scorer: it predicts no new figure. Default files:
benchmarks/published/llamabench_weak.yaml and every unseen_s*_metal.yaml / unseen_s*_weak.yaml.
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

PUBLISHED = ROOT / "benchmarks" / "published"


def default_files() -> list[Path]:
    """The published files that hold Metal llama-bench rows in fit_speed's row format."""
    return [PUBLISHED / "llamabench_weak.yaml"] + sorted(PUBLISHED.glob("unseen_s*_metal.yaml")) + sorted(
        PUBLISHED.glob("unseen_s*_weak.yaml"))


def fit(points: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Least squares of measured = k x streamed + c x layers over (streamed s, measured s, layers): (k, c in s).
    Needs two points that are not proportional in (streamed, layers)."""
    sxx = sum(s * s for s, _, _ in points)
    sll = sum(n * n for _, _, n in points)
    sxl = sum(s * n for s, _, n in points)
    sxy = sum(s * t for s, t, _ in points)
    sly = sum(n * t for _, t, n in points)
    det = sxx * sll - sxl * sxl
    if det <= 1e-18 * max(sxx * sll, 1e-300):
        raise ValueError("the rows do not separate a streamed time from a per-layer time")
    return (sxy * sll - sly * sxl) / det, (sxx * sly - sxl * sxy) / det


def _short_decode(test: str) -> bool:
    """A decode test of at most 512 tokens from an empty cache (tg128, tg512): a longer one averages its own depth."""
    return test.startswith("tg") and test[2:].isdigit() and int(test[2:]) <= 512


def rows(files: list[Path] | None = None) -> list[dict]:
    """Each dense depth-0 Metal decode row: host, model, streamed and measured seconds, layers, the model's per-layer
    seconds and its error."""
    import fit_speed
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.estimate import metal_path
    from selfhost_advisor.estimate.speed_factors import _fitted
    from selfhost_advisor.record import replace

    table = {f: _fitted(f) for f in ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu")}
    no_layer = dict(table, metal=replace(table["metal"], layer_s=0.0))
    out = []
    for path in files or default_files():
        for r in fit_speed.published_rows(path):
            if r.backend != "metal" or not _short_decode(r.test) or r.cached:
                continue
            model = get_model(r.model_id)
            if model.moe is not None:
                continue
            with metal_path.matvec_issue_off():
                streamed = 1.0 / fit_speed.predict(r, no_layer)
                plain = 1.0 / fit_speed.predict(r)
            out.append({"host": f"{r.hardware} ({str(r.build_date or '?')[:4]})", "model": r.model_id,
                        "quant": r.quant, "test": r.test, "streamed_s": streamed, "measured_s": 1.0 / r.measured,
                        "layers": model.n_layers, "model_layer_s": (plain - streamed) / model.n_layers,
                        "error_pct": 100.0 * (fit_speed.predict(r) / r.measured - 1), "file": path.name})
    return out


def by_host(rs: list[dict], share: float) -> list[dict]:
    """Per host with at least 3 rows: the implied share and per-layer time, the ratio in the small and large halves."""
    hosts: dict[str, list[dict]] = {}
    for r in rs:
        hosts.setdefault(r["host"], []).append(r)
    out = []
    for host, hr in sorted(hosts.items()):
        if len(hr) < 3:
            continue
        hr = sorted(hr, key=lambda r: r["streamed_s"])
        ratios = [r["measured_s"] / r["streamed_s"] for r in hr]
        half = len(hr) // 2
        try:
            k, c = fit([(r["streamed_s"], r["measured_s"], r["layers"]) for r in hr])
        except ValueError:
            k, c = float("nan"), float("nan")
        out.append({"host": host, "n": len(hr), "implied_share": share / k if k > 0 else None,
                    "implied_layer_us": 1e6 * c, "model_layer_us": 1e6 * statistics.median(r["model_layer_s"] for r in hr),
                    "ratio_small": statistics.median(ratios[:half]), "ratio_large": statistics.median(ratios[half:]),
                    "median_error_pct": statistics.median(r["error_pct"] for r in hr)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    from selfhost_advisor.estimate.speed_factors import _fitted

    share = _fitted("metal").bandwidth
    hs = by_host(rows(a.files or None), share)
    if a.json:
        print(json.dumps({"model_share": share, "hosts": hs}, indent=1))
        return 0
    print(f"model: streaming share {share:.4f} of nominal bandwidth; per-layer time as printed (model)")
    print(f"{'host':42} {'n':>3} {'share':>6} {'layer us':>9} {'(model)':>8} {'ratio small':>11} {'large':>6} {'median err':>10}")
    for h in hs:
        sh = f"{h['implied_share']:.3f}" if h["implied_share"] else "   -"
        print(f"{h['host'][:42]:42} {h['n']:3} {sh:>6} {h['implied_layer_us']:9.0f} {h['model_layer_us']:8.0f} "
              f"{h['ratio_small']:11.2f} {h['ratio_large']:6.2f} {h['median_error_pct']:+9.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
