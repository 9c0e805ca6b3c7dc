"""Session 31 reviewers' small user-facing issues (ux31): product names of Strix Halo boxes ('framework desktop')."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.data import load
from selfhost_advisor.catalog.hardware import get_profile
from selfhost_advisor.catalog.hw_names import AmbiguousHardwareError
from selfhost_advisor.errors import UnknownHardwareError

GIB = 2**30


def _framework():
    return next(p for p in load("apu")["products"] if p["name"] == "Framework Desktop")


def test_every_product_entry_is_sourced_and_names_sold_chip_sizes():
    chips = {c["chip"]: c["memory_gb"] for c in load("apu")["chips"]}
    for product in load("apu")["products"]:
        assert product["source"] and product["as_of"], product["name"]
        for b in product.get("builds", ()):
            assert b["memory_gb"] in chips[b["chip"]], (product["name"], b)
        # session 32: a product whose source names only its chip(s) lists `chips` instead of `builds`
        assert ("builds" in product) != ("chips" in product), product["name"]
        assert all(c in chips for c in product.get("chips", ())), product["name"]


@pytest.mark.parametrize("name", ["framework desktop", "Framework Desktop", "framework-desktop",
                                  "framework desktop mainboard"])
def test_framework_desktop_alone_is_refused_with_every_build(name):
    with pytest.raises(AmbiguousHardwareError) as err:
        get_profile(name)
    msg = str(err.value)
    for b in _framework()["builds"]:
        assert f"{b['chip']}-{b['memory_gb']}gb" in msg, (b, msg)


def test_framework_desktop_with_a_size_is_that_build_chip_and_memory():
    for b in _framework()["builds"]:
        got = get_profile(f"Framework Desktop {b['memory_gb']}GB")
        assert got.memory_bytes == b["memory_gb"] * GIB
        chip = next(c for c in load("apu")["chips"] if c["chip"] == b["chip"])
        assert got.fp16_flops == pytest.approx(chip["fp16_tflops"] * 1e12)  # the 32 GB build is the Max 385's GPU
        assert got.bandwidth_bytes_per_s == chip["bandwidth_gbps"] * 1e9


def test_framework_desktop_size_not_sold_names_the_builds():
    with pytest.raises(UnknownHardwareError) as err:
        get_profile("framework desktop 96gb")
    assert "96 GB" in str(err.value) and "128 GB" in str(err.value) and "Max 385" in str(err.value)


def test_a_longer_word_is_not_the_product():
    with pytest.raises(UnknownHardwareError):
        get_profile("framework desktopx")


def _footnote(result, capsys) -> str:
    from selfhost_advisor.render.text import render_fit

    render_fit(result)
    out = " ".join(capsys.readouterr().out.split())
    return out[out.index("Speeds:"):]


def test_vllm_speed_band_is_the_llamacpp_family_band_and_the_footnote_says_so(capsys):
    from selfhost_advisor import api
    from selfhost_advisor.estimate.speed import efficiency

    r = api.fit("llama3.1:8b", "rtx4090", engine="vllm", offline=True)
    eff = efficiency(r.machine.devices[0].backend)
    banded = [o.speed for o in r.options if o.speed and o.speed.decode_tokens_per_s]
    assert banded
    for s in banded:  # what the footnote claims: llama.cpp's band for the family, scaled onto vLLM's estimate
        assert s.decode_low / s.decode_tokens_per_s == pytest.approx(eff.decode_band[0])
        assert s.decode_high / s.decode_tokens_per_s == pytest.approx(eff.decode_band[1])
    note = _footnote(r, capsys)
    assert "vLLM" in note and "no vLLM runs" in note and "on llama-bench results" not in note


def test_llamacpp_footnote_keeps_the_llama_bench_band(capsys):
    from selfhost_advisor import api

    note = _footnote(api.fit("llama3.1:8b", "rtx4090", offline=True), capsys)
    assert "llama-bench results" in note and "vLLM" not in note


def _box(tmp_path, **device_keys):
    """A probe file of one Intel Arc B580, as `fit --json` writes the device back, plus `device_keys`."""
    import json

    from selfhost_advisor import api

    dev = api.as_json(api.fit("llama3.1:8b", "arc b580", offline=True))["hardware"]["devices"][0]
    path = tmp_path / f"box-{'-'.join(f'{k}={v}' for k, v in device_keys.items())}.json"
    path.write_text(json.dumps({"schema_version": "1.0", "ram_bytes": 32 * 2**30, "devices": [{**dev, **device_keys}]}))
    return str(path)


def _prefill(hardware: str) -> float:
    from selfhost_advisor import api

    r = api.fit("llama3.1:8b", hardware, quant="Q4_K_M", offline=True)
    return r.options[0].speed.prefill_tokens_per_s


def test_a_probe_file_device_says_the_sycl_build_as_the_name_words_do(tmp_path):
    from selfhost_advisor import api

    said = _box(tmp_path, sycl_build="fp32")
    assert _prefill(said) == pytest.approx(_prefill("arc b580 sycl fp32"))
    assert _prefill(said) < _prefill(_box(tmp_path))  # unsaid: FP16 build
    r = api.fit("llama3.1:8b", said, offline=True)
    assert r.machine.devices[0].sycl_build == "fp32"
    assert api.as_json(r)["hardware"]["devices"][0]["sycl_build"] == "fp32"  # written back, read back
    assert any("FP32 build" in w for w in r.warnings)


@pytest.mark.parametrize("keys,said", [({"sycl_build": "fp8"}, "not one of fp32, fp16"),
                                       ({"sycl_build": "fp32", "backend": "vulkan"}, "backend is 'vulkan'")])
def test_a_probe_file_sycl_build_that_cannot_be_is_refused(tmp_path, keys, said):
    from selfhost_advisor import api
    from selfhost_advisor.errors import AdvisorError

    with pytest.raises(AdvisorError) as err:
        api.fit("llama3.1:8b", _box(tmp_path, **keys), offline=True)
    assert said in str(err.value)


def _cost_notes(hardware: str, engine: str) -> str:
    from selfhost_advisor import api

    return " ".join(api.cost("50M", model="llama3.1:8b", hardware=[hardware], engine=engine).warnings)


def test_cost_says_the_sycl_build_note_fit_says_for_an_intel_gpu_under_llamacpp():
    from selfhost_advisor import api

    fit_notes = api.fit("llama3.1:8b", "arc b580", offline=True).warnings
    sycl = [w for w in fit_notes if "GGML_SYCL_F16" in w]
    assert len(sycl) == 1
    notes = _cost_notes("arc b580", "llamacpp")
    assert sycl[0] in notes and "arc-b580" in notes  # the same note, naming the box it is about
    assert "GGML_SYCL_F16=OFF, as named" in _cost_notes("arc b580 sycl fp32", "llamacpp")


@pytest.mark.parametrize("engine", ["ollama", "vllm"])
def test_cost_has_no_sycl_note_where_the_engine_runs_no_sycl(engine):
    assert "GGML_SYCL_F16" not in _cost_notes("arc b580", engine)
