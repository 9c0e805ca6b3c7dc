"""Vulkan rows held out by session 12 (vkgcn): each row's error under the shipped model, decode and prefill apart
(docs/methodology.md 5b-vkgcn).

Usage: python benchmarks/vulkan_heldout.py [--json] [--block vkgcn|vkamd|vkintel|vkintel2|vkamd2|vkintel3|vkintel4|vkintel4nv|vkamd3|vkamd4|vkintel5|vkamd5|vkamd6|vkintel6|vkamd7|vkintel7|vkamd8|vkamd9|vkamd9b|vkintel9|vkintel10|vkintel11]
The rows are those of benchmarks/published/llamabench_weak.yaml in the block after the line `# --- session 12: vkgcn`
(up to the next session's line; `--block vkamd`: session 13's AMD block, docs/methodology.md 5b-vkamd; `--block
vkintel` / `vkintel2`: its Intel blocks, 5b-vkintel; `--block vkamd2`: session 14's AMD block, 5b-vkamd2; `--block
vkintel3`: session 14's Intel and NVIDIA block, 5b-vkintel2; `--block vkintel4`: session 15's Intel block, `vkintel4nv` its NVIDIA block, 5b-vkintel3;
`--block vkamd3`: session 15's AMD block, 5b-vkamd3; `--block vkamd4`: session 16's block, 5b-vkamd4; `--block vkamd7`: session 19's, 5b-vkamd7; `--block vkamd8`: session 20's, 5b-vkamd8; `--block vkamd9` / `vkamd9b`: session 21's, 5b-vkamd9), all
`in_fit: false`: each is predicted as benchmarks/weak_backends.py predicts a blind row (the shipped fit for a GPU in no
fit, the fit redone without its GPU otherwise). Rows run on Intel's Mesa driver (ANV) are reported apart too: in mid-2025
that driver decoded 3x slower than Intel's Windows driver on the same cards (PR #14001's table); since session 13 the
estimate takes the row's driver (estimate/vulkan_intel.py).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's package, never an installed one
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import weak_backends  # noqa: E402

MARKER = "# --- session 12: vkgcn"
BLOCKS = {"vkgcn": MARKER, "vkintel5": "# --- session 17: vkintel5", "vkamd": "# --- session 13: vkamd", "vkintel": "# --- session 13: vkintel",
          "vkintel2": "# --- session 13: vkintel, second batch", "vkamd2": "# --- session 14: vkamd2",
          "vkintel3": "# --- session 14: vkintel2", "vkintel4": "# --- session 15: vkintel3 (",
          "vkintel4nv": "# --- session 15: vkintel3, NVIDIA batch",
          "vkamd3": "# --- session 15: vkamd3", "vkamd4": "# --- session 16: vkamd4",
          "vkamd5": "# --- session 17: vkamd5", "vkamd6": "# --- session 18: vkamd6",
          "vkintel6": "# --- session 18: vkintel6", "vkamd7": "# --- session 19: vkamd7",
          "vkintel7": "# --- session 19: vkintel7", "vkamd8": "# --- session 20: vkamd8",
          "vkamd9": "# --- session 21: vkamd9 (", "vkamd9b": "# --- session 21: vkamd9, third batch",
          "vkintel9": "# --- session 23: sycl17", "vkintel10": "# --- session 24: vkintel10",
          "vkintel11": "# --- session 25: vkintel11"}


def session_rows(path: Path | None = None, marker: str = MARKER) -> list[dict]:
    """The raw yaml rows of the block after `marker`, up to the next `# --- session` line (the file keeps one row per
    `- {` line)."""
    import yaml

    text = (path or weak_backends.fit_speed.PUBLISHED).read_text()
    tail = text[text.index(marker):].split("\n", 1)[1]
    nxt = tail.find("\n# --- session")
    block = tail if nxt < 0 else tail[:nxt]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's where built (safe_load's rows, 9x faster)
    return [r for r in yaml.load("rows:\n" + block, Loader=loader)["rows"] or []]  # noqa: S506


def report(marker: str = MARKER) -> list[dict]:
    mine = session_rows(marker=marker)
    keys = {(r["hardware"], r["model"], r["quant"], r["test"], float(r["tokens_per_s"])): r for r in mine}
    out = []
    for row in weak_backends.rows_report(only={r["hardware"] for r in mine}):
        src = next((v for (hw, m, q, t, tps), v in keys.items()
                    if hw == row["hardware"] and q == row["quant"] and t == row["test"]
                    and abs(tps - row["measured"]) < 1e-6 and row["blind"]), None)
        if src is None or row["backend"] != "vulkan":
            continue
        mesa = weak_backends.fit_speed.row_driver(src) == "mesa"  # the row's `driver`, else its build text
        out.append(row | {"driver": "intel-mesa" if mesa else "other",
                          "url": src["url"]})
    return out


def vendor_report(vendor: str) -> list[dict]:
    """Every blind (`in_fit: false`) Vulkan row of one GPU vendor's hardware, whatever block it came in, each predicted
    as weak_backends.rows_report predicts a blind row, with (prompt rows) the matmul path the row's build takes for its
    main weight type (estimate/vulkan_path.matmul_path) and the matrix tile's token width (vulkan_path.tile), its build
    date, driver and source page. Why:
    the figure the Vulkan owners are set against ("AMD prefill blind N rows") was read off by hand from several blocks;
    this is the one list it comes from (`--vendor amd`)."""
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.estimate import vulkan_intel, vulkan_path
    from selfhost_advisor.estimate.speed import token_work

    fit_speed = weak_backends.fit_speed
    rows = {}
    for r in fit_speed.published_rows():
        if r.blind and r.backend == "vulkan" and r.machine.devices and r.machine.devices[0].vendor == vendor:
            rows.setdefault((r.hardware, r.model_id, r.quant, r.test, r.measured), r)
    rules = vulkan_path.path_rules() or {}
    urls = {(x["hardware"], x["model"], x["quant"], x["test"], float(x["tokens_per_s"])): str(x.get("url") or "")
            for x in _all_rows() if x.get("backend") == "vulkan"}
    out = []
    for row in weak_backends.rows_report(only={k[0] for k in rows}):
        r = rows.get((row["hardware"], row["model"], row["quant"], row["test"], row["measured"]))
        if r is None or row["backend"] != "vulkan" or not row["blind"]:
            continue
        d = r.machine.devices[0]
        weights: dict[str, float] = {}  # the GGML type holding most of the layers' weights
        for mats in token_work(get_model(r.model_id), get_quant(r.quant)).layer_matrices:
            for ty, n, _ in mats:
                weights[ty] = weights.get(ty, 0.0) + n
        main = max(weights, key=weights.get) if weights else ""
        # the row's build and driver, as rows_report predicts it (AMD's Windows driver never gets the large tile)
        with vulkan_path.as_of_build(r.build_date or "", r.vulkan_path), vulkan_intel.with_driver(r.driver or ""):
            path = vulkan_path.matmul_path(d, main, rules) if rules and main and row["kind"] == "prefill" else ""
            tokens = vulkan_path.tile(d, path, rules)[1] if path else 0
        out.append(row | {"path": path, "tile_tokens": tokens, "build_date": r.build_date or "",
                          "vk_architecture": vulkan_path.architecture(d) or row["architecture"],
                          "driver": r.driver or "", "override": r.vulkan_path,
                          "source": _page(urls.get((row["hardware"], row["model"], row["quant"], row["test"],
                                                    row["measured"]), ""))})
    return out


def _all_rows() -> list[dict]:
    """Every raw row of benchmarks/published/llamabench_weak.yaml."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(weak_backends.fit_speed.PUBLISHED.read_text(), Loader=loader)["rows"]  # noqa: S506


def _page(url: str) -> str:
    """The page a row was read on: a GitHub thread (owner/repo/pull|issues|discussions/N) or a repository; else the
    address as given."""
    import re

    m = re.match(r"https://github\.com/([^/]+/[^/]+)(/(?:pull|issues|discussions)/\d+)?", url or "")
    return (m.group(1) + (m.group(2) or "")) if m else (url or "")


def by_source(rows: list[dict], kind: str = "prefill", min_rows: int = 3) -> tuple[list[dict], float | None]:
    """The rows of one kind grouped by source (hardware, page, driver: one box and one author's setup), each group's
    median signed error, and the median |error| left once each group of `min_rows` or more is divided by its own
    median, (1 + e) / (1 + m) - 1 (smaller groups keep their errors). Why: the blind medians mix how wrong the model is
    about a box's level with how wrong it is about the rows' shapes (type, tile, build, depth); this separates the two
    (docs/methodology.md 5b-vkamd7)."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        if r["kind"] == kind and r["error_pct"] is not None:
            groups.setdefault((r["hardware"], r.get("source", ""), r.get("driver", "")), []).append(r["error_pct"])
    out, left = [], []
    for (hw, src, drv), errs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        med = statistics.median(errs)
        out.append({"hardware": hw, "source": src, "driver": drv, "rows": len(errs), "median_error_pct": med})
        left += ([100 * ((1 + e / 100) / (1 + med / 100) - 1) for e in errs] if len(errs) >= min_rows else errs)
    return out, (round(statistics.median(abs(e) for e in left), 1) if left else None)


def by_architecture(rows: list[dict], kind: str = "prefill") -> list[dict]:
    """The rows of one kind grouped by what ggml-vulkan runs them on: the GPU architecture as the path model reads it
    (vulkan_path.architecture: the spec table's, or an APU's by profile prefix), the matmul path and the tile's token
    width; each group's rows, median signed error and median |error|. Why: the by-source table says the error is a
    level per box; this one says which hardware and kernel configuration the levels share (docs/methodology.md
    5b-vkamd14: the RDNA 3.5 large-tile coopmat rows)."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        if r["kind"] == kind and r["error_pct"] is not None:
            key = (r.get("vk_architecture") or r["architecture"], r.get("path") or "", int(r.get("tile_tokens") or 0))
            groups.setdefault(key, []).append(r["error_pct"])
    return [{"architecture": a, "path": p, "tile_tokens": t, "rows": len(errs),
             "median_error_pct": round(statistics.median(errs), 1),
             "median_abs_error_pct": round(statistics.median(abs(e) for e in errs), 1)}
            for (a, p, t), errs in sorted(groups.items())]


def _median(rows: list[dict]) -> tuple[int, float | None]:
    a = [abs(r["error_pct"]) for r in rows if r["error_pct"] is not None]
    return len(a), (round(statistics.median(a), 1) if a else None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--block", choices=sorted(BLOCKS), default="vkgcn")
    ap.add_argument("--vendor", choices=("amd", "intel", "nvidia"),
                    help="every blind Vulkan row of this vendor's GPUs, all blocks, with its path (not --block)")
    args = ap.parse_args()
    if args.vendor:
        return _print_vendor(vendor_report(args.vendor), args.json, by_arch=args.vendor == "amd")
    rows = report(BLOCKS[args.block])
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['architecture'][:9]:9} {r['hardware'][:22]:22} {r['model']:12} {r['quant']:6} {r['test']:12} "
              f"measured {r['measured']:8.2f}  error {r['error_pct']:+7.1f}%  {r['driver']}")
    for kind in ("decode", "prefill"):
        every = [r for r in rows if r["kind"] == kind]
        n, m = _median(every)
        n2, m2 = _median([r for r in every if r["driver"] != "intel-mesa"])
        print(f"{kind:8} {n:2d} rows median |error| {m}%  | without Intel Mesa rows: {n2} rows median {m2}%")
    return 0


def _print_vendor(rows: list[dict], as_json: bool, by_arch: bool = False) -> int:
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in sorted(rows, key=lambda r: (r["kind"], r["architecture"], r["hardware"], r["build_date"])):
        print(f"{r['kind']:7} {r['architecture'][:9]:9} {r['hardware'][:22]:22} {r['model'][:14]:14} {r['quant']:7} "
              f"{r['test'][:12]:12} {r['build_date']:10} {r['driver'][:7]:7} {(r['path'] or '-') + (' ' + r['override'] if r['override'] else ''):16} "
              f"BN {r['tile_tokens']:3d}  measured {r['measured']:8.2f}  error {r['error_pct']:+7.1f}%")
    for kind in ("decode", "prefill"):
        every = [r for r in rows if r["kind"] == kind]
        n, m = _median(every)
        print(f"{kind:8} {n:3d} rows median |error| {m}%")
        for path in sorted({r["path"] for r in every if r["path"]}):
            n, m = _median([r for r in every if r["path"] == path])
            print(f"    {path or '(none)':16} {n:3d} rows median |error| {m}%")
    if by_arch:  # AMD's list only: the Intel and NVIDIA lists keep their owners' output (the function takes any rows)
        print("prefill by architecture, path and tile: rows, median signed error, median |error|")
        for g in by_architecture(rows):
            print(f"    {g['rows']:3d}  {g['median_error_pct']:+7.1f}%  {g['median_abs_error_pct']:6.1f}%  "
                  f"{g['architecture'][:9]:9} {g['path'] or '-':16} BN {g['tile_tokens']:3d}")
    groups, left = by_source(rows)
    print("prefill by source (hardware, page, driver): rows, median signed error")
    for g in groups:
        print(f"    {g['rows']:3d}  {g['median_error_pct']:+7.1f}%  {g['hardware'][:24]:24} {g['source'][:52]:52} {g['driver']}")
    print(f"prefill |error| left within sources (each group of 3+ rows over its own median): {left}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
