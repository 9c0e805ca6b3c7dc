"""Ollama 0.30+: the -b/-ub it passes to llama-server and the one-GPU choice (engines/ollama_launch.py), and
llama-server's stream-per-slot KV (estimate/memory.py kv_cells). Each expected value cites the source rule it follows
(ollama/ollama server/sched.go at v0.33.0-rc2; llama.cpp src/llama-context.cpp, src/llama-kv-cache-iswa.cpp)."""
from __future__ import annotations

from selfhost_advisor.api import fit
from selfhost_advisor.catalog.models import get
from selfhost_advisor.catalog.quants import get_quant
from selfhost_advisor.domain import Device, FitRequest, Machine
from selfhost_advisor.engines.ollama_launch import auto_batch, launch, predicted_vram
from selfhost_advisor.estimate.memory import compute_buffer_bytes, kv_cache_bytes, kv_cells

GIB, MIB = 2**30, 2**20
CPU = Machine("cpu", (), 64 * GIB)


def _req(ctx: int, parallel: int = 1, fa: bool = True, version: str = "") -> FitRequest:
    return FitRequest(context=ctx, engine="ollama", n_parallel=parallel, flash_attention=fa, engine_version=version)


def _gpu(gib: float, backend: str = "cuda") -> Device:
    return Device("nvidia", "GPU", int(gib * GIB), free_memory_bytes=int(gib * GIB), backend=backend)


def test_batch_tier_follows_the_effective_context():
    # generationBatchForContext: 2048 above 32768 tokens (num_ctx x parallel), 1024 above 4096, else 512; on the CPU
    # nothing is available to check against, so every tier fits (the 0.33.2 log: -c 8192 -np 2 -> -ub 1024)
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    assert [launch(m, q, CPU, _req(c), 0)[1] for c in (4096, 4097, 32768, 32769)] == [512, 1024, 1024, 2048]
    assert launch(m, q, CPU, _req(4096, parallel=2), 0)[1] == 1024


def test_a_large_batch_needs_headroom_on_the_gpu():
    # 2048 is kept only while the prediction is <= 60% of free memory and its 2 GiB surcharge fits under 80%; 1024
    # needs <= 75% and 768 MiB; else 512 (generationBatchFits)
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    req = _req(65536)
    p = predicted_vram(m, q, 65536)
    assert auto_batch(m, req, p, int(p / 0.55), ("cuda",)) == 2048
    assert auto_batch(m, req, p, int(p / 0.70), ("cuda",)) == 1024
    assert auto_batch(m, req, p, int(p / 0.78), ("cuda",)) == 512
    # within 60% but the 2 GiB surcharge does not fit under 80% (1 GiB predicted of 3 GiB: 1.4 GiB left) -> 1024
    assert auto_batch(m, req, GIB, 3 * GIB, ("cuda",)) == 1024
    # the prediction itself: the GGUF plus an f16 KV of 2 x layers x min KV heads x (n_embd / n_head) x context
    assert p - predicted_vram(m, q, 0) == 2 * 32 * 8 * 128 * 65536 * 2


def test_flash_attention_off_on_cuda_keeps_512_or_256_on_small_cards():
    # automaticGenerationBatch / constrainedCUDAWithoutFlashAttention: 256 when the context passes 4096 tokens and a
    # CUDA GPU has at most 8 GiB; 512 otherwise; Metal and CPU are not limited
    m, q = get("llama3.1:8b"), get_quant("Q4_K_M")
    small, big = Machine("8g", (_gpu(8),), 0), Machine("24g", (_gpu(24),), 0)
    assert launch(m, q, small, _req(8192, fa=False), 0)[1] == 256
    assert launch(m, q, small, _req(4096, fa=False), 0)[1] == 512
    assert launch(m, q, big, _req(8192, fa=False), 0)[1] == 512
    assert launch(m, q, big, _req(8192, fa=True), 0)[1] == 1024


def test_embedding_models_take_the_embedding_batch():
    # routes.go DefaultEmbeddingNumBatchForContext: min(2048, num_ctx), one slot (the 0.33.2 log: -c 4096 -ub 2048)
    m = get("mxbai-embed-large:335m")
    assert "embedding" in m.use_cases
    assert launch(m, get_quant("F16"), CPU, _req(512), 0)[1] == 512
    assert auto_batch(m, _req(4096), 0, 0, ()) == 2048


def test_a_model_that_fits_one_gpu_runs_on_it_alone_from_0_30():
    # selectLlamaServerPlacement: prediction <= 80% of the freest GPU -> that GPU alone (--split-mode none --main-gpu)
    r = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama", context=8192)
    pl = r.options[0].placement
    assert pl.per_device_layers == (32, 0) and pl.per_device_bytes[1] == 0
    assert "GPU 0 alone" in pl.note and "-b/-ub 1024" in pl.note
    # 0.29 (Ollama's own runner) split it over both and used num_batch 512
    old = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama", context=8192, engine_version="0.29.0")
    assert all(old.options[0].placement.per_device_layers) and "-b/-ub" not in old.options[0].placement.note
    # at the 48 GiB tier's default (the trained 131072 tokens) the prediction outgrows one card: both are used
    both = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama").options[0].placement
    assert all(both.per_device_layers) and "-b/-ub 2048" in both.note


def test_the_default_batch_moves_the_compute_buffer():
    # on a 24 GB card the 32k default context makes Ollama pass -ub 1024, so llama.cpp's compute buffer is that of
    # a 1024-token micro-batch, not 512
    m = get("llama3.1:8b")
    r = fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine="ollama")
    assert r.request.context == 32768
    expect = compute_buffer_bytes(m, FitRequest(context=32768, engine="ollama", n_ubatch=1024,
                                                engine_version=r.assumptions["engine_version"]))
    assert r.options[0].memory.compute_buffer_bytes == expect
    assert expect > compute_buffer_bytes(m, FitRequest(context=32768, engine="ollama", n_ubatch=512))


def test_vram_tier_on_apple_uses_the_metal_working_set():
    # Ollama sums the GPU totals the backend reports; Metal reports recommendedMaxWorkingSetSize (an Ollama 0.17.0 log
    # on an M4: "library=Metal total=25.0 GiB"). A 48 GB Mac's working set (36 GiB here) is in the 32k tier, not 256k
    assert fit("llama3.1:8b", "m4-pro-48gb", quant="Q4_K_M", engine="ollama").request.context == 32768


def test_explicit_slots_get_one_kv_stream_each():
    # llama-server with -np N (our commands, Ollama's) keeps kv_unified false: n_ctx_seq = PAD(PAD(c, 256) / N, 256)
    # per slot; a sliding-window layer holds PAD(min(n_ctx_seq, n_swa + n_ubatch), 256) per slot
    g = get("gemma3:12b")  # 1024-token window on 5 of every 6 layers
    swa = next(i for i in range(g.n_layers) if kv_cells(g, i, 8192, 1, 512, 256) < 8192)
    assert kv_cells(g, swa, 4 * 8192, 4, 512, 256, unified=False) == 4 * 1536
    assert kv_cells(g, swa, 4 * 8192, 4, 512, 256, unified=True) == 4608  # 4 x 1024 + 512, one stream
    full = next(i for i in range(g.n_layers) if kv_cells(g, i, 8192, 1, 512, 256) == 8192)
    assert kv_cells(g, full, 10000, 3, 512, 256, unified=False) == 3 * 3584  # PAD(10240 / 3) = 3584 per slot
    # Ollama from 0.30 (llama-server, -np explicit) vs 0.29 (its own runner, one shared cache)
    new = kv_cache_bytes(g, FitRequest(context=8192, engine="ollama", n_parallel=4, engine_version="0.30.0"))[0]
    old = kv_cache_bytes(g, FitRequest(context=8192, engine="ollama", n_parallel=4, engine_version="0.29.0"))[0]
    assert new > old


def test_sliding_window_cache_is_quantized_like_the_rest():
    # llama.cpp PR #21277 kept the SWA cache in f16 under -ctk q8_0, and was reverted a day later by PR #21332 ("in
    # some cases the SWA cache actually takes significant portion of memory"); llama-kv-cache-iswa.cpp passes the
    # same type_k/type_v to both caches, so every layer, sliding or not, stores q8_0 (34 bytes per 32 values)
    g = get("gemma3:12b")
    f16 = kv_cache_bytes(g, FitRequest(context=32768))[1]
    q8 = kv_cache_bytes(g, FitRequest(context=32768, kv_cache_type="q8_0"))[1]
    assert all(b8 * 64 == b16 * 34 for b8, b16 in zip(q8, f16) if b16)


def test_single_slot_architectures_are_flagged():
    # server/sched.go load(): qwen35, qwen3next, lfm2, nemotron_h ... get num_parallel 1 ("model architecture does not
    # currently support parallel requests"); a fit that sizes more slots says they will not be there
    note = fit("qwen3.5:9b", "rtx4090", quant="Q4_K_M", engine="ollama", parallel=2).options[0].placement.note
    assert "one slot whatever OLLAMA_NUM_PARALLEL says" in note
    assert "one slot" not in fit("llama3.1:8b", "rtx4090", quant="Q4_K_M", engine="ollama", parallel=2).options[0].placement.note


def test_prompt_cache_is_capped_where_its_8_gib_default_would_not_fit_in_ram():
    # llama-server keeps idle prompts' state in host RAM up to --cache-ram (common.h cache_ram_mib = 8192) and lets the
    # token limit grow to that size (server_prompt_cache::update); a CPU fit on 16 GB leaves less than 8 GiB beside it
    import shlex

    r = fit("llama3.1:8b", None, ram="16GB", quant="Q4_K_M")
    o = r.options[0]
    assert o.placement.fit == "cpu"
    args = shlex.split(o.command)
    room = 16 * 10**9 - 2 * GIB - o.placement.cpu_bytes
    assert args[args.index("--cache-ram") + 1] == str(room // MIB) and "--cache-ram" in o.placement.note
    assert "--cache-ram" not in fit("llama3.1:8b", None, ram="64GB", quant="Q4_K_M").options[0].command
    # Ollama 0.30+ runs llama-server with its own environment: LLAMA_ARG_CACHE_RAM; its own runners had no such cache
    assert "LLAMA_ARG_CACHE_RAM=" in fit("llama3.1:8b", None, ram="16GB", quant="Q4_K_M", engine="ollama").options[0].command
    old = fit("llama3.1:8b", None, ram="16GB", quant="Q4_K_M", engine="ollama", engine_version="0.29.0")
    assert "LLAMA_ARG_CACHE_RAM" not in old.options[0].command


def test_serve_gives_one_slot_to_ollamas_single_slot_architectures():
    # server/sched.go forces num_parallel 1 for qwen35 (and the other listed families): serve cannot promise more
    from selfhost_advisor.api import serve

    one = serve("qwen3.5:9b", "rtx4090", engine="ollama")
    assert one.max_concurrency == 1 and "max_num_seqs" in one.limits
    assert serve("llama3.1:8b", "rtx4090", engine="ollama").max_concurrency > 1
    assert serve("qwen3.5:9b", "rtx4090", engine="llamacpp").max_concurrency > 1  # llama-server itself has no such cap


def test_ollama_embeddings_batch_caps_the_input_length():
    # routes.go DefaultEmbeddingNumBatchForContext: -b/-ub min(2048, num_ctx) for embedding models (the 0.33.2 log:
    # bge-m3 at num_ctx 4096 ran "-b 2048 -ub 2048"); llama-server embeds an input in one physical batch
    r = fit("bge-m3:567m", "rtx4090", engine="ollama", context=8192)
    assert "-b/-ub 2048" in r.options[0].placement.note
    assert any("inputs longer than 2048 tokens are refused" in w for w in r.warnings)
    assert not fit("bge-m3:567m", "rtx4090", engine="ollama", context=2048).warnings


def test_the_batch_surcharge_does_not_move_the_one_gpu_choice():
    # server/sched.go load() (v0.30.0 .. v0.33.0-rc2): selectLlamaServerPlacement / bestSingleGPUFit compare the bare
    # prediction P with 80% of a GPU's free memory; the batch surcharge (2 GiB at 2048, 768 MiB at 1024) is added only
    # afterwards, to `predictedForLoad`, which feeds the eviction pre-flight when other models are loaded. Here P is
    # within 80% of one card but P + 768 MiB is not: one GPU still, whatever num_batch says.
    m, q, ctx = get("llama3.1:8b"), get_quant("Q4_K_M"), 115200
    two = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama", context=ctx).machine
    free = two.devices[0].memory_bytes - 384 * MIB  # no probed free memory: the card less the CUDA context
    p = predicted_vram(m, q, ctx)
    assert p <= 0.8 * free < p + 768 * MIB
    assert launch(m, q, two, _req(ctx), 384 * MIB) == (0, 512)  # automatic: 2048 -> 1024 -> 512, surcharge 0
    for ub in (1024, 2048):  # num_batch set by the user: the automatic batch is off, the placement is the same
        pl = fit("llama3.1:8b", "2x rtx4090", quant="Q4_K_M", engine="ollama", context=ctx, ubatch=ub).options[0].placement
        assert pl.per_device_layers == (32, 0), ub
        assert f"-b/-ub {ub} from num_batch; GPU 0 alone" in pl.note


def test_the_batch_surcharge_does_not_cost_layers_on_a_fresh_load():
    # the pre-flight that adds the surcharge runs only when models are already loaded (len(s.loaded) > 0); on a fresh
    # load llama-server's --fit places the layers from its own allocations with -ub 2048. On this 8.6 GiB card P fits
    # 80% but P + 2 GiB does not, and every layer still goes on the GPU: the room left is below the surcharge.
    m, q, ctx, card = get("llama3.1:8b"), get_quant("Q4_K_M"), 16384, int(8.6 * GIB)
    p = predicted_vram(m, q, ctx)
    assert p <= 0.8 * (card - 384 * MIB) < p + 2 * GIB
    for version in (None, "0.30.0"):
        o = fit("llama3.1:8b", vram=card, quant="Q4_K_M", engine="ollama", context=ctx, ubatch=2048,
                engine_version=version).options[0]
        assert (o.placement.fit, o.placement.gpu_layers) == ("gpu", 33), version
        assert card - o.memory.total_bytes < 2 * GIB
