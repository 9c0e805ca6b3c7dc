"""Running the real `advisor` in subprocesses, isolated from this machine's caches, tokens and network."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


_UNMEASURED: dict[str, str] = {}


def unmeasured_home(home: Path | str) -> str:
    """`home` (created) holding the probe's per-boot host-rate cache that says "not measured"; returns it as a str.

    What conftest's host_rates stub does in this process, for real `advisor` processes: one that probes this machine
    (probe, fit without --hardware) in a fresh ADVISOR_HOME measured the host's clock and read stream first, about
    1.2 s of CPU and a 1.2 GB buffer on the 2-core CI box, per process, with figures that differ from box to box. The
    measurement has its own tests (tests/test_cpu_speed.py); the key (boot time, threads) is the probe's own."""
    import json

    if not _UNMEASURED:
        import psutil

        from selfhost_advisor.probe.cpu import probe_cpu
        from selfhost_advisor.probe.measure import llama_threads

        threads = llama_threads("/", probe_cpu("/").physical_cores)
        _UNMEASURED["text"] = json.dumps({"boot_time": psutil.boot_time(), "threads": threads, "clock_hz": None,
                                          "bw": None, "bw1": None, "method": "tests: not measured"})
    Path(home).mkdir(parents=True, exist_ok=True)
    (Path(home) / "host_rates.json").write_text(_UNMEASURED["text"], encoding="utf-8")
    return str(home)


def isolated_env(home: Path, ollama: Path) -> dict[str, str]:
    """This process's environment without Hub tokens, with a scratch ADVISOR_HOME (unmeasured_home) and Ollama dir,
    no Hub network, no colour, a fixed width, and this checkout first on the import path."""
    unmeasured_home(home)
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

    def assert_ends_at_once(self, code: int, named: str) -> None:
        """The hostile-input contract: it ended (no hang: run_measured kills at its timeout), without a traceback, with
        `code`, within 2 s of CPU and 200 MB of peak RSS; an exit 2 is one line naming `named`, stdout empty."""
        assert self.returncode != -9, f"hung: killed after {self.seconds:.0f} s"
        assert "Traceback" not in self.stderr, self.stderr
        assert self.returncode == code, self.stderr
        assert self.cpu_s < 2, f"{self.cpu_s:.2f} s of CPU"
        assert self.maxrss_mb < 200, f"peak RSS {self.maxrss_mb:.0f} MB"
        if code == 2:
            assert self.stdout == "" and self.stderr.startswith("advisor: ") and self.stderr.count("\n") == 1, self.stderr
            assert named in self.stderr, f"the message should name {named!r}: {self.stderr}"


# Runs the CLI as `python -m selfhost_advisor` does, and at exit writes the process's VmHWM (peak RSS of the address
# space exec created, KiB) to $CLIPROC_HWM_FILE (Linux /proc; elsewhere nothing is written).
_HWM_BOOT = """
import atexit, os, runpy, sys
def _hwm(path=os.environ.pop("CLIPROC_HWM_FILE", "")):
    try:
        with open("/proc/self/status") as fh:
            kib = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
        with open(path, "w") as out:
            out.write(kib)
    except (OSError, StopIteration):
        pass
atexit.register(_hwm)
sys.argv = ["selfhost_advisor", *sys.argv[1:]]
runpy.run_module("selfhost_advisor", run_name="__main__", alter_sys=True)
"""


def _watch(p: subprocess.Popen, ended, stall: float, cpu_limit: float, psutil, poll: float = 0.25) -> None:
    """Kill `p` when it gained no CPU time for `stall` seconds of wall time, or used `cpu_limit` seconds of CPU; stop
    when `ended` is set."""
    import time

    try:
        proc = psutil.Process(p.pid)
        last_cpu, last_gain = -1.0, time.monotonic()
        while not ended.wait(poll):
            t = proc.cpu_times()
            cpu = t.user + t.system
            now = time.monotonic()
            if cpu > last_cpu:
                last_cpu, last_gain = cpu, now
            if cpu >= cpu_limit or now - last_gain >= stall:
                # os.kill, not p.kill: Popen.kill polls first, and that would reap the exit the caller waits for
                os.kill(p.pid, signal.SIGKILL)
                return
    except psutil.Error:  # it ended (a zombie until reaped): nothing to watch
        return


def run_measured(jobs: list[tuple[list[str], dict[str, str]]], cwd: Path, *, timeout: float = 20,
                 address_space: int = 2 << 30, stdin=None) -> list[Measured]:
    """Like run_all, with each process's wall time and peak RSS, under an address-space limit (a blow-up fails fast
    instead of taking the machine's memory). A hung process is killed (returncode -9): one that gained no CPU time
    for `timeout` seconds (blocked: a FIFO, a lock, a read that never returns), or that used `timeout` seconds of CPU
    (a loop that never ends).

    Not wall time since the start: on the shared 2-core machine at load average 16-18, a hostile-file row that takes
    1.1 s of CPU took 17.6 s of wall time (a `nice -n 10` run beside the other helpers' suites), so a 20 s wall-clock
    kill called a working process hung. A process that waits on the run queue still gains CPU time every second; a
    blocked one gains none, whatever the load. The CPU bound itself is each test's own assertion (Measured.cpu_s)."""
    import resource
    import threading
    import time

    import psutil

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    def run(job) -> Measured:
        argv, env = job
        hwm = tempfile.NamedTemporaryFile(prefix="cliproc-hwm-", delete=False)
        hwm.close()
        env = {**env, "CLIPROC_HWM_FILE": hwm.name}
        t0 = time.monotonic()
        p = subprocess.Popen([sys.executable, "-c", _HWM_BOOT, *argv], cwd=cwd, env=env,
                             stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, preexec_fn=limit)
        chunks: dict[str, bytes] = {}

        def drain(name, stream):
            chunks[name] = stream.read()

        readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", p.stdout), ("err", p.stderr))]
        for r in readers:
            r.start()
        ended = threading.Event()
        watchdog = threading.Thread(target=_watch, args=(p, ended, timeout, timeout, psutil))
        watchdog.start()
        # Wait for the exit without reaping (WNOWAIT): until wait4 below the pid stays this child's (a zombie), so the
        # watchdog can never signal another process that reused it.
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.monotonic() - t0
        ended.set()
        watchdog.join()
        _, status, usage = os.wait4(p.pid, 0)
        for r in readers:
            r.join()
        p.returncode = os.waitstatus_to_exitcode(status)
        # Peak RSS of the CLI's own address space (VmHWM at exit, KiB). ru_maxrss is not it: the child is forked (for
        # preexec_fn) from this test process, and Linux carries the pre-exec high-water mark (this process's RSS, the
        # xdist worker's whole size) into the child's ru_maxrss across exec.
        with open(hwm.name) as fh:
            text = fh.read().strip()
        os.unlink(hwm.name)
        peak_kib = int(text) if text.isdigit() else usage.ru_maxrss  # killed, or no /proc: the rusage figure
        return Measured(p.returncode, chunks.get("out", b""), chunks.get("err", b""), seconds,
                        usage.ru_utime + usage.ru_stime, peak_kib / 1024)

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


def check_cli_table(table: list[tuple[list[str], int, str]], tmp_path: Path) -> None:
    """Run each (argv, exit code, word) row in process with an isolated home and Ollama store: the exit code must be
    the row's, and a refusal (exit 2) must write nothing to stdout and one stderr line naming `word` (the
    catalog-release tests' tables: tests/test_new_releases_session16.py, _session30.py, test_models_session31.py)."""
    env = isolated_env(tmp_path / "home", tmp_path / "ollama")
    for (argv, rc, word), ran in zip(table, run_inprocess([(argv, env) for argv, _, _ in table], tmp_path)):
        assert ran.returncode == rc, (argv, ran.stderr)
        if rc == 2:
            assert ran.stdout == "" and len(ran.stderr.strip().splitlines()) == 1 and word in ran.stderr, (argv, ran.stderr)


def run_batch(jobs: list[tuple[list[str], dict[str, str]]], cwd: Path, env: dict[str, str]) -> list[Ran]:
    """run_inprocess in one fresh `python` process started with `env` (e.g. another PYTHONHASHSEED): every job's
    own environment, folder and fresh streams as there, results in job order.

    For comparisons between processes (the same bytes under another hash seed): one interpreter start and one set of
    imports for the whole table instead of one per row (~0.3 s of CPU each on the 2-core CI box). The real entry
    point (`python -m selfhost_advisor`) stays covered by run_all rows elsewhere (tests/test_bad_input.py)."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        spec, result = Path(tmp) / "jobs.json", Path(tmp) / "results.json"
        spec.write_text(json.dumps({"jobs": jobs, "cwd": str(cwd)}), encoding="utf-8")
        code = ("import json, sys; sys.path.insert(0, sys.argv[3]); from cliproc import run_inprocess; "
                "from pathlib import Path; s = json.loads(Path(sys.argv[1]).read_text(encoding='utf-8')); "
                "r = run_inprocess([(a, e) for a, e in s['jobs']], Path(s['cwd'])); "
                "Path(sys.argv[2]).write_text(json.dumps([[x.args, x.returncode, x.stdout, x.stderr] for x in r]), "
                "encoding='utf-8')")
        p = subprocess.run([sys.executable, "-c", code, str(spec), str(result), str(Path(__file__).parent)],
                           cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0 and result.exists(), p.stderr[-3000:]
        return [Ran(*row) for row in json.loads(result.read_text(encoding="utf-8"))]
