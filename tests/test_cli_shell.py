"""Shell habits (issue 19): --version, completion of model ids, tags, hardware, quantizations, engines and cloud
models, and suggestions for a cloud model name given without its provider."""
import os
import subprocess
import sys

from selfhost_advisor import SCHEMA_VERSION, __version__, cli_complete
from selfhost_advisor.cli import main
from selfhost_advisor.cost.cloud import suggest_cloud


def test_version_prints_package_and_schema_versions(capsys):
    assert main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert out == f"advisor {__version__} (JSON schema {SCHEMA_VERSION})\n" and err == ""


def test_completion_of_models_and_ollama_tags():
    got = cli_complete.models("llama3.1:7")
    assert "llama3.1:70b" in got and all(g.lower().startswith("llama3.1:7") for g in got)
    tags = cli_complete.models("llama3.1:70b-instruct-q4")
    assert "llama3.1:70b-instruct-q4_K_M" in tags and "llama3.1:70b-instruct-q4_0" in tags


def test_completion_of_hardware_keeps_the_count():
    assert "rtx-4090" in cli_complete.hardware("rtx-40")
    assert "2x rtx-4090" in cli_complete.hardware("2x rtx-40")
    assert all(h.startswith("2x ") for h in cli_complete.hardware("2x a100"))
    assert "host-workstation" not in cli_complete.hardware("host")  # a host price, not hardware to run on


def test_completion_of_quants_engines_and_cloud():
    assert cli_complete.quants("Q8_0,Q4_K") == ["Q8_0,Q4_K_M", "Q8_0,Q4_K_S"]
    assert "AWQ-INT4" in cli_complete.quants("AWQ")
    assert cli_complete.engines("v") == ["vllm"] and "llamacpp" in cli_complete.engines("")
    assert "gpt-4o-mini" in cli_complete.cloud("gpt-4o")


def test_completion_through_the_shell_protocol(tmp_path):
    # What bash's completion script runs: the real entry point with _ADVISOR_COMPLETE set.
    env = {**os.environ, "_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": "advisor fit x --hardware 2x\\ rtx-40",
           "COMP_CWORD": "4", "ADVISOR_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "selfhost_advisor"], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "rtx-4090" in out.stdout, out.stderr


def test_cloud_model_without_provider_suggests_provider_model(capsys):
    assert suggest_cloud("gemini-2.5-flash")[0] == "google:gemini-2.5-flash"
    assert "google:gemini-2.5-flash" in suggest_cloud("google:gemini-2.5-flsh")
    code = main(["cost", "-t", "1e9", "--cloud", "gemini-2.5-flash"])
    _, err = capsys.readouterr()
    assert code == 2 and "did you mean google:gemini-2.5-flash" in err and err.count("\n") == 1
