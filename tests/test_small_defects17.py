"""Four small user-facing defects (session 17): SYCL backend word, a malformed memory size in a hardware name, the
CPU probe's cache written atomically, an over-long Hub repo id or file name refused before any request."""
from __future__ import annotations

import json
import os

import pytest

from selfhost_advisor.probe import cpu as cpu_probe


# -- 3. probe/cpu.py boot_cached: the cache is written whole (temp file + os.replace), a partial file is absent -----

def _cached(directory, compute):
    return cpu_probe.boot_cached(str(directory), "c.json", {"boot_time": 7.0}, compute,
                                 lambda d: d.get("v"), lambda v: {"v": v})


def test_cache_write_goes_through_os_replace(tmp_path, monkeypatch):
    calls = []
    real = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(str(src)), str(dst)))
        assert json.loads(open(src).read())["v"] == 42  # the temp file is whole before it takes the name
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    assert _cached(tmp_path, lambda: 42) == 42
    assert calls == [(str(tmp_path), str(tmp_path / "c.json"))]
    assert sorted(os.listdir(tmp_path)) == ["c.json"]  # no temp file left behind


def test_truncated_cache_is_absent_not_a_crash(tmp_path):
    assert _cached(tmp_path, lambda: 42) == 42
    whole = (tmp_path / "c.json").read_text()
    for cut in (1, len(whole) // 2, len(whole) - 1):
        (tmp_path / "c.json").write_text(whole[:cut])
        assert _cached(tmp_path, lambda: 43) == 43  # recomputed, and the cache healed
        assert json.loads((tmp_path / "c.json").read_text())["v"] == 43
        (tmp_path / "c.json").write_text(whole)


def test_failed_replace_leaves_no_temp_file(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError(13, "denied")

    monkeypatch.setattr(os, "replace", fail)
    assert _cached(tmp_path, lambda: 5) == 5
    assert os.listdir(tmp_path) == []


# -- 1. 'sycl' after an Intel GPU's name: llama.cpp's SYCL backend, as 'vulkan' picks Vulkan -----------------------

def _err_line(capsys):
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, (out, err)
    return err


@pytest.mark.parametrize("spec", ["arc b580 sycl", "Arc B580 SYCL", "2x arc b580 sycl", "arc b580 sycl x2"])
def test_sycl_word_names_the_intel_gpu_on_sycl(spec):
    from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec

    profile, count, _ = parse_spec(spec)
    assert profile.id == "arc-b580" and count == (2 if "2" in spec else 1)
    dev = machine_from_profile(profile, count).devices[0]
    assert dev.backend == "sycl" and dev.backend_word == "sycl"


def test_sycl_word_sizes_as_the_gpus_own_backend():
    # the Intel GPU's table backend is SYCL: the word says it out loud, the speed is the same (estimate/sycl_path.py)
    from selfhost_advisor import api

    def speed(spec):
        return api.fit("llama3.1:8b", spec, quant="Q4_K_M").options[0].speed

    said, plain = speed("arc b580 sycl"), speed("arc b580")
    assert said == plain and said is not None


def test_bmg_platform_name_with_sycl_lists_the_cards_as_with_vulkan():
    from selfhost_advisor.catalog.hardware import parse_spec
    from selfhost_advisor.errors import UnknownHardwareError

    msgs = []
    for word in ("sycl", "vulkan"):
        with pytest.raises(UnknownHardwareError) as e:
            parse_spec(f"Intel(R) Graphics (BMG G21) {word}")
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "arc-b580" in msgs[0] and "unknown hardware" not in msgs[0]


@pytest.mark.parametrize("spec", ["rtx 4090 sycl", "m4 max 64gb sycl", "rx 7900 xtx sycl"])
def test_sycl_word_after_a_non_intel_gpu_is_one_line_exit_2(spec, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", spec]) == 2
    err = _err_line(capsys)
    assert "SYCL backend" in err and "Intel GPUs" in err and "drop 'sycl'" in err


def test_vllm_refuses_the_sycl_word_but_sizes_the_plain_intel_gpu(capsys):
    from selfhost_advisor.cli import main

    for cmd in (["fit", "llama3.1:8b", "--hardware", "arc b580 sycl", "--engine", "vllm"],
                ["serve", "llama3.1:8b", "-H", "arc b580 sycl", "--engine", "vllm"],
                ["cost", "-m", "llama3.1:8b", "-t", "1e7", "-H", "arc b580 sycl", "--engine", "vllm"]):
        assert main(cmd) == 2, cmd
        assert "'sycl' names llama.cpp's SYCL backend" in _err_line(capsys)
    assert main(["fit", "llama3.1:8b", "--hardware", "arc b580", "--engine", "vllm"]) == 0
    capsys.readouterr()


def test_fit_serve_cost_and_hardware_take_the_sycl_word(capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", "arc b580 sycl", "-q", "Q4_K_M"]) == 0
    assert "Intel Arc B580 (SYCL)" in capsys.readouterr().out
    assert main(["serve", "llama3.1:8b", "-H", "arc b580 sycl", "--engine", "llamacpp"]) == 0
    assert "arc-b580" in capsys.readouterr().out
    assert main(["cost", "-m", "llama3.1:8b", "-t", "1e7", "-H", "arc b580 sycl", "--engine", "llamacpp"]) == 0
    assert "arc-b580 sycl" in capsys.readouterr().out
    assert main(["hardware", "show", "arc b580 sycl"]) == 2  # as 'arc b580 vulkan': show takes the profile alone
    assert "advisor hardware show arc-b580" in _err_line(capsys)


# -- 2. a negative or malformed memory size in a hardware name --------------------------------------------------

@pytest.mark.parametrize("spec", ["m4 max -64gb", "m4 max --64gb", "m4 max \u221264gb", "rtx 3060 -12gb",
                                  "2x rtx 3060 -12gb", "h100 -0.5tb", "m4 max 64.5.3gb", "rtx 3060 12.gb"])
def test_negative_or_malformed_memory_size_is_refused(spec, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", spec]) == 2
    err = _err_line(capsys)
    assert "is not a memory size (negative or malformed)" in err, err


@pytest.mark.parametrize("spec,pid", [("m4 max 64gb", "m4-max-40c-64gb"), ("m4-max-64gb", "m4-max-40c-64gb"),
                                      ("a100-80gb", "a100-80gb"), ("rtx 3060 - 12gb", "rtx-3060-12gb"),
                                      ("NVIDIA A100-SXM4-80GB", "a100-80gb")])
def test_dashes_between_words_still_resolve(spec, pid):
    from selfhost_advisor.catalog.hardware import parse_spec

    assert parse_spec(spec)[0].id == pid


# -- 4. over-long Hub repo ids and file names: refused before any request, naming the length ------------------------

def test_over_long_hub_file_name_is_refused_before_any_request(monkeypatch, capsys):
    from gguf_raw import base_kvs, gguf_bytes
    from hubfake import FakeHub, install

    from selfhost_advisor.cli import main

    hub = install(monkeypatch, FakeHub())
    name = f"model-{'Q' * 100_000}-Q4_K_M.gguf"
    hub.add("acme/Huge-GGUF", {name: gguf_bytes(base_kvs())})
    assert main(["fit", "hf:acme/Huge-GGUF", "--vram", "24GB"]) == 2
    err = _err_line(capsys)
    assert "100,018 bytes" in err and "4,096" in err and "network" not in err and len(err) < 400, err
    assert not any("/resolve/" in url for url, _ in hub.requests)  # only the listing was asked for


def test_real_transport_never_sees_the_over_long_url(monkeypatch):
    # the defect as users met it: httpx's InvalidURL ('URL too long') read as 'cannot reach the Hub; check the network'
    from selfhost_advisor.catalog import hub as hubmod

    called = []
    monkeypatch.setattr(hubmod, "transport_factory", lambda: called.append(1))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    client = hubmod.HubClient("acme/x")
    with pytest.raises(hubmod.HubError) as e:
        client.read_range("a" * 100_000 + ".gguf", 0, 8)
    assert "100,005 bytes" in str(e.value) and not isinstance(e.value, hubmod.NetworkError) and called == []


@pytest.mark.parametrize("model", ["hf:" + "a" * 100_000 + "/b", "hf:owner/" + "b" * 200])
def test_over_long_repo_id_names_the_length_in_one_short_line(model, capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", model, "--vram", "24GB"]) == 2
    err = _err_line(capsys)
    assert "is not a Hub repository id" in err and "at most 96" in err and len(err) < 300, err
