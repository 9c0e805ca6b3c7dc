"""llama.cpp, Ollama and MLX rows of data/engine_logs.yaml: what benchmarks/engine_accuracy.py asks them to report.

Each evaluator turns one logged measurement into `<quantity>_est`, `<quantity>_logged` (in `<quantity>_unit`) and
`<quantity>_err` = (estimate - logged) / logged:
- compute: llama.cpp's "compute buffer size" of one GPU (estimate/memory.py compute_buffer_bytes; the row's
  `n_outputs` replays builds that reserved a micro-batch of logits, before llama-server's n_outputs_max cap);
- decode / prefill: tokens/s of a published run (MoE expert offload rows go through the fit's own option);
- peak: mlx-lm's "Peak memory" (weights + KV cache + one prompt chunk of activations);
- batch / kvbuf: the -ub an Ollama 0.30+ release passed to llama-server and llama.cpp's "KV buffer size" under it.
"""
from __future__ import annotations

from selfhost_advisor.catalog.hardware import machine_from_profile, parse_spec
from selfhost_advisor.catalog.models import get as get_model
from selfhost_advisor.domain import FitRequest
from selfhost_advisor.engines import get_engine

MIB = 2**20
GIB = 2**30


def _base(row: dict) -> dict:
    f = row.get("flags", {})
    return {"source": row["source"], "model": row["model"], "quant": row["quant"], "gpu": row.get("gpu"),
            "tp": 1, "version": str(row.get("version", "")), "holdout": bool(row.get("holdout")),
            "context": f.get("context")}


def _put(out: dict, q: str, est: float | None, logged: float, unit: str) -> None:
    if est is None:
        return
    out.update({f"{q}_est": round(est, 2), f"{q}_logged": logged, f"{q}_unit": unit, f"{q}_err": (est - logged) / logged})


def _machine(row: dict):
    p, c, link = parse_spec(row["gpu"])
    return machine_from_profile(p, c, int(row.get("ram_gb", 0) * 10**9) or None, link)


def gguf_row(row: dict) -> dict:
    from selfhost_advisor.estimate.memory import compute_buffer_bytes

    m = _row_model(row)
    f = row["flags"]
    req = FitRequest(context=int(f["context"]), engine=row["engine"], n_parallel=int(f.get("n_parallel", 1)),
                     flash_attention=bool(f.get("flash_attention", True)), n_ubatch=int(f.get("n_ubatch", 512)),
                     n_cpu_moe=f.get("n_cpu_moe"), kv_unified=f.get("kv_unified"))
    out = _base(row)
    lg = row["logged"]
    if "compute_buffer_mib" in lg:
        est = compute_buffer_bytes(m, req, n_outputs=f.get("n_outputs")) / MIB
        _put(out, "compute", est, lg["compute_buffer_mib"], "MiB")
    if "kv_mib" in lg:
        from selfhost_advisor.estimate.memory import kv_cache_bytes

        _put(out, "kvbuf", kv_cache_bytes(m, req)[0] / MIB, lg["kv_mib"], "MiB")
    out["known_miss"] = bool(row.get("known_miss"))
    if "decode_tokens_per_s" in lg:
        eng = get_engine(row["engine"])
        opt = eng.option(m, eng.quant(row["quant"]), _machine(row), req)
        _put(out, "decode", opt.speed.decode_tokens_per_s if opt.speed else None, lg["decode_tokens_per_s"], "tok/s")
    return out


def mlx_row(row: dict) -> dict:
    from selfhost_advisor.estimate import mlx as X

    m, q = get_model(row["model"]), X.get_mlx_quant(row["quant"])
    machine = _machine(row)
    f, lg = row["flags"], row["logged"]
    out = _base(row)
    if "decode_tokens_per_s" in lg:
        _put(out, "decode", X.decode_tokens_per_s(m, q, machine, int(f["decode_depth"])), lg["decode_tokens_per_s"], "tok/s")
    if "prefill_tokens_per_s" in lg:
        # a prompt of P tokens attends on average to P/2 earlier tokens
        _put(out, "prefill", X.prefill_tokens_per_s(m, q, machine, int(f["prompt_tokens"]) // 2),
             lg["prefill_tokens_per_s"], "tok/s")
    if "peak_memory_gb" in lg:
        opt = X.option(m, q, machine, FitRequest(context=int(f["context"]), engine="mlx",
                                                 kv_cache_type=f.get("kv_cache", "f16")))
        _put(out, "peak", opt.memory.total_bytes / 1e9, lg["peak_memory_gb"], "GB")
    return out


def ollama_row(row: dict) -> dict:
    """An Ollama `msg=offload` line: memory.required.full (`full`), KV, weights and the layers it offloaded, from
    llm/memory.go's estimate (engines/ollama_estimate.py) on the run's logged free memory and settings."""
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.engines import get_engine
    from selfhost_advisor.engines.ollama_estimate import estimate

    m, q = get_model(row["model"]), get_quant(row["quant"])
    f, lg = row["flags"], row["logged"]
    eng = get_engine("ollama")
    req = FitRequest(context=int(f["num_ctx"]), engine="ollama", images=bool(f.get("images")),
                     engine_version=str(row["version"]))
    proj = eng._projector(m, req, mmproj_file=False)
    e = estimate(m, q, [(int(gib * GIB), lib) for gib, lib in row["devices"]], num_ctx=int(f["num_ctx"]),
                 n_parallel=int(f.get("n_parallel", 1)), kv_type=f.get("kv_cache", "f16"),
                 flash_attention=bool(f.get("flash_attention")), num_gpu=int(f.get("num_gpu", -1)),
                 projector=(proj.weights_bytes, proj.graph_bytes, False) if proj else (0, 0, False),
                 version=str(row["version"]))
    out = _base(row)
    out["context"] = int(f["num_ctx"])
    _put(out, "full", e.full_bytes / GIB, lg["full_gib"], "GiB")
    # KV and weights in the vLLM rows' keys (<q>_est_gib / <q>_logged_gib / <q>_err), as engine_accuracy.py prints them
    for q, est in (("kv", e.kv_bytes), ("weights", e.weights_logged_bytes)):
        if f"{q}_gib" in lg:
            logged = lg[f"{q}_gib"]
            out.update({f"{q}_est_gib": round(est / GIB, 3), f"{q}_logged_gib": logged, f"{q}_err": (est / GIB - logged) / logged})
    if lg.get("partial_gib"):
        _put(out, "partial", e.partial_bytes / GIB, lg["partial_gib"], "GiB")
    out.update({"layers_est": e.layers, "layers_logged": lg["layers"], "model_layers": e.total_layers})
    return out


def _row_model(row: dict):
    """The catalog model, or the row's own `architecture` (the llm_load_print_meta facts of a model outside it)."""
    from selfhost_advisor.domain import Model

    arch = row.get("architecture")
    return Model(**arch) if arch else get_model(row["model"])


def ollama_server_row(row: dict) -> dict:
    """An Ollama 0.30+ start (llama-server): the -ub Ollama chose (engines/ollama_launch.py), and llama.cpp's KV and
    compute buffers under that batch and the release's stream-per-slot KV (estimate/memory.py)."""
    from selfhost_advisor.catalog.quants import get_quant
    from selfhost_advisor.domain import Machine
    from selfhost_advisor.engines.ollama_launch import launch
    from selfhost_advisor.estimate.memory import compute_buffer_bytes, kv_cache_bytes
    from selfhost_advisor.record import replace

    m, q = _row_model(row), get_quant(row["quant"])
    f, lg = row["flags"], row["logged"]
    req = FitRequest(context=int(f["num_ctx"]), engine="ollama", n_parallel=int(f.get("n_parallel", 1)),
                     flash_attention=bool(f.get("flash_attention", True)), engine_version=str(row["version"]))
    machine = _machine(row) if row.get("gpu") else Machine("cpu", (), int(row.get("ram_gb", 0) * 10**9))
    _, batch = launch(m, q, machine, req, 0)
    req = replace(req, n_ubatch=batch)
    out = _base(row)
    out["context"] = req.context
    _put(out, "batch", batch, lg["n_ubatch"], "tok")
    if "kv_mib" in lg:
        _put(out, "kvbuf", kv_cache_bytes(m, req)[0] / MIB, lg["kv_mib"], "MiB")
    if "compute_buffer_mib" in lg:
        _put(out, "compute", compute_buffer_bytes(m, req) / MIB, lg["compute_buffer_mib"], "MiB")
    return out


def ollama_layout_row(row: dict) -> dict:
    """An Ollama 0.11-0.29 start-up's per-device lines (ml/backend/ggml via device.go / backend.go): "model weights",
    "kv cache", "compute graph" per device and "total memory", and "offloaded N/M layers to GPU", against what
    `fit --engine ollama --engine-version V` sizes for the run's model, quant, num_ctx, parallel, KV type and flash
    attention (engines/ollama.py option()). Weights and KV are compared summed over the devices (they do not depend on
    the split); the compute graph on the GPU (on the CPU for a CPU-only run), and layers only where the row names the
    GPU (`gpu`). A row without a named GPU but with every layer on one (`stand_in_gpu`) is sized on that stand-in."""
    from selfhost_advisor.domain import Machine

    m = _row_model(row)
    f, lg = row["flags"], row["logged"]
    eng = get_engine("ollama")
    req = FitRequest(context=int(f["num_ctx"]), engine="ollama", n_parallel=int(f.get("n_parallel", 1)),
                     flash_attention=bool(f.get("flash_attention", True)), kv_cache_type=f.get("kv_cache", "f16"),
                     n_ubatch=int(f.get("n_batch", 512)), engine_version=str(row["version"]))
    spec = row.get("gpu") or row.get("stand_in_gpu")
    if spec:
        p, c, link = parse_spec(spec)
        machine = machine_from_profile(p, c, int(row.get("ram_gb", 256) * 10**9), link)
        if row.get("gpu_memory_gib"):  # the log's own "total" / "available" of the GPU (--gpu-memory / a probe)
            from selfhost_advisor.record import replace

            total, avail = (int(g * GIB) for g in row["gpu_memory_gib"])
            machine = replace(machine, devices=tuple(replace(d, usable_memory_bytes=total, free_memory_bytes=avail)
                                                     for d in machine.devices))
    else:
        machine = Machine("cpu", (), int(row.get("ram_gb", 256) * 10**9))
    quant = eng.quant(row["quant"])
    opt = eng.option(m, quant, machine, req)
    mem = opt.memory
    out = _base(row)
    out["context"] = req.context
    weights_logged = mem.weights_bytes
    if eng.llama_runner_layout(m, req):
        # the llama.cpp runner logs Ollama's own layout (llm/server.go llamaServer.Load): blk.* + output_norm + output
        # (token_embd when the output head is tied): "We historically haven't included InputWeights in the model size"
        from selfhost_advisor.estimate.memory import weights

        w = weights(m, quant)
        weights_logged = w.total_bytes - w.input_embedding_bytes - w.per_layer_embedding_bytes \
            + (w.input_embedding_bytes if m.tied_embeddings else 0)
    for q, est in (("weights", weights_logged), ("kv", mem.kv_cache_bytes)):
        if f"{q}_gib" in lg:
            logged = lg[f"{q}_gib"]
            out.update({f"{q}_est_gib": round(est / GIB, 3), f"{q}_logged_gib": logged,
                        f"{q}_err": (est / GIB - logged) / logged})
    if "graph_mib" in lg:
        _put(out, "graph", mem.compute_buffer_bytes / MIB, lg["graph_mib"], "MiB")
    if "total_gib" in lg:
        # the llama.cpp runner's layout gives the CPU no graph (llm/server.go assigns Graph to GPUs only)
        graph = 0 if eng.llama_runner_layout(m, req) and not opt.placement.gpu_layers else mem.compute_buffer_bytes
        _put(out, "total", (weights_logged + mem.kv_cache_bytes + graph) / GIB, lg["total_gib"], "GiB")
    if "layers" in lg and row.get("gpu"):
        out.update({"layers_est": opt.placement.gpu_layers, "layers_logged": lg["layers"],
                    "model_layers": opt.placement.total_layers})
    return out


def _ollama(row: dict) -> dict:
    rule = row.get("rule")
    return (ollama_server_row(row) if rule == "llama_server" else ollama_layout_row(row) if rule == "layout_log"
            else ollama_row(row))


EVALUATORS = {"llamacpp": gguf_row, "ollama": _ollama, "mlx": mlx_row}
