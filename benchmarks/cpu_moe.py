"""MoE prefill on the CPU of this machine: llama-bench on synthetic MoE GGUFs against our estimate (docs/methodology.md
5c-weak, "CPU").

    python benchmarks/cpu_moe.py --llama-bench PATH [--out benchmarks/cpu_moe.jsonl]   # measure (minutes)
    python benchmarks/cpu_moe.py --report [benchmarks/cpu_moe.jsonl]                    # score the stored rows

Each file is a catalog model's exact layout with synthetic weights (benchmarks/device/make_gguf.py). It is timed as
benchmarks/cpu_kernels.py times the dense kernels: `llama-bench -t 1 -p N -n 0` with 1 and with 4 repetitions, the
difference in CPU seconds (wait4 rusage) being three prompt batches, which neighbours on a shared machine cannot
inflate. On the CPU the cost of an MoE layer does not depend on how the router spreads the tokens (ggml-cpu runs
every token-expert pair through the same kernel; nothing is padded), so synthetic routing does not bias it as it
does on a GPU (docs/methodology.md 5c). A dense model of the same run is the anchor: its miss is the dense model's.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from selfhost_advisor.catalog.models import get  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.domain import CpuInfo, Machine, Placement  # noqa: E402
from selfhost_advisor.estimate.speed import estimate_speed  # noqa: E402

ROWS = ROOT / "benchmarks" / "cpu_moe.jsonl"
# OLMoE 1B-7B: 64 experts, 8 used, 1.3B of 6.9B weights active; qwen2.5:0.5b, dense, the anchor. (make_gguf's
# granite3.1-moe:1b lacks granitemoe.logit_scale and does not load.)
FILES = (("qwen2.5:0.5b", "Q4_0"), ("qwen2.5:0.5b", "Q8_0"), ("olmoe:7b", "Q4_0"), ("olmoe:7b", "Q8_0"),
         ("olmoe:7b", "Q4_K_M"))


def _flags() -> tuple[str, ...]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return tuple(f for f in line.split(":", 1)[-1].split() if f in ("avx2", "fma", "avx_vnni", "avx512f", "avx512bw",
                                                                    "avx512_vnni"))


# the one-thread memchr read stream of this machine with the same llama.cpp the same day: 13.8-14.5 GB/s in the
# decode rows of benchmarks/cpu_kernels.jsonl (probe/hostrate.py); one thread, so it is also the whole host's stream
THREAD_STREAM = 14.0e9


def host(clock_hz: float, flags: tuple[str, ...]) -> Machine:
    """One thread of this machine at the measured clock (the rows are per CPU-second of one thread)."""
    return Machine(name="this machine, 1 thread", devices=(), ram_bytes=24 * 2**30,
                   ram_bandwidth_bytes_per_s=int(THREAD_STREAM), cpu=CpuInfo(name="probe", flags=flags),
                   source="probe", cpu_clock_hz=clock_hz, cpu_threads=1,
                   cpu_thread_bandwidth_bytes_per_s=int(THREAD_STREAM))


def predict(row: dict) -> float:
    model = get(row["model"])
    pl = Placement("cpu", 0, model.n_layers + 1, 0, 0)
    decode = row.get("test", "").startswith("tg")
    sp = estimate_speed(model, get_quant(row["quant"]), pl, host(row["clock_hz"], tuple(row["flags"])),
                        prefill_depth=row["tokens"] // 2, n_ubatch=max(1, row["tokens"]),
                        decode_depth=row["tokens"] // 2)
    return sp.decode_tokens_per_s if decode else sp.prefill_tokens_per_s


def measure(bench: str, out: str | None, tokens: int, decode: bool = False) -> int:
    from cpu_kernels import _cpu_seconds
    from selfhost_advisor.probe.hostrate import core_clock_hz

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model, quant in FILES:
            gguf = Path(tmp) / f"{model.replace(':', '_')}-{quant}.gguf"
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device" / "make_gguf.py"), model, quant,
                            str(gguf)], check=True, stdout=subprocess.DEVNULL)
            clock0 = core_clock_hz() or 0.0
            load = os.getloadavg()[0]
            args = ["-p", str(tokens), "-n", "0"] if not decode else ["-p", "0", "-n", str(tokens)]
            cpu1, _ = _cpu_seconds([bench, "-m", str(gguf), "-t", "1", *args, "-r", "1"])
            cpu4, test = _cpu_seconds([bench, "-m", str(gguf), "-t", "1", *args, "-r", "4"])
            clock = max(clock0, core_clock_hz() or 0.0)
            gguf.unlink()
            row = {"model": model, "quant": quant, "moe": get(model).moe is not None, "tokens": tokens,
                   "test": f"{'tg' if decode else 'pp'}{tokens}", "load": load, "clock_hz": clock,
                   "flags": list(_flags()), "pp_wall": test["avg_ts"],
                   "pp_per_cpu_s": 3 * tokens / (cpu4 - cpu1), "build_commit": test.get("build_commit")}
            rows.append(row)
            print(json.dumps(row), flush=True)
    if out:
        Path(out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


def report(path: Path = ROWS) -> list[dict]:
    out = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        p = predict(r)
        out.append({**r, "predicted": p, "error_pct": 100.0 * (p / r["pp_per_cpu_s"] - 1)})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-bench", dest="bench")
    ap.add_argument("--out")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--decode", action="store_true", help="time tgN (one thread, per CPU-second) instead of ppN")
    ap.add_argument("--report", nargs="?", const=str(ROWS))
    ap.add_argument("--without-weak-rules", action="store_true", help="the CPU MoE rule off: the old figures")
    a = ap.parse_args(argv)
    if a.bench:
        return measure(a.bench, a.out, a.tokens, a.decode)
    from contextlib import nullcontext

    from selfhost_advisor.estimate.moe_backends import disabled

    with disabled() if a.without_weak_rules else nullcontext():
        rs = report(Path(a.report or ROWS))
    for r in rs:
        print(f"  {'MoE  ' if r['moe'] else 'dense'} {r['model']:18s} {r['quant']:6s} {r.get('test', 'pp64')} 1 thread at "
              f"{r['clock_hz'] / 1e9:.2f} GHz: measured {r['pp_per_cpu_s']:7.1f} per CPU-second, predicted "
              f"{r['predicted']:7.1f} ({r['error_pct']:+.1f}%)")
    for kind in ("pp", "tg"):
        moe = [abs(r["error_pct"]) for r in rs if r["moe"] and r.get("test", "pp").startswith(kind)]
        if moe:
            print(f"MoE {kind} rows: {len(moe)}, median |error| {statistics.median(moe):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
