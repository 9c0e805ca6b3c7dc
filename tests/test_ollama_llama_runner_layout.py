"""Session 34 (englog34): the layout releases' llama.cpp runner (Ollama 0.11.11-0.29, llm/server.go llamaServer.Load)
places layers with Ollama's own estimate: fs/ggml GraphSize's graph and per-layer KV, each GPU's free memory less one
layer as a buffer, max(partial, full) graph while placing, the full-offload graph when every layer is on the GPUs."""
from __future__ import annotations

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines import get_engine

MIB, GIB = 2**20, 2**30


def _fit(model: str, version: str, hardware: str = "rtx-3060-12gb", context: int = 32768, engine: str = "ollama"):
    eng = get_engine(engine)
    p, c, link = parse_spec(hardware)
    machine = machine_from_profile(p, c, 64 * 10**9, link)
    req = FitRequest(context=context, engine=engine, engine_version=version)
    m = get(model)
    return eng, m, req, eng.option(m, eng.quant("Q4_K_M"), machine, req)


def test_llama_runner_reports_graphsize_not_llama_cpp_buffer():
    # qwen2 GraphSize full offload (fs/ggml/ggml.go): max(4 b (emb + vocab), 4 b (1 + 2 emb + ctx + ctx heads)) at
    # b 512, emb 3584, vocab 152064, ctx 32768, 28 heads; the Ollama 0.20.2 log (data/engine_logs.yaml, ollama33)
    # printed 'compute graph device=CUDA0 size="1.8 GiB"' where llama.cpp then reserved ~0.3 GiB
    eng, m, req, opt = _fit("qwen2.5-coder:7b", "0.20.2")
    assert eng.llama_runner_layout(m, req)
    graph = max(4 * 512 * (3584 + 152064), 4 * 512 * (1 + 2 * 3584 + 32768 + 32768 * 28))
    assert opt.placement.gpu_layers == opt.placement.total_layers
    assert opt.memory.compute_buffer_bytes == graph
    assert round(graph / GIB, 1) == 1.8


def test_engine_models_and_llama_server_releases_keep_llama_cpp_buffers():
    # gemma3 runs on the Ollama engine in 0.20.2 (OllamaEngineRequired), which measures real allocations; from 0.30.0
    # Ollama runs llama-server, which places with llama.cpp's own buffers; plain llama.cpp never plans with GraphSize
    for model, version, engine in (("gemma3:12b", "0.20.2", "ollama"), ("qwen2.5-coder:7b", "0.30.0", "ollama"),
                                   ("qwen2.5-coder:7b", "", "llamacpp")):
        eng, m, req, opt = _fit(model, version, engine=engine)
        assert eng.planned_graph(m, eng.quant("Q4_K_M"), req) is None
        assert opt.memory.compute_buffer_bytes < GIB


def test_llama_runner_plans_fewer_layers_than_llama_cpp_buffers_would_allow():
    # the 2.3 GiB partial-offload graph plus a one-layer buffer leaves less room than llama.cpp's own buffer: at the
    # model's 32768 tokens on an 8 GB card the runner's layout offloads fewer layers than llama-server (0.30+) does
    _, _, _, layout = _fit("qwen2.5-coder:7b", "0.20.2", hardware="rtx-4060")
    _, _, _, server = _fit("qwen2.5-coder:7b", "0.30.0", hardware="rtx-4060")
    assert layout.placement.gpu_layers < server.placement.gpu_layers == server.placement.total_layers
    assert layout.memory.compute_buffer_bytes > 2 * GIB > 10 * server.memory.compute_buffer_bytes
