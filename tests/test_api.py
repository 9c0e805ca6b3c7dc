"""The public library API (issue 19, docs/api.md): same records as the CLI's JSON, lazy import, README example runs."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import selfhost_advisor as sa
from selfhost_advisor.cli import main
from selfhost_advisor.errors import AdvisorError, BadSizeError

ROOT = Path(__file__).resolve().parents[1]


def _cli_json(capsys, *argv):
    code = main([*argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out)


@pytest.mark.parametrize("call,argv", [
    (lambda: sa.fit("llama3.1:70b", "2x rtx4090", quant="Q8_0,Q4_K_M", min_tps=15),
     ["fit", "llama3.1:70b", "-H", "2x rtx4090", "-q", "Q8_0,Q4_K_M", "--min-tps", "15"]),
    (lambda: sa.fit("mixtral:8x7b", vram="24GB", ram=64 * 10**9, context="16k", quant=["Q4_K_M"]),
     ["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-c", "16k", "-q", "Q4_K_M"]),
    (lambda: sa.hardware_for("llama3.1:8b", min_tps=100, max_price=3000),
     ["hardware", "--for", "llama3.1:8b", "--min-tps", "100", "--max-price", "3000"]),
    (lambda: sa.models_that_fit("rtx4090", query="llama3.1", ram="64GB", min_tps=5),
     ["models", "llama3.1", "--fits", "rtx4090", "--ram", "64GB", "--min-tps", "5"]),
    (lambda: sa.cost("2e9", hardware="2x rtx4090", cloud=["gpt-4o", "claude-haiku"], active_hours=730),
     ["cost", "-t", "2e9", "-H", "2x rtx4090", "--cloud", "gpt-4o,claude-haiku", "--active-hours", "730"]),
    (lambda: sa.serve("llama3.1:8b", "h100-sxm", prompt_tokens=800, output_tokens=300, concurrency=[1, 8, 64],
                      max_ttft=1.5, min_stream_tps=25),
     ["serve", "llama3.1:8b", "-H", "h100-sxm", "--prompt-tokens", "800", "--output-tokens", "300",
      "--concurrency", "1,8,64", "--max-ttft", "1.5", "--min-stream-tps", "25"]),
    (lambda: sa.fit("llama3.1:8b", "h100-sxm", engine="vllm", quant="FP8", gpu_memory_utilization=0.8),
     ["fit", "llama3.1:8b", "-H", "h100-sxm", "--engine", "vllm", "-q", "FP8", "--gpu-memory-utilization", "0.8"]),
])
def test_api_records_give_the_cli_json(call, argv, capsys):
    code, cli = _cli_json(capsys, *argv)
    assert code == 0
    assert sa.as_json(call()) == cli


def test_fit_gate_is_on_the_record():
    r = sa.fit("llama3.1:70b", "rtx4090", quant="Q8_0,Q4_K_M", require_fit="gpu", min_tps=5)
    assert r.gate is not None and not r.gate.passed and "--min-tps 5" in r.gate.failure()
    assert sa.fit("llama3.1:8b", "rtx4090", quant="Q4_K_M").gate is None


def test_bad_input_raises_the_cli_error():
    with pytest.raises(BadSizeError, match="no unit"):
        sa.fit("llama3.1:8b", vram="24")
    with pytest.raises(AdvisorError, match="nosuchmodel"):
        sa.fit("nosuchmodel", "rtx4090")
    with pytest.raises(BadSizeError):
        sa.fit("llama3.1:8b", vram=24.5)  # a float is neither a size string nor integer bytes


def test_probe_returns_the_report_and_the_subpackage_name_is_callable_too():
    report = sa.probe()
    assert report.machine.ram_bytes > 0
    import selfhost_advisor.probe as sub  # the subpackage, which shadows the function once imported

    assert callable(sub) and sub().machine.ram_bytes > 0 and callable(sa.probe)


def test_import_is_lazy_and_the_library_path_never_loads_the_cli():
    code = ("import sys, selfhost_advisor as sa\n"
            "light = sorted(m for m in sys.modules if m.startswith(('selfhost_advisor', 'typer', 'rich', 'yaml')))\n"
            "sa.fit('llama3.1:8b', 'rtx4090', quant='Q4_K_M')\n"
            "ui = sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click'))\n"
            "print(light, ui)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['selfhost_advisor'] []"


def test_package_is_typed():
    assert (ROOT / "selfhost_advisor" / "py.typed").is_file()


def test_readme_api_example_runs(capsys):
    # The README's Python example, as a new user pastes it after the two set-up commands.
    block = re.search(r"<!-- api-example -->\n```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no api-example block"
    exec(compile(block.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.startswith("Q4_K_M gpu") and "gate: True Q4_K_M" in out and sa.SCHEMA_VERSION in out


def test_serve_bad_input_raises_the_cli_error():
    with pytest.raises(AdvisorError):
        sa.serve("llama3.1:8b", "h100-sxm", prompt_tokens=0)
    with pytest.raises(AdvisorError):
        sa.serve("llama3.1:8b", "h100-sxm", concurrency=[0])
