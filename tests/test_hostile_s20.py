"""Session 20 (eng5) hostile input found by benchmarks/hostile.py (session20_cases, seed 20)."""
from __future__ import annotations

import pytest

from clikit import one_line_exit_2, run

ESC = "\x1b]0;PWNED\x07\x1b[2J\x1b[31mred\x1b[0m\r\x08"


@pytest.mark.parametrize("argv", [
    ["hardware", "--for", "x" * 5000 + " 27b " + ESC],
    ["fit", ESC + " " + "x" * 5000, "--vram", "24GB"],
    ["cost", "-t", "1e9", "-m", ESC + " " + "x" * 5000],
])
def test_a_long_value_with_an_escape_sequence_is_clipped_in_the_error_line(capsys, argv):
    """cli.clip_args cut a long quoted value only where it appeared as typed; a value with a control character is
    quoted escaped (!r: '\\x1b'), so it came back whole: a 5,100-character error line (hostile 'longline')."""
    code, out, err = run(capsys, *argv)
    one_line_exit_2(code, out, err, "unknown model", "...")
    assert len(err) < 300 and "\x1b" not in err
