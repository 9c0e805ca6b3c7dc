"""Small models (<= 9B) on large GPUs: every row held out (issue 16; docs/methodology.md 5-smallmat).

Usage: python benchmarks/small_on_big.py [--json]
Scores benchmarks/published/small_on_big.yaml (server decode rows and a llama-bench row, all held out, none fitted on)
and the small-model rows of llamabench_weak.yaml on large GPUs (the MI355X pair, rocm2's held-out rows), and prints
the signed error of each with the medians per group (llama-bench rows apart from the server ones). A server row is
predicted as llama-bench's figure plus llama-server's host-side sampling per token (estimate/server_host.py, session 13);
its llama-bench figure is kept as `predicted_llama_bench`. "(before)" is each row's error before any change of the
session that added it: session 12's (small_on_big_before.json), else session 13's blind score (small_on_big_s13_blind.json).
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

FILES = (ROOT / "benchmarks" / "published" / "small_on_big.yaml", ROOT / "benchmarks" / "published" / "llamabench_weak.yaml")
BEFORE = ROOT / "benchmarks" / "small_on_big_before.json"  # main 4545c07, scored before smallmat changed anything
BLIND_S13 = ROOT / "benchmarks" / "small_on_big_s13_blind.json"  # main db6692d, before dcfloor changed anything
_SMALL = (":0.5b", ":0.6b", ":1b", ":1.5b", ":1.7b", ":2b", ":3b", ":4b")


def rows() -> list[dict]:
    import moe_accuracy
    from selfhost_advisor.catalog.models import get as get_model
    from contextlib import nullcontext

    from selfhost_advisor.estimate.kernel_path import at_build, fa_stated, served
    from selfhost_advisor.estimate.server_host import served_decode_tokens_per_s

    out = []
    for path in FILES:
        for r in moe_accuracy.published_rows(path):
            if path.name == "llamabench_weak.yaml" and not (r["model"].endswith(_SMALL) and "mi3" in r["hardware"]):
                continue
            # a llama-server row takes that tool's flash-attention default (kernel_path.served); a stated -fa
            # (moe_accuracy.published_rows' `fa`, fit_speed.row_fa) overrides either default, as fit_speed.predict
            with at_build(r.get("build_date")), (served() if r.get("via") == "server" else nullcontext()), \
                    fa_stated(r.get("fa")):
                pred = moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"], int(r.get("n_ubatch", 512)))
            bench = pred
            if r.get("via") == "server" and r["test"].startswith("tg"):  # llama-server samples each token on the host
                pred = served_decode_tokens_per_s(pred, get_model(r["model"]))
            out.append({"hardware": r["hardware"], "model": r["model"], "quant": r["quant"], "test": r["test"],
                        "via": r.get("via", "llama-bench"), "session": int(r.get("session", 12)),
                        "measured": float(r["tokens_per_s"]), "predicted": pred, "predicted_llama_bench": bench,
                        "error_pct": 100 * (pred / float(r["tokens_per_s"]) - 1)})
    return out


def main() -> int:
    rs = rows()
    if "--json" in sys.argv:
        print(json.dumps(rs, indent=1))
        return 0
    key = lambda b: (b["hardware"], b["model"], b["quant"], b["test"])  # noqa: E731
    before = {key(b): b["error_pct"] for b in json.loads(BLIND_S13.read_text())}
    before.update({key(b): b["error_pct"] for b in json.loads(BEFORE.read_text())})
    print("hardware         model            quant   test   via          measured predicted   error  (before)")
    for r in rs:
        was = before.get((r["hardware"], r["model"], r["quant"], r["test"]))
        print(f"{r['hardware']:16} {r['model']:16} {r['quant']:7} {r['test']:6} {r['via']:11} "
              f"{r['measured']:9.1f} {r['predicted']:9.1f} {r['error_pct']:+7.1f}%"
              + (f"  ({was:+.1f}%)" if was is not None else ""))
    for via in ("llama-bench", "server"):
        for kind in ("pp", "tg"):
            sel = [r for r in rs if r["via"] == via and r["test"].startswith(kind)]
            if sel:
                old = [abs(before[k]) for k in ((r["hardware"], r["model"], r["quant"], r["test"]) for r in sel)
                       if k in before]
                print(f"{via} {kind}: {len(sel)} rows, median |error| "
                      f"{statistics.median(abs(r['error_pct']) for r in sel):.1f}%"
                      + (f" (before any change: {statistics.median(old):.1f}%)" if old else ""))
    server = [r for r in rs if r["via"] == "server"]
    groups = {"session 12 rows": lambda r: r["session"] == 12, "session 13 rows": lambda r: r["session"] == 13,
              "H100 / H200 / B300": lambda r: r["hardware"].startswith(("h100", "h200", "b300")),
              "A100": lambda r: r["hardware"].startswith("a100"), "other GPUs": lambda r: not r["hardware"].startswith(
                  ("h100", "h200", "b300", "a100"))}
    for name, pick in groups.items():
        sel = [r for r in server if pick(r)]
        if sel:
            print(f"server tg, {name}: {len(sel)} rows, median |error| {statistics.median(abs(r['error_pct']) for r in sel):.1f}%,"
                  f" median signed {statistics.median(r['error_pct'] for r in sel):+.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
