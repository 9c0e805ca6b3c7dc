"""Findings of the session 15 sweep over hostile input (benchmarks/hostile.py --fast, plus hand-made cases), in
process through cli.main.

- a saved probe file with a key given twice (`"ram_bytes": 64e9, ..., "ram_bytes": 16e9`, or twice inside a device)
  was read with the last value, unsaid (json.loads keeps the last); a spec sheet already refused it. Now exit 2
  naming the key, in every object of the file.
- the duplicate-key check searched for the repeated key by rebuilding a dict of every prefix of the object: a spec
  sheet of 60,000 keys with one repeated at the end was quadratic; a key of 100,000 characters was quoted whole.
"""
from __future__ import annotations

import json
import time

import pytest
from test_hostile_session12 import refused, run

DEV = {"vendor": "nvidia", "name": "RTX", "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12}
BASE = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [DEV]}


def _probe(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("text, key", [
    (json.dumps(BASE)[:-1] + ', "ram_bytes": 16000000000}', "ram_bytes"),
    (json.dumps(BASE).replace('"memory_bytes": 24000000000', '"memory_bytes": 24000000000, "memory_bytes": 8e10'),
     "memory_bytes"),
    (json.dumps({**BASE, "cpu": {"name": "x", "physical_cores": 8}})[:-2] + ', "physical_cores": 64}}', "physical_cores"),
    (json.dumps(BASE)[:-1] + ', "schema_version": "1.0.0"}', "schema_version"),
])
@pytest.mark.parametrize("cmd", [["fit", "llama3.1:8b", "--json"], ["cost", "-t", "1e9", "--gpu-price", "2000"]])
def test_a_probe_file_giving_a_key_twice_is_refused_naming_it(tmp_path, capsys, text, key, cmd):
    box = _probe(tmp_path / "box.json", text)
    refused(capsys, cmd + ["--hardware", box], f"gives '{key}' twice")


def test_the_same_probe_with_each_key_once_still_loads(tmp_path, capsys):
    box = _probe(tmp_path / "box.json", json.dumps(BASE))
    code, out, err = run(capsys, ["fit", "llama3.1:8b", "--json", "--hardware", box])
    assert code == 0, err
    assert json.loads(out)["hardware"]["devices"][0]["memory_bytes"] == 24 * 10**9


def test_a_repeated_key_in_a_big_object_is_found_at_once_and_quoted_short(tmp_path, capsys):
    keys = "".join(f'"k{i}": 1, ' for i in range(60_000))
    long = "x" * 100_000
    spec = _probe(tmp_path / "box.json", '{"vram": "16GB", "bandwidth": "448GB/s", "fp16": "60TFLOPS", '
                  + keys + f'"{long}": 1, "{long}": 2}}')
    t0 = time.process_time()
    err = refused(capsys, ["fit", "llama3.1:8b", "--hardware", spec], "twice")
    assert time.process_time() - t0 < 2, "the repeated key was searched for quadratically"
    assert len(err) < 400 and "xxx..." in err, err
