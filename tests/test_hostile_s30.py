"""Session 30 (hostile30) bad-input cases the earlier sweeps did not reach: terminal controls json.dumps leaves raw
(C1, DEL, bidirectional overrides, U+2028) in --json output, a PCI bus id in a probe warning, shell-completion
variables that are not a completion request, and Ctrl-C while the CLI builds its commands."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402
from gguf_raw import STR, _s, base_kvs, gguf_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# CSI in its 8-bit form (U+009B, a terminal control in C1), NEL, DEL, a right-to-left override, an isolate and the
# line separator: none is escaped by json.dumps(ensure_ascii=False), each reorders, moves or controls a terminal
HOSTILE = "a\x9b31mC1\x9b0m\x85b\u202eevil\u2066x\u2028y\u2029z\x7f\u061c"
RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _probe_file(tmp_path: Path) -> Path:
    dev = {"vendor": "nvidia", "name": "RTX " + HOSTILE, "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12}
    box = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9, "devices": [dev], "cpu": {"name": HOSTILE},
           "warnings": [HOSTILE], "os": HOSTILE}
    f = tmp_path / "box.json"
    f.write_text(json.dumps(box, ensure_ascii=False), encoding="utf-8")
    return f


def test_json_output_writes_terminal_controls_as_escapes_and_keeps_the_strings(capsys, tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(gguf_bytes(base_kvs(**{"general.name": (STR, _s(HOSTILE))})))
    box = _probe_file(tmp_path)
    cases = [(["fit", str(gguf), "--vram", "24GB", "--json"], lambda d: d["model"]["name"]),
             (["fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(box), "--json"], lambda d: d["hardware"]["cpu"]["name"]),
             (["models", "--search", "llama" + HOSTILE, "--json"], lambda d: d["query"])]
    for argv, pick in cases:
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert not RAW.findall(out), (argv, set(RAW.findall(out)))  # raw before: \x9b, \u202e, \u2028 ... on stdout
        got = pick(json.loads(out))  # the parsed string is the one the file (or argv) holds (the search, spaces folded)
        assert HOSTILE in got if argv[0] == "fit" else all(w in got for w in ("\x9b31mC1\x9b0m", "\u202eevil\u2066x")), argv


def test_text_output_escapes_the_line_separators_too(capsys, tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(gguf_bytes(base_kvs(**{"general.name": (STR, _s(HOSTILE))})))
    for argv in (["fit", str(gguf), "--vram", "24GB"], ["fit", "llama3.2:1b", "-q", "Q4_K_M", "-H", str(_probe_file(tmp_path))]):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert not RAW.findall(out + err), (argv, set(RAW.findall(out + err)))  # U+2028 / U+2029 were printed raw
        assert len(out.splitlines()) == out.count("\n")  # so str.splitlines sees the lines the terminal shows


def test_a_gpu_the_driver_missed_is_warned_about_without_its_pci_bus_id(tmp_path):
    # probe/__init__._unclaimed_gpus wrote 'NVIDIA GPU 10de:2684 at PCI 0000:01:00.0 ...' into the warnings, printed
    # by `advisor probe` and kept in --json without --show-ids; the bus id names one board (tests/test_secrets.py)
    from test_probe import RAM64, _pci_tree, fake_pynvml, sources

    from selfhost_advisor.probe import probe
    from selfhost_advisor.render.probe_json import probe_dict

    _pci_tree(tmp_path, "0x10de")
    report = probe(sources(root=str(tmp_path), nvml=fake_pynvml.make(None, fake_pynvml.NVMLError_DriverNotLoaded),
                           memory=lambda: RAM64))
    bus = "0000:01:00.0"  # the folder _pci_tree makes
    assert any("present but NVML did not report it" in w for w in report.warnings)
    assert bus not in json.dumps(probe_dict(report))
    assert bus in json.dumps(probe_dict(report, show_ids=True))  # still there when asked for


@pytest.mark.parametrize("env", [
    {"_ADVISOR_COMPLETE": "x"},  # typer: 'Invalid completion instruction.', exit 1
    {"_ADVISOR_COMPLETE": "complete_nosh"},  # 'Shell nosh not supported.', exit 1
    {"_ADVISOR_COMPLETE": "bash_complete"},  # click 8's word order, which typer does not read
    {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit "},  # no COMP_CWORD: KeyError, exit 3
    {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit ", "COMP_CWORD": "x"},  # ValueError, exit 3
    {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit ", "COMP_CWORD": "\u00b2"},
    {"_ADVISOR_COMPLETE": "complete_bash\x1b[2J", "COMP_WORDS": "advisor", "COMP_CWORD": "1"},
])
def test_a_completion_variable_that_is_not_a_request_is_one_line_exit_2(capsys, monkeypatch, env):
    for key in ("COMP_WORDS", "COMP_CWORD"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, "fit", "llama3.2:1b")
    one_line_exit_2(code, out, err, "advisor:", "--install-completion")
    assert "\x1b" not in err


def test_the_completion_check_passes_what_the_scripts_send():
    from selfhost_advisor.cli_complete import request_problem

    for env in ({}, {"_ADVISOR_COMPLETE": ""}, {"_ADVISOR_COMPLETE": "source_bash"},
                {"_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fi", "COMP_CWORD": "1"},
                {"_ADVISOR_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "advisor fi"},
                {"_ADVISOR_COMPLETE": "complete_fish"}, {"_ADVISOR_COMPLETE": "complete_pwsh"}):
        assert request_problem(env) is None, env


def test_ctrl_c_in_a_command_or_while_it_is_built_is_130_and_one_line(capsys, monkeypatch):
    # typer turned Ctrl-C in a command into a silent exit 130; while click_command built the command (typer reads
    # every option, ~5 ms of each start) it was a KeyboardInterrupt traceback
    import selfhost_advisor.api as api
    import selfhost_advisor.cli as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "fit", interrupted)
    assert run(capsys, "fit", "llama3.2:1b", "--vram", "24GB")[1:] == ("", "advisor: interrupted\n")
    assert cli.main(["fit", "llama3.2:1b"]) == 130
    capsys.readouterr()
    monkeypatch.setattr(cli, "click_command", interrupted)
    assert run(capsys, "cost", "-t", "1e9") == (130, "", "advisor: interrupted\n")


# Ctrl-C while cli.py loads the app: the commands defined in cli.py itself (fit, models) and the modules imported after
# them (cli_cost ... cli_serve) were outside the import guard, a traceback. Each hook interrupts one import.
_INTERRUPT_AT = """
import builtins, sys
sys.argv = ['advisor', 'fit', 'llama3.2:1b']
real = builtins.__import__
def imp(name, globals=None, locals=None, fromlist=(), level=0):
    if name == sys.argv_target:
        raise KeyboardInterrupt
    return real(name, globals, locals, fromlist, level)
sys.argv_target = {target!r}
builtins.__import__ = imp
from selfhost_advisor.cli import run
run()
"""


def test_ctrl_c_while_the_app_and_its_last_command_load_exits_130_without_a_traceback():
    env = dict(os.environ, NO_COLOR="1")
    for target in ("cli_app", "cli_serve"):  # the first and the last module the guard now covers
        r = subprocess.run([sys.executable, "-c", _INTERRUPT_AT.format(target=target)], capture_output=True, text=True,
                           cwd=ROOT, env=env, timeout=120)
        assert (r.returncode, r.stdout, r.stderr) == (130, "", "advisor: interrupted\n"), target


def _arch_kvs(arch: str, **override):
    """base_kvs for another architecture: the llama.* keys under `arch`."""
    kv = {k.replace("llama.", f"{arch}."): v for k, v in base_kvs().items()}
    kv["general.architecture"] = (STR, _s(arch))
    kv.update(override)
    return kv


@pytest.mark.parametrize("arch", ["mamba2", "qwen3next", "jamba", "lfm2", "minimax-m3"])
def test_a_huge_layer_count_is_refused_before_any_per_layer_work(capsys, tmp_path, arch):
    # block_count 10^9 is under the 2^40 a GGUF count may hold: with SSM keys _hybrid_from_gguf built a 10^9-entry
    # layer pattern, and MiniMax-M3's indexer a 10^9-entry tuple, before check_shape refused the count (a hang)
    import struct
    import time

    from gguf_raw import U32, U64

    u32 = lambda v: (U32, struct.pack("<I", v))  # noqa: E731
    extra = {f"{arch}.block_count": (U64, struct.pack("<Q", 10**9)), f"{arch}.ssm.conv_kernel": u32(4),
             f"{arch}.ssm.inner_size": u32(512), f"{arch}.ssm.state_size": u32(16), f"{arch}.shortconv.l_cache": u32(3),
             f"{arch}.attention.indexer.key_length": u32(128)}
    f = tmp_path / f"{arch}.gguf"
    f.write_bytes(gguf_bytes(_arch_kvs(arch, **extra)))
    t0 = time.process_time()
    code, out, err = run(capsys, "fit", str(f), "--vram", "24GB")
    one_line_exit_2(code, out, err, "unusable layers 1000000000", "expected 1 to 10000")
    assert time.process_time() - t0 < 5


def test_a_huge_layer_count_in_a_hub_config_is_refused_before_its_layer_pattern():
    # Qwen3.5 without layer_types: the pattern is built from full_attention_interval over every layer (10^8: 11 s)
    import time

    from test_hybrid import _qwen35_config

    from selfhost_advisor.catalog.hf_config import model_from_config
    from selfhost_advisor.errors import UnknownModelError

    cfg = _qwen35_config(num_hidden_layers=10**8, full_attention_interval=4)
    cfg.pop("layer_types")
    t0 = time.process_time()
    with pytest.raises(UnknownModelError, match="unusable layers 100000000"):
        model_from_config(cfg, "x/huge")
    assert time.process_time() - t0 < 1


@pytest.mark.parametrize("env", [{"ALL_PROXY": "socks5://user:pw@127.0.0.1:1"},  # ImportError (no socksio): exit 3
                                 {"HTTPS_PROXY": "http://\x1b[31m:1"}, {"https_proxy": "http://[::1"},  # InvalidURL
                                 {"HTTP_PROXY": "ftp://proxy"},  # ValueError: unknown scheme
                                 {"SSL_CERT_FILE": "/nonexistent/ca.pem"}])  # FileNotFoundError
def test_an_unusable_proxy_or_ca_variable_is_one_line_naming_it(capsys, monkeypatch, env):
    # httpx reads these when huggingface_hub builds its client (HFTransport), outside the request's own guard
    import huggingface_hub.utils._http as hf_http

    from selfhost_advisor.catalog import hub as hubmod

    monkeypatch.setattr(hubmod, "transport_factory", hubmod.HFTransport)
    monkeypatch.setattr(hf_http, "_GLOBAL_CLIENT", None)  # a client built earlier in this process read other variables
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy", "SSL_CERT_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, "fit", "acme/uncached-model", "--vram", "24GB")
    [(key, value)] = env.items()
    one_line_exit_2(code, out, err, "cannot set up a connection to the Hugging Face Hub", key)
    assert "\x1b" not in err and "pw@" not in err  # nothing of the value is quoted (a proxy URL may hold a password)


def _mllama(**over):
    from test_mllama import _HF

    return {**_HF, **over}


def _qwen35(**over):
    from test_hybrid import _qwen35_config

    return _qwen35_config(**over)


@pytest.mark.parametrize("cfg", [_mllama(vision_config=2.5), _mllama(vision_config=[560, 14, 4]),
                                 _mllama(text_config={**_mllama()["text_config"], "cross_attention_layers": 3}),
                                 _qwen35(layer_types=[[1]] * 4), _qwen35(layer_types=[{"a": 1}] * 4)])
def test_a_config_json_block_of_the_wrong_type_is_a_model_error(cfg):
    # found by benchmarks/hostile.py's config zoo: an AttributeError ('float' object has no attribute 'get') and a
    # TypeError (unhashable list), both exit 3
    from selfhost_advisor.catalog.hf_config import model_from_config
    from selfhost_advisor.errors import UnknownModelError

    with pytest.raises(UnknownModelError):
        model_from_config(cfg, "x/y")


def test_list_options_are_bounded_in_distinct_values_and_repeats_cost_nothing(capsys):
    # 5,000 --concurrency levels were 7 s of CPU (a serving estimate each); 3,000 x --cloud gpt-4o 11.6 s (priced each)
    import time

    levels = ",".join(str(i) for i in range(1, 5001))
    code, out, err = run(capsys, "serve", "llama3.2:1b", "-H", "rtx4090", "--concurrency", levels)
    one_line_exit_2(code, out, err, "--concurrency lists 5,000 levels, more than 256")
    t0 = time.process_time()
    code, out, err = run(capsys, "cost", "-t", "1e9", "-m", "llama3.2:1b", "-H", "rtx4090", "--json",
                         *["--cloud", "gpt-4o"] * 300, "--cloud", "GPT-4o,gpt-4o-mini")
    assert code == 0, err
    assert time.process_time() - t0 < 5
    names = [c["id"] for c in json.loads(out)["cloud"]]
    assert sorted(names) == ["gpt-4o", "gpt-4o-mini"], names  # each API once
    many = ",".join(f"acme:m{i}" for i in range(300))
    one_line_exit_2(*run(capsys, "cost", "-t", "1e9", "--cloud", many), "--cloud names 300 APIs, more than 256")
