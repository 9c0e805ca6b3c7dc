"""Session 33 (vcap33): vLLM formats below the compute capability their quantization config needs
(get_min_capability: AWQ 75, GPTQ 60, FP8 75 from 0.14.0 (Marlin on Turing, PR #29901) and 80 before, MXFP4 80), and
BF16 below 8.0 loaded as FP16 by vLLM's dtype auto fallback (same bytes, said in the note)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from clikit import run  # noqa: E402

T4, V100, P100, A100, L4 = "t4", "tesla-v100-pcie-32-gb", "tesla-p100-pcie-16-gb", "a100-80gb", "l4"

# (box, format) -> serves under the registry's vLLM release. T4 is Turing 7.5, V100 Volta 7.0, P100 Pascal 6.0.
CASES = [
    (T4, "FP8", True), (T4, "AWQ-INT4", True), (T4, "GPTQ-INT4", True), (T4, "BF16", True),
    (V100, "FP8", False), (V100, "AWQ-INT4", False), (V100, "GPTQ-INT4", True), (V100, "BF16", True),
    (P100, "FP8", False), (P100, "AWQ-INT4", False), (P100, "GPTQ-INT4", True), (P100, "BF16", True),
    (A100, "FP8", True), (A100, "AWQ-INT4", True), (A100, "GPTQ-INT4", True), (A100, "BF16", True),
    (L4, "FP8", True), (L4, "AWQ-INT4", True), (L4, "GPTQ-INT4", True), (L4, "BF16", True),
]


@pytest.mark.parametrize("box,fmt,serves", CASES)
def test_serve_refuses_a_format_below_its_minimum_capability(capsys, box, fmt, serves):
    # before: every format was sized on every CUDA GPU but MXFP4 (a V100 served AWQ / FP8 with users, exit 0)
    code, out, err = run(capsys, "serve", "qwen2.5:3b", "-H", box, "--engine", "vllm", "-q", fmt, "--json")
    if serves:
        assert code == 0, err
        assert json.loads(out)["fits"] is True
    else:
        assert code == 1, (code, err)
        assert "compute capability 7.5" in err, err
        assert json.loads(out)["fits"] is False


@pytest.mark.parametrize("box", [V100, P100])
def test_fit_names_the_floor_and_the_gpu(capsys, box):
    code, out, err = run(capsys, "fit", "qwen2.5:3b", "-H", box, "--engine", "vllm", "-q", "AWQ-INT4")
    assert "needs compute capability 7.5" in out + err, out + err


@pytest.mark.parametrize("box,noted", [(T4, True), (V100, True), (P100, True), (A100, False), (L4, False)])
def test_bf16_below_ampere_is_said_to_run_as_fp16(capsys, box, noted):
    code, out, err = run(capsys, "fit", "qwen2.5:3b", "-H", box, "--engine", "vllm", "-q", "BF16")
    assert code == 0, err
    assert ("run as FP16" in out) is noted, out


def test_bf16_fallback_keeps_the_weight_bytes(capsys):
    # FP16 is two bytes a weight as BF16: the V100's weights equal the A100's
    sizes = []
    for box in (V100, A100):
        code, out, err = run(capsys, "fit", "qwen2.5:3b", "-H", box, "--engine", "vllm", "-q", "BF16", "--json")
        assert code == 0, err
        sizes.append(_weights(json.loads(out)))
    assert sizes[0] == sizes[1] and sizes[0] > 0


def _weights(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("weights_bytes", "weights") and isinstance(v, (int, float)):
                return v
            found = _weights(v)
            if found:
                return found
    if isinstance(obj, list):
        for v in obj:
            found = _weights(v)
            if found:
                return found
    return 0


def test_fp8_on_turing_follows_the_release():
    # Marlin reached sm75 in vLLM 0.14.0 (PR #29901); before it Fp8Config.get_min_capability() was 80
    from selfhost_advisor.estimate.vllm_weights import capability_refusal

    assert capability_refusal("FP8", 7.5, "0.13.0") is not None
    assert capability_refusal("FP8", 7.5, "0.14.0") is None
    assert capability_refusal("FP8", 8.0, "0.10.0") is None
    assert capability_refusal("AWQ-INT4", 7.5, "0.10.0") is None
    assert capability_refusal("GPTQ-INT4", 5.2) is not None
    assert capability_refusal("MXFP4", 7.5) is not None and capability_refusal("MXFP4", 8.6) is None


def test_mxfp4_floor_reads_the_same_table(capsys):
    code, out, err = run(capsys, "serve", "gpt-oss:20b", "-H", V100, "--engine", "vllm", "-q", "MXFP4", "--json")
    assert code == 1 and "compute capability 8.0" in err, err
