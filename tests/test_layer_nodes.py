"""The fixed decode time per layer scales with the layer's graph nodes on ROCm and Vulkan for MoE and hybrid models
(estimate/layer_nodes.py, data/speed.yaml decode_layer_nodes; docs/methodology.md 5c-s17)."""
from __future__ import annotations

from unittest import mock

import pytest

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Placement
from selfhost_advisor.estimate import speed_factors, sycl_path
from selfhost_advisor.estimate.layer_nodes import fa_nodes_saved, graph_nodes, node_ratio, norm_nodes_saved
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


@pytest.mark.parametrize("spec,backend,vendor,scaled", [("rx 7900 xtx", "rocm", None, True),
                                                        ("rx 7900 xtx", "vulkan", None, True),
                                                        ("rx 7900 xtx", "cuda", None, False),
                                                        ("arc pro b70", "vulkan", None, True),
                                                        ("core ultra 7 258v", "vulkan", None, False)])
def test_rocm_and_vulkan_scale_but_not_an_intel_igpu_and_only_moe_or_hybrid_models(spec, backend, vendor, scaled):
    """A discrete Intel GPU under Vulkan has no dispatch term of its own, so its MoE layers pay their nodes as AMD's
    and NVIDIA's do; an Intel iGPU's dispatches are vulkan_intel.layer_seconds' (session 34, 5b-vk34)."""
    d = _device(spec, backend, vendor).devices[0]
    qwen3 = get("qwen3:30b-a3b")
    got = node_ratio(qwen3, 0, qwen3.n_layers, d)
    assert (got > qwen3.n_layers) is scaled
    llama = get("llama3.1:8b")
    assert node_ratio(llama, 0, llama.n_layers, d) == llama.n_layers  # dense: the fitted time, whatever the backend


def _decode(model_id: str, quant: str, machine) -> float:
    model = get(model_id)
    pl = Placement("gpu", model.n_layers + 1, model.n_layers + 1, 0, 0, per_device_layers=(model.n_layers,))
    return estimate_speed(model, get_quant(quant), pl, machine, decode_depth=0, prefill_depth=0).decode_tokens_per_s


def _with_and_without(model_id: str, machine, families: list[str]) -> tuple[tuple[float, float], tuple[float, float]]:
    """((model_id, Llama 3.1 8B) Q4_K_M decode with the shipped node rule, the same with decode_layer_nodes.families
    set to `families` (the machine's family left out))."""
    off = {**speed_factors._speed_data(), "decode_layer_nodes": {**_rule(), "families": families}}
    with_rule = _decode(model_id, "Q4_K_M", machine), _decode("llama3.1:8b", "Q4_K_M", machine)
    with mock.patch.object(speed_factors, "_speed_data", lambda: off):
        without = _decode(model_id, "Q4_K_M", machine), _decode("llama3.1:8b", "Q4_K_M", machine)
    return with_rule, without


def test_rocm_moe_decode_pays_the_fixed_time_per_node_and_dense_decode_is_unchanged():
    with_rule, without = _with_and_without("qwen3:30b-a3b", _device("rx 7900 xtx", "rocm"), [])
    assert with_rule[1] == pytest.approx(without[1], rel=1e-12)
    assert with_rule[0] < without[0] * 0.95  # 36 nodes a layer against the fitted 22


def test_a_discrete_intel_gpu_under_vulkan_pays_its_moe_nodes_and_its_dense_decode_is_unchanged():
    """Session 34 (5b-vk34): the Arc Pro B70 under Vulkan had neither the node count nor the iGPU dispatch term, so an
    MoE layer paid a dense layer's fixed time; with the count its Qwen3-30B-A3B decode is slower, Llama 3.1 8B's not."""
    with_rule, without = _with_and_without("qwen3:30b-a3b", _device("arc pro b70", "vulkan"), ["rocm", "sycl"])
    assert with_rule[1] == pytest.approx(without[1], rel=1e-12)
    assert with_rule[0] < without[0] * 0.99


def test_sycl_scales_a_dense_hybrid_layer_by_its_nodes_and_leaves_moe_models_to_the_moe_term():
    """ggml-sycl submits every node as its own kernel, so a Gated DeltaNet layer pays the fitted per-layer time in
    proportion to its nodes (26 mixer + 7 FFN of the dense 22); an MoE model's routing and expert sums are
    sycl_path.moe_layer_seconds' (data/speed.yaml decode_layer_nodes.moe_apart), so on SYCL it keeps the fitted time
    (docs/methodology.md 5b-sycl12)."""
    # a build before flash attention on SYCL (PR #20190, 2026-03-08): the fitted 22-node layer, nothing taken off
    with sycl_path.assume_build("master of 2026-02-26"):
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
        with_rule, without = _with_and_without("qwen3.5:9b", _device("arc a770 16gb", "sycl"), ["rocm", "vulkan"])
        assert with_rule[1] == pytest.approx(without[1], rel=1e-12)
        assert with_rule[0] < without[0] * 0.97


def test_sycl_flash_attention_takes_kq_softmax_kqv_and_the_copy_off_each_attention_layer():
    """From llama.cpp PR #20190 (ggml 38a8d9b6, 2026-03-08) ggml-sycl runs FLASH_ATTN_EXT, which a stated -fa 1 (or
    llama-bench's FA-auto default from 2026-05-30) takes: one node where attention without it is KQ, SOFT_MAX, KQV and CONT (data/cpu_sync.yaml's 22-node layer is
    the one without), so a dense layer pays 19 / 22 of the per-layer time fitted on 2025 builds; not at a build that
    states -fa 0 or predates the PR, not on ROCm / Vulkan, and not for a model with a head size ggml-sycl's kernel
    table lacks (Gemma 4's 512-wide full-attention layers before PR #21654, 2026-04-09: flash attention stays off)."""
    r = _rule()
    d = _device("arc pro b70", "sycl").devices[0]
    llama = get("llama3.1:8b")
    with sycl_path.assume_build("b9039 (2026-05-06), -fa 1"):
        assert fa_nodes_saved(llama, d) == r["flash_attention"]["saves"] == 3
        assert node_ratio(llama, 0, 32, d) == pytest.approx(32 * 19 / 22)
        q35 = get("qwen3.5:9b")  # only its attention layers change
        gdn = sum(1 for i in range(q35.n_layers) if q35.layer_kind(i) == "M")
        assert node_ratio(q35, 0, q35.n_layers, d) == pytest.approx(
            (gdn * (r["gated_deltanet"] + r["dense_ffn"]) + (q35.n_layers - gdn) * 19) / 22)
        moe = get("qwen3:30b-a3b")  # an MoE model keeps the fitted time but for its attention's nodes
        assert node_ratio(moe, 0, moe.n_layers, d) == pytest.approx(moe.n_layers * (1 - 3 / 22))
        assert node_ratio(llama, 0, 32, _device("rx 7900 xtx", "rocm").devices[0]) == 32
    # -fa 0 stated, a build before the PR, and an unstated llama-bench build before the tool's FA-auto default (PR #23714,
    # 2026-05-30): llama-bench's own -fa 0 default
    for build in ("b9039 (2026-05-06), -fa 0", "master of 2026-02-26", "b9039 (2026-05-06)"):
        with sycl_path.assume_build(build):
            assert fa_nodes_saved(llama, d) == 0 and node_ratio(llama, 0, 32, d) == 32
    gemma = get("gemma4:31b")
    assert gemma.global_head_dim == 512
    with sycl_path.assume_build("master of 2026-04-01, -fa 1"):
        assert not sycl_path.fa_decode(gemma) and sycl_path.fa_decode(llama)
    with sycl_path.assume_build("b8833 (2026-04-18), -fa 1"):
        assert sycl_path.fa_decode(gemma)
    m = _device("arc pro b70", "sycl")
    with sycl_path.assume_build("b9039 (2026-05-06), -fa 1"):
        fa = _decode("llama3.1:8b", "Q4_K_M", m)
    with sycl_path.assume_build("b9039 (2026-05-06), -fa 0"):
        no_fa = _decode("llama3.1:8b", "Q4_K_M", m)
    layer_s = speed_factors.efficiency("sycl").layer_cycles / 2.8e9  # the B70's 2.8 GHz
    assert 1 / no_fa - 1 / fa == pytest.approx(32 * 3 / 22 * layer_s, rel=0.02)


def test_sycl_runs_each_pre_norm_and_its_weight_mul_as_one_kernel_from_pr_26015():
    """ggml-sycl fuses RMS_NORM with the MUL by its weight (llama.cpp PR #26015, ggml 2413b700, 2026-07-30): one kernel
    fewer per pre-normed block, so a dense llama layer at a build with flash attention and the fusion runs 17 of the
    fitted 22; a Gated DeltaNet layer 26 + 7 - 2; Nemotron-H's one-block layers 1 fewer; not before the PR, not on
    ROCm / Vulkan (their graphs are not fused this way in the node count)."""
    r = _rule()
    d = _device("arc pro b70", "sycl").devices[0]
    llama, q35, nem = get("llama3.1:8b"), get("qwen3.5:9b"), get("nemotron-3-nano:30b")
    with sycl_path.assume_build("master of 2026-08-01"):
        assert norm_nodes_saved(d) == r["norm_mul_fused"]["saves_per_block"] == 1
        assert node_ratio(llama, 0, 32, d) == pytest.approx(32 * 17 / 22)
        gdn = sum(1 for i in range(q35.n_layers) if q35.layer_kind(i) == "M")
        assert node_ratio(q35, 0, q35.n_layers, d) == pytest.approx(
            (gdn * (r["gated_deltanet"] + r["dense_ffn"] - 2) + (q35.n_layers - gdn) * 17) / 22)
        assert norm_nodes_saved(_device("rx 7900 xtx", "rocm").devices[0]) == 0
        # Nemotron-3-Nano (MoE, one block a layer): the MoE term's fitted time less 1/22 a layer, 3 more where it attends
        attending = sum(1 for i in range(nem.n_layers) if nem.has_attention(i))
        assert node_ratio(nem, 0, nem.n_layers, d) == pytest.approx(nem.n_layers - (nem.n_layers + 3 * attending) / 22)
    with sycl_path.assume_build("master of 2026-07-28"):
        assert norm_nodes_saved(d) == 0 and node_ratio(llama, 0, 32, d) == pytest.approx(32 * 19 / 22)


def test_sycl_flash_attention_needs_every_head_size_in_the_kernel_table():
    """ggml_sycl_get_best_fattn_kernel (src/ggml-sycl/fattn.cpp) takes K heads of 40-256 with V alike, 512 from PR
    #21654 and MLA's absorbed 576 / 512; any other size returns NONE, llama.cpp's automatic setting then keeps KQ,
    softmax, KQV and the copy, and the layer keeps all 22 nodes' time (data/speed.yaml sycl_paths.fa_decode)."""
    d = _device("arc pro b70", "sycl").devices[0]
    with sycl_path.assume_build("b9039 (2026-05-06), -fa 1"):
        glm = get("glm-4.7-flash:30b")  # MLA: kv_lora_rank 512 + rope 64 = 576, V 512
        assert glm.mla is not None and sycl_path.fa_decode(glm) and fa_nodes_saved(glm, d) == 3
        orca = get("orca-mini:3b")  # head size 100: not in the table
        assert orca.head_dim == 100 and not sycl_path.fa_decode(orca) and fa_nodes_saved(orca, d) == 0
        assert node_ratio(orca, 0, orca.n_layers, d) == orca.n_layers
        mimo = get("mimo-v2-flash:309b")  # K 192 / V 128: not in the table
        assert (mimo.head_dim, mimo.v_head_dim) == (192, 128) and not sycl_path.fa_decode(mimo)


def test_a_fused_gate_up_expert_tensor_is_one_mul_mat_id_in_every_node_count():
    """Gemma 4's GGUFs hold gate and up experts as one ffn_gate_up_exps tensor (gemma4.cpp; estimate/tensors_ffn.py):
    llama-graph.cpp build_moe_ffn runs one MUL_MAT_ID for both and takes gate and up as two views of its output, so
    its MoE layer has one graph node fewer than the routed FFN's three MUL_MAT_ID (Vulkan decode), two CPU barriers
    fewer (the node and its inner one) and one CUDA graphs-off launch fewer; a model with separate gate and up tensors
    (Qwen3) keeps the three. Checked against the same model with the fused test patched off. On ggml-cuda (ROCm, CUDA
    decode) the count keeps three: its GEMV fusion (PR #16715) runs split gate, up and GLU as one kernel already."""
    from selfhost_advisor.estimate import cpu_sync, moe_graphs, tensors

    g4, qwen = get("gemma4:26b"), get("qwen3:30b-a3b")
    assert tensors.fused_gate_up_experts(g4) and not tensors.fused_gate_up_experts(qwen)
    layer = next(i for i in range(g4.n_layers) if g4.is_moe_layer(i))
    fused = (graph_nodes(g4, layer, "vulkan"), cpu_sync.moe_extra_barriers(g4, layer), moe_graphs.layer_nodes(g4, layer))
    with mock.patch.object(tensors, "fused_gate_up_experts", lambda model: False), \
            mock.patch("selfhost_advisor.estimate.layer_nodes.fused_gate_up_experts", lambda model: False):
        split = (graph_nodes(g4, layer, "vulkan"), cpu_sync.moe_extra_barriers(g4, layer),
                 moe_graphs.layer_nodes(g4, layer))
    assert (split[0] - fused[0], split[1] - fused[1], split[2] - fused[2]) == (1, 2, 1)
    assert graph_nodes(g4, layer, "rocm") == graph_nodes(g4, layer, "cuda") == split[0]
    assert graph_nodes(qwen, 0, "vulkan") == graph_nodes(qwen, 0, "rocm")
    # the unfused count is the routed FFN's, plus Gemma 4's dense FFN beside the experts
    r = _rule()
    assert split[0] == r["attention"] + r["moe_ffn"] + g4.moe.active - 1 + r["dense_ffn"]


def test_an_mla_attention_block_counts_the_absorbed_paths_nodes_and_a_q_lora_model_three_more():
    """llm_build_deepseek2 (is_mla) runs, for one token, more compute nodes than a llama attention block: the latent
    kv norm, wk_b (absorbed q_nope), two CONCATs and wv_b (value decompression), against one V cache write fewer; a
    q_lora model (GLM-4.7-Flash) runs wq_a, its norm and wq_b where DeepSeek-V2-Lite runs wq (session 30, 5c-s30v)."""
    r = _rule()
    lite, glm, qwen = get("deepseek-v2:16b"), get("glm-4.7-flash:30b"), get("qwen3:30b-a3b")
    assert lite.mla is not None and lite.mla.q_lora_rank is None and glm.mla.q_lora_rank
    moe_lite = r["moe_ffn"] + lite.moe.active - 1 + r["shared_expert"]
    moe_glm = r["moe_ffn"] + glm.moe.active - 1 + r["shared_expert"]
    last = lite.n_layers - 1  # a MoE layer (DeepSeek-V2-Lite's first layer is dense)
    assert graph_nodes(lite, last) - moe_lite > r["attention"]
    assert graph_nodes(glm, glm.n_layers - 1) - moe_glm == graph_nodes(lite, last) - moe_lite + r["mla_q_lora"]
    assert graph_nodes(qwen, 0) == r["attention"] + r["moe_ffn"] + qwen.moe.active - 1  # no MLA: unchanged


def test_mla_moe_decode_is_slower_on_per_node_families_and_unchanged_on_cuda():
    """The extra MLA nodes cost the per-node fixed time on ROCm / Vulkan (NVIDIA and AMD), nothing on CUDA Volta+,
    which charges its fitted time per layer (block_share)."""
    plain = {**_rule(), "mla_attention": 0}
    off = {**speed_factors._speed_data(), "decode_layer_nodes": plain}
    for spec, backend in (("rtx 5090", "vulkan"), ("rx 7900 xtx", "rocm"), ("rtx 4090", "cuda")):
        m = _device(spec, backend)
        mla = _decode("glm-4.7-flash:30b", "Q4_K_M", m)
        with mock.patch.object(speed_factors, "_speed_data", lambda: off):
            without = _decode("glm-4.7-flash:30b", "Q4_K_M", m)
        if backend == "cuda":
            assert mla == pytest.approx(without, rel=1e-12)
        else:
            assert mla < without * 0.97
