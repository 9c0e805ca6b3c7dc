"""The Metal decode model against ggerganov's own M2 Ultra before / after tables in llama.cpp PRs, by build date
(docs/methodology.md 5e-metald30). These are no scorer's rows: each PR table's "master" and "PR" columns are two
builds of one day on one machine, read to size what a change saves per layer and to see where the model's level sits
at each date, not to fit anything.

Usage: python benchmarks/metal_pr_levels.py [--json]
Prints every column predicted at its build date (the model's error), then per PR the time a decoded token saved over
its dense rows' layers (us a layer, and that in the calibration's step time: metal_dispatch's fitted layer time / 17).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

# (pr, date of the build the table ran, url, model, quant, test, t/s master, t/s PR, dense), read in the PRs' own
# descriptions (ggerganov, Apple M2 Ultra). The date: the 2026 PRs' description day (their master of that day); PR
# #10238 its ggml sync (7d45ac2c, 2024-11-17; any 2024 date is the same to the model); PR #15857 a day before PR
# #15929's 2025-09-13, as it merged first (ggml-org/ggml: 941aa118 is an ancestor of 0cf54594), so its master predates
# the concurrent encoder. `tg1` stands for llama-bench's pp1 (one token a batch). Rows whose figure the excerpt read
# cut off are not listed (PR #19390's Gemma 3 and tg32 rows, PR #19555's Qwen3 0.6B tg32).
TABLES = (
    (10238, "2024-11-17", "https://github.com/ggml-org/llama.cpp/pull/10238", "qwen2:1.5b", "Q8_0", "tg128", 156.96, 171.44, True),
    (10238, "2024-11-17", "https://github.com/ggml-org/llama.cpp/pull/10238", "qwen2:7b", "Q4_K_M", "tg128", 85.34, 90.79, True),
    (10238, "2024-11-17", "https://github.com/ggml-org/llama.cpp/pull/10238", "qwen2:7b", "Q8_0", "tg1", 67.31, 70.27, True),
    (15857, "2025-09-12", "https://github.com/ggml-org/llama.cpp/pull/15857", "qwen2:7b", "Q8_0", "tg32", 71.87, 76.35, True),
    (15857, "2025-09-12", "https://github.com/ggml-org/llama.cpp/pull/15857", "qwen3:4b", "Q8_0", "tg32", 100.36, 105.36, True),
    (15857, "2025-09-12", "https://github.com/ggml-org/llama.cpp/pull/15857", "gemma3:12b", "Q8_0", "tg32", 42.12, 42.97, True),
    (19369, "2026-02-05", "https://github.com/ggml-org/llama.cpp/pull/19369", "gemma3:1b", "Q4_0", "tg32", 221.23, 229.51, True),
    (19369, "2026-02-05", "https://github.com/ggml-org/llama.cpp/pull/19369", "gemma3:4b", "Q4_0", "tg32", 136.59, 140.30, True),
    (19369, "2026-02-05", "https://github.com/ggml-org/llama.cpp/pull/19369", "gpt-oss:120b", "MXFP4_MOE", "tg32", 87.14, 89.91, False),
    (19390, "2026-02-06", "https://github.com/ggml-org/llama.cpp/pull/19390", "qwen3:0.6b", "Q4_0", "tg1", 274.60, 325.97, True),
    (19390, "2026-02-06", "https://github.com/ggml-org/llama.cpp/pull/19390", "gpt-oss:20b", "MXFP4_MOE", "tg32", 134.61, 133.25, False),
    (19555, "2026-02-12", "https://github.com/ggml-org/llama.cpp/pull/19555", "gemma3:1b", "Q4_0", "tg32", 231.27, 239.56, True),
    (19555, "2026-02-12", "https://github.com/ggml-org/llama.cpp/pull/19555", "gemma3:4b", "Q4_0", "tg32", 141.79, 144.30, True),
    (19555, "2026-02-12", "https://github.com/ggml-org/llama.cpp/pull/19555", "gpt-oss:20b", "MXFP4_MOE", "tg32", 133.24, 132.79, False),
    (19555, "2026-02-12", "https://github.com/ggml-org/llama.cpp/pull/19555", "gpt-oss:120b", "MXFP4_MOE", "tg32", 89.09, 88.71, False),
)
HARDWARE = "m2 ultra 76c 192gb"  # ggerganov's machine; its GPU bin is not printed (76 assumed, as unseen_s27_b1_metal.yaml)


def rows() -> list[dict]:
    """Each column of TABLES predicted at its build date through fit_speed.published_rows / predict (the scorers'
    path): pr, date, model, quant, test, column (master / PR), measured, predicted, error_pct, layers, dense."""
    import fit_speed
    from selfhost_advisor.catalog.models import get as get_model

    raw = []
    for pr, date, url, model, quant, test, master, after, dense in TABLES:
        for column, tps in (("master", master), ("PR", after)):
            raw.append({"hardware": HARDWARE, "backend": "metal", "build_date": date, "model": model, "quant": quant,
                        "test": test, "tokens_per_s": tps, "held_out": True, "in_fit": False, "url": url,
                        "note": f"PR #{pr} {column}"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metal_pr_levels.yaml"
        path.write_text(json.dumps({"rows": raw}))  # JSON is YAML: fit_speed.published_rows reads it as a rows file
        predicted = [fit_speed.predict(r) for r in fit_speed.published_rows(path)]
    out = []
    for r, p, (pr, date, _url, model, quant, test, _m, _a, dense) in zip(
            raw, predicted, [t for t in TABLES for _ in (0, 1)], strict=True):
        out.append({"pr": pr, "date": date, "model": model, "quant": quant, "test": test,
                    "column": r["note"].split()[-1], "measured": r["tokens_per_s"], "predicted": p,
                    "error_pct": 100.0 * (p / r["tokens_per_s"] - 1), "layers": get_model(model).n_layers,
                    "dense": dense})
    return out


def layer_savings(table=TABLES) -> dict[int, list[float]]:
    """Per PR, the seconds a decoded token saved per layer on each dense row: (1 / master - 1 / PR) / layers."""
    from selfhost_advisor.catalog.models import get as get_model

    out: dict[int, list[float]] = {}
    for pr, _date, _url, model, _quant, _test, master, after, dense in table:
        if dense:
            out.setdefault(pr, []).append((1.0 / master - 1.0 / after) / get_model(model).n_layers)
    return out


def step_seconds() -> float:
    """The calibration's time of one serial step on an M1 / M2: the fitted Metal layer time / metal_dispatch's
    calibration_steps (estimate/metal_path.layer_scale's unit)."""
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.estimate.speed import efficiency

    return efficiency("metal").layer_s / float(load("speed")["metal_dispatch"]["calibration_steps"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rs, savings, step = rows(), layer_savings(), step_seconds()
    if a.json:
        print(json.dumps({"rows": rs, "layer_savings_us": {k: [1e6 * x for x in v] for k, v in savings.items()},
                          "step_us": 1e6 * step}, indent=1))
        return 0
    for r in rs:
        print(f"#{r['pr']:<6} {r['date']} {r['model']:13} {r['quant']:9} {r['test']:6} {r['column']:6} "
              f"measured {r['measured']:8.2f} predicted {r['predicted']:8.2f} {r['error_pct']:+6.1f}%"
              + ("" if r["dense"] else "  (MoE)"))
    print(f"calibration step: {1e6 * step:.2f} us (M1 / M2)")
    for pr, v in savings.items():
        us = [1e6 * x for x in v]
        print(f"#{pr}: dense rows save {', '.join(f'{x:.1f}' for x in us)} us a layer "
              f"(mean {statistics.mean(us):.1f} us = {statistics.mean(us) / (1e6 * step):.2f} steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
