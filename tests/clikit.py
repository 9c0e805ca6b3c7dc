"""Helpers for the tests that run the CLI in-process (main(argv)) and read what it printed."""
from __future__ import annotations

from selfhost_advisor.cli import main


def run(capsys, *argv):
    """The exit code and the captured stdout and stderr of `advisor argv...` run in this process."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_exit_2(code, out, err, *said):
    """Bad input: exit 2, nothing on stdout, one line on stderr that says each of `said`."""
    assert (code, out, err.count("\n")) == (2, "", 1), err
    assert all(s in err for s in said), err
