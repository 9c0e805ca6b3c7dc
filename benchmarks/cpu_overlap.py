"""How one CPU thread's decode combines streaming the weights with the dot kernel: per-layer token time of llama
layouts small enough to sit in the last-level cache and large enough not to (docs/methodology.md 4e-cpu12).

    python benchmarks/cpu_overlap.py --llama-bench PATH --hidden 1024 --ffn 2816 --layers 1,2,3,10,14 [--out FILE]
    python benchmarks/cpu_overlap.py --summary benchmarks/cpu_overlap_zen3_s25.jsonl

Each layout is llama3.2:1b's architecture with `--hidden`, `--ffn`, `--kv-heads` and a 4096-token vocabulary (so the
output head is small and the same for every layer count), written by benchmarks/device/make_gguf.py. Each file is
timed as benchmarks/cpu_kernels.py times decode: `llama-bench -t 1 -p 0 -n 128` with 1 and with 9 repetitions, the
difference in CPU seconds (wait4 rusage) over 8 x 128 tokens, so neither the model load nor a neighbour's load enters.
Beside it the one-thread memchr read stream and the dependent-add clock (probe/hostrate.py). The slope of token time
over layers is one layer's time: in cache it is the kernel alone; out of it, the kernel and the stream together.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "device"))

import make_gguf  # noqa: E402
from cpu_kernels import _cpu_seconds  # noqa: E402

from selfhost_advisor.catalog import models  # noqa: E402
from selfhost_advisor.catalog.resolve import quant_of  # noqa: E402
from selfhost_advisor.estimate.speed_work import token_work  # noqa: E402
from selfhost_advisor.probe import hostrate  # noqa: E402
from selfhost_advisor.record import replace  # noqa: E402

QUANTS = ("Q4_0", "Q8_0", "Q6_K", "Q4_K_S", "Q5_K_S")


def layout(hidden: int, ffn: int, kv_heads: int, layers: int):
    base = models.get("llama3.2:1b")
    return replace(base, id=f"overlap{hidden}f{ffn}x{layers}", name=f"overlap{hidden}f{ffn}x{layers}",
                   hidden_size=hidden, intermediate_size=ffn, n_heads=hidden // 64, n_kv_heads=kv_heads, head_dim=64,
                   vocab_size=4096, n_layers=layers, tensor_types=None)


def time_one(bench: str, model, quant: str, path: str) -> dict:
    if not os.path.exists(path):
        make_gguf.models.get = lambda _id: model  # make_gguf writes a catalog id's layout; this one is not in it
        make_gguf.write(model.id, quant, path)
    w = token_work(model, quant_of(quant))
    types: dict[str, int] = collections.Counter()
    for mats in w.layer_matrices:
        for ty, n, _ in mats:
            types[ty] += n
    stream = hostrate.read_bandwidth(1, hostrate.stream_bytes(), 3)
    load = os.getloadavg()[0]
    c1, _ = _cpu_seconds([bench, "-m", path, "-t", "1", "-p", "0", "-n", "128", "-r", "1"])
    c9, test = _cpu_seconds([bench, "-m", path, "-t", "1", "-p", "0", "-n", "128", "-r", "9"])
    return {"hidden": model.hidden_size, "ffn": model.intermediate_size, "kv_heads": model.n_kv_heads,
            "quant": quant, "layers": model.n_layers, "load": load, "tok_s": (c9 - c1) / (8 * 128),
            "tg_wall": test["avg_ts"], "bytes": sum(w.layer_read_bytes) + w.output_read_bytes, "types": dict(types),
            "output": [w.output_matrix[0], w.output_matrix[1]], "stream": stream, "clock": hostrate.core_clock_hz(),
            "build_commit": test.get("build_commit"), "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **_cpu()}


def _cpu() -> dict:
    """The CPU name and flags the probe reads here (per_layer prices a stored row's K with them)."""
    from selfhost_advisor.probe.cpu import probe_cpu

    cpu = probe_cpu()
    return {"cpu_name": cpu.name, "flags": list(cpu.flags)}


def per_layer(rows: list[dict]):
    """(layout, quant, layers a -> b, ms per layer, S ms, K ms) between consecutive layer counts of one layout and
    quant: S = the layer's bytes over the one-thread stream, K = the model's dot-kernel time for the layer's weights
    (estimate/cpu_kernels.py kernel_seconds, one thread at the rows' clock, this file's CPU flags)."""
    from selfhost_advisor.domain import CpuInfo, Machine
    from selfhost_advisor.estimate.cpu_kernels import kernel_seconds

    groups: dict[tuple, list[dict]] = collections.defaultdict(list)
    for r in rows:
        groups[(r["hidden"], r["ffn"], r["quant"])].append(r)
    for key, rs in groups.items():
        rs.sort(key=lambda r: r["layers"])
        for a, b in zip(rs, rs[1:]):
            n = b["layers"] - a["layers"]
            clock = (a["clock"] + b["clock"]) / 2
            cpu = CpuInfo(name=a.get("cpu_name", "AMD EPYC"), arch="x86_64", flags=tuple(a.get("flags", ("avx2", "fma", "f16c"))))
            m = Machine(name="row", devices=(), ram_bytes=1 << 34, cpu=cpu, source="probe", cpu_clock_hz=clock,
                        cpu_threads=1)
            mats = [(ty, (b["types"].get(ty, 0) - a["types"].get(ty, 0)) / n) for ty in b["types"]]
            s = (b["bytes"] - a["bytes"]) / n / ((a["stream"] + b["stream"]) / 2)
            yield key, (a["layers"], b["layers"]), (b["tok_s"] - a["tok_s"]) / n, s, kernel_seconds(mats, m)


def summary(path: str) -> None:
    print("| hidden x ffn | quant | layers | ms per layer | S ms | K ms (model) | max(S, K) | S + K | tandem |")
    print("|---|---|---|---|---|---|---|---|---|")
    from selfhost_advisor.domain import CpuInfo, Machine
    from selfhost_advisor.estimate.cpu_kernels import stream_and_kernel

    amd = Machine(name="tandem", devices=(), ram_bytes=1 << 34, cpu=CpuInfo(name="AMD"))
    for (h, f, q), (a, b), t, s, k in per_layer([json.loads(x) for x in open(path)]):
        tandem = stream_and_kernel(s, k, amd)
        print(f"| {h} x {f} | {q} | {a} -> {b} | {t * 1e3:.3f} | {s * 1e3:.3f} | {k * 1e3:.3f} | {max(s, k) * 1e3:.3f} | "
              f"{(s + k) * 1e3:.3f} | {tandem * 1e3:.3f} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llama-bench")
    ap.add_argument("--summary", metavar="ROWS", help="per-layer times of stored rows beside the model's S and K")
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--ffn", type=int, default=2816)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--layers", default="1,2,3,10,14")
    ap.add_argument("--quants", default=",".join(QUANTS))
    ap.add_argument("--gguf-dir", help="keep the GGUFs here (default: a temporary folder)")
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    if a.summary:
        summary(a.summary)
        return 0
    if not a.llama_bench:
        ap.error("--llama-bench is required to time layouts")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.gguf_dir or tmp)
        for q in a.quants.split(","):
            for n in (int(x) for x in a.layers.split(",")):
                m = layout(a.hidden, a.ffn, a.kv_heads, n)
                row = time_one(a.llama_bench, m, q, str(folder / f"{m.id}-{q}.gguf"))
                print(json.dumps(row), flush=True)
                if a.out:
                    with open(a.out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
