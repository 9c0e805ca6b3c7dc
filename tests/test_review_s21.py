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


def _cost(capsys, *argv):
    import json

    from selfhost_advisor.cli import main

    code = main(["cost", "-t", "1e9", "--price-date", "2026-12-05", "--json", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_cost_on_a_mac_sizes_it_with_the_engine_serve_picks_not_vllm(capsys):
    # `serve -H m4-max-128gb` serves with llama.cpp (vLLM does not run on Apple GPUs); `cost -H m4-max-128gb`
    # sized the same Mac with vLLM and excluded it, telling the user to add --engine llamacpp
    from selfhost_advisor import api

    for box in ("m3-ultra-512gb", "ryzen-ai-max-395-128gb"):  # a Mac and an AMD APU, both priced
        d = _cost(capsys, "-m", "llama3.1:8b", "-H", box)
        assert d["engine"] == api.serve("llama3.1:8b", box).engine == "llamacpp", box
        assert [o["hardware"] for o in d["self_host"]] == [box] and not d["excluded"], box
    # a GPU box keeps vLLM; with both kinds, vLLM and the Mac excluded for it, as before
    assert _cost(capsys, "-m", "llama3.1:8b", "-H", "rtx4090")["engine"] == "vllm"
    mixed = _cost(capsys, "-m", "llama3.1:8b", "-H", "rtx4090,m4-max-128gb")
    assert mixed["engine"] == "vllm" and [e["hardware"] for e in mixed["excluded"]] == ["m4-max-128gb"]


def test_what_would_change_names_what_the_boxes_were_short_of(capsys):
    # no box serves a 70B here, for three different reasons; the lever said 'more memory' for all three
    def lever(*argv):
        d = _cost(capsys, "-m", "llama3.1:70b", *argv)
        assert not d["self_host"] and d["excluded"]
        (text,) = d["recommendation"]["what_would_change"]
        return text

    assert "more memory" in lever("-H", "rtx4090")  # 24 GB: the weights do not fit
    slow = lever("-H", "m4-max-128gb")  # fits in 128 GB, decodes below the 10 tok/s per user asked
    assert "--min-stream-speed" in slow and "memory" not in slow
    engine = lever("-H", "m4-max-128gb", "--engine", "vllm")  # vLLM does not run there at all
    assert "--engine llamacpp" in engine and "memory" not in engine


def _tables(o, key):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == key:
                yield v
            yield from _tables(v, key)
    elif isinstance(o, list):
        for v in o:
            yield from _tables(v, key)


def test_every_key_of_a_profile_prefix_table_names_a_known_gpu():
    # data/speed.yaml's per-GPU tables are read by hardware-profile id prefix (kernel_path.last_level_cache_bytes,
    # vulkan_amd.sustained_clock_share): a key that matches no id is silently 'no figure' (the term charges nothing),
    # so a typo ('rx-7800xt') would pass every other check. Session 21 added both tables (45 + 1 keys).
    from selfhost_advisor.catalog import gpu_table, hw_names
    from selfhost_advisor.catalog.apu_names import apu_profiles
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.catalog.profiles import profiles

    ids = ({p.id for p in profiles()} | {r["id"] for r in gpu_table.rows()} | {p.id for p in hw_names.apple_profiles()}
           | {p.id for p in apu_profiles()})
    keys = [k for name in ("last_level_cache_mib", "sustained_clock_mhz") for t in _tables(load("speed"), name) for k in t]
    assert len(keys) >= 40
    assert [k for k in keys if not any(i.startswith(k) for i in ids)] == []
