"""Tables never cut a value (issue 19): every README and docs example rendered at 60, 80, 100 and 120 columns.

For each text-mode example (`$ advisor ...` in README.md and docs/*.md, the part before any pipe), in process:
- no '…' (rich's mark for a cut cell) at any width;
- every number printed at a narrow width is a whole number of the full-width output (nothing split or folded);
- `fit`: every option's quantization, total memory and decode speed (the JSON's figures, formatted as the table
  formats them) is on screen at every width, unless the footer names its column as hidden;
- a bad-input example (exit 2): its one error line, the same at every width, and nothing on stdout.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest

from selfhost_advisor.cli import main
from selfhost_advisor.units import gb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from refresh_readme import BLOCK  # noqa: E402

WIDTHS = (60, 80, 100, 120)
NUMBER = re.compile(r"(?<![\w.,])\d(?:[\d,.]*\d)?")
_CUT = re.compile(r" \| | ; |;| && | > | 2>&1")


def _examples() -> list[tuple[str, list[str]]]:
    seen, out = set(), []
    for name in ["README.md", *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "docs").glob("*.md")))]:
        for m in BLOCK.finditer((ROOT / name).read_text()):
            for line in m.group(2).splitlines():
                if not line.startswith("$ "):
                    continue
                cmd = _CUT.split(line[2:])[0]
                words = shlex.split(cmd)
                while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=x prefixes (COLUMNS, OLLAMA_MODELS, ...)
                    words = words[1:]
                if not words or words[0] != "advisor":
                    continue
                argv = words[1:]
                if any(a in argv for a in ("--json", "--quiet", "--help", "--chart", "--debug")) or any(
                        a.startswith("./") or a.endswith(".json") or a.startswith("hf:") for a in argv):
                    continue  # no table, or needs a file or the fake Hub this test does not set up
                if tuple(argv) not in seen:
                    seen.add(tuple(argv))
                    out.append((name, argv))
    return out


EXAMPLES = _examples()


_MEMO: dict = {}


@pytest.fixture(autouse=True)
def _compute_once(monkeypatch):
    """Each example is rendered six times (full width, JSON, 60-120 columns); the estimate behind it is the same
    record each time, so compute it once (the records are frozen) and spend the time on rendering, which is
    what this file tests."""
    from selfhost_advisor import api
    from selfhost_advisor.cost import run

    def memo(mod, name):
        fn = getattr(mod, name)

        def wrapper(*args, **kwargs):
            key = (name, repr(args), repr(sorted(kwargs.items())))
            if key not in _MEMO:
                _MEMO[key] = fn(*args, **kwargs)
            return _MEMO[key]

        monkeypatch.setattr(mod, name, wrapper)

    for name in ("fit", "hardware_for", "models_that_fit"):
        memo(api, name)
    memo(run, "build_comparison")


def _render(argv: list[str], width: int, capsys, monkeypatch, wide: bool = False) -> tuple[int, str]:
    monkeypatch.setenv("COLUMNS", str(width))
    code = main(argv + (["--wide"] if wide else []))
    out, _ = capsys.readouterr()
    return code, out


def test_the_examples_are_found():
    cmds = {a[0] for _, a in EXAMPLES if a}
    assert len(EXAMPLES) >= 15 and {"fit", "models", "hardware", "probe", "cost"} <= cmds


@pytest.mark.parametrize("doc,argv", EXAMPLES, ids=[" ".join(a)[:60] for _, a in EXAMPLES])
def test_no_example_cuts_a_value_at_any_width(doc, argv, capsys, monkeypatch):
    code, full = _render(argv, 400, capsys, monkeypatch, wide=True)
    if code == 2:  # a bad-input example: its one error line is the whole output, the same and uncut at every width
        lines = set()
        for width in (400, *WIDTHS):
            monkeypatch.setenv("COLUMNS", str(width))
            assert main(list(argv)) == 2, (doc, argv, width)
            out, err = capsys.readouterr()
            assert out == "" and err.count("\n") == 1 and "…" not in err, (width, err)
            lines.add(err)
        assert len(lines) == 1, lines
        return
    full_numbers = set(NUMBER.findall(full))
    fit_json = None
    if argv[0] == "fit":
        main(argv + ["--json"])
        fit_json = json.loads(capsys.readouterr()[0])
    for width in WIDTHS:
        _, out = _render(argv, width, capsys, monkeypatch)
        assert "…" not in out, f"cut at {width} columns:\n{out}"
        split = [n for n in NUMBER.findall(re.sub(r"\(hidden at \d+ columns", "", out)) if n not in full_numbers]
        if argv[0] == "probe":  # live figures (available RAM) change between runs: only the '…' check applies
            split = []
        assert not split, f"numbers split or cut at {width} columns: {split}\n{out}"
        if fit_json:
            hidden = out.split("(hidden at", 1)[1].split(";")[0] if "(hidden at" in out else ""
            for o in fit_json["options"]:
                assert o["quant"] in out, (width, o["quant"])
                if "total" not in hidden:
                    assert gb(o["memory"]["total_bytes"]) in out, (width, o["quant"])
                sp = (o.get("speed") or {}).get("decode_tokens_per_s")
                if sp and "decode" not in hidden:  # the JSON rounds to 2 decimals, the table to 1: either way
                    assert f"{sp - 0.005:.1f}" in out or f"{sp + 0.005:.1f}" in out, (width, o["quant"], sp)
            if fit_json["recommended"]:
                assert f"{fit_json['recommended']} *" in out


def test_wide_shows_every_column_and_the_footer_names_the_hidden_ones(capsys, monkeypatch):
    argv = ["fit", "llama3.1:70b", "-H", "2x rtx4090", "-q", "Q8_0,Q4_K_M"]
    _, narrow = _render(argv, 80, capsys, monkeypatch)
    _, wide = _render(argv, 80, capsys, monkeypatch, wide=True)
    hidden = narrow.split("(hidden at 80 columns: ", 1)[1].split(";")[0].split(", ")
    assert hidden and "--wide shows all" in narrow
    header = next(line for line in wide.splitlines() if line.startswith("quant"))
    assert all(h in header for h in hidden) and "(hidden at" not in wide
    narrow_header = next(line for line in narrow.splitlines() if line.startswith("quant"))
    assert not any(h in narrow_header for h in hidden)


def test_piped_output_uses_the_terminal_width_or_80(monkeypatch):
    from selfhost_advisor.render.text import console

    monkeypatch.delenv("COLUMNS", raising=False)
    con = console()
    assert con.width >= 60 or con.width == 80  # a real terminal's width, else rich's 80
    monkeypatch.setenv("COLUMNS", "93")
    assert console().width == 93


def test_every_text_table_goes_through_show():
    # A table printed with con.print(table) is cut by rich at a narrow width; render/table.show never cuts.
    # Any render module that builds a rich Table must also call show (new tables get the mechanism for free).
    render = ROOT / "selfhost_advisor" / "render"
    for f in render.glob("*.py"):
        text = f.read_text()
        if f.name != "table.py" and re.search(r"\bTable\(", text):
            assert re.search(r"\bshow\(", text), f"{f.name} builds a rich Table but never calls render.table.show"


@pytest.mark.parametrize("argv,indent", [
    (["cost", "-t", "2e9", "--price-date", "2026-12-05"], 10),
    (["fit", "mixtral:8x7b", "--vram", "24GB", "--ram", "64GB", "-q", "Q4_K_M"], 9),
    (["fit", "qwen2.5:72b", "-H", "m2-ultra-192gb", "-q", "Q8_0"], 9),
    (["serve", "llama3.1:70b", "-H", "2x rtx4090", "--prompt-tokens", "1500", "--output-tokens", "500"], 10),
])
def test_header_lines_wrap_under_their_value_not_at_the_margin(argv, indent, capsys, monkeypatch):
    # cost's Traffic / Owning lines and fit's Model / Usable lines wrapped at column 0 at 80 columns, where the
    # continuation read like another label ('0 spare', '--gpu-memory NMiB'): they hang under the value now
    labels = ("Model", "Hardware", "Usable", "Run", "Default", "Workload", "Traffic", "Owning", "API use", "Prices",
              "Serving", "Requests", "Capacity")
    _, full = _render(argv, 400, capsys, monkeypatch)
    lines = full.split("\n")
    words = sum(len(s.split()) for s in lines[: next(i for i, s in enumerate(lines) if "┃" in s)])
    for width in (60, 80):
        code, out = _render(argv, width, capsys, monkeypatch)
        assert code == 0
        head, n = [], 0
        for s in out.split("\n"):  # the lines that hold the header's words at this width
            if n >= words:
                break
            head.append(s)
            n += len(s.split())
        wrapped = [s for s in head if not s.startswith(labels)]
        assert len(head) > len({s.split()[0] for s in head if s.startswith(labels)}), (width, out)  # some wrap
        assert all(s.startswith(" " * indent) and s[indent] != " " for s in wrapped), (width, head)
        assert all(len(s) <= width for s in head), (width, head)
