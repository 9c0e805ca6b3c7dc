"""Session 14 usability leftovers, each held by a test that failed before its fix. In process through cli.main.

- `--hardware "2x ai max+ 395 64gb"` said "unknown hardware 'ai max'": with a count the '+' of "Max+" was read as two
  mixed cards (session 13 fixed it without a count); it now says what the name without a count says of a count: only
  discrete GPUs multiply.
- `--hardware "arc b580 vulkan mesa x2"` (the count after the backend words) said "unknown hardware"; "2x arc b580
  vulkan mesa" and "arc b580 x2 vulkan mesa" ran.
- a probe file's device vendor was not read: "amd" for an "NVIDIA GeForce RTX 4090", "nvidia" on ROCm, or "xyz" (which
  fit's JSON printed back, against probe.schema.json's enum) were estimated without a word; an AMD card without a
  backend was estimated as CUDA.
- fit's note for Intel GPUs under Vulkan said "driver not stated" for a machine whose every Intel card states its
  driver (one 'windows', one 'mesa'): it asked whether all were Mesa, not whether one was unstated
  (vulkan_intel.unknown_driver, which only its test used, now says that).
- speed._decode_caveats called kernel_path.decode_caveat twice for the first GCN 5 / CDNA device.
"""
from __future__ import annotations

import json

import pytest
from test_hostile_session12 import refused, run

from selfhost_advisor.catalog.hardware import parse_spec


@pytest.mark.parametrize("spec", ["2x ai max+ 395 64gb", "ai max+ 395 64gb x2", "2x Ryzen AI Max+ 395 128gb"])
def test_a_counted_max_plus_name_says_only_discrete_gpus_multiply(capsys, spec):
    err = refused(capsys, ["fit", "llama3.1:8b", "-q", "Q4_K_M", "--hardware", spec], "only discrete GPUs")
    assert "unknown hardware" not in err and "drop the count" in err, err


def test_two_different_cards_joined_by_plus_still_combine_with_a_count(capsys):
    code, out, err = run(capsys, ["fit", "llama3.1:70b", "-q", "Q4_K_M", "--json", "--hardware", "2x rtx4090+rtx3090"])
    assert code == 0, err
    assert [d["name"] for d in json.loads(out)["hardware"]["devices"]].count("NVIDIA GeForce RTX 4090") == 2


@pytest.mark.parametrize("spec", ["arc b580 vulkan mesa x2", "arc b580 vulkan mesa ×2", "arc b580 vulkan anv x 2",
                                  "2x arc b580 vulkan mesa", "arc b580 x2 vulkan mesa"])
def test_a_count_after_the_vulkan_driver_words_is_the_same_machine(spec):
    profile, count, _ = parse_spec(spec)
    assert (profile.id, count, profile.backend, profile.raw.get("vulkan_driver")) == ("arc-b580", 2, "vulkan", "mesa")


def test_a_count_after_vulkan_alone_keeps_the_backend(capsys):
    profile, count, _ = parse_spec("rx 7900 xtx vulkan x2")
    assert (count, profile.backend, profile.vendor) == (2, "vulkan", "amd")
    refused(capsys, ["fit", "llama3.1:8b", "--hardware", "arc b580 vulkan mesa x"], "unknown hardware")


def _probe(tmp_path, **device) -> str:
    dev = {"vendor": "nvidia", "name": "NVIDIA GeForce RTX 4090", "memory_bytes": 25757220864,
           "bandwidth_bytes_per_s": 1008000000000, **device}
    dev = {k: v for k, v in dev.items() if v is not None}
    path = tmp_path / "box.json"
    path.write_text(json.dumps({"schema_version": "1.0.0", "devices": [dev], "ram_bytes": 64 * 10**9}))
    return str(path)


@pytest.mark.parametrize("device, named", [
    ({"vendor": "amd"}, "its name says nvidia, its vendor amd"),
    ({"vendor": "amd", "backend": "cuda"}, "its name says nvidia"),
    ({"vendor": "nvidia", "backend": "rocm"}, "backend 'rocm', which runs on amd GPUs"),
    ({"vendor": None, "backend": "rocm"}, "its name says nvidia, its backend 'rocm' amd"),
    ({"vendor": "intel", "name": "AMD Radeon RX 7900 XTX", "backend": "vulkan"}, "its name says amd"),
    ({"vendor": "xyz"}, "vendor 'xyz' is not one of nvidia, amd, apple, intel, qualcomm, generic"),
    ({"vendor": 5}, "vendor '5' is not one of"),
    ({"vendor": "\x1b]0;PWNED\x07"}, "is not one of"),
])
def test_a_probe_files_vendor_must_be_one_the_probe_writes_and_agree_with_name_and_backend(capsys, tmp_path, device,
                                                                                            named):
    err = refused(capsys, ["fit", "llama3.1:8b", "--hardware", _probe(tmp_path, **device)], named)
    assert "\x1b" not in err and "\x07" not in err


@pytest.mark.parametrize("device, vendor, backend", [
    ({}, "nvidia", "cuda"), ({"vendor": " NVIDIA "}, "nvidia", "cuda"), ({"vendor": None}, "generic", "cuda"),
    ({"vendor": "amd", "name": "AMD Radeon RX 7900 XTX", "backend": "rocm"}, "amd", "rocm"),
    ({"vendor": "amd", "name": "AMD Radeon RX 7900 XTX"}, "amd", "rocm"),  # no backend: the vendor's (was CUDA)
    ({"vendor": "intel", "name": "Intel Arc B580", "backend": "vulkan"}, "intel", "vulkan"),
    ({"vendor": "amd", "name": "My card", "backend": "vulkan"}, "amd", "vulkan"),  # no maker in the name: the vendor's
    # neither stated: the name's maker's backend (was CUDA, written back as 'cuda' and then refused on re-read)
    ({"vendor": None, "name": "AMD Radeon RX 7900 XTX"}, "generic", "rocm"),
])
def test_a_consistent_probe_file_reads_with_its_vendor(capsys, tmp_path, device, vendor, backend):
    code, out, err = run(capsys, ["fit", "llama3.1:8b", "-q", "Q4_K_M", "--json", "--hardware", _probe(tmp_path, **device)])
    assert code == 0, err
    got = json.loads(out)["hardware"]["devices"][0]
    assert (got["vendor"], got["backend"]) == (vendor, backend)


def test_the_vulkan_driver_note_says_unstated_only_where_a_card_states_none():
    from selfhost_advisor import api

    def note(hw: str) -> str:
        return next(w for w in api.fit("llama3.1:8b", hw, quant="Q4_K_M").warnings if "Intel GPU under Vulkan" in w)

    assert "on Mesa's ANV" in note("arc b580 vulkan windows+arc b580 vulkan mesa")  # was "driver not stated"
    assert "driver not stated" in note("arc b580 vulkan+arc b580 vulkan mesa")
    assert "driver not stated" in note("arc b580 vulkan")


def test_decode_caveat_is_asked_once_per_device_until_one_has_it(monkeypatch):
    from selfhost_advisor import api
    from selfhost_advisor.estimate import kernel_path

    asked = []
    real = kernel_path.decode_caveat
    monkeypatch.setattr(kernel_path, "decode_caveat", lambda d: asked.append(d.name) or real(d))
    fit = api.fit("qwen2.5:1.5b", "2x mi100", quant="Q4_K_M")
    caveats = fit.options[0].speed.caveats
    assert any("GCN 5 / CDNA" in c for c in caveats), caveats  # a small model on CDNA: the caveat still comes
    assert len(asked) == 1, asked  # the first device has it: asked once (was: each device, then the first again)
