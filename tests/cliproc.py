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


class Measured:
    """A finished `advisor` process: exit status, output, wall time, CPU time and peak resident memory (wait4's
    rusage). CPU time is what a time bound should check: wall time on a shared 2-core machine measures the neighbours."""

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes, seconds: float, cpu_s: float,
                 maxrss_mb: float) -> None:
        self.returncode, self.stdout_bytes, self.stderr_bytes = returncode, stdout, stderr
        self.stdout = stdout.decode("utf-8", "replace")
        self.stderr = stderr.decode("utf-8", "replace")
        self.seconds, self.cpu_s, self.maxrss_mb = seconds, cpu_s, maxrss_mb


def run_measured(jobs: list[tuple[list[str], dict[str, str]]], cwd: Path, *, timeout: float = 20,
                 address_space: int = 2 << 30, stdin=None) -> list[Measured]:
    """Like run_all, with each process's wall time and peak RSS, under an address-space limit (a blow-up fails fast
    instead of taking the machine's memory). A process still running after `timeout` is killed (returncode -9)."""
    import resource
    import threading
    import time

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    def run(job) -> Measured:
        argv, env = job
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-m", "selfhost_advisor", *argv], cwd=cwd, env=env,
                             stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=limit)
        chunks: dict[str, bytes] = {}

        def drain(name, stream):
            chunks[name] = stream.read()

        readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", p.stdout), ("err", p.stderr))]
        for r in readers:
            r.start()
        killer = threading.Timer(timeout, p.kill)
        killer.start()
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.monotonic() - t0
        killer.cancel()
        for r in readers:
            r.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        return Measured(p.returncode, chunks.get("out", b""), chunks.get("err", b""), seconds,
                        usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)

    with ThreadPoolExecutor(max_workers=max(4, os.cpu_count() or 4)) as pool:
        return list(pool.map(run, jobs))


class Ran:
    """What run_inprocess gives for one job: the fields of subprocess.CompletedProcess the tests read."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr


def run_inprocess(jobs: list[tuple[list[str], dict[str, str]]], cwd: Path) -> list[Ran]:
    """Like run_all, through cli.main in this process: for each job the environment is exactly `env` (os.environ
    replaced, then restored), the working directory `cwd`, stdout and stderr fresh UTF-8 text buffers.

    For tables where the process adds nothing the command itself does not decide (exit code, the lines written):
    each row costs its own work only, not an interpreter start and the imports (~0.1 s of CPU each). Keep a few rows
    through run_all so that the real entry point stays covered (tests/test_bad_input.py does)."""
    import io

    from selfhost_advisor.cli import main

    out: list[Ran] = []
    saved_env, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdout, sys.stderr)
    try:
        os.chdir(cwd)
        for argv, env in jobs:
            os.environ.clear()
            os.environ.update(env)
            sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
            code = main(list(argv))
            out.append(Ran(list(argv), code, sys.stdout.getvalue(), sys.stderr.getvalue()))
    finally:
        sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return out
