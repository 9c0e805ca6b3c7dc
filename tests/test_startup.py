"""Start-up stays within reach of its goal (issue 8, issue 19): `advisor fit ... --json` within 1.6x the time of
`python -c "import typer"`, measured as benchmarks/startup.py does (alternating fresh processes).

Here the measure is CPU time (user + system, wait4's rusage) rather than wall time: on a shared 2-core machine wall
time measures the neighbours. The bound is the goal with room for noise (2.0x; measured 1.4x on 2026-12-05), so it
fails on a real regression (a heavy import on the --json path, work done for the whole catalog) and not on a busy
machine. The least of 7 runs each is compared, not the median: noise (a neighbour evicting caches, a page fault
storm) only ever adds CPU time, so the minimum is the estimate least moved by it (one landing saw a 2.12x median under
load that measured 1.4x alone). benchmarks/startup.py gives the figure to report.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


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
    ours, base = [], []
    for _ in range(RUNS):
        ours.append(_cpu(fit, env))
        base.append(_cpu(typer, env))
    ratio = min(ours) / min(base)
    assert ratio <= 2.0, f"fit --json took {ratio:.2f}x the CPU time of import typer (goal 1.6x)"
