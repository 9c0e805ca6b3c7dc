"""Hostile files through the real `advisor` process: a FIFO, a directory, /dev/zero, an unreadable or huge file, and
GGUF or probe files built to exhaust the reader (deep nesting, NaN counts, claimed counts, ~7x growth in memory).

Each row must end at once (no hang: a FIFO never blocks), within 2 s of CPU and under 200 MB of peak RSS (wait4's
rusage; an address-space limit stops a blow-up early), with one line on stderr and the documented exit code.
All rows run in one module fixture, in parallel (tests/cliproc.run_measured).
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from cliproc import isolated_env, run_measured
from gguf_raw import ARR, F32, F64, STR, U64, _kv, _s, base_kvs, gguf_bytes, nested

INT_KEYS = ("block_count", "embedding_length", "attention.head_count", "attention.head_count_kv", "context_length",
            "feed_forward_length", "expert_count", "attention.sliding_window", "vocab_size")
FIT = ["--vram", "24GB"]

# (argv, expected exit code, a piece of the input the one line must name)
ROWS: list[tuple[list[str], int, str]] = [
    (["fit", "llama3.1:8b", "--hardware", "./fifo.json"], 2, "FIFO"),
    (["fit", "./fifo.gguf", *FIT], 2, "FIFO"),
    (["fit", "llama3.1:8b", "--hardware", "./fifo.yaml"], 2, "FIFO"),  # a spec sheet
    (["fit", "llama3.1:8b", "--hardware", "./zero.yaml"], 2, "character device"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--chart", "./fifo.svg"], 2, "fifo.svg"),
    (["fit", "llama3.1:8b", "--hardware", "./dir.json"], 2, "directory"),
    (["fit", "./dir.gguf", *FIT], 2, "dir.gguf"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--chart", "./dir.svg"], 2, "dir.svg"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--chart", "./full.svg"], 2, "character device"),
    (["fit", "llama3.1:8b", "--hardware", "./zero.json"], 2, "character device"),
    (["fit", "./zero.gguf", *FIT], 2, "character device"),
    (["hardware", "--for", "./zero.gguf"], 2, "character device"),
    (["fit", "llama3.1:8b", "--hardware", "./sparse.json"], 2, "1 MiB"),
    (["fit", "./sparse.gguf", *FIT], 2, "sparse.gguf"),
    (["fit", "llama3.1:8b", "--hardware", "./devices-550k.json"], 2, "1 MiB"),
    (["fit", "llama3.1:8b", "--hardware", "./devices-100.json"], 2, "devices"),
    (["fit", "./nested.gguf", *FIT], 2, "nested"),
    (["fit", "./growth.gguf", *FIT], 0, ""),  # ~7x growth in Python objects: read, but only the lengths kept
    (["fit", "./too-many-strings.gguf", *FIT], 2, "strings"),
    (["fit", "./claims-many.gguf", *FIT], 2, "tensors"),
    (["fit", "./many-keys.gguf", *FIT], 2, "metadata keys"),
    (["fit", "./long-array.gguf", *FIT], 2, "array of"),
    (["models", "--installed", "--vram", "24GB"], 0, ""),  # one good model, the bad blobs marked
    (["models", "--installed", "--vram", "24GB", "--json"], 0, ""),
    (["fit", "bad-fifo", *FIT], 2, "FIFO"),  # an installed Ollama name whose blob is a FIFO
] + [(["fit", f"./nan-{k}.gguf", *FIT], 2, k) for k in INT_KEYS] + [
    (["fit", f"./inf-{k}.gguf", *FIT], 2, k) for k in INT_KEYS[:3]] + [
    (["fit", f"./big-{k}.gguf", *FIT], 2, k) for k in INT_KEYS[:3]]
if hasattr(os, "geteuid") and os.geteuid() != 0:  # root reads a mode-000 file anyway
    ROWS.append((["fit", "llama3.1:8b", "--hardware", "./unreadable.json"], 2, "unreadable.json"))


def _write(d: Path) -> None:
    for name in ("fifo.json", "fifo.gguf", "fifo.svg", "fifo.yaml"):
        os.mkfifo(d / name)
    for name in ("dir.json", "dir.gguf", "dir.svg"):
        (d / name).mkdir()
    (d / "zero.json").symlink_to("/dev/zero")
    (d / "zero.gguf").symlink_to("/dev/zero")
    (d / "zero.yaml").symlink_to("/dev/zero")
    (d / "full.svg").symlink_to("/dev/full")
    for name in ("sparse.json", "sparse.gguf"):
        with open(d / name, "wb") as fh:
            fh.truncate(20 << 30)  # 20 GB, no blocks on disk
    (d / "unreadable.json").write_text("{}")
    (d / "unreadable.json").chmod(0)
    probe = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9}
    (d / "devices-550k.json").write_text(json.dumps({**probe, "devices": [{"memory_bytes": 1}] * 550_000}))
    (d / "devices-100.json").write_text(json.dumps({**probe, "devices": [{"memory_bytes": 24 * 10**9}] * 100}))
    (d / "nested.gguf").write_bytes(gguf_bytes(base_kvs(), extra_kv=_kv("x.nested", ARR, nested(200_000)), extra_n=1))
    strings = struct.pack("<IQ", STR, 4096) + b"".join(_s(f"{i % 100:02d}") for i in range(4096))
    for name, n in (("growth.gguf", 400), ("too-many-strings.gguf", 600)):  # 1.6M and 2.5M strings of 2 bytes
        (d / name).write_bytes(gguf_bytes(base_kvs(), extra_kv=b"".join(_kv(f"x.a{i}", ARR, strings) for i in range(n)),
                                          extra_n=n))
    (d / "claims-many.gguf").write_bytes(gguf_bytes(base_kvs(), n_tensors_claim=600_000))
    (d / "many-keys.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 24))
    (d / "long-array.gguf").write_bytes(gguf_bytes(base_kvs(), extra_kv=_kv("x", ARR, struct.pack("<IQ", U64, 1 << 40)),
                                                   extra_n=1))
    for k in INT_KEYS:
        key = f"llama.{k}"
        (d / f"nan-{k}.gguf").write_bytes(gguf_bytes(base_kvs(**{key: (F32, struct.pack("<f", float("nan")))})))
        (d / f"inf-{k}.gguf").write_bytes(gguf_bytes(base_kvs(**{key: (F64, struct.pack("<d", float("inf")))})))
        (d / f"big-{k}.gguf").write_bytes(gguf_bytes(base_kvs(**{key: (U64, struct.pack("<Q", 2**63 + 5))})))
    # an Ollama folder: one good model and one model per kind of bad blob
    ollama = d / "ollama"
    good = gguf_bytes(base_kvs())
    for i, (model, blob) in enumerate([("good", None), ("bad-fifo", "fifo"), ("bad-nested", d / "nested.gguf"),
                                       ("bad-nan", d / "nan-block_count.gguf"), ("bad-zero", "/dev/zero"),
                                       ("bad-dir", "dir")]):
        digest = f"{i:064x}"
        path = ollama / "blobs" / f"sha256-{digest}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if blob is None:
            path.write_bytes(good)
        elif blob == "fifo":
            os.mkfifo(path)
        elif blob == "dir":
            path.mkdir()
        else:
            path.symlink_to(blob)
        manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / model / "latest"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"layers": [{"mediaType": "application/vnd.ollama.image.model",
                                                    "digest": f"sha256:{digest}"}]}))
    fifo_manifest = ollama / "manifests" / "registry.ollama.ai" / "library" / "bad-manifest" / "latest"
    fifo_manifest.parent.mkdir(parents=True)
    os.mkfifo(fifo_manifest)


def _ids(rows):
    return [" ".join(argv) for argv, _, _ in rows]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-files")
    _write(d)
    env = isolated_env(d / "home", d / "ollama")
    done = run_measured([(argv, env) for argv, _, _ in ROWS], d, timeout=20)
    return dict(zip(_ids(ROWS), done))


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_hostile_file_ends_at_once_bounded_with_one_line(results, row):
    argv, code, named = row
    results[_ids([row])[0]].assert_ends_at_once(code, named)


def test_installed_marks_each_bad_blob_and_still_lists_the_good_one(results):
    text = results["models --installed --vram 24GB"].stdout
    assert "good" in text and text.count("unreadable") >= 4, text
    data = json.loads(results["models --installed --vram 24GB --json"].stdout)
    rows = {m["name"].split(":")[0]: m for m in data["installed"]}
    assert rows["good"]["fits"] == "gpu" and rows["good"]["error"] is None
    bad = [name for name in rows if name.startswith("bad-")]
    assert len(bad) == 6 and all(rows[name]["error"] and rows[name]["fits"] is None for name in bad), rows
    assert "FIFO" in rows["bad-fifo"]["error"] and "nested" in rows["bad-nested"]["error"]



def test_the_watchdog_kills_a_blocked_process_and_a_runaway_one():
    """run_measured's hang test (cliproc._watch): a process blocked on a FIFO nobody opens gains no CPU time and is
    killed once `stall` seconds pass without any; a process that keeps computing is killed at `cpu_limit` seconds of
    CPU, however long that takes in wall time (a wall-clock kill failed this module at load average 18)."""
    import subprocess
    import sys
    import tempfile
    import threading

    import psutil
    from cliproc import _watch

    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "fifo"
        os.mkfifo(fifo)
        procs = [subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}).read()"]),
                 subprocess.Popen([sys.executable, "-c", "while True: pass"])]
        ended = [threading.Event() for _ in procs]
        # the busy one's stall window is long: at load average 18 a `nice` process may get ~1% of a core, and its
        # interpreter start must not count as a stall
        limits = [(0.5, 600), (60, 0.2)]  # (stall, cpu_limit) seconds
        watch = [threading.Thread(target=_watch, args=(p, e, *lim, psutil, 0.05))
                 for p, e, lim in zip(procs, ended, limits)]
        for w in watch:
            w.start()
        try:
            cpu = []
            for p, e, w in zip(procs, ended, watch):
                os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
                e.set()
                w.join()
                _, status, usage = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                assert p.returncode == -9
                cpu.append(usage.ru_utime + usage.ru_stime)
            assert cpu[0] < 0.2 <= cpu[1], cpu  # blocked: killed for the stall; busy: for its CPU time
        finally:
            for p, e, w in zip(procs, ended, watch):
                e.set()
                w.join()
                if p.returncode is None:
                    p.kill()
                    p.wait()
