"""Session 13 usability leftovers: `hardware show` of the counted forms fit takes, the top-level help a new user reads
first, and every command's --hardware help naming the spec-sheet form.

- `hardware show "2x custom:vram=..."` said "unknown hardware '2x custom:...'; ... or give a spec: --hardware
  custom:..." (asking for the very thing given; 'custom:...' without a count had been fixed, cc72f73).
- `hardware show "2x rtx4090"` said "unknown hardware '2x rtx4090'; did you mean rtx-4090 ..." though it names one.
- `advisor --help` cut every command's summary at "..." ("fit  Memory per quantization, where it fits, and the
  recommended..."), and only fit's own question was asked in its first line.
- fit / serve / cost / models --fits never said in their --help that a GPU missing from the catalog can be given by
  its spec sheet (the refusal of an unknown name is where a user learned it).
"""
from __future__ import annotations

import shlex

import pytest
import typer.main

from test_hostile_session12 import refused, run

from selfhost_advisor.cli import app

SPEC = "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"
GROUP = typer.main.get_command(app)


_run, _refused = run, refused  # one CLI call, in process; a refusal: exit 2, one line naming `named`, stdout empty


@pytest.mark.parametrize("spec", ["2x " + SPEC, "2 x " + SPEC, "4X " + SPEC.upper(), SPEC])
def test_hardware_show_of_a_counted_spec_sheet_says_where_a_spec_goes(capsys, spec):
    err = _refused(capsys, ["hardware", "show", spec], "catalog profiles, not a spec sheet")
    assert "unknown hardware" not in err and "--hardware" in err, err


@pytest.mark.parametrize("argv", [["hardware", "show", "2x rtx4090"], ["hardware", "show", "rtx4090x2"],
                                  ["hardware", "2x rtx4090"], ["hardware", "show", "8x h100-sxm"]])
def test_hardware_show_of_a_count_names_the_one_profile(capsys, argv):
    err = _refused(capsys, argv, "drop the count")
    assert "unknown hardware" not in err, err
    want = "h100-sxm" if "h100" in argv[-1] else "rtx-4090"
    assert err.rstrip().endswith(f"advisor hardware show {want}"), err
    code, out, _ = _run(capsys, ["hardware", "show", want])  # and the line it gives works
    assert code == 0 and want in out


@pytest.mark.parametrize("name", ["2x rtx9999", "rtx9999"])
def test_hardware_show_of_an_unknown_name_still_says_unknown(capsys, name):
    _refused(capsys, ["hardware", "show", name], "unknown hardware")


def _help(capsys, argv) -> str:
    code, out, _ = _run(capsys, argv)
    assert code == 0
    return out


def test_top_level_help_lists_every_command_in_full_within_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    out = _help(capsys, ["--help"])
    assert all(len(line) <= 80 for line in out.splitlines()), out
    listing = out.split("\nCommands:\n", 1)[1].splitlines()
    names = [line.split()[0] for line in listing if line.startswith("  ") and not line.startswith("   ")]
    assert sorted(names) == sorted(GROUP.commands), listing
    assert len(listing) == len(GROUP.commands) and not any(line.rstrip().endswith("...") for line in listing), listing
    assert "self-host" in out.split("Start with:")[0] and "cloud API" in out.split("Start with:")[0]


def test_every_start_with_example_is_a_command_line_the_cli_accepts(capsys):
    """The examples under 'Start with:' parse with the command's own options (a renamed option fails here)."""
    out = _help(capsys, ["--help"])
    block = out.split("Start with:\n", 1)[1].split("\n\n", 1)[0]
    lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
    assert len(lines) >= 4
    seen = set()
    for line in lines:
        argv = shlex.split(line.split("  ")[0])  # the command, before the two-space gap and its gloss
        assert argv[0] == "advisor" and argv[1] in GROUP.commands, line
        cmd = GROUP.commands[argv[1]]
        cmd.make_context(argv[1], argv[2:])  # raises click.UsageError on an unknown option or a missing value
        seen.add(argv[1])
    assert {"probe", "fit", "cost"} <= seen


@pytest.mark.parametrize("argv", [["fit"], ["serve"], ["cost"], ["models"]])
def test_each_hardware_option_names_the_spec_sheet_form(capsys, argv):
    text = " ".join(_help(capsys, argv + ["--help"]).split())
    opt = "--fits" if argv == ["models"] else "--hardware"
    part = text[text.index(opt + " <str>"):]  # its row in the options table
    part = part[:part.index(" --", 3)]
    assert "custom:" in part, part
    if "('custom:" in part:  # a full example: it reads as the spec sheet it shows (the count of one GPU)
        from selfhost_advisor.catalog.hardware import parse_spec

        example = "custom:" + part.split("('custom:", 1)[1].split("')", 1)[0]
        profile, count, _ = parse_spec(example)
        assert profile.id == "custom" and count == 1 and profile.memory_bytes in (16e9, 24e9), example
