"""scripts/refresh_catalog.py reads the dsa block from config.json and the licence from the model card (offline,
through --fixtures; nothing is written without --write)."""
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import refresh_catalog  # noqa: E402

V3 = ROOT / "tests" / "fixtures" / "hub" / "deepseek-ai--DeepSeek-V3" / "config.json"


@pytest.mark.parametrize("card,want", [
    ("---\nlicense: mit\nlibrary_name: transformers\n---\n# Model", "mit"),
    ("---\nlicense: other\nlicense_name: modified-mit\n---\n", "modified-mit"),
    ("---\nlicense: [Apache-2.0]\n---\n", "apache-2.0"),
    ("---\nlibrary_name: transformers\n---\n", None),  # DeepSeek-V3's card: no licence tag
    ("# no front matter", None), ("---\n: : not yaml [\n---\n", None), (None, None),
])
def test_card_license_reads_the_front_matter(card, want):
    assert refresh_catalog.card_license(card) == want


def v32_fixture(tmp_path: Path, *, topk: int = 2048, card: str | None = "---\nlicense: mit\n---\n") -> Path:
    cfg = json.loads(V3.read_text())  # V3.2 is V3's shapes plus the lightning indexer (config.json index_*)
    cfg.update(architectures=["DeepseekV32ForCausalLM"], model_type="deepseek_v32", index_n_heads=64,
               index_head_dim=128, index_topk=topk)
    d = tmp_path / "deepseek-ai--DeepSeek-V3.2"
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps(cfg))
    if card is not None:
        (d / "README.md").write_text(card)
    return tmp_path


def run(capsys, fixtures: Path) -> str:
    before = (ROOT / "data" / "models.yaml").read_bytes()
    refresh_catalog.main(["--fixtures", str(fixtures), "--only", "deepseek-v3.2:671b"])
    assert (ROOT / "data" / "models.yaml").read_bytes() == before  # no --write: nothing written
    return capsys.readouterr().out


def test_dsa_and_license_differences_are_reported(capsys, tmp_path):
    out = run(capsys, v32_fixture(tmp_path / "a", topk=1024, card="---\nlicense: apache-2.0\n---\n"))
    assert "deepseek-v3.2:671b: dsa:" in out and "'index_topk': 1024" in out
    assert "deepseek-v3.2:671b: license: 'mit' -> 'apache-2.0'" in out
    out = run(capsys, v32_fixture(tmp_path / "b", card="---\nlicense: other\nlicense_name: brand-new\n---\n"))
    assert "'brand-new', not in licenses.values" in out and "dsa" not in out
    out = run(capsys, v32_fixture(tmp_path / "c", card=None))
    assert "license" not in out and "dsa" not in out


def test_fixture_without_the_indexer_fields_is_a_failure_not_a_silent_pass(capsys, tmp_path):
    f = v32_fixture(tmp_path)
    cfg = json.loads((f / "deepseek-ai--DeepSeek-V3.2" / "config.json").read_text())
    del cfg["index_topk"]
    (f / "deepseek-ai--DeepSeek-V3.2" / "config.json").write_text(json.dumps(cfg))
    assert refresh_catalog.main(["--fixtures", str(f), "--only", "deepseek-v3.2:671b"]) == 1
    assert "index_topk" in capsys.readouterr().err
