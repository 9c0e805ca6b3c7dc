"""The CPU prefill kernels' rate per GGML type on this host: the micro-facts behind data/speed.yaml `cpu_prefill`.

    python benchmarks/cpu_kernels.py --llama-bench PATH [--model qwen2.5:1.5b] [--out FILE]
    python benchmarks/cpu_kernels.py --solve ROWS.jsonl [...]   # each main type's own rates, minor types subtracted

For each quantization whose repeating layers are (nearly) one GGML type, it writes a synthetic GGUF of the model's
exact layout (benchmarks/device/make_gguf.py), measures the core clock (probe/hostrate.py), runs `llama-bench -t 1
-p 64 -n 0` with 1 and with 4 repetitions, timing the CPU seconds each used (wait4 rusage): the difference is three
prompt batches of CPU time, which neighbours on a shared machine cannot inflate as they do wall time. It prints the
operations per cycle the type's kernel reached: 2 x layer weights x tokens per CPU-second / clock, with the types already solved
subtracted for mixed files. One thread per cycle, divided by 32 (FP32 FLOP per cycle of the 256-bit FMA pair that
ggml-cpu's x86 kernels are written for), is the `ops_per_vector_flop` of data/speed.yaml.

The model is deliberately not one of benchmarks/cpu_validation.py's (llama3.2): the validation rows are held out.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog import models  # noqa: E402
from selfhost_advisor.catalog.resolve import quant_of  # noqa: E402
from selfhost_advisor.estimate.speed import token_work  # noqa: E402
from selfhost_advisor.probe.hostrate import core_clock_hz  # noqa: E402

# solved in this order: pure files first, then files whose minor types are already known
QUANTS = ("Q4_0", "Q8_0", "Q6_K", "Q5_K_S", "Q3_K_S", "Q4_K_S", "IQ4_XS", "Q2_K")


def layer_weights(model: str, quant: str) -> dict[str, int]:
    w = token_work(models.get(model), quant_of(quant))
    c: dict[str, int] = collections.Counter()
    for mats in w.layer_matrices:
        for ty, n, _ in mats:
            c[ty] += n
    return dict(c)


def _cpu_seconds(cmd: list[str]) -> tuple[float, dict]:
    """CPU seconds (user + system) the command used, and its llama-bench JSON line."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd + ["-o", "jsonl"], stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"llama-bench exited {proc.returncode}")
        out.seek(0)
        line = next(x for x in out.read().decode().splitlines() if x.startswith("{"))
    return usage.ru_utime + usage.ru_stime, json.loads(line)


def _decode(bench: str, gguf: str, model: str, quant: str) -> dict:
    """One thread's decode per CPU-second beside the probe's one-thread read stream (probe/hostrate.py, CPU time too):
    the share of a pure read stream that llama.cpp's mat-vec reaches (data/speed.yaml measured_host)."""
    from selfhost_advisor.probe import hostrate

    w = token_work(models.get(model), quant_of(quant))
    nbytes = sum(w.layer_read_bytes) + w.output_read_bytes
    stream = hostrate.read_bandwidth(1, hostrate.stream_bytes(), 3)
    load = os.getloadavg()[0]
    cpu1, _ = _cpu_seconds([bench, "-m", gguf, "-t", "1", "-p", "0", "-n", "16", "-r", "1"])
    cpu4, test = _cpu_seconds([bench, "-m", gguf, "-t", "1", "-p", "0", "-n", "16", "-r", "4"])
    tps = 3 * 16 / (cpu4 - cpu1)
    clock = hostrate.core_clock_hz() or float("nan")
    n_weights = sum(n for mats in w.layer_matrices for _, n, _ in mats) + w.output_matrix[1]
    compute_s = 1 / tps - nbytes / stream  # the part of a token that is not streaming at the one-thread rate
    return {"load": load, "tg_wall": test["avg_ts"], "tg_per_cpu_s": tps, "bytes_per_token": nbytes,
            "weights_per_token": n_weights, "stream_bytes_per_cpu_s": tps * nbytes, "memchr_bytes_per_s": stream,
            "share": tps * nbytes / stream, "clock_hz": clock,
            "weights_per_vector_flop": n_weights / compute_s / (clock * 32) if compute_s > 0 else float("nan")}


def solve(paths: list[str]) -> dict[str, list[tuple[float, float]]]:
    """Each file's main type, its own rates: (prefill ops per vector FLOP, decode weights per vector FLOP), with the
    minor types' time (and the output head's, at the Q6_K rate) subtracted at data/speed.yaml's vnni rates, or at the
    rates solved earlier in the same file of rows (session 15: the i-quants, data/cpu_kernel_paths.yaml measured_rates)."""
    from selfhost_advisor.catalog.data import load

    speed = load("speed")
    kd0 = {str(k): float(v) for k, v in speed["cpu_decode"]["families"]["vnni"]["weights_per_vector_flop"].items()}
    kp0 = {str(k): float(v) for k, v in speed["cpu_prefill"]["families"]["vnni"]["ops_per_vector_flop"].items()}
    med_d = sorted(kd0.values())[len(kd0) // 2 - 1: len(kd0) // 2 + 1]
    med_p = sorted(kp0.values())[len(kp0) // 2 - 1: len(kp0) // 2 + 1]
    med_d, med_p = sum(med_d) / 2, sum(med_p) / 2
    out: dict[str, list[tuple[float, float]]] = {}
    for path in paths:
        kd, kp = dict(kd0), dict(kp0)
        for line in Path(path).read_text().splitlines():
            r = json.loads(line)
            w, main, clock, d = r["weights"], r["type"], r["clock_hz"], r["decode"]
            t = 1 / r["pp_per_cpu_s"] - sum(2 * n / (kp.get(ty, med_p) * clock * 32) for ty, n in w.items() if ty != main)
            vfc = d["clock_hz"] * 32
            tk = (1 / d["tg_per_cpu_s"] - d["bytes_per_token"] / d["memchr_bytes_per_s"]
                  - (d["weights_per_token"] - sum(w.values())) / (kd["Q6_K"] * vfc)
                  - sum(n / (kd.get(ty, med_d) * vfc) for ty, n in w.items() if ty != main))
            kp[main], kd[main] = 2 * w[main] / t / (clock * 32), w[main] / tk / vfc
            out.setdefault(main, []).append((kp[main], kd[main]))
    return out


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--solve":
        import statistics

        for ty, runs in solve(argv[1:]).items():
            pp = statistics.median(x for x, _ in runs)
            tg = statistics.median(y for _, y in runs)
            print(f"{ty:8} prefill {' '.join(f'{x:.3f}' for x, _ in runs)} (median {pp:.3f}) ops/vector FLOP; "
                  f"decode {' '.join(f'{y:.4f}' for _, y in runs)} (median {tg:.4f}) weights/vector FLOP")
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-bench", dest="bench", required=True)
    ap.add_argument("--model", default="qwen2.5:1.5b")
    ap.add_argument("--quants", default=",".join(QUANTS))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--decode", action="store_true", help="also time one-thread decode against the read stream")
    ap.add_argument("--repack", choices=("0", "1"),
                    help="pass llama-bench --repack 0|1 (0: no CPU_REPACK buffer, so Q4_0's prompt runs llamafile's "
                         "tinyBLAS as before ggml-cpu repacked it; session 14, cpux86)")
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    extra = ["--repack", a.repack] if a.repack else []
    solved: dict[str, float] = {}  # type -> ops per cycle per thread
    rows = []
    print("| file | main type | load (1 min) | clock GHz | pp t/s (1 thread, wall) | per CPU-second | ops/cycle | ops per vector FLOP |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for quant in a.quants.split(","):
            gguf = Path(tmp) / f"{quant}.gguf"
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device" / "make_gguf.py"), a.model, quant,
                            str(gguf)], check=True, stdout=subprocess.DEVNULL)
            clock0 = core_clock_hz() or 0.0
            load = os.getloadavg()[0]
            cpu1, _ = _cpu_seconds([a.bench, "-m", str(gguf), "-t", "1", "-p", str(a.tokens), "-n", "0", "-r", "1"] + extra)
            cpu4, test = _cpu_seconds([a.bench, "-m", str(gguf), "-t", "1", "-p", str(a.tokens), "-n", "0", "-r", "4"]
                                      + extra)
            clock = max(clock0, core_clock_hz() or 0.0)
            test["cpu_ts"] = 3 * a.tokens / (cpu4 - cpu1)  # tokens per CPU-second: 3 more repetitions, load-proof
            dec = _decode(a.bench, str(gguf), a.model, quant) if a.decode else None
            gguf.unlink()
            weights = layer_weights(a.model, quant)
            main_type = max(weights, key=weights.get)
            # seconds per token of the types already solved, at this clock
            known = sum(2 * n / (solved[t] * clock) for t, n in weights.items() if t != main_type and t in solved)
            left = 1 / test["cpu_ts"] - known
            ops = 2 * weights[main_type] / left / clock if left > 0 and clock else float("nan")
            solved.setdefault(main_type, ops)
            print(f"| {a.model} {quant} | {main_type} | {load:.2f} | {clock / 1e9:.2f} | {test['avg_ts']:.1f} | {test['cpu_ts']:.1f} | "
                  f"{ops:.1f} | {ops / 32:.3f} |", flush=True)
            rows.append({"model": a.model, "quant": quant, "type": main_type, "load": load, "clock_hz": clock,
                         "weights": weights, "tokens": a.tokens, "pp_wall": test["avg_ts"], "pp_per_cpu_s": test["cpu_ts"],
                         "build_commit": test.get("build_commit"), "ops_per_cycle": ops, "decode": dec,
                         "repack": a.repack})
            if dec:
                print(f"|   decode | {quant} | {dec['load']:.2f} | | tg16 {dec['tg_wall']:.2f} | {dec['tg_per_cpu_s']:.2f} | "
                      f"{dec['stream_bytes_per_cpu_s'] / 1e9:.1f} GB/s of a {dec['memchr_bytes_per_s'] / 1e9:.1f} GB/s "
                      f"read stream (share {dec['share']:.3f}) | {dec['clock_hz'] / 1e9:.2f} GHz | "
                      f"{dec['weights_per_vector_flop']:.3f} weights per vector FLOP |", flush=True)
    if a.out:
        Path(a.out).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
