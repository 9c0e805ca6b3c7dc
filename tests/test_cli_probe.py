"""`advisor probe` end to end: JSON schema on real and fixture-driven output, the text panels and verdict, ids
redaction, and the round trip `fit X --hardware box.json` == `fit X` on the probed machine."""
import json
import os
import subprocess
import sys
from pathlib import Path

import schemakit
import pytest

import selfhost_advisor.probe as probe_pkg
from selfhost_advisor.cli import main

from cliproc import unmeasured_home
from test_probe import SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "probe.schema.json").read_text())


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def fake_machine(monkeypatch):
    """Make `probe()` (used by `advisor probe` and by `fit` without --hardware) return a fixture scenario."""
    def use(name):
        report = SCENARIOS[name]()
        monkeypatch.setattr(probe_pkg, "probe", lambda sources=None: report)
        return report
    return use


def test_probe_json_on_this_machine_matches_schema(capsys):
    code, out, err = run(capsys, "probe", "--json")
    assert code == 0, err
    data = json.loads(out)
    schemakit.validate(data, SCHEMA)
    assert data["ram_bytes"] > 0 and data["cpu"]["logical_cores"] >= 1


@pytest.mark.parametrize("name", SCENARIOS)
def test_fixture_probe_json_matches_schema(capsys, fake_machine, name):
    fake_machine(name)
    for extra in ([], ["--show-ids"]):
        code, out, _ = run(capsys, "probe", "--json", *extra)
        assert code == 0
        schemakit.validate(json.loads(out), SCHEMA)


MODELS = ("llama3.1:8b", "qwen2.5:32b", "llama3.1:70b", "mixtral:8x7b")


@pytest.mark.parametrize("name", SCENARIOS)
def test_saved_probe_gives_the_same_placement_as_the_probed_machine(capsys, fake_machine, tmp_path, name):
    fake_machine(name)
    code, out, _ = run(capsys, "probe", "--json")
    box = tmp_path / "box.json"
    box.write_text(out)
    for model in MODELS:
        here = json.loads(run(capsys, "fit", model, "--json")[1])
        there = json.loads(run(capsys, "fit", model, "--hardware", str(box), "--json")[1])
        assert [o["placement"] for o in here["options"]] == [o["placement"] for o in there["options"]], model
        assert here["recommended"] == there["recommended"]
        assert [o["memory"] for o in here["options"]] == [o["memory"] for o in there["options"]]
        assert [o["speed"] for o in here["options"]] == [o["speed"] for o in there["options"]]


def test_mig_limits_fit_to_one_instance(capsys, fake_machine):
    fake_machine("a100 mig")
    probed = json.loads(run(capsys, "fit", "llama3.1:70b", "-q", "Q4_K_M", "--json")[1])
    whole = json.loads(run(capsys, "fit", "llama3.1:70b", "-q", "Q4_K_M", "--hardware", "a100-80gb", "--ram", "64GiB",
                           "--json")[1])
    assert whole["options"][0]["placement"]["fit"] == "gpu"  # 46 GB fits an 80 GB A100 ...
    assert probed["options"][0]["placement"]["fit"] == "partial"  # ... but not one 40 GB MIG instance


def test_probe_text_has_a_panel_per_gpu_and_a_verdict(capsys, fake_machine):
    fake_machine("2x rtx 4090")
    code, out, _ = run(capsys, "probe")
    assert code == 0
    assert out.count("NVIDIA GeForce RTX 4090") >= 2 and "GPU 1:" in out and "rtx-4090" in out
    verdict = " ".join(out[out.index("Verdict:"):].split())
    # 2x 24 GB: 70B Q4_K_M (46 GB, README) fits across both cards; nothing needs offload
    assert "on 2 GPUs" in verdict and "70B at Q4_K_M" in verdict and "8B at Q8_0" in verdict  # Q8_0: as good as F16, faster
    assert "GPU-3b1f4c2e" not in out
    assert "GPU-3b1f4c2e" in run(capsys, "probe", "--show-ids")[1]


def test_verdict_says_partial_offload_for_70b_on_one_24gb_card(capsys, fake_machine):
    fake_machine("rx 7900 xtx")
    out = run(capsys, "probe")[1]
    verdict = " ".join(out[out.index("Verdict:"):].split())
    assert "on 1 GPU + 69 GB RAM" in verdict and "70B needs partial offload" in verdict
    assert "32B at Q4_K_M" in verdict  # Qwen2.5 32B Q4_K_M is ~20 GB; Q5_K_M (~23 GB) leaves no room for KV


def test_probe_json_path_imports_no_rich(tmp_path):
    code = ("import sys; from selfhost_advisor.cli import main; main(['probe','--json']);"
            "bad=[m for m in ('rich','numpy','gguf','huggingface_hub','cpuinfo') if m in sys.modules]; assert not bad, bad")
    # a fresh ADVISOR_HOME: the host measurement (probe/hostrate.py) runs too and must import none of them either
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, ADVISOR_HOME=str(tmp_path)))
    assert r.returncode == 0, r.stderr


def test_probe_subprocess_prints_one_object_and_nothing_on_stderr(tmp_path):
    r = subprocess.run([sys.executable, "-m", "selfhost_advisor", "probe", "--json"], capture_output=True, text=True,
                       cwd=ROOT, env=dict(os.environ, ADVISOR_HOME=unmeasured_home(tmp_path), NO_COLOR="1"))
    assert r.returncode == 0 and r.stderr == ""
    assert isinstance(json.loads(r.stdout), dict)


def test_cost_prices_a_saved_probe_through_its_matched_profile(capsys, fake_machine, tmp_path):
    """issue 4: `advisor cost --hardware box.json` works; the box is priced as its matched catalog GPUs."""
    fake_machine("2x rtx 4090")
    box = tmp_path / "box.json"
    box.write_text(run(capsys, "probe", "--json")[1])
    common = ["cost", "--monthly-tokens", "1e9", "--model", "llama3.1:8b", "--cloud", "gpt-4o", "--json"]
    from_file = json.loads(run(capsys, *common, "--hardware", str(box))[1])
    from_name = json.loads(run(capsys, *common, "--hardware", "2x rtx4090")[1])
    assert from_file["self_host"][0]["capex_usd"] == from_name["self_host"][0]["capex_usd"] > 3000
    assert from_file["self_host"][0]["units"] == from_name["self_host"][0]["units"]


def test_cost_rejects_a_probe_without_priced_gpus(capsys, fake_machine, tmp_path):
    fake_machine("intel igpu")
    box = tmp_path / "box.json"
    box.write_text(run(capsys, "probe", "--json")[1])
    code, out, err = run(capsys, "cost", "--monthly-tokens", "1e9", "--hardware", str(box))
    assert code == 2 and out == "" and "profile" in err
