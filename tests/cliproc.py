"""Running the real `advisor` in subprocesses, isolated from this machine's caches, tokens and network."""
from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def isolated_env(home: Path, ollama: Path) -> dict[str, str]:
    """This process's environment without Hub tokens, with a scratch ADVISOR_HOME and Ollama dir, no Hub network,
    no colour, a fixed width, and this checkout first on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE"))}
    env.update(NO_COLOR="1", COLUMNS="120", ADVISOR_HOME=str(home), OLLAMA_MODELS=str(ollama), HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    return env


def run_all(jobs: list[tuple[list[str], dict[str, str]]], cwd: Path) -> list[subprocess.CompletedProcess]:
    """`python -m selfhost_advisor ARGV` for each (argv, env), in parallel threads, results in job order."""
    def run(job):
        argv, env = job
        return subprocess.run([sys.executable, "-m", "selfhost_advisor", *argv], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 4)) as pool:
        return list(pool.map(run, jobs))
