"""The --json contract of every command, through the real process: one object, schema_version, schema-valid, stable.

DESIGN.md "JSON contract": every `--json` output is one object with `schema_version` (semver), and a test validates
real outputs against docs/schema/. Here each command and mode (fit on a profile, a GGUF file, a saved probe, a
cached Hub model, vLLM; models, --fits, --installed; hardware list, show, --for; probe; cost variants) runs twice:
in this process (cliproc.run_inprocess: this process's random hash seed, caches warmed by the tests before) and in
another Python process with PYTHONHASHSEED=2 (cliproc.run_batch: all rows in that one process): stdout must be exactly one JSON object, valid against its
schema, and byte-identical between the runs (STYLE.md 11: same inputs, same JSON). Every schema file
in docs/schema must be exercised by at least one output.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from gguf_factory import write_gguf
from hubfake import FakeHub, install
from referencing import Registry, Resource

from selfhost_advisor.render.probe_json import probe_dict
from test_ollama import _blob, _manifest
from test_probe import SCENARIOS
from cliproc import isolated_env, run_batch, run_inprocess

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = {p.name.removesuffix(".schema.json"): json.loads(p.read_text())
           for p in sorted((ROOT / "docs" / "schema").glob("*.schema.json"))}
REGISTRY = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values() if "$id" in s)
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
HUB_REPO = "google/gemma-2-9b-it"
MEASURED = ["--decode-tps", "600", "--prefill-tps", "4000"]

# (schema, argv): every --json output the CLI has, in the modes that build the object differently
CASES: list[tuple[str, list[str]]] = [
    ("fit", ["fit", "llama3.1:70b", "--hardware", "2x rtx4090", "--json"]),
    ("fit", ["fit", "qwen2.5:7b", "--ram", "32GB", "--context", "max", "--kv-cache", "q8_0", "-q", "Q4_K_M,Q8_0", "--json"]),
    ("fit", ["fit", "llama3.1:405b", "--vram", "24GB", "--gpus", "2", "-q", "F16", "--json"]),  # nothing fits
    ("fit", ["fit", "qwen3:30b", "--engine", "vllm", "--hardware", "a100-80gb", "--json"]),
    ("fit", ["fit", "gemma3:27b", "--hardware", "m2-ultra-192gb", "--engine", "ollama", "--parallel", "2", "--json"]),
    ("fit", ["fit", "./tiny.gguf", "--vram", "8GB", "--json"]),
    ("fit", ["fit", "mixtral:8x7b", "--hardware", "./box.json", "-q", "Q4_K_M", "--json"]),
    ("fit", ["fit", f"hf:{HUB_REPO}", "--offline", "--vram", "24GB", "-q", "Q4_K_M", "--json"]),
    ("models", ["models", "--json"]),
    ("models", ["models", "qwen", "--json"]),
    ("models-fits", ["models", "llama", "--fits", "rtx4090", "--json"]),
    ("models-fits", ["models", "qwen3", "--fits", "./box.json", "--engine", "vllm", "--min-tps", "5", "--json"]),
    ("models-installed", ["models", "--installed", "--vram", "8GB", "--ram", "16GB", "--json"]),
    ("hardware", ["hardware", "--json"]),
    ("hardware", ["hardware", "show", "m2-ultra-192gb", "--json"]),
    ("hardware", ["hardware", "--for", "llama3.1:70b", "--min-tps", "10", "--max-price", "20000", "--json"]),
    ("probe", ["probe", "--json"]),
    ("cost", ["cost", "-t", "2e9", "--json"]),
    ("serve", ["serve", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "1000", "--output-tokens", "200",
               "--min-stream-tps", "30", "--json"]),
    ("serve", ["serve", "llama3.1:8b", "-H", "rtx4090", "--engine", "llamacpp", "--concurrency", "1,4", "--json"]),
    ("serve", ["serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", "8,150", "--max-ttft", "1", "--min-stream-tps",
               "20", "--json"]),  # a --concurrency check that passes (session 31)
    ("cost", ["cost", "-t", "5e8", "--model", "llama3.1:8b", "--hardware", "rtx4090", "--cloud", "gpt-4o-mini,claude-haiku",
              "--json"]),
    ("cost", ["cost", "-t", "1e9", "--hardware", "./box.json", "--price-in", "1", "--price-out", "3", *MEASURED,
              "--regulated", "hipaa", "--json"]),
    ("cost", ["cost", "-t", "1e8", "--air-gapped", "--no-ops-team", "--hardware", "2x rtx4090", *MEASURED, "--json"]),
]


def _ids(cases):
    return [" ".join(argv) for _, argv in cases]


def _write_inputs(d: Path) -> None:
    """A GGUF, a saved probe of a 2x RTX 4090 box, an Ollama folder with one model, a Hub answer in the cache."""
    write_gguf(d / "tiny.gguf")
    (d / "box.json").write_text(json.dumps(probe_dict(SCENARIOS["2x rtx 4090"]())))
    ollama = d / "ollama"
    blob = _blob(ollama, (d / "tiny.gguf").read_bytes())
    _manifest(ollama, "registry.ollama.ai", "library", "tiny", "2l-q4_K_M",
              [{"mediaType": "application/vnd.ollama.image.model", "digest": blob, "size": 1}])
    with pytest.MonkeyPatch.context() as mp:  # fill ADVISOR_HOME's Hub cache through the fake Hub, once
        mp.setenv("ADVISOR_HOME", str(d / "home"))
        fake = install(mp, FakeHub())
        fake.add_recorded(HUB_REPO)
        from selfhost_advisor.catalog.resolve import resolve

        resolve(f"hf:{HUB_REPO}")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    _write_inputs(d)
    return d


# UTC days the fixtures' runs began and ended on. `cost` prices a request at noon UTC of the day it runs
# (cost/cloud.price_moment), so two runs on either side of midnight may rightly differ: a byte comparison between them
# is then skipped, not failed (a test run at 00:00 UTC failed this way in session 22).
_RUN_DAYS: set = set()


def _utc_day():
    return datetime.now(timezone.utc).date()


def _unless_straddled(same: bool, what: str) -> None:
    if not same and len(_RUN_DAYS) > 1:
        pytest.skip(f"{what}: the runs straddled midnight UTC, and cost prices at the day it runs")


@pytest.fixture(scope="module")
def outputs(inputs):
    d = inputs
    env = isolated_env(d / "home", d / "ollama")

    _RUN_DAYS.add(_utc_day())
    here = run_inprocess([(argv, env) for _, argv in CASES], d)
    # another process under another hash seed, all rows in that one process (cliproc.run_batch: one interpreter start
    # instead of 23); the entry point itself is covered by test_bad_input's real-process rows
    process = run_batch([(argv, env) for _, argv in CASES], d, {**env, "PYTHONHASHSEED": "2"})
    _RUN_DAYS.add(_utc_day())
    return dict(zip(_ids(CASES), zip(here, process)))


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_json_output_is_one_schema_valid_object(outputs, case):
    schema, argv = case
    first, _ = outputs[_ids([case])[0]]
    assert first.returncode == 0, first.stderr
    obj, end = json.JSONDecoder().raw_decode(first.stdout)
    assert isinstance(obj, dict) and first.stdout[end:] == "\n", "exactly one JSON object, then a newline"
    assert SEMVER.match(obj["schema_version"]), obj["schema_version"]
    jsonschema.Draft202012Validator(SCHEMAS[schema], registry=REGISTRY).validate(obj)
    assert first.stderr == ""  # none of these inputs has anything to warn about


@pytest.mark.parametrize("case", [c for c in CASES if c[1][0] != "probe"], ids=_ids([c for c in CASES if c[1][0] != "probe"]))
def test_the_same_command_twice_prints_the_same_bytes(outputs, case):
    # probe is left out here: it reports live free memory, which changes between runs; see the test below
    first, second = outputs[_ids([case])[0]]
    _unless_straddled(first.stdout == second.stdout, "two runs")
    assert first.stdout == second.stdout and first.stdout
    assert (first.returncode, first.stderr) == (second.returncode, second.stderr)


def test_probe_of_the_same_machine_twice_prints_the_same_bytes(tmp_path):
    """Two processes, different hash seeds, one fixture machine (test_probe.SCENARIOS) in place of the live probe."""
    code = ("import sys; sys.path[:0] = ['tests', 'tests/fixtures']; import selfhost_advisor.probe as p; "
            "from test_probe import SCENARIOS; r = SCENARIOS[sys.argv[1]](); p.probe = lambda sources=None: r; "
            "from selfhost_advisor.cli import main; raise SystemExit(main(['probe', '--json']))")
    for name in ("a100 mig", "m3 pro"):
        runs = [subprocess.run([sys.executable, "-c", code, name], cwd=ROOT, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONHASHSEED": seed, "ADVISOR_HOME": str(tmp_path)})
                for seed in ("1", "2")]
        assert runs[0].returncode == 0, runs[0].stderr
        assert runs[0].stdout == runs[1].stdout
        jsonschema.Draft202012Validator(SCHEMAS["probe"], registry=REGISTRY).validate(json.loads(runs[0].stdout))


# --timestamp: one case per schema, the flag after the command for half of them and before it for the rest.
_FIRST: dict[str, list[str]] = {}
for _schema, _argv in CASES:
    _FIRST.setdefault(_schema, _argv)
STAMPED = [(schema, [*argv, "--timestamp"] if i % 2 else ["--timestamp", *argv])
           for i, (schema, argv) in enumerate(_FIRST.items())]


@pytest.fixture(scope="module")
def stamped(inputs):
    d = inputs
    before = datetime.now(timezone.utc).replace(microsecond=0)
    _RUN_DAYS.add(before.date())
    done = run_inprocess([(argv, isolated_env(d / "home", d / "ollama")) for _, argv in STAMPED], d)
    _RUN_DAYS.add(_utc_day())
    return before, datetime.now(timezone.utc), done


@pytest.mark.parametrize("i", range(len(STAMPED)), ids=_ids(STAMPED))
def test_timestamp_adds_generated_at_from_the_clock_and_nothing_else(stamped, outputs, i):
    before, after, done = stamped
    schema, argv = STAMPED[i]
    run = done[i]
    assert run.returncode == 0, run.stderr
    obj = json.loads(run.stdout)
    jsonschema.Draft202012Validator(SCHEMAS[schema], registry=REGISTRY).validate(obj)
    at = datetime.fromisoformat(obj.pop("generated_at").replace("Z", "+00:00"))
    assert before <= at <= after
    plain = [a for a in argv if a != "--timestamp"]
    unstamped = json.loads(outputs[" ".join(plain)][0].stdout)
    assert "generated_at" not in unstamped
    if schema != "probe":  # live free memory differs between runs
        _unless_straddled(obj == unstamped, "stamped and plain runs")
        assert obj == unstamped


def test_every_schema_and_every_command_is_exercised():
    assert {schema for schema, _ in CASES} == set(SCHEMAS)
    from typer.main import get_command

    from selfhost_advisor.cli import app

    with_json = {name for name, cmd in get_command(app).commands.items() if any("--json" in p.opts for p in cmd.params)}
    assert with_json <= {argv[0] for _, argv in CASES}
