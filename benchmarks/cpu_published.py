"""The clocked CPU model against published mainline llama-bench rows it was not derived from
(benchmarks/published/llamabench_cpu.yaml, written before the 256-bit kernel rates were measured; docs/methodology.md 4e).

Usage: python benchmarks/cpu_published.py [--json]
Each row is predicted on a host of its threads and ISA flags at its chip's stated maximum clock (and base clock where
given): the rows do not say the clock under load, so the ratio at the maximum is a lower bound on the model's error
for a host that ran slower.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.models import get  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.domain import CpuInfo, Machine, Placement  # noqa: E402
from selfhost_advisor.estimate.cpu_kernels import prefill_isa  # noqa: E402
from selfhost_advisor.estimate.speed import estimate_speed  # noqa: E402

ROWS = ROOT / "benchmarks" / "published" / "llamabench_cpu.yaml"
# py-cpuinfo's names for the row's ISA flags
FLAGS = {"avx2": ("avx2", "fma"), "avx_vnni": ("avx_vnni",), "avx512": ("avx512f", "avx512bw", "avx512_vnni")}


def host(row: dict, clock_hz: float) -> Machine:
    flags = tuple(f for name in row["flags"] for f in FLAGS[name])
    return Machine(name=row["cpu"], devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(50e9),
                   cpu=CpuInfo(name=row["cpu"], flags=flags), source="probe", cpu_clock_hz=clock_hz,
                   cpu_threads=int(row["threads"]), cpu_thread_bandwidth_bytes_per_s=int(20e9))


def predict(row: dict, clock_hz: float) -> float:
    """pp tokens/s of the row's test (ppN: N prompt tokens, average depth N / 2) on its host at `clock_hz`."""
    model = get(row["model"])
    n = int(row["test"][2:])
    pl = Placement("cpu", 0, model.n_layers + 1, 0, 0)
    return estimate_speed(model, get_quant(row["quant"]), pl, host(row, clock_hz),
                          prefill_depth=n // 2).prefill_tokens_per_s


def report() -> list[dict]:
    import yaml

    out = []
    for r in yaml.safe_load(ROWS.read_text())["rows"]:
        at_max = predict(r, r["clock_ghz"] * 1e9)
        at_base = predict(r, r["base_clock_ghz"] * 1e9) if r.get("base_clock_ghz") else None
        out.append({"cpu": r["cpu"], "threads": r["threads"], "model": r["model"], "quant": r["quant"],
                    "test": r["test"], "measured": r["tokens_per_s"], "isa": prefill_isa(host(r, 1e9)),
                    "ours_at_max_clock": at_max, "ratio_at_max_clock": at_max / r["tokens_per_s"],
                    "ratio_at_base_clock": at_base / r["tokens_per_s"] if at_base else None, "url": r["url"]})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = report()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        base = f" (base clock {r['ratio_at_base_clock']:.2f})" if r["ratio_at_base_clock"] else ""
        print(f"{r['cpu'][:22]:22} {r['threads']:3d}t {r['isa']:8} {r['model']:12} {r['quant']:6} {r['test']:6} "
              f"measured {r['measured']:7.2f}  ours {r['ours_at_max_clock']:7.2f}  ratio {r['ratio_at_max_clock']:.2f}{base}")
    print(f"median ratio at the stated maximum clock: {statistics.median(r['ratio_at_max_clock'] for r in rows):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
