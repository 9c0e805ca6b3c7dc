"""Ours vs llama-bench on this CPU, both ways a user gets a CPU estimate: `advisor fit` on the probed machine (no
--hardware: the probe's quick clock and read-stream figures) and `fit --hardware box.json` after `advisor probe
--measure`. Prints one row per model: measured, predicted, ratio (ours / measured).

    python benchmarks/cpu_validation.py [--recompute]       # the stored rows (benchmarks/cpu_llamabench_run4.jsonl)
    python benchmarks/cpu_validation.py --run --llama-bench PATH [--threads N] [--out FILE] [--rows a,b]

--one-thread-cpu-time runs llama-bench with one thread and counts tokens per CPU-second (rusage), predictions for one
thread: on a loaded machine the one check whose measured side the neighbours cannot spoil.

--run measures afresh (about 3-4 minutes on the 2-vCPU development VM when quiet): for each row it writes a synthetic
GGUF with the catalog's exact layout (benchmarks/device/make_gguf.py), takes both estimates (each with a fresh
measurement), then runs `llama-bench -p 128 -n 16 -r 3 -t N` (N: the probe's threads: physical cores within the usable CPUs) and records the 1-minute
load average before and after; --out also saves the rows. llama-bench is not built here (a CPU build of llama.cpp;
docs/methodology.md 4d). On a shared machine run it when the load average is under the core count: llama.cpp's
threads wait for each other at a spinning barrier after every graph node, so one neighbour on a core stalls all of
them (the stored rows from loaded minutes show 2-10x slower decode).
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

STORED = ROOT / "benchmarks" / "cpu_llamabench_run4.jsonl"
# Catalog layouts of several sizes and kinds: dense Llama (tied head), a large-vocabulary Gemma 3 with sliding-window
# layers, Qwen 3, and an 8B whose weights are 16x the L3 cache.
ROWS = (("llama3.2:1b", "Q4_K_M"), ("llama3.2:1b", "Q8_0"), ("llama3.2:3b", "Q4_K_M"), ("gemma3:1b", "Q4_0"),
        ("qwen3:1.7b", "Q5_K_M"), ("llama3.1:8b", "Q4_K_M"))
CONTEXT = 256  # decode at 128 cached tokens, prefill as llama-bench's batch: the KV read is under 1% of the weights


def _speed(result) -> tuple[float, float]:
    s = result.options[0].speed
    return s.decode_tokens_per_s, s.prefill_tokens_per_s


def predict_probed(model: str, quant: str) -> tuple[tuple[float, float], str]:
    """`advisor fit MODEL -q QUANT` on this machine, its quick host figures measured afresh (a new ADVISOR_HOME)."""
    from selfhost_advisor.api import fit

    with tempfile.TemporaryDirectory() as home:
        old = os.environ.get("ADVISOR_HOME")
        os.environ["ADVISOR_HOME"] = home
        try:
            r = fit(model, None, quant=quant, context=CONTEXT)
        finally:
            if old is None:
                os.environ.pop("ADVISOR_HOME", None)
            else:
                os.environ["ADVISOR_HOME"] = old
    return _speed(r), r.machine.host_speed_source if hasattr(r, "machine") else ""


def predict_file(model: str, quant: str, box: str) -> tuple[float, float]:
    from selfhost_advisor.api import fit

    return _speed(fit(model, box, quant=quant, context=CONTEXT))


def measured_box(path: str) -> dict:
    """`advisor probe --measure --json` into `path`; returns the document."""
    out = subprocess.run([sys.executable, "-m", "selfhost_advisor", "probe", "--measure", "--json"], check=True,
                         capture_output=True, text=True).stdout
    Path(path).write_text(out)
    return json.loads(out)


HEADER = ("| model | quant | threads | load (1 min, before/after) | clock GHz | read GB/s | llama-bench pp128 | "
          "ours probed | ratio | ours --measure | ratio | llama-bench tg16 | ours probed | ratio | ours --measure | "
          "ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def _row(h: dict) -> str:
    pp, tg = h["pp"], h["tg"]
    (dp, pp_p), (dm, pp_m) = h["probed"], h["file"]
    return (f"| {h['model']} | {h['quant']} | {h['threads']} | {h['load']} / {h['load_after']} | "
            f"{h['clock_hz'] / 1e9:.2f} | {h['read_bw'] / 1e9:.1f} | {pp:.1f} | {pp_p:.1f} | {pp_p / pp:.2f} | "
            f"{pp_m:.1f} | {pp_m / pp:.2f} | {tg:.2f} | {dp:.2f} | {dp / tg:.2f} | {dm:.2f} | {dm / tg:.2f} |")


def _box_from_row(h: dict) -> dict:
    """The probe document a stored row's figures describe (its `measured` block: clock, streams, threads)."""
    m = h.get("measured") or {}
    one_thread = str(h["threads"]).startswith("1")
    bw1 = m.get("thread_bandwidth_bytes_per_s") or m.get("ram_bandwidth_bytes_per_s")
    return {"schema_version": "1.9.0", "devices": [], "cpu": {"name": h.get("cpu_name") or _cpu_name(),
                                                                 "flags": h.get("flags") or _flags()},
            "ram_bytes": 24 * 10**9, "available_ram_bytes": 20 * 10**9,
            "ram_bandwidth_bytes_per_s": int(bw1 if one_thread else m["ram_bandwidth_bytes_per_s"]),
            "cpu_thread_bandwidth_bytes_per_s": int(bw1), "cpu_clock_hz": m.get("clock_hz") or h["clock_hz"],
            "cpu_threads": 1 if one_thread else int(m.get("threads") or h["threads"]),
            "cpu_flops": m.get("matmul_flops"), "host_speed_source": "measured: stored row", "warnings": []}


def _host(box: dict) -> dict:
    """What a row records of the host it ran on: the probe's CPU name and flags (a recompute reads them back) and the
    date (UTC)."""
    import datetime

    cpu = box.get("cpu") or {}
    return {"cpu_name": cpu.get("name"), "flags": cpu.get("flags"),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")}


def _cpu_name() -> str:
    """The CPU name of the development VM where the rows before session 24 were measured (as its probe reports it; rows
    since carry their own `cpu_name`): estimate/cpu_kernels.py reads from it whether AVX-512 runs at full width, so a
    recompute elsewhere gives the same."""
    return "Intel(R) Xeon(R) Processor"


# The development VM's flags that estimate/cpu_kernels.py reads (Xeon, Emerald Rapids: AVX-512 with VNNI, AVX-VNNI,
# AMX), for rows measured there before session 24, which stored none: recomputing them on another machine (the AVX2
# EPYC of session 24) must not give them that machine's kernels.
_DEV_VM_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                 "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def _flags() -> list[str]:
    return list(_DEV_VM_FLAGS)


def stored(path: str, recompute: bool = False) -> int:
    """The stored rows; with recompute, ours (the --measure column) from each row's stored figures and today's model."""
    print(HEADER)
    rows = []
    for line in Path(path).read_text().splitlines():
        h = json.loads(line)
        if "pp" not in h:
            continue
        if recompute and h.get("measured"):
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
                json.dump(_box_from_row(h), fh)
            try:
                h["file"] = list(predict_file(h["model"], h["quant"], fh.name))
                if str(h["threads"]).startswith("1"):
                    h["probed"] = h["file"]  # one-thread rows: both columns are the one-thread prediction
            finally:
                os.unlink(fh.name)
        print(_row(h))
        rows.append(h)
    _summary(rows)
    return 0


def _cpu_seconds(cmd: list[str], seen: dict | None = None) -> float:
    """CPU seconds (user + system) a command used (wait4 rusage); `seen` gets llama-bench's build_commit."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"{cmd[0]} failed")
        if seen is not None:
            out.seek(0)
            for line in out.read().decode(errors="replace").splitlines():
                if line.startswith("{"):
                    seen.setdefault("build_commit", json.loads(line).get("build_commit"))
    return usage.ru_utime + usage.ru_stime


def one_thread(bench: str, gguf: str, seen: dict | None = None, reps: int = 4) -> tuple[float, float]:
    """(pp128, tg16) tokens per CPU-second of llama-bench -t 1: the CPU seconds of `reps` repetitions less those of 1,
    so the load of a shared machine does not enter (one thread has nobody to wait for at a barrier), nor do the model
    load, the repacking at load and the warmup run, which both invocations pay."""
    rates = []
    for p, n, tokens in (("128", "0", 128), ("0", "16", 16)):
        c = [_cpu_seconds([bench, "-m", gguf, "-t", "1", "-p", p, "-n", n, "-r", r, "-o", "jsonl"], seen)
             for r in ("1", str(reps))]
        rates.append((reps - 1) * tokens / (c[1] - c[0]))
    return rates[0], rates[1]


def _one_thread_box(box: dict, path: str) -> None:
    """The measured probe as one thread sees it: one thread, its own read stream."""
    one = dict(box, cpu_threads=1, ram_bandwidth_bytes_per_s=box.get("cpu_thread_bandwidth_bytes_per_s")
               or box["ram_bandwidth_bytes_per_s"])
    Path(path).write_text(json.dumps(one))


def _load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def run(bench: str, threads: int | None, out: str | None, rows, cpu_time: bool = False, gguf_dir: str | None = None,
        reps: int = 4) -> int:
    from selfhost_advisor.probe.measure import llama_threads

    threads = threads or llama_threads()
    lines = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for model, quant in rows:
            if os.getloadavg()[0] >= 1 and not cpu_time:
                print(f"note: 1-minute load {os.getloadavg()[0]:.1f}: other work on the cores stalls llama.cpp's "
                      "threads at every barrier; this row's llama-bench will read slow (--one-thread-cpu-time does "
                      "not care)", file=sys.stderr, flush=True)
            gguf = Path(gguf_dir or tmp) / f"{model.replace(':', '_')}-{quant}.gguf"
            if not gguf.exists():
                subprocess.run([sys.executable, str(ROOT / "benchmarks" / "device" / "make_gguf.py"), model, quant,
                                str(gguf)], check=True, stdout=subprocess.DEVNULL)
            load = _load()
            box_path = str(Path(tmp) / "box.json")
            box = measured_box(box_path)
            if cpu_time:  # one thread, per CPU-second: the load-proof check (no "probed" path: it plans 2 threads)
                _one_thread_box(box, box_path)
                from_file = predict_file(model, quant, box_path)
                probed = from_file
                seen: dict = {}
                pp, tg = one_thread(bench, str(gguf), seen, reps)
                h = {"model": model, "quant": quant, "threads": "1 (CPU time)", "load": load, "load_after": _load(),
                     "clock_hz": box.get("cpu_clock_hz") or 0.0,
                     "read_bw": box.get("cpu_thread_bandwidth_bytes_per_s") or box["ram_bandwidth_bytes_per_s"],
                     "pp": pp, "tg": tg, "probed": list(probed), "file": list(from_file), "measured": box.get("measured"),
                     "build_commit": seen.get("build_commit"), **_host(box)}
                print(_row(h), flush=True)
                lines.append(json.dumps(h))
                if out:
                    Path(out).write_text("\n".join(lines) + "\n")  # row by row: a stopped run keeps what it measured
                if not gguf_dir:
                    gguf.unlink()
                continue
            probed, _ = predict_probed(model, quant)
            from_file = predict_file(model, quant, box_path)
            res = subprocess.run([bench, "-m", str(gguf), "-t", str(threads), "-p", "128", "-n", "16", "-r", "3",
                                  "-o", "jsonl"], check=True, capture_output=True, text=True)
            tests = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
            h = {"model": model, "quant": quant, "threads": threads, "load": load, "load_after": _load(),
                 "clock_hz": box.get("cpu_clock_hz") or 0.0, "read_bw": box["ram_bandwidth_bytes_per_s"],
                 "pp": next(t["avg_ts"] for t in tests if t["n_prompt"]),
                 "tg": next(t["avg_ts"] for t in tests if t["n_gen"]),
                 "pp_samples": next(t["samples_ts"] for t in tests if t["n_prompt"]),
                 "tg_samples": next(t["samples_ts"] for t in tests if t["n_gen"]),
                 "probed": list(probed), "file": list(from_file), "measured": box.get("measured"),
                 "build_commit": tests[0].get("build_commit"), "test_time": tests[0].get("test_time"), **_host(box)}
            print(_row(h), flush=True)
            lines.append(json.dumps(h))
            if not gguf_dir:
                gguf.unlink()
    if out:
        Path(out).write_text("\n".join(lines) + "\n")
    _summary([json.loads(x) for x in lines])
    return 0


def _summary(rows: list[dict]) -> None:
    """Median and range of each ratio column, and how many rows meet the goals (decode 25%, prefill 35%)."""
    import statistics

    if not rows:
        return
    for label, i, j, goal in (("decode, probed", "probed", 0, 0.25), ("decode, --measure", "file", 0, 0.25),
                              ("prefill, probed", "probed", 1, 0.35), ("prefill, --measure", "file", 1, 0.35)):
        r = [h[i][j] / h["tg" if j == 0 else "pp"] for h in rows]
        ok = sum(abs(x - 1) <= goal for x in r)
        print(f"{label}: ratio median {statistics.median(r):.2f}, {min(r):.2f}-{max(r):.2f}; "
              f"{ok}/{len(r)} within {goal:.0%}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(STORED))
    ap.add_argument("--run", action="store_true", help="measure afresh with --llama-bench")
    ap.add_argument("--llama-bench", dest="bench", help="path of a CPU llama-bench binary")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--rows", help="comma-separated model=quant pairs (default: the six of ROWS)")
    ap.add_argument("--one-thread-cpu-time", dest="cpu_time", action="store_true",
                    help="llama-bench -t 1 timed per CPU-second, predictions for one thread: a check the load cannot spoil")
    ap.add_argument("--recompute", action="store_true",
                    help="stored rows: recompute ours (--measure column) from each row's figures with today's model")
    ap.add_argument("--out")
    ap.add_argument("--gguf-dir", dest="gguf_dir",
                    help="keep the synthetic GGUFs here and reuse those already written (default: a temporary folder)")
    ap.add_argument("--reps", type=int, default=4,
                    help="--one-thread-cpu-time: llama-bench -r of the longer run (its CPU time less that of -r 1)")
    a = ap.parse_args(argv)
    if a.run:
        if not a.bench:
            ap.error("--run needs --llama-bench PATH")
        rows = [tuple(r.split("=")) for r in a.rows.split(",")] if a.rows else ROWS
        return run(a.bench, a.threads, a.out, rows, a.cpu_time, a.gguf_dir, max(2, a.reps))
    return stored(a.path, a.recompute)


if __name__ == "__main__":
    sys.exit(main())
