"""Streams through the real `advisor` process: closed stdout, /dev/full, a pipe closed early (`| head -1`), stdouts
that cannot encode box-drawing and chart glyphs. All cases run once, in parallel, in a module fixture.

Expected: a closed pipe is a quiet exit 0 (text and --json); closed stdout or a full disk is one line on stderr and
exit 2; an ascii or latin-1 stdout gets ASCII look-alikes (exit 0, no traceback).
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from cliproc import isolated_env

FIT = ["fit", "llama3.1:8b", "--vram", "24GB"]
COST = ["cost", "-t", "1e9", "-H", "rtx4090"]
F_SETPIPE_SZ = 1031  # linux/fcntl.h: a 4 KiB pipe, so the writer meets the closed end even for short output
# (the stream cases list `models qwen`, 9 KB of text and 43 KB of JSON, not the whole catalog: ~0.4 s of CPU less each;
# the ascii cases keep the whole catalog, every model name through the look-alike table)

CASES = {
    "closed stdout, text": ("closed", FIT),
    "closed stdout, json": ("closed", [*FIT, "--json"]),
    "/dev/full, text": ("full", FIT),
    "/dev/full, json": ("full", ["hardware", "--json"]),
    "/dev/full, models": ("full", ["models", "qwen"]),
    "head -1, models": ("head", ["models", "qwen"]),
    "head -1, models json": ("head", ["models", "qwen", "--json"]),
    "head -1, fit": ("head", FIT),
    "head -1, hardware": ("head", ["hardware"]),
    "head -1, cost": ("head", COST),
    "ascii, fit": ("ascii", FIT),
    "ascii, cost": ("ascii", COST),
    "ascii, models": ("ascii", ["models"]),
    "ascii, hardware --for": ("ascii", ["hardware", "--for", "llama3.1:8b"]),
    "ascii, probe": ("ascii", ["probe"]),
    "ascii, models json": ("ascii", ["models", "--json"]),
    "latin-1, cost": ("latin-1", COST),
    "C locale, cost": ("C", COST),
}


def _run(mode: str, argv: list[str], env: dict[str, str], cwd) -> tuple[int, bytes, bytes]:
    cmd = [sys.executable, "-m", "selfhost_advisor", *argv]
    if mode == "closed":
        p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
                           preexec_fn=lambda: os.close(1))
        return p.returncode, b"", p.stderr
    if mode == "full":
        with open("/dev/full", "wb") as full:
            p = subprocess.run(cmd, env=env, cwd=cwd, stdout=full, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, b"", p.stderr
    if mode == "head":
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            fcntl.fcntl(p.stdout.fileno(), F_SETPIPE_SZ, 4096)
        except OSError:
            pass
        first = p.stdout.readline()
        p.stdout.close()
        err = p.stderr.read()
        return p.wait(60), first, err
    env = dict(env)
    if mode == "C":
        env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    else:
        env["PYTHONIOENCODING"] = mode
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("streams")
    env = isolated_env(d / "home", d / "no-ollama")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, mode, argv, env, d) for name, (mode, argv) in CASES.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", [n for n, (m, _) in CASES.items() if m == "head"])
def test_a_closed_pipe_is_a_quiet_exit_0(results, name):
    code, first, err = results[name]
    assert code == 0 and err == b"", err.decode()
    assert first.strip(), "the reader got its first line"


@pytest.mark.parametrize("name", [n for n, (m, _) in CASES.items() if m in ("closed", "full")])
def test_stdout_that_cannot_be_written_is_exit_2_with_one_line(results, name):
    code, _, err = results[name]
    text = err.decode()
    assert code == 2 and "Traceback" not in text and text.count("\n") == 1, text
    assert text.startswith("advisor: cannot write the output")
    if CASES[name][0] == "full":
        assert "No space left on device" in text


@pytest.mark.parametrize("name", [n for n, (m, _) in CASES.items() if m in ("ascii", "latin-1", "C")])
def test_a_stdout_without_box_drawing_gets_ascii_look_alikes(results, name):
    code, out, err = results[name]
    assert code == 0 and b"Traceback" not in err, err.decode()
    encoding = "latin-1" if CASES[name][0] == "latin-1" else "ascii"
    text = out.decode(encoding)  # fails if a byte the stream cannot hold was written
    assert "?" * 4 not in text, "glyphs became question marks instead of look-alikes"
    if "json" in name:
        json.loads(text)
    elif CASES[name][1][0] in ("fit", "models", "cost"):
        assert "|" in text or "+" in text or "-" * 4 in text  # table rules drawn in ASCII


def test_ascii_look_alikes_keep_one_character_for_one():
    from selfhost_advisor.streams import _ASCII, to_ascii

    assert all(len(v) == 1 for v in _ASCII.values())  # rich's column arithmetic holds after the swap
    assert to_ascii("┃ a ━╇ ● ◆ ■ ▲ …") == "| a -+ * @ # ^ ."
    assert to_ascii("Qwen\u00e9", "latin-1") == "Qwen\u00e9" and to_ascii("\u4e2d") == "?"
