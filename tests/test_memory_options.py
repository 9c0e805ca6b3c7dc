"""--memory total|free (fit against the GPU memory free now) and --gpu-memory (a raised Metal wired limit, an APU's
VRAM + GTT), issue 16."""
import json
from pathlib import Path

from selfhost_advisor.catalog.hardware import get_profile, machine_from_profile, working_set_bytes
from selfhost_advisor.cli import main

ROOT = Path(__file__).resolve().parents[1]
H200 = ROOT / "tests" / "fixtures" / "probes" / "h200.probe.json"  # captured on a real H200 (benchmarks/device)


def _busy(tmp_path, free_bytes):
    d = json.loads(H200.read_text())
    d["devices"][0]["free_memory_bytes"] = free_bytes
    f = tmp_path / "busy.json"
    f.write_text(json.dumps(d))
    return str(f)


def _fit(capsys, *argv):
    assert main(["fit", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr()[0])


def test_saved_probe_fit_shows_the_free_memory_answer_beside_total(capsys, tmp_path):
    busy = _busy(tmp_path, 60 * 10**9)  # other processes hold ~90 of the H200's 141 GiB
    total = _fit(capsys, "llama3.1:70b", "-H", busy)
    side = total["assumptions"]["fit_on_free_memory"]
    assert side["free_memory_bytes"] == [60 * 10**9]
    # against the whole card Q8_0 (75 GB; as good as F16 and faster); 60 GB free holds neither
    assert total["recommended"] == "Q8_0" and side["recommended"] not in ("F16", "Q8_0")
    assert any("--memory free" in w for w in total["warnings"])
    free = _fit(capsys, "llama3.1:70b", "-H", busy, "--memory", "free")
    assert free["recommended"] == side["recommended"]
    assert free["options"][0]["placement"]["gpu_bytes"] <= 60 * 10**9


def test_free_memory_is_not_mentioned_when_the_card_is_idle(capsys):
    out = _fit(capsys, "llama3.1:8b", "-H", str(H200))  # the capture: 150.1 of 150.8 GB free
    assert "fit_on_free_memory" not in out["assumptions"]


def test_gpu_memory_raises_apple_working_set(capsys):
    m4 = get_profile("m4 max 64gb")
    default = machine_from_profile(m4).devices[0].usable_memory_bytes
    assert default == working_set_bytes(64 * 2**30) < 64 * 2**30
    out = _fit(capsys, "llama3.1:70b", "-H", "m4 max 64gb", "-q", "Q6_K")
    assert out["options"][0]["placement"]["fit"] != "gpu"  # ~61 GB beyond the default 0.78 x 64 GiB = 53.6 GB
    out = _fit(capsys, "llama3.1:70b", "-H", "m4 max 64gb", "-q", "Q6_K", "--gpu-memory", "64GB")
    assert out["hardware"]["devices"][0]["usable_memory_bytes"] == 64 * 10**9
    assert out["options"][0]["placement"]["fit"] == "gpu"


def test_gpu_memory_on_an_apu_sets_vram_plus_gtt(capsys):
    out = _fit(capsys, "llama3.1:70b", "-H", "ryzen ai max+ 395 128gb", "-q", "Q4_K_M", "--gpu-memory", "96GB")
    assert out["hardware"]["devices"][0]["usable_memory_bytes"] == 96 * 10**9


def test_memory_option_refusals_exit_2(capsys):
    for argv, words in ((["-H", "rtx4090", "--gpu-memory", "20GB"], "unified"),
                        (["-H", "rtx4090", "--memory", "free"], "free memory"),
                        (["-H", "rtx4090", "--memory", "half"], "total or free"),
                        (["-H", "m4 max 64gb", "--gpu-memory", "100GB"], "exceeds")):
        assert main(["fit", "llama3.1:8b", *argv]) == 2
        assert words in capsys.readouterr()[1]
