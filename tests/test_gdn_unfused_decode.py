"""Before a backend got the GATED_DELTA_NET op, a decoded Gated DeltaNet layer ran llama.cpp's unfused
build_delta_net_autoregressive chain: on the per-node families (ROCm, Vulkan, SYCL) it counts the chain's extra nodes
until that family's dated PR (data/speed.yaml decode_layer_nodes.gated_deltanet_unfused; docs/methodology.md 5h-gdn34)."""
from __future__ import annotations

from selfhost_advisor.catalog.models import get
from selfhost_advisor.estimate import kernel_path, speed_factors
from selfhost_advisor.estimate.layer_nodes import graph_nodes, unfused_delta_net_nodes


def _rule() -> dict:
    return speed_factors._speed_data()["decode_layer_nodes"]["gated_deltanet_unfused"]


def test_the_unfused_chain_is_counted_only_before_each_family_got_the_op():
    since = _rule()["fused_since"]
    # the ggml-cuda op (ROCm through HIP) came before Vulkan's, Vulkan's before SYCL's
    assert since["rocm"] < since["vulkan"] < since["sycl"]
    with kernel_path.at_build("2026-03-08"):  # between the HIP and the Vulkan op
        assert unfused_delta_net_nodes("rocm") == 0
        assert unfused_delta_net_nodes("vulkan") > 0 and unfused_delta_net_nodes("sycl") > 0
    with kernel_path.at_build("2026-02-13"):
        assert all(unfused_delta_net_nodes(b) > 0 for b in ("rocm", "vulkan", "sycl"))
        assert unfused_delta_net_nodes("cuda") == unfused_delta_net_nodes("metal") == 0
    assert all(unfused_delta_net_nodes(b) == 0 for b in ("rocm", "vulkan", "sycl"))  # today's build


def test_only_delta_net_layers_of_qwen_next_models_gain_nodes():
    q, n = get("qwen3.6:35b"), get("nemotron-3-nano:30b")
    with kernel_path.at_build("2026-02-13"):
        old_m, old_a = graph_nodes(q, 0, "vulkan"), graph_nodes(q, 3, "vulkan")
        old_n = [graph_nodes(n, i, "vulkan") for i in range(n.n_layers)]
    assert old_m - graph_nodes(q, 0, "vulkan") == _rule()["extra"] == 12 - 1  # 12 nodes in place of the fused 1
    assert old_a == graph_nodes(q, 3, "vulkan")  # attention layers keep their count
    assert old_n == [graph_nodes(n, i, "vulkan") for i in range(n.n_layers)]  # Mamba-2 runs SSM_SCAN at every build
