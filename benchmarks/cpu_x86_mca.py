"""ggml-cpu's x86 prompt kernels by llvm-mca: cycles per 1,000 multiply-adds on each core's LLVM scheduling model
(docs/methodology.md 4e-cpu13; the counts behind data/cpu_kernel_paths.yaml prompt_no_vnni, and the per-core table
that was tried and not shipped).

    python benchmarks/cpu_x86_mca.py OBJDIR [--cpus haswell,skylake,znver2,znver3] [--llvm-mca llvm-mca]

OBJDIR holds repack.o (ggml/src/ggml-cpu/arch/x86/repack.cpp), sgemm.o (llamafile/sgemm.cpp) and, optionally,
tiledk.o (tiled/tiled-kernel.cpp) of one llama.cpp build, e.g. compiled with GCC `-O3 -mavx2 -mfma -mf16c -mbmi2`
(add `-mavxvnni` for vnni256's code) and the build's own -I / -D flags. Each kernel's innermost loop (a loop that holds
no other) is read from `objdump -d`, branches dropped, and run through `llvm-mca -mcpu=CPU`; where the loop runs a
fixed number of trips inside an outer step (the repacked GEMMs' 4 row groups, the tiled microkernel's 8 sub-blocks),
the step is trips x the inner loop + the rest of the outer loop's body. Printed: simulated cycles / the resource bound,
per 1,000 multiply-adds. Needs binutils' objdump and LLVM's llvm-mca (14.0.6 in the session that wrote it).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

# (label, object, function name fragment, trips of the inner loop per outer step, multiply-adds per outer step)
KERNELS = (
    ("Q5_K tiled microkernel <32, mins>", "tiledk", "tiled_run_microtile_avx2<32, true, 0, 1, false>", 8, 2048),
    ("Q6_K tiled microkernel <16, bias 32>", "tiledk", "tiled_run_microtile_avx2<16, false, 32, 1, true>", 8, 2048),
    ("Q2_K tiled microkernel <16, mins>", "tiledk", "tiled_run_microtile_avx2<16, true, 0, 1, false>", 8, 2048),
    ("IQ4_XS tiled microkernel <32, bias 128>", "tiledk", "tiled_run_microtile_avx2<32, false, 128, 1, false>", 8, 2048),
    ("Q4_K repacked GEMM (16 rows x 8 x 64 a step)", "repack", "ggml_gemm_q4_K_8x8_q8_K", 4, 8192),
    ("Q4_0 / IQ4_NL LUT GEMM (16 x 8 x 32 a step)", "repack", "gemm_q4_b32_8x8_q8_0_lut_avx<block_iq4_nlx8>", 4, 4096),
    ("Q8_0 tinyBLAS 4 x 2 tile (a k-step, 4 x 2 x 32)", "sgemm", "tinyBLAS_Q0_AVX<block_q8_0, block_q8_0, float>::gemm4xN<2>",
     0, 256),
)
_INSN = re.compile(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)")


def functions(listing: str) -> dict[str, list[tuple[int, str]]]:
    """objdump -d text -> {function header: [(offset, instruction)]}"""
    out: dict[str, list[tuple[int, str]]] = {}
    cur = None
    for line in listing.splitlines():
        if line.rstrip().endswith(">:"):
            cur = line.strip()
            out.setdefault(cur, [])
            continue
        m = _INSN.match(line)
        if m and cur:
            out[cur].append((int(m.group(1), 16), f"{m.group(2)} {m.group(3)}".strip()))
    return out


def loops(insns: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """(start, end) of every backward jump's loop."""
    out = []
    for off, ins in insns:
        m = re.match(r"j\w+\s+([0-9a-f]+)", ins)
        if m and int(m.group(1), 16) < off:
            out.append((int(m.group(1), 16), off))
    return out


def body(insns, lo: int, hi: int, skip: tuple[int, int] | None = None) -> list[str]:
    """The instructions at offsets lo..hi (less those in `skip`), as llvm-mca reads them: no branches or padding."""
    out = []
    for off, ins in insns:
        if lo <= off <= hi and not (skip and skip[0] <= off <= skip[1]):
            if re.match(r"(j\w+|call|data16|nop|cs )", ins):
                continue
            out.append(re.sub(r"\s*#.*|\s*<.*>", "", ins).replace("0x0(", "("))
    return out


def mca(lines: list[str], cpu: str, exe: str, iterations: int = 100) -> tuple[float, float]:
    """(simulated cycles per iteration, block reciprocal throughput) of `lines` on llvm-mca's model of `cpu`."""
    r = subprocess.run([exe, f"-mcpu={cpu}", f"-iterations={iterations}"], input="\n".join(lines) + "\n",
                       capture_output=True, text=True)
    cyc = re.search(r"Total Cycles:\s+(\d+)", r.stdout)
    thr = re.search(r"Block RThroughput:\s+([\d.]+)", r.stdout)
    if not cyc or not thr:
        raise SystemExit(f"llvm-mca -mcpu={cpu} failed: {r.stderr[:500]}")
    return int(cyc.group(1)) / iterations, float(thr.group(1))


def kernel(insns, trips: int, macs: int, cpu: str, exe: str) -> tuple[float, float]:
    """(simulated, bound) cycles per 1,000 multiply-adds of the first innermost loop and, with trips, its parent step."""
    ls = loops(insns)
    leaves = sorted(lp for lp in ls if not any(o != lp and lp[0] <= o[0] and o[1] <= lp[1] for o in ls))
    leaf = leaves[0]
    c, t = mca(body(insns, *leaf), cpu, exe)
    if trips:
        parent = min((o for o in ls if o != leaf and o[0] <= leaf[0] and leaf[1] <= o[1]), key=lambda o: o[1] - o[0])
        co, to = mca(body(insns, *parent, skip=leaf), cpu, exe)
        c, t = trips * c + co, trips * t + to
    return 1000 * c / macs, 1000 * t / macs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("objdir")
    ap.add_argument("--cpus", default="haswell,skylake,znver2,znver3")
    ap.add_argument("--llvm-mca", dest="exe", default="llvm-mca")
    a = ap.parse_args(argv)
    cpus = a.cpus.split(",")
    listings: dict[str, dict] = {}
    print("| kernel | " + " | ".join(cpus) + " |\n|---|" + "---|" * len(cpus))
    for label, obj, name, trips, macs in KERNELS:
        path = Path(a.objdir) / f"{obj}.o"
        if not path.exists():
            continue
        if obj not in listings:
            listings[obj] = functions(subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-C", str(path)],
                                                     capture_output=True, text=True, check=True).stdout)
        found = [v for k, v in listings[obj].items() if name in k]
        if not found:
            print(f"| {label} | not in {path.name} |")
            continue
        cells = [kernel(found[0], trips, macs, cpu, a.exe) for cpu in cpus]
        print(f"| {label} | " + " | ".join(f"{s:.0f} / {b:.0f}" for s, b in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
