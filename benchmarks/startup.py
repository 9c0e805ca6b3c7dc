"""Start-up cost of `advisor` commands relative to `python -c "import typer"` (issue 8's yardstick).

Usage: python benchmarks/startup.py [--runs 10]
Each command and the baseline run alternately in fresh processes; the ratio of medians is printed, so machine
speed cancels out. Goals: fit --json <= 1.6x, models --fits over the full catalog <= 3x.
The "typer floor" row is a one-command typer app that prints '{}' (benchmarks/floor_app.py): what parsing
argv with typer costs on top of importing it, before any work of ours.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

FLOOR = [sys.executable, str(Path(__file__).with_name("floor_app.py")), "fit", "x", "--hardware", "y", "--json"]
CASES = {
    "typer floor": None,
    "fit --json": ["fit", "llama3.1:70b", "--hardware", "rtx4090", "--json"],
    "models --fits --json": ["models", "--fits", "rtx4090", "--json"],
    "hardware --json": ["hardware", "--json"],
    "probe --json": ["probe", "--json"],
}
GOALS = {"fit --json": 1.6, "models --fits --json": 3.0}


def _time(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def _advisor() -> list[str]:
    """The installed `advisor` entry point (what users and CI run); `python -m selfhost_advisor` when there is none."""
    script = Path(sys.executable).with_name("advisor")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "selfhost_advisor"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    base_cmd = [sys.executable, "-c", "import typer"]
    advisor = _advisor()
    print(f"timing {' '.join(advisor)} against {' '.join(base_cmd)}, {args.runs} alternating runs each")
    for name, argv in CASES.items():
        cmd = FLOOR if argv is None else [*advisor, *argv]
        _time(cmd)  # warm the page cache
        ta, tb = [], []
        for _ in range(args.runs):
            ta.append(_time(cmd))
            tb.append(_time(base_cmd))
        ratio = statistics.median(ta) / statistics.median(tb)
        goal = GOALS.get(name)
        verdict = "" if goal is None else (" (goal <= %.1f: %s)" % (goal, "met" if ratio <= goal else "NOT met"))
        print(f"{name:22s} median {statistics.median(ta) * 1000:6.0f} ms, import typer {statistics.median(tb) * 1000:5.0f} ms,"
              f" ratio {ratio:.2f}{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
