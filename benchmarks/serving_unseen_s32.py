"""Session 32's unseen published vLLM serving rows (benchmarks/published/serving_unseen_s32.yaml), each predicted by the
SHIPPED serving model exactly as benchmarks/serving_accuracy.py scores its held-out rows (serving_accuracy.outcome), and
summarised the way issue 14 / 15 track them (docs/methodology.md 5-serve-unseen32).

Usage: python benchmarks/serving_unseen_s32.py [--json]
Throughput rows: ours / published tokens/s, the median, how many lie within 0.8-1.25 and 0.5-2x, dense and MoE apart,
per source (the id's first word), and per dennislee test (the KV pool the run was given). Single-stream rows: ours /
published decode tokens/s (issue 15: within 15 %). Where a row states its mean TPOT / TTFT: ours / published, and the
row's TTFT compute floor (serving_accuracy.ttft_floor_s), so runs that prefilled less than they state show. A row the
model refuses (NotSizedModelError) or cannot score (any other exception) is listed with the reason and counted in no
median. The rows were written down before anything could see them and join no fit.
"""
from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import serving_accuracy as acc  # noqa: E402

FILE = ROOT / "benchmarks" / "published" / "serving_unseen_s32.yaml"


def rows() -> list[dict]:
    return yaml.safe_load(FILE.read_text())["rows"]


def source(row: dict) -> str:
    """The publisher: the id's first word (dennislee, tt125, tt143, tt379, kubis)."""
    return row["id"].split("-")[0]


def group(row: dict) -> str:
    """The source, and for dennislee the test (t4 / t5 / t7: the KV pool the run had)."""
    parts = row["id"].split("-")
    if parts[0] == "dennislee":
        return f"dennislee {[p for p in parts if p in ('t4', 't5', 't7')][0]}"
    return parts[0]


def scored(file_rows: list[dict] | None = None, grouping=None) -> tuple[list[dict], list[dict]]:
    """(one dict per scored row, one per row the model refused or could not score): this file's rows by group(), or
    another session's rows by its own grouping (serving_unseen_s34 scores its file here)."""
    from selfhost_advisor.errors import NotSizedModelError

    grouping = grouping or group
    out, failed = [], []
    for r in (rows() if file_rows is None else file_rows):
        try:
            ours, tpot_s, ttft_s = acc.outcome(r)
            floor = acc.ttft_floor_s(r) if r.get("ttft_ms") else None
        except NotSizedModelError as e:
            failed.append({"id": r["id"], "why": f"refused: {e}"})
            continue
        except Exception as e:  # noqa: BLE001 - a crash is a finding for the lead, not a reason to stop scoring
            failed.append({"id": r["id"], "why": f"{type(e).__name__}: {e}"})
            continue
        pub = float(r["published"])
        out.append({"id": r["id"], "kind": r["kind"], "model": r["model"], "hardware": r["hardware"],
                    "gpus": int(r["gpus"]), "moe": acc._moe(r), "source": source(r), "group": grouping(r),
                    "concurrency": int(r["concurrency"]), "published": pub, "ours": ours,
                    "ratio": ours / pub if pub else None,
                    "tpot_ratio": tpot_s * 1e3 / float(r["tpot_ms"]) if tpot_s and r.get("tpot_ms") else None,
                    "ttft_ratio": ttft_s * 1e3 / float(r["ttft_ms"]) if ttft_s and r.get("ttft_ms") else None,
                    "under_floor": (float(r["ttft_ms"]) / 1e3 < floor) if floor is not None else None})
    return out, failed


def stats(xs: list[float]) -> dict:
    """n, median ours / published, median |ln ratio|, rows within 0.8-1.25 and within 0.5-2x."""
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "median": statistics.median(xs),
            "median_abs_ln": statistics.median(abs(math.log(x)) for x in xs if x > 0) if any(x > 0 for x in xs) else None,
            "within_0.8_1.25": sum(0.8 <= x <= 1.25 for x in xs), "within_0.5_2": sum(0.5 <= x <= 2.0 for x in xs),
            "min": min(xs), "max": max(xs)}


def summary(out: list[dict]) -> dict:
    thr = [o for o in out if o["kind"] == "throughput" and o["ratio"] is not None]
    ss = [o for o in out if o["kind"] == "single_stream" and o["ratio"] is not None]
    res = {"throughput": stats([o["ratio"] for o in thr]),
           "throughput_dense": stats([o["ratio"] for o in thr if not o["moe"]]),
           "throughput_moe": stats([o["ratio"] for o in thr if o["moe"]]),
           "single_stream": stats([o["ratio"] for o in ss]),
           "single_stream_within_15pct": sum(abs(o["ratio"] - 1) <= 0.15 for o in ss),
           "single_stream_dense": stats([o["ratio"] for o in ss if not o["moe"]]),
           "single_stream_moe": stats([o["ratio"] for o in ss if o["moe"]]),
           "tpot": stats([o["tpot_ratio"] for o in out if o["tpot_ratio"]]),
           "ttft_at_or_above_floor": stats([o["ttft_ratio"] for o in out if o["ttft_ratio"] and not o["under_floor"]]),
           "ttft_under_floor": stats([o["ttft_ratio"] for o in out if o["ttft_ratio"] and o["under_floor"]]),
           "by_group": {}}
    for g in sorted({o["group"] for o in out}):
        res["by_group"][g] = {k: stats([o["ratio"] for o in out if o["group"] == g and o["kind"] == k])
                              for k in ("throughput", "single_stream")}
    return res


def _fmt(s: dict) -> str:
    if not s.get("n"):
        return "n= 0"
    return (f"n={s['n']:2d}  median {s['median']:.3f} [|ln| {s['median_abs_ln']:.3f}]  0.8-1.25 {s['within_0.8_1.25']:2d}  "
            f"0.5-2x {s['within_0.5_2']:2d}  range {s['min']:.2f}-{s['max']:.2f}")


def main(result: tuple[list[dict], list[dict]] | None = None) -> int:
    """Print (or with --json dump) the scored rows, the refusals and the summary; `result`: another session's scored()."""
    out, failed = scored() if result is None else result
    if "--json" in sys.argv[1:]:
        print(json.dumps({"rows": out, "failed": failed, "summary": summary(out)}, indent=1, sort_keys=True))
        return 0
    for kind in ("throughput", "single_stream"):
        print(f"\n{kind} rows (ours / published)")
        for o in out:
            if o["kind"] != kind:
                continue
            extra = ""
            if o["tpot_ratio"]:
                extra += f"  TPOT {o['tpot_ratio']:5.2f}"
            if o["ttft_ratio"]:
                extra += f"  TTFT {o['ttft_ratio']:6.2f}" + (" [published under floor]" if o["under_floor"] else "")
            print(f"  {o['id']:48s} {'MoE' if o['moe'] else 'dense':5s} c={o['concurrency']:<4d} published "
                  f"{o['published']:9.2f}  ours {o['ours']:9.2f}  ratio {o['ratio']:5.2f}{extra}")
    if failed:
        print("\nrows the model refused or could not score (in no median):")
        for f in failed:
            print(f"  {f['id']:48s} {f['why']}")
    s = summary(out)
    print("\nsummary")
    for key in ("throughput", "throughput_dense", "throughput_moe", "single_stream", "single_stream_dense",
                "single_stream_moe", "tpot", "ttft_at_or_above_floor", "ttft_under_floor"):
        print(f"  {key:24s} {_fmt(s[key])}")
    print(f"  single-stream rows within 15 %: {s['single_stream_within_15pct']} of {s['single_stream'].get('n', 0)}")
    print("\nby source / test")
    for g, d in s["by_group"].items():
        for k, st in d.items():
            if st.get("n"):
                print(f"  {g:16s} {k:14s} {_fmt(st)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
