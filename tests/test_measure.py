"""`advisor probe --measure`: the host's own bandwidth and GEMM rate, stored in the probe JSON and used by fit (issue 16).

The numbers a real run gives depend on the machine; these tests check the plumbing and the laws (more measured
bandwidth never slows CPU decode), with the measurement replaced by a fixed one where a figure is compared.
"""
import json
from pathlib import Path

import schemakit
import pytest

import selfhost_advisor.probe as probe_pkg
import selfhost_advisor.probe.measure as measure_mod
from selfhost_advisor.cli import main
from selfhost_advisor.probe.measure import Measurement, cgroup_cpu_quota, usable_cpus

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "probe.schema.json").read_text())
FIXED = Measurement(ram_bandwidth_bytes_per_s=20_000_000_000, matmul_flops=100e9, threads=2, seconds=1.0, method="fixed")


def _cgroup(tmp_path, text, v1=None):
    d = tmp_path / "sys" / "fs" / "cgroup"
    d.mkdir(parents=True)
    if text is not None:
        (d / "cpu.max").write_text(text)
    if v1:
        (d / "cpu").mkdir()
        (d / "cpu" / "cpu.cfs_quota_us").write_text(v1[0])
        (d / "cpu" / "cpu.cfs_period_us").write_text(v1[1])
    return str(tmp_path)


def test_cgroup_cpu_quota_v2_v1_and_unlimited(tmp_path):
    # kernel Documentation/admin-guide/cgroup-v2.rst: cpu.max "$MAX $PERIOD", "max" = no limit
    assert cgroup_cpu_quota(_cgroup(tmp_path / "a", "150000 100000\n")) == 1.5
    assert cgroup_cpu_quota(_cgroup(tmp_path / "b", "max 100000\n")) is None
    assert cgroup_cpu_quota(_cgroup(tmp_path / "c", None, ("50000", "100000"))) == 0.5
    assert cgroup_cpu_quota(_cgroup(tmp_path / "d", None, ("-1", "100000"))) is None
    assert usable_cpus(_cgroup(tmp_path / "e", "100000 100000")) == 1  # one CPU's worth of quota: one thread


def test_measure_runs_and_reports_positive_rates(monkeypatch):
    pytest.importorskip("numpy")
    from selfhost_advisor.probe import hostrate

    monkeypatch.setattr(measure_mod, "ARRAY_BYTES", 8 * 2**20)
    monkeypatch.setattr(measure_mod, "GEMM_N", 128)
    monkeypatch.setattr(hostrate, "MIN_STREAM_BYTES", 8 * 2**20)
    monkeypatch.setattr(hostrate, "last_level_cache_bytes", lambda root="/": 0)
    lines = []
    m = measure_mod.measure(lines.append, reps=2)
    assert m.ram_bandwidth_bytes_per_s > 0 and m.matmul_flops > 0 and m.threads >= 1  # a loaded CI box can be slow
    assert m.copy_bandwidth_bytes_per_s > 0
    # clock, read stream, 2 copy repetitions, 2 GEMM repetitions: each step says how far it got
    assert len(lines) == 6 and ("GHz" in lines[0] or "not measurable" in lines[0]) and "read" in lines[1] and "GFLOPS" in lines[-1]
    # only the read stream, the figure fit uses, is called 'memory bandwidth'; the copy says it is the reference
    # (its '5/5: 17.6 GB/s' after the read stream's 24.5 read as the measurement's last word, rev21)
    assert [i for i, s in enumerate(lines) if "memory bandwidth" in s] == [1]
    assert all(s.startswith("STREAM copy (reference) ") for s in lines[2:4])
    assert f"{m.ram_bandwidth_bytes_per_s / 1e9:.1f} GB/s" in lines[1]


@pytest.fixture
def fixed_probe(monkeypatch):
    from test_probe import SCENARIOS

    report = SCENARIOS["cpu only"]() if "cpu only" in SCENARIOS else next(iter(SCENARIOS.values()))()
    monkeypatch.setattr(probe_pkg, "probe", lambda sources=None: report)
    monkeypatch.setattr(measure_mod, "measure", lambda progress=None, **kw: FIXED)
    return report


def test_probe_measure_json_carries_the_measurement_and_fit_says_it_used_it(capsys, tmp_path, fixed_probe):
    assert main(["probe", "--measure", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    schemakit.validate(data, SCHEMA)
    assert data["measured"]["ram_bandwidth_bytes_per_s"] == 20_000_000_000
    assert data["ram_bandwidth_bytes_per_s"] == 20_000_000_000 and data["cpu_flops"] == 100e9
    box = tmp_path / "box.json"
    box.write_text(out)
    assert main(["fit", "llama3.1:8b", "-q", "Q4_K_M", "--hardware", str(box), "--ram", "64GB", "--json"]) == 0
    fit = json.loads(capsys.readouterr()[0])
    hs = fit["assumptions"]["host_speed"]
    assert hs["ram_bandwidth_bytes_per_s"] == 20_000_000_000 and hs["source"].startswith("measured")


def test_more_measured_bandwidth_never_slows_cpu_decode(capsys, tmp_path):
    speeds = []
    for bw in (5e9, 20e9, 80e9):
        doc = {"schema_version": "1.3.0", "devices": [], "cpu": {"name": "x"}, "ram_bytes": 64 * 10**9,
               "available_ram_bytes": 60 * 10**9, "ram_bandwidth_bytes_per_s": int(bw), "cpu_flops": 1e11,
               "host_speed_source": "measured: test", "warnings": []}
        f = tmp_path / f"b{int(bw)}.json"
        f.write_text(json.dumps(doc))
        assert main(["fit", "llama3.2:1b", "-q", "Q4_K_M", "--hardware", str(f), "--json"]) == 0
        speeds.append(json.loads(capsys.readouterr()[0])["options"][0]["speed"]["decode_tokens_per_s"])
    assert speeds == sorted(speeds) and speeds[0] < speeds[-1]


def test_ctrl_c_during_measure_exits_130_with_nothing_on_stdout(capsys, monkeypatch, fixed_probe):
    def interrupted(progress=None, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(measure_mod, "measure", interrupted)
    assert main(["probe", "--measure", "--json"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "interrupted" in err


def test_probe_file_from_another_major_version_exits_2_naming_it(capsys, tmp_path):
    f = tmp_path / "old.json"
    f.write_text(json.dumps({"schema_version": "2.0.0", "devices": [], "ram_bytes": 1}))
    assert main(["fit", "llama3.2:1b", "--hardware", str(f)]) == 2
    assert "2.0.0" in capsys.readouterr()[1]


def test_measure_without_numpy_names_the_extra_that_brings_it(capsys, monkeypatch, fixed_probe):
    # the README's set-up installs without numpy; its probe --measure step says to install the `measure` extra
    def no_numpy(progress=None, **kw):
        raise ImportError("No module named 'numpy'")

    monkeypatch.setattr(measure_mod, "measure", no_numpy)
    assert main(["probe", "--measure", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and ".[measure]" in err and "numpy" in err
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]
    assert any(dep.startswith("numpy") for dep in extras["measure"])
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert 'pip install ".[measure]"' in readme
