"""Findings of the session 14 sweep over hostile input (benchmarks/hostile.py plus hand-made cases: every command's
list options, odd numbers, unicode, hostile probe and spec files, odd environments), in process through cli.main.

- a comma-separated option given only commas (`cost --cloud ,`, `-H ,`, `fit -q ,`, `models --use-case ,`,
  `--license ,`, `--family ,`, `models --fits ,` said "unknown hardware ','") ran as if the option were not given: a
  script's `--cloud "$A,$B"` with both unset priced every cloud model. Now exit 2 "is empty", as a blank value is.
- held here because they hold today (each was a way in for a crash or an escape in earlier sessions): a probe file
  with a UTF-8 BOM, in UTF-16, or whose names are lone surrogates; a spec sheet with a YAML escape sequence in its
  name, or a `!!python` tag; a zero-width space after a model name; fullwidth digits in a size.
"""
from __future__ import annotations

import json

import pytest
from test_hostile_session12 import refused, run

FIT = ["fit", "llama3.1:8b", "-q", "Q4_K_M"]


@pytest.mark.parametrize("argv, flag", [
    (["cost", "-t", "1e9", "--cloud", ","], "--cloud"),
    (["cost", "-t", "1e9", "--hardware", " , "], "--hardware"),
    (["cost", "-t", "1e9", "-H", "rtx4090", "--regulated", ",,"], "--regulated"),
    (["fit", "llama3.1:8b", "--vram", "24GB", "-q", ","], "--quant"),
    (["hardware", "--for", "llama3.1:8b", "-q", ","], "--quant"),
    (["serve", "llama3.1:8b", "-H", "h100-sxm", "--concurrency", ","], "--concurrency"),
    (["models", "--use-case", ","], "--use-case"),
    (["models", "--license", ", ,"], "--license"),
    (["models", "--family", ","], "--family"),
    (["models", "--fits", ","], "--fits"),
    (["fit", "llama3.1:8b", "--hardware", ","], "--hardware"),
])
def test_a_list_option_of_commas_alone_is_empty(capsys, argv, flag):
    err = refused(capsys, argv, f"{flag} is empty (only commas)")
    assert f"leave {flag} out" in err


def test_commas_around_a_value_still_read_as_that_value(capsys):
    code, out, err = run(capsys, ["cost", "-t", "1e9", "-H", "rtx4090,", "--cloud", ",gpt-4o,", "--json"])
    assert code == 0, err
    data = json.loads(out)
    assert [c["model"] for c in data["cloud"]] and all("gpt-4o" in c["model"].lower() for c in data["cloud"])


def _box(path, text: bytes | str) -> str:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


PROBE = {"schema_version": "1.0.0", "ram_bytes": 64 * 10**9,
         "devices": [{"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 24 * 10**9,
                      "bandwidth_bytes_per_s": 10**12}]}


@pytest.mark.parametrize("encode", [lambda t: b"\xef\xbb\xbf" + t.encode(), lambda t: t.encode("utf-16")],
                         ids=["utf-8 BOM", "utf-16"])
def test_a_probe_file_with_a_bom_or_in_utf16_reads_as_the_same_machine(capsys, tmp_path, encode):
    plain = _box(tmp_path / "plain.json", json.dumps(PROBE))
    other = _box(tmp_path / "other.json", encode(json.dumps(PROBE)))
    code, want, err = run(capsys, [*FIT, "--json", "--hardware", plain])
    assert code == 0, err
    code, got, err = run(capsys, [*FIT, "--json", "--hardware", other])
    assert code == 0, err
    assert json.loads(got)["options"] == json.loads(want)["options"]


def test_lone_surrogates_in_probe_names_print_as_a_mark_not_a_crash(capsys, tmp_path):
    text = json.dumps(PROBE).replace('"NVIDIA GeForce RTX 4090"', '"\\ud800 RTX"') \
        .replace('"schema_version"', '"name": "\\udfff", "schema_version"')
    path = _box(tmp_path / "lone.json", text)
    code, out, err = run(capsys, [*FIT, "--hardware", path])
    assert code == 0 and "Traceback" not in err, err
    out.encode("utf-8")  # printable as UTF-8: no lone surrogate reached the text output
    code, out, err = run(capsys, [*FIT, "--json", "--hardware", path])
    assert code == 0, err
    json.loads(out)


@pytest.mark.parametrize("sheet, named", [
    ('vram: !!python/object/apply:os.system ["echo hi"]\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n', "not valid YAML"),
    ("vram: 16GB\nbandwidth: .inf\nfp16: 60TFLOPS\n", "bandwidth"),
    ("vram: yes\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n", "vram"),
    ("vram: 16GB\nbandwidth: 448GB/s\nfp16: 60TFLOPS\n---\nvram: 8GB\n", "not valid YAML"),
])
def test_a_hostile_spec_sheet_is_one_line(capsys, tmp_path, sheet, named):
    refused(capsys, [*FIT, "--hardware", _box(tmp_path / "box.yaml", sheet)], named)


def test_an_escape_sequence_in_a_spec_sheets_name_is_shown_escaped(capsys, tmp_path):
    path = _box(tmp_path / "box.yaml", 'vram: 16GB\nbandwidth: 448GB/s\nfp16: 60TFLOPS\nname: "\\e]0;PWNED\\a\\e[31mred"\n')
    code, out, err = run(capsys, [*FIT, "--hardware", path])
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err and "PWNED" in out


@pytest.mark.parametrize("argv, named", [
    (["fit", "llama3.1:8b\u200b", "--vram", "24GB"], "\\u200b"),  # shown, not hidden: "did you mean llama3.1:8b"
    (["fit", "llama3.1:8b", "--vram", "\uff12\uff14GB"], "malformed --vram"),
    (["fit", "llama3.1:8b", "--vram", "24GB\x00"], "\\x00"),
    (["cost", "-t", "1e9", "--require", "\u202eself-host"], "\\u202e"),
])
def test_invisible_and_lookalike_characters_are_named_visibly(capsys, argv, named):
    refused(capsys, argv, named)
