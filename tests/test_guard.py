"""The top-level guard (a bug is exit 3, one line, never 0 or 1), strict JSON (no NaN or Infinity on stdout), and
untrusted text made safe for the terminal (control characters escaped, rich markup inert). In-process: main(argv)."""
from __future__ import annotations

import json
import struct
import sys

import pytest
from gguf_raw import STR, _s, base_kvs, gguf_bytes
from hypothesis import example, given, settings
from hypothesis import strategies as st

from selfhost_advisor import cli_opts
from selfhost_advisor.cli import main
from selfhost_advisor.errors import ExitCode
from selfhost_advisor.termsafe import markup, plain

ESC = "\x1b]0;PWNED\x07\x1b[2J\x1b[31m"
CONTROL = [chr(c) for c in (*range(0x20), *range(0x7f, 0xa0))] + ["\u202e", "\u2066", "\u200f", "\ufeff"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("exc", [RuntimeError("boom " + ESC), RecursionError(), KeyError("k"), MemoryError(),
                                 ZeroDivisionError("x\ny")])
def test_an_unexpected_exception_is_exit_3_with_one_safe_line(capsys, monkeypatch, exc):
    def explode(*a, **k):
        raise exc

    monkeypatch.setattr("selfhost_advisor.estimate.fit.fit", explode)
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB")
    assert code == ExitCode.INTERNAL == 3
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("advisor: internal error: ") and type(exc).__name__ in err
    assert "report" in err and "--debug" in err and "\x1b" not in err and "\x07" not in err


def test_debug_adds_the_traceback_and_keeps_the_exit_code(capsys, monkeypatch):
    monkeypatch.setattr("selfhost_advisor.estimate.fit.fit", lambda *a, **k: 1 / 0)
    code, _, err = run(capsys, "--debug", "fit", "llama3.1:8b", "--vram", "24GB")
    assert code == 3 and "Traceback" in err and "ZeroDivisionError" in err
    assert err.splitlines()[-1].startswith("advisor: internal error: ZeroDivisionError")
    # a bad input with --debug: the traceback, then the same line and the same exit code 2 (it used to exit 1)
    code, _, err = run(capsys, "--debug", "fit", "nosuchmodel")
    assert code == 2 and "Traceback" in err and err.splitlines()[-1].startswith("advisor: unknown model")


def test_a_non_finite_figure_never_reaches_stdout_as_infinity(capsys, monkeypatch):
    import selfhost_advisor.render.jsonout as jsonout

    monkeypatch.setattr(jsonout, "fit_dict", lambda result: {"schema_version": "1.0.0", "x": float("inf")})
    code, out, err = run(capsys, "fit", "llama3.1:8b", "--vram", "24GB", "--json")
    assert code == 3 and "Infinity" not in out and out == "", (out, err)
    with pytest.raises(ValueError):
        jsonout.dumps({"x": float("nan")})


def test_help_documents_exit_3_and_debug(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "3 internal error" in " ".join(out.split()) and "--debug" in out
    code, out, _ = run(capsys, "fit", "--help")
    assert "3 internal error" in " ".join(out.split())


@pytest.mark.parametrize("c", CONTROL)
def test_plain_escapes_every_control_character(c):
    shown = plain(f"a{c}b")
    assert c not in shown and shown.startswith("a\\") and shown.endswith("b")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(CONTROL + list("[]/\\=#@ab"))))
# found by this test: rich reads backslashes before any "[" as escapes, tag or not, and our "[/]" follows the text
@example("\\[")
@example("a\\\\")
def test_markup_shows_exactly_the_plain_text_and_never_a_control_character(text):
    from rich.text import Text

    safe = markup(text)
    # as the renderers use it (their consoles set emoji=False), inside our own markup: rich shows it verbatim (no
    # style, no link, no emoji, no crash)
    assert (Text.from_markup(f"[bold]{safe}[/] and [red]{safe}[/]", emoji=False).plain
            == f"{plain(text)} and {plain(text)}")
    Text.from_markup(safe)  # alone it never crashes either
    assert not any(c in plain(text) for c in CONTROL)


@pytest.fixture
def hostile_names(tmp_path):
    """A GGUF whose general.name is an escape sequence, one whose name is rich markup, and a probe file full of both."""
    (tmp_path / "esc.gguf").write_bytes(gguf_bytes(base_kvs(**{"general.name": (STR, _s("Evil" + ESC + "[/]"))})))
    (tmp_path / "markup.gguf").write_bytes(gguf_bytes(base_kvs(**{"general.name": (STR, _s("[bold red]x[/] [/] [link=https://x]y"))})))
    # (a vendor outside the probe's enum is refused: tests/test_usability_session14.py, an escape sequence among them)
    dev = {"vendor": "nvidia", "name": "GPU" + ESC + "[/]", "memory_bytes": 24 * 10**9, "bandwidth_bytes_per_s": 10**12}
    probe = {"schema_version": "1.0.0", "name": ESC + "[/]", "ram_bytes": 64 * 10**9, "devices": [dev],
             "cpu": {"name": ESC}, "warnings": [ESC + "[/]"]}
    (tmp_path / "esc.json").write_text(json.dumps(probe))
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["fit", "{d}/esc.gguf", "--vram", "24GB"], ["fit", "{d}/markup.gguf", "--vram", "24GB"],
    ["fit", "llama3.1:8b", "--hardware", "{d}/esc.json"], ["hardware", "--for", "{d}/esc.gguf"],
    ["models", "llama3.1", "--fits", "{d}/esc.json"], ["fit", "{d}/esc.gguf", "--hardware", "{d}/esc.json"],
], ids=["gguf-escape", "gguf-markup", "probe-names", "hardware-for", "models-fits", "both"])
def test_untrusted_names_print_escaped_in_text_and_exact_in_json(capsys, hostile_names, argv):
    argv = [a.replace("{d}", str(hostile_names)) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert not any(c in out for c in "\x1b\x07"), out
    assert "\\x1b" in out or "[bold red]x[/]" in out  # shown, escaped or literally: never interpreted
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0 and ("\\u001b" in out or "[bold red]x[/]" in out)  # JSON keeps the exact string


def test_an_emoji_code_in_a_name_prints_as_written(capsys, tmp_path):
    """rich replaces ':smile:' and ':M:' with emoji by default: a GGUF named ':M: :smile:' printed as 'Ⓜ 😄' (a
    hypothesis example of the markup test found ':M:'); every console the renderers make sets emoji=False."""
    (tmp_path / "e.gguf").write_bytes(gguf_bytes(base_kvs(**{"general.name": (STR, _s(":M: :smile: :m:"))})))
    code, out, err = run(capsys, "fit", str(tmp_path / "e.gguf"), "--vram", "24GB")
    assert code == 0, err
    assert ":M: :smile: :m:" in out and "\u24c2" not in out and "\U0001f604" not in out


def test_an_error_line_never_echoes_an_escape_sequence(capsys):
    code, out, err = run(capsys, "fit", "./" + ESC + ".gguf")
    assert code == 2 and "\x1b" not in err and "\\x1b" in err and err.count("\n") == 1
    code, _, err = run(capsys, "fit", ESC)
    assert code == 2 and "\x1b" not in err


def test_probe_text_escapes_names_from_a_probe_file(capsys, hostile_names):
    from selfhost_advisor.estimate.verdict import verdict, verdict_line
    from selfhost_advisor.probe.files import report_from_probe
    from selfhost_advisor.render.text_probe import render_probe

    report = report_from_probe(json.loads((hostile_names / "esc.json").read_text()))
    render_probe(report, verdict_line(report.machine, verdict(report.machine)))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out


def test_emit_json_escapes_non_ascii_when_stdout_cannot_encode_it(monkeypatch, capsys):
    import io

    buf = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buf, encoding="ascii"))
    cli_opts.emit_json({"name": "Qwen\u2014x \u00e9"})
    sys.stdout.flush()
    text = buf.getvalue().decode("ascii")
    assert json.loads(text) == {"name": "Qwen\u2014x \u00e9"} and "\\u2014" in text
    monkeypatch.undo()


def test_large_counts_in_metadata_are_refused_before_any_arithmetic(tmp_path, capsys):
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes(base_kvs(**{"llama.context_length": (10, struct.pack("<Q", 2**41))})))
    code, _, err = run(capsys, "fit", str(path), "--vram", "24GB")
    assert code == 2 and "context_length" in err
