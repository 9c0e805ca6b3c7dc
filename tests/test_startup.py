"""Start-up stays within reach of its goal (issue 8, issue 19): `advisor fit ... --json` within 1.6x the time of
`python -c "import typer"`, measured as benchmarks/startup.py does (alternating fresh processes).

Here the measure is CPU time (user + system, wait4's rusage) rather than wall time: on a shared 2-core machine wall
time measures the neighbours. The bound is the goal with room for noise (2.0x; measured 1.4x on 2026-12-05), so it
fails on a real regression (a heavy import on the --json path, work done for the whole catalog) and not on a busy
machine. The least of 7 runs each is compared, not the median: noise (a neighbour evicting caches, a page fault
storm) only ever adds CPU time, so the minimum is the estimate least moved by it (one landing saw a 2.12x median under
load that measured 1.4x alone). benchmarks/startup.py gives the figure to report.

Under xdist load the least of 7 still read 2.08x once (session 14, a full `-n auto` run; 3/3 alone and the next full
run passed): every one of the 7 runs of fit had a busy neighbour. So a round over the bound is followed by up to
ROUNDS - 1 more, and the least over all runs counts. That cannot pass a real regression: noise only adds CPU time,
so more runs only bring the minimum nearer the true figure, and a --json path that truly costs over 2.0x is over it
in every run. What a round measures and the bound are unchanged.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
ROUNDS = 3


def _cpu(cmd: list[str], env: dict[str, str]) -> float:
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(p.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return usage.ru_utime + usage.ru_stime


def test_fit_json_costs_less_than_twice_import_typer(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # a user's install has .pyc files
    env.update(ADVISOR_HOME=str(tmp_path), NO_COLOR="1")
    fit = [sys.executable, "-m", "selfhost_advisor", "fit", "llama3.1:70b", "--hardware", "rtx4090", "--json"]
    typer = [sys.executable, "-c", "import typer"]
    _cpu(fit, env), _cpu(typer, env)  # warm-up: .pyc files and the page cache
    ours, base, ratios = [], [], []
    for _ in range(ROUNDS):
        for _ in range(RUNS):
            ours.append(_cpu(fit, env))
            base.append(_cpu(typer, env))
        ratios.append(min(ours) / min(base))
        if ratios[-1] <= 2.0:
            break
    assert ratios[-1] <= 2.0, (f"fit --json took {ratios[-1]:.2f}x the CPU time of import typer (goal 1.6x; least of "
                               f"{len(ours)} runs each; after each round: {', '.join(f'{r:.2f}' for r in ratios)})")
