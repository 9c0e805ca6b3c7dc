"""Compile data/*.yaml into data/compiled/*.json, the form the tool reads at run time.

Why: importing yaml and parsing the catalog costs ~40 ms per `advisor fit`, more than the whole start-up
budget of issue 8; json.loads of the same data takes ~2 ms. The YAML files stay the source (comments,
sources, as_of dates); tests/test_compiled_data.py fails when a compiled file is stale, so after editing a
YAML file run:

    python scripts/compile_data.py

The scripts that write YAML (fit_speed.py, gen_ggml_types.py, refresh_catalog.py) call this at their end.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from selfhost_advisor.catalog import model_rows  # noqa: E402
from selfhost_advisor.catalog.data import compiled_text  # noqa: E402
from selfhost_advisor.catalog.models import build_index  # noqa: E402

DATA = ROOT / "data"
OUT = DATA / "compiled"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    names = set()
    for path in sorted(DATA.glob("*.yaml")):
        names.add(path.stem)
        target = OUT / f"{path.stem}.json"
        text = compiled_text(path)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    # derived: the index that lets `fit` parse one model of models.json, not all (selfhost_advisor/catalog/model_rows.py)
    names.add(model_rows.NAME)
    index = OUT / f"{model_rows.NAME}.json"
    text = model_rows.index_text((OUT / "models.json").read_text(encoding="utf-8"), build_index)
    if not index.exists() or index.read_text(encoding="utf-8") != text:
        index.write_text(text, encoding="utf-8")
        print(f"wrote {index.relative_to(ROOT)}")
    for stale in OUT.glob("*.json"):
        if stale.stem not in names:
            stale.unlink()
            print(f"removed {stale.relative_to(ROOT)} (no data/{stale.stem}.yaml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
