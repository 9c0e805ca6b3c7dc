"""codeqwen (Ollama's most-pulled list): CodeQwen1.5-7B-Chat on the qwen2 layout (data/models.yaml, section "session 10:
codeqwen"). Shapes from its config.json (calibration/architectures.csv row, huggingface.co/Qwen/CodeQwen1.5-7B-Chat at
83741946); the library's tag list as copied in Jeffser/Alpaca src/ollama_models.py (codeqwen: latest 4.2 GB, 7b 4.2 GB).
Qwen's own Q4_K_M file was written into benchmarks/heldout/gguf_sizes.csv before the entry was compared with it."""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.ollama_defaults import default_quant
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.estimate.memory import kv_cache_bytes
from selfhost_advisor.estimate.tensors import build_tensors


@pytest.mark.parametrize("name", ["codeqwen", "codeqwen:latest", "codeqwen:7b", "Qwen/CodeQwen1.5-7B-Chat",
                                  "Qwen/CodeQwen1.5-7B-Chat-GGUF"])
def test_codeqwen_names_resolve_to_the_7b_chat_model(name):
    assert resolve(name).model.id == "codeqwen:7b"


def test_codeqwen_params_are_its_config_shapes():
    m = resolve("codeqwen").model
    d, ff, n_kv_out, vocab = 4096, 13440, 4 * 128, 92416
    # per layer: q, k, v with biases, o, gate/up/down, two norms; untied embedding table and head; final norm
    layer = d * d + d + 2 * (d * n_kv_out + n_kv_out) + d * d + 3 * d * ff + 2 * d
    assert m.params == 32 * layer + 2 * vocab * d + d == 7_250_284_544
    assert sum(t.n_elements for t in build_tensors(m)) == m.params


def test_codeqwen_kv_cache_is_gqa_sized():
    # 4 KV heads of 128 in 32 layers, K and V at f16: 2 * 32 * 4 * 128 * 2 = 65,536 bytes a token, 1/8 of an MHA 7B's
    kv, _ = kv_cache_bytes(resolve("codeqwen").model, FitRequest(context=8192, engine="llamacpp"))
    assert kv == 8192 * 65_536


def test_qwen_s_own_q4_k_m_file_is_within_one_percent():
    rows = [r for r in accuracy.heldout_rows() if r["catalog"] == "codeqwen:7b"]
    assert [r["real_bytes"] for r in rows] == [4_738_590_464]
    assert abs(rows[0]["error_pct"]) < 1.0


def test_codeqwen_default_quant_is_q4_0_by_the_library_size():
    # 4.2 GB stands for 4.15-4.25 GB; only Q4_0 (4.18 GB) lies within 1% of it (Q4_K_S 4.42, Q3_K_L 3.99 GB)
    dq = default_quant("codeqwen")
    assert dq is not None and dq.quant == "Q4_0"
    m = resolve("codeqwen").model
    assert 4.15e9 * 0.99 <= accuracy.file_bytes(m, get_quant("Q4_0")) <= 4.25e9 * 1.01
    assert accuracy.file_bytes(m, get_quant("Q4_K_S")) > 4.25e9 * 1.01
