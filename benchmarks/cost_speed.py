"""CPU time of `advisor cost` as a user runs it (one process per command: the serving model's caches start cold),
for cost cases that benchmarks/same_output.py also checks byte for byte. Median of N runs of each; CPU seconds
(user + system of the child) rather than wall time, so other load on the machine matters less.

    python benchmarks/cost_speed.py [N]
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY = ["--price-date", "2026-12-05", "--json"]
CASES = {
    "default spread, 2e9": ["-t", "2e9"],
    "2x rtx4090 vs gpt-4o, 730 h, peak 3, spare": ["-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o",
                                                   "--active-hours", "730", "--peak-to-average", "3", "--spare", "1",
                                                   "--cached-input-share", "0.2"],
    "hybrid vs together, 3e9": ["-t", "3e9", "-H", "2x rtx4090,2x h100-sxm", "--cloud", "together/llama3.1:70b",
                                "--active-hours", "730"],
    "measured worked case": ["-t", "1e9", "-H", "2x rtx4090", "--decode-tps", "600", "--prefill-tps", "4000",
                             "--cloud", "claude-sonnet-5-5", "--cached-input-share", "0.5", "--cache-write-share", "0.1"],
}


def _cpu(argv: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "selfhost_advisor", "cost", *argv, *DAY], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for name, argv in CASES.items():
        times = [_cpu(argv) for _ in range(n)]
        print(f"{name:<45} median {statistics.median(times):.3f} s CPU (min {min(times):.3f}, n={n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
