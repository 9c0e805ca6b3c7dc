"""`--hardware "arc b580 sycl fp32"`: the GGML_SYCL_F16 a llama.cpp SYCL build was configured with, and fit's note on
which one its prompt figures assume (estimate/sycl_path.py with_device_build / sycl_build_note; docs/methodology.md
5b-sycl31b). Session 31 (syclf16)."""
from __future__ import annotations

import pytest

from selfhost_advisor import api
from selfhost_advisor.catalog.backend_words import split
from selfhost_advisor.catalog.hardware import parse_spec
from selfhost_advisor.errors import UnknownHardwareError


def _option(r, quant="Q4_K_M"):
    return next(o for o in r.options if o.quant.name == quant)


def _sycl_notes(r):
    return [w for w in r.warnings if "SYCL" in w and "GGML_SYCL_F16" in w]


@pytest.mark.parametrize("text, want", [
    ("arc b580 sycl fp32", ("arc b580", "sycl", "fp32")),
    ("arc b580 sycl F16", ("arc b580", "sycl", "fp16")),
    ("arc b580 sycl fp32 x2", ("arc b580 x2", "sycl", "fp32")),
    ("Intel Arc B580 (SYCL, FP32 build)", ("Intel Arc B580", "sycl", "fp32")),  # fit's own Hardware line pasted back
    ("arc b580 sycl", ("arc b580", "sycl", "")),
])
def test_the_build_word_follows_sycl(text, want):
    assert split(text) == want


def test_a_build_word_without_sycl_is_refused_with_the_order_to_write():
    with pytest.raises(UnknownHardwareError, match="follows the word 'sycl'"):
        parse_spec("arc b580 fp32")


def test_a_build_word_after_a_non_intel_gpu_is_refused():
    with pytest.raises(UnknownHardwareError, match="Intel GPUs only"):
        parse_spec("rtx4090 sycl fp32")


def test_an_fp32_build_prompts_slower_and_decodes_alike():
    """GGML_SYCL_F16 changes the prompt GEMMs (dequantized to FP32, run on the vector lanes) and not the mat-vecs:
    PR #23996's B70 table, F16 / F32 prompt 1.48-3.41x, decode 0.97-1.02x."""
    plain = _option(api.fit("llama3.1:8b", "arc b580", quant="Q4_K_M")).speed
    fp32 = _option(api.fit("llama3.1:8b", "arc b580 sycl fp32", quant="Q4_K_M")).speed
    fp16 = _option(api.fit("llama3.1:8b", "arc b580 sycl fp16", quant="Q4_K_M")).speed
    assert fp16.prefill_tokens_per_s == pytest.approx(plain.prefill_tokens_per_s)  # unsaid = FP16, the default
    assert fp32.prefill_tokens_per_s < plain.prefill_tokens_per_s / 1.4
    assert fp32.decode_tokens_per_s == pytest.approx(plain.decode_tokens_per_s, rel=0.03)


def test_fit_says_which_build_it_assumes_and_how_to_name_the_other():
    unsaid = _sycl_notes(api.fit("llama3.1:8b", "arc b580", quant="Q4_K_M"))
    assert len(unsaid) == 1 and "GGML_SYCL_F16=ON" in unsaid[0] and "sycl fp32" in unsaid[0]
    named = _sycl_notes(api.fit("llama3.1:8b", "arc b580 sycl fp32", quant="Q4_K_M"))
    assert len(named) == 1 and "GGML_SYCL_F16=OFF" in named[0] and "sycl fp16" in named[0]


def test_no_sycl_build_note_where_llama_cpp_does_not_run_the_gpu_on_sycl():
    assert not _sycl_notes(api.fit("llama3.1:8b", "arc b580 vulkan mesa", quant="Q4_K_M"))
    assert not _sycl_notes(api.fit("llama3.1:8b", "arc b580", quant="Q4_K_M", engine="ollama"))
    assert not _sycl_notes(api.fit("llama3.1:8b", "arc b580", quant="AWQ-INT4", engine="vllm"))  # XPU, not ggml-sycl
    assert not _sycl_notes(api.fit("llama3.1:8b", "rtx-4090", quant="Q4_K_M"))


def test_a_rows_stated_build_keeps_its_flag():
    """with_device_build only fills an unstated flag: a row's 'GGML_SYCL_F16=ON' stays FP16 on a GPU named fp32."""
    from selfhost_advisor.estimate import sycl_path

    devices = api.fit("llama3.1:8b", "arc b580 sycl fp32", quant="Q4_K_M").machine.devices
    with sycl_path.assume_build("2026-06-01, GGML_SYCL_F16=ON"):
        with sycl_path.with_device_build(devices):
            assert not sycl_path.fp32_gemm()
    with sycl_path.with_device_build(devices):
        assert sycl_path.fp32_gemm()
    assert not sycl_path.fp32_gemm()


def test_the_json_device_carries_the_named_build():
    from selfhost_advisor.render.jsonout import fit_dict

    devices = fit_dict(api.fit("llama3.1:8b", "arc b580 sycl fp32", quant="Q4_K_M"))["hardware"]["devices"]
    assert devices and all(d.get("sycl_build") == "fp32" for d in devices)
    plain = fit_dict(api.fit("llama3.1:8b", "arc b580", quant="Q4_K_M"))["hardware"]["devices"]
    assert all("sycl_build" not in d for d in plain)
