"""docs/methodology.md is read by people checking a figure: each section appears once. Session 20 landed a
2,695-line pasted second copy of 24 sections (later edits went into one copy only, so the two drifted apart)."""
import re
from collections import Counter
from pathlib import Path

DOC = (Path(__file__).resolve().parents[1] / "docs" / "methodology.md").read_text()


def test_every_heading_appears_once():
    headings = re.findall(r"^#{1,4} .+$", DOC, flags=re.M)
    twice = sorted(h for h, n in Counter(headings).items() if n > 1)
    assert headings and not twice, twice


def test_no_long_paragraph_is_repeated():
    paragraphs = [p.strip() for p in DOC.split("\n\n") if len(p.strip()) > 400]
    twice = [p[:80] for p, n in Counter(paragraphs).items() if n > 1]
    assert not twice, twice
