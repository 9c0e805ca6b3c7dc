"""Session 18 engine code health: one refusal helper for backend words (Engine.refused_device), vLLM's start-up
refusal fed what is used before it reads free memory, on a unified GPU as on a discrete one."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.engines import get_engine


def _machine(spec: str):
    profile, count, _ = parse_spec(spec)
    return machine_from_profile(profile, count)


@pytest.mark.parametrize(("engine", "spec", "refused"), [
    ("llamacpp", "arc b580 sycl", False),   # llama.cpp builds ggml-sycl and ggml-vulkan
    ("llamacpp", "rtx 4090 vulkan", False),
    ("ollama", "arc b580 sycl", True),      # Ollama has no SYCL build (data/engines.yaml refused_backend_words)
    ("ollama", "arc b580 vulkan", False),
    ("vllm", "rtx 4090 vulkan", True),      # vLLM has no Vulkan platform (refused_backends)
    ("vllm", "arc b580 sycl", True),        # vLLM runs Intel on XPU, not ggml-sycl (refused_backend_words)
    ("vllm", "arc b580", False),
])
def test_one_helper_decides_the_refused_backend_for_every_engine(engine, spec, refused):
    assert (get_engine(engine).refused_device(_machine(spec)) is not None) is refused


def test_vllm_on_a_unified_gpu_reports_the_os_share_as_used_before_start():
    # GB10 (DGX Spark): vLLM reads free memory from the OS; asking for 0.99 of it exceeds what the OS leaves, and the
    # refusal's free figure is total minus data/engines.yaml runtime.os_reserve_bytes, not that minus itself again
    from selfhost_advisor.catalog.data import load
    from selfhost_advisor.catalog.models import get as get_model
    from selfhost_advisor.domain import FitRequest
    from selfhost_advisor.estimate import vllm as V

    m = _machine("dgx spark")
    p = V.plan(get_model("qwen3:8b"), V.get_vllm_quant("BF16"), m, FitRequest(8192, "vllm", gpu_memory_utilization=0.99))
    total = V.cuda_total_bytes(m.devices[0])
    free = total - int(load("engines")["runtime"]["os_reserve_bytes"])
    assert p.placement.fit == "no"
    assert f"({round(free / 2**30, 2)}/{round(total / 2**30, 2)} GiB)" in p.placement.note
    assert p.placement.missing_bytes == int(total * 0.99) - free


ODD_HUB_PATHS = ["model.safetensors", "Q8_0/Tiny-Q8_0-00001-of-00002.gguf", "sub dir/Tiny #1?.gguf",
                 "100%/a+b&c=d;e.gguf", "unicodé/模型.gguf"]


@pytest.mark.parametrize("path", ODD_HUB_PATHS)
def test_hub_file_urls_are_encoded_as_huggingface_hub_encodes_them(monkeypatch, path):
    from huggingface_hub import hf_hub_url

    from selfhost_advisor.catalog.hub import HubClient

    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert HubClient("acme/Tiny-GGUF")._file_url(path) == hf_hub_url("acme/Tiny-GGUF", path)


def test_a_hub_file_with_a_hash_and_a_space_in_its_name_is_read(monkeypatch, tmp_path):
    # a web server reads '#' as the start of a fragment and '?' as a query (tests/hubfake.py does the same): sent raw,
    # 'sub dir/Tiny #1?.gguf' was asked for as 'sub dir/Tiny ' and the Hub answered 404 (HubError, exit 2)
    from hubfake import FakeHub, install

    from selfhost_advisor.catalog.hub import HubClient

    monkeypatch.setenv("ADVISOR_HOME", str(tmp_path))
    fake = install(monkeypatch, FakeHub())
    fake.add("acme/Odd", {p: p.encode() for p in ODD_HUB_PATHS})
    client = HubClient("acme/Odd")
    for p in ODD_HUB_PATHS:
        assert client.read_range(p, 0, 4) == p.encode()[:4]
        assert fake.bytes_downloaded("acme/Odd", p) == 4


@pytest.mark.parametrize(("spec", "count", "backend", "link"), [
    ("rtx 3090 vulkan nvlink", 1, "vulkan", "nvlink"),       # was unknown hardware 'rtx 3090 vulkan'
    ("2x rtx 3090 vulkan nvlink", 2, "vulkan", "nvlink"),
    ("2x rtx 3090 nvlink vulkan", 2, "vulkan", "nvlink"),
    ("rtx 4090 vulkan x2 pcie", 2, "vulkan", "pcie"),
    ("2x arc b580 vulkan mesa pcie", 2, "vulkan", "pcie"),
    ("2x NVIDIA A100 40GB PCIe nvlink", 2, "cuda", "nvlink"),  # 'PCIe' in a profile's name is not a link
    ("NVIDIA A100 40GB PCIe", 1, "cuda", ""),
])
def test_backend_and_link_words_trail_the_name_in_either_order(spec, count, backend, link):
    profile, n, interconnect = parse_spec(spec)
    assert (n, profile.backend, interconnect) == (count, backend, link)


def test_two_link_words_are_refused_naming_both(capsys):
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", "2x rtx 3090 pcie nvlink"]) == 2  # pcie silently won before
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "'pcie' and 'nvlink'" in err


@pytest.mark.parametrize(("spec", "said"), [("arc b580", "Vulkan backend"),
                                             ("core ultra 7 258v", "OLLAMA_IGPU_ENABLE=1")])
def test_serve_with_ollama_on_an_intel_gpu_says_what_fit_says(spec, said):
    # engine_machine's note (engines/ollama.py) was dropped by serve, so its table read as a SYCL run
    from selfhost_advisor.api import fit, serve

    note = next(w for w in fit("llama3.1:8b", hardware=spec, engine="ollama", quant=["Q4_K_M"]).warnings
                if "Ollama runs the Intel" in w)
    assert said in note and note in serve("llama3.1:8b", spec, engine="ollama").warnings
    assert not any("Ollama runs" in w for w in serve("llama3.1:8b", spec, engine="llamacpp").warnings)


def test_cost_quant_help_names_the_gguf_types_cost_also_prices():
    # cost --engine llamacpp / ollama price a GGUF type (api.cost -> Fleet); the help listed vLLM's formats only
    import typer.main

    from selfhost_advisor.cli import app

    quant = next(p for p in typer.main.get_command(app).commands["cost"].params if p.name == "quant")
    assert "AWQ-INT4" in quant.help and "Q4_K_M" in quant.help


@pytest.mark.parametrize("spec", ["2x rtx 4090 nvlink", "rtx 4090 vulkan nvlink", "2x rtx4060ti16gb nvlink"])
def test_nvlink_on_a_card_without_the_connector_is_refused(capsys, spec):
    """The RTX 40 series has no NVLink connector (data/hardware.yaml nvlink: false): 'nvlink' resolved and priced vLLM's
    all-reduce at NVLink's rate. One line, exit 2, naming the card; the RTX 3090 (which has one) still takes the word."""
    from selfhost_advisor.cli import main

    assert main(["fit", "llama3.1:8b", "--hardware", spec]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "no NVLink connector" in err and "drop 'nvlink'" in err
    assert parse_spec("2x rtx 3090 nvlink")[2] == "nvlink"
