"""benchmarks/cuda_heldout.py and moe_accuracy.py honour a published row's stated llama-bench -fa (`fa: 1` / `0`),
as fit_speed.Row.fa does for the fitted and weak rows (docs/methodology.md 5f-nemo28)."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# A Pascal prompt row (its attention path depends on flash attention: cuda_path's tile-kernel rate), undated, so its
# build's default is today's (flash attention on), written three times: -fa unstated, -fa 0, -fa 1.
_ROW = {"hardware": "NVIDIA Tesla P40", "device_name": "NVIDIA Tesla P40", "backend": "cuda", "model": "llama2:7b",
        "quant": "Q4_0", "test": "pp512", "tokens_per_s": 1000.0, "build": "test", "host": "test", "url": "test"}


def _file(tmp_path: Path) -> Path:
    rows = [dict(_ROW, note="unstated"), dict(_ROW, fa=0, note="off"), dict(_ROW, fa=1, note="on")]
    path = tmp_path / "rows_cuda.yaml"
    path.write_text(yaml.safe_dump({"as_of": "2026-12-07", "rows": rows}))
    return path


def _paths() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "scripts"))


def _predicted_alone(path: Path, fa: bool | None) -> float:
    """The row predicted directly under kernel_path.fa_stated, not through the scorer."""
    import moe_accuracy
    from selfhost_advisor.estimate.kernel_path import fa_stated

    r = moe_accuracy.published_rows(path)[0]
    with fa_stated(fa):
        return moe_accuracy.predict(r["model"], r["quant"], r["test"], r["machine"])


def test_cuda_heldout_rows_follow_a_stated_flash_attention(tmp_path):
    _paths()
    import cuda_heldout

    path = _file(tmp_path)
    unstated, off, on = (r["predicted"] for r in cuda_heldout.rows(path))
    # the switch matters for this row: without it the test would pass whatever the scorer did
    assert _predicted_alone(path, False) != _predicted_alone(path, True)
    assert off == _predicted_alone(path, False) and on == _predicted_alone(path, True)
    assert unstated == _predicted_alone(path, None) == on  # undated: today's build, whose default runs flash attention


def test_moe_accuracy_rows_follow_a_stated_flash_attention(tmp_path):
    _paths()
    import moe_accuracy

    path = _file(tmp_path)
    unstated, off, on = (r["predicted"] for r in moe_accuracy._rows(moe_accuracy.published_rows(path)))
    assert off == _predicted_alone(path, False) != on
    assert on == _predicted_alone(path, True) == unstated
