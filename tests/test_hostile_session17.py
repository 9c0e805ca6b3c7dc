"""Bad input found in session 17 (hostile3): each case failed before its fix."""
from __future__ import annotations

from selfhost_advisor.cli import main

VK = "custom:vram=16GB,bandwidth=448GB/s,fp16=60TFLOPS,backend=vulkan,price=1000"


def test_cost_refuses_vllm_on_a_vulkan_spec_sheet_as_fit_and_serve_do(capsys):
    # was exit 0 with the box excluded as 'vLLM does not run on Apple GPUs or non-CUDA unified memory' (neither)
    code = main(["cost", "-t", "1e8", "-m", "llama3.1:8b", "--hardware", VK, "--engine", "vllm"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert "vLLM has no Vulkan backend" in err and "--engine llamacpp" in err
    assert main(["serve", "llama3.1:8b", "--hardware", VK.rsplit(",", 1)[0], "--engine", "vllm"]) == 2
