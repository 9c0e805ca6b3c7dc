"""Session 30 (bf16r30; docs/methodology.md 5f-rocm31): float-weight decode on gfx906 is qualified. Every published MI50
row of an F16, BF16 or F32 file decodes 1.3-1.5x slower than the estimate, whatever the type (so it is not BF16's
conversion), while the same card's quantized rows do not; the caveat states the range the rows read and appears only
where float matrices carry the GPU layers on a gfx906 part under ROCm."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from selfhost_advisor import api
from selfhost_advisor.estimate.speed import _speed_data

ROOT = Path(__file__).resolve().parents[1]
for _sub in ("benchmarks", "scripts"):
    if str(ROOT / _sub) not in sys.path:
        sys.path.insert(0, str(ROOT / _sub))

RULE = _speed_data()["rocm_float_decode_gcn"]


def _caveats(model: str, hw: str, quant: str) -> list[str]:
    return [c for c in api.fit(model, hw, quant=quant).options[0].speed.caveats if c.startswith("decode:")
            and "gfx906" in c]


def _ratios_unseen_s26() -> dict[str, float]:
    import unseen_s26

    rows = unseen_s26.rows([ROOT / "benchmarks" / "published" / "unseen_s26_weak.yaml"])
    return {f"{r['model']} {r['quant']}": (r["predicted"] / r["measured"], r["measured"]) for r in rows
            if "MI50" in r["hardware"] and r["quant"] == "BF16" and r["test"] == "tg128"}


def _ratios_pr16715(tmp_path: Path, row: dict) -> dict[str, tuple[float, float]]:
    """The PR table's rows as published rows of this file's own (they are in no scorer), predicted the way
    fit_speed.predict predicts every `_weak.yaml` row."""
    import fit_speed

    rows = []
    for key, measured in row.items():
        if " " not in key:
            continue
        model, quant = key.split(" ")
        rows.append({"hardware": row["hardware"], "backend": "rocm", "build_date": "2025-10-26", "model": model,
                     "quant": quant, "test": row["test"], "tokens_per_s": measured, "held_out": True,
                     "in_fit": False, "session": 30, "build": row["build"], "host": "desktop",
                     "url": "https://github.com/ggml-org/llama.cpp/pull/16715", "note": key})
    path = tmp_path / "pr16715_weak.yaml"
    path.write_text(yaml.safe_dump({"source": "test", "as_of": "2026-12-07", "rows": rows}))
    out = {}
    for r in fit_speed.published_rows(path):
        out[f"{r.model_id} {r.quant}"] = (fit_speed.predict(r) / r.measured, r.measured)
    return out


def test_every_listed_row_reads_inside_the_stated_range_for_every_float_type(tmp_path):
    lo, hi = RULE["reads_below"]
    unseen, pr = RULE["rows"]
    got = _ratios_unseen_s26()
    for key, measured in unseen.items():
        if " " in key:
            ratio, m = got[key]
            assert m == measured
            assert lo <= round(ratio, 1) <= hi, (key, ratio)
    got = _ratios_pr16715(tmp_path, pr)
    assert {k.split(" ")[1] for k in got} == {"BF16", "F16", "F32"}
    for key, (ratio, _) in got.items():
        assert lo <= round(ratio, 1) <= hi, (key, ratio)
    # the same ratio for all three types: F16 / F32 have no BF16 conversion, F32 half the activation bytes a weight byte
    spread = [r for r, _ in got.values()]
    assert max(spread) - min(spread) < 0.05


def test_the_caveat_names_the_range_on_float_files_of_gfx906():
    lo, hi = RULE["reads_below"]
    for quant in ("BF16", "F16"):
        (c,) = _caveats("ministral-3:8b", "radeon instinct mi50 32gb", quant)
        assert f"{lo}-{hi}x below" in c
    assert _caveats("llama3.2:1b", "radeon instinct mi60", "F32")


@pytest.mark.parametrize("model, hw, quant", [("ministral-3:8b", "radeon instinct mi50 32gb", "Q8_0"),
                                              ("qwen3.5:9b", "radeon instinct mi50 32gb", "Q4_K_M"),
                                              ("ministral-3:8b", "radeon ai pro r9700", "BF16"),
                                              ("ministral-3:8b", "instinct mi100", "BF16")])
def test_no_float_decode_caveat_off_float_files_or_off_gfx906(model, hw, quant):
    assert not _caveats(model, hw, quant)


def test_the_same_cards_quantized_decode_rows_read_within_the_stated_share():
    # the caveat's contrast ("the same card's Q4_0 and MXFP4 rows read within N%") is the entry's quantized_rows,
    # checked against the MI50 32GB's published decode rows of those types under the shipped model
    import unseen_s26

    q = RULE["quantized_rows"]
    rows = [r for r in unseen_s26.rows([ROOT / "benchmarks" / "published" / "unseen_s26_weak.yaml"])
            if "MI50" in r["hardware"] and r["test"].startswith("tg") and r["quant"].removesuffix("_MOE") in q["types"]]
    assert {r["quant"].removesuffix("_MOE") for r in rows} == set(q["types"])
    for r in rows:
        assert abs(r["predicted"] / r["measured"] - 1) * 100 <= q["within_pct"], r


def test_the_caveat_names_the_entrys_cards_and_quantized_rows():
    q = RULE["quantized_rows"]
    (c,) = _caveats("ministral-3:8b", "radeon instinct mi50 32gb", "BF16")
    assert f"({' / '.join(RULE['cards'])})" in c and "Radeon VII" in RULE["cards"]
    assert f"{' and '.join(q['types'])} rows read within {q['within_pct']}%" in c
