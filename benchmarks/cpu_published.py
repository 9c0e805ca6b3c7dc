"""The clocked CPU model against published mainline llama-bench rows it was not derived from
(benchmarks/published/llamabench_cpu.yaml; docs/methodology.md 4e).

Usage: python benchmarks/cpu_published.py [--json] [--session11]
Each row is predicted on a host of its threads, ISA flags and (session 11 rows) theoretical memory bandwidth, at its
chip's stated maximum clock and, where given, its base clock: the rows do not say the clock under load. The session 11
rows (those with `mem_gbps`) are built as a user names such a box, `--hardware "custom:cores=...,clock=...,simd=...,
bandwidth=..."` (catalog/custom_cpu.py), when that parser exists; pp rows score prefill, tg rows decode.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog.models import get  # noqa: E402
from selfhost_advisor.catalog.quants import get_quant  # noqa: E402
from selfhost_advisor.domain import CpuInfo, Machine, Placement  # noqa: E402
from selfhost_advisor.estimate.cpu_kernels import cpu_isa, prefill_isa  # noqa: E402
from selfhost_advisor.estimate.speed import estimate_speed  # noqa: E402

ROWS = ROOT / "benchmarks" / "published" / "llamabench_cpu.yaml"
# py-cpuinfo's names for the row's ISA flags
FLAGS = {"avx2": ("avx2", "fma"), "avx_vnni": ("avx_vnni",), "avx512": ("avx512f", "avx512bw", "avx512_vnni"),
         "neon": ("neon", "asimd"), "dotprod": ("dotprod", "asimddp"), "i8mm": ("i8mm",)}


def host(row: dict, clock_hz: float) -> Machine:
    """The row's host as the clocked model sees it. Rows without `mem_gbps` (written before session 11) keep the
    fixed 50 GB/s / 20 GB/s streams they were scored with (their prefill does not read them)."""
    flags = tuple(f for name in row["flags"] for f in FLAGS[name])
    if row.get("mem_gbps"):
        custom = _custom_machine(row, clock_hz)
        if custom is not None:
            return custom
        return Machine(name=row["cpu"], devices=(), ram_bytes=64 * 2**30,
                       ram_bandwidth_bytes_per_s=int(float(row["mem_gbps"]) * 1e9),
                       cpu=CpuInfo(name=row["cpu"], flags=flags), source="profile", cpu_clock_hz=clock_hz,
                       cpu_threads=int(row["threads"]))
    return Machine(name=row["cpu"], devices=(), ram_bytes=64 * 2**30, ram_bandwidth_bytes_per_s=int(50e9),
                   cpu=CpuInfo(name=row["cpu"], flags=flags), source="probe", cpu_clock_hz=clock_hz,
                   cpu_threads=int(row["threads"]), cpu_thread_bandwidth_bytes_per_s=int(20e9),
                   cpu_kernel_date=build_date(row) if BUILD_DATES else None)


CORE_FLOPS = True  # --no-core-flops: score without the rows' flops_per_cycle
CPU2_KEYS = True  # --no-cpu2-keys: score without the rows' e_cores / cpu_bw_gbps (added by cpu2 after the first scoring)
BUILD_DATES = True  # --no-build-dates: score every row with the newest kernels (the model before session 12)
_DATE_IN_BUILD = re.compile(r"(20\d\d-\d\d(?:-\d\d)?)")


def build_date(row: dict) -> str | None:
    """The row's llama.cpp build date: its `build_date`, else a date its `build` text states (a month counts from
    its first day, a range from its start), else None (the newest kernels)."""
    if row.get("build_date"):
        return str(row["build_date"])
    m = _DATE_IN_BUILD.search(str(row.get("build", "")))
    return m.group(1) if m else None


def spec(row: dict, clock_hz: float) -> str:
    """The `--hardware custom:...` string a user would type for the row's host."""
    simd = "avx2"
    for f in row["flags"]:  # the row's best ISA level
        simd = {"avx2": simd, "avx_vnni": "avx_vnni" if simd == "avx2" else simd, "avx512": "avx512",
                "neon": "neon", "dotprod": "neon", "i8mm": "neon_i8mm"}[f] if f != "avx2" else simd
    fpc = f",flops_per_cycle={row['flops_per_cycle']}" if row.get("flops_per_cycle") and CORE_FLOPS else ""
    if CPU2_KEYS and row.get("e_cores"):  # a hybrid part's efficiency cores (session 11 cpu2)
        fpc += f",e_cores={row['e_cores']}"
        if row.get("e_clock_ghz"):
            # the efficiency cores at their own maximum, scaled as the row's clock is scaled (base / load columns)
            fpc += f",e_clock={row['e_clock_ghz'] * clock_hz / (row['clock_ghz'] * 1e9):.3f}GHz"
        if row.get("e_flops_per_cycle"):
            fpc += f",e_flops_per_cycle={row['e_flops_per_cycle']}"
    if CPU2_KEYS and row.get("cpu_bw_gbps"):  # the CPU cores' own measured read bandwidth (a SoC fabric)
        fpc += f",cpu_bandwidth={row['cpu_bw_gbps']}GB/s"
    if BUILD_DATES and build_date(row):  # the prompt kernels of the row's llama.cpp build (session 12)
        fpc += f",build_date={build_date(row)}"
    # the CPU's name, as a user would type it: picks its core-to-core latency (estimate/cpu_sync.py, session 13)
    name = re.sub(r"[,=:]", " ", str(row["cpu"]))
    return (f"custom:cores={row['threads']},clock={clock_hz / 1e9:.3f}GHz,simd={simd},ram=64GB,"
            f"bandwidth={row['mem_gbps']}GB/s{fpc},name={name}")


def _custom_machine(row: dict, clock_hz: float) -> Machine | None:
    try:
        from selfhost_advisor.catalog.custom_cpu import parse_custom_cpu
    except ImportError:
        return None
    return parse_custom_cpu(spec(row, clock_hz))


def predict(row: dict, clock_hz: float) -> float:
    """ppN: prompt tokens/s at average depth N / 2; tgN: decode tokens/s at depth N / 2."""
    return predict_on(row, host(row, clock_hz))


def predict_on(row: dict, machine: Machine) -> float:
    """The row's test on `machine`: ppN prompt tokens/s, tgN decode tokens/s, at depth N / 2."""
    model = get(row["model"])
    test = row["test"]
    n = int(test[2:])
    pl = Placement("cpu", 0, model.n_layers + 1, 0, 0)
    s = estimate_speed(model, get_quant(row["quant"]), pl, machine, prefill_depth=n // 2, decode_depth=n // 2)
    return s.prefill_tokens_per_s if test.startswith("pp") else s.decode_tokens_per_s


def table_row(row: dict) -> dict | None:
    """The data/cpus.yaml row the published row's CPU names ('AMD EPYC 9554 (1 socket)' -> EPYC 9554), else None."""
    from selfhost_advisor.catalog.cpu_names import row_for

    return row_for(re.sub(r"\([^()]*\)", " ", str(row["cpu"])))


def named_host(row: dict, cpu: dict) -> Machine:
    """The row's host as a user names its CPU ('ryzen 9 7950x 64gb': catalog/cpu_names.py): the table's clock, SIMD,
    FLOP per cycle and rated memory bandwidth; the run's own facts kept (its -t threads, its llama.cpp build)."""
    from selfhost_advisor.catalog.cpu_names import spec_fields
    from selfhost_advisor.catalog.custom_cpu import cpu_machine, cpu_profile

    fields = spec_fields(cpu, "64GB", threads=int(row["threads"]))
    if BUILD_DATES and build_date(row):
        fields["build_date"] = build_date(row)
    return cpu_machine(cpu_profile(fields, f"named {cpu['id']}"), cpu["name"], None)


def named_report() -> list[dict]:
    """Rows (with `mem_gbps`, not fitted on) whose CPU is in data/cpus.yaml: ratio ours / measured through the named
    path and through the row's own spec (at its stated maximum clock, as `report`)."""
    import yaml

    out = []
    for r in yaml.load(ROWS.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]:  # noqa: S506
        cpu = table_row(r)
        if cpu is None or not r.get("mem_gbps") or r.get("fitted"):
            continue
        spec_ratio = predict(r, r["clock_ghz"] * 1e9) / r["tokens_per_s"]
        named_ratio = predict_on(r, named_host(r, cpu)) / r["tokens_per_s"]
        out.append({"cpu": r["cpu"], "table_id": cpu["id"], "threads": r["threads"], "model": r["model"],
                    "quant": r["quant"], "test": r["test"], "measured": r["tokens_per_s"], "blind": bool(r.get("blind")),
                    "ratio_spec": spec_ratio, "ratio_named": named_ratio})
    return out


def named_summary(rows: list[dict]) -> dict:
    """Median |ratio - 1| and median ratio of both paths, prompt and decode rows apart."""
    out = {}
    for kind in ("pp", "tg"):
        sel = [r for r in rows if r["test"].startswith(kind)]
        if sel:
            out[kind] = {"rows": len(sel)} | {
                f"{path}_{what}": fn([r[f"ratio_{path}"] for r in sel])
                for path in ("spec", "named")
                for what, fn in (("median_ratio", statistics.median),
                                 ("median_abs_error", lambda xs: statistics.median(abs(x - 1) for x in xs)))}
    return out


def report(session11: bool | None = None) -> list[dict]:
    """One dict per row; session11=True: only the rows with `mem_gbps`, False: only the earlier ones, None: all."""
    import yaml

    out = []
    for r in yaml.load(ROWS.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["rows"]:  # noqa: S506
        if session11 is not None and bool(r.get("mem_gbps")) != session11:
            continue
        at_max = predict(r, r["clock_ghz"] * 1e9)
        at_base = predict(r, r["base_clock_ghz"] * 1e9) if r.get("base_clock_ghz") else None
        at_load = predict(r, r["load_clock_ghz"] * 1e9) if r.get("load_clock_ghz") else None
        h = host(r, 1e9)
        out.append({"cpu": r["cpu"], "threads": r["threads"], "model": r["model"], "quant": r["quant"],
                    "test": r["test"], "measured": r["tokens_per_s"],
                    "isa": prefill_isa(h) if r["test"].startswith("pp") else cpu_isa(h),
                    "ours_at_max_clock": at_max, "ratio_at_max_clock": at_max / r["tokens_per_s"],
                    "ratio_at_base_clock": at_base / r["tokens_per_s"] if at_base else None, "url": r["url"],
                    "ratio_at_load_clock": at_load / r["tokens_per_s"] if at_load else None,
                    "arm": "neon" in r["flags"], "block": r.get("block", ""),
                    "session11": bool(r.get("mem_gbps")), "blind": bool(r.get("blind")),
                    "fitted": bool(r.get("fitted"))})
    return out


def summary(rows: list[dict]) -> dict:
    """Median |error| (at the stated maximum clock) for prompt and decode rows, and their median ratios."""
    out = {}
    for kind in ("pp", "tg"):
        sel = [r["ratio_at_max_clock"] for r in rows if r["test"].startswith(kind)]
        if sel:
            out[kind] = {"rows": len(sel), "median_ratio": statistics.median(sel),
                         "median_abs_error": statistics.median(abs(x - 1) for x in sel)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--session11", action="store_true", help="only the session 11 rows (with the memory named)")
    ap.add_argument("--no-core-flops", action="store_true", help="ignore the rows' flops_per_cycle")
    ap.add_argument("--no-cpu2-keys", action="store_true", help="ignore the rows' e_cores, e_clock_ghz, cpu_bw_gbps")
    ap.add_argument("--no-build-dates", action="store_true", help="score every row with the newest kernels")
    ap.add_argument("--named", action="store_true", help="rows whose CPU is in data/cpus.yaml: the named path beside "
                    "the row's own spec (docs/methodology.md 4e-cpu16)")
    args = ap.parse_args()
    global CORE_FLOPS, CPU2_KEYS, BUILD_DATES
    BUILD_DATES = not args.no_build_dates
    CORE_FLOPS = not args.no_core_flops
    CPU2_KEYS = not args.no_cpu2_keys
    if args.named:
        return _print_named()
    rows = report(True if args.session11 else None)
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary([r for r in rows if not r["blind"] and not r["fitted"]]),
                          "blind_summary": summary([r for r in rows if r["blind"]])}, indent=2))
        return 0
    for r in rows:
        base = f" (base clock {r['ratio_at_base_clock']:.2f})" if r["ratio_at_base_clock"] else ""
        base += f" (stated load clock {r['ratio_at_load_clock']:.2f})" if r["ratio_at_load_clock"] else ""
        print(f"{r['cpu'][:26]:26} {r['threads']:3d}t {r['isa']:9} {r['model']:14} {r['quant']:6} {r['test']:6} "
              f"measured {r['measured']:7.2f}  ours {r['ours_at_max_clock']:7.2f}  ratio {r['ratio_at_max_clock']:.2f}{base}")
    held = [r for r in rows if not r["blind"] and not r["fitted"]]  # rows a constant was fitted on are not held out
    old = [r for r in held if not r["block"].startswith("cpu3s15")]  # the rows scored before session 15
    classes = (("held out", held), ("blind", [r for r in rows if r["blind"]]),
               ("fitted on (session 19 pp4096 block: the CPU attention rate; in-sample)", [r for r in rows if r["fitted"]]),
               ("held out ARM", [r for r in held if r["arm"]]), ("held out x86", [r for r in held if not r["arm"]]),
               ("cpu2 block", [r for r in held if r["block"] == "cpu2"]),
               ("session 12 cpu2 block", [r for r in held if r["block"] == "cpu2s12"]),
               ("session 13 cpuarm block", [r for r in held if r["block"] == "cpuarm13"]),
               ("session 14 cpuarm2 block", [r for r in held if r["block"] == "cpuarm14"]),
               ("session 14 cpux86 block (new hosts)", [r for r in held if r["block"] == "cpux86s14"]),
               ("session 14 cpux86 block (EPYC 7702 columns)", [r for r in held if r["block"] == "cpux86s14b"]),
               ("session 15 cpu3 block (7950X, ik_llama.cpp #164/#533 mainline)", [r for r in held if r["block"] == "cpu3s15zen4"]),
               ("session 15 cpu3 block (M2 Max, ik_llama.cpp #164 mainline)", [r for r in held if r["block"] == "cpu3s15m2"]),
               ("session 15 cpu3 block (M4 Max / Pi 5, Arm repack PRs)", [r for r in held if r["block"] == "cpu3s15arm"]),
               ("session 15 cpu3 block (all)", [r for r in held if r["block"].startswith("cpu3s15")]),
               ("session 21 cpu5 block (i3-14100, normiebench #36)", [r for r in held if r["block"] == "cpu5s21"]),
               ("session 22 cpu6 block (Graviton3/3E SVE columns, #12064 #11917 #21916)",
                [r for r in held if r["block"] == "cpu6s22sve"]),
               ("held out before session 22", [r for r in held if r["block"] != "cpu6s22sve"]),
               ("before session 12", [r for r in old if r["block"] not in ("cpu2s12", "cpuarm13", "cpuarm14")
                                      and not r["block"].startswith("cpux86s14")]),
               ("before session 13", [r for r in old if r["block"] not in ("cpuarm13", "cpuarm14")
                                      and not r["block"].startswith("cpux86s14")]),
               ("before session 14", [r for r in old if r["block"] != "cpuarm14" and not r["block"].startswith("cpux86s14")]),
               ("before session 15", old),
               ("held out x86 before session 14", [r for r in old if not r["arm"]
                                                    and not r["block"].startswith("cpux86s14")]))
    for label, sel in classes:
        for kind, s in summary(sel).items():
            print(f"{label} {kind}: {s['rows']} rows, median ratio {s['median_ratio']:.2f}, median |error| "
                  f"{s['median_abs_error'] * 100:.1f}% (at the stated maximum clock)")
    return 0


def _print_named() -> int:
    rows = named_report()
    for r in rows:
        print(f"{r['cpu'][:30]:30} {r['table_id']:22} {r['threads']:3d}t {r['model']:14} {r['quant']:6} {r['test']:6} "
              f"measured {r['measured']:7.2f}  spec {r['ratio_spec']:.2f}  named {r['ratio_named']:.2f}")
    for label, sel in (("all", rows), ("held out", [r for r in rows if not r["blind"]])):
        for kind, s in named_summary(sel).items():
            print(f"{label} {kind}: {s['rows']} rows; own spec: median ratio {s['spec_median_ratio']:.2f}, median "
                  f"|error| {s['spec_median_abs_error'] * 100:.1f}%; named: median ratio {s['named_median_ratio']:.2f}, "
                  f"median |error| {s['named_median_abs_error'] * 100:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
