"""tests/yamlkit.py reads every YAML file of the repository exactly as yaml.safe_load does (libyaml's loader is a
stand-in for speed only)."""
from pathlib import Path

import pytest
import yaml
import yamlkit

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted([*ROOT.glob("data/*.yaml"), *ROOT.glob("benchmarks/**/*.yaml"), *ROOT.glob("scripts/*.yaml")])


def test_there_are_files_to_compare():
    assert len(FILES) >= 20 and ROOT / "data" / "models.yaml" in FILES


# the small files (dates, quoted and bare scalars, nested lists as the big ones have them): the pure-Python loader
# takes ~0.3 s per 100 kB, and the comparison is of the loaders, not of every row
@pytest.mark.parametrize("path", [p for p in FILES if p.stat().st_size < 30_000], ids=lambda p: p.name)
def test_the_same_document_as_safe_load(path):
    text = path.read_text(encoding="utf-8")
    got = yamlkit.read(path)
    assert got == yaml.safe_load(text)
    assert type(got) is type(yaml.safe_load(text))


def test_dates_and_odd_scalars_come_back_as_safe_load_gives_them():
    text = "a: 2024-11-08\nb: 1e3\nc: 0x1F\nd: ~\ne: yes\nf: '012'\ng: 1_000\nh: .inf\n"
    assert yamlkit.safe_load(text) == yaml.safe_load(text)
    assert [type(v) for v in yamlkit.safe_load(text).values()] == [type(v) for v in yaml.safe_load(text).values()]


def test_it_refuses_what_safe_load_refuses():
    with pytest.raises(yaml.YAMLError):
        yamlkit.safe_load("!!python/object/apply:os.system ['true']")
