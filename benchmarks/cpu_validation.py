"""Ours vs llama-bench on this CPU: `advisor fit` fed the `probe --measure` figures taken just before each llama-bench
run (benchmarks/cpu_llamabench.jsonl: a {"load", "model", "quant", "threads", "measure": [bytes/s, FLOPS]} line, then
llama-bench's JSONL for pp128 and tg16). Prints one row per run: measured, predicted, error.

    python benchmarks/cpu_validation.py [benchmarks/cpu_llamabench.jsonl]
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.api import fit  # noqa: E402


def predict(model: str, quant: str, bw: float, flops: float) -> tuple[float, float]:
    doc = {"schema_version": "1.3.0", "devices": [], "cpu": {"name": "this CPU"}, "ram_bytes": 24 * 10**9,
           "available_ram_bytes": 20 * 10**9, "ram_bandwidth_bytes_per_s": int(bw), "cpu_flops": flops,
           "host_speed_source": "measured: cpu_validation.py", "warnings": []}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(doc, fh)
    r = fit(model, fh.name, quant=quant, context=256)
    s = r.options[0].speed
    return s.decode_tokens_per_s, s.prefill_tokens_per_s


def main(path: str) -> int:
    head = None
    print("| model | quant | threads | load (1 min) | copy GB/s | GEMM GFLOPS | llama-bench pp128 | ours | err | "
          "llama-bench tg16 | ours | err |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    rows: dict = {}
    for line in Path(path).read_text().splitlines():
        d = json.loads(line)
        if "load" in d:
            head = d
            rows[id(d)] = {}
            continue
        key = "pp" if d["n_prompt"] else "tg"
        rows[id(head)][key] = d["avg_ts"]
        if len(rows[id(head)]) == 2:
            bw, flops = head["measure"]
            dec, pre = predict(head["model"], head["quant"], bw, flops)
            pp, tg = rows[id(head)]["pp"], rows[id(head)]["tg"]
            print(f"| {head['model']} | {head['quant']} | {head['threads']} | {head['load'].split()[0]} | {bw / 1e9:.1f} | "
                  f"{flops / 1e9:.0f} | {pp:.1f} | {pre:.1f} | {100 * (pre / pp - 1):+.0f}% | {tg:.2f} | {dec:.2f} | "
                  f"{100 * (dec / tg - 1):+.0f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "benchmarks" / "cpu_llamabench.jsonl")))
