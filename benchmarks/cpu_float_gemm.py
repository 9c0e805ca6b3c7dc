"""The prompt GEMM of float weights (F16, BF16, F32) on one thread of this machine, per CPU-second, in the unit of
data/speed.yaml cpu_prefill (operations per vector FLOP: ops / (CPU seconds x clock x 32)); Q8_0 beside them as the
check against the rate cpu_kernels.py measured through llama-bench (its tinyBLAS kernel is the same).

Usage: python benchmarks/cpu_float_gemm.py --bin PATH [--bin PATH ...] [--out FILE]
PATH is benchmarks/cpu_float_gemm.c built against ggml (ggml-org/ggml; the static ggml, ggml-base and ggml-cpu
libraries of a `cmake -DGGML_NATIVE=OFF -DGGML_LLAMAFILE=ON -DGGML_OPENMP=OFF` build with the ISA flags of the family,
as llama.cpp builds its CPU backend): `cc -O2 benchmarks/cpu_float_gemm.c -Iggml/include -Lbuild/src
-Lbuild/src/ggml-cpu -lggml -lggml-cpu -lggml-base -lstdc++ -lm -lpthread`. The C program times ggml_mul_mat of a
4096 x 2048 weight matrix by a 4096 x 512 activation (a 512-token micro-batch) with ggml_graph_compute_with_ctx on one
thread, best of three, in the calling thread's CPU time (neighbours on a shared machine do not enter it; a busy
sibling hyperthread of the host still can). The clock is probe/hostrate.core_clock_hz's, before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.probe.hostrate import core_clock_hz  # noqa: E402

TYPES = ("f16", "bf16", "f32", "q8_0")


def run(binary: str, ty: str) -> dict:
    clock0 = core_clock_hz() or float("nan")
    out = subprocess.run([binary, ty, "2048", "512", "3"], check=True, capture_output=True, text=True).stdout
    clock1 = core_clock_hz() or float("nan")
    fields = dict(f.split("=") for f in out.split()[1:])
    gops = float(fields["gops_per_cpu_s"])
    clock = (clock0 + clock1) / 2
    return {"binary": binary, "type": ty, "gops_per_cpu_s": gops, "clock_hz": clock, "load_1min": os.getloadavg()[0],
            "ops_per_vector_flop": gops * 1e9 / (clock * 32)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", action="append", required=True)
    ap.add_argument("--out")
    args = ap.parse_args()
    rows = [run(b, ty) for b in args.bin for ty in TYPES]
    for r in rows:
        print(f"{r['binary']:40} {r['type']:5} {r['gops_per_cpu_s']:7.1f} GOPS per CPU-s at {r['clock_hz'] / 1e9:.2f} GHz"
              f" -> {r['ops_per_vector_flop']:.3f} ops per vector FLOP (load {r['load_1min']:.1f})")
    if args.out:
        with open(args.out, "a") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
