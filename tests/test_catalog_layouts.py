"""Tensor layouts added with the catalog's 2025-2026 families, checked against counts published for real checkpoints
and GGUF files (sources in each test; data/models.yaml names the configs)."""
from __future__ import annotations

import sys
from pathlib import Path

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import estimate_memory
from selfhost_advisor.estimate.tensors import build_tensors, count_params, file_only_tensors

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import accuracy  # noqa: E402


def test_minimax_m2_tensors_match_the_checkpoint():
    # A stored report of MiniMax-M2.7's safetensors (code-index file id 62693775865) lists 228,703,644,928 parameters,
    # of which 13,880,064 are FP8 block scales (weight_scale_inv: 3 x 256 x 12 x 24 per layer for the experts plus
    # 48x24 + 8x24 + 8x24 + 24x48 for attention, x 62 layers). A GGUF of it holds 809 tensors (quantize log of
    # W0lfland/MiniMax-M2.7-Greg-Knee-GGUF: "all 809 tensors").
    m = resolve("minimax-m2.7:230b").model
    scales = 62 * (3 * 256 * 12 * 24 + 48 * 24 + 8 * 24 + 8 * 24 + 24 * 48)
    assert scales == 13_880_064
    assert count_params(m) == 228_703_644_928 - scales
    assert len(build_tensors(m)) == 809
    q_norm = next(t for t in build_tensors(m) if t.name == "blk.0.attn_q_norm.weight")
    assert q_norm.shape == (48 * 128,)  # the whole projection, not one head (src/models/minimax-m2.cpp)


def test_glm45_air_file_holds_the_nextn_block_memory_does_not():
    # ubergarm/GLM-4.5-Air-GGUF: BF16 205.811 GiB, Q8_0 109.381 GiB. llama.cpp loads the NextN block with
    # TENSOR_SKIP (never allocated), so the weights in memory are the file less that block.
    m = resolve("glm-4.5-air:106b").model
    assert m.gguf_nextn_layers == 1
    for quant, gib in (("BF16", 205.811), ("Q8_0", 109.381)):
        assert abs(accuracy.file_weights_bytes(m, get_quant(quant)) / (gib * 2**30) - 1) < 0.001
    loaded = estimate_memory(m, get_quant("BF16"), FitRequest(context=512)).weights_bytes
    nextn = sum(t.n_elements for t in file_only_tensors(m)) * 2
    assert abs((loaded + nextn) / (205.811 * 2**30) - 1) < 0.001
    assert nextn / (205.811 * 2**30) > 0.03  # a whole MoE block plus its own embedding and head


def test_qwen3_vl_text_model_has_the_qwen3_tensors():
    # A stored note on unsloth's Qwen3-VL-8B-Instruct-Q4_K_M.gguf: 399 tensors, "36 blocks of 11 plus an embedding,
    # a norm and an output head" (code-index file id 60241773705); no vision tensors (those ship as mmproj).
    m = resolve("qwen3-vl:8b").model
    assert m.arch == "qwen3vl" and len(build_tensors(m)) == 36 * 11 + 3
