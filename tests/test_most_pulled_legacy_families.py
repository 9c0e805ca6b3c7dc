"""Most-pulled Ollama families on layouts the estimator already has (session 10): the facts each entry rests on that no
generic catalog test checks. Sources are in each entry of data/models.yaml."""
from __future__ import annotations

import accuracy  # benchmarks/accuracy.py
import pytest

from selfhost_advisor.catalog.models import resolve
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.estimate.tensors import count_params
from selfhost_advisor.record import replace


def test_published_parameter_counts():
    # StableLM-3B-4E1T: 2,795,443,200 (code-index file id 54322166013); Granite 3.1 3B-A800M: 3,298,793,472 as llama.cpp
    # b10537 counted its Q4_K_M file (code-index file id 71116624856)
    assert count_params(resolve("stablelm-zephyr").model) == 2_795_443_200
    assert count_params(resolve("granite3.1-moe:3b").model) == 3_298_793_472


def test_falcon2_eight_kv_groups_are_what_the_library_blob_allows():
    # falcon2:latest is 6.4 GB (code-index file id 21434928240). The card says "multiquery"; a config sketch says
    # num_kv_heads 8: with 8 the Q4_0 file is within the size's range, with one KV head every candidate misses it.
    from test_ollama_default_quants import matches

    m = resolve("falcon2").model
    assert m.n_kv_heads == 8 and matches(m, "6.4 GB", 0.01)
    assert matches(replace(m, n_kv_heads=1), "6.4 GB", 0.01) == []


@pytest.mark.parametrize("family,quant,size", [("granite3-moe", "Q4_K_M", "822 MB"), ("granite3.1-moe:1b", "Q8_0", "1.4 GB")])
def test_granite_moe_blobs_decide_one_quantization(family, quant, size):
    from test_ollama_default_quants import matches

    assert matches(resolve(family).model, size, 0.01) == [quant]


def test_command_r_plus_loads_its_q_k_norms_and_command_r_default_is_gqa():
    plus, r = resolve("command-r-plus").model, resolve("command-r").model
    assert plus.qk_norm and plus.n_layers == 64  # llama.cpp requires attn_q_norm/attn_k_norm at n_layer >= 64
    assert (r.n_kv_heads, r.intermediate_size) == (8, 24576)  # 08-2024 (code-index file id 55805448694)


def test_dolphin_phi_q8_0_blob():
    # dolphin-phi:2.7b-v2.6-q8_0 is 2821.01 MiB in a stored `ollama list` (code-index file id 3101891286)
    est = accuracy.file_bytes(resolve("dolphin-phi:2.7b-v2.6-q8_0").model, get_quant("Q8_0"))
    assert abs(est / (2821.01 * 2**20) - 1) < 0.002  # measured +0.007%


@pytest.mark.parametrize("kv,ok", [(8, True), (16, False), (32, False)])
def test_exaone35_7_8b_kv_heads_are_what_the_published_size_allows(kv, ok):
    # The report gives 32 layers, FFN 14336 and "7.8B"; EXAONE 3.0 7.8B's GGUF header hidden 4096, 32 heads. The KV-head
    # count was not read: only 8 rounds to 7.8 B (and only 8 puts a candidate within 1% of the library's 4.8 GB).
    from test_ollama_default_quants import matches

    m = replace(resolve("exaone3.5").model, n_kv_heads=kv)
    assert (round(count_params(m) / 1e9, 1) == 7.8) is ok
    assert (matches(m, "4.8 GB", 0.01) == ["Q4_K_M"]) is ok
