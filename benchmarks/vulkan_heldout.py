"""Vulkan rows held out by session 12 (vkgcn): each row's error under the shipped model, decode and prefill apart
(docs/methodology.md 5b-vkgcn).

Usage: python benchmarks/vulkan_heldout.py [--json] [--block vkgcn|vkamd|vkintel|vkintel2|vkamd2|vkintel3|vkintel4|vkintel4nv|vkamd3|vkamd4|vkintel5|vkamd5|vkamd6|vkintel6]
The rows are those of benchmarks/published/llamabench_weak.yaml in the block after the line `# --- session 12: vkgcn`
(up to the next session's line; `--block vkamd`: session 13's AMD block, docs/methodology.md 5b-vkamd; `--block
vkintel` / `vkintel2`: its Intel blocks, 5b-vkintel; `--block vkamd2`: session 14's AMD block, 5b-vkamd2; `--block
vkintel3`: session 14's Intel and NVIDIA block, 5b-vkintel2; `--block vkintel4`: session 15's Intel block, `vkintel4nv` its NVIDIA block, 5b-vkintel3;
`--block vkamd3`: session 15's AMD block, 5b-vkamd3; `--block vkamd4`: session 16's block, 5b-vkamd4), all
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
          "vkintel6": "# --- session 18: vkintel6"}


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


def _median(rows: list[dict]) -> tuple[int, float | None]:
    a = [abs(r["error_pct"]) for r in rows if r["error_pct"] is not None]
    return len(a), (round(statistics.median(a), 1) if a else None)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--block", choices=sorted(BLOCKS), default="vkgcn")
    args = ap.parse_args()
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


if __name__ == "__main__":
    raise SystemExit(main())
