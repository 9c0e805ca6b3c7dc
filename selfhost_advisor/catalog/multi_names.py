"""Names that stand for several GPUs of one kind: a dual-GPU board ('maxsun arc pro b60 dual') or a cloud instance
type ('g6e.xlarge', 'p5.48xlarge', 'ND H100 v5'), from data/multi_gpu_names.yaml. parse_spec reads such a name as its
count form ('2x arc pro b60', '8x h100 sxm' over NVLink). Why (session 32): these names were 'unknown hardware', or
the dual board was offered its one-GPU card, half its memory."""
from __future__ import annotations

from ..lazy_re import lazy
from .data import load

# a provider word before an instance type ('aws g6e.xlarge'); Azure's 'Standard_' prefix is one of the names
_PROVIDER = lazy(r"^(?:aws|amazon|ec2|gcp|google\s+cloud|azure)\s+")
_SIZE = lazy(r"\s*(?<![\d.])(\d{1,4})\s*gi?b$")


def _norm(text: str) -> str:
    low = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    return _PROVIDER.sub("", low)


def lookup(text: str) -> tuple[int, str, str, int | None, bool] | None:
    """(GPU count, the GPU's --hardware name, link, the total memory the name states in GB or None, whether it is a
    board that may be counted) for a listed name, else None. A trailing size ('arc pro b60 dual 48gb') is returned
    for the caller to check."""
    low = _norm(text)
    size = _SIZE.search(low)
    for candidate, stated in ((low, None), (low[: size.start()] if size else "", int(size.group(1)) if size else None)):
        if not candidate:
            continue
        for entry in load("multi_gpu_names")["entries"]:
            if candidate in {_norm(n) for n in entry["names"]}:
                return (int(entry["gpus"]), str(entry["gpu"]), str(entry.get("link", "")), stated,
                        entry.get("kind") == "board")
    return None
