"""Load the shipped data once per process, from its compiled JSON form.

Why: `fit --json` must start fast. data/*.yaml is the source (comments, sources, as_of dates), but importing
yaml and parsing the catalog costs ~40 ms even with libyaml; json.loads of the same data takes ~2 ms. So
scripts/compile_data.py writes data/compiled/<name>.json, and tests/test_compiled_data.py fails when one is
missing or differs from its YAML. A YAML file without a compiled twin is still read (safe loader), with dates
as ISO strings as in the compiled form, so callers see one shape either way.
The wheel ships data/ as selfhost_advisor/data (see pyproject.toml); a source checkout reads ../data.
"""
from __future__ import annotations

import datetime as _dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import DataError

_PACKAGE = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """selfhost_advisor/data in an installed wheel, ../data in a source checkout.

    A plain path, not importlib.resources: that import pulls in tempfile and zipfile (~5-15 ms per start-up,
    measured with -X importtime), and the package is always installed as files, never zip-imported.
    """
    packaged = _PACKAGE / "data"
    if packaged.is_dir():
        return packaged
    return _PACKAGE.parent / "data"


def plain(value: Any) -> Any:
    """A YAML value as JSON can hold it: dates become ISO strings, mapping keys strings (ggml_types' file_types
    15: Q4_K_M is looked up as "15"); mapping order is kept."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def read_yaml(path: Path) -> Any:
    """Parse one YAML file with a safe loader (libyaml's when installed) into plain JSON-able values."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, "rb") as fh:
        return plain(yaml.load(fh, Loader=loader))  # noqa: S506 - CSafeLoader/SafeLoader are safe loaders


def compiled_text(path: Path) -> str:
    """The compiled JSON text of a YAML data file (what scripts/compile_data.py writes)."""
    return json.dumps(read_yaml(path), separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """data/<name>: the compiled JSON when present, else the YAML source."""
    base = data_dir()
    compiled = base / "compiled" / f"{name}.json"
    source = base / f"{name}.yaml"
    try:
        with open(compiled, "rb") as fh:
            return json.loads(fh.read())
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read shipped data file {compiled}: {exc}", "reinstall selfhost-advisor") from exc
    try:
        return read_yaml(source)
    except Exception as exc:  # yaml.YAMLError or OSError; yaml is imported lazily, so no name to catch by
        raise DataError(f"cannot read shipped data file {source}: {exc}", "reinstall selfhost-advisor") from exc
