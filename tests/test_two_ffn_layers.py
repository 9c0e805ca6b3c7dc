"""A Gemma 4 MoE layer holds two feed-forward blocks (llama.cpp llm_build_gemma4_iswa, src/models/gemma4-iswa.cpp: in
each layer with ffn_gate_inp the dense GeGLU MLP, "MLP (shared exp)", with ffn_norm / ffn_post_norm_1, AND the routed
experts with ffn_pre_norm_2 / the router / ffn_post_norm_2, added together); where the fitted decode time is charged
per layer, not per node (CUDA Volta and later), it pays one dense feed-forward's share on top of its layer
(layer_nodes.two_ffn_share; data/speed.yaml decode_layer_nodes; docs/methodology.md 5c-s29g)."""
from __future__ import annotations

from unittest import mock

import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate import layer_nodes, speed_factors
from selfhost_advisor.estimate.layer_nodes import graph_nodes, node_ratio, two_ffn_share

from layerkit import gpu_decode as _decode, machine as _machine


def test_every_gemma4_moe_layer_pays_one_dense_feed_forward_more_and_no_other_layer_does():
    r = speed_factors._speed_data()["decode_layer_nodes"]
    moe = get("gemma4:26b")
    assert all(moe.is_moe_layer(i) for i in range(moe.n_layers))  # every layer of the 26B-A4B has the router
    extra = r["dense_ffn"] / r["dense_layer"]
    assert all(two_ffn_share(moe, i) == pytest.approx(1.0 + extra) for i in range(moe.n_layers))
    assert 1.2 < 1.0 + extra < 1.5  # a feed-forward block is the smaller part of a layer
    # the dense Gemma 4 and other MoE models (a shared expert included) keep one layer's time
    for model_id in ("gemma4:31b", "qwen3:30b-a3b", "qwen3.6:35b", "llama3.1:8b"):
        m = get(model_id)
        assert all(two_ffn_share(m, i) == 1.0 for i in range(m.n_layers))


def test_cuda_volta_and_later_charges_the_gemma4_moe_layers_and_nothing_else_moves():
    d = _machine("rtx 3090").devices[0]
    moe = get("gemma4:26b")
    got = node_ratio(moe, 0, moe.n_layers, d)
    assert got == pytest.approx(sum(two_ffn_share(moe, i) for i in range(moe.n_layers)))
    assert moe.n_layers < got < 1.5 * moe.n_layers
    for model_id in ("gemma4:31b", "qwen3:30b-a3b", "qwen3-coder:30b", "llama3.1:8b"):
        m = get(model_id)
        assert node_ratio(m, 0, m.n_layers, d) == m.n_layers
    half = moe.n_layers // 2  # a split over GPUs: each part pays its own layers
    assert node_ratio(moe, 0, half, d) + node_ratio(moe, half, moe.n_layers - half, d) == pytest.approx(got)


def test_per_node_families_and_sycl_are_unchanged():
    moe = get("gemma4:26b")
    # ROCm: graph_nodes already adds the dense feed-forward's nodes to a Gemma 4 MoE layer
    rocm = _machine("rx 7900 xtx", "rocm").devices[0]
    assert node_ratio(moe, 0, moe.n_layers, rocm) == pytest.approx(
        sum(graph_nodes(moe, i, "rocm") for i in range(moe.n_layers)) / 22)
    # SYCL's MoE models keep a full layer each (not listed in one_block_layers; sycl_path prices their extras)
    sycl = _machine("arc pro b70", "sycl").devices[0]
    with mock.patch.object(layer_nodes, "two_ffn_share", side_effect=AssertionError("not on SYCL")):
        node_ratio(moe, 0, moe.n_layers, sycl)


def test_a_gemma4_moe_decode_on_cuda_is_slower_than_at_one_layer_each_and_the_dense_31b_is_untouched():
    m = _machine("rtx 3090")
    shipped = _decode("gemma4:26b", "Q4_K_M", m)
    with mock.patch.object(layer_nodes, "two_ffn_share", lambda model, layer: 1.0):
        one_layer = _decode("gemma4:26b", "Q4_K_M", m)
    assert shipped < one_layer
    # the added time is 30 layers x 7/22 of the fitted per-layer time: well under a tenth of a millisecond a layer
    added_s = 1 / shipped - 1 / one_layer
    assert 0 < added_s / 30 < 1e-4
    dense = _decode("gemma4:31b", "Q4_K_M", m)
    with mock.patch.object(layer_nodes, "two_ffn_share", lambda model, layer: 1.0):
        assert _decode("gemma4:31b", "Q4_K_M", m) == dense
