"""Flags mean what they say (issue 19): units, conflicts, gates without what they gate, empty values, suggestions.

In-process through cli.main (the process adds nothing here; tests/test_bad_input.py covers the real process).
Each bad row: exit 2, nothing on stdout, one line on stderr naming every flag at fault.
"""
import json
from pathlib import Path

import pytest

from selfhost_advisor.cli import main

BOX = str(Path(__file__).parent / "fixtures" / "probes" / "h200.probe.json")

# (argv, pieces the one-line message must contain)
BAD = [
    # a bare size is not bytes: refused with both readings
    (["fit", "llama3.1:8b", "--vram", "24"], ["--vram", "24GB", "24GiB"]),
    (["fit", "llama3.1:8b", "--vram", "24GB", "--ram", "64"], ["--ram", "64GB"]),
    (["models", "--fits", "rtx4090", "--ram", "64"], ["--ram", "64GB"]),
    # conflicting flags name both
    (["fit", "llama3.1:8b", "--hardware", BOX, "--vram", "24GB"], ["--vram", "--hardware"]),
    (["fit", "llama3.1:8b", "--hardware", BOX, "--gpus", "2"], ["--gpus", "--hardware"]),
    (["fit", "llama3.1:8b", "-H", "2x rtx4090", "--gpus", "4"], ["--gpus 4", "2x rtx4090"]),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--vram", "24GB"], ["--vram", "--hardware"]),
    (["fit", "llama3.1:8b", "-H", "m2-ultra-192gb", "--gpus", "2"], ["--gpus", "m2-ultra-192gb"]),
    (["models", "--fits", "rtx4090", "--hardware", "rtx3090"], ["--fits", "--hardware"]),
    (["hardware", "show", "rtx4090", "--for", "llama3.1:8b"], ["show", "--for"]),
    # a gate (or qualifier) without what it gates
    (["hardware", "--min-tps", "20"], ["--min-tps", "--for"]),
    (["hardware", "--max-price", "5000"], ["--max-price", "--for"]),
    (["hardware", "-q", "Q4_K_M"], ["--quant", "--for"]),
    (["models", "--min-tps", "20"], ["--min-tps", "--fits"]),
    (["models", "--gpus", "2", "--ram", "64GB"], ["--gpus", "--ram", "--fits"]),  # --vram alone is a custom GPU
    (["models", "--fits", "rtx4090", "--vram", "24GB"], ["--vram", "--fits"]),
    (["models", "qwen", "--search", "llama"], ["--search"]),
    (["models", "--installed", "--min-tps", "20"], ["--min-tps", "--fits"]),
    # empty values are bad input, not absent
    (["fit", "llama3.1:8b", "-H", "rtx4090", "--require-fit", ""], ["--require-fit"]),
    (["fit", "llama3.1:8b", "--hardware", ""], ["--hardware"]),
    (["fit", "llama3.1:8b", "-H", "rtx4090", "-q", " "], ["--quant"]),
    (["fit", "llama3.1:8b", "--vram="], ["--vram"]),
    (["models", "--fits", ""], ["--fits"]),
    (["hardware", "--for", ""], ["--for"]),
    (["cost", "--monthly-tokens", ""], ["--monthly-tokens"]),
    # unknown commands and options: the nearest real one suggested
    (["fitt", "llama3.1:8b"], ["'fit'"]),
    (["hardwar"], ["'hardware'"]),
    (["fit", "llama3.1:8b", "--vrm", "24GB"], ["--vram"]),
    (["models", "--fit", "rtx4090"], ["--fits"]),
]


@pytest.mark.parametrize("argv,pieces", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_flag_combinations_exit_2_naming_every_flag(argv, pieces, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == "", (code, out)
    assert err.count("\n") == 1 and err.startswith("advisor: "), err
    for piece in pieces:
        assert piece in err, (piece, err)


def _json(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_models_fits_honours_ram_vram_and_gpus(capsys):
    # issue 19: models --fits ignored --ram and --vram. With host RAM a discrete GPU can offload part of a 70B;
    # without it a bare GPU profile cannot (its host RAM is unknown).
    bare = {m["id"]: m for m in _json(capsys, "models", "llama3.1:70b", "--fits", "rtx4090", "--json")["models"]}
    ram = _json(capsys, "models", "llama3.1:70b", "--fits", "rtx4090", "--ram", "128GB", "--json")
    assert ram["hardware"]["ram_bytes"] == 128 * 10**9
    with_ram = {m["id"]: m for m in ram["models"]}
    assert with_ram["llama3.1:70b"]["option"]["placement"]["fit"] in ("partial", "gpu")
    assert bare["llama3.1:70b"]["option"] is None or bare["llama3.1:70b"]["option"]["placement"]["fit"] == "gpu"
    two = _json(capsys, "models", "llama3.1:8b", "--fits", "rtx4090", "--gpus", "2", "--json")
    assert len(two["hardware"]["devices"]) == 2


def test_profile_times_gpus_and_a_probe_file_with_ram_still_work(capsys):
    d = _json(capsys, "fit", "llama3.1:8b", "-H", "rtx4090", "--gpus", "2", "--json")
    assert len(d["hardware"]["devices"]) == 2
    d = _json(capsys, "fit", "llama3.1:8b", "-H", "2x rtx4090", "--gpus", "2", "--json")  # the same count twice
    assert len(d["hardware"]["devices"]) == 2
    d = _json(capsys, "fit", "llama3.1:8b", "--hardware", BOX, "--ram", "32GB", "--json")  # --ram overrides the file
    assert d["hardware"]["ram_bytes"] == 32 * 10**9
