"""Secrets never reach stdout or stderr: Hugging Face tokens, and the ids that name one physical GPU.

HF tokens (HF_TOKEN, HUGGING_FACE_HUB_TOKEN) are sent to the Hub and nowhere else: not in output, errors,
--debug tracebacks or the cache (catalog/hub.py). GPU UUIDs, serials and PCI bus ids (from NVML and sysfs) are
redacted from every output unless `advisor probe --show-ids` asks for them (render/probe_json.py), including
everything printed about a saved probe file that holds them. The ids are read from the fixture files, not from
the code under test, and each is shown to appear with --show-ids so its absence elsewhere means something.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from hubfake import FakeHub, install

import selfhost_advisor.probe as probe_pkg
from selfhost_advisor.catalog import hub as hubmod
from selfhost_advisor.cli import app, main
from test_probe import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).resolve().parent / "fixtures"
TOKEN = "hf_FAKEtoken1234567890abcdef"
REPO = "meta-llama/Llama-3.1-8B-Instruct"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


# --- Hugging Face tokens ----------------------------------------------------------------------------------------

class Flaky(FakeHub):
    """The fake Hub, plus repos that answer 429 or 500."""

    def __init__(self) -> None:
        super().__init__()
        self.status: dict[str, int] = {}

    def get(self, url, headers, limit=None):
        for repo, status in self.status.items():
            if f"/{repo}/" in url:
                self.requests.append((url, dict(headers)))
                return hubmod.Response(status, b"{}")
        return super().get(url, headers, limit)


@pytest.fixture(params=["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"])
def hub_with_token(request, monkeypatch):
    fake = install(monkeypatch, Flaky())
    fake.add_recorded(REPO)
    fake.add_recorded("Qwen/Qwen2.5-7B-Instruct")
    fake.gated[REPO] = TOKEN
    fake.gated["Qwen/Qwen2.5-7B-Instruct"] = "hf_someoneElsesToken000"  # our token is refused here
    fake.status["acme/limited"] = 429
    fake.status["acme/broken"] = 500
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv(request.param, TOKEN)
    monkeypatch.setattr(hubmod, "token_provider", hubmod.stored_token)  # the real lookup of both variables
    return fake


def test_hub_token_is_sent_but_never_printed_on_success_or_error(hub_with_token, capsys):
    outputs = []
    for argv in (["fit", f"hf:{REPO}", "--vram", "24GB", "--json"], ["fit", f"hf:{REPO}", "--vram", "24GB"],
                 ["fit", f"hf:{REPO}", "--offline", "--vram", "24GB"],
                 ["cost", "-t", "1e9", "--model", f"hf:{REPO}", "--hardware", "rtx4090", "--json"],
                 ["hardware", "--for", f"hf:{REPO}", "--json"],
                 ["fit", "hf:Qwen/Qwen2.5-7B-Instruct"], ["fit", "hf:nobody/nothing"], ["fit", "hf:acme/limited"],
                 ["fit", "hf:acme/broken"], ["fit", "hf:acme/uncached", "--offline"]):
        code, text = run(capsys, *argv)
        outputs.append((argv, code, text))
    codes = [c for _, c, _ in outputs]
    assert codes[:5] == [0] * 5 and all(c == 2 for c in codes[5:]), outputs  # the error paths were really taken
    for argv, _, text in outputs:
        assert TOKEN not in text, argv
    assert any(h.get("Authorization") == f"Bearer {TOKEN}" for _, h in hub_with_token.requests)
    cached = [p for p in Path(os.environ["ADVISOR_HOME"]).rglob("*") if p.is_file()]
    assert cached and all(TOKEN not in p.read_text(errors="replace") for p in cached)


def test_hub_token_is_not_in_a_debug_traceback(hub_with_token, capsys):
    code = main(["--debug", "fit", "hf:Qwen/Qwen2.5-7B-Instruct"])  # --debug prints the traceback, keeps exit 2
    text = "".join(capsys.readouterr())
    assert code == 2 and "Traceback" in text and "access denied" in text and TOKEN not in text


def test_hub_token_in_the_environment_of_the_real_process_is_never_printed(tmp_path):
    env = dict(os.environ, HF_TOKEN=TOKEN, HUGGING_FACE_HUB_TOKEN=TOKEN, HF_HUB_OFFLINE="1", NO_COLOR="1",
               COLUMNS="120", ADVISOR_HOME=str(tmp_path), OLLAMA_MODELS=str(tmp_path / "none"))
    runs = [["fit", "llama3.1:8b", "--vram", "24GB", "--json"], ["fit", f"hf:{REPO}", "--offline"],
            ["cost", "-t", "1e9", "--model", "acme/uncached"], ["fit", "llama3.1:8b", "--bogus"]]
    for argv in runs:
        r = subprocess.run([sys.executable, "-m", "selfhost_advisor", *argv], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=120)
        assert r.returncode in (0, 2) and r.stdout + r.stderr, argv
        assert TOKEN not in r.stdout + r.stderr, argv


# --- GPU UUIDs, serials and PCI bus ids -------------------------------------------------------------------------

def _fixture_ids() -> set[str]:
    """Every board identifier the NVML and sysfs fixtures carry."""
    ids: set[str] = set()
    for path in (FIX / "nvml").glob("*.json"):
        for gpu in json.loads(path.read_text())["gpus"]:
            ids |= {gpu.get("uuid"), gpu.get("serial"), gpu.get("bus_id")}
            ids |= {m.get("uuid") for m in gpu.get("mig_instances") or []}
    for path in (FIX / "sysfs").glob("*/sys/bus/pci/devices/*"):
        if (path / "vendor").read_text().strip() in ("0x1002", "0x10de") and (path / "class").read_text().startswith("0x03"):
            ids.add(path.name)  # a GPU's PCI bus id
        if (path / "unique_id").exists():
            ids.add((path / "unique_id").read_text().strip())
    ids.discard(None)
    # NVML writes 8-digit PCI domains ("00000000:07:00.0"); the 4-digit form names the same board
    return ids | {i[4:] for i in ids if i.startswith("00000000:")}


IDS = _fixture_ids()


@pytest.fixture
def machine(monkeypatch, tmp_path):
    """Make probe() return a fixture scenario; return the scenario's saved probe file, written with --show-ids."""
    monkeypatch.setenv("COLUMNS", "200")  # ids are long: no wrapping, so 'not in the text' means not printed

    def use(name, capsys):
        report = SCENARIOS[name]()
        monkeypatch.setattr(probe_pkg, "probe", lambda sources=None: report)
        box = tmp_path / "box.json"
        code, text = run(capsys, "probe", "--json", "--show-ids")
        assert code == 0
        box.write_text(text)
        return box, {i for i in IDS if i in text}

    return use


@pytest.mark.parametrize("name", SCENARIOS)
def test_board_ids_appear_only_with_probe_show_ids(machine, capsys, name):
    box, ids = machine(name, capsys)
    if name in ("2x rtx 4090", "a100 mig", "rx 7900 xtx"):
        assert ids, "the fixture's ids must show up with --show-ids, or this test checks nothing"
    shown = run(capsys, "probe", "--show-ids")[1]
    assert not ids or any(i in shown for i in ids)  # the text panels show them too when asked
    b = str(box)
    q = ["-q", "Q4_K_M"]  # one option is enough: ids would come from the machine, not the quant
    for argv in (["probe"], ["probe", "--json"], ["fit", "llama3.1:8b", *q], ["fit", "llama3.1:8b", *q, "--json"],
                 ["fit", "llama3.1:70b", "--hardware", b, *q], ["fit", "llama3.1:70b", "--hardware", b, *q, "--json"],
                 ["models", "llama3.1:8", "--fits", b, "--json"], ["models", "llama3.1:8", "--fits", b],
                 ["models", "--installed", "--hardware", b],
                 ["cost", "-t", "1e9", "--model", "llama3.1:8b", "--hardware", b, "--json"],
                 ["cost", "-t", "1e9", "--model", "llama3.1:8b", "--hardware", b]):
        code, text = run(capsys, *argv)
        assert code in (0, 2), (argv, text)  # cost refuses a probe without priced GPUs: that error is checked too
        leaked = sorted(i for i in ids if i in text)
        assert not leaked, (argv, leaked)


def test_show_ids_is_an_option_of_probe_only():
    cli = typer.main.get_command(app)
    having = sorted(name for name, cmd in cli.commands.items()
                    if any("--show-ids" in p.opts for p in cmd.params))
    assert having == ["probe"]
