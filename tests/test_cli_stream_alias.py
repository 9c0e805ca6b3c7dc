"""serve and cost take the per-user stream-speed target under either name (session 19, serve10).

`cost` called it --min-stream-speed and `serve` --min-stream-tps, so a user moving from one command to the other got
'No such option' (exit 2) for the same target; each now accepts both names, and both give the same answer."""
import json

import pytest

from selfhost_advisor.cli import main


@pytest.mark.parametrize("argv", [
    ["serve", "gpt-oss:20b", "-H", "rtx 4090", "--json"],
    ["cost", "-t", "2e9", "-m", "llama3.1:8b", "-H", "rtx4090", "--json"],
])
def test_either_name_sets_the_same_target(capsys, argv):
    got = []
    for flag in ("--min-stream-tps", "--min-stream-speed"):
        assert main([*argv, flag, "20"]) == 0
        got.append(json.loads(capsys.readouterr().out))
    assert got[0]["workload"]["min_stream_tokens_per_s"] == 20.0
    assert got[0] == got[1]
