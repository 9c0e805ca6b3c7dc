"""Ollama: its memory rule and defaults by release (data/engines.yaml `ollama.versions`).

- llama_server (0.30.0+): Ollama runs llama.cpp's llama-server, -c num_ctx x parallel, layers chosen by llama-server's
  --fit; with a projector (always loaded, images or not) the fit target is its weights + 1 GiB (llm/llama_server.go
  mmprojFitTargetMiB).
- layout (0.11.11-0.29): Ollama's engine allocates and measures llama.cpp-style buffers, keeping 457 MiB free per GPU;
  its llama.cpp runner (architectures not on the engine) lays layers out with fs/ggml GraphSize (planned_graph).
- estimate (up to 0.11.10): llm/memory.go's own estimate picks the layers (engines/ollama_estimate.py); `fit` reports
  what Ollama logged as memory.required.full and the layers it offloaded.
"""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from ..catalog.data import load
from ..errors import BadOptionError
from ..estimate.memory_engine import parse_version  # the Ollama release numbers (kept beside the engine records)
from ..estimate.projector import has_vision, vision_config
from ..estimate.projector import projector as vision_projector
from ..record import replace
from .interface import context_name
from .llamacpp import LlamaCpp
from .ollama_blob import blob_model, blob_note, library_file
from .ollama_launch import available_bytes, launch

if TYPE_CHECKING:
    from ..catalog.resolve import Resolved
    from ..domain import FitOption, FitRequest, Machine, Model, Quant

GIB, MIB = 2**30, 2**20
_FA_ARCHS = ("gptoss", "gpt-oss")  # fs/ggml FlashAttention() in v0.11.8-v0.12.3


class Ollama(LlamaCpp):
    loads_tower_with_model = True  # server/sched.go passes the projectors to every runner (engines/ollama.py _projector)
    host_sampling = False  # its runner's sampler time per token is not measured (engines/llamacpp.py host_sampling)

    @staticmethod
    def automatic_batch_floor() -> int:
        """The smallest -b/-ub Ollama picks by itself (engines/ollama_launch.smallest_batch); engines that keep one
        batch whatever the slot count have no such method (estimate/serving/slots._max_slots asks for it)."""
        from .ollama_launch import smallest_batch

        return smallest_batch()

    def model_ref(self, resolved: Resolved) -> str:
        if resolved.files:
            return resolved.files[0]
        return resolved.query if resolved.kind in ("ollama", "catalog") else resolved.model.id

    # --- releases -------------------------------------------------------------------------------------------
    def version(self, request_version: str = "") -> str:
        return request_version or str(self.params["default_version"])

    def version_tuple(self, request_version: str = "") -> tuple[int, int, int]:
        """The release in use as (major, minor, patch), for comparing with the `since` / `before` of data/engines.yaml."""
        return parse_version(self.version(request_version))

    def release(self, request_version: str = "") -> dict:
        """The versions entry that applies to `request_version` (the newest whose `since` is not later)."""
        v = self.version_tuple(request_version)
        for rec in self.params["versions"]:
            if parse_version(rec["since"]) <= v:
                return rec
        raise BadOptionError(f"Ollama {self.version(request_version)} predates the releases we have rules for",
                             f"use {self.params['versions'][-1]['since']} or later")

    def version_note(self, request_version: str = "") -> str:
        """A --engine-version newer than the newest release read (data/engines.yaml default_version): sized with that
        release's rules, said (audit34b: '99.0' was sized as the newest release, unsaid)."""
        newest = str(self.params["default_version"])
        if request_version and self.version_tuple(request_version) > parse_version(newest):
            return (f"Ollama {request_version} is newer than the newest release read ({newest}): sized with that "
                    "release's rules")
        return ""

    def runs_release(self, span: dict | None, request_version: str = "") -> bool:
        if span is None:
            return False
        v = self.version_tuple(request_version)
        # no `before`: every release from `since` on (an architecture Ollama added and still runs)
        return parse_version(span["since"]) <= v and ("before" not in span or v < parse_version(span["before"]))

    def check_machine(self, machine: Machine) -> None:
        """Ollama has no SYCL build (data/engines.yaml refused_backend_words): an Intel GPU named with llama.cpp's
        'sycl' word is bad input for --engine ollama, not a GPU sized as if ggml-sycl ran it."""
        if self.refused_device(machine) is not None:
            raise BadOptionError(f"Ollama has no SYCL backend ({machine.name} was named with 'sycl'); it runs Intel GPUs "
                                 "on Vulkan", "drop 'sycl' to size Ollama's Vulkan backend, or use --engine llamacpp")

    def engine_machine(self, machine: Machine, request_version: str = "") -> tuple[Machine, str]:
        """An Intel GPU (table backend SYCL) as Ollama runs it: on its Vulkan backend from 0.12.11 (opt-in with
        OLLAMA_VULKAN=1 before 0.30.0, on by default since), not at all before (CPU). data/engines.yaml intel_gpu."""
        intel = [d for d in machine.devices if d.vendor == "intel" and d.backend == "sycl"]
        if not intel:
            return machine, ""
        rule, version = self.params["intel_gpu"], self.version(request_version)
        v, label = parse_version(version), f"Ollama {version}"
        if v < parse_version(rule["vulkan_since"]):
            rest = tuple(d for d in machine.devices if d not in intel)
            return replace(machine, devices=rest), (
                f"{label} has no SYCL or Vulkan backend: it leaves the Intel GPU unused and runs on the CPU "
                f"(Vulkan from {rule['vulkan_since']}, with OLLAMA_VULKAN=1)")
        devices = tuple(replace(d, backend="vulkan") if d in intel else d for d in machine.devices)
        if v < parse_version(rule["vulkan_default_since"]):
            note = (f"{label} runs the Intel GPU on its Vulkan backend only with OLLAMA_VULKAN=1 (experimental, off by "
                    "default: without it, the CPU); sized on Vulkan")
        elif any(d.unified for d in intel) and v >= parse_version(rule["igpu_opt_in_since"]):
            note = ("Ollama runs the Intel integrated GPU on its Vulkan backend only with OLLAMA_IGPU_ENABLE=1 (it has no "
                    "SYCL build; without it, the CPU); sized on Vulkan")
        else:
            note = ("Ollama runs the Intel GPU on its Vulkan backend (it has no SYCL build; on by default, "
                    "OLLAMA_VULKAN=0 turns it off)")
        return replace(machine, devices=devices), note

    def startup_log_format(self, request: FitRequest) -> str:
        """From 0.30.0 Ollama starts llama-server, whose buffer lines these are; the earlier rules log their own
        estimate (the placement note quotes memory.required.full) or the Ollama engine's layout (not listed)."""
        return "llamacpp" if self.release(request.engine_version)["memory_rule"] == "llama_server" else ""

    def release_label(self, request_version: str = "") -> str:
        return f" (Ollama {self.version(request_version)})"

    def default_context(self, model: Model, machine: Machine, request_version: str = "") -> int:
        """num_ctx when none is asked: the release's default (api/types.go, envconfig OLLAMA_CONTEXT_LENGTH), the
        VRAM tiers of server/routes.go from 0.15.5, capped at the model's trained context (llm/server.go). The tiers
        sum the GPUs' total memory as the backend reports it: on Apple Silicon Metal's recommendedMaxWorkingSetSize
        (an Ollama 0.17.0 log on a 32 GB M4: "library=Metal total=25.0 GiB"), so the working-set limit, not the RAM."""
        rule = self.release(request_version)["num_ctx"]
        if rule == "vram_tiered":
            total = sum(d.usable_memory_bytes if d.backend == "metal" and d.usable_memory_bytes else d.memory_bytes
                        for d in machine.devices)
            rule = 262144 if total >= 47 * GIB else 32768 if total >= 23 * GIB else 4096
        return min(int(rule), model.max_context)

    def embedding_note(self, model: Model, request: FitRequest) -> str:
        """0.30.0+: Ollama passes -b/-ub min(2048, num_ctx) for embedding models (server/routes.go
        DefaultEmbeddingNumBatchForContext, engines/ollama_launch.py), and llama-server embeds an input in one
        physical batch, so a longer input is refused. Releases before ran Ollama's own runners (not read)."""
        from ..estimate.encoder import ENCODER_ARCHS

        if self.release(request.engine_version).get("num_batch") != "auto" or model.arch not in ENCODER_ARCHS:
            return ""

        batch = min(int(load("engines")["engines"]["ollama"]["launch"]["embedding_batch"]), request.context)
        if batch >= request.context:
            return ""
        return (f"Ollama passes -b/-ub {batch} for embedding models (server/routes.go): llama-server embeds each input "
                f"in one physical batch, so inputs longer than {batch} tokens are refused although num_ctx is "
                f"{request.context:,}")

    def context_floor(self, model: Model, context: int, request_version: str = "") -> tuple[int, str]:
        """From 0.11.5 the scheduler raises num_ctx to 2048 for a model with the vision capability (server/sched.go
        getRunner: "multimodal models require at least 2048 context"; before, llm/memory.go raised it in its estimate
        only), and the runner's context is then capped at the trained one."""
        if context >= 2048 or not has_vision(model) or self.version_tuple(request_version) < (0, 11, 5):
            return context, ""
        runs = min(2048, model.max_context)
        return runs, (f"context {context:,} is below Ollama's floor for vision models: it runs {model.id} with num_ctx "
                      f"{runs:,} (server/sched.go: \"multimodal models require at least 2048 context\"), so it is sized at that")

    def context_over_max(self, model: Model, context: int, asked: tuple[str, str] | None = None) -> tuple[int, str]:
        """Ollama lowers num_ctx to the GGUF's context_length before it starts the runner (llm/server.go:
        `if opts.NumCtx > int(trainCtx) && trainCtx > 0 { slog.Warn("requested context size too large for model" ..);
        opts.NumCtx = int(trainCtx) }`), so the memory is the maximum's."""
        return model.max_context, (f"{context_name(asked)} {context:,} exceeds {model.id}'s maximum "
                                   f"{model.max_context:,}: Ollama lowers num_ctx to {model.max_context:,} "
                                   "(\"requested context size too large for model\"), so it is sized at that")

    def step_batch(self, request: FitRequest) -> int:
        """num_batch given: Ollama passes -b N -ub N (llm/llama_server.go appendBatchArgs), so a step holds N tokens."""
        return request.n_ubatch if request.n_ubatch_given else super().step_batch(request)

    def slot_limit(self, model: Model, request_version: str = "") -> int | None:
        """server/sched.go load(): one slot for the architectures 'not safe with num_parallel > 1'."""
        return 1 if model.arch in self.release(request_version).get("single_slot_archs", ()) else None

    def default_flash_attention(self, model: Model, request_version: str = "") -> bool:
        rule = self.release(request_version)["flash_attention"]
        return rule == "auto" or (rule == "model" and model.arch in _FA_ARCHS)

    def describe(self, model: Model, request: FitRequest) -> dict:
        rec = self.release(request.engine_version)
        return {"engine_version": self.version(request.engine_version), "memory_rule": rec["memory_rule"],
                "engine_defaults": {"num_ctx": rec["num_ctx"], "num_parallel": rec["num_parallel"],
                                    "flash_attention": rec["flash_attention"], "kv_cache_type": "f16",
                                    "num_batch": rec.get("num_batch", 512),
                                    "gpu_overhead_bytes": 0, "source": rec["source"]}}

    def check_request(self, model: Model, request: FitRequest, machine: Machine | None = None) -> None:
        super().check_request(model, request, machine)
        self.release(request.engine_version)

    # --- memory -------------------------------------------------------------------------------------------
    def gpu_margin_bytes(self, model: Model, request: FitRequest) -> int:
        rule = self.release(request.engine_version)["memory_rule"]
        if rule == "layout":
            return int(self.params["minimum_memory_bytes"])
        margin = super().gpu_margin_bytes(model, request)
        proj = self._projector(model, request, mmproj_file=True)
        if proj is None:
            return margin
        # llama-server fits the text model to leave ceil(mmproj + 1 GiB) MiB free; the projector then uses that room
        target = -(-(proj.weights_bytes + GIB) // MIB) * MIB
        return max(0, target - proj.weights_bytes - proj.graph_bytes)

    def projector_note(self, request: FitRequest, projector_bytes: int) -> str:
        if projector_bytes:
            return super().projector_note(request, projector_bytes)
        return "projector not counted: this Ollama release predates its vision support for this model"

    def llama_runner_layout(self, model: Model, request: FitRequest) -> bool:
        """Whether a layout release (0.11.11-0.29) runs `model` on its llama.cpp runner (llm/server.go llamaServer), not
        on the Ollama engine (data/engines.yaml ollama.engine_archs)."""
        from ..estimate.memory_overhead import ollama_engine_runs

        return (self.release(request.engine_version)["memory_rule"] == "layout"
                and not ollama_engine_runs(model, replace(request, engine="ollama")))

    def planned_graph(self, model: Model, quant: Quant, request: FitRequest) -> tuple[int, int, int] | None:
        """The llama.cpp runner of a layout release lays the layers out with Ollama's own estimate, not llama.cpp's
        buffers (llm/server.go llamaServer.Load at v0.12.x-v0.29, read at v0.20.2): "Synthesize memory allocation
        information based on our estimates" - fs/ggml GraphSize's KV per layer and graph, each GPU's free memory less
        one layer (blk.0 + its KV) as a buffer, every GPU given max(partial, full) graph while createLayout places the
        layers, then the full-offload graph when every layer is on the GPUs, else the partial one; s.mem.Log prints
        those figures as the "compute graph" lines. llama.cpp then allocates its own (smaller) buffers. Engine models
        (the Ollama runner) measure real allocations instead: None."""
        if not self.llama_runner_layout(model, request):
            return None
        from ..estimate.memory import weights
        from .ollama_estimate import _gate_exps_bytes, graph_size

        kv, partial, full = graph_size(model, request.context, min(request.context, request.n_ubatch), request.n_parallel,
                                       request.kv_cache_type, request.flash_attention,
                                       version=self.version(request.engine_version),
                                       gate_exps_bytes=_gate_exps_bytes(model, quant) if model.moe is not None else 0)
        w = weights(model, quant)
        return partial, full, (w.layer_bytes[0] if w.layer_bytes else 0) + (kv[0] if kv else 0)

    def prompt_cache_ram_bytes(self, request: FitRequest) -> int:
        """Only llama-server (0.30.0+) keeps a prompt cache in RAM; Ollama's own runners did not."""
        return int(self.release(request.engine_version).get("prompt_cache_ram_bytes", 0))

    def projector_bytes(self, model: Model, request: FitRequest) -> int:
        rule = self.release(request.engine_version)["memory_rule"]
        p = self._projector(model, request, mmproj_file=rule == "llama_server")
        return p.weights_bytes + p.graph_bytes if p else 0

    def _projector(self, model: Model, request: FitRequest, *, mmproj_file: bool):
        """Ollama loads a vision model's projector whenever it loads the model, images or not: the scheduler passes the
        model's ProjectorPaths to every runner (server/sched.go), its estimate adds them unconditionally (llm/memory.go
        estimateGPULayers at v0.11.10), and from 0.30.0 llama-server gets --mmproj for any projector blob or v.* tensors
        (llm/llama_server.go NewLlamaServerRunner). So `--images` changes nothing here; the release must run the tower."""
        cfg = vision_config(model)
        if cfg is None or self.version_tuple(request.engine_version) < parse_version(cfg.get("ollama_since", "0")):
            return None
        # from 0.30.0 (mmproj_file) llama-server's clip runs it, with flash attention as the release sets it
        return vision_projector(model, mmproj_file=mmproj_file, flash_attention=mmproj_file and request.flash_attention)

    def select_quants(self, resolved: Resolved, names: list[str]) -> tuple[Quant, ...]:
        """A library tag whose blob Ollama converted itself (gpt-oss: engines/ollama_blob.py) is sized as that one file
        when --quant is not given: `ollama run TAG` fetches nothing else."""
        rec = library_file(resolved.model)
        if rec is not None and not names and resolved.quant is None and resolved.kind in ("catalog", "ollama"):
            return (self.quant(rec["sized_as"]),)
        return super().select_quants(resolved, names)

    def model_quants(self, model: Model) -> tuple[Quant, ...]:
        """`models --fits` / `hardware --for`: a model whose library file Ollama converted itself runs as that file."""
        rec = library_file(model)
        return (self.quant(rec["sized_as"]),) if rec is not None else super().model_quants(model)

    def option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest, *,
               host_ram_known: bool = True) -> FitOption:
        rec = self.release(request.engine_version)
        blob = blob_note(model, quant)
        # the estimate releases logged the library's first gpt-oss upload (engines/ollama_blob.py)
        model = blob_model(model, quant, first_upload=rec["memory_rule"] == "estimate")
        launched = ""
        if rec["memory_rule"] == "estimate":
            opt = self._estimate_option(model, quant, machine, request, host_ram_known)
        elif rec.get("num_batch") == "auto":
            opt, launched = self._llama_server_option(model, quant, machine, request, host_ram_known)
        else:
            opt = super().option(model, quant, machine, request, host_ram_known=host_ram_known)
        pl = opt.placement
        said = (f"Ollama {self.version(request.engine_version)} ({rec['memory_rule']} rule) puts {pl.gpu_layers} of "
                f"{pl.total_layers} layers on the GPU" if machine.devices else
                f"Ollama {self.version(request.engine_version)} ({rec['memory_rule']} rule) on the CPU" if launched else "")
        single = ""
        if request.n_parallel > 1 and self.slot_limit(model, request.engine_version) == 1:
            single = (f"Ollama loads {model.arch} models with one slot whatever OLLAMA_NUM_PARALLEL says (server/sched.go): "
                      f"the {request.n_parallel} slots sized here will not be there")
        planned = ""
        if machine.devices and pl.gpu_layers and self.llama_runner_layout(model, request):
            planned = (f"{model.arch} runs on Ollama's llama.cpp runner, which lays the layers out with Ollama's own graph "
                       f"estimate (fs/ggml GraphSize, {opt.memory.compute_buffer_bytes / GIB:.1f} GiB per GPU), not "
                       "llama.cpp's smaller buffers")
        note = "; ".join(n for n in (said + launched, planned, single, pl.note, blob) if n)
        return replace(opt, placement=replace(pl, note=note))

    def _llama_server_option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest,
                             host_ram_known: bool) -> tuple[FitOption, str]:
        """0.30.0+: llama.cpp's memory with the -ub Ollama picks, on the one GPU it picks when the model fits one
        (engines/ollama_launch.py); the placement lists keep one entry per GPU of the machine."""
        gpu, batch = launch(model, quant, machine, request, int(load("engines")["runtime"]["cuda_context_bytes"]))
        if request.n_ubatch_given:  # num_batch set: routes.go usesAutomaticNumBatch is false, the automatic batch is off
            batch = request.n_ubatch  # llm/llama_server.go appendBatchArgs: -b N -ub N
        used = replace(machine, devices=(machine.devices[gpu],)) if gpu is not None else machine
        opt = super().option(model, quant, used, replace(request, n_ubatch=batch), host_ram_known=host_ram_known)
        said = f" (-b/-ub {batch}" + (" from num_batch" if request.n_ubatch_given else "")
        if gpu is not None:
            pl = opt.placement
            n = len(machine.devices)

            def spread(values: tuple[int, ...]) -> tuple[int, ...]:
                return tuple(values[0] if i == gpu and values else 0 for i in range(n)) if values else ()

            opt = replace(opt, placement=replace(pl, per_device_bytes=spread(pl.per_device_bytes),
                                                 per_device_layers=spread(pl.per_device_layers)))
            said += f"; GPU {gpu} alone, --split-mode none: the model fits in 80% of one GPU"
        return opt, said + ")"

    def _estimate_option(self, model: Model, quant: Quant, machine: Machine, request: FitRequest,
                         host_ram_known: bool) -> FitOption:
        """Releases up to 0.11.10: llm/memory.go's estimate decides the layers; memory is what it logged."""
        from ..domain import FitOption, MemoryBreakdown, Placement
        from ..estimate.memory import weights
        from ..estimate.speed import estimate_speed
        from .ollama_estimate import estimate

        runtime = load("engines")["runtime"]
        os_reserve = int(runtime["os_reserve_bytes"])
        ram = max(0, machine.ram_bytes - os_reserve) if host_ram_known else 0
        devices = [(available_bytes(d, int(runtime["cuda_context_bytes"])), _library(d.backend)) for d in machine.devices]
        proj = self._projector(model, request, mmproj_file=False)
        version = self.version(request.engine_version)
        e = estimate(model, quant, devices or [(ram, "cpu")], num_ctx=request.context, n_parallel=request.n_parallel,
                     batch=request.n_ubatch, kv_type=request.kv_cache_type, flash_attention=request.flash_attention,
                     projector=(proj.weights_bytes, proj.graph_bytes, proj.separate_file) if proj else (0, 0, False),
                     version=version)
        w = weights(model, quant)
        counted = e.weights_repeating_bytes + e.weights_nonrepeating_bytes
        graph = sum((e.graph_full_bytes if e.layers == e.total_layers else e.graph_partial_bytes)
                    for n in e.split if n > 0)
        projector = e.projector_weights_bytes + e.projector_graph_bytes
        uncounted = w.total_bytes - counted  # an untied token_embd: Ollama leaves it out, llama.cpp keeps it in RAM
        runtime_part = max(0, e.full_bytes - counted - e.kv_bytes - graph - projector)
        mem = MemoryBreakdown(weights_bytes=w.total_bytes, kv_cache_bytes=e.kv_bytes, compute_buffer_bytes=graph,
                              runtime_bytes=runtime_part, projector_bytes=projector,
                              input_embedding_bytes=w.input_embedding_bytes, output_bytes=e.weights_nonrepeating_bytes,
                              layer_bytes=tuple(w.layer_bytes),
                              bits_per_weight=8.0 * w.total_bytes / w.params if w.params else 0.0)
        total = mem.total_bytes
        note = f"Ollama's own estimate (llm/memory.go): memory.required.full {e.full_bytes / GIB:.1f} GiB"
        if not machine.devices:
            fit = "cpu" if total <= ram else "no"
            placement = Placement(fit, 0, e.total_layers, 0, total, max(0, total - ram), note=note)
        else:
            cpu = e.full_bytes - e.partial_bytes + max(0, uncounted)
            if e.layers == e.total_layers:
                fit = "gpu"
            elif not host_ram_known:
                fit = "no"
            elif e.layers == 0:
                fit = "cpu" if total <= ram else "no"
            else:
                fit = "partial" if cpu <= ram else "no"
            missing = max(0, cpu - ram) if fit == "no" and host_ram_known else (cpu if fit == "no" else 0)
            blocks = tuple(n - (1 if i == e.output_device else 0) for i, n in enumerate(e.split))  # repeating only
            placement = Placement(fit, e.layers, e.total_layers, e.partial_bytes, cpu, missing,
                                  per_device_bytes=e.allocations, note=note, per_device_layers=blocks)
        depth = request.context // 2
        speed = estimate_speed(model, quant, placement, machine, kv_cache_type=request.kv_cache_type,
                               decode_depth=depth, prefill_depth=min(depth, 256), n_ubatch=request.n_ubatch)
        opt = FitOption(quant=quant, memory=mem, placement=placement, speed=speed)

        return replace(opt, command=self.command(model, opt, request, machine))

    def command(self, model: Model, option: FitOption, request: FitRequest, machine: Machine) -> str:
        """`ollama serve` with the server settings the estimate assumed (docs/faq.md environment variables:
        OLLAMA_CONTEXT_LENGTH, OLLAMA_NUM_PARALLEL, OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE), then the model.
        Ollama chooses the offloaded layers itself; a GGUF file is imported through a Modelfile first."""
        if option.placement.fit == "no":
            return ""
        env = [f"OLLAMA_CONTEXT_LENGTH={request.context}", f"OLLAMA_NUM_PARALLEL={request.n_parallel}",
               f"OLLAMA_FLASH_ATTENTION={1 if request.flash_attention else 0}",
               f"OLLAMA_KV_CACHE_TYPE={request.kv_cache_type}"]
        rule, v = self.params["intel_gpu"], self.version_tuple(request.engine_version)
        if any(d.backend == "vulkan" for d in machine.devices) and v < parse_version(rule["vulkan_default_since"]):
            env.append("OLLAMA_VULKAN=1")  # 0.12.11-0.29: Vulkan is opt-in (envconfig.EnableVulkan, data/engines.yaml)
        if any(d.backend == "vulkan" and d.unified for d in machine.devices) and v >= parse_version(
                rule["igpu_opt_in_since"]):  # 0.30.0+: a Vulkan iGPU is dropped without it (discover/runner.go)
            env.append("OLLAMA_IGPU_ENABLE=1")
        cap = self.prompt_cache_cap(option, machine, request)
        if cap is not None:  # Ollama starts llama-server with its own environment (llm/llama_server.go)
            env.append(f"LLAMA_ARG_CACHE_RAM={cap // 2**20}")
        ref = request.model_ref or model.id
        if request.n_ubatch_given:  # no OLLAMA_* variable sets num_batch: a Modelfile PARAMETER does (routes.go)
            name = "advisor-ub" + str(request.n_ubatch)
            lines = shlex.join(["FROM " + ref, f"PARAMETER num_batch {request.n_ubatch}"])
            run = (f"printf '%s\\n' {lines} > Modelfile && ollama create {name} -f Modelfile"
                   f" && ollama run {name}")
        elif ref.lower().endswith(".gguf"):
            name = "advisor-" + option.quant.name.lower()
            run = (f"echo {shlex.quote('FROM ' + ref)} > Modelfile && ollama create {name} -f Modelfile"
                   f" && ollama run {name}")
        else:
            run = f"ollama run {shlex.quote(ref)}"
        return " ".join(env) + " ollama serve & " + run


def _library(backend: str) -> str:
    return {"metal": "metal", "rocm": "rocm", "hip": "rocm", "cpu": "cpu"}.get(backend, "cuda")


ENGINE_CLASS = Ollama
