"""Findings of the session 13 sweep over bad input and first use (benchmarks/hostile.py, a README walk from a fresh
clone and issue 16's "Done when" list), each held by a test that failed before its fix. In-process through cli.main.

- `--hardware "ai max+ 395"` (AMD's own name, without the memory size) said "unknown hardware 'ai max'": the '+' of
  "Max+" was read as two mixed cards because the whole name is ambiguous, not unknown; it now lists the three memory
  sizes as "ai max 395" does.
"""
from __future__ import annotations

import json

import pytest

from selfhost_advisor.cli import main


def run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, argv, named):
    code, out, err = run(capsys, argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("advisor: "), err
    assert named in err, err
    return err


@pytest.mark.parametrize("name", ["ai max+ 395", "Ryzen AI Max+ 395", "ryzen ai max+ pro 395"])
@pytest.mark.parametrize("command", [["fit", "llama3.1:8b", "-q", "Q4_K_M"], ["serve", "llama3.1:8b"], ["models", "--fits"]])
def test_a_max_plus_name_without_its_memory_lists_the_sizes(capsys, name, command):
    argv = command + ([] if command[-1] == "--fits" else ["--hardware"]) + [name]
    err = refused(capsys, argv, "names several memory sizes")
    assert "ryzen-ai-max-395-64gb" in err and "unknown hardware" not in err, err


@pytest.mark.parametrize("spec, named", [("rtx 3060+rtx 4090", "rtx-3060-12gb"),   # the part is ambiguous: its sizes
                                         ("rtx4090 + rtx 3090", None)])             # two cards still combine
def test_a_plus_between_two_cards_still_reads_as_a_mixed_machine(capsys, spec, named):
    argv = ["fit", "llama3.1:70b", "-q", "Q4_K_M", "--json", "--hardware", spec]
    if named:
        refused(capsys, argv, named)
    else:
        code, out, err = run(capsys, argv)
        assert code == 0, err
        assert len(json.loads(out)["hardware"]["devices"]) == 2
