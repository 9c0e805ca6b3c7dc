"""docs/cli.md documents the CLI as it is: every command has a section, every option appears in its command's section
(and every option its tables list exists), every exit code is explained. Read from the typer app, so a new option
without documentation fails here."""
import re
from pathlib import Path

import pytest
import typer.main

from selfhost_advisor.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "cli.md").read_text()
GROUP = typer.main.get_command(app)
COMMANDS = GROUP.commands


def _sections() -> dict[str, str]:
    """'## title' -> the text up to the next '## ' heading."""
    parts = re.split(r"^## ", DOC, flags=re.M)[1:]
    return {p.split("\n", 1)[0].strip(): p for p in parts}


SECTIONS = _sections()


def _option_strings(command) -> list[str]:
    return [s for p in command.params if p.param_type_name == "option" for s in (*p.opts, *p.secondary_opts)]


def _section(name: str) -> str:
    assert f"advisor {name}" in SECTIONS, f"docs/cli.md has no '## advisor {name}' section"
    return SECTIONS[f"advisor {name}"]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_of_every_command_is_in_its_section(name):
    text = _section(name)
    missing = [o for o in _option_strings(COMMANDS[name]) if f"`{o}`" not in text]
    assert not missing, f"docs/cli.md '## advisor {name}' does not document {missing}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_the_tables_list_exists(name):
    # The reverse: an option removed or renamed in the code must leave the table too.
    rows = [line for line in _section(name).splitlines() if line.startswith("| `")]
    listed = {o for row in rows for o in re.findall(r"`(--?[a-z][a-z0-9-]*)`", row.split("|")[1])}
    stale = listed - set(_option_strings(COMMANDS[name]))
    assert not stale, f"docs/cli.md '## advisor {name}' lists options that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_section_states_its_exit_codes_and_the_options_that_give_1(name):
    text = _section(name)
    line = next((ln for ln in text.splitlines() if ln.startswith("Exit codes:")), "")
    line = " ".join(text[text.index(line):].split("\n\n", 1)[0].split()) if line else ""
    assert "0 ok" in line and "2 bad input" in line, f"'## advisor {name}' has no exit-code line"
    gates = [p.opts[0] for p in COMMANDS[name].params if "exit 1" in (getattr(p, "help", None) or "").lower()]
    for opt in gates:
        assert f"`{opt}`" in line, f"'## advisor {name}' exit-code line does not name {opt}"
    assert ("; 1 " in line) == bool(gates)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_a_real_example(name):
    # An example is a ```text block whose first line runs `advisor NAME`, followed by pasted output.
    blocks = re.findall(r"```text\n(\$ [^\n]*)\n(.*?)```", _section(name), flags=re.S)
    runs = [(cmd, out) for cmd, out in blocks if re.search(rf"\badvisor {name}\b", cmd)]
    assert runs and all(out.strip() for _, out in runs), f"'## advisor {name}' needs an example with its output"


def test_global_options_and_help_are_documented():
    text = SECTIONS["Global options"]
    missing = [o for o in (*_option_strings(GROUP), "--help") if f"`{o}`" not in text]
    assert not missing, f"docs/cli.md 'Global options' does not document {missing}"


def test_exit_code_table_explains_0_1_and_2():
    text = SECTIONS["Exit codes"]
    for code in (0, 1, 2):
        assert re.search(rf"^\| {code} \| \w", text, flags=re.M), f"exit code {code} missing from the table"
    # Examples of each code actually shown, with the code printed by `echo "exit $?"`.
    shown = set(re.findall(r"^exit (\d)$", DOC, flags=re.M))
    assert shown >= {"0", "1", "2"}


def test_completion_and_ci_sections_exist():
    assert "bash" in SECTIONS["Shell completion"] and "zsh" in SECTIONS["Shell completion"]
    assert "fish" in SECTIONS["Shell completion"]
    ci = SECTIONS["Gating CI on fit and cost (GitHub Actions)"]
    assert "--require-fit" in ci and "--max-monthly-usd" in ci and "runs-on:" in ci
