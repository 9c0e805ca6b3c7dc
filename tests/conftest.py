from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT.parent / "shared" / "calibration"
sys.path.insert(0, str(ROOT / "benchmarks"))


# This environment sets PYTHONDONTWRITEBYTECODE, and pytest then rewrites every test module's asserts again on every
# run, in each xdist worker (~2.4 s of CPU per worker of ~7 s of collection): let this process keep its compiled test
# modules (tests/__pycache__, git-ignored), as pytest_sessionstart below keeps the package's. Subprocesses keep the
# variable and read the package's .pyc.
sys.dont_write_bytecode = False

# Property tests (hypothesis) run a third of their stated max_examples (at least 20) in local and landing runs, and
# all of them where ADVISOR_FULL_PROPERTIES=1 (.ci/run sets it: CI still runs everything). Why: ~40 property tests
# took about a third of the suite's CPU time on the shared 2-core machine (issue 19: the suite within a minute); a
# third still draws far more inputs than the rows the properties are about (the explicit @example rows always run).
# The stated counts are sized to one example's cost: session 14 cut the fourteen dearest (300-500 examples of 5-20 ms
# each: model names with their closest-name search, hardware specs, GGUF / Hub / probe mutations, the select laws)
# to 100-200, ~15 s of CI's CPU; each still draws a fresh sample every run and keeps its @example rows.
PROPERTY_SHARE = 1.0 if os.environ.get("ADVISOR_FULL_PROPERTIES") == "1" else 1 / 3


def pytest_sessionstart(session):
    """Compile the package to .pyc once, as pip does when it installs it. Why: this environment sets
    PYTHONDONTWRITEBYTECODE, so without it every `advisor` subprocess the suite starts compiled the whole package
    from source again (~0.3 s of CPU each, ~4x the command itself; issue 19: suite time)."""
    import compileall

    compileall.compile_dir(str(ROOT / "selfhost_advisor"), quiet=1)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """After each test (its fixtures torn down): collect what it left and freeze the rest of the heap (gc.freeze).

    Why (suite time): a worker's heap grows to hundreds of thousands of long-lived objects (the estimate caches, the
    catalog, module fixtures), and every full collection the interpreter triggers walked all of them again: ~6% of a
    worker's CPU in the collector, more in the caches it flushed (tests/test_plan, select, widths, cost_cli, quants in
    one process: 17.4-17.9 s -> 15.9-16.5 s of CPU, peak RSS 228 -> 226 MB). Frozen objects are left out of
    every later collection, so a collection walks only what the current test made; collecting before freezing keeps
    a test's garbage cycles from being frozen with it. No test depends on the collector's timing."""
    import gc

    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """In an xdist worker, once its tests are done and before it reports so: collect and freeze the heap, then ignore
    SIGINT. Why: the controller tells the workers to exit as soon as the last one has reported, and execnet gives a
    worker 5 s of wall time to finish its teardown before it sends the worker a SIGINT of its own
    (execnet/gateway_base.py, _terminate_execution). That teardown (pytest_unconfigure) runs a full gc.collect over
    the hundreds of thousands of objects a worker holds (369k after a third of the suite); at load average 18 it
    took longer than 5 s, and the KeyboardInterrupt landed in hypothesis's gc callback: a
    PytestUnraisableExceptionWarning at the end of two full runs (no test sends SIGINT). Collected here, with
    nothing waiting, and frozen (gc.freeze), the heap leaves the teardown's collection nothing to walk; once the
    results are sent a SIGINT could only cut the teardown short (execnet still ends a worker 10 s later with
    os._exit, and a Ctrl-C still reaches the controller)."""
    if not hasattr(session.config, "workerinput"):
        return
    import gc
    import signal

    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def pytest_collection_modifyitems(config, items):
    if PROPERTY_SHARE == 1.0:
        return
    from hypothesis import settings

    for item in items:
        test = getattr(getattr(item, "obj", None), "hypothesis", None)
        inner = getattr(test, "inner_test", None)
        wrapped = getattr(item.obj, "_hypothesis_internal_use_settings", None)
        if inner is None or wrapped is None or getattr(item.obj, "_advisor_scaled", False):
            continue
        item.obj._hypothesis_internal_use_settings = settings(
            wrapped, max_examples=max(min(20, wrapped.max_examples), round(wrapped.max_examples * PROPERTY_SHARE)))
        item.obj._advisor_scaled = True


def _calibration_missing(exc: BaseException) -> bool:
    """True when `exc` is a missing file of ../shared/calibration and that folder is not beside this checkout."""
    name = getattr(exc, "filename", None)
    if not isinstance(exc, FileNotFoundError) or not name or CALIBRATION.is_dir():
        return False
    return os.path.normpath(os.path.abspath(name)).startswith(os.path.normpath(str(CALIBRATION)) + os.sep)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # A test that reads ../shared/calibration (the measured reference data, not part of this repository) is skipped,
    # not failed, in a checkout without it, as the `calibration` fixture and the needs_cal marks skip theirs: a user's
    # fresh clone runs the README's test command green, and CI (which has the folder) runs every such test. Only a
    # FileNotFoundError for a path inside that folder while the folder is absent is turned into a skip: any other
    # error, or a missing calibration file while the folder is present, still fails.
    try:
        return (yield)
    except FileNotFoundError as exc:
        if _calibration_missing(exc):
            pytest.skip(f"../shared/calibration is not beside this checkout ({os.path.basename(exc.filename)})")
        raise


@pytest.fixture(scope="session")
def calibration() -> Path:
    if not (CALIBRATION / "gguf_sizes.csv").exists():
        pytest.skip("../shared/calibration is not beside this checkout")
    return CALIBRATION


@pytest.fixture
def no_hints(monkeypatch):
    """Hardware refusals without their 'did you mean' hint (hw_names.suggestions, difflib over every name): for tests
    that walk the spec table and check what each name resolves to, a refusal's choices, or that it is refused, none of
    which depends on the hint; it was ~90% of those walks' time (tests/test_typed_names_s27.py,
    test_vendor_words_s20.py; session 31)."""
    from selfhost_advisor.catalog import hw_names

    monkeypatch.setattr(hw_names, "suggestions", lambda *a, **k: [])


@pytest.fixture(scope="session")
def _homes(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("homes")


_HOME_SEQ = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_home(_homes, monkeypatch):
    # Each test gets its own ADVISOR_HOME that does not exist yet (the code creates it when it writes, as it would the
    # user's), under one directory per worker. Not tmp_path: pytest makes a numbered directory and moves a symlink for
    # each, and deletes them all a few sessions later; for the ~6000 tests that never ask for tmp_path that was ~1-4 ms
    # of file-system work per test on the shared machine (issue: suite time).
    home = _homes / str(next(_HOME_SEQ))
    monkeypatch.setenv("ADVISOR_HOME", str(home / "advisor-home"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")  # text output fits the terminal's width: the same for every test run
    # No test sees this machine's Ollama models or reaches the real Hub (tests/hubfake.py serves recorded answers).
    monkeypatch.setenv("OLLAMA_MODELS", str(home / "no-ollama-models"))
    from selfhost_advisor.catalog import hub

    def _no_network():
        raise hub.NetworkError("tests never reach the network; install tests/hubfake.FakeHub")

    monkeypatch.setattr(hub, "transport_factory", _no_network)
    # No test times this machine's clock or RAM (probe/hostrate.py): the live probe sees "not measured", so outputs
    # stay the same on every box; tests of the measurement call it or fake it themselves.
    from selfhost_advisor.probe import hostrate

    monkeypatch.setattr(hostrate, "host_rates", lambda threads, *a, **kw: hostrate.HostRates(
        clock_hz=None, read_bandwidth_bytes_per_s=None, threads=threads, seconds=0.0, method="tests: not measured"))
