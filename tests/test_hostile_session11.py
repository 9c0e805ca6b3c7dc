"""Findings of benchmarks/hostile.py in session 11 (the custom-spec keys and spec files), each held by a test that
failed before its fix.

- a YAML spec sheet whose value is a list of aliases (a "billion laughs": 9 levels of 9 aliases, 300 bytes) was
  turned into text by str() for `name`, `simd` or `backend`: minutes of CPU and gigabytes (killed); a value that is a
  list or a mapping is now refused before anything reads it.
- a key given twice (`cores=4,cores=64`, or twice in a YAML / JSON spec file) silently took the last one: the box
  priced was not the one the user may have meant; now exit 2 naming the key.
- every refusal of a CPU box's keys (cores=0, clock=nan, simd=...) ended with the GPU example
  ('e.g. --hardware "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"'), the wrong thing to do for a CPU box.
- a YAML spec with an integer of over 4,300 digits said 'check the path' (Python's int-conversion limit).
- a GPU name stating two memory sizes (`rtx 3060 12gb 8gb`) was priced at the first one (a regression of ffd233b's
  form-factor tie-break; 202d4f6 refused it with its choices).
- an edited ADVISOR_HOME/host_rates.json (e_cores, new this session, not fewer than the threads; a clock of 1e-300 Hz)
  priced this host at 0.0 tok/s; the figure is dropped.
- `cost -H custom:...` came apart at its commas (a CPU box: "clock is missing"; a GPU: its GB/s read as a file path),
  and every --hardware was lower-cased (a probe file ./H200.Probe.json was not found): a spec sheet is refused whole,
  a path kept as typed.
- `serve` printed a box's name (a spec sheet's `name`, a probe file's) into rich markup: `[/]` was exit 3.
- a positive but absurd rate (`bandwidth=1e-300`, `fp16=1flops`) was taken and priced the box at 0.0 tok/s.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from cliproc import isolated_env, run_measured

from selfhost_advisor.cli import main

CPU = "cores: 16\nclock: 4.5GHz\nsimd: avx512\nram: 64GB\nchannels: 2\nmts: 5600\n"
GPU = "vram: 16GB\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n"
# 9 levels of 9 aliases: 300 bytes of YAML, 9**9 = 387M strings once turned into text
LAUGHS = "[" + ", ".join(["&a0 [x,x,x,x,x,x,x,x,x]"] + [f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]"
                                                       for i in range(1, 10)]) + "]"

# (file name, contents, exit code, a piece the one line must name)
FILES: list[tuple[str, str, int, str]] = [
    ("laughs-name.yaml", CPU + f"name: {LAUGHS}\n", 2, "name"),
    ("laughs-simd.yaml", CPU.replace("simd: avx512\n", "") + f"simd: {LAUGHS}\n", 2, "simd"),
    ("laughs-backend.yaml", GPU + f"backend: {LAUGHS}\n", 2, "backend"),
    ("laughs-gpu-name.yaml", GPU + f"name: {LAUGHS}\n", 2, "name"),
    ("list-name.yaml", CPU + "name: [1, 2, 3]\n", 2, "name"),
    ("map-cores.yaml", CPU.replace("cores: 16", "cores: {n: 16}"), 2, "cores"),
    ("dup-cores.yaml", CPU + "cores: 64\n", 2, "cores"),
    ("dup-case.yaml", CPU + "Cores: 64\n", 2, "cores"),
    ("dup-vram.yaml", GPU + "vram: 160GB\n", 2, "vram"),
    ("dup-cores.json", json.dumps({"clock": "4.5GHz", "simd": "avx2", "ram": "64GB", "bandwidth": "89GB/s",
                                   "cores": 16})[:-1] + ', "cores": 64}', 2, "cores"),
    ("long-number.yaml", CPU.replace("cores: 16", "cores: " + "9" * 5000), 2, "4300 digits"),
    ("ok.yaml", CPU, 0, ""),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile-s11")
    for name, text, _, _ in FILES:
        (d / name).write_text(text)
    env = isolated_env(d / "home", d / "ollama")
    jobs = [(["fit", "llama3.1:8b", "--json", "--hardware", f"./{name}"], env) for name, _, _, _ in FILES]
    return dict(zip([f[0] for f in FILES], run_measured(jobs, d, timeout=20)))


@pytest.mark.parametrize("row", FILES, ids=[f[0] for f in FILES])
def test_a_hostile_spec_file_ends_at_once_with_one_line(results, row):
    name, _, code, named = row
    results[name].assert_ends_at_once(code, named)


CPU_INLINE = "custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,channels=2,mts=5600"


@pytest.mark.parametrize("spec, named", [
    (CPU_INLINE + ",cores=64", "cores"),
    (CPU_INLINE + ",CORES=64", "cores"),
    ("custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,vram=160GB", "vram"),
])
def test_a_key_given_twice_is_refused(capsys, spec, named):
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", spec])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"'{named}' is given twice" in err, err


@pytest.mark.parametrize("bad", ["cores=0", "clock=nan", "simd=avx9", "ram=-1", "mts=inf", "bogus=1",
                                 "flops_per_cycle=48", "e_cores=16"])
def test_a_cpu_box_refusal_shows_a_cpu_box_example(capsys, bad):
    key = bad.split("=")[0]
    pairs = CPU_INLINE.removeprefix("custom:").split(",")
    spec = "custom:" + ",".join([p for p in pairs if not p.startswith(key + "=")] + [bad])
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", spec])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "vram=16GB" not in err and "custom:cores=" in err.split(";")[-1], err


def test_a_spec_file_with_one_key_each_still_loads(tmp_path, capsys):
    (tmp_path / "box.yaml").write_text(CPU)
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", str(tmp_path / "box.yaml")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["hardware"]


@pytest.mark.parametrize("hw", ["rtx 3060 12gb 8gb", "rtx 3060 8gb 12gb", "v100 32gb 16gb"])
def test_a_name_stating_two_memory_sizes_is_refused_with_its_choices(capsys, hw):
    """Session 11's memory-size tie-break (hw_names._same_memory_form_factors) read the first size a name states, so
    'rtx 3060 12gb 8gb' was priced as the 12 GB card and '8gb 12gb' as the 8 GB one; before it, and now, exit 2."""
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", hw])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "several memory sizes" in err, err


@pytest.mark.parametrize("edit", [{"e_cores": 10**9, "e_clock_hz": 1e-300}, {"e_cores": 2}, {"e_clock_hz": 1e-300},
                                  {"e_cores": 1, "e_clock_hz": 5e20}, {"clock_hz": 1e-300}, {"clock_hz": 1e11}])
def test_an_edited_host_rates_cache_drops_the_figure(tmp_path, edit):
    """ADVISOR_HOME/host_rates.json with efficiency cores not fewer than the threads (new this session) or a clock
    outside 0.1-10 GHz priced the host at 0.0 tok/s; the figure is dropped, as tampered figures already were."""
    from selfhost_advisor.probe import hostrate

    calls = []

    def measure(threads):
        calls.append(threads)
        return hostrate.HostRates(3e9, 20 * 10**9, threads, 0.1, "fake", 10 * 10**9)

    hostrate.cached_host_rates(2, 100.0, str(tmp_path), measure)
    stored = json.loads((tmp_path / "host_rates.json").read_text())
    (tmp_path / "host_rates.json").write_text(json.dumps({**stored, **edit}))
    again = hostrate.cached_host_rates(2, 100.0, str(tmp_path), measure)
    assert calls == [2] and again.e_cores == (1 if edit.get("e_cores") == 1 else None)
    assert again.clock_hz == (None if "clock_hz" in edit else 3e9)
    assert again.e_clock_hz is None


def test_a_hybrid_host_rates_cache_is_reused(tmp_path):
    from selfhost_advisor.probe import hostrate

    calls = []

    def measure(threads):
        calls.append(threads)
        return hostrate.HostRates(3e9, 20 * 10**9, threads, 0.1, "fake", 10 * 10**9, e_cores=4, e_clock_hz=2.4e9)

    first = hostrate.cached_host_rates(8, 100.0, str(tmp_path), measure)
    again = hostrate.cached_host_rates(8, 100.0, str(tmp_path), measure)
    assert calls == [8] and (again.e_cores, again.e_clock_hz) == (first.e_cores, first.e_clock_hz) == (4, 2.4e9)


CUSTOM_GPU = "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS"


@pytest.mark.parametrize("boxes, names", [(CUSTOM_GPU, "--gpu-price"), (CPU_INLINE, "not a GPU"),
                                          (f"rtx4090,{CUSTOM_GPU}", "--gpu-price")])
def test_cost_refuses_a_spec_sheet_in_one_line_that_names_it(capsys, boxes, names):
    """cost -H splits boxes on commas, so a spec sheet came apart ('custom:cores=16': clock is missing; a GPU's
    'GB/s' read as a probe file's path: No such file). It is kept whole: a GPU sheet without a price is refused naming
    --gpu-price (session 12 prices one that has it, tests/test_cost_custom.py), a CPU-only sheet as no GPU."""
    code = main(["cost", "-t", "1e9", "-H", boxes, "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert names in err and "custom:" in err and "missing" not in err and "No such file" not in err, err


def test_cost_reads_a_probe_file_by_its_path_as_typed(tmp_path, capsys):
    """Session 10's once-per-box dedupe lower-cased every --hardware, so ./H200.probe.json was looked for as
    ./h200.probe.json (No such file) on a case-sensitive file system."""
    probe = Path(__file__).parent / "fixtures" / "probes" / "h200.probe.json"
    (tmp_path / "H200.Probe.json").write_bytes(probe.read_bytes())
    code = main(["cost", "-t", "1e9", "-H", str(tmp_path / "H200.Probe.json"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert any("h200" in r["hardware"] for r in json.loads(out)["self_host"])


def test_a_yaml_spec_sheet_over_64_kib_is_refused_before_parsing(tmp_path, capsys):
    """60,000 keys in a 1 MiB YAML spec took 3.5 s of CPU in PyYAML (pure Python) before 'unknown key'; a spec sheet
    is a few lines, so the file is refused by its size."""
    (tmp_path / "box.yaml").write_text(CPU + "".join(f"k{i}: {i}\n" for i in range(60_000)))
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", str(tmp_path / "box.yaml")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert "larger than 65536 bytes" in err, err


def test_serve_prints_a_spec_sheets_name_as_text_not_markup(capsys):
    """`serve` printed the box's name into rich markup: a spec's name '[/]' crashed it (MarkupError, exit 3) and
    '[link=...]' would have been a hyperlink."""
    name = "[bold red]x[/] [/] [link=file:///etc/passwd]y"
    code = main(["serve", "llama3.1:8b", "--engine", "llamacpp", "--hardware", f"{CPU_INLINE},name={name}"])
    out, err = capsys.readouterr()
    assert code in (0, 1) and "internal error" not in err, err
    assert name in out, out


@pytest.mark.parametrize("spec, key", [
    ("custom:cores=16,clock=4.5GHz,simd=avx512,ram=64GB,bandwidth=1e-300", "bandwidth"),
    (CPU_INLINE + ",thread_bandwidth=1e-12", "thread_bandwidth"),
    (CPU_INLINE + ",cpu_bandwidth=0.0000001", "cpu_bandwidth"),
    ("custom:vram=16GB,bandwidth=448GB/s,fp16=1flops", "fp16"),
    ("custom:vram=16GB,bandwidth=1B/s,fp16=60TFLOPS", "bandwidth"),
    ("custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,boost_mhz=0.001", "boost_mhz"),
])
def test_an_absurdly_small_rate_is_refused(capsys, spec, key):
    """A positive but absurd rate (bandwidth=1e-300, i.e. 1e-291 B/s; fp16=1flops) was taken, and priced the box at
    0.0 tok/s; a rate under 1 MB/s or 1 MFLOPS (a boost clock under 100 MHz) is a unit slip."""
    code = main(["fit", "llama3.1:8b", "--json", "--hardware", spec])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert f"{key}=" in err and "out of range" in err, err
