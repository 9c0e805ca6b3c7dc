"""fit's Host line, as a buyer reads it (session 31, user31): where the host's CPU and RAM figures are assumed, the
line names the profile they come from and how to measure this machine, not the code's internal names."""
import json
import re

from selfhost_advisor.cli import main


def test_the_assumed_host_line_names_the_profile_not_internal_identifiers(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M"]) == 0
    out = capsys.readouterr().out
    host = out[out.index("Host (CPU layers)"):].split("\nnote:")[0]
    assert "assumed: data/hardware.yaml desktop-ddr5-64gb" in host and "advisor probe --measure" in host
    # identifiers of the code (a dotted class path, snake_case names) mean nothing to a user
    assert not re.search(r"\b[a-z]+\.[A-Z]\w+|\b[a-z]+_[a-z_]+\b", host.replace("desktop-ddr5-64gb", "")), host
    # the figure the line prints is the profile's (data/hardware.yaml desktop-ddr5-64gb fp16_tflops 2.3)
    assert "2,300 GFLOPS" in host


def test_the_json_keeps_the_same_source(capsys):
    assert main(["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "desktop-ddr5-64gb" in json.dumps(d["assumptions"])
