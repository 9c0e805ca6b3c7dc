"""`advisor cost` names the engine it was asked for (--engine), also when no box is sized: the header fell back to a
literal 'vllm' when no option was left to read the engine off (an Arc B580 has no price in data/hardware.yaml)."""
import json
from pathlib import Path

import pytest
import schemakit

from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "cost.schema.json").read_text())
UNPRICED = ["cost", "-m", "llama3.1:8b", "-t", "10M", "-H", "arc b580"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("asked, named", [("llamacpp", "llamacpp"), ("ollama", "ollama"), ("vllm", "vllm"),
                                          ("LlamaCpp", "llamacpp")])
def test_an_unsized_comparison_names_the_engine_asked_for(capsys, asked, named):
    code, out, err = run(capsys, *UNPRICED, "--engine", asked, "--json")
    assert code == 0, err
    d = json.loads(out)
    schemakit.validate(d, SCHEMA)
    assert d["self_host"] == [] and d["rental"] == [] and d["excluded"]  # nothing sized: no option carries the engine
    assert d["engine"] == named
    code, out, err = run(capsys, *UNPRICED, "--engine", asked)
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("Model"))
    assert header.endswith(f"served with {named}")


def test_a_sized_comparison_names_the_same_engine_in_json_and_on_its_options(capsys):
    code, out, err = run(capsys, "cost", "-m", "llama3.1:8b", "-t", "10M", "-H", "rtx 4090", "--engine", "ollama",
                         "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["engine"] == "ollama" and d["self_host"]
    assert {o["serving"]["engine"] for o in d["self_host"] + d["rental"]} == {"ollama"}


def test_a_cpu_box_refusal_does_not_claim_vllm_under_another_engine(capsys):
    code, out, err = run(capsys, "cost", "-m", "llama3.1:8b", "-t", "10M", "-H", "epyc-genoa-1s-384gb",
                         "--engine", "llamacpp")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "not a GPU or unified-memory machine" in err and "vLLM" not in err
