"""Session 24's unseen published rows (benchmarks/published/unseen_s24_*.yaml, scored by benchmarks/unseen_s24.py):
each row cites a page no other published file cites for that figure, joins no fit, and a run llama-bench split over two
cards is asked about two cards and kept out of the one-card medians."""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))

import unseen_s24  # noqa: E402

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _rows(path: Path) -> list[dict]:
    return yaml.load(path.read_text(), Loader=LOADER)["rows"]  # noqa: S506


def test_every_row_is_blind_and_no_other_published_file_has_its_figure():
    """The point of the file: figures nobody here had seen. The same page and test in another file would be a row the
    model may have been tuned on (the other files' rows were scored, and some fitted, in earlier sessions); a page some
    of whose other depths another file took (kyuz0's depth curves) is allowed."""
    ours = [r for f in unseen_s24.FILES for r in _rows(f)]
    assert ours
    assert all(r.get("url", "").startswith("https://") and r.get("in_fit") is False for r in ours)
    seen = {(str(r.get("url")), str(r.get("test"))) for f in (ROOT / "benchmarks" / "published").glob("*.yaml")
            if f not in unseen_s24.FILES for r in _rows(f)}
    assert not {(r["url"], r["test"]) for r in ours} & seen
    assert len({(r["url"], r["test"]) for r in ours}) == len(ours)


def test_no_fit_reads_the_unseen_rows():
    import fit_speed

    fitted = {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.fit_rows()}
    for f in unseen_s24.FILES:
        assert not {(r.hardware, r.model_id, r.test, r.measured) for r in fit_speed.published_rows(f)} & fitted


def test_a_two_card_run_is_asked_about_two_cards():
    """kyuz0's R9700 Vulkan 'single' logs list both cards: llama-bench split the layers over them, so the row is asked
    about a machine of two cards, and the report's figure is that machine's."""
    import fit_speed

    path = next(f for f in unseen_s24.FILES if any(int(r.get("n_gpus") or 1) == 2 for r in _rows(f)))
    raw, parsed = _rows(path), fit_speed.published_rows(path)
    i = next(k for k, r in enumerate(raw) if int(r.get("n_gpus") or 1) == 2 and r["test"].startswith("tg"))
    two = unseen_s24._on_cards(parsed[i], 2)
    assert len(two.machine.devices) == 2 and two.n_gpus == 2
    row = next(r for r in unseen_s24.weak_rows(path) if r["n_gpus"] == 2 and r["test"] == raw[i]["test"]
               and r["model"] == parsed[i].model_id and r["driver"] == parsed[i].driver)
    assert row["predicted"] == fit_speed.predict(two)


def test_the_summary_keeps_two_card_rows_out_of_the_one_card_medians():
    rs = unseen_s24.rows()
    s = unseen_s24.summary(rs)
    for kind in ("decode", "prefill"):
        assert s[f"{kind} / all one-card rows"]["rows"] == sum(1 for r in rs if r["kind"] == kind and r["n_gpus"] == 1)
        assert s[f"{kind} / two-card rows (apart)"]["rows"] == sum(1 for r in rs if r["kind"] == kind and r["n_gpus"] > 1)
