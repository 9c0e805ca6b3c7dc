"""Ours vs llama-bench on this CPU: `advisor fit` fed the `probe --measure` figures taken just before each llama-bench
run. Prints one row per run: measured, predicted, ratio (ours / measured).

    python benchmarks/cpu_validation.py                     # the stored rows (benchmarks/cpu_llamabench.jsonl)
    python benchmarks/cpu_validation.py --run --llama-bench PATH [--threads N] [--out FILE]

--run measures afresh (a few minutes on a desktop; a 2-core VM took about 4): for each of llama3.2:1b Q4_K_M and Q8_0
and llama3.2:3b Q4_K_M it writes a synthetic GGUF with the catalog's exact layout (benchmarks/device/make_gguf.py),
runs the probe's measurement, then `llama-bench -p 128 -n 16 -r 2 -t N` (N: the probe's usable CPUs), records the
1-minute load average, and prints the table; --out also saves the rows in the stored format. llama-bench is not
built by this script (a CPU build of llama.cpp; see docs/methodology.md 4d).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.api import fit  # noqa: E402

RUNS = (("llama3.2:1b", "Q4_K_M"), ("llama3.2:1b", "Q8_0"), ("llama3.2:3b", "Q4_K_M"))


def _flags() -> list[str]:
    from selfhost_advisor.probe.cpu import probe_cpu

    return list(probe_cpu().flags)


def predict(model: str, quant: str, bw: float, flops: float, flags: list[str]) -> tuple[float, float]:
    doc = {"schema_version": "1.3.0", "devices": [], "cpu": {"name": "this CPU", "flags": flags},
           "ram_bytes": 24 * 10**9, "available_ram_bytes": 20 * 10**9, "ram_bandwidth_bytes_per_s": int(bw),
           "cpu_flops": flops, "host_speed_source": "measured: cpu_validation.py", "warnings": []}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(doc, fh)
    try:
        r = fit(model, fh.name, quant=quant, context=256)
    finally:
        os.unlink(fh.name)
    s = r.options[0].speed
    return s.decode_tokens_per_s, s.prefill_tokens_per_s


def _row(head: dict, pp: float, tg: float, flags: list[str]) -> str:
    bw, flops = head["measure"]
    dec, pre = predict(head["model"], head["quant"], bw, flops, head.get("flags", flags))
    return (f"| {head['model']} | {head['quant']} | {head['threads']} | {head['load'].split()[0]} | {bw / 1e9:.1f} | "
            f"{flops / 1e9:.0f} | {pp:.1f} | {pre:.1f} | {pre / pp:.2f} | {tg:.2f} | {dec:.2f} | {dec / tg:.2f} |")


HEADER = ("| model | quant | threads | load (1 min) | copy GB/s | GEMM GFLOPS | llama-bench pp128 | ours | ratio | "
          "llama-bench tg16 | ours | ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def stored(path: str) -> int:
    flags = _flags()
    print(HEADER)
    head, got = None, {}
    for line in Path(path).read_text().splitlines():
        d = json.loads(line)
        if "load" in d:
            head, got = d, {}
            continue
        got["pp" if d["n_prompt"] else "tg"] = d["avg_ts"]
        if len(got) == 2:
            print(_row(head, got["pp"], got["tg"], flags))
    return 0


def run(bench: str, threads: int | None, out: str | None) -> int:
    from selfhost_advisor.probe.measure import measure, usable_cpus

    flags = _flags()
    threads = threads or usable_cpus()
    lines = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for model, quant in RUNS:
            gguf = Path(tmp) / f"{model.replace(':', '_')}-{quant}.gguf"
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device" / "make_gguf.py"), model, quant,
                            str(gguf)], check=True, stdout=subprocess.DEVNULL)
            m = measure()
            head = {"load": " ".join(f"{x:.2f}" for x in os.getloadavg()), "model": model, "quant": quant,
                    "threads": threads, "measure": [m.ram_bandwidth_bytes_per_s, m.matmul_flops], "flags": flags}
            res = subprocess.run([bench, "-m", str(gguf), "-t", str(threads), "-p", "128", "-n", "16", "-r", "2",
                                  "-o", "jsonl"], check=True, capture_output=True, text=True)
            tests = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
            pp = next(t["avg_ts"] for t in tests if t["n_prompt"])
            tg = next(t["avg_ts"] for t in tests if t["n_gen"])
            print(_row(head, pp, tg, flags), flush=True)
            lines += [json.dumps(head)] + [json.dumps(t) for t in tests]
            gguf.unlink()
    if out:
        Path(out).write_text("\n".join(lines) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(ROOT / "benchmarks" / "cpu_llamabench.jsonl"))
    ap.add_argument("--run", action="store_true", help="measure afresh with --llama-bench")
    ap.add_argument("--llama-bench", dest="bench", help="path of a CPU llama-bench binary")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    if a.run:
        if not a.bench:
            ap.error("--run needs --llama-bench PATH")
        return run(a.bench, a.threads, a.out)
    return stored(a.path)


if __name__ == "__main__":
    sys.exit(main())
