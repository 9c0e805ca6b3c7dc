"""Residual blocks per step (estimate/serving/collectives.py residual_blocks): each ends in one all-reduce under tensor
parallelism and carries one norm + mixer + residual add of kernels. A transformer layer has two; a Nemotron-H layer
one (vllm/model_executor/models/nemotron_h.py: every NemotronH*DecoderLayer is norm -> one mixer, and the MoE mixer's
shared expert is built with reduce_results=False so the block reduces once)."""
from __future__ import annotations

import pytest

from selfhost_advisor.catalog.hardware import find_profile, machine_from_profile
from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate.serving.collectives import allreduce_seconds, residual_blocks
from selfhost_advisor.estimate.serving.step import overhead_seconds


def test_a_transformer_layer_is_two_blocks_and_a_nemotron_h_layer_one():
    llama, nano = get("llama3.1:8b"), get("nemotron-3-nano:30b")
    assert residual_blocks(llama) == 2 * llama.n_layers == 64
    # 52 layers, MEMEM*EMEMEM*...: 23 Mamba-2, 23 MoE, 6 attention blocks, one each
    assert residual_blocks(nano) == nano.n_layers == 52 == len(nano.layer_pattern)
    assert residual_blocks(get("nemotron-nano:9b-v2")) == get("nemotron-nano:9b-v2").n_layers


def test_the_fitted_layer_overhead_is_two_blocks_of_a_llama_layer():
    # data/serving.yaml layer_overhead_us was fitted per Llama layer: a Llama step's overhead is unchanged
    from selfhost_advisor.estimate.serving.step import serving_data

    per_layer = float(serving_data()["vllm"]["layer_overhead_us"]) * 1e-6
    llama, nano = get("llama3.1:8b"), get("nemotron-3-nano:30b")
    assert overhead_seconds(llama, 1) == pytest.approx(llama.n_layers * per_layer)
    # one residual block a layer, plus its 23 MoE blocks' 6 kernels outside fused_moe against the 5 charged
    # (estimate/serving/kernels.py moe_extra_kernels)
    from selfhost_advisor.estimate.serving.kernels import kernel_us

    assert overhead_seconds(nano, 1) == pytest.approx(nano.n_layers * per_layer / 2 + 23 * kernel_us() * 1e-6)


def test_one_all_reduce_per_nemotron_h_layer():
    b200x2 = machine_from_profile(find_profile("b200"), 2)
    llama, nano = get("llama3.1:8b"), get("nemotron-3-nano:30b")
    one_llama = allreduce_seconds(llama, b200x2, 2, 1) / (2 * llama.n_layers)
    one_nano = allreduce_seconds(nano, b200x2, 2, 1) / nano.n_layers
    # the same 1-token message size class (custom all-reduce's small-message latency) on the same link
    assert one_nano == pytest.approx(one_llama, rel=0.05)
    assert allreduce_seconds(nano, b200x2, 1, 1) == 0.0


def test_a_deci_layer_runs_only_the_blocks_it_has():
    # Nemotron Super 49B: 80 layers, 49 with attention (31 no-op attention blocks), every one with an FFN
    m = get("nemotron-super:49b")
    kinds = [m.layer_kind(i) for i in range(m.n_layers)]
    assert kinds.count("*") == 49 and all(m.layer_intermediate_size(i) > 0 for i in range(m.n_layers))
    assert residual_blocks(m) == 49 + 80
