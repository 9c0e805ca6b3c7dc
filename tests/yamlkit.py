"""yaml.safe_load of the repository's own YAML files, with libyaml's safe loader where PyYAML was built with it.

Why: the same documents as yaml.safe_load in about a ninth of the time (data/models.yaml, 640 kB: 1.6 s of CPU with the
pure-Python loader, 0.2 s with libyaml; tests/test_yamlkit.py checks the two agree on every data and published file);
the suite parsed these files ~90 times per run, several at collection in every xdist worker (suite time). The
product reads data through catalog/data.py, which does the same; scripts/fit_speed.py too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """What yaml.safe_load(text) returns."""
    return yaml.load(text, Loader=LOADER)  # noqa: S506 - CSafeLoader / SafeLoader are the safe loaders


def read(path: Path) -> Any:
    """The YAML document in `path` (UTF-8)."""
    return safe_load(Path(path).read_text(encoding="utf-8"))
