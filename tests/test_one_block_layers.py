"""A Nemotron-H layer holds ONE block (llama.cpp llm_build_nemotron_h: a pre-norm, one of Mamba-2 / attention / MLP or
MoE, the residual add); where the fitted decode time is charged per layer, not per node (CUDA Volta and later), such a
layer pays its block's share of it (layer_nodes.one_block_share, data/speed.yaml decode_layer_nodes.one_block_layers;
docs/methodology.md 5c-s28c)."""
from __future__ import annotations

from unittest import mock

import pytest

from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate import layer_nodes, speed_factors
from selfhost_advisor.estimate.layer_nodes import graph_nodes, node_ratio, one_block_share

from layerkit import gpu_decode as _decode, machine as _machine


def test_every_nemotron_h_layer_is_one_block_and_pays_less_than_a_dense_layer():
    r = speed_factors._speed_data()["decode_layer_nodes"]
    for model_id in ("nemotron-3-nano:30b", "nemotron-nano:9b-v2"):
        m = get(model_id)
        shares = {m.layer_kind(i): one_block_share(m, i) for i in range(m.n_layers)}
        assert len(shares) == 3 and all(0 < s < 1 for s in shares.values())
        # a mixer's share follows its own nodes; a feed-forward layer, MoE or MLP, pays the dense feed-forward's part
        assert shares["M"] == graph_nodes(m, [i for i in range(m.n_layers) if m.layer_kind(i) == "M"][0]) / 22
        ffn = [k for k in shares if k not in "M*"][0]
        assert shares[ffn] == r["dense_ffn"] / r["dense_layer"] < shares["*"] < shares["M"]
    # layers of two blocks keep the fitted time: dense, MoE and delta-net hybrids alike
    for model_id in ("llama3.1:8b", "qwen3:30b-a3b", "qwen3.6:35b"):
        m = get(model_id)
        assert all(one_block_share(m, i) == 1.0 for i in range(m.n_layers))


def test_cuda_volta_and_later_charges_one_block_layers_their_share_and_nothing_else_moves():
    d = _machine("rtx 5090").devices[0]
    nano = get("nemotron-3-nano:30b")
    got = node_ratio(nano, 0, nano.n_layers, d)
    assert got == pytest.approx(sum(one_block_share(nano, i) for i in range(nano.n_layers)))
    assert 0.4 * nano.n_layers < got < 0.8 * nano.n_layers  # one block of two, a Mamba-2 block above half
    for model_id in ("llama3.1:8b", "qwen3:30b-a3b", "qwen3.6:35b"):  # the fitted time per layer, as before
        m = get(model_id)
        assert node_ratio(m, 0, m.n_layers, d) == m.n_layers
    # a part of the layers (a split over GPUs) pays its own layers' shares
    half = nano.n_layers // 2
    assert node_ratio(nano, 0, half, d) + node_ratio(nano, half, nano.n_layers - half, d) == pytest.approx(got)


def test_per_node_families_and_unlisted_ones_are_unchanged():
    nano = get("nemotron-3-nano:30b")
    # ROCm: the layer's graph nodes already (graph_nodes counts one block); the MoE layer at its MoE count
    rocm = _machine("rx 7900 xtx", "rocm").devices[0]
    assert node_ratio(nano, 0, nano.n_layers, rocm) == pytest.approx(
        sum(graph_nodes(nano, i, "rocm") for i in range(nano.n_layers)) / 22)
    # SYCL's MoE models keep a full layer each (not listed in one_block_layers)
    sycl = _machine("arc pro b70", "sycl").devices[0]
    with mock.patch.object(layer_nodes, "one_block_share", side_effect=AssertionError("not on SYCL")):
        node_ratio(nano, 0, nano.n_layers, sycl)


def test_a_nemotron_h_decode_on_cuda_is_faster_than_at_a_full_layer_each_by_the_layers_saved():
    m = _machine("rtx 5090")
    shipped = _decode("nemotron-nano:9b-v2", "Q6_K", m)
    with mock.patch.object(layer_nodes, "one_block_share", lambda model, layer: 1.0):
        full = _decode("nemotron-nano:9b-v2", "Q6_K", m)
    assert shipped > full
    # the dense model on the same card is untouched by the switch
    dense = _decode("llama3.1:8b", "Q8_0", m)
    with mock.patch.object(layer_nodes, "one_block_share", lambda model, layer: 1.0):
        assert _decode("llama3.1:8b", "Q8_0", m) == dense
