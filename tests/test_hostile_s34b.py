"""Session 34 (audit34b) bad-input cases: a saved probe of a GPU the catalog lacks priced by cost with --gpu-price,
Hub ids huggingface_hub refuses (refused here before any look-up), --n-cpu-moe on a dense model, an Ollama release
newer than any read, a 10,000-character --search, and the standing check that every hint names an option its command has."""
from __future__ import annotations

import io
import json
import random
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import one_line_exit_2, run  # noqa: E402

PROBE = Path(__file__).parent / "fixtures" / "probes" / "h200.probe.json"


def _unmatched_probe(tmp_path, n=1, names=None):
    """The H200 probe with its GPU renamed to one the catalog lacks (matched_profile null), n times."""
    d = json.loads(PROBE.read_text())
    dev = d["devices"][0]
    devices = []
    for i in range(n):
        devices.append(dict(dev, name=(names or ["NVIDIA Future X1"] * n)[i], matched_profile=None,
                            details=dict(dev["details"], index=i, bandwidth_source="nvml")))
    d["devices"] = devices
    path = tmp_path / "box.json"
    path.write_text(json.dumps(d))
    return path, dev


# --- (a) cost: a saved probe whose GPU the catalog lacks -----------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2])
def test_cost_prices_a_probe_of_an_uncatalogued_gpu_with_gpu_price(capsys, tmp_path, n):
    # the message asked for a catalog profile even with --gpu-price given; a spec sheet of the same figures is priced
    path, dev = _unmatched_probe(tmp_path, n)
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", str(path), "--gpu-price", "30000", "--json")
    assert code == 0, err
    rows = json.loads(out)["self_host"]
    assert rows and all(r["gpu_price_usd"] == 30000.0 and r["gpus_per_unit"] == n for r in rows), rows
    # the board power is the probe's own reading (NVML's power limit), not a neighbour's TDP
    assert all(r["gpu_watts"] == dev["details"]["power_limit_watts"] for r in rows), rows


def test_cost_without_a_price_for_an_uncatalogued_probe_asks_for_gpu_price(capsys, tmp_path):
    path, _ = _unmatched_probe(tmp_path)
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", str(path))
    one_line_exit_2(code, out, err, "--gpu-price")


def test_cost_refuses_a_probe_of_mixed_uncatalogued_gpus_with_one_line(capsys, tmp_path):
    path, _ = _unmatched_probe(tmp_path, 2, names=["NVIDIA Future X1", "NVIDIA Future X2"])
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", str(path), "--gpu-price", "30000")
    one_line_exit_2(code, out, err, "not one model")


def test_a_probe_of_a_catalogued_gpu_is_priced_from_the_catalog_as_before(capsys):
    code, out, err = run(capsys, "cost", "-t", "1e9", "-H", str(PROBE), "--json")
    assert code == 0, err
    assert json.loads(out)["self_host"][0]["hardware"].startswith("h200")


# --- (b) Hub ids huggingface_hub's validate_repo_id refuses --------------------------------------------------------

@pytest.mark.parametrize("spec", ["hf:org/repo.git", "hf:org/repo/", "hf:/org/repo", "hf:org/re--po", "hf:org/repo-",
                                  "hf:org/repo.", "hf:org/../x", "hf:org /repo", "hf:org/" + "a" * 200,
                                  "hf.co/org/repo.git"])
def test_a_malformed_hub_id_is_refused_before_any_lookup(capsys, tmp_path, monkeypatch, spec):
    # huggingface_hub utils/_validators.py validate_repo_id: "Cannot have -- or .. in repo_id", "Repo_id cannot end by
    # '.git'", REPO_ID_REGEX's \b (no part starts or ends with '-' or '.'), at most 96 characters. These were looked up
    # (offline: 'model_info is not in the cache'; online: a request for a repository the Hub cannot hold)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    code, out, err = run(capsys, "fit", spec, "--vram", "24GB")
    one_line_exit_2(code, out, err, "is not a Hub repository id")
    assert "cache" not in err
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.json"))


@pytest.mark.parametrize("spec,fixed", [("hf:org/repo.git", "org/repo"), ("hf:org/repo/", "org/repo")])
def test_the_refusal_names_the_id_meant(capsys, tmp_path, monkeypatch, spec, fixed):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    code, out, err = run(capsys, "fit", spec, "--vram", "24GB")
    one_line_exit_2(code, out, err, f"give it as {fixed}")


def test_catalog_hub_ids_are_all_valid_ids():
    # the tighter check must not refuse an id the catalog itself names
    from selfhost_advisor.catalog.hub import valid_repo
    from selfhost_advisor.catalog.models import entries

    ids = [str(e["hf_id"]) for e in entries() if e.get("hf_id")]
    assert ids and [i for i in ids if not valid_repo(i)] == []


# --- (c) --n-cpu-moe on a dense model -------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["llama3.1:8b", "GGUF"])
def test_n_cpu_moe_on_a_dense_model_is_refused_naming_it(capsys, tmp_path, model):
    # llama.cpp's -ncmoe N pushes N tensor overrides for blk.i.ffn_(up|down|gate)_exps (common/arg.cpp,
    # llm_ffn_exps_block_regex): on a dense model they match no tensor and llama.cpp runs as without it, unsaid. A user
    # asking for it expects experts in RAM: refused (exit 2) naming the model as dense, for catalog models and files alike
    if model == "GGUF":
        from gguf_raw import base_kvs, gguf_bytes

        path = tmp_path / "dense.gguf"
        path.write_bytes(gguf_bytes(base_kvs()))
        model = str(path)
    code, out, err = run(capsys, "fit", model, "--vram", "8GB", "--n-cpu-moe", "2")
    one_line_exit_2(code, out, err, "--n-cpu-moe", "dense model")


# --- standing check: a hint names an option its command has ----------------------------------------------------------

_BASES = {
    "fit": [["llama3.1:8b", "--vram", "24GB"], ["qwen3:30b", "-H", "rtx4090", "--ram", "64GB"]],
    "serve": [["llama3.1:8b", "-H", "rtx4090"], ["qwen3:30b", "-H", "2x rtx4090", "--engine", "llamacpp"]],
    "cost": [["-t", "1e9", "-H", "rtx4090"], ["-t", "1e9", "-m", "qwen3:30b", "-H", "m4 max 128gb"]],
    "models": [["--vram", "24GB"], []],
    "hardware": [["--for", "llama3.1:8b"], []],
    "probe": [[]],
}
_BAD = ["nan", "x", "-1", "", "\x1b[31m"]
_MIX = ["0.5", "1", "99999", "vllm", "llamacpp", "ollama", "Q4_K_M", "fp8", "131072", "1GB", "rtx4090", "0.x", "99.0"]
_ROOT = {"--help", "--debug", "--quiet", "--timestamp"}
# options of the engines whose commands a hint quotes ('vllm serve ... --max-model-len'): not ours, said as theirs
_FOREIGN = re.compile(r"(vLLM|vllm|llama-server|llama\.cpp|ollama|llama-bench)[^;]{0,80}$")


def _options(cmd):
    from selfhost_advisor.cli import app_for, click_command

    command = click_command(app_for([cmd])).commands[cmd]
    return command, {o for p in command.params for o in p.opts + p.secondary_opts if o.startswith("--")} | _ROOT


_KNOWN = [  # hints found wrong or at risk: the request over the maximum (session 34), the engine's own options
    ["serve", "llama3.1:8b", "-H", "rtx4090", "--output-tokens", "200000"],
    ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--output-tokens", "200000"],
    ["cost", "-t", "1e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--context", "200000"],
    ["fit", "llama3.1:8b", "--vram", "24GB", "--context", "200000", "--engine", "vllm"],
    ["serve", "qwen3:30b", "-H", "rtx4090", "--engine", "llamacpp", "--max-num-seqs", "4"],
    ["fit", "llama3.1:8b", "--vram", "8GB", "--n-cpu-moe", "2"],
    ["hardware", "--for", "llama3.1:8b", "--vram", "24GB"],
    ["models", "--search", "(" * 50],
]


def _flagged(line, options):
    """The --options `line` names that are neither `options` nor quoted as an engine's own."""
    return [m.group(0) for m in re.finditer(r"(?<![\w-])--[a-z][a-z0-9-]*", line)
            if m.group(0) not in options and not _FOREIGN.search(line[:m.start()])
            and not line[:m.start()].endswith("No such option: ")]  # the user's own unknown option, echoed


def test_the_check_catches_the_hint_session_34_fixed():
    # serve's old refusal: the check must flag it (and pass the same words naming serve's own options)
    _, options = _options("serve")
    old = ("advisor: context 201,000 is above llama3.1:8b's maximum 131,072: vLLM refuses a max_model_len above the "
           "model's derived maximum; give --context 131072 or less")
    assert _flagged(old, options) == ["--context"]
    assert _flagged(old.replace("--context 131072", "--prompt-tokens and --output-tokens"), options) == []


def _cases():
    yield from _KNOWN
    rng = random.Random(34)
    for cmd, bases in _BASES.items():
        command, _ = _options(cmd)
        flags = [p for p in command.params if any(o.startswith("--") for o in p.opts)]
        for p in flags:  # each option alone with each bad value
            opt = next(o for o in p.opts if o.startswith("--"))
            for value in ([None] if p.is_flag else _BAD):
                yield [cmd, *bases[0], opt, *([] if value is None else [value])]
        for _ in range(15):  # and pairs / triples of them with plausible values
            argv = [cmd, *rng.choice(bases)]
            for p in rng.sample(flags, min(len(flags), rng.randint(2, 3))):
                opt = next(o for o in p.opts if o.startswith("--"))
                argv += [opt] if p.is_flag else [opt, rng.choice(_MIX + _BAD)]
            yield argv


def test_every_hint_names_an_option_its_command_has(tmp_path, monkeypatch):
    # session 34 found serve telling the user to 'give --context' (serve has none). Each hint an error prints that
    # names an --option must name one of the command's own (or a root flag); exit 3 (a bug) is a failure too
    from selfhost_advisor.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # --chart FILE lands here
    wrong, crashed = [], []
    for argv in _cases():
        _, options = _options(argv[0])
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # main returns its code; a SystemExit escaping it is a bug too
                code = ("SystemExit", exc.code)
        text = err.getvalue()
        if code not in (0, 1, 2) or "Traceback" in text:
            crashed.append((argv, code, text[-300:]))
        wrong += [(argv, name, line[:300]) for line in text.splitlines() for name in _flagged(line, options)]
    assert crashed == [], crashed[:3]
    assert wrong == [], wrong[:5]


# --- fit --engine ollama --engine-version newer than any release read ------------------------------------------------

@pytest.mark.parametrize("version,said", [("99.0", True), ("0.33.1", True), ("0.33.0", False), ("0.12.11", False)])
def test_an_ollama_release_newer_than_any_read_is_sized_with_the_newest_rules_and_said(capsys, version, said):
    # '99.0' was sized as the newest release read (data/engines.yaml default_version), unsaid
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB", "--engine", "ollama", "--engine-version",
                         version, "--json")
    assert code == 0, err
    notes = [w for w in json.loads(out)["warnings"] if "newer than the newest release read" in w]
    assert bool(notes) == said, notes
    assert not said or version in notes[0]


# --- models --search: a long text is clipped on the summary line ------------------------------------------------------

def test_a_10k_character_search_is_not_echoed_whole(capsys):
    code, out, err = run(capsys, "models", "--search", "a" * 10_000)
    assert code == 0, err
    assert len(out) < 500 and "..." in out, len(out)
    code, out, err = run(capsys, "models", "--search", "a" * 10_000, "--json")
    assert code == 0 and json.loads(out)["filters"]["search"] == "a" * 10_000
