"""Ollama by release: its own layer choice (llm/memory.go, engines/ollama_estimate.py), its defaults, and vision
projectors (estimate/projector.py). Expected figures are Ollama's own log lines, each test names its source."""
from __future__ import annotations

import pytest

from selfhost_advisor.api import fit
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.engines import get_engine
from selfhost_advisor.engines.ollama_estimate import estimate, graph_size
from selfhost_advisor.estimate.projector import projector

GIB, MIB = 2**30, 2**20


def test_qwen2_72b_on_a_24gib_rocm_card_gets_the_43_layers_ollama_chose():
    # ollama/ollama#5913 (0.2.8): layers.offload=43 of 81, memory.required.full 43.1 GiB, partial 23.7 GiB,
    # kv 640.0 MiB, graph full 313.0 MiB / partial 1.3 GiB (dolphin-qwen2:72b q4_k_s, --ctx-size 2048)
    e = estimate(get("qwen2.5:72b"), get_quant("Q4_K_S"), [(24 * GIB, "rocm")], num_ctx=2048, version="0.2.8")
    assert (e.layers, e.total_layers) == (43, 81)
    assert e.kv_bytes == 640 * MIB
    assert abs(e.graph_full_bytes / MIB - 313.0) < 0.05 and abs(e.graph_partial_bytes / GIB - 1.3) < 0.05
    assert abs(e.full_bytes / GIB - 43.1) < 0.05 * 43.1


def test_gemma3_sliding_window_kv_in_the_estimate_since_0_6_3():
    # 0.6.0 sized every layer at the whole context (issue #9685: kv 992.0 MiB for gemma3:27b at 2048); from 0.6.3 the
    # sliding layers hold parallel x 1024 + batch cells (PR #12000, 0.11.6: 992.0 MiB for gemma3:12b at 8192)
    m = get("gemma3:27b")
    old, _, _ = graph_size(m, 2048, 512, 1, "f16", False, version="0.6.0")
    assert sum(old) == 992 * MIB
    new, _, _ = graph_size(get("gemma3:12b"), 8192, 512, 1, "f16", False, version="0.11.6")
    assert sum(new) == 992 * MIB


def test_more_free_vram_never_offloads_fewer_layers():
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    counts = [estimate(m, q, [(int(g * GIB), "cuda")], num_ctx=8192, version="0.9.0").layers for g in range(1, 12)]
    assert counts == sorted(counts) and counts[0] == 0 and counts[-1] == 33


def test_quantized_kv_counts_only_with_flash_attention():
    # llm/memory.go: OLLAMA_KV_CACHE_TYPE applies only when flash attention is on
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    dev = [(24 * GIB, "cuda")]
    f16 = estimate(m, q, dev, num_ctx=8192, kv_type="q8_0", flash_attention=False).kv_bytes
    q8 = estimate(m, q, dev, num_ctx=8192, kv_type="q8_0", flash_attention=True).kv_bytes
    assert q8 * 2 == f16


@pytest.mark.parametrize("version,rule,ctx", [
    ("0.2.8", "estimate", 2048), ("0.6.5", "estimate", 2048), ("0.6.7", "estimate", 4096), ("0.11.10", "estimate", 4096),
    ("0.11.11", "layout", 4096), ("0.15.4", "layout", 4096), ("0.15.5", "layout", 32768), ("0.33.0", "llama_server", 32768),
])
def test_release_rules_and_default_context_on_a_24gb_card(version, rule, ctx):
    r = fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine="ollama", engine_version=version)
    assert r.request.context == ctx  # rtx4090: 24 GiB total, in the 32k tier from 0.15.5 (server/routes.go)
    assert r.assumptions["memory_rule"] == rule and r.assumptions["engine_version"] == version


def test_vram_tiers_cap_at_the_trained_context():
    assert fit("llama3.1:8b", "rtx-3060-12gb", quant="Q4_K_M", engine="ollama").request.context == 4096
    big = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama")
    assert big.request.context == min(262144, get("llama3.1:8b").max_context)


def test_flash_attention_default_follows_the_release():
    assert not fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine="ollama", engine_version="0.9.0").request.flash_attention
    assert fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine="ollama", engine_version="0.12.4").request.flash_attention


def test_fit_says_how_many_layers_ollama_puts_on_the_gpu():
    # 8 GiB card, 70B: a partial offload; the note states Ollama's own count, as its log would
    r = fit("llama3.1:70b", "rtx-3060-12gb", quant="Q4_K_M", engine="ollama", engine_version="0.9.0", ram="128GB")
    opt = r.options[0]
    assert opt.placement.fit == "partial" and 0 < opt.placement.gpu_layers < 81
    assert f"puts {opt.placement.gpu_layers} of 81 layers on the GPU" in opt.placement.note


def test_gemma3_projector_is_the_logged_795_9_mib_and_1_0_gib_graph():
    # ollama/ollama PR #12000 and issue #11819: projector.weights="795.9 MiB" projector.graph="1.0 GiB"
    p = projector(get("gemma3:12b"), mmproj_file=False)
    assert round(p.weights_bytes / MIB, 1) == 795.9 and round(p.graph_bytes / GIB, 1) == 1.0
    assert projector(get("gemma3:1b"), mmproj_file=False) is None  # text-only


def test_images_add_the_projector_on_gpu_only_for_vision_models():
    # llama-server loads the projector only with --mmproj (--images); Ollama loads it with the model, images or not
    # (server/sched.go passes ProjectorPaths to every runner; llm/memory.go v0.11.10 adds it unconditionally)
    text = fit("gemma3:12b", "rtx4090", quant="Q4_K_M", engine="llamacpp", context=8192).options[0]
    img = fit("gemma3:12b", "rtx4090", quant="Q4_K_M", engine="llamacpp", context=8192, images=True).options[0]
    assert text.memory.projector_bytes == 0 and img.memory.projector_bytes > 800 * MIB
    assert img.memory.total_bytes > text.memory.total_bytes
    text = fit("gemma3:12b", "rtx4090", quant="Q4_K_M", engine="ollama", context=8192).options[0]
    img = fit("gemma3:12b", "rtx4090", quant="Q4_K_M", engine="ollama", context=8192, images=True).options[0]
    assert text.memory.projector_bytes == img.memory.projector_bytes > 800 * MIB
    plain = fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", images=True)
    assert plain.options[0].memory.projector_bytes == 0
    assert any(w.startswith("--images: nothing added") for w in plain.warnings)


def test_llamacpp_command_loads_the_projector_when_images_are_used():
    opt = fit("gemma3:12b", "rtx4090", quant="Q4_K_M", images=True).options[0]
    assert "--mmproj" in opt.command


def test_engine_version_is_ollamas_alone():
    from selfhost_advisor.errors import BadOptionError

    with pytest.raises(BadOptionError):
        fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine_version="0.6.5")
    with pytest.raises(BadOptionError):
        get_engine("ollama").release("0.0.1")


def test_logged_weights_follow_each_releases_definition():
    # llm/memory.go before v0.6.1 logged memory.weights.total as every block with its KV (issue #8098, 0.5.x:
    # llama3.2:3b at 2048 x 4 slots logs 2.4 GiB with a 896 MiB KV); since, the blocks plus the output layer
    m, q = get("llama3.2:3b"), get_quant("Q4_K_M")
    old = estimate(m, q, [(78 * GIB, "cuda")], num_ctx=2048, n_parallel=4, version="0.5.1")
    new = estimate(m, q, [(78 * GIB, "cuda")], num_ctx=2048, n_parallel=4, version="0.9.0")
    assert old.weights_logged_bytes == old.weights_repeating_bytes + old.kv_bytes
    assert new.weights_logged_bytes == new.weights_repeating_bytes + new.weights_nonrepeating_bytes
    assert abs(old.weights_logged_bytes / GIB - 2.4) < 0.05 * 2.4


def test_four_gpus_get_ollamas_round_robin_split():
    # ollama/ollama#9181 (0.5.11): a 70B Q8_0 at 64000 tokens on four 22 GiB GPUs: layers.offload=44,
    # layers.split=11,11,11,11, memory.required.allocations 21.8 GiB each (memory.go: layer i goes to GPU i % n)
    e = estimate(get("llama3.3:70b"), get_quant("Q8_0"), [(22 * GIB, "cuda")] * 4, num_ctx=64000,
                 flash_attention=True, version="0.5.11")
    assert e.layers == 44 and e.split == (11, 11, 11, 11)
    assert all(round(a / GIB, 1) == 21.8 for a in e.allocations)


def test_before_0_7_overflow_counts_every_block_at_the_last_blocks_size():
    # llm/memory.go before commit 0478d440f (v0.7.0): blocks placed first-to-last, and those that did not fit
    # overflowed as (blocks left) x the last block's size; Q4_K_M's last blocks are the larger ones (more Q6_K),
    # so with no GPU room the old estimate is the larger (issue #8735, 0.5.7: 4.4 GiB logged)
    m, q = get("deepseek-r1:7b"), get_quant("Q4_K_M")
    none = [(0, "rocm")] * 4
    old = estimate(m, q, none, num_ctx=2048, version="0.5.7").full_bytes
    new = estimate(m, q, none, num_ctx=2048, version="0.7.0").full_bytes
    assert old > new and abs(old / GIB - 4.4) < 0.05 * 4.4


def test_llama_full_graph_has_a_logits_term_from_0_3_10():
    # calibration/kv_and_runtime_memory.csv: a 2024-07 Ollama logged memory.graph.full=164.0 MiB for llama3 8B at
    # 2048 tokens: 4 x 512 x (1 + 4 x 4096 + 2048 x 33) B, no 4 x 512 x (4096 + 128256) logits term yet
    m = get("llama3:8b")
    _, _, full_old = graph_size(m, 2048, 512, 1, "f16", False, version="0.2.8")
    _, _, full_new = graph_size(m, 2048, 512, 1, "f16", False, version="0.3.10")
    assert round(full_old / MIB, 1) == 164.0 and full_new == 4 * 512 * (4096 + 128256)


def test_mistral_small_pixtral_projector_is_the_logged_769_3_mib_and_8_8_gib_graph():
    # ollama/ollama#10417 (0.6.6): projector.weights="769.3 MiB" projector.graph="8.8 GiB" for mistral-small3.1
    # (Pixtral: 24 layers, width 1024, SwiGLU 4096, no biases, 1540 px / 14 px patches)
    p = projector(get("mistral-small3.1:24b"), mmproj_file=False)
    assert round(p.weights_bytes / MIB, 1) == 769.3 and round(p.graph_bytes / GIB, 1) == 8.8
    # Ollama's GGUF of it is arch mistral3, whose GraphSize has no formula: GQA x KV / 6 (memory.graph 426.7 MiB)
    e = estimate(get("mistral-small3.1:24b"), get_quant("Q4_K_M"), [(24 * GIB, "cuda")], num_ctx=4096, version="0.6.6")
    assert round(e.graph_partial_bytes / MIB, 1) == 426.7


def test_gpu_reserve_by_release():
    # layout releases keep Ollama's 457 MiB minimum per GPU (ml/device.go MinimumMemory); llama-server releases keep
    # --fit's 1 GiB, or with images ceil(mmproj + 1 GiB) MiB of which the projector then uses its weights and graph
    from selfhost_advisor.domain import FitRequest

    eng, m = get_engine("ollama"), get("gemma3:12b")
    assert eng.gpu_margin_bytes(m, FitRequest(context=4096, engine="ollama", engine_version="0.13.0")) == 457 * MIB
    text_only = get("llama3.1:8b")  # no projector: --fit's 1 GiB
    assert eng.gpu_margin_bytes(text_only, FitRequest(context=4096, engine="ollama", engine_version="0.30.0")) == GIB
    # a vision model's projector is loaded with the model, images or not (engines/ollama.py _projector)
    req = FitRequest(context=4096, engine="ollama", engine_version="0.30.0")
    p = projector(m, mmproj_file=True, flash_attention=req.flash_attention)  # llama-server's clip, FA as the text model
    target = -(-(p.weights_bytes + GIB) // MIB) * MIB
    assert eng.gpu_margin_bytes(m, req) + eng.projector_bytes(m, req) == max(target, p.weights_bytes + p.graph_bytes)


def test_ollama_runs_a_vision_model_with_at_least_2048_context():
    # server/sched.go getRunner (0.11.5+): "multimodal models require at least 2048 context"; text models keep theirs
    small = fit("llava:7b", "rtx4090", quant="Q4_0", engine="ollama", context=1024)
    assert small.request.context == 2048
    assert any("multimodal models require at least 2048 context" in w for w in small.warnings)
    assert fit("llama3.1:8b", "rtx4090", quant="Q4_0", engine="ollama", context=1024).request.context == 1024
    assert fit("llava:7b", "rtx4090", quant="Q4_0", engine="ollama", context=1024,
               engine_version="0.11.4").request.context == 1024
    assert fit("llava:7b", "rtx4090", quant="Q4_0", engine="llamacpp", context=1024).request.context == 1024
