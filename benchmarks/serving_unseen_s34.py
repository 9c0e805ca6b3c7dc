"""Session 34's unseen published vLLM serving rows (benchmarks/published/serving_unseen_s34.yaml), each predicted by the
SHIPPED serving model exactly as benchmarks/serving_accuracy.py scores its held-out rows (serving_accuracy.outcome), and
summarised the way issue 14 / 15 track them (docs/methodology.md "Session 34 (serve34)").

Usage: python benchmarks/serving_unseen_s34.py [--json]
Throughput rows: ours / published tokens/s, the median, how many lie within 0.8-1.25 and 0.5-2x, dense and MoE apart,
per source and GPU (the id's first two words). Single-stream rows: ours /
published decode tokens/s (issue 15: within 15 %). Where a row states its mean TPOT / TTFT: ours / published, and the
row's TTFT compute floor (serving_accuracy.ttft_floor_s), so runs that prefilled less than they state show. A row the
model refuses (NotSizedModelError) or cannot score (any other exception) is listed with the reason and counted in no
median. The rows were written down before anything could see them and join no fit.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import serving_unseen_s32 as s32  # noqa: E402  (session 32's scorer: scored / summary / main over this file's rows)
from serving_unseen_s32 import summary  # noqa: E402,F401  (the tests read s34.summary)

FILE = ROOT / "benchmarks" / "published" / "serving_unseen_s34.yaml"


def rows() -> list[dict]:
    return yaml.safe_load(FILE.read_text())["rows"]


def group(row: dict) -> str:
    """The publisher and the GPU (recipes mi300x / recipes h200: the page the row came from)."""
    parts = row["id"].split("-")
    return f"{parts[0]} {parts[1]}"


def scored() -> tuple[list[dict], list[dict]]:
    """(one dict per scored row, one per row the model refused or could not score), by session 32's scorer."""
    return s32.scored(rows(), group)


def main() -> int:
    return s32.main(scored())


if __name__ == "__main__":
    raise SystemExit(main())
