"""The fixed decode time per layer scales with the layer's graph nodes on ROCm and Vulkan for MoE and hybrid models
(estimate/layer_nodes.py, data/speed.yaml decode_layer_nodes; docs/methodology.md 5c-s17)."""
from __future__ import annotations

from unittest import mock

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import speed_factors
from selfhost_advisor.estimate.layer_nodes import graph_nodes, node_ratio
from selfhost_advisor.estimate.speed import estimate_speed
from selfhost_advisor.record import replace


def _rule() -> dict:
    return speed_factors._speed_data()["decode_layer_nodes"]


def test_a_dense_layer_is_the_fitted_22_and_a_moe_layer_adds_its_routing_and_expert_sum():
    r = _rule()
    assert r["attention"] + r["dense_ffn"] == r["dense_layer"] == 22
    assert graph_nodes(get("llama3.1:8b"), 0) == 22
    # Qwen3-30B-A3B: attention, then the routed FFN with 8 experts summed by 7 ADDs
    assert graph_nodes(get("qwen3:30b-a3b"), 0) == r["attention"] + r["moe_ffn"] + 7
    # gpt-oss-20b: 4 experts, 3 ADDs
    assert graph_nodes(get("gpt-oss:20b"), 0) - graph_nodes(get("qwen3:30b-a3b"), 0) == -4


def test_hybrid_layers_count_their_mixer_and_nemotron_h_blocks_one_each():
    r = _rule()
    q = get("qwen3.6:35b")  # MMM* pattern: Gated DeltaNet or attention, each with routed + shared experts
    moe = r["moe_ffn"] + q.moe.active - 1 + r["shared_expert"]
    assert q.layer_kind(0) == "M" and graph_nodes(q, 0) == r["gated_deltanet"] + moe
    assert q.layer_kind(3) == "*" and graph_nodes(q, 3) == r["attention"] + moe
    n = get("nemotron-3-nano:30b")  # Mamba-2, MoE and attention layers hold one block each
    kinds = {n.layer_kind(i): graph_nodes(n, i) for i in range(n.n_layers)}
    assert kinds["M"] == r["mamba2"] and kinds["*"] == r["attention"]
    assert kinds["E"] == r["moe_ffn"] + n.moe.active - 1 + r["shared_expert"]


def _device(spec: str, backend: str, vendor: str | None = None):
    p, k, link = parse_spec(spec)
    m = machine_from_profile(p, k, 128 * 2**30, link)
    d = replace(m.devices[0], backend=backend, **({"vendor": vendor} if vendor else {}))
    return replace(m, devices=(d,))


@pytest.mark.parametrize("backend,vendor,scaled", [("rocm", None, True), ("vulkan", None, True), ("cuda", None, False),
                                                   ("vulkan", "intel", False)])
def test_only_rocm_and_non_intel_vulkan_scale_and_only_moe_or_hybrid_models(backend, vendor, scaled):
    d = _device("rx 7900 xtx", backend, vendor).devices[0]
    qwen3 = get("qwen3:30b-a3b")
    got = node_ratio(qwen3, 0, qwen3.n_layers, d)
    assert (got > qwen3.n_layers) is scaled
    llama = get("llama3.1:8b")
    assert node_ratio(llama, 0, llama.n_layers, d) == llama.n_layers  # dense: the fitted time, whatever the backend


def _decode(model_id: str, quant: str, machine) -> float:
    model = get(model_id)
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0, per_device_layers=(model.n_layers,))
    return estimate_speed(model, get_quant(quant), pl, machine, decode_depth=0, prefill_depth=0).decode_tokens_per_s


def test_rocm_moe_decode_pays_the_fixed_time_per_node_and_dense_decode_is_unchanged():
    m = _device("rx 7900 xtx", "rocm")
    off = {**speed_factors._speed_data(), "decode_layer_nodes": {**_rule(), "families": []}}
    with_rule = _decode("qwen3:30b-a3b", "Q4_K_M", m), _decode("llama3.1:8b", "Q4_K_M", m)
    with mock.patch.object(speed_factors, "_speed_data", lambda: off):
        without = _decode("qwen3:30b-a3b", "Q4_K_M", m), _decode("llama3.1:8b", "Q4_K_M", m)
    assert with_rule[1] == pytest.approx(without[1], rel=1e-12)
    assert with_rule[0] < without[0] * 0.95  # 36 nodes a layer against the fitted 22


def test_sycl_scales_a_dense_hybrid_layer_by_its_nodes_and_leaves_moe_models_to_the_moe_term():
    """ggml-sycl submits every node as its own kernel, so a Gated DeltaNet layer pays the fitted per-layer time in
    proportion to its nodes (26 mixer + 7 FFN of the dense 22); an MoE model's routing and expert sums are
    sycl_path.moe_layer_seconds' (data/speed.yaml decode_layer_nodes.moe_apart), so on SYCL it keeps the fitted time
    (docs/methodology.md 5b-sycl12)."""
    r = _rule()
    d = _device("arc a770 16gb", "sycl").devices[0]
    q35 = get("qwen3.5:9b")  # MMM* pattern, dense FFN
    gdn = sum(1 for i in range(q35.n_layers) if q35.layer_kind(i) == "M")
    want = (gdn * (r["gated_deltanet"] + r["dense_ffn"]) + (q35.n_layers - gdn) * r["dense_layer"]) / r["dense_layer"]
    assert node_ratio(q35, 0, q35.n_layers, d) == pytest.approx(want) and want > q35.n_layers
    for moe in ("qwen3:30b-a3b", "qwen3.6:35b"):  # attention or hybrid: the MoE term's, not scaled here
        m = get(moe)
        assert node_ratio(m, 0, m.n_layers, d) == m.n_layers
    rocm = _device("rx 7900 xtx", "rocm").devices[0]  # ROCm still scales an MoE model
    assert node_ratio(get("qwen3:30b-a3b"), 0, 48, rocm) > 48
    llama = get("llama3.1:8b")
    assert node_ratio(llama, 0, llama.n_layers, d) == llama.n_layers
    # and the decode it prices: Qwen3.5 9B on an A770 slower with the rule, a dense model unchanged
    m = _device("arc a770 16gb", "sycl")
    off = {**speed_factors._speed_data(), "decode_layer_nodes": {**_rule(), "families": ["rocm", "vulkan"]}}
    with_rule = _decode("qwen3.5:9b", "Q4_K_M", m), _decode("llama3.1:8b", "Q4_K_M", m)
    with mock.patch.object(speed_factors, "_speed_data", lambda: off):
        without = _decode("qwen3.5:9b", "Q4_K_M", m), _decode("llama3.1:8b", "Q4_K_M", m)
    assert with_rule[1] == pytest.approx(without[1], rel=1e-12)
    assert with_rule[0] < without[0] * 0.97
