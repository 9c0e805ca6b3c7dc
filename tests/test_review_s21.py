"""Session 21 review (rev21): bad input and a new user's first commands."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The console script's first line, `from selfhost_advisor.cli import run`, with Ctrl-C arriving while typer loads
# (what a user who presses it in the first ~0.2 s of any command does); one subprocess, the imports must be fresh.
_INTERRUPT_AT_IMPORT = """
import builtins, sys
real = builtins.__import__
def imp(name, *a, **k):
    if name == "typer":
        raise KeyboardInterrupt
    return real(name, *a, **k)
builtins.__import__ = imp
from selfhost_advisor.cli import run
"""


def test_ctrl_c_while_the_cli_loads_exits_130_without_a_traceback():
    p = subprocess.run([sys.executable, "-c", _INTERRUPT_AT_IMPORT], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert p.returncode == 130, p.stderr
    assert p.stderr == "advisor: interrupted\n" and p.stdout == ""
